"""Verdicts on single things: attachments, indicators, vulnerable software, labels."""
