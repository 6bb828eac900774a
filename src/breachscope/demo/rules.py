"""rules.md as small functions: what the truth of a demo case is computed with.

Why a module of its own: each function is one rule of ``../shared/spec/rules.md`` (address
normalisation, labels, IOC contacts and beaconing, displayed items, coverage gaps,
attribution and verdicts), written from the rule's text and independent of breachscope's
own analyses, so the truth can judge them. Thresholds are the rules' named constants.
Where a rule leaves a choice open, the docstring says which reading is taken.
"""

from __future__ import annotations

import datetime as dt
import functools
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from urllib.parse import urlsplit

import idna
import regex

from breachscope.demo.records import HostFile, Logon, Opened, Process, Ref, Request, Visit

BEACON_MIN_CONTACTS = 10
BEACON_MAX_JITTER = 0.2
BASELINE_DAYS = 30
BASELINE_MIN_DAYS = 3
CORRELATION_TOLERANCE = dt.timedelta(seconds=120)
MIN_GAP = dt.timedelta(hours=1)
SILENCE_FACTOR = 3
SILENCE_PERCENTILE = 95
CHAIN_BITS = 0xF0000000
CHAIN_END = 0x20000000
SUBFRAMES = frozenset({3, 4})
LOCAL_SPECIALS = frozenset('()<>[]\\,;:"@')
LOOPBACK = ("127.0.0.1", "::1", None)
VERDICT_ORDER = ("unauthorized_access", "inconclusive", "attempts_only", "none_found")


@dataclass(frozen=True)
class Displayed:
    kind: str
    key: str
    time: dt.datetime
    labels: tuple[str, ...]
    evidence: tuple[Ref, ...]


@dataclass(frozen=True)
class LabelledFile:
    host: str
    path: str
    labels: tuple[str, ...]
    evidence: Ref


@dataclass(frozen=True)
class Gap:
    start: dt.datetime
    end: dt.datetime
    reason: str


@dataclass(frozen=True)
class Unexplained:
    time: dt.datetime
    src_ip: str | None
    user_agent: str | None
    codes: tuple[str, ...]
    evidence: Ref


@dataclass(frozen=True)
class Misuse:
    system: str
    account: str
    period_from: dt.datetime
    period_to: dt.datetime
    rotated: bool
    logons: int
    by_owner: int
    unexplained: tuple[Unexplained, ...]
    failed_attempts: int
    gaps: tuple[Gap, ...]
    verdict: str


# ---- Identity (rules.md, Identity) -------------------------------------------------------


def normalize_address(raw: str) -> str | None:
    """``local@domain`` with the domain IDNA-encoded (UTS 46) and both parts lower-cased.

    >>> normalize_address("H.Suzuki@Example-Space.JP")
    'h.suzuki@example-space.jp'
    >>> punycode = "INFO@XN--29SOB968L5M2A.EXAMPLE"
    >>> normalize_address("info@宇宙開発.example") == normalize_address(punycode)
    True
    >>> normalize_address("suzuki at example-space.jp") is None
    True
    """
    text = unicodedata.normalize("NFC", raw.strip().strip("<>"))
    if text.count("@") != 1:
        return None
    local, domain = text.split("@")
    if not local or any(c in LOCAL_SPECIALS or c.isspace() for c in local):
        return None
    ascii_domain = _ascii_domain(domain)
    return None if ascii_domain is None else f"{local.lower()}@{ascii_domain}"


@functools.lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str | None:
    """The IDNA (UTS 46) form of a dotted domain, lower-cased (few domains, many addresses)."""
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii").lower()
    except idna.IDNAError:
        return None
    return ascii_domain if "." in ascii_domain else None


def is_internal(address: str, domains: Iterable[str]) -> bool:
    domain = address.rsplit("@", 1)[1]
    return any(domain == d or domain.endswith("." + d) for d in domains)


class Labels:
    """The case's sensitivity rules, applied as breachscope must (``regex`` module)."""

    def __init__(self, rules: dict[str, list[str]]) -> None:
        self.rules = {
            label: [regex.compile(p) for p in patterns] for label, patterns in rules.items()
        }

    def of(self, *texts: str) -> tuple[str, ...]:
        return tuple(
            sorted(
                label
                for label, patterns in self.rules.items()
                if any(p.search(t) for p in patterns for t in texts if t)
            )
        )


# ---- The window --------------------------------------------------------------------------


def ioc_contacts(requests: Iterable[Request], domain: str, ip: str) -> list[Request]:
    """Proxy records from the subject host matching the C2 domain (or a sub-domain) or IP."""

    def matches(request: Request) -> bool:
        host = request.dst_host.lower()
        return host == domain or host.endswith("." + domain) or request.dst_ip == ip

    return sorted((r for r in requests if matches(r)), key=lambda r: (r.time, r.ref.record))


def interval_cv(times: list[dt.datetime]) -> float:
    """Coefficient of variation (population) of the intervals between ``times``."""
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    return statistics.pstdev(gaps) / statistics.fmean(gaps)


# ---- Displayed ---------------------------------------------------------------------------


def shown_path(process: Process, viewers: Iterable[str]) -> str | None:
    """The document a viewer was started with: the command line's last argument."""
    if process.image not in set(viewers):
        return None
    rest = process.command_line[len(process.image) + 2 :].strip()
    if rest.startswith("/n "):
        rest = rest[3:]
    return rest.strip().strip('"') or None


def displayed_visit(visit: Visit) -> bool:
    """Not a subframe, and not an intermediate redirect hop (chain bits without CHAIN_END)."""
    core = visit.transition & 0xFF
    hop = bool(visit.transition & CHAIN_BITS) and not visit.transition & CHAIN_END
    return core not in SUBFRAMES and not hop


def first_displays(
    items: Iterable[tuple[str, dt.datetime, Ref]],
    start: dt.datetime,
    end: dt.datetime,
    kind: str,
    labels: dict[str, tuple[str, ...]],
) -> tuple[Displayed, ...]:
    by_key: dict[str, list[tuple[dt.datetime, Ref]]] = defaultdict(list)
    for key, time, ref in items:
        if start <= time <= end:
            by_key[key].append((time, ref))
    result = []
    for key, shown in by_key.items():
        first = min(shown, key=lambda s: (s[0], s[1].record))
        result.append(Displayed(kind, key, first[0], labels.get(key, ()), (first[1],)))
    return tuple(sorted(result, key=lambda d: (d.time, d.key)))


# ---- Misuse ------------------------------------------------------------------------------


def percentile(values: list[float], percent: float) -> float:
    """Linear interpolation between closest ranks (numpy's default).

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * percent / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def coverage_gaps(
    times: list[dt.datetime],
    clears: Iterable[dt.datetime],
    start: dt.datetime,
    end: dt.datetime,
) -> tuple[Gap, ...]:
    """Gaps of one system's records over [start, end] (rules.md, Misuse -> Coverage)."""
    ordered = sorted(times)
    by_hour: dict[int, list[float]] = defaultdict(list)
    for a, b in pairwise(ordered):
        by_hour[_hour_of_week(a)].append((b - a).total_seconds())
    usual = {
        hour: max(MIN_GAP.total_seconds(), SILENCE_FACTOR * percentile(v, SILENCE_PERCENTILE))
        for hour, v in by_hour.items()
    }
    gaps: list[Gap] = []
    if not ordered or start < ordered[0]:
        gaps.append(Gap(start, ordered[0] if ordered else end, "before_first_record"))
    if ordered and end > ordered[-1]:
        gaps.append(Gap(ordered[-1], end, "after_last_record"))
    for a, b in pairwise(ordered):
        if b < start or a > end:
            continue
        limit = usual.get(_hour_of_week(a), MIN_GAP.total_seconds())
        if (b - a).total_seconds() > limit:
            gaps.append(Gap(a, b, "silence"))
    gaps += [Gap(moment, moment, "log_cleared") for moment in clears if start <= moment <= end]
    return tuple(sorted(gaps, key=lambda g: (g.start, g.reason)))


def _hour_of_week(moment: dt.datetime) -> int:
    utc = moment.astimezone(dt.UTC)
    return utc.weekday() * 24 + utc.hour


def baseline_sources(logons: Iterable[Logon], window_start: dt.datetime) -> set[str]:
    """Sources of successful logons on at least BASELINE_MIN_DAYS days in the 30 days before."""
    since = window_start - dt.timedelta(days=BASELINE_DAYS)
    seen: dict[str, set[dt.date]] = defaultdict(set)
    for logon in logons:
        if logon.outcome == "success" and since <= logon.time < window_start and logon.src_ip:
            seen[logon.src_ip].add(logon.time.astimezone(dt.UTC).date())
    return {source for source, found in seen.items() if len(found) >= BASELINE_MIN_DAYS}


def verdict_of(unexplained: int, gaps: int, failed: int) -> str:
    if unexplained:
        return "unauthorized_access"
    if gaps:
        return "inconclusive"
    if failed:
        return "attempts_only"
    return "none_found"


def overall(verdicts: Iterable[str]) -> str:
    found = set(verdicts) or {"none_found"}
    return next(v for v in VERDICT_ORDER if v in found)


@dataclass
class MisuseInput:
    """What one credential's misuse assessment reads."""

    system: str
    account: str
    exposed_from: dt.datetime
    logons: list[Logon]
    rotation: dt.datetime | None
    record_times: list[dt.datetime]
    clears: list[dt.datetime] = field(default_factory=list)
    owner_sessions: list[tuple[dt.datetime, dt.datetime | None]] = field(default_factory=list)
    subject_ips: frozenset[str] = frozenset()
    correlated: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    egress_ips: frozenset[str] = frozenset()


def assess(case: MisuseInput, window_start: dt.datetime) -> Misuse:
    """One credential's misuse per rules.md (period, attribution, counts, coverage)."""
    end = case.rotation or max(case.record_times)
    baseline = baseline_sources(case.logons, window_start)
    known_agents = {
        logon.user_agent for logon in case.logons if logon.time < window_start and logon.user_agent
    }

    def in_session(moment: dt.datetime) -> bool:
        return any(s <= moment and (e is None or moment <= e) for s, e in case.owner_sessions)

    def attributed(logon: Logon) -> bool:
        from_host = logon.src_ip in case.subject_ips or (
            logon.src_ip in LOOPBACK and logon.host is not None
        )
        if from_host and in_session(logon.time):
            return True  # subject_host_owner_session
        if logon.src_ip in baseline:
            return True  # baseline_source
        if logon.src_ip in case.egress_ips:
            tolerance = CORRELATION_TOLERANCE
            return any(s - tolerance <= logon.time <= e + tolerance for s, e in case.correlated)
        return False

    in_period = [
        logon
        for logon in case.logons
        if logon.outcome == "success" and case.exposed_from <= logon.time <= end
    ]
    unexplained = []
    for logon in in_period:
        if attributed(logon):
            continue
        codes = ["new_source"] if logon.src_ip not in baseline else []
        if logon.user_agent and known_agents and logon.user_agent not in known_agents:
            codes.append("unusual_client")
        unexplained.append(
            Unexplained(logon.time, logon.src_ip, logon.user_agent, tuple(codes), logon.ref)
        )
    failed = [
        logon
        for logon in case.logons
        if logon.outcome == "failure" and logon.time >= case.exposed_from and not attributed(logon)
    ]
    gaps = coverage_gaps(case.record_times, case.clears, case.exposed_from, end)
    return Misuse(
        system=case.system,
        account=case.account,
        period_from=case.exposed_from,
        period_to=end,
        rotated=case.rotation is not None,
        logons=len(in_period),
        by_owner=len(in_period) - len(unexplained),
        unexplained=tuple(unexplained),
        failed_attempts=len(failed),
        gaps=gaps,
        verdict=verdict_of(len(unexplained), len(gaps), len(failed)),
    )


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def host_labels(files: Iterable[HostFile], labels: Labels) -> tuple[LabelledFile, ...]:
    found = []
    for item in files:
        marks = labels.of(item.path, item.text)
        if marks:
            found.append(LabelledFile(item.host, item.path, marks, item.ref))
    return tuple(sorted(found, key=lambda f: f.path))


def opened_items(
    opened: Iterable[Opened], processes: Iterable[Process], viewers: Iterable[str]
) -> list[tuple[str, dt.datetime, Ref]]:
    items = [(o.path, o.time, o.ref) for o in opened]
    for process in processes:
        path = shown_path(process, viewers)
        if path:
            items.append((path, process.time, process.ref))
    return items
