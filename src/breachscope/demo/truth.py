"""The expected findings of a generated case, computed from what the generator wrote.

Why computed, and why here: a test of breachscope is only as good as its expected answer.
The answer is derived from the records the writers return (each with its evidence path and
record reference) by applying rules.md step by step (`breachscope.demo.rules`), independently
of breachscope's analyses (this package never imports them). Where rules.md leaves a choice
open, the choice made is written in ``truth.json``'s ``notes``.

Times are UTC, written ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (fraction only when non-zero).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from breachscope.demo.host import HostFacts
from breachscope.demo.mail import MALICIOUS_MESSAGE_ID, MALICIOUS_SENDER, MailFacts
from breachscope.demo.partner import PartnerFacts
from breachscope.demo.records import Logon, Process, Ref, Request
from breachscope.demo.reference import CAMPAIGN_HOST
from breachscope.demo.rules import (
    BEACON_MAX_JITTER,
    BEACON_MIN_CONTACTS,
    CORRELATION_TOLERANCE,
    Displayed,
    LabelledFile,
    Labels,
    Misuse,
    MisuseInput,
    assess,
    displayed_visit,
    first_displays,
    host_labels,
    interval_cv,
    ioc_contacts,
    is_internal,
    normalize_address,
    opened_items,
    origin,
    overall,
)
from breachscope.demo.scenario import (
    AD_SYSTEM,
    ATTACHMENT_NAME,
    BEACON_GRACE,
    C2_DOMAIN,
    C2_IP,
    CASE_ID,
    CVE,
    DROPPED_NAME,
    EGRESS_IP,
    ISOLATED_AT,
    JUMP_SYSTEM,
    MAIL_DOMAIN,
    OFFICE_CPE,
    OFFICE_NAME,
    OFFICE_SP2,
    OPENED_AT,
    PARTNER_ACCOUNT,
    PARTNER_HOST,
    PARTNER_SYSTEM,
    SUBJECT_AD_ACCOUNT,
    SUBJECT_HOST,
    SUBJECT_IP,
    SUBJECT_SAM,
    Scenario,
    iso_utc,
)
from breachscope.demo.schedule import APPLICATIONS
from breachscope.demo.windows import WindowsFacts

MAIL_DOMAINS = (MAIL_DOMAIN,)
SENSITIVITY = {
    "classified": [r"(?i)\bclassified\b", "極秘"],
    "htv-operations": [r"(?i)\bHTV\b.*(spec|operation)"],
}
NOTES = (
    "window.end without known: the last record from a subject host matching an indicator, "
    "denied ones included (the host was still infected and calling out), + BEACON_GRACE.",
    "A proxy record's time is its end; it covers [time - elapsed, time].",
    "Messages count up to window.end by their Date header.",
    "mentioned = addresses in text/plain bodies of those messages that are not exposed.",
    "Displayed files: Recent shortcuts written inside the window and documents passed to "
    "Word, Reader or Notepad inside the window; first display = the earliest of those.",
    "Credentials are named by the manifest spelling; the stored web credential by its "
    "origin (scheme://host), the only name the evidence gives its system.",
    "misuse counts include the workstation's own logon rows of the domain account "
    "(system corp-ad by the manifest account entry).",
    "USUAL_SILENCE per hour-of-week is computed over intervals grouped by the UTC "
    "hour-of-week of their first record, 95th percentile by linear interpolation.",
    "Unexplained logons list the reason codes they must at least carry.",
)


@dataclass(frozen=True)
class Software:
    host: str
    name: str
    version: str
    cve: str
    cpe: str
    match: str
    confidence: str
    fixed_version: str | None = None


@dataclass(frozen=True)
class Credential:
    system: str
    account: str
    how: str
    exposed_from: dt.datetime
    evidence: tuple[Ref, ...]
    origin: str | None = None


@dataclass(frozen=True)
class Beacon:
    host: str
    destination: str
    contacts: int
    first: dt.datetime
    last: dt.datetime
    interval_cv: float


@dataclass(frozen=True)
class Truth:
    """What breachscope should find in the generated case (see ``truth.json``)."""

    case: str
    seed: int
    scale: int
    variant: str | None
    with_known: bool
    malicious_message_id: str
    malicious_sender: str
    malicious_message_evidence: Ref
    attachment_name: str
    attachment_sha256: str
    attachment_verdict: str
    dropped_file_name: str
    dropped_file_sha256: str
    same_email_recipients: tuple[str, ...]
    vulnerable_software: tuple[Software, ...]
    campaign_vulnerable_hosts: tuple[str, ...]
    window_start: dt.datetime
    window_start_basis: tuple[str, ...]
    window_start_evidence: Ref
    window_end: dt.datetime
    window_end_basis: str
    window_end_evidence: Ref
    first_ioc_contact: dt.datetime
    last_ioc_contact: dt.datetime
    last_allowed_ioc_contact: dt.datetime
    credentials: tuple[Credential, ...]
    not_exposed_credentials: tuple[dict[str, str], ...]
    addresses: tuple[str, ...]
    internal_addresses: int
    external_addresses: int
    mentioned: tuple[str, ...]
    stored_files: tuple[str, ...]
    labelled_files: tuple[LabelledFile, ...]
    displayed_files: tuple[Displayed, ...]
    displayed_urls: tuple[Displayed, ...]
    displayed_searches: tuple[Displayed, ...]
    not_displayed_urls: tuple[str, ...]
    beacons: tuple[Beacon, ...]
    iocs: tuple[tuple[str, str], ...]
    misuse: tuple[Misuse, ...]
    misuse_not_assessed: tuple[dict[str, str], ...]
    misuse_verdict: str
    rotations: tuple[dict[str, Any], ...]
    countermeasures: tuple[dict[str, Any], ...]
    system_owners_to_notify: tuple[str, ...]
    notes: tuple[str, ...] = NOTES

    @property
    def address_count(self) -> int:
        return len(self.addresses)

    def as_json(self) -> dict[str, Any]:
        document = _plain(self)
        document["address_count"] = self.address_count
        return document

    def dumps(self) -> str:
        return json.dumps(self.as_json(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return iso_utc(value)
    if isinstance(value, Ref):
        return {"path": value.path, "record": value.record}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


# ---- Assembly ----------------------------------------------------------------------------


@dataclass
class CaseFacts:
    """Everything the writers returned for one generated case."""

    scenario: Scenario
    mail: MailFacts
    processes: list[Process]
    workstation_logons: list[Logon]
    dc: WindowsFacts
    requests: list[Request]
    partner: PartnerFacts
    jump_logons: list[Logon]
    host: HostFacts
    sessions: list[tuple[dt.datetime, dt.datetime | None]]
    dropped_sha256: str


def compute(facts: CaseFacts) -> Truth:
    """Apply rules.md to the written facts."""
    scenario = facts.scenario
    labels = Labels(SENSITIVITY)
    contacts = ioc_contacts(facts.requests, C2_DOMAIN, C2_IP)
    allowed = [c for c in contacts if c.action != "TCP_DENIED"]

    # The window.
    marks: list[tuple[dt.datetime, str, Ref]] = []
    marks += [
        (p.time, "process_creation", p.ref)
        for p in facts.processes
        if p.host == SUBJECT_HOST and ATTACHMENT_NAME.lower() in p.command_line.lower()
    ]
    marks += [
        (o.time, "attachment_opened", o.ref)
        for o in facts.host.opened
        if o.path.lower().endswith("\\" + ATTACHMENT_NAME.lower())
    ]
    marks.append((contacts[0].time, "first_ioc_contact", contacts[0].ref))
    first_mark = min(marks, key=lambda m: (m[0], m[1]))
    start_basis: tuple[str, ...]
    if scenario.with_known:
        start, start_basis = OPENED_AT, ("known", first_mark[1])
    else:
        start, start_basis = first_mark[0], (first_mark[1],)
    last = contacts[-1]
    if scenario.with_known:
        end, end_basis, end_ref = ISOLATED_AT, "known", last.ref
    else:
        end, end_basis, end_ref = last.time + BEACON_GRACE, "last_ioc_contact", last.ref

    # Addresses: headers of messages up to window.end, and the contacts.
    exposed: set[str] = set()
    mentions: set[str] = set()
    for message in facts.mail.messages:
        if message.time > end:
            continue
        exposed.update(a for _, raw in message.headers if (a := normalize_address(raw)))
        mentions.update(a for raw in message.mentions if (a := normalize_address(raw)))
    exposed.update(a for c in facts.host.contacts if (a := normalize_address(c.address)))
    internal = sum(1 for a in exposed if is_internal(a, MAIL_DOMAINS))

    credentials, not_exposed, misuse_inputs = _credentials(facts, start, end)
    misuse = tuple(assess(m, start) for m in misuse_inputs)
    stored = [c for c in credentials if c.how == "stored"]
    not_assessed = tuple(
        {"system": c.system, "account": c.account, "reason": "no logs of this system in the case"}
        for c in stored
    )

    # What was shown on screen.
    viewers = set(APPLICATIONS.values())
    file_labels = {f.path: labels.of(f.path, f.text) for f in facts.host.files}
    shown_files = first_displays(
        opened_items(facts.host.opened, facts.processes, viewers), start, end, "file", file_labels
    )
    shown = [v for v in facts.host.visits if displayed_visit(v)]
    url_labels = {v.url: labels.of(v.url) for v in shown}
    shown_urls = first_displays(
        ((v.url, v.time, v.ref) for v in shown), start, end, "url", url_labels
    )
    terms = [(v.search_term, v.time, v.ref) for v in shown if v.search_term]
    term_labels = {t: labels.of(t) for t, _, _ in terms}
    shown_searches = first_displays(terms, start, end, "search", term_labels)
    hidden = sorted(
        {v.url for v in facts.host.visits if start <= v.time <= end} - {d.key for d in shown_urls}
    )

    cv = interval_cv([c.time for c in contacts])
    beacon = Beacon(SUBJECT_HOST, C2_DOMAIN, len(contacts), contacts[0].time, last.time, cv)
    regular = len(contacts) >= BEACON_MIN_CONTACTS and cv <= BEACON_MAX_JITTER
    beacons = (beacon,) if regular else ()
    first_denied = next(c for c in contacts if c.action == "TCP_DENIED")
    rotations = tuple(
        {"system": c.system, "account": c.account, "time": c.time, "evidence": c.ref}
        for c in sorted(facts.dc.changes + facts.partner.changes, key=lambda c: c.time)
    )
    countermeasures: tuple[dict[str, Any], ...] = (
        {
            "action": "rotate",
            "system": AD_SYSTEM,
            "account": SUBJECT_AD_ACCOUNT,
            "status": "done",
            "evidence": facts.dc.changes[0].ref,
        },
        {
            "action": "rotate",
            "system": PARTNER_SYSTEM,
            "account": PARTNER_ACCOUNT,
            "status": "done",
            "evidence": facts.partner.changes[0].ref,
        },
        *(
            {"action": "rotate", "system": c.system, "account": c.account, "status": "pending"}
            for c in stored
        ),
        {"action": "block", "indicator": C2_DOMAIN, "status": "done", "evidence": first_denied.ref},
        {"action": "patch", "host": SUBJECT_HOST, "product": OFFICE_NAME, "status": "pending"},
        {"action": "patch", "host": CAMPAIGN_HOST, "product": OFFICE_NAME, "status": "pending"},
    )
    return Truth(
        case=CASE_ID,
        seed=scenario.seed,
        scale=scenario.scale,
        variant=scenario.variant,
        with_known=scenario.with_known,
        malicious_message_id=MALICIOUS_MESSAGE_ID,
        malicious_sender=MALICIOUS_SENDER,
        malicious_message_evidence=Ref(facts.mail.path, f"offset:{facts.mail.malicious.offset}"),
        attachment_name=ATTACHMENT_NAME,
        attachment_sha256=facts.mail.attachment_sha256,
        attachment_verdict="malicious",
        dropped_file_name=DROPPED_NAME,
        dropped_file_sha256=facts.dropped_sha256,
        same_email_recipients=tuple(sorted(facts.mail.other_recipients)),
        vulnerable_software=(
            Software(
                SUBJECT_HOST, OFFICE_NAME, OFFICE_SP2, CVE, OFFICE_CPE, "edition_sp", "confirmed"
            ),
        ),
        campaign_vulnerable_hosts=(CAMPAIGN_HOST,),
        window_start=start,
        window_start_basis=start_basis,
        window_start_evidence=first_mark[2],
        window_end=end,
        window_end_basis=end_basis,
        window_end_evidence=end_ref,
        first_ioc_contact=contacts[0].time,
        last_ioc_contact=last.time,
        last_allowed_ioc_contact=allowed[-1].time,
        credentials=credentials,
        not_exposed_credentials=not_exposed,
        addresses=tuple(sorted(exposed)),
        internal_addresses=internal,
        external_addresses=len(exposed) - internal,
        mentioned=tuple(sorted(mentions - exposed)),
        stored_files=tuple(sorted(f.path for f in facts.host.files if f.mtime <= end)),
        labelled_files=host_labels(facts.host.files, labels),
        displayed_files=shown_files,
        displayed_urls=shown_urls,
        displayed_searches=shown_searches,
        not_displayed_urls=tuple(hidden),
        beacons=beacons,
        iocs=(("domain", C2_DOMAIN), ("ipv4", C2_IP), ("sha256", facts.dropped_sha256)),
        misuse=misuse,
        misuse_not_assessed=not_assessed,
        misuse_verdict=overall(m.verdict for m in misuse),
        rotations=rotations,
        countermeasures=countermeasures,
        system_owners_to_notify=("ad-admins@example-space.jp", "csirt@partner.example"),
    )


def _credentials(
    facts: CaseFacts, start: dt.datetime, end: dt.datetime
) -> tuple[tuple[Credential, ...], tuple[dict[str, str], ...], list[MisuseInput]]:
    """Exposed credentials (used in the window from the host, or stored on it)."""
    credentials: list[Credential] = []
    inputs: list[MisuseInput] = []
    sessions = facts.sessions

    ad_logons = sorted(
        facts.dc.logons + facts.workstation_logons,
        key=lambda logon: (logon.time, logon.ref.path, logon.ref.record),
    )
    used = [
        logon
        for logon in ad_logons
        if logon.outcome == "success"
        and start <= logon.time <= end
        and (
            logon.src_ip == SUBJECT_IP
            or (logon.host == SUBJECT_HOST and logon.src_ip in ("127.0.0.1", None))
        )
    ]
    if used:
        credentials.append(
            Credential(AD_SYSTEM, SUBJECT_AD_ACCOUNT, "used", used[0].time, (used[0].ref,))
        )
        rotation = min((c.time for c in facts.dc.changes if c.time > end), default=None)
        inputs.append(
            MisuseInput(
                AD_SYSTEM,
                SUBJECT_AD_ACCOUNT,
                used[0].time,
                ad_logons,
                rotation,
                facts.dc.dc_times,
                [time for time, _ in facts.dc.log_clears],
                owner_sessions=sessions,
                subject_ips=frozenset({SUBJECT_IP}),
            )
        )

    portal = [r for r in facts.requests if r.dst_host == PARTNER_HOST]
    spans = [(r.start, r.time) for r in portal]
    correlated = [
        logon
        for logon in facts.partner.logons
        if logon.outcome == "success"
        and start <= logon.time <= end
        and logon.src_ip == EGRESS_IP
        and any(
            s - CORRELATION_TOLERANCE <= logon.time <= e + CORRELATION_TOLERANCE for s, e in spans
        )
    ]
    if correlated:
        credentials.append(
            Credential(
                PARTNER_SYSTEM, PARTNER_ACCOUNT, "used", correlated[0].time, (correlated[0].ref,)
            )
        )
        rotation = min((c.time for c in facts.partner.changes if c.time > end), default=None)
        inputs.append(
            MisuseInput(
                PARTNER_SYSTEM,
                PARTNER_ACCOUNT,
                correlated[0].time,
                facts.partner.logons,
                rotation,
                facts.partner.times,
                correlated=spans,
                egress_ips=frozenset({EGRESS_IP}),
            )
        )

    for login in facts.host.logins:
        if not login.blacklisted and login.created <= end:
            credentials.append(
                Credential(
                    origin(login.origin), login.account, "stored", start, (login.ref,), login.origin
                )
            )

    jump_used = [j for j in facts.jump_logons if start <= j.time <= end and j.src_ip == SUBJECT_IP]
    not_exposed: tuple[dict[str, str], ...] = ()
    if not jump_used:
        not_exposed = (
            {
                "system": JUMP_SYSTEM,
                "account": SUBJECT_SAM,
                "reason": "used from WS-0423 only before the window",
            },
        )
    ordered = tuple(sorted(credentials, key=lambda c: (c.exposed_from, c.system)))
    return ordered, not_exposed, inputs
