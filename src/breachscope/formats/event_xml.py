"""Windows events as XML text, as ``wevtutil qe <log> /f:xml`` prints them.

Why: when a live responder exports logs with ``wevtutil`` (or ``Get-WinEvent ... ToXml()``)
instead of copying the ``.evtx`` files, the events arrive as XML. They give exactly the rows
the same events give from an EVTX file (`breachscope.formats._windows_events` holds the
mapping), citing ``xml:N``, the N-th event of the file (1-based).

Layout (https://learn.microsoft.com/windows-server/administration/windows-commands/wevtutil):
``wevtutil qe /f:xml`` writes ``<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>
... </Event>`` elements one after another with no root element, usually one per line; with
``/e:Events`` they are wrapped in ``<Events>``. Events may span lines (pretty-printed
exports, ``evtx_dump`` output with an ``<?xml ...?>`` declaration before each event). Redirected
by PowerShell 5 the text is UTF-16 with a byte order mark; otherwise UTF-8.

Reading
- The file is streamed: text is split at each ``</Event>`` end tag as it arrives, so memory
  is bounded by one event (`MAX_EVENT_CHARS`; a longer one is an error and skipped without
  being held). Each event is parsed on its own, so one bad event costs only itself.
- Each event is parsed with defusedxml, DTDs, entities and external references forbidden
  (rules.md, Hostile data): an event with a ``<!DOCTYPE>`` or entity is an error and not read.
- An event that does not parse, is not an ``<Event>``, or lacks an EventID or time is an
  error; text left after the last ``</Event>`` (other than ``</Events>``) is a truncated event
  and an error too.
- ``<RenderingInfo>`` (``/rd:true``) is not data: the message text is not kept, so a rendered
  export gives the same rows as a plain one.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import IO, ClassVar

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from breachscope.formats._windows_events import (
    EVENT_NS,
    TABLES,
    EventError,
    event_rows,
    node_from_element,
    parse_event,
)
from breachscope.formats.base import EvidenceItem, Problem, Yielded, register

READ_BYTES = 1 << 16
MAX_EVENT_CHARS = 8 << 20  # an EVTX record is at most 64 KiB of BinXML; its XML far less than this
END_TAG = re.compile(r"</Event\s*>")
END_TAG_MAX_CHARS = 64  # an end tag with this much white space inside is not one we split on
# What may stand before an event: white space, a BOM, XML declarations, comments, the
# ``<Events>`` wrapper of ``/e:Events`` (and its end tag between concatenated exports).
PROLOG = re.compile(
    r"(?:\s+|\ufeff|<\?xml[^>]*\?>|<!--.*?-->|<Events(?:\s[^>]*)?>|</Events\s*>)*", re.DOTALL
)
EVENT_START = re.compile(r"<Event[\s>]")
NAMESPACED_EVENT = re.compile(r"<Event\s+xmlns\s*=\s*(['\"])" + re.escape(EVENT_NS) + r"\1")


def _encoding(head: bytes) -> tuple[str, int]:
    """(codec, length of the byte order mark) for the file's first bytes."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    if len(head) >= 2 and head[0] and not head[1]:
        return "utf-16-le", 0
    if len(head) >= 2 and not head[0] and head[1]:
        return "utf-16-be", 0
    return "utf-8", 0


@register
class WindowsEventXml:
    """Windows events as ``<Event>`` XML elements (``wevtutil qe /f:xml``)."""

    name: ClassVar[str] = "event_xml"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = TABLES
    sniff_priority: ClassVar[int] = 35

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """The text starts with an ``<Event>`` (maybe inside ``<Events>``) in the events
        namespace."""
        codec, bom = _encoding(head)
        text = head[bom:].decode(codec, errors="ignore")
        start = PROLOG.match(text)
        rest = text[start.end() :] if start else text
        return EVENT_START.match(rest) is not None and NAMESPACED_EVENT.search(text) is not None

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """Stream the events, each a ``win_events`` row plus its typed rows."""
        with item.open() as stream:
            number = 0
            for piece in _pieces(stream):
                number += 1
                reference = f"xml:{number}"
                if piece is None:
                    yield Problem(reference, f"event longer than {MAX_EVENT_CHARS} characters")
                    continue
                yield from _event(piece, item, reference)


def _pieces(stream: IO[bytes]) -> Iterator[str | None]:
    """The text of each event up to its ``</Event>``; None for an over-long one; the text
    after the last end tag as a last piece when it is more than white space and wrappers."""
    head = stream.read(READ_BYTES)
    codec, bom = _encoding(head)
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    buffer = decoder.decode(head[bom:])
    start = 0  # where the next event begins in the buffer
    scanned = 0  # buffer[start:scanned] holds no end tag
    skipping = False  # inside an over-long event, discarding until its end tag
    at_end = not head
    while True:
        found = END_TAG.search(buffer, max(start, scanned))
        if found is not None:
            if skipping:
                skipping = False
            else:
                yield buffer[start : found.end()]
            start = scanned = found.end()
            continue
        if at_end:
            break
        buffer, start = buffer[start:], 0  # drop what is read, once per chunk read
        scanned = max(0, len(buffer) - END_TAG_MAX_CHARS)
        if len(buffer) > MAX_EVENT_CHARS:
            if not skipping:
                yield None
                skipping = True
            buffer, scanned = buffer[scanned:], 0
        chunk = stream.read(READ_BYTES)
        at_end = not chunk
        buffer += decoder.decode(chunk, final=at_end)
    rest = buffer[start:]
    if not skipping and PROLOG.fullmatch(rest) is None:
        yield rest


def _event(piece: str, item: EvidenceItem, reference: str) -> Iterator[Yielded]:
    start = PROLOG.match(piece)
    text = piece[start.end() :] if start else piece
    if END_TAG.search(text) is None:
        yield Problem(reference, f"truncated event (no </Event>): {text[:80]!r}")
        return
    try:
        element = SafeElementTree.fromstring(text, forbid_dtd=True)
    except DefusedXmlException as error:
        yield Problem(reference, f"event refused (DTD or entity): {error}")
        return
    except SafeElementTree.ParseError as error:
        yield Problem(reference, f"not well-formed XML: {error}")
        return
    try:
        rows = event_rows(parse_event(node_from_element(element)), item, reference)
    except EventError as error:
        yield Problem(reference, f"not a Windows event: {error}")
        return
    yield from rows
