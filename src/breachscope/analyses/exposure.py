"""What leaked? The files on the subject hosts, what was on their screens, the credentials used
from or stored on them, the e-mail addresses they held, and the bytes they sent out, all while
the attacker was in (the window).

Needs: the window (``start`` is required; without it nothing is analysed), and the tables
``files``, ``file_access``, ``processes``, ``web_visits`` (files and what was displayed),
``logons``, ``stored_credentials``, ``credential_changes``, ``network`` (credentials), ``addresses``
and ``messages`` (e-mail addresses), ``network`` and ``iocs`` with the window's IOC contacts
(exfiltration). Rules: rules.md, Exposure and Identity; output: findings.schema.json ``exposure``.

Thresholds (quoted in the report's method notes, see `THRESHOLDS`):

- `BEACON_MIN_CONTACTS` (10) contacts from one source to one destination in the window, with a
  coefficient of variation (population standard deviation / mean) of the intervals between
  contact times of at most `BEACON_MAX_JITTER` (0.2), make the destination a beaconing one.
- `CORRELATION_TOLERANCE` (120 s): a logon from an ``organization.egress_ips`` address is a use
  from a subject host when that host's proxy/Zeek traffic to one of the system's hosts spans the
  logon time within the tolerance (a Squid row covers ``[start_time, time]``).
- `MAX_EVIDENCE_REFS` (20): each item lists at most this many evidence references, the earliest
  first (by time, then evidence id and record); counts (``times``, bytes) cover every record.

What is decided here where the rules are silent:

- **Stored files.** Regular files are rows of ``kind`` ``file`` or without a kind (mapped
  listings); directories, links, ``($FILE_NAME)`` twins (``filename_attribute``) and NTFS
  alternate data streams (``stream``, part of a file, not a file) are not counted. The
  volume-root metadata files are the NTFS ones named in `NTFS_METADATA` (``$MFT``,
  ``$Extend\\...``); other ``$`` folders at the root (``$Recycle.Bin``, ``$Windows.~BT``) hold
  ordinary files and count. A file whose birth time is unknown is taken as created in time. A
  bodyfile does not say when a deleted entry was deleted: such an entry counts only when one of
  its four times is at or after ``window.start`` (it still existed then); a deleted entry with
  all times before the window, or none, is left out. The same file in several sources (host +
  path key) is one file. Path labels are computed here with the case's rules (bodyfile rows
  carry none), in pages of `PAGE_ROWS` rows ordered by (host, path key), because case patterns
  must run through the ``regex`` module with a timeout (rules.md, Hostile data), which no engine
  has; content labels come from the rows (a collected folder's files).
- **Displayed.** Files, URLs and searches are keyed as: file = (host, path key), so the same path
  on two subject hosts is two items and the item carries ``host``; URL = the URL as recorded;
  search = the term with white space collapsed, casefolded (``what`` is the first spelling seen
  in the window). ``times`` counts records: one opening seen both as a shortcut and as a process
  creation counts twice. A search counts when its visit was displayed (a redirect hop or a
  subframe carrying a search parameter was not typed by the user). Document paths passed to
  applications are taken from the command line of the processes whose image is one of
  `DISPLAY_APPLICATIONS`: absolute paths (``X:\\...`` or UNC), quoted or standing alone as an
  argument (not ``--option=C:\\...``), up to `MAX_PATH_CHARS`, not executables, in the first
  `MAX_COMMAND_LINE_CHARS` characters.
- **Credentials.** ``used`` also needs the account to be a credential (rules.md, Identity) and
  the logon to succeed. For egress correlation the logon's system must be declared in
  ``systems`` with ``hosts`` (names, IPs or URL origins; traffic matches on the host name or
  IP), and when the subject users list accounts on that system only those accounts count (an
  egress address is shared by the whole organisation). A stored credential created after
  ``window.end`` was not there during the window and is left out. A saved browser login's
  system is the declared system listing its origin (or the origin's host name), else the origin
  (``scheme://host[:port]``). Firefox keeps user names encrypted: such a login is listed with
  account `UNKNOWN_ACCOUNT` and no ``account_key``. A rotation is a ``credential_changes`` row
  of kind ``changed`` or ``reset`` (or without a kind) strictly after ``window.end``; without a
  window end no logged change can be told apart from a change in the window, so only
  ``known.rotations`` (also only after ``window.end`` when there is one) give ``rotated_at``.
- **Addresses.** An address row is on the host when its ``host`` is a subject host or its
  ``mailbox_owner`` is a subject user's e-mail address or name. A header address joins its
  message by (evidence id, record, message id); a message without a time (no readable Date) is
  included, since nothing shows it arrived after the window, and ``notes`` says how many there
  were. Addresses are normalised again (`identity.normalize_address`), so spellings from any
  source count once.
- **Exfiltration.** The source of a network row is the subject host it was recorded on, else its
  ``src_ip``: a Sysmon row and a proxy row of one connection are two sources, and beaconing is
  judged per source (each is a consistent sampling). Contacts at the same instant count once in
  the intervals. An IOC contact counts when its time is in the window. Per destination (host or
  IP, lower-cased) the bytes are summed over the union of its IOC contacts and beaconing rows;
  ``first``/``last`` are the earliest and latest record times. ``bytes_basis`` is ``unknown``
  when no record has an upload size (Squid), else ``connection_bytes`` when a record with an
  upload size carries no URL (Zeek ``conn.log``), else ``request_bytes``; ``bytes_out`` is then
  the sum of the known sizes.
- **Status.** ``partial`` names each table read here that has no row relevant to the subject:
  an empty ``stored_credentials`` cannot tell "no saved logins" from "not collected", so it is
  named too. ``credential_changes`` is not part of it: no change is the usual case, and
  ``rotated_at`` null then means "no rotation seen".

Not covered: files only on other hosts (network shares are displayed, not stored); screen
content other than files, URLs and searches (screenshots, e-mails read); credentials typed into
applications that leave no logon or store; uploads through channels with no network evidence;
addresses in documents other than mail bodies (the formats do not extract them yet).
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import reduce
from itertools import pairwise
from operator import or_
from typing import Any
from urllib.parse import urlsplit

import ibis

from breachscope.analyses import Context, Ref, fetch_rows, fetch_value, iso, refs_finding
from breachscope.analyses.window import Contact, Window
from breachscope.case import Case
from breachscope.detect.labels import Labeler
from breachscope.identity import (
    Realms,
    account_key,
    casefold,
    host_key,
    is_credential_account,
    normalize_address,
    path_key,
)

BEACON_MIN_CONTACTS = 10
BEACON_MAX_JITTER = 0.2
CORRELATION_TOLERANCE = dt.timedelta(seconds=120)
MAX_EVIDENCE_REFS = 20
THRESHOLDS: dict[str, Any] = {
    "BEACON_MIN_CONTACTS": BEACON_MIN_CONTACTS,
    "BEACON_MAX_JITTER": BEACON_MAX_JITTER,
    "CORRELATION_TOLERANCE": f"{int(CORRELATION_TOLERANCE.total_seconds())} s",
    "MAX_EVIDENCE_REFS": MAX_EVIDENCE_REFS,
}

PAGE_ROWS = 100_000  # stored paths labelled per query page
KEY_CHUNK = 1_000  # keys per ``isin`` query
MAX_COMMAND_LINE_CHARS = 8_192
MAX_PATH_CHARS = 1_024
UNKNOWN_ACCOUNT = "(unknown)"

HEADER_FIELDS = ("from", "sender", "reply-to", "to", "cc", "bcc")
CONTACT = "contact"
MENTION = "mention"
ROTATION_KINDS = ("changed", "reset")
NOT_CREDENTIAL_LOGON_TYPES = ("0", "5")
NOT_CREDENTIAL_ACCOUNTS = ("anonymous logon", "-", "")
HIDDEN_TRANSITIONS = ("auto_subframe", "manual_subframe", "embed", "framed_link")
REDIRECT_SUFFIX = "|redirect"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
NTFS_METADATA = (
    "$mft",
    "$mftmirr",
    "$logfile",
    "$volume",
    "$attrdef",
    "$bitmap",
    "$boot",
    "$badclus",
    "$secure",
    "$upcase",
    "$extend",
)
# Engine regex (RE2 and Java): a path key under a volume root NTFS metadata file.
_METADATA_PATTERN = (
    r"^[a-z]:\\\$(?:" + "|".join(n.removeprefix("$") for n in NTFS_METADATA) + r")(?:\\|:|$)"
)
# Image names (without .exe) of applications that display the document they are given.
DISPLAY_APPLICATIONS = (
    # office suites
    "winword", "excel", "powerpnt", "outlook", "onenote", "mspub", "visio", "winproj",
    "msaccess", "wordpad", "write", "soffice", "soffice.bin", "swriter", "scalc", "simpress",
    "hwp", "taro", "taroview", "wps", "et", "wpp",
    # PDF readers
    "acrord32", "acrobat", "foxitreader", "foxitpdfreader", "foxitphantompdf", "sumatrapdf",
    "pdfxedit", "pdfxcview",
    # browsers
    "chrome", "msedge", "firefox", "iexplore", "opera", "brave", "vivaldi",
    # editors
    "notepad", "notepad++", "code", "sublime_text", "gvim", "emeditor", "sakura", "hidemaru",
    # image viewers
    "mspaint", "i_view32", "i_view64", "xnview", "xnviewmp", "jpegview", "irfanview",
    "microsoft.photos", "photoviewer", "honeyview", "picasaphotoviewer",
)  # fmt: skip
_APPLICATION_PATTERN = (
    r"(?:^|\\)(?:" + "|".join(re.escape(a) for a in DISPLAY_APPLICATIONS) + r")\.exe$"
)
# Absolute paths on a command line: quoted, or a whole argument (not ``--opt=C:\...``).
_ROOT = r"(?:[A-Za-z]:|\\\\[^\\\s\"]{1,255})\\"
DOCUMENT_PATH_RE = re.compile(
    rf'(?:^|(?<=\s))"({_ROOT}[^"\r\n]{{1,{MAX_PATH_CHARS}}})"'
    rf"|(?:^|(?<=\s))({_ROOT}[^\s\"]{{1,{MAX_PATH_CHARS}}})(?=\s|$)"
)
EXECUTABLE_SUFFIXES = (".exe", ".dll", ".com", ".scr", ".cpl", ".sys")


# --------------------------------------------------------------------------- results


@dataclass
class FileItem:
    """A stored file with a label or displayed."""

    host: str
    path: str
    key: str
    labels: list[str]
    displayed: bool
    refs: list[Ref]

    def as_finding(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "path": self.path,
            "labels": self.labels,
            "displayed": self.displayed,
            "evidence": refs_finding(self.refs),
        }


@dataclass
class DisplayedItem:
    """A file, URL or search term shown on a subject host inside the window."""

    time: dt.datetime
    kind: str
    what: str
    key: str
    labels: list[str]
    times: int
    refs: list[Ref]
    host: str | None = None

    def as_finding(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "time": iso(self.time),
            "kind": self.kind,
            "what": self.what,
            "labels": self.labels,
            "evidence": refs_finding(self.refs),
            "times": self.times,
        }
        if self.host is not None:
            found["host"] = self.host
        return found


@dataclass
class ExposedCredential:
    """A credential (system, account_key) used from or stored on a subject host in the window.

    ``account`` is the manifest spelling, else the earliest seen; ``account_key`` is None for a
    saved login whose user name the browser keeps encrypted.
    """

    system: str
    account: str
    account_key: str | None
    how: str
    exposed_from: dt.datetime | None
    rotated_at: dt.datetime | None
    refs: list[Ref]

    def as_finding(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "account": self.account,
            "how": self.how,
            "exposed_from": iso(self.exposed_from),
            "rotated_at": iso(self.rotated_at),
            "evidence": refs_finding(self.refs),
        }


@dataclass
class AddressDetail:
    """An exposed address: header fields or contacts it was found in (``where``)."""

    address: str
    internal: bool
    where: list[str]
    refs: list[Ref]

    def as_finding(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "internal": self.internal,
            "where": self.where,
            "evidence": refs_finding(self.refs),
        }


@dataclass
class ExfiltrationItem:
    """Bytes exchanged with one IOC or beaconing destination inside the window."""

    destination: str
    bytes_out: int | None
    bytes_in: int | None
    first: dt.datetime
    last: dt.datetime
    reasons: list[str]
    bytes_basis: str
    refs: list[Ref]

    def as_finding(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "bytes_out": self.bytes_out,
            "bytes_in": self.bytes_in,
            "first": iso(self.first),
            "last": iso(self.last),
            "reasons": self.reasons,
            "evidence": refs_finding(self.refs),
            "bytes_basis": self.bytes_basis,
        }


@dataclass
class Exposure:
    """The section. ``notes`` (an added field of the finding) says how a rule was applied
    where the evidence or the manifest left a choice (no ``mail_domains``, undated messages,
    an open-ended window, timed-out patterns)."""

    status: str
    not_covered: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_stored: int = 0
    by_label: dict[str, int] = field(default_factory=dict)
    files: list[FileItem] = field(default_factory=list)
    displayed: list[DisplayedItem] = field(default_factory=list)
    credentials: list[ExposedCredential] = field(default_factory=list)
    addresses: list[AddressDetail] = field(default_factory=list)
    mentioned: list[str] = field(default_factory=list)
    exfiltration: list[ExfiltrationItem] = field(default_factory=list)

    def as_finding(self) -> dict[str, Any]:
        internal = sum(1 for a in self.addresses if a.internal)
        return {
            "files": {
                "stored": self.files_stored,
                "by_label": dict(sorted(self.by_label.items())),
                "items": [f.as_finding() for f in self.files],
            },
            "displayed": [d.as_finding() for d in self.displayed],
            "credentials": [c.as_finding() for c in self.credentials],
            "email_addresses": {
                "count": len(self.addresses),
                "internal": internal,
                "external": len(self.addresses) - internal,
                "items": [a.address for a in self.addresses],
                "mentioned": self.mentioned,
                "details": [a.as_finding() for a in self.addresses],
            },
            "exfiltration": [e.as_finding() for e in self.exfiltration],
            "status": self.status,
            "not_covered": self.not_covered,
            "notes": self.notes,
        }


# --------------------------------------------------------------------------- helpers


def _rows(expr: Any) -> list[dict[str, Any]]:
    return fetch_rows(expr)


def _count(expr: Any) -> int:
    return int(fetch_value(expr.count()) or 0)


def _host_expr(column: Any) -> Any:
    """The engine's `host_key`, as `Context.subject_host_filter` computes it."""
    return column.lower().re_extract(r"^([^.]*)", 1)


def _in_window(column: Any, window: Window) -> Any:
    predicate = column >= window.start
    if window.end is not None:
        predicate = predicate & (column <= window.end)
    return predicate


def _first_rows(table: Any, keys: list[str], order: tuple[str, ...] = ("time",)) -> Any:
    """The earliest `MAX_EVIDENCE_REFS` rows of each group of ``keys``."""
    ordering = [table[c] for c in (*order, "evidence_id", "record")]
    over = ibis.window(group_by=[table[k] for k in keys], order_by=ordering)
    ranked = table.mutate(_rank=ibis.row_number().over(over))
    return ranked.filter(ranked._rank < MAX_EVIDENCE_REFS)


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), KEY_CHUNK):
        yield ordered[start : start + KEY_CHUNK]


def _pages(expr: Any, first: str, second: str) -> Iterator[dict[str, Any]]:
    """Every row of ``expr`` (unique on ``first``, ``second``), `PAGE_ROWS` at a time."""
    last: tuple[Any, Any] | None = None
    while True:
        page = expr
        if last is not None:
            after = (expr[first] > last[0]) | ((expr[first] == last[0]) & (expr[second] > last[1]))
            page = expr.filter(after)
        rows = _rows(page.order_by([first, second]).limit(PAGE_ROWS))
        yield from rows
        if len(rows) < PAGE_ROWS:
            return
        last = (rows[-1][first], rows[-1][second])


def _bounded(pairs: Iterable[tuple[Any, Ref]]) -> list[Ref]:
    """The earliest `MAX_EVIDENCE_REFS` distinct refs of (time, ref) pairs."""
    seen: dict[Ref, Any] = {}
    for moment, ref in pairs:
        if ref not in seen or (moment is not None and _sort_time(moment) < _sort_time(seen[ref])):
            seen[ref] = moment
    ordered = sorted(seen.items(), key=lambda item: (_sort_time(item[1]), item[0]))
    return [ref for ref, _ in ordered[:MAX_EVIDENCE_REFS]]


_FAR = dt.datetime.max.replace(tzinfo=dt.UTC)


def _sort_time(moment: dt.datetime | None) -> dt.datetime:
    return moment if moment is not None else _FAR


def _owners(ctx: Context) -> list[str]:
    """``mailbox_owner`` values meaning a subject user: their addresses and names, casefolded."""
    names = {casefold(u.name.strip()) for u in ctx.case.subject.users if u.name.strip()}
    return sorted(ctx.subject_addresses | names)


def _subject_host_name(ctx: Context, key: str | None) -> str:
    """A subject host's manifest name from a host key or one of its IPs."""
    if key is None:
        return "?"
    if key in ctx.subject_host_keys:
        return ctx.host_name(key)
    for host in ctx.case.subject.hosts:
        if key in host.ips:
            return host.name
    return key


# --------------------------------------------------------------------------- displayed


@dataclass
class _Shown:
    kind: str
    key: str
    what: str
    host: str | None
    first: dt.datetime
    times: int = 0
    refs: list[tuple[dt.datetime | None, Ref]] = field(default_factory=list)

    def add(self, first: dt.datetime, times: int, what: str) -> None:
        if first < self.first:
            self.first, self.what = first, what
        self.times += times


def _displayed_predicate(visits: Any) -> Any:
    transition = visits.transition
    return transition.isnull() | (
        ~transition.endswith(REDIRECT_SUFFIX) & ~transition.isin(HIDDEN_TRANSITIONS)
    )


def document_paths(command_line: str, image: str | None = None) -> list[str]:
    """Absolute document paths passed on a command line (not the program itself).

    >>> document_paths('"C:\\\\Office\\\\WINWORD.EXE" /n "C:\\\\Users\\\\t\\\\a b.docx"')
    ['C:\\\\Users\\\\t\\\\a b.docx']
    >>> document_paths('chrome.exe --user-data-dir=C:\\\\x C:\\\\Users\\\\t\\\\page.html')
    ['C:\\\\Users\\\\t\\\\page.html']
    """
    text = command_line[:MAX_COMMAND_LINE_CHARS]
    own = casefold(image) if image else None
    found: list[str] = []
    for match in DOCUMENT_PATH_RE.finditer(text):
        path = (match.group(1) or match.group(2)).rstrip()
        folded = casefold(path)
        if folded == own or folded.endswith(EXECUTABLE_SUFFIXES) or path.endswith("\\"):
            continue
        if path not in found:
            found.append(path)
    return found


def _search_key(term: str) -> str:
    return casefold(" ".join(term.split()))


def _displayed(ctx: Context, window: Window, labeler: Labeler) -> list[DisplayedItem]:
    shown: dict[tuple[str, str, str], _Shown] = {}

    def add(
        kind: str,
        host: str,
        key: str,
        what: str,
        first: dt.datetime,
        times: int,
        refs: Iterable[tuple[dt.datetime | None, Ref]],
    ) -> None:
        entry = shown.get((kind, host, key))
        if entry is None:
            entry = shown[(kind, host, key)] = _Shown(kind, key, what, host or None, first)
        entry.add(first, times, what)
        entry.refs.extend(refs)

    # Files opened: shortcuts, Jump Lists, registry MRUs.
    access = ctx.table("file_access")
    access = access.filter(
        ctx.subject_host_filter(access)
        & _in_window(access.time, window)
        & access.path_key.notnull()
    ).mutate(_host=_host_expr(access.host))
    groups = access.group_by(["_host", "path_key"]).agg(
        first=access.time.min(), times=access.count(), path=access.path.argmin(access.time)
    )
    refs: dict[tuple[str, str], list[tuple[dt.datetime | None, Ref]]] = defaultdict(list)
    first_rows = _first_rows(access, ["_host", "path_key"])
    for row in _rows(first_rows.select("_host", "path_key", "time", "evidence_id", "record")):
        ref = ctx.ref(row["evidence_id"], row["record"])
        refs[(row["_host"], row["path_key"])].append((row["time"], ref))
    for row in _rows(groups):
        where = (row["_host"], row["path_key"])
        add("file", *where, row["path"] or row["path_key"], row["first"], row["times"], refs[where])

    # Documents passed to applications that display them.
    processes = ctx.table("processes")
    launched = processes.filter(
        ctx.subject_host_filter(processes)
        & _in_window(processes.time, window)
        & processes.command_line.notnull()
        & processes.image.lower().re_search(_APPLICATION_PATTERN)
    ).select("time", "host", "image", "command_line", "evidence_id", "record")
    for row in _rows(launched):
        ref = ctx.ref(row["evidence_id"], row["record"])
        for path in document_paths(row["command_line"], row["image"]):
            add(
                "file",
                host_key(row["host"]),
                path_key(path),
                path,
                row["time"],
                1,
                [(row["time"], ref)],
            )

    # URLs visited and searches, when the visit was displayed.
    visits = ctx.table("web_visits")
    visits = visits.filter(
        ctx.subject_host_filter(visits)
        & _in_window(visits.time, window)
        & visits.url.notnull()
        & _displayed_predicate(visits)
    )
    for kind, column in (("url", "url"), ("search", "search_terms")):
        chosen = visits.filter(visits[column].notnull())
        refs = defaultdict(list)
        for row in _rows(
            _first_rows(chosen, [column]).select(column, "time", "evidence_id", "record")
        ):
            refs[("", row[column])].append(
                (row["time"], ctx.ref(row["evidence_id"], row["record"]))
            )
        grouped = chosen.group_by(column).agg(first=chosen.time.min(), times=chosen.count())
        for row in _rows(grouped):
            value = row[column]
            key = value if kind == "url" else _search_key(value)
            if not key:
                continue
            add(kind, "", key, value.strip(), row["first"], row["times"], refs[("", value)])

    file_labels = _file_labels(
        ctx, {(s.host or "", s.key) for s in shown.values() if s.kind == "file"}
    )
    items = []
    for entry in shown.values():
        if entry.kind == "file":
            labels = set(labeler.labels(entry.what, "path"))
            labels |= file_labels.get((entry.host or "", entry.key), set())
            host: str | None = _subject_host_name(ctx, entry.host)
        else:
            labels = set(labeler.labels(entry.what, entry.kind))
            host = None
        items.append(
            DisplayedItem(
                time=entry.first,
                kind=entry.kind,
                what=entry.what,
                key=entry.key,
                labels=sorted(labels),
                times=entry.times,
                refs=_bounded(entry.refs),
                host=host,
            )
        )
    return sorted(items, key=lambda d: (d.time, d.kind, d.host or "", d.key))


def _file_labels(ctx: Context, keys: set[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
    """Labels the ``files`` rows carry for (host key, path key) pairs on subject hosts."""
    files = ctx.table("files")
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for chunk in _chunks(k for _, k in keys):
        labelled = files.filter(
            ctx.subject_host_filter(files)
            & files.path_key.isin(chunk)
            & files.labels.notnull()
            & (files.labels.length() > 0)
        )
        pairs = labelled.select(
            _host=_host_expr(labelled.host),
            path_key=labelled.path_key,
            label=labelled.labels.unnest(),
        ).distinct()
        for row in _rows(pairs):
            if (row["_host"], row["path_key"]) in keys and row["label"]:
                found[(row["_host"], row["path_key"])].add(row["label"])
    return found


# --------------------------------------------------------------------------- stored files


def _stored_files(ctx: Context, window: Window) -> Any:
    files = ctx.table("files")
    regular = files.kind.isnull() | (files.kind == "file")
    not_metadata = ~files.path_key.re_search(_METADATA_PATTERN)
    still_there = reduce(
        or_, [files[c] >= window.start for c in ("mtime", "atime", "ctime", "btime")]
    )
    not_deleted_before = files.deleted.isnull() | ~files.deleted | ibis.coalesce(still_there, False)
    predicate = (
        ctx.subject_host_filter(files)
        & files.path_key.notnull()
        & regular
        & not_metadata
        & not_deleted_before
    )
    if window.end is not None:
        predicate = predicate & (files.btime.isnull() | (files.btime <= window.end))
    stored = files.filter(predicate)
    return stored.mutate(_host=_host_expr(stored.host))


def _files(
    ctx: Context, window: Window, labeler: Labeler, displayed: list[DisplayedItem]
) -> tuple[int, dict[str, int], list[FileItem]]:
    stored = _stored_files(ctx, window)
    count = _count(stored.select("_host", "path_key").distinct())

    labels: dict[tuple[str, str], set[str]] = defaultdict(set)
    with_labels = stored.filter(stored.labels.notnull() & (stored.labels.length() > 0))
    row_labels = with_labels.select(
        "_host", "path_key", label=with_labels.labels.unnest()
    ).distinct()
    for row in _rows(row_labels):
        if row["label"]:
            labels[(row["_host"], row["path_key"])].add(row["label"])
    if any("path" in rule.targets for rule in labeler.rules):
        paths = stored.group_by(["_host", "path_key"]).agg(path=stored.path.min())
        for row in _pages(paths, "_host", "path_key"):
            found = labeler.labels(row["path"], "path")
            if found:
                labels[(row["_host"], row["path_key"])].update(found)

    shown = {(host_key(d.host or ""), d.key) for d in displayed if d.kind == "file"}
    shown_stored: set[tuple[str, str]] = set()
    for chunk in _chunks(k for _, k in shown):
        present = stored.filter(stored.path_key.isin(chunk)).select("_host", "path_key").distinct()
        shown_stored |= {(r["_host"], r["path_key"]) for r in _rows(present)} & shown

    wanted = set(labels) | shown_stored
    paths_seen: dict[tuple[str, str], str] = {}
    refs: dict[tuple[str, str], list[tuple[Any, Ref]]] = defaultdict(list)
    for chunk in _chunks(k for _, k in wanted):
        chosen = stored.filter(stored.path_key.isin(chunk))
        first = _first_rows(chosen, ["_host", "path_key"], order=()).select(
            "_host", "path_key", "path", "evidence_id", "record"
        )
        for row in _rows(first):
            key = (row["_host"], row["path_key"])
            if key not in wanted:
                continue
            if row["path"] and (key not in paths_seen or row["path"] < paths_seen[key]):
                paths_seen[key] = row["path"]
            refs[key].append((None, ctx.ref(row["evidence_id"], row["record"])))

    items = [
        FileItem(
            host=_subject_host_name(ctx, key[0]),
            path=paths_seen.get(key, key[1]),
            key=key[1],
            labels=sorted(labels.get(key, set())),
            displayed=key in shown_stored,
            refs=_bounded(refs[key]),
        )
        for key in wanted
    ]
    by_label = Counter(label for found in labels.values() for label in found)
    return count, dict(by_label), sorted(items, key=lambda f: (f.host, f.key))


# --------------------------------------------------------------------------- credentials


def _origin(text: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-cased; None when ``text`` is not a URL.

    >>> _origin("https://Portal.Partner.example/login?x=1")
    'https://portal.partner.example'
    """
    if "://" not in text:
        return None
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}{suffix}"


class _Systems:
    """Which system checks a credential (rules.md, Identity), from the manifest."""

    def __init__(self, ctx: Context) -> None:
        case: Case = ctx.case
        self.ctx = ctx
        self.realms = Realms.from_case(case)
        self.entries: list[tuple[str, str, str]] = [
            (entry.system, account_key(entry.account, self.realms), entry.account)
            for user in case.subject.users
            for entry in user.accounts
        ]
        self.by_origin: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        for system in case.systems:
            for name in system.hosts:
                origin = _origin(name)
                if origin is not None:
                    self.by_origin.setdefault(origin, system.name)
                else:
                    self.by_name.setdefault(casefold(name.strip()), system.name)

    def key(self, account: str, key: str | None, host: str | None) -> str:
        return key or account_key(account, self.realms, host=host)

    def for_account(self, key: str, row_system: str | None, host: str | None) -> str:
        """The manifest account entry's system, else the row's, else the domain or host."""
        listed = [system for system, entry_key, _ in self.entries if entry_key == key]
        if listed:
            return row_system if row_system in listed else listed[0]
        if row_system:
            return row_system
        if "@" in key:
            return key.rsplit("@", 1)[1]
        if "\\" in key:
            return _subject_host_name(self.ctx, key.split("\\", 1)[0])
        return _subject_host_name(self.ctx, host_key(host)) if host else "?"

    def for_origin(self, origin: str) -> str:
        """A saved login's system: the declared system listing its origin, else the origin."""
        normal = _origin(origin)
        if normal is not None and normal in self.by_origin:
            return self.by_origin[normal]
        host = urlsplit(normal).hostname if normal else None
        if host and host in self.by_name:
            return self.by_name[host]
        return normal or origin

    def spelling(self, system: str, key: str | None) -> str | None:
        return next((a for s, k, a in self.entries if s == system and k == key), None)

    def accounts_on(self, system: str) -> list[str]:
        return sorted({k for s, k, _ in self.entries if s == system})


@dataclass
class _Seen:
    how: set[str] = field(default_factory=set)
    first_use: dt.datetime | None = None
    spellings: list[tuple[dt.datetime, str]] = field(default_factory=list)
    refs: list[tuple[Any, Ref]] = field(default_factory=list)


def _is_credential(account: str | None) -> bool:
    """`identity.is_credential_account`, and not a ``HOST$@REALM`` machine account either."""
    return is_credential_account(account) and "$@" not in (account or "")


def _credential_predicate(logons: Any) -> Any:
    """The engine's `_is_credential`, plus logon types 0 (system) and 5 (service)."""
    account = logons.account
    return (
        account.notnull()
        & ~account.strip().lower().isin(NOT_CREDENTIAL_ACCOUNTS)
        & ~account.strip().endswith("$")
        & ~account.contains("$@")
        & (logons.logon_type.isnull() | ~logons.logon_type.isin(NOT_CREDENTIAL_LOGON_TYPES))
    )


def _from_subject_predicate(ctx: Context, logons: Any) -> Any:
    src_ip, src_host = logons.src_ip, logons.src_host
    ips = sorted(ctx.subject_ips)
    from_subject = ctx.subject_host_filter(logons, "src_host")
    if ips:
        from_subject = from_subject | src_ip.isin(ips)
    no_ip = src_ip.isnull() | src_ip.strip().isin(("", "-"))
    no_host = src_host.isnull() | src_host.strip().isin(("", "-"))
    loopback = src_ip.startswith("127.") | (src_ip == "::1") | src_host.lower().isin(LOOPBACK_NAMES)
    local = ctx.subject_host_filter(logons) & (loopback | (no_ip & no_host))
    return ibis.coalesce(from_subject, False) | ibis.coalesce(local, False)


def _used_rows(ctx: Context, window: Window) -> list[dict[str, Any]]:
    logons = ctx.table("logons")
    used = logons.filter(
        (logons.outcome == "success")
        & _in_window(logons.time, window)
        & _credential_predicate(logons)
        & _from_subject_predicate(ctx, logons)
    )
    first = _first_rows(used, ["system", "host", "account"])
    return _rows(
        first.select("time", "system", "host", "account", "account_key", "evidence_id", "record")
    )


def _egress_rows(ctx: Context, window: Window, systems: _Systems) -> list[dict[str, Any]]:
    """Logons from an egress address while a subject host's traffic to the system spans them."""
    egress = sorted(ctx.case.organization.egress_ips)
    if not egress:
        return []
    logons, network = ctx.table("logons"), ctx.table("network")
    found: list[dict[str, Any]] = []
    for system in ctx.case.systems:
        names = sorted(
            {urlsplit(o).hostname or "" for h in system.hosts if (o := _origin(h))}
            | {casefold(h.strip()) for h in system.hosts if _origin(h) is None} - {""}
        )
        if not names:
            continue
        candidates = logons.filter(
            (logons.outcome == "success")
            & (logons.system == system.name)
            & _in_window(logons.time, window)
            & logons.src_ip.isin(egress)
            & _credential_predicate(logons)
        )
        accounts = systems.accounts_on(system.name)
        if accounts:
            candidates = candidates.filter(candidates.account_key.isin(accounts))
        traffic = network.filter(
            ctx.subject_source_filter(network)
            & (network.dst_host.lower().isin(names) | network.dst_ip.isin(names))
            & network.time.notnull()
        )
        traffic = traffic.select(
            n_begin=ibis.coalesce(traffic.start_time, traffic.time) - CORRELATION_TOLERANCE,
            n_end=traffic.time + CORRELATION_TOLERANCE,
            n_ref=traffic.evidence_id.concat("|", traffic.record),
        )
        chosen = candidates.select(
            l_time=candidates.time,
            l_system=candidates.system,
            l_host=candidates.host,
            l_account=candidates.account,
            l_key=candidates.account_key,
            l_eid=candidates.evidence_id,
            l_rec=candidates.record,
        )
        joined = chosen.join(
            traffic, [traffic.n_begin <= chosen.l_time, traffic.n_end >= chosen.l_time]
        )
        grouped = joined.group_by(
            ["l_time", "l_system", "l_host", "l_account", "l_key", "l_eid", "l_rec"]
        ).agg(n_ref=joined.n_ref.min())
        for row in _rows(grouped):
            eid, _, record = row["n_ref"].partition("|")
            found.append(
                {
                    "time": row["l_time"],
                    "system": row["l_system"],
                    "host": row["l_host"],
                    "account": row["l_account"],
                    "account_key": row["l_key"],
                    "evidence_id": row["l_eid"],
                    "record": row["l_rec"],
                    "network_ref": ctx.ref(eid, record),
                }
            )
    return found


def exposed_credentials(ctx: Context, window: Window) -> list[ExposedCredential]:
    """Credentials used from (in the window) or stored on a subject host (rules.md)."""
    if window.start is None:
        return []
    systems = _Systems(ctx)
    seen: dict[tuple[str, str | None], _Seen] = defaultdict(_Seen)

    for row in [*_used_rows(ctx, window), *_egress_rows(ctx, window, systems)]:
        if not _is_credential(row["account"]):
            continue
        key = systems.key(row["account"], row["account_key"], row["host"])
        system = systems.for_account(key, row["system"], row["host"])
        entry = seen[(system, key)]
        entry.how.add("used")
        if entry.first_use is None or row["time"] < entry.first_use:
            entry.first_use = row["time"]
        entry.spellings.append((row["time"], row["account"]))
        entry.refs.append((row["time"], ctx.ref(row["evidence_id"], row["record"])))
        if row.get("network_ref") is not None:
            entry.refs.append((row["time"], row["network_ref"]))

    stored = ctx.table("stored_credentials")
    predicate = ctx.subject_host_filter(stored) & stored.origin.notnull()
    if window.end is not None:
        predicate = predicate & (stored.time.isnull() | (stored.time <= window.end))
    columns = ("time", "host", "origin", "account", "account_key", "evidence_id", "record")
    for row in _rows(stored.filter(predicate).select(*columns)):
        account = row["account"]
        if account is not None and not _is_credential(account):
            continue
        saved_key = systems.key(account, row["account_key"], row["host"]) if account else None
        entry = seen[(systems.for_origin(row["origin"]), saved_key)]
        entry.how.add("stored")
        if account:
            entry.spellings.append((row["time"] or _FAR, account))
        entry.refs.append((row["time"], ctx.ref(row["evidence_id"], row["record"])))

    rotations = _rotations(ctx, window, systems, {k for _, k in seen if k})
    found = []
    for (system, credential_key), entry in seen.items():
        how = "both" if len(entry.how) == 2 else next(iter(entry.how))
        starts = [window.start] if "stored" in entry.how else []
        if entry.first_use is not None:
            starts.append(entry.first_use)
        earliest = min(entry.spellings)[1] if entry.spellings else UNKNOWN_ACCOUNT
        spelling = systems.spelling(system, credential_key) or earliest
        found.append(
            ExposedCredential(
                system=system,
                account=spelling,
                account_key=credential_key,
                how=how,
                exposed_from=min(starts),
                rotated_at=rotations.get((system, credential_key)) if credential_key else None,
                refs=_bounded(entry.refs),
            )
        )
    return sorted(found, key=lambda c: (_sort_time(c.exposed_from), c.system, c.account_key or ""))


def _rotations(
    ctx: Context, window: Window, systems: _Systems, keys: set[str]
) -> dict[tuple[str, str], dt.datetime]:
    """First credential change after ``window.end`` per credential, else ``known.rotations``."""
    found: dict[tuple[str, str], dt.datetime] = {}
    changes = ctx.table("credential_changes")
    if window.end is not None:
        for chunk in _chunks(keys):
            after = changes.filter(
                (changes.time > window.end)
                & changes.account_key.isin(chunk)
                & (changes.kind.isnull() | changes.kind.isin(ROTATION_KINDS))
            ).select("time", "system", "host", "account_key")
            for row in _rows(after):
                credential = (
                    systems.for_account(row["account_key"], row["system"], row["host"]),
                    row["account_key"],
                )
                if credential not in found or row["time"] < found[credential]:
                    found[credential] = row["time"]
    known: dict[tuple[str, str], dt.datetime] = {}
    for rotation in ctx.case.known.rotations:
        credential = (rotation.system, account_key(rotation.account, systems.realms))
        if credential[1] not in keys or (window.end is not None and rotation.at <= window.end):
            continue
        if credential not in known or rotation.at < known[credential]:
            known[credential] = rotation.at
    for credential, moment in known.items():
        found.setdefault(credential, moment)
    return found


# --------------------------------------------------------------------------- addresses


def _internal_domains(ctx: Context) -> tuple[list[str], bool]:
    """(internal domains, from the manifest's ``organization.mail_domains``)."""
    declared = []
    for domain in ctx.case.organization.mail_domains:
        address = normalize_address(f"x@{domain.strip().lstrip('@')}")
        if address:
            declared.append(address.split("@", 1)[1])
    if declared:
        return sorted(set(declared)), True
    return sorted({a.split("@", 1)[1] for a in ctx.subject_addresses}), False


def is_internal(address: str, domains: Iterable[str]) -> bool:
    """In one of ``domains`` or their sub-domains.

    >>> is_internal("a@mail.example-space.jp", ["example-space.jp"])
    True
    >>> is_internal("a@badexample-space.jp", ["example-space.jp"])
    False
    """
    domain = address.rsplit("@", 1)[1]
    return any(domain == d or domain.endswith("." + d) for d in domains)


def _addresses(
    ctx: Context, window: Window, notes: list[str]
) -> tuple[list[AddressDetail], list[str]]:
    addresses, messages = ctx.table("addresses"), ctx.table("messages")
    owners = _owners(ctx)
    on_host = ctx.subject_host_filter(addresses) | addresses.mailbox_owner.lower().isin(owners)
    chosen = addresses.filter(
        ibis.coalesce(on_host, False)
        & addresses.address.notnull()
        & addresses["where"].isin((*HEADER_FIELDS, CONTACT, MENTION))
    )
    dated = messages.select(
        m_eid=messages.evidence_id,
        m_rec=messages.record,
        m_id=messages.message_id,
        m_time=messages.time,
    )
    joined = chosen.left_join(
        dated,
        [
            chosen.evidence_id == dated.m_eid,
            chosen.record == dated.m_rec,
            chosen.message_id == dated.m_id,
        ],
    )
    if window.end is not None:
        joined = joined.filter(
            joined.message_id.isnull() | joined.m_time.isnull() | (joined.m_time <= window.end)
        )
        undated = joined.filter(joined.message_id.notnull() & joined.m_time.isnull())
        count = _count(undated.select("evidence_id", "record").distinct())
        if count:
            notes.append(
                f"{count} message(s) without a readable date were counted as on the host "
                "before window.end"
            )
    else:
        notes.append("the window has no end: addresses of every message on the host count")

    where: dict[str, set[str]] = defaultdict(set)
    mentions: set[str] = set()
    for row in _rows(joined.select("address", "where").distinct()):
        address = normalize_address(row["address"])
        if address is None:
            continue
        if row["where"] == MENTION:
            mentions.add(address)
        else:
            where[address].add(row["where"])
    headers = joined.filter(joined["where"] != MENTION)
    refs: dict[str, list[tuple[Any, Ref]]] = defaultdict(list)
    first = _first_rows(headers, ["address"], order=()).select("address", "evidence_id", "record")
    for row in _rows(first):
        address = normalize_address(row["address"])
        if address in where:
            refs[address].append((None, ctx.ref(row["evidence_id"], row["record"])))

    domains, declared = _internal_domains(ctx)
    if not declared:
        shown = ", ".join(domains) or "none"
        notes.append(
            "organization.mail_domains is not given: internal means the domains of the subject "
            f"users' addresses ({shown})"
        )
    details = [
        AddressDetail(
            address=address,
            internal=is_internal(address, domains),
            where=sorted(found),
            refs=_bounded(refs[address]),
        )
        for address, found in sorted(where.items())
    ]
    return details, sorted(mentions - set(where))


# --------------------------------------------------------------------------- exfiltration


@dataclass(frozen=True)
class _Record:
    time: dt.datetime
    bytes_in: int | None
    bytes_out: int | None
    has_url: bool
    ref: Ref


def coefficient_of_variation(times: list[dt.datetime]) -> float | None:
    """Population standard deviation / mean of the intervals between distinct sorted times.

    >>> t = dt.datetime(2011, 7, 6, tzinfo=dt.UTC)
    >>> coefficient_of_variation([t + dt.timedelta(minutes=m) for m in range(0, 50, 5)])
    0.0
    """
    ordered = sorted(set(times))
    intervals = [(b - a).total_seconds() for a, b in pairwise(ordered)]
    if not intervals:
        return None
    mean = statistics.fmean(intervals)
    if mean <= 0:
        return None
    return statistics.pstdev(intervals) / mean


def _beaconing(ctx: Context, window: Window) -> dict[str, list[_Record]]:
    """Destination -> records of the sources that beacon to it."""
    network = ctx.table("network")
    recent = network.filter(ctx.subject_source_filter(network) & _in_window(network.time, window))
    recent = recent.mutate(
        _source=ibis.cases(
            (ibis.coalesce(ctx.subject_host_filter(recent), False), _host_expr(recent.host)),
            else_=recent.src_ip,
        ),
        _dest=ibis.coalesce(recent.dst_host, recent.dst_ip).lower(),
    )
    recent = recent.filter(recent._source.notnull() & recent._dest.notnull())
    counts = recent.group_by(["_source", "_dest"]).agg(contacts=recent.count())
    candidates = counts.filter(counts.contacts >= BEACON_MIN_CONTACTS)
    rows = recent.semi_join(candidates, ["_source", "_dest"]).select(
        "_source", "_dest", "time", "bytes_in", "bytes_out", "url", "evidence_id", "record"
    )
    grouped: dict[tuple[str, str], list[_Record]] = defaultdict(list)
    for row in _rows(rows):
        grouped[(row["_source"], row["_dest"])].append(
            _Record(
                row["time"],
                row["bytes_in"],
                row["bytes_out"],
                bool(row["url"]),
                ctx.ref(row["evidence_id"], row["record"]),
            )
        )
    found: dict[str, list[_Record]] = defaultdict(list)
    for (_, destination), records in grouped.items():
        times = [r.time for r in records]
        if len(set(times)) < BEACON_MIN_CONTACTS:
            continue
        variation = coefficient_of_variation(times)
        if variation is not None and variation <= BEACON_MAX_JITTER:
            found[destination].extend(records)
    return found


def _exfiltration(ctx: Context, window: Window, contacts: list[Contact]) -> list[ExfiltrationItem]:
    records: dict[str, dict[Ref, _Record]] = defaultdict(dict)
    reasons: dict[str, set[str]] = defaultdict(set)
    start = window.start
    for contact in contacts:
        if (
            start is None
            or contact.time < start
            or (window.end is not None and contact.time > window.end)
        ):
            continue
        destination = contact.destination.lower()
        reasons[destination].add("ioc")
        records[destination].setdefault(
            contact.ref,
            _Record(contact.time, contact.bytes_in, contact.bytes_out, False, contact.ref),
        )
    for destination, found in _beaconing(ctx, window).items():
        reasons[destination].add("beaconing")
        for record in found:
            records[destination][record.ref] = record
    items = []
    for destination, by_ref in records.items():
        rows = list(by_ref.values())
        sent = [r for r in rows if r.bytes_out is not None]
        received = [r.bytes_in for r in rows if r.bytes_in is not None]
        if not sent:
            basis = "unknown"
        elif any(not r.has_url for r in sent):
            basis = "connection_bytes"
        else:
            basis = "request_bytes"
        items.append(
            ExfiltrationItem(
                destination=destination,
                bytes_out=sum(r.bytes_out or 0 for r in sent) if sent else None,
                bytes_in=sum(received) if received else None,
                first=min(r.time for r in rows),
                last=max(r.time for r in rows),
                reasons=sorted(reasons[destination]),
                bytes_basis=basis,
                refs=_bounded((r.time, r.ref) for r in rows),
            )
        )
    return sorted(items, key=lambda e: (e.first, e.destination))


# --------------------------------------------------------------------------- status


def _missing(ctx: Context) -> list[str]:
    """Tables read here without a row relevant to the subject, with what they would cover."""

    def by_host(name: str) -> Any:
        table = ctx.table(name)
        return table.filter(ctx.subject_host_filter(table))

    def logons() -> Any:
        table = ctx.table("logons")
        relevant = ctx.subject_host_filter(table) | ctx.subject_host_filter(table, "src_host")
        if ctx.subject_ips:
            relevant = relevant | table.src_ip.isin(sorted(ctx.subject_ips))
        return table.filter(relevant)

    def addresses() -> Any:
        table = ctx.table("addresses")
        owners = _owners(ctx)
        return table.filter(
            ctx.subject_host_filter(table) | table.mailbox_owner.lower().isin(owners)
        )

    def network() -> Any:
        table = ctx.table("network")
        return table.filter(ctx.subject_source_filter(table))

    checks = (
        ("files", "stored files", lambda: by_host("files")),
        (
            "file_access",
            "files opened (shortcuts, Jump Lists, MRUs)",
            lambda: by_host("file_access"),
        ),
        ("processes", "documents passed to applications", lambda: by_host("processes")),
        ("web_visits", "URLs and searches displayed", lambda: by_host("web_visits")),
        ("logons", "credentials used", logons),
        ("stored_credentials", "credentials stored", lambda: by_host("stored_credentials")),
        ("addresses", "e-mail addresses on the host", addresses),
        ("network", "exfiltration", network),
        ("iocs", "exfiltration to IOC destinations", lambda: ctx.table("iocs")),
    )
    missing = []
    for table, what, relevant in checks:
        if _count(relevant().limit(1)) == 0:
            scope = "in the case" if table == "iocs" else "relevant to the subject"
            missing.append(f"{what}: no {table} rows {scope}")
    return missing


# --------------------------------------------------------------------------- entry point


def analyse(ctx: Context, window: Window, contacts: list[Contact]) -> Exposure:
    """The exposure section per rules.md; ``contacts`` are the window's IOC contacts."""
    if window.start is None:
        return Exposure(
            status="not_analysed",
            not_covered=["the window has no start, so nothing can be placed inside it"],
        )
    labeler = Labeler(ctx.case.sensitivity)
    notes: list[str] = []
    if window.end is None:
        notes.append("the window has no end: everything from window.start on counts")
    displayed = _displayed(ctx, window, labeler)
    stored, by_label, files = _files(ctx, window, labeler, displayed)
    credentials = exposed_credentials(ctx, window)
    addresses, mentioned = _addresses(ctx, window, notes)
    exfiltration = _exfiltration(ctx, window, contacts)
    if labeler.timeouts:
        notes.append(f"{labeler.timeouts} sensitivity pattern match(es) timed out (no label)")
    missing = _missing(ctx)
    return Exposure(
        status="partial" if missing else "analysed",
        not_covered=missing,
        notes=notes,
        files_stored=stored,
        by_label=by_label,
        files=files,
        displayed=displayed,
        credentials=credentials,
        addresses=addresses,
        mentioned=mentioned,
        exfiltration=exfiltration,
    )
