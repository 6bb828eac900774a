"""CSV or JSON-lines logs with their own layout, read through a mapping file.

For systems whose log layout no format knows (a partner's portal, a VPN concentrator), the
manifest names ``format: mapped-csv`` or ``mapped-jsonl`` and a ``mapping:`` file; the mapping
(parsed and validated by `breachscope.mapping`) says which table the rows land in and which
source column holds each of its columns. See formats.md ("Mapping files").

What a row gets, in order:

- ``time`` from the mapping's time column, in its format: ``epoch`` / ``epoch_ms`` (UTC),
  ``iso8601`` (an offset is honoured, a naive time is in the item's zone) or a strptime
  pattern (naive unless it has ``%z``). The item's ``clock_offset`` is added to every time.
  Other time-typed columns (``end_time``, ``mtime``, ``install_date``, ...) use the same format.
  A strptime pattern without a year takes the item's ``year`` (else the year of
  ``known.infected_at``) and advances it when the time column's month goes backwards, as for
  syslog (rules.md, Times).
- the mapped fields: a source column name, or ``{column: NAME, map: {raw: value}}``. A raw
  value missing from ``map`` is kept as it is (dropping it would lose a fact) and reported as
  one warning per distinct value (up to `MAX_UNMAPPED_WARNINGS` per file, so memory stays
  bounded on hostile input).
- the constants, which fill a column only where the row has no value for it (a field mapped
  from the log wins over a constant). Time constants are ISO 8601, written by the analyst.
- typing by the table's schema: integer columns must be plain decimal integers, list columns
  come from ``;``-separated strings (or JSON arrays), boolean columns accept
  true/false/yes/no/1/0. An empty or blank cell (or ``-`` in a typed column, as many logs
  write for "none") is no value, so a constant can fill it; other string values are kept
  verbatim, ``-`` included, and cells such as ``=cmd|...`` are not escaped here (escaping is
  an output rule, rules.md "Hostile data").
- identity keys: ``account_key`` for ``logons`` and ``credential_changes`` (computed from
  ``account``; a mapped ``account_key`` is used only when there is no account, normalised);
  ``path_key`` for ``files`` and ``file_access``. ``outcome`` is normalised
  case-insensitively: success / succeeded / successful / ok / true / accepted / allowed ->
  ``success``; failure / failed / fail / false / denied / rejected / error -> ``failure``; any
  other value is kept as written. A value missing from an outcome ``map`` but spelt one of
  these ways is normalised without a warning.

Records are ``csv:N`` (N = 1-based data row, so a quoted cell spanning lines is still one
record) and ``jsonl:N`` (N = 1-based line; blank lines are skipped but counted). The schema has
no column for unmapped source columns: they stay in the raw record, which ``record`` points to
in the evidence, so they are not copied. A JSON source column may be a dotted path into nested
objects (``client.ipAddress``) when no key has that exact name; nested values mapped to a
string column are kept as compact JSON text.

A bad record (no or bad time, bad integer, bad JSON) is a counted error and reading goes on.
A mapping naming a column the CSV header lacks is one error naming the column(s) and the
header, and nothing of that file is read: every row would miss the same fact.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any, ClassVar

import pyarrow as pa

from breachscope.formats.base import (
    EvidenceItem,
    Mapping,
    Problem,
    Row,
    Yielded,
    csv_rows,
    register,
)
from breachscope.identity import account_key, path_key
from breachscope.mapping import MAPPABLE_TABLES
from breachscope.schema import TABLES

LIST_SEPARATOR = ";"
NULL_TOKENS = frozenset({"", "-"})  # "no value" in typed (time, integer, boolean) columns
LEAP_YEAR = 2000  # for reading the month of a year-less time, whatever its day
MAX_UNMAPPED_WARNINGS = 1000  # distinct unmapped values reported per file
SHOWN_CHARS = 80  # how much of a hostile value a problem message quotes

OUTCOME_SPELLINGS: dict[str, str] = {
    **dict.fromkeys(
        ("success", "succeeded", "successful", "ok", "true", "accepted", "allowed"), "success"
    ),
    **dict.fromkeys(
        ("failure", "failed", "fail", "false", "denied", "rejected", "error"), "failure"
    ),
}
ACCOUNT_TABLES = frozenset({"logons", "credential_changes"})
PATH_TABLES = frozenset({"files", "file_access"})
TRUE_WORDS = frozenset({"true", "yes", "y", "t", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "f", "0"})

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INT64 = (-(2**63), 2**63 - 1)
_YEAR_DIRECTIVES = ("%Y", "%y", "%G", "%c", "%x")


class RecordError(ValueError):
    """A value of one record that cannot be used; the record is dropped with this message."""


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > SHOWN_CHARS:
        text = text[:SHOWN_CHARS] + "..."
    return repr(text)


def _as_text(value: Any) -> str:
    """A source value as text: strings verbatim, other JSON values as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def normalize_outcome(value: str) -> str:
    """Common spellings of a logon result become ``success`` / ``failure``.

    >>> normalize_outcome(" Succeeded ")
    'success'
    >>> normalize_outcome("DENIED")
    'failure'
    >>> normalize_outcome("locked out")
    'locked out'
    """
    return OUTCOME_SPELLINGS.get(value.strip().casefold(), value)


class _TimeParser:
    """One item's time format: text or JSON number -> aware UTC time with clock offset."""

    def __init__(self, item: EvidenceItem, fmt: str) -> None:
        self.item = item
        self.fmt = fmt
        self.yearless = "%" in fmt and not any(d in fmt for d in _YEAR_DIRECTIVES)
        self.year = item.year or item.fallback_year
        self.last_month: int | None = None

    def parse(self, value: Any, column: str, advance: bool = False) -> dt.datetime:
        try:
            return self.item.utc(self._moment(value, advance))
        except RecordError:
            raise
        except (ValueError, OverflowError, OSError, InvalidOperation) as error:
            raise RecordError(
                f"{column}: {_show(value)} is not a time in format {self.fmt!r} ({error})"
            ) from None

    def _moment(self, value: Any, advance: bool) -> dt.datetime:
        if self.fmt in ("epoch", "epoch_ms"):
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError("not a number")
            number = Decimal(str(value).strip())
            if not number.is_finite():
                raise ValueError("not a finite number")
            scale = 1_000_000 if self.fmt == "epoch" else 1_000
            return _EPOCH + dt.timedelta(microseconds=int(number * scale))
        if not isinstance(value, str):
            raise ValueError("not a text")
        text = value.strip()
        if self.fmt == "iso8601":
            return dt.datetime.fromisoformat(text)
        if not self.yearless:
            return dt.datetime.strptime(text, self.fmt)
        if self.year is None:
            raise RecordError(
                f"format {self.fmt!r} has no year and the item has none: set 'year:' on "
                f"{self.item.rel_path} in case.yaml"
            )
        pattern = f"{self.fmt} %Y"
        if advance:
            # The month first, read in a leap year so that 29 February always parses; then
            # the real year, so that 29 February is judged in the year it falls in.
            month = dt.datetime.strptime(f"{text} {LEAP_YEAR}", pattern).month
            if self.last_month is not None and month < self.last_month:
                self.year += 1
            self.last_month = month
        return dt.datetime.strptime(f"{text} {self.year}", pattern)


class _RowBuilder:
    """Turns one source record (a lookup of source column -> raw value) into a Row."""

    def __init__(self, item: EvidenceItem, mapping: Mapping) -> None:
        self.item = item
        self.mapping = mapping
        self.table = mapping.table
        schema = TABLES[self.table]
        self.kinds: dict[str, pa.DataType] = {f.name: f.type for f in schema}
        self.times = _TimeParser(item, mapping.time_format or "iso8601")
        self.fields: dict[str, tuple[str, dict[str, Any] | None]] = {}
        for target, spec in mapping.fields.items():
            if isinstance(spec, dict):
                value_map = spec.get("map")
                self.fields[target] = (
                    str(spec["column"]),
                    {str(k): v for k, v in value_map.items()}
                    if isinstance(value_map, dict)
                    else None,
                )
            else:
                self.fields[target] = (str(spec), None)
        self.time_column = mapping.time_column if "time" in self.kinds else None
        if self.time_column is not None:
            self.fields.pop("time", None)
        self.warned: set[tuple[str, str]] = set()
        self.constants: dict[str, Any] = {}

    def sources(self) -> list[str]:
        """Every source column the mapping reads, in mapping order."""
        names = [self.time_column] if self.time_column else []
        names += [column for column, _ in self.fields.values()]
        return list(dict.fromkeys(names))

    def prepare_constants(self) -> None:
        """Type the constants once; a bad one raises RecordError (it would spoil every row)."""
        constant_times = _TimeParser(self.item, "iso8601")
        for column, value in self.mapping.constants.items():
            if self.kinds[column] == pa.timestamp("us", tz="UTC"):
                typed = None if value is None else constant_times.parse(value, column)
            else:
                typed = self._typed(column, value)
            if typed is not None:
                self.constants[column] = typed

    def build(self, lookup: Callable[[str], Any], record: str) -> Iterator[Yielded]:
        values: dict[str, Any] = {}
        warnings: list[Problem] = []
        try:
            if self.time_column is not None:
                raw = lookup(self.time_column)
                if raw is None or (isinstance(raw, str) and raw.strip() in NULL_TOKENS):
                    raise RecordError(f"no time in column {self.time_column!r}")
                values["time"] = self.times.parse(raw, self.time_column, advance=True)
            for target, (column, value_map) in self.fields.items():
                raw = lookup(column)
                if value_map is not None and raw is not None and _as_text(raw) in value_map:
                    raw = value_map[_as_text(raw)]
                elif raw is None or (isinstance(raw, str) and not raw.strip()):
                    continue
                elif value_map is not None:
                    raw = self._unmapped(target, column, raw, record, warnings)
                typed = self._typed(target, raw)
                if typed is not None:
                    values[target] = typed
        except RecordError as error:
            yield Problem(record, f"{self.table} row dropped: {error}")
            return
        for column, value in self.constants.items():
            values.setdefault(column, value)
        self._keys(values)
        values["record"] = record
        yield from warnings
        yield Row(self.table, values)

    def _unmapped(
        self, target: str, column: str, raw: Any, record: str, warnings: list[Problem]
    ) -> Any:
        """``raw``, kept; the first time a value is missing from the map, a warning too."""
        key = _as_text(raw)
        if target == "outcome" and normalize_outcome(key) != key:
            return raw
        seen = (target, key)
        if seen in self.warned or len(self.warned) > MAX_UNMAPPED_WARNINGS:
            return raw
        self.warned.add(seen)
        if len(self.warned) > MAX_UNMAPPED_WARNINGS:
            message = (
                f"more than {MAX_UNMAPPED_WARNINGS} distinct values are missing from the "
                "mapping's maps; further ones are kept without a warning"
            )
        else:
            message = (
                f"{target}: value {_show(raw)} of column {column!r} is not in the mapping's "
                "map; kept as written"
            )
        warnings.append(Problem(record, message, "warning"))
        return raw

    def _typed(self, column: str, raw: Any) -> Any:
        """``raw`` converted to the column's type; None for no value."""
        kind = self.kinds[column]
        if raw is None:
            return None
        if kind == pa.string():
            return _as_text(raw)
        if kind == pa.list_(pa.string()):
            if isinstance(raw, list):
                items = [_as_text(v) for v in raw if v is not None]
            else:
                items = [part.strip() for part in _as_text(raw).split(LIST_SEPARATOR)]
            return [part for part in items if part] or None
        if isinstance(raw, str) and raw.strip() in NULL_TOKENS:
            return None
        if kind == pa.timestamp("us", tz="UTC"):
            return self.times.parse(raw, column)
        if kind == pa.int64():
            return _integer(column, raw)
        if kind == pa.bool_():
            return _boolean(column, raw)
        raise RecordError(f"{column}: type {kind} cannot be mapped")  # not in any mappable table

    def _keys(self, values: dict[str, Any]) -> None:
        if self.table in ACCOUNT_TABLES:
            # The key is ours to compute; a mapped account_key only stands in for a missing
            # account, and is normalised all the same.
            account = values.get("account") or values.pop("account_key", None)
            values.pop("account_key", None)
            if account and account.strip():
                host = values.get("host") or self.item.host
                values["account_key"] = account_key(account, self.item.realms, host)
        if self.table == "logons" and isinstance(values.get("outcome"), str):
            values["outcome"] = normalize_outcome(values["outcome"])
        if self.table in PATH_TABLES and values.get("path"):
            values["path_key"] = path_key(values["path"], self.item.mount)


def _integer(column: str, raw: Any) -> int:
    if isinstance(raw, bool):
        raise RecordError(f"{column}: {_show(raw)} is not an integer")
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float) and raw.is_integer():
        number = int(raw)
    elif isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        number = int(raw.strip())
    else:
        raise RecordError(f"{column}: {_show(raw)} is not an integer")
    if not _INT64[0] <= number <= _INT64[1]:
        raise RecordError(f"{column}: {_show(raw)} does not fit in 64 bits")
    return number


def _boolean(column: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    word = _as_text(raw).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise RecordError(f"{column}: {_show(raw)} is not true or false")


def _text_stream(item: EvidenceItem, newline: str) -> io.TextIOWrapper:
    # utf-8-sig drops a BOM; undecodable bytes become U+FFFD rather than stopping the file.
    return io.TextIOWrapper(item.open(), encoding="utf-8-sig", errors="replace", newline=newline)


def _prepared(item: EvidenceItem) -> tuple[_RowBuilder | None, list[Problem]]:
    """The row builder for ``item``, and the file-level problems to report before reading.

    Without a builder the file is not read: the problems say why.
    """
    if item.mapping is None:
        message = "a mapping file is required: name it with 'mapping:' on this item in case.yaml"
        return None, [Problem("file", message)]
    builder = _RowBuilder(item, item.mapping)
    try:
        builder.prepare_constants()
    except RecordError as error:
        return None, [Problem("file", f"mapping constant unusable: {error}; file not read")]
    notes: list[Problem] = []
    table = item.mapping.table
    has_time = "time" in builder.kinds
    if item.mapping.time_column and not has_time:
        message = f"table {table!r} has no 'time' column; the mapping's time column is ignored"
        notes.append(Problem("file", message, "warning"))
    elif has_time and not item.mapping.time_column and "time" not in builder.fields:
        message = f"the mapping gives no time column; these {table} rows have no time"
        notes.append(Problem("file", message, "warning"))
    return builder, notes


@register
class MappedCsv:
    """A CSV log with a header row, read through the item's mapping file.

    Never sniffed (``sniff`` is always False): any CSV would match, and only the analyst knows
    which column means what, so the manifest must say ``format: mapped-csv`` with ``mapping:``.
    """

    name: ClassVar[str] = "mapped-csv"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = MAPPABLE_TABLES
    sniff_priority: ClassVar[int] = 90

    def sniff(self, head: bytes, path: PurePath) -> bool:
        return False

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        builder, notes = _prepared(item)
        yield from notes
        if builder is None:
            return
        with _text_stream(item, "") as stream:
            reader = csv.reader(stream)
            try:
                header = next(reader, None)
            except csv.Error as error:
                yield Problem("file", f"CSV header cannot be read: {error}; file not read")
                return
            header = header or []
            where = _header_index(header)
            missing = [name for name in builder.sources() if name not in where]
            if missing:
                yield Problem(
                    "file",
                    f"the mapping names column(s) {', '.join(map(repr, missing))} that the CSV "
                    f"header lacks; the header has: {', '.join(map(repr, header)) or 'nothing'}"
                    "; file not read",
                )
                return
            for data_row in csv_rows(reader):
                if isinstance(data_row, Problem):
                    yield data_row
                    continue
                record, cells = data_row

                def lookup(name: str, cells: list[str] = cells) -> str | None:
                    index = where[name]
                    return cells[index] if index < len(cells) else None

                yield from builder.build(lookup, record)


def _header_index(header: list[str]) -> dict[str, int]:
    """Source column name -> cell index; names match with surrounding blanks ignored."""
    where: dict[str, int] = {}
    for index, name in enumerate(header):
        where.setdefault(name, index)
    for index, name in enumerate(header):
        where.setdefault(name.strip(), index)
    return where


@register
class MappedJsonLines:
    """JSON lines (one object a line), read through the item's mapping file.

    Never sniffed (``sniff`` is always False): JSON lines from an unknown system carry no
    meaning of their own, so the manifest must say ``format: mapped-jsonl`` with ``mapping:``.
    """

    name: ClassVar[str] = "mapped-jsonl"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = MAPPABLE_TABLES
    sniff_priority: ClassVar[int] = 90

    def sniff(self, head: bytes, path: PurePath) -> bool:
        return False

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        builder, notes = _prepared(item)
        yield from notes
        if builder is None:
            return
        with _text_stream(item, "\n") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                record = f"jsonl:{number}"
                try:
                    document = json.loads(line)
                except (json.JSONDecodeError, RecursionError) as error:
                    yield Problem(record, f"not JSON: {error}")
                    continue
                if not isinstance(document, dict):
                    yield Problem(record, f"not a JSON object: {_show(document)}")
                    continue
                yield from builder.build(_digger(document), record)


def _digger(document: dict[str, Any]) -> Callable[[str], Any]:
    def lookup(name: str) -> Any:
        return _dig(document, name)

    return lookup


def _dig(document: dict[str, Any], name: str) -> Any:
    """The value at ``name``: an exact key first, else a dotted path into nested objects."""
    if name in document:
        return document[name]
    value: Any = document
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
