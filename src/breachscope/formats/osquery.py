"""osquery software inventory: ``programs``, ``deb_packages``, ``rpm_packages``, ``apps``
(and other package tables with ``name`` and ``version``). Emits `software` rows.

Reference: the osquery table schema (https://osquery.io/schema/) and the result-log layout of
osqueryd's filesystem logger (https://osquery.readthedocs.io/en/stable/deployment/logging/).

Three layouts are read:

- a JSON array of rows, as ``osqueryi --json "select * from programs"`` prints it; the
  record is ``json:<index>``. The array is loaded whole, so a file over `MAX_DOCUMENT_BYTES`
  is one error and is not read;
- JSON lines, one row object a line; the record is ``jsonl:N``. Read line by line;
- osqueryd result logs (JSON lines, or an array of them): event format ``{"name":
  "pack_...", "hostIdentifier": ..., "unixTime": ..., "columns": {...}, "action": "added"}``,
  snapshot format ``"snapshot": [...]`` and batch format ``"diffResults": {"added": [...]}``.
  Every row of one logged line has that line's record.

Why the reading is done the way it is:

- A row is software when it has a non-empty ``name`` and a ``version`` column (``apps``: a
  ``bundle_*`` column). Result logs mix every scheduled query, so rows of other queries
  (``processes``, ``users`` ...) are passed over without a problem.
- ``name``, ``version`` and ``publisher`` per table: ``programs`` ``publisher``;
  ``rpm_packages`` ``vendor``; ``deb_packages`` ``maintainer``; package managers that have
  one, ``author``. ``apps`` has no publisher; its name is ``bundle_name`` (else
  ``display_name``, else ``name`` without ``.app``) and its version ``bundle_short_version``
  (else ``bundle_version``). Versions are kept as written (a deb version keeps its revision).
- ``install_date``: ``programs.install_date`` is the registry's ``YYYYMMDD`` (or an ISO
  date), a local date of the host: midnight in the item's zone; ``rpm_packages.install_time``
  is an epoch (UTC). A date that cannot be read is a warning and stays null.
- ``observed_at`` is the result log's ``unixTime`` (UTC), else ``calendarTime``; a plain
  query export says nothing about when it ran, so it stays null. The item's clock offset
  applies to every time.
- ``host``: a ``hostname`` column (a query joined with ``system_info``), else the log's
  ``decorations.hostname``, else ``hostIdentifier`` unless it is a UUID (osqueryd's
  ``--host_identifier=uuid``), else the item's ``host``, else the UUID.
- Result-log rows with ``action`` ``removed`` (and ``diffResults.removed``) are not read: they
  say the software was gone when the log was written, and `software` holds what was present.
- A line that is not JSON, or an array element that is not an object, is an error; reading
  goes on.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import IO, Any, ClassVar

from breachscope.formats.base import SNIFF_BYTES, EvidenceItem, Problem, Row, Yielded, register

MAX_DOCUMENT_BYTES = 200 << 20
MAX_LINE_BYTES = 64 << 20
SHOWN_CHARS = 80  # how much of a hostile value a problem message quotes
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Columns that, beside name and version, mark a row of an osquery software table.
SOFTWARE_MARKERS = frozenset(
    {"publisher", "install_location", "install_date", "arch", "maintainer", "identifying_number"}
)
APP_MARKERS = frozenset({"bundle_short_version", "bundle_version", "bundle_identifier"})
RESULT_BODIES = frozenset({"columns", "snapshot", "diffResults"})
PUBLISHER_COLUMNS = ("publisher", "vendor", "maintainer", "author")
REMOVED = "removed"
CALENDAR_FORMAT = "%a %b %d %H:%M:%S %Y UTC"

KEY_RE = re.compile(r'"([A-Za-z_][A-Za-z0-9_]{0,63})"\s*:')
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
YYYYMMDD_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
EPOCH_RE = re.compile(r"^\d{1,12}$")


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "...")


def _text(value: Any) -> str | None:
    """A column value as text (osquery writes strings, or numbers with ``numerics``)."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value).strip()
    return text or None


def looks_like_osquery(keys: set[str]) -> bool:
    """Do these JSON keys (of a first object) belong to osquery software rows or a result log?

    >>> looks_like_osquery({"name", "version", "publisher", "install_date"})
    True
    >>> looks_like_osquery({"hostIdentifier", "snapshot", "name"})
    True
    >>> looks_like_osquery({"name", "version", "description"})
    False
    """
    if "hostIdentifier" in keys and keys & RESULT_BODIES:
        return True
    if "name" not in keys:
        return False
    return bool(keys & APP_MARKERS) or ("version" in keys and bool(keys & SOFTWARE_MARKERS))


def _software(columns: dict[str, Any]) -> tuple[str, str | None, str | None] | None:
    """(name, version, publisher) of a software row, None for a row of another table."""
    if columns.keys() & APP_MARKERS:
        name = (
            _text(columns.get("bundle_name"))
            or _text(columns.get("display_name"))
            or (_text(columns.get("name")) or "").removesuffix(".app")
            or None
        )
        version = _text(columns.get("bundle_short_version")) or _text(columns.get("bundle_version"))
        return (name, version, None) if name else None
    name = _text(columns.get("name"))
    if name is None or "version" not in columns:
        return None
    publisher = next(
        (text for c in PUBLISHER_COLUMNS if (text := _text(columns.get(c))) is not None), None
    )
    return name, _text(columns.get("version")), publisher


def _host(columns: dict[str, Any], meta: dict[str, Any], item: EvidenceItem) -> str | None:
    decorations = meta.get("decorations")
    identifier = _text(meta.get("hostIdentifier"))
    named = identifier if identifier and not UUID_RE.match(identifier) else None
    return (
        _text(columns.get("hostname"))
        or (_text(decorations.get("hostname")) if isinstance(decorations, dict) else None)
        or named
        or item.host
        or identifier
    )


def _observed_at(meta: dict[str, Any], item: EvidenceItem) -> dt.datetime | None:
    """When a result log line was written; ValueError when its time cannot be read."""
    unix = _text(meta.get("unixTime"))
    if unix is not None:
        if not EPOCH_RE.match(unix):
            raise ValueError(f"unixTime {_show(unix)} is not an epoch")
        return item.utc(EPOCH + dt.timedelta(seconds=int(unix)))
    calendar = _text(meta.get("calendarTime"))
    if calendar is not None:
        moment = dt.datetime.strptime(calendar, CALENDAR_FORMAT).replace(tzinfo=dt.UTC)
        return item.utc(moment)
    return None


def _install_date(columns: dict[str, Any], item: EvidenceItem) -> dt.datetime | None:
    """Install time from ``install_date`` (local date) or ``install_time`` (epoch).

    ValueError when the column holds something else."""
    date = _text(columns.get("install_date"))
    if date is not None:
        match = YYYYMMDD_RE.match(date)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return item.utc(dt.datetime(year, month, day))
        moment = dt.datetime.fromisoformat(date)
        return item.utc(moment)
    epoch = _text(columns.get("install_time"))
    if epoch is not None and epoch != "0":
        if not EPOCH_RE.match(epoch):
            raise ValueError(epoch)
        return item.utc(EPOCH + dt.timedelta(seconds=int(epoch)))
    return None


def _numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(1-based line number, raw line) with ``None`` for a line over `MAX_LINE_BYTES`."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(MAX_LINE_BYTES)
            yield number, None
            continue
        yield number, raw


def _is_document(head: bytes) -> bool:
    """Whole-document JSON (an array, or one object over several lines) rather than lines."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        return True
    first, newline, _ = text.partition("\n")
    if not newline or not first.strip():
        return False
    try:
        json.loads(first)
    except (ValueError, RecursionError):
        return first.strip() == "{"
    return False


@register
class OsqueryInventory:
    """osquery ``programs`` / ``deb_packages`` / ``rpm_packages`` / ``apps`` results, as a JSON
    array, JSON lines or osqueryd result logs. Emits `software` rows.

    Reference: https://osquery.io/schema/
    """

    name: ClassVar[str] = "osquery"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("software",)
    sniff_priority: ClassVar[int] = 40

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """True when the first JSON object of ``head`` (top level or first array element)
        carries osquery software column names or result-log keys.

        A first object longer than ``head`` is judged by the keys that ``head`` shows.
        """
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
        if text.startswith("["):
            text = text[1:].lstrip()
        if not text.startswith("{"):
            return False
        try:
            first, _ = json.JSONDecoder().raw_decode(text)
        except (ValueError, RecursionError):
            first = None
        keys = set(first) if isinstance(first, dict) else set(KEY_RE.findall(text))
        return looks_like_osquery(keys)

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """`software` rows of every software row in the file, problems in line."""
        if _is_document(item.head(SNIFF_BYTES)):
            yield from self._document(item)
            return
        with item.open() as stream:
            for number, raw in _numbered_lines(stream):
                record = f"jsonl:{number}"
                if raw is None:
                    yield Problem(record, f"line longer than {MAX_LINE_BYTES} bytes")
                    continue
                text = raw.decode("utf-8", errors="replace")
                if number == 1:
                    text = text.removeprefix("\ufeff")
                if not text.strip():
                    continue
                try:
                    value = json.loads(text)
                except (ValueError, RecursionError) as error:
                    yield Problem(record, f"not JSON: {_show(str(error))}")
                    continue
                yield from self._record(item, record, value)

    def _document(self, item: EvidenceItem) -> Iterator[Yielded]:
        with item.open() as stream:
            data = stream.read(MAX_DOCUMENT_BYTES + 1)
        if len(data) > MAX_DOCUMENT_BYTES:
            message = f"JSON document larger than {MAX_DOCUMENT_BYTES} bytes; not read"
            yield Problem("file", message + " (export it as JSON lines)")
            return
        try:
            document = json.loads(data.decode("utf-8", errors="replace").removeprefix("\ufeff"))
        except (ValueError, RecursionError) as error:
            yield Problem("file", f"not JSON: {_show(str(error))}")
            return
        del data
        if isinstance(document, list):
            for index, value in enumerate(document):
                yield from self._record(item, f"json:{index}", value)
        else:
            yield from self._record(item, "file", document)

    def _record(self, item: EvidenceItem, record: str, value: Any) -> Iterator[Yielded]:
        """The rows of one JSON value: a plain row, or a result-log line."""
        if not isinstance(value, dict):
            yield Problem(record, f"not a JSON object: {_show(value)}")
            return
        if not value.keys() & RESULT_BODIES:
            yield from self._row(item, record, value, {}, None)
            return
        try:
            observed_at = _observed_at(value, item)
        except (ValueError, OverflowError) as error:
            yield Problem(record, f"result time unusable: {error}", "warning")
            observed_at = None
        rows: list[Any] = []
        columns = value.get("columns")
        if isinstance(columns, dict) and value.get("action") != REMOVED:
            rows.append(columns)
        snapshot = value.get("snapshot")
        if isinstance(snapshot, list):
            rows.extend(snapshot)
        diff = value.get("diffResults")
        if isinstance(diff, dict) and isinstance(diff.get("added"), list):
            rows.extend(diff["added"])
        for columns in rows:
            if isinstance(columns, dict):
                yield from self._row(item, record, columns, value, observed_at)

    def _row(
        self,
        item: EvidenceItem,
        record: str,
        columns: dict[str, Any],
        meta: dict[str, Any],
        observed_at: dt.datetime | None,
    ) -> Iterator[Yielded]:
        software = _software(columns)
        if software is None:
            return
        name, version, publisher = software
        try:
            install_date = _install_date(columns, item)
        except (ValueError, OverflowError):
            shown = columns.get("install_date", columns.get("install_time"))
            yield Problem(record, f"install date {_show(shown)} not readable", "warning")
            install_date = None
        yield Row(
            "software",
            {
                "host": _host(columns, meta, item),
                "name": name,
                "version": version,
                "publisher": publisher,
                "install_date": install_date,
                "observed_at": observed_at,
                "system": item.system,
                "record": record,
            },
        )
