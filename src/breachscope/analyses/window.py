"""From when to when was the host under the attacker's control?

Needs: processes, file_access, files (birth times), network and iocs; the suspect attachments
found by `breachscope.analyses.entry.suspect_attachments`.
Rules (rules.md, The window): ``start`` = ``known.infected_at`` when given, else the earliest of a
process creation whose command line names the opened attachment (``process_creation``), the
opening of the attachment on the host (``attachment_opened``: an LNK/recent-document entry or a
file listing's birth time) and the first contact with an IOC from a subject host
(``first_ioc_contact``). ``end`` = ``known.contained_at``, else the last IOC contact +
`BEACON_GRACE`, else null. With ``known`` times, evidence that disagrees is still listed in
``basis`` (after ``known``) with its evidence, so a reader sees both.
Not covered: hosts that are not subject hosts (they are campaign's), and infection without any
of these traces (then ``status`` says which tables were missing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from breachscope.analyses import Context, Ref, fetch_rows, iso, refs_finding
from breachscope.detect.iocs import matches
from breachscope.identity import host_key

BEACON_GRACE = dt.timedelta(hours=1)
PROCESS_COLUMNS = ("time", "host", "command_line", "image", "evidence_id", "record")


@dataclass(frozen=True)
class Contact:
    """One network record from a subject host that matches an indicator."""

    time: dt.datetime
    host: str
    destination: str
    indicator: str
    bytes_in: int | None
    bytes_out: int | None
    ref: Ref


@dataclass(frozen=True)
class Mark:
    """A dated trace that bounds the window, with the code of the rule that found it."""

    time: dt.datetime
    code: str
    host: str
    what: str
    refs: tuple[Ref, ...]


@dataclass
class Window:
    start: dt.datetime | None
    end: dt.datetime | None
    basis: list[str]
    status: str
    not_covered: list[str] = field(default_factory=list)
    start_marks: list[Mark] = field(default_factory=list)
    end_marks: list[Mark] = field(default_factory=list)
    by_host: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = field(default_factory=dict)

    @property
    def first(self) -> Mark | None:
        """The trace that set ``start`` (the earliest evidence)."""
        return min(self.start_marks, key=lambda m: (m.time, m.code)) if self.start_marks else None

    def as_finding(self) -> dict[str, Any]:
        first = self.first
        last = max(self.end_marks, key=lambda m: m.time) if self.end_marks else None
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "basis": self.basis,
            "status": self.status,
            "not_covered": self.not_covered,
            "start_evidence": refs_finding(list(first.refs)) if first else [],
            "end_evidence": refs_finding(list(last.refs)) if last else [],
            "by_host": [
                {"host": host, "start": iso(start), "end": iso(end)}
                for host, (start, end) in sorted(self.by_host.items())
            ],
        }


def ioc_contacts(ctx: Context) -> list[Contact]:
    """Network records from subject hosts matching an indicator, in time order."""
    iocs = fetch_rows(ctx.table("iocs").select("kind", "value").distinct())
    if not iocs:
        return []
    network = ctx.table("network")
    rows = fetch_rows(
        network.filter(ctx.subject_source_filter(network)).select(
            "time",
            "host",
            "src_ip",
            "dst_host",
            "dst_ip",
            "url",
            "bytes_in",
            "bytes_out",
            "evidence_id",
            "record",
        )
    )
    contacts = []
    for row in rows:
        observed = [v for v in (row["url"], row["dst_host"], row["dst_ip"]) if v]
        for ioc in iocs:
            if any(matches(ioc["kind"], ioc["value"], text) for text in observed):
                contacts.append(
                    Contact(
                        time=row["time"],
                        host=_subject_host(ctx, row["host"], row["src_ip"]),
                        destination=row["dst_host"] or row["dst_ip"] or row["url"],
                        indicator=ioc["value"],
                        bytes_in=row["bytes_in"],
                        bytes_out=row["bytes_out"],
                        ref=ctx.ref(row["evidence_id"], row["record"]),
                    )
                )
                break
    return sorted(contacts, key=lambda c: (c.time, c.ref))


def _subject_host(ctx: Context, host: str | None, ip: str | None) -> str:
    if host and host_key(host) in ctx.subject_host_keys:
        return ctx.host_name(host_key(host))
    for subject in ctx.case.subject.hosts:
        if ip and ip in subject.ips:
            return subject.name
    return host or ip or "?"


def _process_marks(ctx: Context, names: list[str]) -> list[Mark]:
    processes = ctx.table("processes")
    if not names:
        return []
    named = None
    for name in names:
        hit = processes.command_line.lower().contains(name.lower())
        named = hit if named is None else named | hit
    rows = fetch_rows(
        processes.filter(ctx.subject_host_filter(processes) & named)
        .select(*PROCESS_COLUMNS)
        .order_by("time")
        .limit(50)
    )
    return [
        Mark(
            r["time"],
            "process_creation",
            ctx.host_name(host_key(r["host"])),
            r["command_line"] or r["image"] or "",
            (ctx.ref(r["evidence_id"], r["record"]),),
        )
        for r in rows
        if r["time"] is not None
    ]


def _opened_marks(ctx: Context, names: list[str]) -> list[Mark]:
    marks: list[Mark] = []
    if not names:
        return marks
    suffixes = ["\\" + name.casefold() for name in names]
    for table, time_column, what in (
        ("file_access", "time", "opened"),
        ("files", "btime", "created"),
    ):
        rows_table = ctx.table(table)
        named = None
        for suffix in suffixes:
            hit = rows_table.path_key.endswith(suffix)
            named = hit if named is None else named | hit
        rows = fetch_rows(
            rows_table.filter(
                ctx.subject_host_filter(rows_table) & named & rows_table[time_column].notnull()
            )
            .select(time_column, "host", "path", "evidence_id", "record")
            .order_by(time_column)
            .limit(50)
        )
        marks += [
            Mark(
                r[time_column],
                "attachment_opened",
                ctx.host_name(host_key(r["host"])),
                f"{what} {r['path']}",
                (ctx.ref(r["evidence_id"], r["record"]),),
            )
            for r in rows
        ]
    return marks


def analyse(ctx: Context, attachment_names: Iterable[str], contacts: list[Contact]) -> Window:
    """The window per rules.md; ``attachment_names`` are the suspect attachments' names."""
    names = sorted({n for n in attachment_names if n})
    marks = _process_marks(ctx, names) + _opened_marks(ctx, names)
    if contacts:
        first = contacts[0]
        marks.append(
            Mark(
                first.time,
                "first_ioc_contact",
                first.host,
                f"contact with {first.indicator}",
                (first.ref,),
            )
        )
    end_marks: list[Mark] = []
    if contacts:
        last = contacts[-1]
        end_marks.append(
            Mark(
                last.time,
                "last_ioc_contact",
                last.host,
                f"last contact with {last.indicator}",
                (last.ref,),
            )
        )
    known = ctx.case.known
    basis: list[str] = []
    if known.infected_at is not None:
        start: dt.datetime | None = known.infected_at
        basis.append("known")
    else:
        start = min((m.time for m in marks), default=None)
    first_mark = min(marks, key=lambda m: (m.time, m.code), default=None)
    if first_mark is not None:
        basis.append(first_mark.code)
    if known.contained_at is not None:
        end: dt.datetime | None = known.contained_at
        if "known" not in basis:
            basis.append("known")
    elif end_marks:
        end = end_marks[-1].time + BEACON_GRACE
        basis.append("last_ioc_contact")
    else:
        end = None
    by_host: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = {}
    for host in {m.host for m in marks} | {c.host for c in contacts}:
        host_start = min((m.time for m in marks if m.host == host), default=None)
        host_last = max((c.time for c in contacts if c.host == host), default=None)
        by_host[host] = (host_start, host_last + BEACON_GRACE if host_last else None)
    missing = [t for t in ("processes", "network", "iocs") if not ctx.has_rows(t)]
    if start is None:
        status = "not_analysed"
    elif missing:
        status = "partial"
    else:
        status = "analysed"
    return Window(
        start=start,
        end=end,
        basis=basis,
        status=status,
        not_covered=[f"no {t} rows in the evidence" for t in missing],
        start_marks=marks,
        end_marks=end_marks,
        by_host=by_host,
    )
