"""Analyses: one module per question, each a pure function over Ibis tables and the case.

They meet the formats only in the tables of `breachscope.schema`, run unchanged on DuckDB and
Spark (the Ibis backend is a parameter), filter in the engine, and bring rows into Python only
once they are narrowed to what a finding needs. Every result carries `Ref`s to raw records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from breachscope.case import Case
from breachscope.custody import format_time
from breachscope.identity import host_key, normalize_address


@dataclass(frozen=True, order=True)
class Ref:
    """A reference to one raw record: the evidence file (by id and path) and the record in it."""

    evidence_id: str
    record: str
    path: str | None = None

    def as_finding(self) -> dict[str, str]:
        found = {"evidence_id": self.evidence_id, "record": self.record}
        if self.path:
            found["path"] = self.path
        return found


def refs_finding(refs: list[Ref] | tuple[Ref, ...]) -> list[dict[str, str]]:
    """Evidence list for findings.json: distinct, sorted, deterministic."""
    return [ref.as_finding() for ref in sorted(set(refs))]


def iso(moment: dt.datetime | None) -> str | None:
    return format_time(moment)


def utc(value: Any) -> Any:
    """A value as the analyses expect it: datetimes UTC-aware.

    Every stored time is UTC; DuckDB hands them back aware, Spark (session time zone UTC)
    naive. Rows and scalars from the engine pass through here so both engines agree.
    """
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    if isinstance(value, list):
        return [utc(item) for item in value]
    if isinstance(value, dict):
        return {key: utc(item) for key, item in value.items()}
    return value


def fetch_rows(expr: Any) -> list[dict[str, Any]]:
    """The rows of an Ibis table expression as dicts, times UTC-aware (any engine)."""
    return [utc(row) for row in expr.to_pyarrow().to_pylist()]


def fetch_value(expr: Any) -> Any:
    """The value of an Ibis scalar expression, a time UTC-aware (any engine)."""
    return utc(expr.to_pyarrow().as_py())


@dataclass
class Context:
    """What every analysis gets: the case, the tables and where evidence paths are."""

    case: Case
    con: Any
    paths: dict[str, str] = field(default_factory=dict)
    blob: Callable[[str], bytes | None] = lambda sha256: None
    """Stored attachment content by SHA-256 (the store's ``blobs/``)."""

    @classmethod
    def open(
        cls, case: Case, con: Any, blob: Callable[[str], bytes | None] | None = None
    ) -> Context:
        evidence = con.table("evidence").select("evidence_id", "path").distinct()
        paths = {r["evidence_id"]: r["path"] for r in fetch_rows(evidence)}
        return cls(case=case, con=con, paths=paths, blob=blob or (lambda sha256: None))

    def table(self, name: str) -> Any:
        return self.con.table(name)

    def ref(self, evidence_id: str, record: str) -> Ref:
        return Ref(evidence_id, record, self.paths.get(evidence_id))

    def has_rows(self, table: str) -> bool:
        return bool(fetch_value(self.table(table).count()))

    @property
    def subject_host_keys(self) -> set[str]:
        return {host_key(h.name) for h in self.case.subject.hosts}

    @property
    def subject_ips(self) -> set[str]:
        return {ip for h in self.case.subject.hosts for ip in h.ips}

    def subject_host_filter(self, table: Any, host_column: str = "host") -> Any:
        """Ibis predicate: the row's host is a subject host (names compare without domain)."""
        column = table[host_column].lower().re_extract(r"^([^.]*)", 1)
        return column.isin(sorted(self.subject_host_keys))

    def subject_source_filter(self, table: Any) -> Any:
        """Ibis predicate for network/logon rows coming from a subject host (name or IP)."""
        by_host = self.subject_host_filter(table)
        ips = sorted(self.subject_ips)
        return by_host | table["src_ip"].isin(ips) if ips else by_host

    @property
    def subject_addresses(self) -> set[str]:
        """The subject users' e-mail addresses, normalised."""
        found = set()
        for user in self.case.subject.users:
            address = normalize_address(user.email) if user.email else None
            if address:
                found.add(address)
        return found

    def host_name(self, key: str) -> str:
        """The manifest spelling of a subject host, else the key."""
        for host in self.case.subject.hosts:
            if host_key(host.name) == key:
                return host.name
        return key
