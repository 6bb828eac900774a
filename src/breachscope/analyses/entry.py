"""How did it get in? Which e-mail, which attachment, which out-of-date software?

Needs: messages and attachments (with stored attachment content), iocs, software and vulns;
the window (its start and the trace that set it).
Rules (rules.md, Entry): attachment verdicts come from `breachscope.detect.attachments`.
``entry.emails`` lists messages to a subject user received before ``window.start`` that are
known-malicious (``known.malicious_message_ids``), carry an attachment judged malicious or
suspicious, carry the attachment opened at ``window.start``, or contain an IOC (sender or
reply-to in an indicator's domain, an attachment hash among the indicators). Known-clean messages
are never listed. ``entry.vulnerable_software`` lists matches on subject hosts whose CVEs meet
the attachment's CVE hints or whose product opens the attachment's type; other matches belong
to the campaign section.
Not covered: messages only in mail systems whose logs are not in the case; attachments larger
than the mail reader keeps (listed by hash, judged by name only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from breachscope.analyses import Context, Ref, fetch_rows, iso, refs_finding
from breachscope.analyses.window import Contact, Window
from breachscope.detect.attachments import AttachmentVerdict, analyse_attachment
from breachscope.detect.iocs import matches
from breachscope.detect.vulns import VulnMatch, match_software
from breachscope.identity import host_key

HARMFUL = ("malicious", "suspicious")
# Which products open which attachment types (for "whose product opens the attachment's type").
OPENERS: dict[str, tuple[str, ...]] = {
    "rtf": ("office", "word"),
    "ole": ("office", "word", "excel", "powerpoint"),
    "ooxml": ("office", "word", "excel", "powerpoint"),
    "pdf": ("reader", "acrobat", "pdf"),
    "swf": ("flash",),
}
HASH_KINDS = ("md5", "sha1", "sha256", "sha512")
MATCH_ORDER = ("edition_sp", "exact_version", "version_range", "edition_any")
EDITION_MATCHES = ("edition_sp", "edition_any")


@dataclass
class SuspectMessage:
    """A message to a subject user with what was found about it."""

    message_id: str
    sender: str | None
    recipients: list[str]
    subject: str | None
    received: dt.datetime | None
    refs: list[Ref]
    attachments: list[AttachmentVerdict] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    opened_at: dt.datetime | None = None

    @property
    def verdict(self) -> str | None:
        if "known_malicious" in self.reasons or any(
            a.verdict == "malicious" for a in self.attachments
        ):
            return "malicious"
        if self.reasons:
            return "suspicious"
        return None

    def as_finding(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "message_id": self.message_id,
            "sender": self.sender or "",
            "recipients": sorted(self.recipients),
            "subject": self.subject or "",
            "received": iso(self.received),
            "verdict": self.verdict,
            "reasons": sorted(self.reasons),
            "attachments": [a.as_finding() for a in self.attachments],
            "evidence": refs_finding(self.refs),
        }
        if self.opened_at is not None:
            found["opened_at"] = iso(self.opened_at)
        return found


def subject_messages(ctx: Context) -> Any:
    """Ibis expression: messages in a subject user's mailbox or addressed to one."""
    messages = ctx.table("messages")
    addresses = sorted(ctx.subject_addresses)
    if not addresses:
        return messages.filter(messages.message_id.isnull() & messages.message_id.notnull())
    owned = messages.mailbox_owner.lower().isin(addresses)
    addressed = None
    for address in addresses:
        hit = messages.recipients.contains(address)
        addressed = hit if addressed is None else addressed | hit
    return messages.filter(owned | addressed)


def judge_messages(ctx: Context) -> list[SuspectMessage]:
    """Every message to a subject user that has an attachment or a reason to be listed,
    with each attachment judged once per hash."""
    iocs = fetch_rows(ctx.table("iocs").select("kind", "value").distinct())
    ioc_hashes = frozenset(i["value"].lower() for i in iocs if i["kind"] in HASH_KINDS)
    known = set(ctx.case.known.malicious_message_ids)
    messages = subject_messages(ctx)
    attachments = ctx.table("attachments")
    rows = fetch_rows(
        messages.select(
            "message_id",
            "sender",
            "reply_to",
            "recipients",
            "subject",
            "time",
            "evidence_id",
            "record",
        )
    )
    by_id: dict[str, SuspectMessage] = {}
    for row in rows:
        entry = by_id.get(row["message_id"])
        if entry is None:
            entry = by_id[row["message_id"]] = SuspectMessage(
                row["message_id"],
                row["sender"],
                list(row["recipients"] or []),
                row["subject"],
                row["time"],
                [],
            )
            if row["message_id"] in known:
                entry.reasons.append("known_malicious")
            for ioc in iocs:
                if ioc["kind"] in ("domain", "email") and any(
                    a and matches(ioc["kind"], ioc["value"], a)
                    for a in (row["sender"], row["reply_to"])
                ):
                    entry.reasons.append("ioc_sender")
                    break
        entry.refs.append(ctx.ref(row["evidence_id"], row["record"]))
    ids = sorted(by_id)
    attached = (
        fetch_rows(
            attachments.filter(attachments.message_id.isin(ids))
            .select("message_id", "filename", "sha256", "size")
            .distinct()
            .order_by(["message_id", "filename", "sha256"])
        )
        if ids
        else []
    )
    verdicts: dict[tuple[str | None, str], AttachmentVerdict] = {}
    for row in attached:
        sha = row["sha256"]
        if sha is None:
            continue
        key = (row["filename"], sha)
        if key not in verdicts:
            data = ctx.blob(sha) or b""
            verdicts[key] = analyse_attachment(data, row["filename"] or "", ioc_hashes)
        verdict = verdicts[key]
        entry = by_id[row["message_id"]]
        if all(
            a.sha256 != verdict.sha256 or a.filename != verdict.filename for a in entry.attachments
        ):
            entry.attachments.append(verdict)
        if verdict.verdict in HARMFUL and f"attachment_{verdict.verdict}" not in entry.reasons:
            entry.reasons.append(f"attachment_{verdict.verdict}")
    return [by_id[i] for i in ids]


def suspect_attachment_names(judged: list[SuspectMessage]) -> list[str]:
    """Names of attachments that may have started the infection (window start evidence)."""
    names = set()
    for entry in judged:
        for attachment in entry.attachments:
            if attachment.verdict in HARMFUL or "known_malicious" in entry.reasons:
                names.add(attachment.filename)
    return sorted(n for n in names if n)


def software_findings(ctx: Context, found: list[VulnMatch]) -> list[dict[str, Any]]:
    """Matches grouped per inventory row (host, product, version): one item, its CVEs."""
    groups: dict[tuple[str, str, str], list[VulnMatch]] = {}
    for match in found:
        groups.setdefault((match.host or "", match.product, match.version or ""), []).append(match)
    items = []
    for (host, product, version), matches_ in sorted(groups.items()):
        strongest = min(
            matches_, key=lambda m: (m.confidence != "confirmed", MATCH_ORDER.index(m.match))
        )
        refs = [
            ctx.ref(m.software.evidence_id, m.software.record)
            for m in matches_
            if m.software.evidence_id and m.software.record
        ]
        refs += [
            ctx.ref(r.evidence_id, r.record)
            for m in matches_
            for r in m.vuln_evidence
            if r.evidence_id and r.record
        ]
        fixed = sorted({m.fixed_version for m in matches_ if m.fixed_version})
        items.append(
            {
                "host": host,
                "product": product,
                "version": version,
                "cves": sorted({m.cve for m in matches_}),
                "fixed_version": fixed[-1]
                if fixed and strongest.match not in EDITION_MATCHES
                else None,
                "known_exploited": any(m.known_exploited for m in matches_),
                "match": strongest.match,
                "confidence": strongest.confidence,
                "evidence": refs_finding(refs),
            }
        )
    return items


@dataclass
class Entry:
    emails: list[SuspectMessage]
    vulnerable: list[VulnMatch]
    other_vulnerable: list[VulnMatch]
    window: Window
    status: str
    not_covered: list[str]
    vulnerable_findings: list[dict[str, Any]] = field(default_factory=list)

    def as_finding(self) -> dict[str, Any]:
        first = self.window.first
        found: dict[str, Any] = {
            "emails": [e.as_finding() for e in self.emails],
            "vulnerable_software": self.vulnerable_findings,
            "infected_at": iso(self.window.start),
            "first_malicious_activity": None,
            "status": self.status,
            "not_covered": self.not_covered,
        }
        if first is not None:
            found["first_malicious_activity"] = {
                "time": iso(first.time),
                "kind": first.code,
                "what": first.what,
                "host": first.host,
                "evidence": refs_finding(list(first.refs)),
            }
            found["infected_at_evidence"] = refs_finding(list(first.refs))
        return found


def vulnerable_software(ctx: Context) -> list[VulnMatch]:
    """Inventory rows matched to vulnerability data (CPE ranges, editions and service packs)."""
    software = ctx.table("software")
    vulns = ctx.table("vulns")
    software_rows = fetch_rows(software)
    if not software_rows:
        return []
    vuln_rows = fetch_rows(vulns)
    return match_software(software_rows, vuln_rows)


def analyse(
    ctx: Context, judged: list[SuspectMessage], window: Window, contacts: list[Contact]
) -> Entry:
    """The entry section per rules.md."""
    first = window.first
    opened_names = set()
    if first is not None and first.code in ("process_creation", "attachment_opened"):
        opened_names = {
            a.filename.casefold()
            for e in judged
            for a in e.attachments
            if a.filename and a.filename.casefold() in first.what.casefold()
        }
    emails = []
    for entry in judged:
        if (
            window.start is not None
            and entry.received is not None
            and entry.received > window.start
        ):
            continue
        if any(a.filename and a.filename.casefold() in opened_names for a in entry.attachments):
            entry.reasons.append("attachment_opened")
            entry.opened_at = first.time if first else None
        if entry.verdict is not None:
            emails.append(entry)
    emails.sort(key=lambda e: (e.received or dt.datetime.min.replace(tzinfo=dt.UTC), e.message_id))
    hints = {cve for e in emails for a in e.attachments for cve in a.cves}
    types = {a.type.split("-")[0] for e in emails for a in e.attachments if a.verdict in HARMFUL}
    openers = {word for t in types for word in OPENERS.get(t, ())}
    subject_hosts = ctx.subject_host_keys
    entry_matches: list[VulnMatch] = []
    other: list[VulnMatch] = []
    for match in vulnerable_software(ctx):
        on_subject = host_key(match.host or "") in subject_hosts
        relevant = match.cve in hints or any(w in match.product.casefold() for w in openers)
        (entry_matches if on_subject and relevant else other).append(match)
    missing = [t for t in ("messages", "attachments", "software", "vulns") if not ctx.has_rows(t)]
    if window.start is None and not emails:
        status = "not_analysed"
    elif missing:
        status = "partial"
    else:
        status = "analysed"
    _ = contacts
    return Entry(
        emails=emails,
        vulnerable=entry_matches,
        other_vulnerable=other,
        window=window,
        status=status,
        not_covered=[f"no {t} rows in the evidence" for t in missing],
        vulnerable_findings=software_findings(ctx, entry_matches),
    )
