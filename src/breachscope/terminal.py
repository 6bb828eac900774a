"""Safe terminal output: evidence text never drives the terminal.

Control characters (C0, C1, DEL, and Unicode bidi overrides) are replaced before printing, so
an attacker's log line cannot clear the screen, move the cursor or reverse displayed text.
"""

from __future__ import annotations

import regex

_CONTROL = regex.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> str:
    """Replace control characters with U+FFFD (newline and tab become spaces).

    >>> strip_controls("ok\\x1b[2Jbad\\u202e")
    'ok\\ufffd[2Jbad\\ufffd'
    """
    return _CONTROL.sub("\ufffd", text.replace("\n", " ").replace("\t", " "))
