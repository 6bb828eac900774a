"""Runs the analyses in their order of dependence and returns the findings sections.

window needs the judged attachments (entry's first step) and the IOC contacts; entry needs the
window; exposure needs both. Each section is computed on the engine given (DuckDB or Spark).
"""

from __future__ import annotations

from typing import Any

from breachscope.analyses import Context, entry, exposure, window


def run_analyses(ctx: Context) -> dict[str, Any]:
    """The findings sections the analyses of this version answer."""
    contacts = window.ioc_contacts(ctx)
    judged = entry.judge_messages(ctx)
    found_window = window.analyse(ctx, entry.suspect_attachment_names(judged), contacts)
    found_entry = entry.analyse(ctx, judged, found_window, contacts)
    sections: dict[str, Any] = {
        "window": found_window.as_finding(),
        "entry": found_entry.as_finding(),
    }
    if found_window.start is not None:
        sections["exposure"] = exposure.analyse(ctx, found_window, contacts).as_finding()
    return sections
