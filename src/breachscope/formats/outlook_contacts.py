"""Outlook contacts exported as CSV ("Comma Separated Values" export). Emits `addresses`.

Outlook (and Outlook.com, and Gmail's "Outlook CSV") export one contact a row under a fixed
English header: ``First Name``, ``Middle Name``, ``Last Name``, ..., ``E-mail Address``,
``E-mail Type``, ``E-mail Display Name``, ``E-mail 2 Address``, ... ``E-mail 3 Address``.
Each address of a contact becomes one `addresses` row with ``where`` = ``contact``, the
item's ``owner`` as ``mailbox_owner`` and its ``host``; the record is ``csv:N`` (N = 1-based
data row, so a note spanning lines is still one record).

Why the reading is done the way it is:

- Text is decoded as UTF-8 with a BOM dropped (Outlook writes one when it writes UTF-8);
  bytes that are not UTF-8 (an export in the ANSI code page) become U+FFFD, which can only
  touch names, and the file carries one warning saying so. Guessing a code page instead
  (cp1252 or cp932) would turn a Japanese name into another wrong name.
- The display name is the contact's name (``First Name`` ``Middle Name`` ``Last Name``);
  without one, the ``E-mail N Display Name`` Outlook shows, minus the ``(address)`` it
  appends; else none.
- An address that is not ``local@domain`` by the identity rules gives a warning and no row;
  an ``E-mail Type`` of ``EX`` marks an Exchange X.500 address (``/o=.../cn=...``), which has
  no SMTP form in the export, and the warning says so. The same address twice in a row is
  one row.
- Header names compare with surrounding blanks ignored and case-insensitively. Localised
  exports (``E-Mail-Adresse``, ``電子メール アドレス``) have other headers and are not
  recognised; name the format in case.yaml only for an English header.
- A row the CSV reader cannot read is an error and reading goes on.
"""

from __future__ import annotations

import csv
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
from breachscope.identity import normalize_address

SHOWN_CHARS = 80  # how much of a hostile value a problem message quotes
WHERE = "contact"
SNIFF_COLUMN = "e-mail address"
# (address column, type column, display-name column) of Outlook's three e-mail slots.
EMAIL_SLOTS: tuple[tuple[str, str, str], ...] = (
    ("e-mail address", "e-mail type", "e-mail display name"),
    ("e-mail 2 address", "e-mail 2 type", "e-mail 2 display name"),
    ("e-mail 3 address", "e-mail 3 type", "e-mail 3 display name"),
)
NAME_COLUMNS = ("first name", "middle name", "last name")
EXCHANGE_TYPE = "ex"
TRAILING_ADDRESS_RE = re.compile(r"\s*\([^()]*@[^()]*\)\s*$")


def _show(text: str) -> str:
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "...")


def _header_index(header: list[str]) -> dict[str, int]:
    """Lower-cased, stripped column name -> first cell index with that name."""
    where: dict[str, int] = {}
    for index, name in enumerate(header):
        where.setdefault(name.strip().casefold(), index)
    return where


@register
class OutlookContactsCsv:
    """Outlook contacts CSV export (``E-mail Address`` columns). Emits `addresses`.

    Reference: the header Outlook writes on File > Open & Export > Import/Export > Export to a
    file > Comma Separated Values (Contacts folder).
    """

    name: ClassVar[str] = "outlook_contacts"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("addresses",)
    sniff_priority: ClassVar[int] = 40

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """True when the first line of ``head`` is a CSV header with an ``E-mail Address``."""
        cells = csv_header_of(head)
        return SNIFF_COLUMN in {cell.strip().casefold() for cell in cells}

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """One `addresses` row per distinct address of each contact row."""
        stream = io.TextIOWrapper(item.open(), encoding="utf-8-sig", errors="replace", newline="")
        with stream:
            reader = csv.reader(stream)
            try:
                header = next(reader, None)
            except csv.Error as error:
                yield Problem("file", f"CSV header cannot be read: {error}; file not read")
                return
            where = _header_index(header or [])
            slots = [
                (where[address], where.get(kind), where.get(shown))
                for address, kind, shown in EMAIL_SLOTS
                if address in where
            ]
            if not slots:
                yield Problem("file", "no 'E-mail Address' column; not an Outlook contacts CSV")
                return
            names = [where[column] for column in NAME_COLUMNS if column in where]
            warned_encoding = False
            for data_row in csv_rows(reader):
                if isinstance(data_row, Problem):
                    yield data_row
                    continue
                record, cells = data_row
                if not warned_encoding and any("\ufffd" in cell for cell in cells):
                    warned_encoding = True
                    message = "file is not all UTF-8; undecodable bytes replaced"
                    yield Problem("file", message, "warning")
                yield from self._contact(item, record, cells, slots, names)

    def _contact(
        self,
        item: EvidenceItem,
        record: str,
        cells: list[str],
        slots: list[tuple[int, int | None, int | None]],
        names: list[int],
    ) -> Iterator[Yielded]:
        def cell(index: int | None) -> str:
            return cells[index].strip() if index is not None and index < len(cells) else ""

        person = " ".join(part for part in (cell(i) for i in names) if part) or None
        seen: set[str] = set()
        for address_index, type_index, shown_index in slots:
            raw = cell(address_index)
            if not raw:
                continue
            address = normalize_address(raw)
            if address is None:
                exchange = cell(type_index).casefold() == EXCHANGE_TYPE
                hint = " (an Exchange X.500 address)" if exchange else ""
                yield Problem(record, f"{_show(raw)} is not an e-mail address{hint}", "warning")
                continue
            if address in seen:
                continue
            seen.add(address)
            shown = TRAILING_ADDRESS_RE.sub("", cell(shown_index)) or None
            yield Row(
                "addresses",
                {
                    "address": address,
                    "display_name": person or shown,
                    "where": WHERE,
                    "message_id": None,
                    "mailbox_owner": item.owner,
                    "system": item.system,
                    "host": item.host,
                    "record": record,
                },
            )
