"""vCard contacts (``.vcf``, RFC 2426 vCard 3.0 and RFC 6350 vCard 4.0). Emits `addresses`.

Each ``EMAIL`` of each card becomes one `addresses` row with ``where`` = ``contact``: the
address normalised by `identity.normalize_address`, the card's ``FN`` as ``display_name``,
the item's ``owner`` as ``mailbox_owner`` (whose address book it is) and its ``host``.
The record is ``line:N``, the line of the card's ``BEGIN:VCARD``. Contacts are part of what
a compromise exposes (rules.md, Exposure -> Addresses).

Why the reading is done the way it is:

- The file is split into cards here, line by line, and each card is parsed on its own with
  ``vobject``: a card vobject rejects is one error for that card and the next card is still
  read (one ``readComponents`` over the whole file stops at the first bad card), the
  ``BEGIN:VCARD`` line is known for the record, and memory is bounded by `MAX_CARD_CHARS`.
- A ``BEGIN:VCARD`` inside an open card, or the end of the file, closes the open card: it is
  parsed as if its ``END:VCARD`` were there, with a warning (a truncated or carved file still
  gives its addresses). vCard 2.1 could nest a card in ``AGENT``; such a nested card is then
  read as a contact of its own.
- ``PHOTO``, ``LOGO``, ``SOUND`` and ``KEY`` lines (and their folded continuations) are left
  out before parsing: they carry no address, they are the bulk of a card, and a broken base64
  body there would otherwise lose the whole card.
- Text is UTF-8 (vCard 4.0 requires it; 3.0 exports from current software write it);
  undecodable bytes become U+FFFD and the card carries a warning. vCard 2.1 quoted-printable
  values are accepted (``allowQP``), since Outlook and phones still export 2.1.
- An ``EMAIL`` that is not an address by the identity rules (``local@domain``, dotted domain)
  gives a warning on the card and no row; a ``mailto:`` prefix is dropped. The same address
  twice on one card is one row. Without ``FN`` the name is built from ``N`` (given, family).
- Lines outside any card are passed over.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import IO, Any, ClassVar

import vobject

from breachscope.formats.base import EvidenceItem, Problem, Row, Yielded, register
from breachscope.identity import normalize_address

MAX_LINE_BYTES = 1 << 20
MAX_CARD_CHARS = 16 << 20
SHOWN_CHARS = 80  # how much of a hostile value a problem message quotes
WHERE = "contact"
BINARY_PROPERTIES = ("PHOTO", "LOGO", "SOUND", "KEY")

BEGIN_RE = re.compile(r"^BEGIN:VCARD[ \t]*$", re.IGNORECASE)
END_RE = re.compile(r"^END:VCARD[ \t]*$", re.IGNORECASE)
BINARY_RE = re.compile(
    r"^(?:[A-Za-z0-9-]+\.)?(?:" + "|".join(BINARY_PROPERTIES) + r")[;:]", re.IGNORECASE
)
MAILTO_RE = re.compile(r"^mailto:", re.IGNORECASE)
# vobject counts lines inside the card text it was given (binary lines left out), which
# would mislead next to the record's file line, so its "At line N:" is dropped.
VOBJECT_LINE_RE = re.compile(r"^At line \d+:\s*")


@dataclass
class _Card:
    """The lines of one card as read, and what was noticed while reading them."""

    begin: int
    lines: list[str] = field(default_factory=list)
    size: int = 0
    replaced: bool = False
    oversized: bool = False
    unclosed: bool = False


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


def _cards(stream: IO[bytes]) -> Iterator[_Card]:
    """The cards of a file in order, each with the line of its ``BEGIN:VCARD``."""
    card: _Card | None = None
    in_binary = False
    for number, raw in _numbered_lines(stream):
        if raw is None:
            if card is not None:
                card.oversized = True
            continue
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if BEGIN_RE.match(text):
            if card is not None:
                card.unclosed = True
                yield card
            card, in_binary = _Card(begin=number, lines=[text]), False
            continue
        if card is None:
            continue
        if END_RE.match(text):
            card.lines.append(text)
            yield card
            card = None
            continue
        if text[:1] in (" ", "\t") and in_binary:
            continue
        in_binary = BINARY_RE.match(text) is not None
        if in_binary or card.oversized:
            continue
        card.replaced = card.replaced or "\ufffd" in text
        card.size += len(text) + 1
        if card.size > MAX_CARD_CHARS:
            card.oversized = True
            continue
        card.lines.append(text)
    if card is not None:
        card.unclosed = True
        yield card


def _show(text: str) -> str:
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "...")


def _display_name(component: Any) -> str | None:
    """``FN``, else ``N`` as given and family name."""
    name = getattr(component, "fn", None)
    value = getattr(name, "value", None)
    if isinstance(value, str) and value.strip():
        return value.strip()
    structured = getattr(getattr(component, "n", None), "value", None)
    parts: list[str] = []
    for attribute in ("given", "family"):
        piece = getattr(structured, attribute, None)
        if isinstance(piece, list):
            piece = " ".join(p for p in piece if isinstance(p, str))
        if isinstance(piece, str) and piece.strip():
            parts.append(piece.strip())
    return " ".join(parts) or None


@register
class VCard:
    """vCard 3.0 / 4.0 contacts (RFC 2426, RFC 6350), read with vobject. Emits `addresses`.

    Reference: https://www.rfc-editor.org/rfc/rfc6350 (4.0), RFC 2426 (3.0).
    """

    name: ClassVar[str] = "vcard"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("addresses",)
    sniff_priority: ClassVar[int] = 40

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """True when the first non-blank line of ``head`` is ``BEGIN:VCARD``."""
        text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
        first = text.split(b"\n", 1)[0].rstrip(b"\r")
        return BEGIN_RE.match(first.decode("ascii", errors="replace")) is not None

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """One `addresses` row per distinct address of each card, problems first."""
        with item.open() as stream:
            for card in _cards(stream):
                yield from self._card(item, card)

    def _card(self, item: EvidenceItem, card: _Card) -> Iterator[Yielded]:
        record = f"line:{card.begin}"
        if card.oversized:
            yield Problem(record, f"card larger than {MAX_CARD_CHARS} characters; not read")
            return
        if card.unclosed:
            yield Problem(record, "card has no END:VCARD; read up to where it stops", "warning")
            card.lines.append("END:VCARD")
        try:
            component = vobject.readOne("\n".join(card.lines) + "\n", allowQP=True)
        except Exception as error:  # vobject raises assorted errors on malformed cards
            reason = VOBJECT_LINE_RE.sub("", str(error))
            yield Problem(record, f"card cannot be parsed: {_show(reason)}")
            return
        if card.replaced:
            yield Problem(record, "card is not UTF-8; undecodable bytes replaced", "warning")
        display_name = _display_name(component)
        seen: set[str] = set()
        for line in component.contents.get("email", []):
            value = line.value if isinstance(line.value, str) else str(line.value)
            raw = MAILTO_RE.sub("", value.strip())
            address = normalize_address(raw)
            if address is None:
                yield Problem(record, f"EMAIL {_show(raw)} is not an e-mail address", "warning")
                continue
            if address in seen:
                continue
            seen.add(address)
            yield Row(
                "addresses",
                {
                    "address": address,
                    "display_name": display_name,
                    "where": WHERE,
                    "message_id": None,
                    "mailbox_owner": item.owner,
                    "system": item.system,
                    "host": item.host,
                    "record": record,
                },
            )
