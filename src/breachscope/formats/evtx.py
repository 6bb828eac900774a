"""Windows XML Event Log files (``.evtx``): Security, System, Sysmon, PowerShell ...

Why: the event logs of a Windows host or domain controller say who logged on from where, which
processes ran and when a log was cleared. Every record becomes a ``win_events`` row; logons,
credential changes, process creations and Sysmon network connections also become typed rows.
The event-to-rows mapping is shared with ``event_xml`` and documented in
`breachscope.formats._windows_events`.

Reading
- The binary format (file header ``ElfFile\\0``, 64 KiB chunks ``ElfChnk\\0`` of BinXML
  records; https://github.com/libyal/libevtx/blob/main/documentation/Windows%20XML%20Event%20Log%20(EVTX).asciidoc)
  is parsed by the Rust ``evtx`` package (pyevtx-rs), given the item's read-only stream (so
  gzip'd evidence is read too), never a path it could open for writing. Records are read as
  its JSON rendering: unlike its XML rendering, JSON carries control characters that attackers
  put in event strings (an XML 1.0 parser refuses them, and would lose the record).
- The record reference is ``evtx:<EventRecordID>``, the ``System/EventRecordID`` Event
  Viewer shows (rules.md, Identity). The record header's own number (pyevtx-rs'
  ``event_record_id``) is used only when the event has none: the two differ in files saved
  from a filtered view, as most published samples are, where the header numbers from 1.
- A chunk or record the parser cannot read is one error (``evtx:?``, the message names the
  chunk or its record ids, as the parser gives them) and reading goes on with the next. A file
  whose header is not EVTX is one error for the ``file``.
- A file shorter than its header's chunk count says (copied while open, or cut off) is read
  as far as it goes, with one warning: the parser itself stops silently at the cut.

Not covered: ``file_access`` rows (object access 4663, Sysmon 11) are not made yet; those
events are in ``win_events``. Message strings are not rendered (no provider DLLs offline).
"""

from __future__ import annotations

import io
import json
import re
import struct
from collections.abc import Iterator
from pathlib import PurePath
from typing import IO, Any, ClassVar

from evtx import PyEvtxParser

from breachscope.formats._windows_events import (
    TABLES,
    EventError,
    event_rows,
    parse_event_json,
)
from breachscope.formats.base import EvidenceItem, Problem, Yielded, register

MAGIC = b"ElfFile\x00"
FILE_HEADER_BYTES = 4096
CHUNK_BYTES = 65536
CHUNK_COUNT_OFFSET = 0x2A  # uint16 "number of chunks" in the file header
# The parser reports each unreadable chunk or record once and moves on; this bound only
# guarantees an end should a damaged file make it report without moving.
MAX_CONSECUTIVE_ERRORS = 100_000
# The parser's worker threads: the ingest may read several items at once.
PARSER_THREADS = 1
RECORD_IDS = re.compile(r"record IDs? (?P<ids>\d+(?:\.\.\d+)?)")


@register
class EvtxFile:
    """A binary ``.evtx`` event log, read with the Rust ``evtx`` package."""

    name: ClassVar[str] = "evtx"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = TABLES
    sniff_priority: ClassVar[int] = 10

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """The file header's magic ``ElfFile\\0``."""
        return head.startswith(MAGIC)

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """Stream every record as a ``win_events`` row plus its typed rows."""
        with item.open() as stream:
            header = stream.read(FILE_HEADER_BYTES)
            if not header.startswith(MAGIC):
                yield Problem("file", "not an EVTX file: the header lacks the ElfFile magic")
                return
            truncated = _truncation(stream, header)
            stream.seek(0)
            try:
                parser = PyEvtxParser(stream, number_of_threads=PARSER_THREADS)
                records = parser.records_json()
            except (RuntimeError, OSError, ValueError) as error:
                yield Problem("file", f"the evtx parser cannot read this file: {error}")
                return
            if truncated:
                yield Problem("file", truncated, "warning")
            yield from _records(records, item)


def _truncation(stream: IO[bytes], header: bytes) -> str | None:
    """A message when the file holds fewer chunks than its header counts, else None."""
    if len(header) < CHUNK_COUNT_OFFSET + 2:
        return None
    (chunks,) = struct.unpack_from("<H", header, CHUNK_COUNT_OFFSET)
    try:
        size = stream.seek(0, io.SEEK_END)
    except (OSError, ValueError):
        return None
    expected = FILE_HEADER_BYTES + chunks * CHUNK_BYTES
    if size >= expected:
        return None
    return (
        f"file is {size} bytes but its header counts {chunks} chunks ({expected} bytes): "
        "truncated; records after the cut are lost"
    )


def _records(records: Iterator[Any], item: EvidenceItem) -> Iterator[Yielded]:
    consecutive_errors = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except Exception as error:  # the parser raises RuntimeError; be safe with others
            consecutive_errors += 1
            message = str(error)
            found = RECORD_IDS.search(message)
            where = f" (records {found['ids']})" if found else ""
            yield Problem("evtx:?", f"unreadable EVTX data{where}: {message[:500]}")
            if consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
                yield Problem("file", f"stopped after {consecutive_errors} errors in a row")
                return
            continue
        consecutive_errors = 0
        yield from _record(record, item)


def _record(record: dict[str, Any], item: EvidenceItem) -> Iterator[Yielded]:
    number = record.get("event_record_id")
    try:
        rendered = json.loads(record["data"])
        event = rendered["Event"] if isinstance(rendered, dict) else None
        if not isinstance(event, dict):
            raise EventError("record is not an <Event>")
        fallback = record.get("timestamp")
        parsed = parse_event_json(event, fallback if isinstance(fallback, str) else None)
    except (KeyError, TypeError, ValueError, RecursionError) as error:  # EventError, JSON
        yield Problem("evtx:?", f"unreadable event (record number {number} of the file): {error}")
        return
    record_id = parsed.record_id if parsed.record_id is not None else number
    reference = f"evtx:{record_id}" if isinstance(record_id, int) else "evtx:?"
    try:
        rows = event_rows(parsed, item, reference)
    except EventError as error:
        yield Problem(reference, str(error))
        return
    yield from rows
