"""The employee's working days: when he sat at WS-0423 and what he did there.

Why one module: the workstation's logons, the domain controller's Kerberos tickets, the
proxy's traffic, the partner portal's logons and the browser history all describe the same
days, and they only make a consistent case if they are drawn from one plan. The plan uses
its own random stream, independent of the scale, so the subject's facts never change with it.

The partner portal logons are placed on at least `BASELINE_DAYS_WANTED` distinct days in the
30 days before the infection (so the egress address is a ``baseline_source``, rules.md), and
on days inside the window, each while the PC's proxy traffic to the portal is open
(``egress_correlated``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from breachscope.demo.scenario import (
    ISOLATED_AT,
    LOG_START,
    OPENED_AT,
    SUBJECT_PROFILE,
    Scenario,
    at,
    days,
    is_workday,
    jst,
    to_jst,
)

BASELINE_DAYS_WANTED = 9
WINDOW_PARTNER_DAYS = 12
DAYS_OFF = 3  # holidays the employee took before the infection
DOCUMENTS = f"{SUBJECT_PROFILE}\\Documents"
DESKTOP = f"{SUBJECT_PROFILE}\\Desktop"
# Applications that display the documents passed to them (rules.md, Displayed).
APPLICATIONS = {
    ".docx": "C:\\Program Files\\Microsoft Office\\Office12\\WINWORD.EXE",
    ".rtf": "C:\\Program Files\\Microsoft Office\\Office12\\WINWORD.EXE",
    ".pdf": "C:\\Program Files\\Adobe\\Reader 9.0\\Reader\\AcroRd32.exe",
    ".txt": "C:\\Windows\\system32\\NOTEPAD.EXE",
}


@dataclass(frozen=True)
class Session:
    """An interactive logon of the employee on WS-0423; ``end`` None: never logged off."""

    start: dt.datetime
    end: dt.datetime | None
    logon_id: str

    def covers(self, moment: dt.datetime) -> bool:
        return self.start <= moment and (self.end is None or moment <= self.end)


@dataclass(frozen=True)
class DocumentOpen:
    time: dt.datetime
    path: str


@dataclass
class Plan:
    sessions: list[Session]
    partner_logons: list[tuple[dt.datetime, str]]
    """(time, result) of the employee's partner portal logons from WS-0423 (OK / FAIL)."""
    opens: list[DocumentOpen] = field(default_factory=list)

    def session_at(self, moment: dt.datetime) -> Session | None:
        return next((s for s in self.sessions if s.covers(moment)), None)


# (Tokyo time, document) the employee opened; the one at 09:41 on 6 July comes just before
# the attachment and is therefore not displayed in the window.
OPENS: tuple[tuple[dt.datetime, str], ...] = (
    (jst(2011, 6, 2, 10, 5, 12), f"{DOCUMENTS}\\travel\\itinerary-2011-06.docx"),
    (jst(2011, 6, 9, 14, 31, 40), f"{DOCUMENTS}\\HTV\\HTV-2 operations spec v3.docx"),
    (jst(2011, 6, 16, 11, 2, 8), f"{DOCUMENTS}\\Papers\\orbit-determination-draft.pdf"),
    (jst(2011, 6, 21, 16, 45, 55), f"{DOCUMENTS}\\Classified\\meeting-notes-0620.txt"),
    (jst(2011, 7, 6, 9, 41, 27), f"{DOCUMENTS}\\Projects\\kibo-ef-schedule-2011.docx"),
    (jst(2011, 7, 8, 14, 20, 3), f"{DOCUMENTS}\\HTV\\HTV-2 operations spec v3.docx"),
    (jst(2011, 7, 11, 10, 3, 51), f"{DOCUMENTS}\\notes\\lunch-menu.txt"),
    (jst(2011, 7, 12, 15, 12, 30), f"{DESKTOP}\\HTV ops memo.rtf"),
    (jst(2011, 7, 15, 9, 58, 16), f"{DOCUMENTS}\\Papers\\orbit-determination-draft.pdf"),
    (jst(2011, 7, 20, 13, 37, 2), f"{DOCUMENTS}\\HTV\\HTV-2 operations spec v3.docx"),
    (jst(2011, 7, 27, 11, 19, 44), f"{DOCUMENTS}\\travel\\itinerary-2011-06.docx"),
    (jst(2011, 8, 3, 17, 6, 9), f"{DOCUMENTS}\\Classified\\meeting-notes-0620.txt"),
)


def application(path: str) -> str:
    return APPLICATIONS[path[path.rfind(".") :].lower()]


def plan(scenario: Scenario) -> Plan:
    """The employee's sessions and partner portal logons from the first log to isolation."""
    rng = scenario.rng("subject")
    workdays = [d for d in days(LOG_START, ISOLATED_AT) if is_workday(d)]
    before = [d for d in workdays if dt.date(2011, 6, 6) < d < to_jst(OPENED_AT).date()]
    opened_days = {to_jst(time).date() for time, _ in OPENS}
    off = set(rng.sample([d for d in before if d not in opened_days], DAYS_OFF))
    sessions: list[Session] = []
    for day in workdays:
        if day in off:
            continue
        start = at(day, 8, 40) + dt.timedelta(seconds=rng.randrange(30 * 60))
        leaves = at(day, 18, 20) + dt.timedelta(seconds=rng.randrange(130 * 60))
        end = None if leaves > ISOLATED_AT else leaves  # the cable was pulled first
        logon_id = f"0x{rng.randrange(0x100000, 0xFFFFFF):x}"
        sessions.append(Session(start, end, logon_id))

    session_days = {to_jst(s.start).date(): s for s in sessions}
    baseline = sorted(rng.sample([d for d in before if d in session_days], BASELINE_DAYS_WANTED))
    inside = [d for d in session_days if to_jst(OPENED_AT).date() < d < to_jst(ISOLATED_AT).date()]
    window_days = sorted(rng.sample(inside, WINDOW_PARTNER_DAYS))
    partner: list[tuple[dt.datetime, str]] = []
    for index, day in enumerate(baseline + window_days):
        moment = at(day, 14) + dt.timedelta(seconds=rng.randrange(3 * 3600))
        if index == 2:  # a mistyped password before the infection, then the right one
            partner.append((moment - dt.timedelta(seconds=23), "FAIL"))
        partner.append((moment, "OK"))
    opens = [DocumentOpen(time, path) for time, path in OPENS]
    return Plan(sessions=sessions, partner_logons=partner, opens=opens)
