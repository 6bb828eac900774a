"""Who else is at risk? The other recipients of the same e-mail, the other hosts that contacted
the indicators, the other hosts with vulnerable software.

Needs: the entry section (its suspect e-mails, and the vulnerability matches that are not on
the entry path), ``messages``, ``attachments`` and ``deliveries`` (other recipients),
``network`` and ``iocs`` (other hosts), ``software`` and ``vulns`` (read through entry).
Rules (rules.md, Entry, campaign, notifications, countermeasures): the same e-mail is the same
Message-ID, or the same attachment SHA-256, or the same sender and subject within
`SAME_EMAIL_WINDOW`; vulnerability matches that are not on the entry path go to
``campaign.vulnerable_hosts``. Output: findings.schema.json ``campaign``.

Thresholds (quoted in the report's method notes, see `THRESHOLDS`):

- `SAME_EMAIL_WINDOW` (72 h): a message from the same sender with the same subject is the same
  e-mail when its time is within this of the suspect message's time (either side).
- `MAX_EVIDENCE_REFS` (20): each item cites at most this many records, the earliest first.

What is decided here where the rules are silent:

- **Seeds.** The suspect e-mails are ``entry.emails``. Their attachments that count for "same
  SHA-256" are those judged malicious or suspicious; a seed without such an attachment (known
  malicious by Message-ID, or listed for an IOC) contributes all its attachments. A clean logo
  or signature image would otherwise tie unrelated mail together.
- **Same sender and subject.** The sender compares lower-cased, the subject with surrounding
  white space stripped and lower-cased; a message without a time is not "within 72 h".
- **Other recipients** are every recipient of a copy (a ``messages`` row in any mailbox) and
  every ``deliveries`` recipient of one of those Message-IDs, normalised, minus the subject
  users' addresses. A delivery whose status is one of `NOT_DELIVERED` never reached its
  recipient and is left out. One item per (address, Message-ID); ``match`` says which rules
  tied that copy to a suspect e-mail.
- **Other hosts.** A network row is from another host when neither its host nor its
  ``src_ip`` identifies a subject host; the row's source is its ``host``, else its ``src_ip``
  (a proxy item declared with ``host:`` would name the proxy: declare proxies with
  ``system:``). Only network indicators (`NETWORK_KINDS`) are matched, against the row's URL,
  destination host and destination IP, over the whole case (not only the window). Beaconing
  destinations that are no indicator are not followed here (countermeasures blocks them).
  One item per (source, indicator), with the number of records and the first and last.
- **Vulnerable hosts** are entry's other matches, grouped as entry groups its own (host,
  product, version).
- **Status.** ``partial`` names each part that lacks rows: no ``deliveries`` (without mail
  gateway logs, Bcc recipients and copies in mailboxes outside the case are not seen), no
  network rows from other hosts, no ``iocs``, no ``software`` or ``vulns``. ``not_analysed``
  when none of the three parts could run.

Not covered: recipients of look-alike e-mails that share neither Message-ID, attachment nor
sender and subject (a reworded lure); other hosts' contacts seen only in their own logs when
those are not in the case; vulnerable software missing from the inventory.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import ibis

from breachscope.analyses import Context, Ref, fetch_rows, fetch_value, iso, refs_finding, utc
from breachscope.analyses.entry import HARMFUL, Entry, SuspectMessage, software_findings
from breachscope.detect.iocs import matches
from breachscope.identity import normalize_address

SAME_EMAIL_WINDOW = dt.timedelta(hours=72)
MAX_EVIDENCE_REFS = 20
THRESHOLDS: dict[str, Any] = {
    "SAME_EMAIL_WINDOW": f"{int(SAME_EMAIL_WINDOW.total_seconds() // 3600)} h",
    "MAX_EVIDENCE_REFS": MAX_EVIDENCE_REFS,
}
NOT_DELIVERED = ("rejected", "bounced", "blocked", "quarantined", "dropped", "failed", "deferred")
NETWORK_KINDS = ("url", "domain", "ipv4", "ipv6", "cidr")
KEY_CHUNK = 1_000


# --------------------------------------------------------------------------- results


@dataclass
class OtherRecipient:
    address: str
    message_id: str
    match: list[str]
    refs: list[Ref]

    def as_finding(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "message_id": self.message_id,
            "match": self.match,
            "evidence": refs_finding(self.refs),
        }


@dataclass
class OtherHost:
    host: str
    indicator: str
    first: dt.datetime
    last: dt.datetime
    contacts: int
    refs: list[Ref]

    def as_finding(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "indicator": self.indicator,
            "first": iso(self.first),
            "last": iso(self.last),
            "contacts": self.contacts,
            "evidence": refs_finding(self.refs),
        }


@dataclass
class Campaign:
    status: str
    not_covered: list[str] = field(default_factory=list)
    other_recipients: list[OtherRecipient] = field(default_factory=list)
    other_hosts: list[OtherHost] = field(default_factory=list)
    vulnerable_hosts: list[dict[str, Any]] = field(default_factory=list)
    senders: set[str] = field(default_factory=set)
    """Senders of the suspect e-mails and of their copies (never to be notified)."""

    def as_finding(self) -> dict[str, Any]:
        return {
            "other_recipients": [r.as_finding() for r in self.other_recipients],
            "other_hosts_contacting_iocs": [h.as_finding() for h in self.other_hosts],
            "vulnerable_hosts": self.vulnerable_hosts,
            "status": self.status,
            "not_covered": self.not_covered,
        }


# --------------------------------------------------------------------------- helpers


def _rows(expr: Any) -> list[dict[str, Any]]:
    return fetch_rows(expr)


def _chunks(values: Iterable[str]) -> list[list[str]]:
    ordered = sorted(set(values))
    return [ordered[i : i + KEY_CHUNK] for i in range(0, len(ordered), KEY_CHUNK)]


def _any(predicates: Iterable[Any]) -> Any:
    found = None
    for predicate in predicates:
        found = predicate if found is None else found | predicate
    return found


def _bounded(refs: Iterable[tuple[Any, Ref]]) -> list[Ref]:
    """The earliest `MAX_EVIDENCE_REFS` distinct refs of (time, ref) pairs."""
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    first: dict[Ref, dt.datetime] = {}
    for moment, ref in refs:
        when = moment or far
        if ref not in first or when < first[ref]:
            first[ref] = when
    ordered = sorted(first.items(), key=lambda item: (item[1], item[0]))
    return [ref for ref, _ in ordered[:MAX_EVIDENCE_REFS]]


# --------------------------------------------------------------------------- same e-mail


def _seed_hashes(seed: SuspectMessage) -> set[str]:
    harmful = {a.sha256 for a in seed.attachments if a.verdict in HARMFUL and a.sha256}
    return harmful or {a.sha256 for a in seed.attachments if a.sha256}


def _same_email_ids(ctx: Context, seeds: list[SuspectMessage]) -> dict[str, set[str]]:
    """Message-ID -> how it is tied to a seed (``message_id``, ``attachment_sha256``,
    ``sender_subject``)."""
    ties: dict[str, set[str]] = defaultdict(set)
    for seed in seeds:
        ties[seed.message_id].add("message_id")
    hashes = sorted({h.lower() for s in seeds for h in _seed_hashes(s)})
    if hashes:
        attachments = ctx.table("attachments")
        shared = attachments.filter(
            attachments.sha256.lower().isin(hashes) & attachments.message_id.notnull()
        )
        for row in _rows(shared.select("message_id").distinct()):
            ties[row["message_id"]].add("attachment_sha256")
    messages = ctx.table("messages")
    alike = []
    for seed in seeds:
        if not seed.sender or seed.subject is None or seed.received is None:
            continue
        alike.append(
            (messages.sender.lower() == seed.sender.lower())
            & (messages.subject.strip().lower() == seed.subject.strip().lower())
            & messages.time.between(
                seed.received - SAME_EMAIL_WINDOW, seed.received + SAME_EMAIL_WINDOW
            )
        )
    predicate = _any(alike)
    if predicate is not None:
        found = messages.filter(ibis.coalesce(predicate, False) & messages.message_id.notnull())
        for row in _rows(found.select("message_id").distinct()):
            ties[row["message_id"]].add("sender_subject")
    return ties


def _other_recipients(
    ctx: Context, seeds: list[SuspectMessage]
) -> tuple[list[OtherRecipient], set[str]]:
    ties = _same_email_ids(ctx, seeds)
    subject = ctx.subject_addresses
    named: dict[tuple[str, str], list[tuple[Any, Ref]]] = defaultdict(list)
    senders = {normalize_address(s.sender) for s in seeds if s.sender} - {None}
    messages, deliveries = ctx.table("messages"), ctx.table("deliveries")
    for chunk in _chunks(ties):
        copies = messages.filter(messages.message_id.isin(chunk)).select(
            "message_id", "time", "sender", "recipients", "evidence_id", "record"
        )
        for row in _rows(copies):
            sender = normalize_address(row["sender"] or "")
            if sender:
                senders.add(sender)
            ref = ctx.ref(row["evidence_id"], row["record"])
            for raw in row["recipients"] or []:
                address = normalize_address(raw or "")
                if address and address not in subject:
                    named[(address, row["message_id"])].append((row["time"], ref))
        delivered = deliveries.filter(
            deliveries.message_id.isin(chunk)
            & (deliveries.status.isnull() | ~deliveries.status.lower().isin(NOT_DELIVERED))
        ).select("message_id", "time", "recipient", "evidence_id", "record")
        for row in _rows(delivered):
            address = normalize_address(row["recipient"] or "")
            if address and address not in subject:
                ref = ctx.ref(row["evidence_id"], row["record"])
                named[(address, row["message_id"])].append((row["time"], ref))
    found = [
        OtherRecipient(address, message_id, sorted(ties[message_id]), _bounded(refs))
        for (address, message_id), refs in sorted(named.items())
    ]
    return found, {s for s in senders if s}


# --------------------------------------------------------------------------- other hosts


@dataclass
class _Indicators:
    """Network indicators indexed for matching many observed destinations."""

    domains: set[str] = field(default_factory=set)
    ips: set[str] = field(default_factory=set)
    cidrs: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, Any]]) -> _Indicators:
        found = cls()
        for row in rows:
            kind, value = row["kind"], row["value"]
            if not value:
                continue
            if kind == "domain":
                found.domains.add(value.lower())
            elif kind in ("ipv4", "ipv6"):
                found.ips.add(value.lower())
            elif kind == "cidr":
                found.cidrs.append(value)
            elif kind == "url":
                found.urls.append(value)
        found.cidrs.sort()
        found.urls.sort()
        return found

    def __bool__(self) -> bool:
        return bool(self.domains or self.ips or self.cidrs or self.urls)

    def for_host(self, host: str | None) -> str | None:
        """The indicator a destination host name or IP matches, else None."""
        if not host:
            return None
        text = host.strip().lower().rstrip(".")
        if text in self.ips and matches(_ip_kind(text), text, text):
            return text
        labels = text.split(".")
        for start in range(len(labels) - 1):
            candidate = ".".join(labels[start:])
            if candidate in self.domains and matches("domain", candidate, text):
                return candidate
        for cidr in self.cidrs:
            if matches("cidr", cidr, text):
                return cidr
        return None

    def for_url(self, url: str | None) -> str | None:
        if not url:
            return None
        return next((u for u in self.urls if matches("url", u, url)), None)


def _ip_kind(text: str) -> str:
    return "ipv6" if ":" in text else "ipv4"


def _cidr_prefix(cidr: str) -> str | None:
    """A string every address of an IPv4 range starts with (its whole octets), for the engine."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None
    if network.version != 4 or network.prefixlen < 8:
        return None
    octets = str(network.network_address).split(".")[: network.prefixlen // 8]
    return ".".join(octets) + "."


def _other_source(ctx: Context, network: Any) -> Any:
    subject = ibis.coalesce(ctx.subject_source_filter(network), False)
    return ~subject & (network.host.notnull() | network.src_ip.notnull())


def _other_hosts(ctx: Context, indicators: _Indicators) -> list[OtherHost]:
    network = ctx.table("network")
    others = network.filter(_other_source(ctx, network) & network.time.notnull())
    others = others.mutate(_dh=others.dst_host.lower())
    # Narrow to matched destinations: distinct (host, IP) pairs are few next to the rows.
    pairs = _rows(others.select("_dh", "dst_ip").distinct())
    hosts = sorted({p["_dh"] for p in pairs if indicators.for_host(p["_dh"])})
    ips = sorted({p["dst_ip"] for p in pairs if indicators.for_host(p["dst_ip"])})
    urls: list[str] = []
    if indicators.urls:
        url_hosts = sorted({_url_host(u) for u in indicators.urls} - {""})
        near = others.filter(_any(others.url.lower().contains(h) for h in url_hosts))
        urls = sorted(
            {r["url"] for r in _rows(near.select("url").distinct()) if indicators.for_url(r["url"])}
        )
    wanted = [
        predicate
        for values, column in ((hosts, others._dh), (ips, others.dst_ip), (urls, others.url))
        for chunk in _chunks(values)
        for predicate in [column.isin(chunk)]
    ]
    if not wanted:
        return []
    hits = others.filter(ibis.coalesce(_any(wanted), False))
    null_url = ibis.null().cast("string")
    hits = hits.mutate(
        _source=ibis.coalesce(hits.host, hits.src_ip),
        _url=ibis.cases((hits.url.isin(urls), hits.url), else_=null_url) if urls else null_url,
    )
    keys = ["_source", "_dh", "dst_ip", "_url"]
    whole = ibis.window(group_by=[hits[k] for k in keys])
    ordered = ibis.window(
        group_by=[hits[k] for k in keys], order_by=[hits.time, hits.evidence_id, hits.record]
    )
    ranked = hits.mutate(
        _rank=ibis.row_number().over(ordered),
        _contacts=hits.record.count().over(whole),
        _first=hits.time.min().over(whole),
        _last=hits.time.max().over(whole),
    )
    chosen = ranked.filter(ranked._rank < MAX_EVIDENCE_REFS).select(
        *keys, "_contacts", "_first", "_last", "time", "evidence_id", "record"
    )
    groups: dict[tuple[str, str], dict[tuple[Any, ...], dict[str, Any]]] = defaultdict(dict)
    refs: dict[tuple[str, str], list[tuple[Any, Ref]]] = defaultdict(list)
    for row in _rows(chosen):
        indicator = (
            indicators.for_url(row["_url"])
            or indicators.for_host(row["_dh"])
            or indicators.for_host(row["dst_ip"])
        )
        if indicator is None:
            continue
        item = (row["_source"], indicator)
        groups[item][tuple(row[k] for k in keys)] = row
        refs[item].append((row["time"], ctx.ref(row["evidence_id"], row["record"])))
    found = [
        OtherHost(
            host=source,
            indicator=indicator,
            first=min(utc(g["_first"]) for g in groups[(source, indicator)].values()),
            last=max(utc(g["_last"]) for g in groups[(source, indicator)].values()),
            contacts=sum(int(g["_contacts"]) for g in groups[(source, indicator)].values()),
            refs=_bounded(refs[(source, indicator)]),
        )
        for source, indicator in groups
    ]
    return sorted(found, key=lambda h: (h.host.lower(), h.indicator, h.first))


def _url_host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1].lower()


# --------------------------------------------------------------------------- entry point


def analyse(ctx: Context, entry: Entry) -> Campaign:
    """The campaign section per rules.md, from the entry section's suspects and matches."""
    not_covered: list[str] = []
    ran = 0

    recipients: list[OtherRecipient] = []
    senders: set[str] = set()
    if entry.emails:
        ran += 1
        recipients, senders = _other_recipients(ctx, entry.emails)
        if not ctx.has_rows("deliveries"):
            not_covered.append(
                "other recipients: no deliveries rows (mail gateway logs), so Bcc recipients "
                "and copies in mailboxes outside the case are not seen"
            )
    else:
        not_covered.append("other recipients: no suspect e-mail in the entry section to follow")

    iocs = ctx.table("iocs")
    rows = _rows(iocs.filter(iocs.kind.isin(NETWORK_KINDS)).select("kind", "value").distinct())
    indicators = _Indicators.from_rows(rows)
    hosts: list[OtherHost] = []
    if not indicators:
        not_covered.append("other hosts contacting indicators: no network indicators (iocs)")
    else:
        network = ctx.table("network")
        if fetch_value(network.filter(_other_source(ctx, network)).limit(1).count()):
            ran += 1
            hosts = _other_hosts(ctx, indicators)
        else:
            not_covered.append(
                "other hosts contacting indicators: no network rows from hosts other than the "
                "subject's (proxy, firewall or Zeek logs)"
            )

    missing = [t for t in ("software", "vulns") if not ctx.has_rows(t)]
    if missing:
        not_covered.append(
            "vulnerable hosts: " + ", ".join(f"no {t} rows in the evidence" for t in missing)
        )
    else:
        ran += 1
    if ran == 0:
        status = "not_analysed"
    elif not_covered:
        status = "partial"
    else:
        status = "analysed"
    return Campaign(
        status=status,
        not_covered=not_covered,
        other_recipients=recipients,
        other_hosts=hosts,
        vulnerable_hosts=software_findings(ctx, entry.other_vulnerable),
        senders=senders,
    )
