"""The report: `OUT/report.md` and a self-contained `OUT/report.html` from findings + store.

Reads `findings.json` (as a dict) and the store's `events` view; never evidence. Every
statement cites its evidence records in an appendix. See `render.write_report`.
"""

from __future__ import annotations

from breachscope.report.render import write_report

__all__ = ["write_report"]
