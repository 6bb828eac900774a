"""Unix mbox (RFC 4155): many messages in one file, each opened by a ``From `` line.

The file is streamed line by line (never loaded whole, so a multi-gigabyte mailbox reads in
bounded memory) and split on ``From `` separator lines ourselves, because `mailbox.mbox` cannot
give the byte offset a record reference needs (rules.md: ``offset:N`` = byte offset of the
``From `` line, after decompression).

What counts as a separator, since RFC 4155 admits that writers disagree: the first line of the
file when it starts with ``From ``; after that, a ``From `` line that follows a blank line (or
only junk, for the first message) and carries a time (``hh:mm``) and a four-digit year, as
every writer's ``From sender date`` line does. So an unescaped ``From the desk of ...`` in a
body (mboxo writers leave them) does not split a message. Body lines escaped as ``>From ``
(mboxo) or ``>>From `` (mboxrd) lose one ``>``, as mboxrd readers do. Bytes before the first
``From `` line are reported as an error at ``offset:0``, not read.

Real samples: none in ``../shared/corpora`` (the phishing corpus is ``.eml``); tests build mbox
files from messages written in code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import ClassVar

from breachscope.formats._mail import RawMessage, looks_like_headers, message_rows, read_lines
from breachscope.formats.base import EvidenceItem, Problem, Yielded, register

SEPARATOR_CHECK_BYTES = 256
_ESCAPED_FROM = re.compile(rb">+From ")
_TIME = re.compile(rb"\b\d{1,2}:\d{2}\b")
_YEAR = re.compile(rb"\b\d{4}\b")


def is_separator(line: bytes, first: bool = False) -> bool:
    """Whether ``line`` (at a line start, after a blank line) opens a new message.

    >>> is_separator(b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\\n")
    True
    >>> is_separator(b"From the desk of the president\\n")
    False
    """
    if not line.startswith(b"From "):
        return False
    if first:
        return True
    head = line[:SEPARATOR_CHECK_BYTES]
    return bool(_TIME.search(head) and _YEAR.search(head))


def unescape(line: bytes) -> bytes:
    """``>From `` becomes ``From `` and ``>>From `` becomes ``>From `` (mboxrd).

    >>> unescape(b">>From here\\n")
    b'>From here\\n'
    """
    return line[1:] if _ESCAPED_FROM.match(line) else line


@register
class Mbox:
    """Unix mbox (RFC 4155). Emits ``messages``, ``attachments`` and ``addresses`` rows.

    Reference: https://www.rfc-editor.org/rfc/rfc4155 . Each message's record is
    ``offset:N``, the byte offset of its ``From `` line; ``folder`` is null (an mbox file does
    not say which folder it was).
    """

    name: ClassVar[str] = "mbox"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("messages", "attachments", "addresses")
    sniff_priority: ClassVar[int] = 30

    def sniff(self, head: bytes, path: PurePath) -> bool:
        first, _, rest = head.partition(b"\n")
        return first.startswith(b"From ") and looks_like_headers(rest)

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        current: RawMessage | None = None
        start = 0
        previous_blank = True
        leading = False
        with item.open() as stream:
            for offset, line, line_start in read_lines(stream):
                # The first message may follow junk; every later one follows a blank line.
                opens = line_start and (previous_blank or current is None)
                if opens and is_separator(line, first=offset == 0):
                    if current is not None:
                        yield from message_rows(current, item, f"offset:{start}")
                    elif leading:
                        yield Problem("offset:0", f"{offset} bytes before the first From line")
                    current, start, previous_blank = RawMessage(), offset, False
                    continue
                previous_blank = line_start and line.rstrip(b"\r\n") == b""
                if current is None:
                    leading = leading or bool(line.strip())
                    continue
                current.add(unescape(line) if line_start else line, line_start)
        if current is not None:
            yield from message_rows(current, item, f"offset:{start}")
        elif leading:
            yield Problem("offset:0", "no From line: not an mbox")
