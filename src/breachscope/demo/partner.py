"""The partner agency's portal: its own CSV layouts, read through mapping files.

Why mapped CSV: a partner's system logs in a layout no format knows, so the case gives a
mapping (formats.md, Mapping files). Two files, each with its mapping:

- ``partner-portal.csv`` -> ``logons``: every sign-in of every portal user (``timestamp,
  username,client_ip,result,user_agent,session,node``; ``node`` is unmapped and stays in the
  raw record). A health-check account signs in every few minutes around the clock, so the
  portal's log has no silence longer than its usual one; the employee signs in from the
  agency's NAT address 203.0.113.10 on baseline days and inside the window.
- ``partner-portal-changes.csv`` -> ``credential_changes``: the password change of the
  employee's account the day after isolation (the rotation that ends the misuse period).

The portal writes local time of Chicago without an offset (the item's ``timezone:
America/Chicago``): the second time zone of the case. Variants: ``outsider`` adds a sign-in
from an outside address inside the window and failed ones with the old password after the
rotation; ``missing_day`` leaves out every row of one Chicago date inside the window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from breachscope.demo.records import CredentialChange, Logon, Ref
from breachscope.demo.scenario import (
    EGRESS_IP,
    LOG_END,
    LOG_START,
    MISSING_PARTNER_DAY,
    OUTSIDER_FAILURES_AT,
    OUTSIDER_IP,
    OUTSIDER_LOGON_AT,
    PARTNER_ACCOUNT,
    PARTNER_HOST,
    PARTNER_ROTATION_AT,
    PARTNER_SYSTEM,
    PARTNER_ZONE,
    Scenario,
)
from breachscope.demo.schedule import Plan

LOGONS_PATH = "evidence/logs/partner-portal.csv"
CHANGES_PATH = "evidence/logs/partner-portal-changes.csv"
LOGONS_MAPPING_PATH = "mappings/partner-portal.yaml"
CHANGES_MAPPING_PATH = "mappings/partner-portal-changes.yaml"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
HEALTHCHECK_MINUTES = (4, 13)
BROWSER = (
    "Mozilla/5.0 (Windows; U; Windows NT 6.1; en-US) AppleWebKit/534.30 (KHTML, like Gecko) "
    "Chrome/12.0.742.122 Safari/534.30"
)
OUTSIDER_AGENT = "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)"
HEALTHCHECK_AGENT = "portal-monitor/2.3"
PARTNER_STAFF = (
    ("j.miller@partner.example", "198.51.100.41"),
    ("a.garcia@partner.example", "198.51.100.42"),
    ("r.chen@partner.example", "198.51.100.47"),
    ("l.novak@partner.example", "198.51.100.53"),
)
OTHER_AGENCIES = (
    ("m.rossi@euro-space-agency.example", "192.0.2.114"),
    ("k.larsen@euro-space-agency.example", "192.0.2.114"),
    ("s.kimura@example-space.jp", EGRESS_IP),
)
LOGONS_MAPPING = """\
# Partner portal sign-in log (CSV export by the Partner Agency CSIRT).
table: logons
time: {column: timestamp, format: '%Y-%m-%d %H:%M:%S'}
fields:
  account: username
  src_ip: client_ip
  outcome: {column: result, map: {OK: success, FAIL: failure}}
  user_agent: user_agent
  session_id: session
constants: {system: partner-portal, dst_host: portal.partner.example, method: password}
"""
CHANGES_MAPPING = """\
# Partner portal account changes (CSV export by the Partner Agency CSIRT).
table: credential_changes
time: {column: timestamp, format: '%Y-%m-%d %H:%M:%S'}
fields:
  account: username
  kind: {column: event, map: {PASSWORD_CHANGED: changed, PASSWORD_RESET: reset}}
  actor: actor
constants: {system: partner-portal, host: portal.partner.example}
"""


@dataclass(frozen=True)
class _Row:
    time: dt.datetime
    username: str
    client_ip: str
    result: str
    agent: str


@dataclass
class PartnerFacts:
    logons: list[Logon]
    """The employee's account's sign-ins (every source)."""
    changes: list[CredentialChange]
    times: list[dt.datetime]
    """The time of every record of the portal (both files): its coverage."""
    missing_day: dt.date | None


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(PARTNER_ZONE).strftime(TIME_FORMAT)


def _rows(scenario: Scenario, plan: Plan) -> list[_Row]:
    rng = scenario.rng("partner-noise")
    rows: list[_Row] = []
    low, high = HEALTHCHECK_MINUTES
    moment = LOG_START + dt.timedelta(seconds=rng.randrange(300))
    while moment < LOG_END:
        rows.append(_Row(moment, "healthcheck", "198.51.100.5", "OK", HEALTHCHECK_AGENT))
        moment += dt.timedelta(seconds=rng.randrange(low * 60, high * 60))
    staff = [
        (f"{local}{copy or ''}@{domain}", ip)
        for copy in range(scenario.scale)
        for local, domain, ip in ((u.split("@")[0], u.split("@")[1], ip) for u, ip in PARTNER_STAFF)
    ]
    day = LOG_START.astimezone(PARTNER_ZONE).date()
    while day <= LOG_END.astimezone(PARTNER_ZONE).date():
        office = dt.datetime(day.year, day.month, day.day, 8, tzinfo=PARTNER_ZONE)
        for user, ip in staff + list(OTHER_AGENCIES):
            if day.weekday() >= 5 or rng.random() < 0.3:
                continue
            for _ in range(rng.randint(1, 3)):
                when = (office + dt.timedelta(seconds=rng.randrange(9 * 3600))).astimezone(dt.UTC)
                if rng.random() < 0.05:
                    rows.append(_Row(when - dt.timedelta(seconds=30), user, ip, "FAIL", BROWSER))
                rows.append(_Row(when, user, ip, "OK", BROWSER))
        day += dt.timedelta(days=1)
    for moment, result in plan.partner_logons:
        rows.append(_Row(moment, PARTNER_ACCOUNT, EGRESS_IP, result, BROWSER))
    # After the rotation the employee signs in with his new password, from the agency.
    rows.append(
        _Row(
            PARTNER_ROTATION_AT - dt.timedelta(seconds=48),
            PARTNER_ACCOUNT,
            EGRESS_IP,
            "OK",
            BROWSER,
        )
    )
    for extra_day in (1, 3):
        moment = PARTNER_ROTATION_AT + dt.timedelta(days=extra_day, seconds=rng.randrange(3600))
        rows.append(_Row(moment, PARTNER_ACCOUNT, EGRESS_IP, "OK", BROWSER))
    if scenario.variant == "outsider":
        rows.append(_Row(OUTSIDER_LOGON_AT, PARTNER_ACCOUNT, OUTSIDER_IP, "OK", OUTSIDER_AGENT))
        for moment in OUTSIDER_FAILURES_AT:
            rows.append(_Row(moment, PARTNER_ACCOUNT, OUTSIDER_IP, "FAIL", OUTSIDER_AGENT))
    if scenario.variant == "missing_day":
        rows = [r for r in rows if r.time.astimezone(PARTNER_ZONE).date() != MISSING_PARTNER_DAY]
    return sorted(rows, key=lambda r: (r.time, r.username))


def write_partner_logs(folder: Path, scenario: Scenario, plan: Plan) -> PartnerFacts:
    rng = scenario.rng("partner-sessions")
    rows = _rows(scenario, plan)
    lines = ["timestamp,username,client_ip,result,user_agent,session,node"]
    logons: list[Logon] = []
    for number, row in enumerate(rows, start=1):
        session = f"{rng.getrandbits(48):012x}" if row.result == "OK" else ""
        node = f"web{rng.randrange(1, 4)}"
        agent = f'"{row.agent}"' if "," in row.agent else row.agent
        lines.append(
            f"{_local(row.time)},{row.username},{row.client_ip},{row.result},{agent},{session},{node}"
        )
        if row.username == PARTNER_ACCOUNT:
            outcome = "success" if row.result == "OK" else "failure"
            logons.append(
                Logon(
                    row.time,
                    PARTNER_SYSTEM,
                    row.username,
                    outcome,
                    row.client_ip,
                    Ref(LOGONS_PATH, f"csv:{number}"),
                    PARTNER_HOST,
                    None,
                    session or None,
                    row.agent,
                )
            )
    (folder / LOGONS_PATH).parent.mkdir(parents=True, exist_ok=True)
    (folder / LOGONS_PATH).write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")

    change = "\r\n".join(
        [
            "timestamp,username,event,actor,client_ip",
            f"{_local(PARTNER_ROTATION_AT)},{PARTNER_ACCOUNT},PASSWORD_CHANGED,{PARTNER_ACCOUNT},{EGRESS_IP}",
        ]
    )
    (folder / CHANGES_PATH).write_text(change + "\r\n", encoding="utf-8")
    (folder / LOGONS_MAPPING_PATH).parent.mkdir(parents=True, exist_ok=True)
    (folder / LOGONS_MAPPING_PATH).write_text(LOGONS_MAPPING, encoding="utf-8")
    (folder / CHANGES_MAPPING_PATH).write_text(CHANGES_MAPPING, encoding="utf-8")
    changes = [
        CredentialChange(
            PARTNER_ROTATION_AT,
            PARTNER_SYSTEM,
            PARTNER_ACCOUNT,
            "changed",
            Ref(CHANGES_PATH, "csv:1"),
        )
    ]
    return PartnerFacts(
        logons=logons,
        changes=changes,
        times=sorted([r.time for r in rows] + [PARTNER_ROTATION_AT]),
        missing_day=MISSING_PARTNER_DAY if scenario.variant == "missing_day" else None,
    )
