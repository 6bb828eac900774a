"""Software inventory as CSV: ``host,name,version,publisher,install_date``. Emits `software`.

The layout of installed-software reports exported from SCCM / MECM, WSUS or an asset tool:
a header row, then one installed product per row. The record is ``csv:N`` (N = 1-based data
row); ``observed_at`` is null because a report does not say when each row was collected.

Why the reading is done the way it is:

- Header names compare case-insensitively with blanks, ``_`` and ``-`` ignored and SCCM's
  trailing ``0`` dropped (``DisplayName0``, ``Install_Date``, ``INSTALL DATE`` all work);
  extra columns are passed over. Each column takes the first alias, in `COLUMN_ALIASES`
  order, that the header has: ``DisplayName0`` is preferred over a bare ``Name0`` because in
  SCCM views ``Name0`` is the computer.
- A file is recognised when its first line names a ``name`` and a ``version`` column and at
  least one of ``host``, ``publisher`` and ``install_date``; a bare ``name,version`` CSV says
  too little to be claimed from content.
- ``install_date`` is ISO 8601 (a date, or a time with or without offset), ``YYYYMMDD`` (the
  registry's ``InstallDate``) or ``MM/DD/YYYY`` with an optional ``H:MM[:SS] [AM|PM]`` (the US
  format SCCM and WSUS reports print). A slash date is always read month first; one whose
  first number is over 12 is not that and is a warning. A time without offset is in the
  item's zone. A date that cannot be read is a warning: the row is kept with a null date.
- ``host`` is the row's, else the item's ``host``. A row without a name is an error.
- Text is UTF-8 with a BOM dropped; undecodable bytes become U+FFFD.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import ClassVar

from breachscope.formats.base import (
    EvidenceItem,
    Problem,
    Row,
    Yielded,
    csv_header_of,
    csv_rows,
    register,
)

SHOWN_CHARS = 80  # how much of a hostile value a problem message quotes
# Output column -> accepted header names (normalised by `header_key`), most specific first.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "host": (
        "host",
        "hostname",
        "computername",
        "computer",
        "netbiosname",
        "machinename",
        "devicename",
        "device",
    ),
    "name": (
        "displayname",
        "productname",
        "softwarename",
        "programname",
        "name",
        "application",
        "software",
        "program",
        "product",
    ),
    "version": ("version", "displayversion", "productversion", "softwareversion"),
    "publisher": ("publisher", "vendor", "manufacturer"),
    "install_date": ("installdate", "installedon", "installed", "installtime"),
}
CONTEXT_COLUMNS = ("host", "publisher", "install_date")

HEADER_JUNK_RE = re.compile(r"[\s_-]+")
YYYYMMDD_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
US_DATE_RE = re.compile(
    r"^(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    r"\s*(?P<half>[AaPp][Mm])?)?$"
)


def header_key(name: str) -> str:
    """A header name in comparison form.

    >>> header_key(" Install_Date ")
    'installdate'
    >>> header_key("DisplayName0")
    'displayname'
    """
    key = HEADER_JUNK_RE.sub("", name.removeprefix("\ufeff")).casefold()
    return key[:-1] if key.endswith("0") and not key[:-1].isdigit() else key


def _columns(header: list[str]) -> dict[str, int]:
    """Output column -> cell index, for the columns the header has."""
    where: dict[str, int] = {}
    for index, name in enumerate(header):
        where.setdefault(header_key(name), index)
    found: dict[str, int] = {}
    for column, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in where and where[alias] not in found.values():
                found[column] = where[alias]
                break
    return found


def parse_install_date(text: str) -> dt.datetime:
    """A naive or aware datetime from an inventory's install date; ValueError otherwise.

    >>> parse_install_date("20240305")
    datetime.datetime(2024, 3, 5, 0, 0)
    >>> parse_install_date("3/5/2024 2:07 PM")
    datetime.datetime(2024, 3, 5, 14, 7)
    >>> parse_install_date("2024-03-05T09:00:00+09:00").isoformat()
    '2024-03-05T09:00:00+09:00'
    """
    match = YYYYMMDD_RE.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return dt.datetime(year, month, day)
    match = US_DATE_RE.match(text)
    if match:
        hour = int(match["hour"] or 0)
        half = (match["half"] or "").lower()
        if half and not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} with {half.upper()}")
        if half:
            hour = hour % 12 + (12 if half == "pm" else 0)
        return dt.datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            hour,
            int(match["minute"] or 0),
            int(match["second"] or 0),
        )
    return dt.datetime.fromisoformat(text)


def _show(text: str) -> str:
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "...")


@register
class InventoryCsv:
    """Installed-software CSV (``host,name,version,publisher,install_date``; SCCM / WSUS
    style exports). Emits `software` rows."""

    name: ClassVar[str] = "inventory_csv"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("software",)
    sniff_priority: ClassVar[int] = 60

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """True when the first line of ``head`` is a header with name, version and context."""
        cells = csv_header_of(head)
        if len(cells) < 3:
            return False
        found = _columns(cells)
        return "name" in found and "version" in found and any(c in found for c in CONTEXT_COLUMNS)

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """One `software` row per data row with a name."""
        stream = io.TextIOWrapper(item.open(), encoding="utf-8-sig", errors="replace", newline="")
        with stream:
            reader = csv.reader(stream)
            try:
                header = next(reader, None)
            except csv.Error as error:
                yield Problem("file", f"CSV header cannot be read: {error}; file not read")
                return
            found = _columns(header or [])
            if "name" not in found:
                yield Problem("file", "no name column in the header; file not read")
                return
            for data_row in csv_rows(reader):
                if isinstance(data_row, Problem):
                    yield data_row
                    continue
                record, cells = data_row
                if not any(cell.strip() for cell in cells):
                    continue
                yield from self._row(item, record, cells, found)

    def _row(
        self, item: EvidenceItem, record: str, cells: list[str], found: dict[str, int]
    ) -> Iterator[Yielded]:
        def cell(column: str) -> str | None:
            index = found.get(column)
            if index is None or index >= len(cells):
                return None
            return cells[index].strip() or None

        name = cell("name")
        if name is None:
            yield Problem(record, "row has no software name")
            return
        install_date: dt.datetime | None = None
        raw_date = cell("install_date")
        if raw_date is not None:
            try:
                install_date = item.utc(parse_install_date(raw_date))
            except (ValueError, OverflowError) as error:
                message = f"install date {_show(raw_date)} not readable: {error}"
                yield Problem(record, message, "warning")
        yield Row(
            "software",
            {
                "host": cell("host") or item.host,
                "name": name,
                "version": cell("version"),
                "publisher": cell("publisher"),
                "install_date": install_date,
                "observed_at": None,
                "system": item.system,
                "record": record,
            },
        )
