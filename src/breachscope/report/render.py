"""Render `OUT/report.md` and `OUT/report.html` from findings and the store.

The first page reads like a published account of the case: what leaked, whether anyone else
got in, whom to notify, how it got in, what has been done. Every statement carries footnotes to
an evidence appendix (`path`, `record`, short evidence id), so a reader can open the raw record.

Hostile data: every string from findings may come from an attacker (subjects, URLs, paths).
HTML goes through Jinja2 with autoescape and the CSP of rules.md, the page loads nothing
(no external CSS, script, font or image; charts are inline SVG built in `chart`), and URLs are
text, never links. Markdown escapes its specials and shows evidence values as code spans, so no
viewer turns them into HTML or links. Sentences are built once here, as `Statement`s, and both
templates render them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from breachscope.report.chart import Bar, bars_svg, daily_events, events_svg, events_text
from breachscope.report.thresholds import Threshold, collect_thresholds

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
MAX_NOTES = 3  # footnotes per statement; further references are counted, not listed
MAX_TABLE_ROWS = 500  # rows shown per detail table; findings.json has them all
SHORT_ID_HEX = 12

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~&#!])")

VERDICT_TEXT = {
    "none_found": "no one but the owner was found using it",
    "unauthorized_access": "log-ins by someone other than the owner were found",
    "attempts_only": "failed attempts only; no successful log-in by anyone but the owner",
    "inconclusive": "inconclusive: the logs do not cover the whole period",
}
OVERALL_TEXT = {
    "none_found": "No: on every system assessed, the only log-ins with the exposed credentials "
    "were the owner's own.",
    "unauthorized_access": "Yes: log-ins that cannot be attributed to the owner were found.",
    "attempts_only": "No successful log-in by anyone else, but there were failed attempts.",
    "inconclusive": "Not known: no unexplained log-in was found, but the logs do not cover the "
    "whole period; the missing logs are named below.",
}
STATUS_TEXT = {
    "analysed": "analysed",
    "partial": "partial: some evidence was missing",
    "not_analysed": "not analysed: the evidence needed was not in the case",
}
ATTRIBUTION_TEXT = {
    "subject_host_owner_session": "from the infected host during the owner's own session",
    "baseline_source": "from the owner's usual source",
    "egress_correlated": "through the egress address while the host was browsing there",
    "owner_vpn_session": "from the owner's VPN session",
    "analyst_attribution": "attributed by the analyst",
}
KIND_TEXT = {
    "file": ("file", "files"),
    "url": ("web page", "web pages"),
    "search": ("search", "searches"),
}


# --- the model both templates render -------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A piece of a sentence: plain text, a strong figure, or a value from evidence (code)."""

    text: str
    style: str = ""


@dataclass
class Statement:
    parts: list[Part]
    notes: list[int] = field(default_factory=list)
    more: int = 0


@dataclass(frozen=True)
class Cited:
    number: int
    evidence_id: str
    short_id: str
    path: str
    record: str


@dataclass
class Block:
    kind: str  # "list", "table", "chart", "text"
    title: str = ""
    statements: list[Statement] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[Statement]] = field(default_factory=list)
    omitted: int = 0
    svg: Markup = field(default_factory=Markup)
    lines: list[str] = field(default_factory=list)
    collapsed: bool = False


@dataclass
class Section:
    anchor: str
    title: str
    question: str
    status: str | None = None
    not_covered: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


@dataclass
class SummaryItem:
    title: str
    anchor: str
    status: str | None
    statements: list[Statement]


def strong(value: object) -> Part:
    return Part(str(value), "strong")


def code(value: object) -> Part:
    return Part(_clean(str(value)), "code")


def _clean(text: str) -> str:
    """No control or bidi-override characters, no line breaks (one value, one line)."""
    return _CONTROL.sub(" ", text.replace("\r", " ").replace("\n", " "))


def _parts(items: Iterable[object]) -> list[Part]:
    parts = []
    for item in items:
        if isinstance(item, Part):
            parts.append(item)
        elif isinstance(item, int | float):
            parts.append(strong(item))
        else:
            parts.append(Part(str(item)))
    return parts


class Citations:
    """Numbers evidence references in order of first citation; one appendix entry each."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, str, str], int] = {}
        self.entries: list[Cited] = []

    def cite(
        self, refs: Iterable[Mapping[str, Any]], limit: int = MAX_NOTES
    ) -> tuple[list[int], int]:
        distinct: list[tuple[str, str, str]] = []
        for ref in refs:
            key = (
                str(ref.get("evidence_id", "")),
                str(ref.get("record", "")),
                str(ref.get("path") or ""),
            )
            if key not in distinct:
                distinct.append(key)
        numbers = []
        for key in distinct[:limit]:
            if key not in self._numbers:
                number = len(self.entries) + 1
                self._numbers[key] = number
                evidence_id, record, path = key
                hex_part = evidence_id.removeprefix("sha256:")
                short = (
                    f"sha256:{hex_part[:SHORT_ID_HEX]}" if hex_part != evidence_id else evidence_id
                )
                self.entries.append(
                    Cited(number, evidence_id, _clean(short), _clean(path), _clean(record))
                )
            numbers.append(self._numbers[key])
        return numbers, len(distinct) - len(numbers)


def when(text: str | None) -> str:
    """A findings time as people read it.

    >>> when("2011-07-06T01:12:03Z"), when(None)
    ('2011-07-06 01:12 UTC', 'unknown')
    """
    if not text:
        return "unknown"
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def plural(count: int, one: str, many: str | None = None) -> str:
    """A count with its noun.

    >>> plural(1, "file"), plural(2, "file"), plural(2, "address", "addresses")
    ('1 file', '2 files', '2 addresses')
    """
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _refs(items: Iterable[Mapping[str, Any]], key: str = "evidence") -> list[Mapping[str, Any]]:
    return [ref for item in items for ref in item.get(key) or []]


def _join(values: Iterable[str]) -> str:
    items = list(values)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --- building the report --------------------------------------------------------------------


class _Builder:
    def __init__(self, findings: Mapping[str, Any]) -> None:
        self.findings = findings
        self.citations = Citations()

    def say(
        self, *items: object, refs: Iterable[Mapping[str, Any]] = (), limit: int = MAX_NOTES
    ) -> Statement:
        notes, more = self.citations.cite(refs, limit)
        return Statement(_parts(items), notes, more)

    def cell(
        self, value: object, refs: Iterable[Mapping[str, Any]] = (), evidence: bool = True
    ) -> Statement:
        if value is None or value == "":
            part = Part("—")
        elif isinstance(value, Part):
            part = value
        elif evidence:
            part = code(value)
        else:
            part = Part(str(value))
        return self.say(part, refs=refs)

    def section(self, key: str) -> Mapping[str, Any]:
        value = self.findings.get(key)
        return value if isinstance(value, Mapping) else {}

    def hosts(self) -> list[str]:
        window = self.section("window")
        hosts = [str(h.get("host")) for h in window.get("by_host") or [] if h.get("host")]
        if not hosts:
            hosts = sorted(
                {str(s.get("host")) for s in self.section("entry").get("vulnerable_software") or []}
            )
        return hosts

    # summary ---------------------------------------------------------------------------

    def summary_leaked(self) -> list[Statement]:
        exposure = self.section("exposure")
        hosts = self.hosts()
        where = Part(_join(hosts) or "the infected host", "code" if hosts else "")
        out: list[Statement] = []
        files = exposure.get("files") or {}
        if files:
            labels = files.get("by_label") or {}
            labelled = [i for i in files.get("items") or [] if i.get("labels")]
            if labels:
                label_parts: list[object] = [", of which "]
                for number, (label, count) in enumerate(sorted(labels.items())):
                    label_parts += [
                        ", " if number else "",
                        strong(count),
                        " labelled ",
                        code(label),
                    ]
            else:
                label_parts = [", none with a sensitivity label"]
            out.append(
                self.say(
                    strong(files.get("stored", 0)),
                    " files were stored on ",
                    where,
                    " while it was infected",
                    *label_parts,
                    ".",
                    refs=_refs(labelled),
                )
            )
        displayed = exposure.get("displayed") or []
        if displayed or files:
            kinds: dict[str, int] = {}
            for item in displayed:
                kinds[str(item.get("kind"))] = kinds.get(str(item.get("kind")), 0) + 1
            detail = _join(
                plural(n, *KIND_TEXT.get(k, (k, k + "s"))) for k, n in sorted(kinds.items())
            )
            out.append(
                self.say(
                    strong(len(displayed)),
                    " items were on screen during the infection",
                    f" ({detail})." if detail else ".",
                    refs=_refs(displayed),
                )
            )
        credentials = exposure.get("credentials") or []
        for credential in credentials:
            how = "used from" if credential.get("how") == "used" else "stored on"
            out.append(
                self.say(
                    "The credential ",
                    code(credential.get("account")),
                    " for ",
                    code(credential.get("system")),
                    f" was {how} the host (exposed from {when(credential.get('exposed_from'))}).",
                    refs=credential.get("evidence") or [],
                )
            )
        addresses = exposure.get("email_addresses") or {}
        if addresses:
            out.append(
                self.say(
                    strong(addresses.get("count", 0)),
                    " e-mail addresses were in the messages and contacts on the host (",
                    strong(addresses.get("internal", 0)),
                    " internal, ",
                    strong(addresses.get("external", 0)),
                    " external).",
                    refs=_refs(addresses.get("details") or []),
                )
            )
        for flow in exposure.get("exfiltration") or []:
            out.append(self._exfiltration(flow))
        return out

    def _exfiltration(self, flow: Mapping[str, Any]) -> Statement:
        sent = flow.get("bytes_out")
        sent_text: list[object] = (
            [strong(f"{sent:,}"), " bytes sent"]
            if isinstance(sent, int)
            else ["upload size unknown"]
        )
        received = flow.get("bytes_in")
        if isinstance(received, int):
            sent_text += [", ", strong(f"{received:,}"), " bytes received"]
        return self.say(
            "The host talked to ",
            code(flow.get("destination")),
            f" ({_join(flow.get('reasons') or [])}) from {when(flow.get('first'))} to "
            f"{when(flow.get('last'))}: ",
            *sent_text,
            ".",
            refs=flow.get("evidence") or [],
        )

    def _credential_refs(self, system: object, account: object) -> list[Mapping[str, Any]]:
        return [
            ref
            for credential in self.section("exposure").get("credentials") or []
            if credential.get("system") == system and credential.get("account") == account
            for ref in credential.get("evidence") or []
        ]

    def summary_misuse(self) -> list[Statement]:
        misuse = self.section("misuse")
        if not misuse:
            return []
        verdict = str(misuse.get("verdict"))
        out = [self.say(strong(OVERALL_TEXT.get(verdict, verdict)))]
        for item in misuse.get("by_credential") or []:
            coverage = item.get("coverage") or {}
            gaps = coverage.get("gaps") or []
            cover = (
                "the logs cover the whole period"
                if coverage.get("complete")
                else f"the logs have {plural(len(gaps), 'gap')}"
            )
            attributed = item.get("attributed") or {}
            reasons = (
                " ("
                + _join(f"{n} {ATTRIBUTION_TEXT.get(k, k)}" for k, n in sorted(attributed.items()))
                + ")"
                if attributed
                else ""
            )
            out.append(
                self.say(
                    code(item.get("account")),
                    " on ",
                    code(item.get("system")),
                    f": {plural(int(item.get('logons', 0)), 'log-in')}",
                    f" from {when(item.get('from'))} to {when(item.get('to'))}, ",
                    strong(item.get("by_owner", 0)),
                    f" by the owner{reasons}, ",
                    strong(len(item.get("unexplained") or [])),
                    " unexplained, ",
                    strong(len(item.get("failed_attempts") or [])),
                    f" failed attempts; {cover}. Verdict: ",
                    strong(VERDICT_TEXT.get(str(item.get("verdict")), str(item.get("verdict")))),
                    ".",
                    refs=_refs(item.get("unexplained") or [])
                    + _refs(item.get("failed_attempts") or [])
                    + self._credential_refs(item.get("system"), item.get("account")),
                )
            )
        for item in misuse.get("not_assessed") or []:
            out.append(
                self.say(
                    code(item.get("account")),
                    " on ",
                    code(item.get("system")),
                    ": not assessed (",
                    Part(_clean(str(item.get("reason")))),
                    "); it is to be changed regardless.",
                    refs=self._credential_refs(item.get("system"), item.get("account")),
                )
            )
        return out

    def summary_notifications(self) -> list[Statement]:
        section = self.section("notifications")
        if not section:
            return []
        recipients = section.get("recipients") or []
        by_reason: dict[str, list[Mapping[str, Any]]] = {}
        for recipient in recipients:
            for reason in recipient.get("reasons") or []:
                by_reason.setdefault(str(reason), []).append(recipient)
        out = [
            self.say(
                strong(len(recipients)),
                " people are to be notified: ",
                strong(len(by_reason.get("exposed_address", []))),
                " holders of exposed e-mail addresses, ",
                strong(len(by_reason.get("system_owner", []))),
                " owners of systems whose credentials were exposed, ",
                strong(len(by_reason.get("same_email_recipient", []))),
                " other recipients of the same e-mail.",
                refs=_refs(by_reason.get("same_email_recipient", [])),
            )
        ]
        for owner in by_reason.get("system_owner", []):
            name = owner.get("name")
            out.append(
                self.say(
                    "System owner ",
                    *([code(name), " "] if name else []),
                    code(owner.get("address")),
                    ": ",
                    code(_join(str(e) for e in owner.get("exposed") or [])),
                    ".",
                    refs=owner.get("evidence") or [],
                )
            )
        return out

    def summary_entry(self) -> list[Statement]:
        entry, window = self.section("entry"), self.section("window")
        out: list[Statement] = []
        for email in entry.get("emails") or []:
            attachments: list[object] = []
            for number, attachment in enumerate(email.get("attachments") or []):
                attachments += [
                    "; " if number else " It carried ",
                    code(attachment.get("filename")),
                    f" ({attachment.get('verdict')}",
                    *(
                        [": ", code(", ".join(attachment.get("indicators") or []))]
                        if attachment.get("indicators")
                        else []
                    ),
                    *(
                        [", exploit ", code(", ".join(attachment.get("cves")))]
                        if attachment.get("cves")
                        else []
                    ),
                    ")",
                ]
            opened = email.get("opened_at")
            out.append(
                self.say(
                    f"On {when(email.get('received'))} an e-mail with the subject ",
                    code(email.get("subject") or "(none)"),
                    " from ",
                    code(email.get("sender")),
                    " reached ",
                    code(", ".join(email.get("recipients") or [])),
                    f" (verdict: {email.get('verdict')}).",
                    *attachments,
                    "." if attachments else "",
                    f" It was opened on {when(opened)}." if opened else "",
                    refs=email.get("evidence") or [],
                )
            )
        first = entry.get("first_malicious_activity")
        if isinstance(first, Mapping):
            out.append(
                self.say(
                    f"First malicious activity, {when(first.get('time'))} on ",
                    code(first.get("host")),
                    f" ({first.get('kind')}): ",
                    code(first.get("what")),
                    ".",
                    refs=first.get("evidence") or [],
                )
            )
        for software in entry.get("vulnerable_software") or []:
            fixed = software.get("fixed_version")
            out.append(
                self.say(
                    code(software.get("host")),
                    " ran ",
                    code(f"{software.get('product')} {software.get('version')}"),
                    ", out of date and vulnerable to ",
                    code(", ".join(software.get("cves") or [])),
                    " (known exploited)" if software.get("known_exploited") else "",
                    f"; match {software.get('match')}, {software.get('confidence')}",
                    "; fixed in " if fixed else "",
                    code(fixed) if fixed else "",
                    ".",
                    refs=software.get("evidence") or [],
                )
            )
        if window:
            basis = _join(str(b) for b in window.get("basis") or [])
            out.append(
                self.say(
                    "The host was under the attacker's control",
                    f" from {when(window.get('start'))} to {when(window.get('end'))}",
                    f" (basis: {basis})." if basis else ".",
                    refs=list(window.get("start_evidence") or [])
                    + list(window.get("end_evidence") or []),
                    limit=2 * MAX_NOTES,
                )
            )
        return out

    def summary_countermeasures(self) -> list[Statement]:
        measures = list(self.findings.get("countermeasures") or [])
        if not measures:
            return []
        done = [m for m in measures if m.get("status") == "done"]
        out = [
            self.say(
                strong(len(done)),
                " of ",
                strong(len(measures)),
                " countermeasures are done; ",
                strong(len(measures) - len(done)),
                " pending.",
            )
        ]
        for measure in measures:
            out.append(self._measure(measure))
        return out

    def _measure(self, measure: Mapping[str, Any]) -> Statement:
        status = str(measure.get("status"))
        note = measure.get("note")
        return self.say(
            Part(status.upper(), "strong"),
            f" {measure.get('action')} ",
            code(measure.get("target")),
            *([" (", Part(_clean(str(note))), ")"] if note else []),
            ".",
            refs=measure.get("evidence") or [],
        )

    # detail sections -------------------------------------------------------------------

    def _status(self, section: Section, data: Mapping[str, Any]) -> Section:
        section.status = data.get("status")
        section.not_covered = [_clean(str(x)) for x in data.get("not_covered") or []]
        section.notes = [_clean(str(x)) for x in data.get("notes") or []]
        return section

    def _table(
        self, title: str, headers: list[str], rows: list[list[Statement]], collapsed: bool = False
    ) -> Block:
        return Block(
            "table",
            title=title,
            headers=headers,
            rows=rows[:MAX_TABLE_ROWS],
            omitted=max(0, len(rows) - MAX_TABLE_ROWS),
            collapsed=collapsed,
        )

    def entry_section(self) -> Section:
        entry = self.section("entry")
        section = self._status(Section("entry", "How did it get in?", "entry"), entry)
        section.blocks.append(Block("list", statements=self.summary_entry()))
        rows = []
        for email in entry.get("emails") or []:
            for attachment in email.get("attachments") or [{}]:
                rows.append(
                    [
                        self.cell(when(email.get("received")), evidence=False),
                        self.cell(email.get("sender")),
                        self.cell(email.get("subject")),
                        self.cell(attachment.get("filename")),
                        self.cell(attachment.get("sha256")),
                        self.cell(
                            attachment.get("verdict"), email.get("evidence") or [], evidence=False
                        ),
                    ]
                )
        if rows:
            section.blocks.append(
                self._table(
                    "E-mails",
                    ["received", "sender", "subject", "attachment", "SHA-256", "verdict"],
                    rows,
                )
            )
        return section

    def window_section(self, events_block: list[Block]) -> Section:
        window = self.section("window")
        section = self._status(
            Section("window", "When was the host under the attacker's control?", "window"), window
        )
        rows = [
            [
                self.cell(h.get("host")),
                self.cell(when(h.get("start")), evidence=False),
                self.cell(when(h.get("end")), evidence=False),
            ]
            for h in window.get("by_host") or []
        ]
        if rows:
            section.blocks.append(self._table("Window per host", ["host", "start", "end"], rows))
        section.blocks.extend(events_block)
        return section

    def exposure_section(self) -> Section:
        exposure = self.section("exposure")
        section = self._status(Section("exposure", "What leaked?", "exposure"), exposure)
        section.blocks.append(Block("list", statements=self.summary_leaked()))
        files = (exposure.get("files") or {}).get("items") or []
        section.blocks.append(
            self._table(
                "Files labelled or displayed",
                ["host", "path", "labels", "displayed"],
                [
                    [
                        self.cell(f.get("host")),
                        self.cell(f.get("path")),
                        self.cell(", ".join(f.get("labels") or [])),
                        self.cell(
                            "yes" if f.get("displayed") else "no",
                            f.get("evidence") or [],
                            evidence=False,
                        ),
                    ]
                    for f in files
                ],
            )
        )
        section.blocks.append(
            self._table(
                "On screen during the infection",
                ["first shown", "kind", "what", "labels", "times"],
                [
                    [
                        self.cell(when(d.get("time")), evidence=False),
                        self.cell(d.get("kind"), evidence=False),
                        self.cell(d.get("what")),
                        self.cell(", ".join(d.get("labels") or [])),
                        self.cell(d.get("times"), d.get("evidence") or [], evidence=False),
                    ]
                    for d in exposure.get("displayed") or []
                ],
            )
        )
        section.blocks.append(
            self._table(
                "Credentials",
                ["system", "account", "how", "exposed from", "rotated"],
                [
                    [
                        self.cell(c.get("system")),
                        self.cell(c.get("account")),
                        self.cell(c.get("how"), evidence=False),
                        self.cell(when(c.get("exposed_from")), evidence=False),
                        self.cell(
                            when(c.get("rotated_at")) if c.get("rotated_at") else "not yet",
                            c.get("evidence") or [],
                            evidence=False,
                        ),
                    ]
                    for c in exposure.get("credentials") or []
                ],
            )
        )
        return section

    def misuse_section(self) -> Section:
        misuse = self.section("misuse")
        section = self._status(
            Section("misuse", "Did anyone but the owner get in?", "misuse"), misuse
        )
        section.blocks.append(Block("list", statements=self.summary_misuse()))
        bars = []
        for item in misuse.get("by_credential") or []:
            parts = [(str(k), int(n)) for k, n in sorted((item.get("attributed") or {}).items())]
            attributed = sum(n for _, n in parts)
            if int(item.get("by_owner", 0)) > attributed:
                parts.append(("owner (other)", int(item.get("by_owner", 0)) - attributed))
            parts.append(("unexplained", len(item.get("unexplained") or [])))
            parts.append(("failed attempts", len(item.get("failed_attempts") or [])))
            bars.append(Bar(_clean(f"{item.get('system')}: {item.get('account')}"), parts))
        svg = bars_svg(bars)
        if svg:
            section.blocks.append(
                Block(
                    "chart",
                    title="Log-ins per credential, by who made them",
                    svg=Markup(svg),  # built in chart.py, every label escaped
                    lines=[
                        f"{b.label}: " + ", ".join(f"{k} {n}" for k, n in b.parts) for b in bars
                    ],
                )
            )
        rows = []
        for item in misuse.get("by_credential") or []:
            for logon in list(item.get("unexplained") or []) + list(
                item.get("failed_attempts") or []
            ):
                rows.append(
                    [
                        self.cell(when(logon.get("time")), evidence=False),
                        self.cell(logon.get("system")),
                        self.cell(logon.get("account")),
                        self.cell(logon.get("outcome"), evidence=False),
                        self.cell(logon.get("src_ip") or logon.get("src_host")),
                        self.cell(
                            ", ".join(logon.get("reasons") or []), logon.get("evidence") or []
                        ),
                    ]
                )
        if rows:
            section.blocks.append(
                self._table(
                    "Unexplained log-ins and failed attempts",
                    ["time", "system", "account", "outcome", "source", "reasons"],
                    rows,
                )
            )
        gaps = [
            [
                self.cell(item.get("system")),
                self.cell(when(gap.get("from")), evidence=False),
                self.cell(when(gap.get("to")), evidence=False),
                self.cell(gap.get("kind"), evidence=False),
            ]
            for item in misuse.get("by_credential") or []
            for gap in (item.get("coverage") or {}).get("gaps") or []
        ]
        if gaps:
            section.blocks.append(
                self._table(
                    "Coverage gaps (logs to ask for)", ["system", "from", "to", "kind"], gaps
                )
            )
        return section

    def campaign_section(self) -> Section:
        campaign = self.section("campaign")
        section = self._status(Section("campaign", "Who else is at risk?", "campaign"), campaign)
        section.blocks.append(
            self._table(
                "Other recipients of the same e-mail",
                ["address", "message", "match"],
                [
                    [
                        self.cell(r.get("address")),
                        self.cell(r.get("message_id")),
                        self.cell(
                            ", ".join(r.get("match") or []), r.get("evidence") or [], evidence=False
                        ),
                    ]
                    for r in campaign.get("other_recipients") or []
                ],
            )
        )
        section.blocks.append(
            self._table(
                "Other hosts that contacted the indicators",
                ["host", "indicator"],
                [
                    [
                        self.cell(h.get("host")),
                        self.cell(h.get("indicator"), h.get("evidence") or []),
                    ]
                    for h in campaign.get("other_hosts_contacting_iocs") or []
                ],
            )
        )
        section.blocks.append(
            self._table(
                "Other hosts with the vulnerable software",
                ["host", "product", "version", "CVEs"],
                [
                    [
                        self.cell(v.get("host")),
                        self.cell(v.get("product")),
                        self.cell(v.get("version")),
                        self.cell(", ".join(v.get("cves") or []), v.get("evidence") or []),
                    ]
                    for v in campaign.get("vulnerable_hosts") or []
                ],
            )
        )
        return section

    def notifications_section(self) -> Section:
        notifications = self.section("notifications")
        section = self._status(
            Section("notifications", "Whom must we tell?", "notifications"), notifications
        )
        section.blocks.append(Block("list", statements=self.summary_notifications()))
        section.blocks.append(
            self._table(
                "Everyone to notify (evidence per address in findings.json)",
                ["address", "name", "reasons", "exposed"],
                [
                    [
                        self.cell(r.get("address")),
                        self.cell(r.get("name")),
                        self.cell(", ".join(r.get("reasons") or []), evidence=False),
                        self.cell(", ".join(r.get("exposed") or [])),
                    ]
                    for r in notifications.get("recipients") or []
                ],
                collapsed=True,
            )
        )
        return section

    def countermeasures_section(self) -> Section:
        section = Section("countermeasures", "What must be done now?", "countermeasures")
        section.blocks.append(
            self._table(
                "Countermeasures",
                ["status", "action", "target", "note"],
                [
                    [
                        self.cell(strong(str(m.get("status")).upper()), m.get("evidence") or []),
                        self.cell(m.get("action"), evidence=False),
                        self.cell(m.get("target")),
                        self.cell(m.get("note"), evidence=False),
                    ]
                    for m in self.findings.get("countermeasures") or []
                ],
            )
        )
        return section


def _events_blocks(store_out_dir: Path, findings: Mapping[str, Any]) -> list[Block]:
    events = daily_events(store_out_dir)
    window = findings.get("window") or {}
    if events.error or not events.days:
        return [
            Block(
                "text",
                title="Events per day",
                lines=[events.error or "the store has no timed events"],
            )
        ]
    return [
        Block(
            "chart",
            title="Events per day in the store (UTC), infection window shaded",
            svg=Markup(events_svg(events, window.get("start"), window.get("end"))),
            lines=events_text(events),
        )
    ]


def build_model(findings: Mapping[str, Any], store_out_dir: Path) -> dict[str, Any]:
    """Everything the templates show, with citations numbered in reading order."""
    builder = _Builder(findings)
    sections = {
        key: builder.section(key)
        for key in ("entry", "window", "exposure", "misuse", "campaign", "notifications")
    }

    def status(key: str) -> str | None:
        value = sections[key].get("status")
        return str(value) if value else None

    summary = [
        SummaryItem("What leaked", "exposure", status("exposure"), builder.summary_leaked()),
        SummaryItem(
            "Did anyone else get in?", "misuse", status("misuse"), builder.summary_misuse()
        ),
        SummaryItem(
            "Whom to notify",
            "notifications",
            status("notifications"),
            builder.summary_notifications(),
        ),
        SummaryItem("How it got in", "entry", status("entry"), builder.summary_entry()),
        SummaryItem("Countermeasures", "countermeasures", None, builder.summary_countermeasures()),
    ]
    detail = [
        builder.entry_section(),
        builder.window_section(_events_blocks(store_out_dir, findings)),
        builder.exposure_section(),
        builder.misuse_section(),
        builder.campaign_section(),
        builder.notifications_section(),
        builder.countermeasures_section(),
    ]
    inputs = [
        {
            "path": _clean(str(i.get("path", ""))),
            "format": _clean(str(i.get("format", ""))),
            "role": _clean(str(i.get("role", ""))),
            "status": _clean(str(i.get("status", ""))),
            "records": i.get("records", 0),
            "errors": i.get("errors", 0),
            "warnings": i.get("warnings", 0),
        }
        for i in findings.get("inputs") or []
    ]
    thresholds: list[Threshold] = collect_thresholds()
    return {
        "case": _clean(str(findings.get("case", ""))),
        "generated_at": when(findings.get("generated_at")),
        "tool_version": _clean(str(findings.get("tool_version", ""))),
        "custody_head": _clean(str(findings.get("custody_head", ""))),
        "summary": summary,
        "sections": detail,
        "inputs": inputs,
        "thresholds": thresholds,
        "citations": builder.citations.entries,
        "status_text": STATUS_TEXT,
        "csp": CSP,
    }


# --- templates ------------------------------------------------------------------------------


def md_text(value: object) -> str:
    """Plain text safe in Markdown: specials escaped, no HTML, no line breaks.

    >>> md_text("<script>alert(1)</script> *x*")
    '\\\\<script\\\\>alert(1)\\\\</script\\\\> \\\\*x\\\\*'
    """
    return _MD_SPECIAL.sub(r"\\\1", _clean(str(value)))


def md_code(value: object, in_table: bool = False) -> str:
    """A code span: shown literally, never turned into a link or HTML.

    >>> md_code("a`b")
    '`` a`b ``'
    """
    text = _clean(str(value))
    if in_table:
        text = text.replace("|", "\\|")
    runs = [len(run) for run in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    padded = (
        f" {text} " if fence != "`" or text.startswith((" ", "`")) or text.endswith("`") else text
    )
    return f"{fence}{padded}{fence}"


def environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("breachscope.report", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=True
        )
        if autoescape
        else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_text
    env.filters["mdcode"] = md_code
    return env


def render_markdown(model: Mapping[str, Any]) -> str:
    return environment(autoescape=False).get_template("report.md.j2").render(**model)


def render_html(model: Mapping[str, Any]) -> str:
    return environment(autoescape=True).get_template("report.html.j2").render(**model)


def write_report(out_dir: Path, findings: dict[str, Any], store_out_dir: Path) -> list[Path]:
    """Write ``OUT/report.md`` and ``OUT/report.html``; return their paths."""
    model = build_model(findings, store_out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in ((REPORT_MD, render_markdown(model)), (REPORT_HTML, render_html(model))):
        path = out_dir / name
        tmp = path.with_name(name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
