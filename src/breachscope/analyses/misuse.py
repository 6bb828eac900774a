"""Did anyone but the owner use an exposed credential?

Needs: the window (``start``), the exposed credentials (`exposure.exposed_credentials`), and the
tables ``logons`` (the credential's logons, the owner's interactive and VPN sessions),
``credential_changes`` (rotations inside the window), ``network`` (egress correlation),
``win_events`` (log clears) and every timeline table with a ``system`` column (coverage).
Rules: rules.md, Misuse and Section status; output: findings.schema.json ``misuse``.

Thresholds (quoted in the report's method notes, see `THRESHOLDS`):

- `BASELINE_DAYS` (30) / `BASELINE_MIN_DAYS` (3): a source is the owner's usual one when a
  successful logon of the credential came from it on at least 3 distinct UTC days in the 30 days
  before ``window.start``.
- `CORRELATION_TOLERANCE` (120 s, shared with exposure): a logon from an egress address is the
  owner's when a subject host's proxy/Zeek traffic to one of the system's hosts spans its time.
- `MIN_GAP` (1 h), `SILENCE_FACTOR` (3), `SILENCE_PERCENTILE` (0.95): ``USUAL_SILENCE`` of an
  hour-of-week = max(MIN_GAP, 3 x the 95th percentile, linear interpolation, of the intervals
  between the system's records that start in that UTC hour-of-week).
- `BRUTEFORCE_MIN_FAILURES` (5) failures of the credential from one source within
  `BRUTEFORCE_SPAN` (1 h, up to and including the attempt) give ``spray_or_bruteforce``.

What is decided here where the rules are silent:

- **Scope.** A credential is assessed when its system is declared in ``systems`` or an evidence
  item names it, and its account name is known (a Firefox login keeps it encrypted). The logons
  of a credential are the rows whose ``account_key`` is the credential's and whose system, by
  the same resolution exposure uses (manifest account entry, else the row's system, else the
  domain or host), is the credential's: a workstation's own Security log rows of a domain
  account count for the domain.
- **The system's records** are the distinct records (evidence id, record) of every timeline
  table whose ``system`` column is the system (a typed row and its ``win_events`` row are one
  record). Their intervals are computed in the engine (``lead`` over time) over all of them,
  not only the period, so the usual silence reflects the system's whole history; a gap is an
  interval longer than the usual silence of its first record's hour-of-week that overlaps the
  period, reported from record to record (not clipped). Interval lengths are the difference
  in microseconds, as seconds. Log clears are Security 1102 and System 104 ``win_events``
  rows whose ``system`` is the system or whose host is one of its declared ``hosts``, inside
  the period. Without any record ``to`` is ``window.end`` (else ``from``) and the whole period
  is a ``before_first_record`` gap.
- **Attribution** is tried in the rules' order and the first code that applies is counted in
  the item's ``attributed`` (an added field: code -> count). The owner is the subject user whose
  manifest accounts list the credential, else every subject user; the owner's keys are all
  accounts of those users plus the credential's. An interactive session is a successful logon
  of type 2, 7, 10 or 11 on a subject host, open until the logoff with the same host and
  ``session_id`` (open-ended without one). A logon's source is a subject host when its
  ``src_host`` or ``src_ip`` names one, or it was recorded on one with a loopback or empty
  source. A source is ``src_ip``, else the ``src_host`` casefolded. A VPN session is a
  successful logon of the owner's keys with an ``assigned_ip``, open from ``time`` to
  ``end_time`` (open-ended without). ``analyst_attribution`` applies to every logon of the
  named credential from ``src_ip`` (from anywhere when the attribution names none).
- **Failures** are read from ``from`` on, with no upper bound; successes only up to ``to``.
- **Unexplained codes** implemented: ``new_source`` (source not a baseline source),
  ``new_country`` (``country`` not seen in the credential's logons before ``window.start``,
  when some were), ``unusual_client`` (``user_agent`` not seen in the credential's logons
  before ``window.start``, when some were), ``after_rotation_in_window`` (after a change of the
  credential inside the window), ``spray_or_bruteforce`` (see the threshold above; only this
  credential's failures are counted). Not implemented: ``impossible_travel`` (no
  geolocation in the evidence), ``off_hours`` and ``concurrent_sessions`` (no rule for the
  owner's hours or session overlap yet).

Not covered: logons on systems whose logs are not in the case (``not_assessed``), password
spraying across other accounts, and uses that leave no logon (a stolen session cookie).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any
from urllib.parse import urlsplit

import ibis

from breachscope.analyses import Context, Ref, fetch_value, iso, refs_finding
from breachscope.analyses.exposure import (
    CORRELATION_TOLERANCE,
    LOOPBACK_NAMES,
    ExposedCredential,
    _credential_predicate,
    _host_expr,
    _origin,
    _rows,
    _Systems,
)
from breachscope.analyses.window import Window
from breachscope.identity import account_key, casefold, host_key
from breachscope.schema import TABLES, TIMELINE_TABLES

BASELINE_DAYS = 30
BASELINE_MIN_DAYS = 3
MIN_GAP = dt.timedelta(hours=1)
SILENCE_FACTOR = 3
SILENCE_PERCENTILE = 0.95
BRUTEFORCE_MIN_FAILURES = 5
BRUTEFORCE_SPAN = dt.timedelta(hours=1)
THRESHOLDS: dict[str, Any] = {
    "BASELINE_DAYS": BASELINE_DAYS,
    "BASELINE_MIN_DAYS": BASELINE_MIN_DAYS,
    "CORRELATION_TOLERANCE": f"{int(CORRELATION_TOLERANCE.total_seconds())} s",
    "MIN_GAP": "1 h",
    "SILENCE_FACTOR": SILENCE_FACTOR,
    "SILENCE_PERCENTILE": SILENCE_PERCENTILE,
    "BRUTEFORCE_MIN_FAILURES": BRUTEFORCE_MIN_FAILURES,
    "BRUTEFORCE_SPAN": "1 h",
}

ATTRIBUTION_CODES = (
    "subject_host_owner_session",
    "baseline_source",
    "egress_correlated",
    "owner_vpn_session",
    "analyst_attribution",
)
UNEXPLAINED_CODES = (
    "new_source",
    "new_country",
    "impossible_travel",
    "concurrent_sessions",
    "off_hours",
    "after_rotation_in_window",
    "spray_or_bruteforce",
    "unusual_client",
)
VERDICT_ORDER = ("unauthorized_access", "inconclusive", "attempts_only", "none_found")
INTERACTIVE_LOGON_TYPES = ("2", "7", "10", "11")
LOG_CLEARS = ((1102, "security"), (104, "system"))
ROTATION_KINDS = ("changed", "reset")
NO_LOGS = "no logs of this system in the case"
NO_ACCOUNT = "the account name is not in the evidence (kept encrypted)"
LOGON_COLUMNS = (
    "time",
    "system",
    "host",
    "account",
    "outcome",
    "src_ip",
    "src_host",
    "method",
    "user_agent",
    "country",
    "evidence_id",
    "record",
)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class LogonItem:
    """One logon or failed attempt (schema ``$defs/logon``)."""

    time: dt.datetime
    system: str
    account: str
    outcome: str
    src_ip: str | None
    src_host: str | None
    method: str | None
    reasons: tuple[str, ...]
    ref: Ref

    def as_finding(self) -> dict[str, Any]:
        return {
            "time": iso(self.time),
            "system": self.system,
            "account": self.account,
            "outcome": self.outcome,
            "src_ip": self.src_ip,
            "src_host": self.src_host,
            "method": self.method,
            "reasons": list(self.reasons),
            "evidence": refs_finding([self.ref]),
        }


@dataclass(frozen=True)
class Gap:
    start: dt.datetime
    end: dt.datetime
    kind: str
    refs: tuple[Ref, ...] = ()

    def as_finding(self) -> dict[str, Any]:
        found: dict[str, Any] = {"from": iso(self.start), "to": iso(self.end), "kind": self.kind}
        if self.refs:
            found["evidence"] = refs_finding(self.refs)
        return found


@dataclass
class Coverage:
    first_record: dt.datetime | None
    last_record: dt.datetime | None
    gaps: list[Gap]

    @property
    def complete(self) -> bool:
        return not self.gaps

    def as_finding(self) -> dict[str, Any]:
        return {
            "complete": self.complete,
            "first_record": iso(self.first_record),
            "last_record": iso(self.last_record),
            "gaps": [g.as_finding() for g in self.gaps],
        }


@dataclass
class CredentialMisuse:
    system: str
    account: str
    period_from: dt.datetime
    period_to: dt.datetime
    logons: int
    attributed: dict[str, int]
    unexplained: list[LogonItem]
    failed_attempts: list[LogonItem]
    coverage: Coverage

    def __post_init__(self) -> None:
        assert self.logons == self.by_owner + len(self.unexplained), "misuse count invariant"

    @property
    def by_owner(self) -> int:
        return sum(self.attributed.values())

    @property
    def verdict(self) -> str:
        if self.unexplained:
            return "unauthorized_access"
        if self.coverage.gaps:
            return "inconclusive"
        if self.failed_attempts:
            return "attempts_only"
        return "none_found"

    def as_finding(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "account": self.account,
            "from": iso(self.period_from),
            "to": iso(self.period_to),
            "logons": self.logons,
            "by_owner": self.by_owner,
            "attributed": dict(sorted(self.attributed.items())),
            "unexplained": [u.as_finding() for u in self.unexplained],
            "failed_attempts": [f.as_finding() for f in self.failed_attempts],
            "coverage": self.coverage.as_finding(),
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class NotAssessed:
    system: str
    account: str
    reason: str

    def as_finding(self) -> dict[str, str]:
        return {"system": self.system, "account": self.account, "reason": self.reason}


@dataclass
class Misuse:
    status: str
    by_credential: list[CredentialMisuse] = field(default_factory=list)
    not_assessed: list[NotAssessed] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return overall(c.verdict for c in self.by_credential)

    def as_finding(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "by_credential": [c.as_finding() for c in self.by_credential],
            "status": self.status,
            "not_covered": self.not_covered,
            "not_assessed": [n.as_finding() for n in self.not_assessed],
        }


def overall(verdicts: Iterable[str]) -> str:
    """The most severe verdict by the rules' precedence; ``none_found`` without any.

    >>> overall(["none_found", "attempts_only", "inconclusive"])
    'inconclusive'
    """
    found = set(verdicts)
    return next((v for v in VERDICT_ORDER if v in found), "none_found")


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (the engines' ``quantile_cont``/``percentile``).

    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.5)
    2.5
    """
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --------------------------------------------------------------------------- helpers


def _credential_rows(logons: Any, systems: _Systems, credential: ExposedCredential) -> Any:
    """Ibis predicate: the credential's logons, with exposure's system resolution."""
    key = credential.account_key
    system = credential.system
    listed = list(dict.fromkeys(s for s, k, _ in systems.entries if k == key))  # manifest order
    row_system = logons.system
    if listed:
        if system == listed[0]:
            others = [s for s in listed if s != system]
            by_system = row_system.isnull() | (
                ~row_system.isin(others) if others else ibis.literal(True)
            )
        else:
            by_system = row_system == system
    elif key and ("@" in key or "\\" in key):
        # Without a row system the key alone names it (its domain, or the local host).
        implied = ibis.literal(systems.for_account(key, None, None) == system)
        by_system = (row_system == system) | (row_system.isnull() & implied)
    else:
        by_system = (row_system == system) | (
            row_system.isnull() & (_host_expr(logons.host) == host_key(system))
        )
    return (
        (logons.account_key == key)
        & ibis.coalesce(by_system, False)
        & _credential_predicate(logons)
    )


def _source_expr(table: Any) -> Any:
    ip = table.src_ip.strip()
    host = table.src_host.strip().lower()
    usable_ip = ibis.cases((ip.isin(("", "-")), ibis.null("string")), else_=ip)
    usable_host = ibis.cases((host.isin(("", "-")), ibis.null("string")), else_=host)
    return ibis.coalesce(usable_ip, usable_host)


def _source(row: dict[str, Any]) -> str | None:
    """`_source_expr` in Python: ``src_ip``, else ``src_host`` lower-cased."""
    for value, fold in ((row.get("src_ip"), False), (row.get("src_host"), True)):
        if value and value.strip() not in ("", "-"):
            return value.strip().lower() if fold else value.strip()
    return None


def _subject_source(ctx: Context, row: dict[str, Any]) -> str | None:
    """The subject host (key) a logon came from, else None."""
    keys = ctx.subject_host_keys
    src_host, src_ip, host = row.get("src_host"), row.get("src_ip"), row.get("host")
    if src_host and host_key(src_host) in keys:
        return host_key(src_host)
    for subject in ctx.case.subject.hosts:
        if src_ip and src_ip in subject.ips:
            return host_key(subject.name)
    empty = (not src_ip or src_ip.strip() in ("", "-")) and (
        not src_host or src_host.strip() in ("", "-")
    )
    loopback = bool(src_ip and (src_ip.startswith("127.") or src_ip == "::1")) or bool(
        src_host and src_host.strip().lower() in LOOPBACK_NAMES
    )
    if host and host_key(host) in keys and (empty or loopback):
        return host_key(host)
    return None


def _count(expr: Any) -> int:
    return int(fetch_value(expr.count()) or 0)


# --------------------------------------------------------------------------- coverage


def _records(ctx: Context, system: str) -> Any:
    """The system's records: distinct (evidence id, record, time) of the timeline tables."""
    parts = []
    for name in TIMELINE_TABLES:
        if "system" not in TABLES[name].names:
            continue
        table = ctx.table(name)
        parts.append(
            table.filter((table.system == system) & table.time.notnull()).select(
                "evidence_id", "record", "time"
            )
        )
    union = reduce(lambda a, b: a.union(b, distinct=False), parts)
    return union.distinct()


def _intervals(records: Any) -> Any:
    """(time, next, seconds, hour_of_week) for consecutive records, computed in the engine."""
    over = ibis.window(order_by=[records.time, records.evidence_id, records.record])
    paired = records.mutate(next_time=records.time.lead().over(over))
    paired = paired.filter(paired.next_time.notnull())
    # a microsecond delta, not epoch seconds plus microsecond(): Spark cannot extract microseconds
    seconds = paired.next_time.delta(paired.time, unit="microsecond").cast("float64") / 1e6
    return paired.select(
        time=paired.time,
        next_time=paired.next_time,
        seconds=seconds,
        hour_of_week=paired.time.day_of_week.index() * 24 + paired.time.hour(),
    )


def usual_silence(intervals: Any) -> Any:
    """Per UTC hour-of-week: ``USUAL_SILENCE`` in seconds (an Ibis table)."""
    per_hour = intervals.group_by("hour_of_week").agg(
        p=intervals.seconds.quantile(SILENCE_PERCENTILE)
    )
    return per_hour.select(
        "hour_of_week",
        silence=ibis.greatest(ibis.literal(MIN_GAP.total_seconds()), per_hour.p * SILENCE_FACTOR),
    )


def _coverage(
    ctx: Context, system: str, start: dt.datetime, end: dt.datetime | None, window: Window
) -> tuple[Coverage, dt.datetime]:
    """The coverage of [start, end] (``end`` None: up to the last record) and the end used."""
    records = _records(ctx, system)
    bounds = _rows(records.aggregate(first=records.time.min(), last=records.time.max()))[0]
    first, last = bounds["first"], bounds["last"]
    if end is None:
        end = last if last is not None else (window.end or start)
        end = max(end, start)
    gaps: list[Gap] = []
    if first is None or last is None:
        gaps.append(Gap(start, end, "before_first_record"))
        return Coverage(None, None, gaps), end
    if start < first:
        gaps.append(Gap(start, first, "before_first_record"))
    if end > last:
        gaps.append(Gap(last, end, "after_last_record"))
    intervals = _intervals(records)
    limits = usual_silence(intervals)
    joined = intervals.join(limits, "hour_of_week")
    silent = joined.filter(
        (joined.seconds > joined.silence) & (joined.next_time >= start) & (joined.time <= end)
    ).select("time", "next_time")
    gaps += [Gap(r["time"], r["next_time"], "silence") for r in _rows(silent)]
    gaps += _log_clears(ctx, system, start, end)
    gaps.sort(key=lambda g: (g.start, g.kind, g.end))
    return Coverage(first, last, gaps), end


def _log_clears(ctx: Context, system: str, start: dt.datetime, end: dt.datetime) -> list[Gap]:
    events = ctx.table("win_events")
    kinds = reduce(
        or_,
        [(events.event_id == eid) & (events.channel.lower() == ch) for eid, ch in LOG_CLEARS],
    )
    declared = next((s for s in ctx.case.systems if s.name == system), None)
    names = sorted(
        {
            host_key(urlsplit(o).hostname or "")
            for h in (declared.hosts if declared else [])
            if (o := _origin(h))
        }
        | {host_key(h) for h in (declared.hosts if declared else []) if _origin(h) is None} - {""}
    )
    mine = events.system == system
    if names:
        mine = mine | _host_expr(events.host).isin(names)
    cleared = events.filter(
        ibis.coalesce(mine, False) & kinds & (events.time >= start) & (events.time <= end)
    ).select("time", "evidence_id", "record")
    return [
        Gap(r["time"], r["time"], "log_cleared", (ctx.ref(r["evidence_id"], r["record"]),))
        for r in _rows(cleared)
    ]


# --------------------------------------------------------------------------- attribution


@dataclass
class _Attributor:
    """Decides who a logon of one credential was made by (rules.md, Misuse -> Attribution)."""

    ctx: Context
    baseline: set[str]
    sessions: list[tuple[str, dt.datetime, dt.datetime | None]]
    egress: set[Ref]
    vpn: list[tuple[str, dt.datetime, dt.datetime | None]]
    analyst: list[str | None]

    def code(self, row: dict[str, Any], ref: Ref) -> str | None:
        moment = row["time"]
        subject = _subject_source(self.ctx, row)
        if subject is not None and any(
            host == subject and begin <= moment and (finish is None or moment <= finish)
            for host, begin, finish in self.sessions
        ):
            return "subject_host_owner_session"
        source = _source(row)
        if source is not None and source in self.baseline:
            return "baseline_source"
        if ref in self.egress:
            return "egress_correlated"
        ip = row.get("src_ip")
        if ip and any(
            ip == assigned and begin <= moment and (finish is None or moment <= finish)
            for assigned, begin, finish in self.vpn
        ):
            return "owner_vpn_session"
        if any(a is None or a == ip for a in self.analyst):
            return "analyst_attribution"
        return None


def _owner_keys(ctx: Context, systems: _Systems, credential: ExposedCredential) -> list[str]:
    users = ctx.case.subject.users
    owners = [
        u
        for u in users
        if any(
            a.system == credential.system
            and account_key(a.account, systems.realms) == credential.account_key
            for a in u.accounts
        )
    ] or users
    keys = {account_key(a.account, systems.realms) for u in owners for a in u.accounts}
    if credential.account_key:
        keys.add(credential.account_key)
    return sorted(keys)


def _sessions(
    ctx: Context, owner_keys: list[str]
) -> list[tuple[str, dt.datetime, dt.datetime | None]]:
    """The owner's interactive sessions on subject hosts: (host key, start, end)."""
    logons = ctx.table("logons")
    on_subject = ibis.coalesce(ctx.subject_host_filter(logons), False) & logons.account_key.isin(
        owner_keys
    )
    opened = logons.filter(
        on_subject & (logons.outcome == "success") & logons.logon_type.isin(INTERACTIVE_LOGON_TYPES)
    ).select(s_host=_host_expr(logons.host), s_id=logons.session_id, s_time=logons.time)
    closed = logons.filter(
        on_subject & (logons.outcome == "logoff") & logons.session_id.notnull()
    ).select(
        e_host=_host_expr(logons.host),
        e_id=logons.session_id,
        e_time=ibis.coalesce(logons.end_time, logons.time),
    )
    joined = opened.left_join(
        closed,
        [
            opened.s_host == closed.e_host,
            opened.s_id == closed.e_id,
            closed.e_time >= opened.s_time,
        ],
    )
    grouped = joined.group_by(["s_host", "s_id", "s_time"]).agg(end=joined.e_time.min())
    return [(r["s_host"], r["s_time"], r["end"]) for r in _rows(grouped)]


def _vpn_sessions(
    ctx: Context, owner_keys: list[str]
) -> list[tuple[str, dt.datetime, dt.datetime | None]]:
    logons = ctx.table("logons")
    chosen = logons.filter(
        logons.account_key.isin(owner_keys)
        & (logons.outcome == "success")
        & logons.assigned_ip.notnull()
        & logons.time.notnull()
    ).select("assigned_ip", "time", "end_time")
    return [(r["assigned_ip"], r["time"], r["end_time"]) for r in _rows(chosen.distinct())]


def _egress_refs(ctx: Context, mine: Any, start: dt.datetime, system: str) -> set[Ref]:
    """The credential's logons from an egress address that a subject host's traffic spans."""
    egress = sorted(ctx.case.organization.egress_ips)
    declared = next((s for s in ctx.case.systems if s.name == system), None)
    if not egress or declared is None:
        return set()
    names = sorted(
        {urlsplit(o).hostname or "" for h in declared.hosts if (o := _origin(h))}
        | {casefold(h.strip()) for h in declared.hosts if _origin(h) is None} - {""}
    )
    if not names:
        return set()
    network = ctx.table("network")
    candidates = mine.filter(mine.src_ip.isin(egress) & (mine.time >= start)).select(
        l_time=mine.time, l_eid=mine.evidence_id, l_rec=mine.record
    )
    traffic = network.filter(
        ctx.subject_source_filter(network)
        & (network.dst_host.lower().isin(names) | network.dst_ip.isin(names))
        & network.time.notnull()
    )
    traffic = traffic.select(
        n_begin=ibis.coalesce(traffic.start_time, traffic.time) - CORRELATION_TOLERANCE,
        n_end=traffic.time + CORRELATION_TOLERANCE,
    )
    joined = candidates.join(
        traffic, [traffic.n_begin <= candidates.l_time, traffic.n_end >= candidates.l_time]
    )
    pairs = joined.select("l_eid", "l_rec").distinct()
    return {ctx.ref(r["l_eid"], r["l_rec"]) for r in _rows(pairs)}


def _baseline(mine: Any, window_start: dt.datetime) -> set[str]:
    since = window_start - dt.timedelta(days=BASELINE_DAYS)
    before = mine.filter(
        (mine.outcome == "success") & (mine.time >= since) & (mine.time < window_start)
    )
    before = before.mutate(_source=_source_expr(before), _day=before.time.date())
    days = (
        before.filter(before._source.notnull()).group_by("_source").agg(days=before._day.nunique())
    )
    chosen = days.filter(days.days >= BASELINE_MIN_DAYS).select("_source")
    return {r["_source"] for r in _rows(chosen)}


def _known_values(mine: Any, column: str, window_start: dt.datetime) -> set[str]:
    before = mine.filter((mine.time < window_start) & mine[column].notnull())
    return {r[column] for r in _rows(before.select(column).distinct()) if r[column]}


def _changes_in_window(
    ctx: Context, credential: ExposedCredential, window: Window
) -> list[dt.datetime]:
    changes = ctx.table("credential_changes")
    predicate = (
        (changes.account_key == credential.account_key)
        & (changes.time >= window.start)
        & (changes.kind.isnull() | changes.kind.isin(ROTATION_KINDS))
    )
    if window.end is not None:
        predicate = predicate & (changes.time <= window.end)
    chosen = changes.filter(
        predicate
        & ibis.coalesce(changes.system.isnull() | (changes.system == credential.system), False)
    )
    return sorted(r["time"] for r in _rows(chosen.select("time")))


# --------------------------------------------------------------------------- per credential


def _assess(
    ctx: Context, window: Window, systems: _Systems, credential: ExposedCredential
) -> CredentialMisuse:
    assert window.start is not None and credential.exposed_from is not None
    start = credential.exposed_from
    logons = ctx.table("logons")
    mine = logons.filter(_credential_rows(logons, systems, credential))
    coverage, end = _coverage(ctx, credential.system, start, credential.rotated_at, window)

    owner_keys = _owner_keys(ctx, systems, credential)
    analyst = [
        a.src_ip
        for a in ctx.case.known.attributions
        if a.system == credential.system
        and account_key(a.account, systems.realms) == credential.account_key
    ]
    attributor = _Attributor(
        ctx=ctx,
        baseline=_baseline(mine, window.start),
        sessions=_sessions(ctx, owner_keys),
        egress=_egress_refs(ctx, mine, start, credential.system),
        vpn=_vpn_sessions(ctx, owner_keys),
        analyst=analyst,
    )
    agents = _known_values(mine, "user_agent", window.start)
    countries = _known_values(mine, "country", window.start)
    changes = _changes_in_window(ctx, credential, window)

    read = mine.filter(
        (mine.time >= start)
        & (((mine.outcome == "success") & (mine.time <= end)) | (mine.outcome == "failure"))
    ).select(*LOGON_COLUMNS)
    rows = sorted(_rows(read), key=lambda r: (r["time"], r["evidence_id"], r["record"]))
    failures_by_source: dict[str | None, list[dt.datetime]] = defaultdict(list)
    for row in rows:
        if row["outcome"] == "failure":
            failures_by_source[_source(row)].append(row["time"])

    logons_count = 0
    attributed: Counter[str] = Counter()
    unexplained: list[LogonItem] = []
    failed: list[LogonItem] = []
    for row in rows:
        ref = ctx.ref(row["evidence_id"], row["record"])
        code = attributor.code(row, ref)
        success = row["outcome"] == "success"
        if success:
            logons_count += 1
        if code is not None:
            if success:
                attributed[code] += 1
            continue
        reasons = _reasons(row, attributor.baseline, agents, countries, changes, failures_by_source)
        item = LogonItem(
            time=row["time"],
            system=credential.system,
            account=credential.account,
            outcome=row["outcome"],
            src_ip=row["src_ip"],
            src_host=row["src_host"],
            method=row["method"],
            reasons=reasons,
            ref=ref,
        )
        (unexplained if success else failed).append(item)
    return CredentialMisuse(
        system=credential.system,
        account=credential.account,
        period_from=start,
        period_to=end,
        logons=logons_count,
        attributed=dict(attributed),
        unexplained=unexplained,
        failed_attempts=failed,
        coverage=coverage,
    )


def _reasons(
    row: dict[str, Any],
    baseline: set[str],
    agents: set[str],
    countries: set[str],
    changes: list[dt.datetime],
    failures_by_source: dict[str | None, list[dt.datetime]],
) -> tuple[str, ...]:
    moment = row["time"]
    source = _source(row)
    found = []
    if source is not None and source not in baseline:
        found.append("new_source")
    if row.get("country") and countries and row["country"] not in countries:
        found.append("new_country")
    if any(change < moment for change in changes):
        found.append("after_rotation_in_window")
    recent = [
        t for t in failures_by_source.get(source, []) if moment - BRUTEFORCE_SPAN <= t <= moment
    ]
    if source is not None and len(recent) >= BRUTEFORCE_MIN_FAILURES:
        found.append("spray_or_bruteforce")
    if row.get("user_agent") and agents and row["user_agent"] not in agents:
        found.append("unusual_client")
    return tuple(c for c in UNEXPLAINED_CODES if c in found)


# --------------------------------------------------------------------------- entry point


def analyse(ctx: Context, window: Window, credentials: list[ExposedCredential]) -> Misuse:
    """The misuse section per rules.md for the exposed ``credentials``."""
    if window.start is None:
        return Misuse(
            status="not_analysed",
            not_covered=["the window has no start, so no exposure period can be placed"],
        )
    systems = _Systems(ctx)
    declared = {s.name for s in ctx.case.systems}
    evidence = ctx.table("evidence")
    with_items = {
        r["system"]
        for r in _rows(evidence.filter(evidence.system.notnull()).select("system").distinct())
    }
    assessed: list[CredentialMisuse] = []
    skipped: list[NotAssessed] = []
    for credential in credentials:
        if credential.system not in declared | with_items:
            skipped.append(NotAssessed(credential.system, credential.account, NO_LOGS))
        elif credential.account_key is None or credential.exposed_from is None:
            skipped.append(NotAssessed(credential.system, credential.account, NO_ACCOUNT))
        else:
            assessed.append(_assess(ctx, window, systems, credential))
    logons = ctx.table("logons")
    missing = sorted(
        {
            c.system
            for c in assessed
            if _count(logons.filter(logons.system == c.system).limit(1)) == 0
        }
    )
    return Misuse(
        status="partial" if missing else "analysed",
        by_credential=sorted(assessed, key=lambda c: (c.period_from, c.system, c.account)),
        not_assessed=sorted(skipped, key=lambda n: (n.system, n.account)),
        not_covered=[f"{system}: no logons rows in the case" for system in missing],
    )
