"""A single RFC 5322 message file (``.eml``): one message, record ``file``.

Reference: RFC 5322 (Internet Message Format) and RFC 2045-2049 (MIME). A folder of ``.eml``
files is not read here: the ingest walks it and sniffs each file, so this format always reads
exactly one file. Everything a message becomes is in `breachscope.formats._mail`, shared with
mbox; this module only recognises the file and hands its bytes over.

Real samples: ``../shared/corpora/phishing_pot/`` (988 phishing messages, 2019-2026).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePath
from typing import ClassVar

from breachscope.formats._mail import RawMessage, looks_like_headers, message_rows, read_lines
from breachscope.formats.base import EvidenceItem, Yielded, register

RECORD = "file"


@register
class Eml:
    """One message file. Emits ``messages``, ``attachments`` and ``addresses`` rows.

    Recognised by content, never by file name: the file must open with a mail header section
    (see `looks_like_headers`); a leading mbox-style ``From `` line is allowed, though such a
    file is usually taken by the mbox format first (it sniffs earlier) as a one-message mbox.
    """

    name: ClassVar[str] = "eml"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("messages", "attachments", "addresses")
    sniff_priority: ClassVar[int] = 60

    def sniff(self, head: bytes, path: PurePath) -> bool:
        if head.startswith(b"From "):
            head = head.partition(b"\n")[2]
        return looks_like_headers(head)

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        message = RawMessage()
        with item.open() as stream:
            for offset, line, line_start in read_lines(stream):
                if offset == 0 and line.startswith(b"From "):
                    continue  # an mbox-style envelope line is not part of the message
                message.add(line, line_start)
        yield from message_rows(message, item, RECORD)
