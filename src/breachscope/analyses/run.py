"""Runs the analyses in their order of dependence and returns the findings sections.

window needs the judged attachments (entry's first step) and the IOC contacts; entry needs the
window; exposure needs both; misuse needs the window and exposure's credentials; campaign needs
entry; notifications needs exposure and campaign; countermeasures needs them all (and misuse's
not-assessed credentials). Each section is computed on the engine given (DuckDB or Spark).
"""

from __future__ import annotations

from typing import Any

from breachscope.analyses import (
    Context,
    campaign,
    countermeasures,
    entry,
    exposure,
    misuse,
    notifications,
    window,
)


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
    found_exposure: exposure.Exposure | None = None
    not_assessed: list[tuple[str, str]] | None = None
    if found_window.start is not None:
        found_exposure = exposure.analyse(ctx, found_window, contacts)
        sections["exposure"] = found_exposure.as_finding()
        found_misuse = misuse.analyse(ctx, found_window, found_exposure.credentials)
        sections["misuse"] = found_misuse.as_finding()
        not_assessed = [(n.system, n.account) for n in found_misuse.not_assessed]
    found_campaign = campaign.analyse(ctx, found_entry)
    sections["campaign"] = found_campaign.as_finding()
    sections["notifications"] = notifications.analyse(
        ctx, found_exposure, found_campaign
    ).as_finding()
    sections["countermeasures"] = countermeasures.analyse(
        ctx, found_window, found_entry, found_exposure, contacts, not_assessed
    ).as_finding()
    return sections
