"""One message file inside a Maildir: ``<box>/cur/<file>`` or ``<box>/new/<file>``.

Reference: https://cr.yp.to/proto/maildir.html (Maildir) and the Courier Maildir++ notes
(https://www.courier-mta.org/imap/README.maildirquota.html). A Maildir keeps one message per
file, so the ingest walks the folder and hands each file over; this format recognises a file by
its place (its parent is ``cur`` or ``new`` and the box beside it has both) and by its content
(an RFC 5322 header section), then lets `breachscope.formats._mail` turn it into rows, exactly
as for ``.eml``. It sniffs before ``eml`` and ``mbox`` so that a message in a Maildir gets its
folder. Files in ``tmp`` are deliveries still being written and are left to the other formats.

The folder is the box's name as a mail client shows it:

- a Maildir++ sub-folder ``.Sent`` is ``Sent``, and ``.Archive.2011`` is ``Archive/2011``
  (Maildir++ separates levels with dots); names in IMAP modified UTF-7 (RFC 3501 5.1.3, as
  Dovecot and Courier write them, ``&ZeVnLIqe-``) are decoded;
- the top box (one that holds Maildir++ sub-folders, or is called ``Maildir``) is ``INBOX``;
- any other box keeps its own name (``work`` for a mutt-style ``~/Mail/work/cur``).

The record is ``file``: the message is the whole file. Flags in the file name (``:2,S``) are
not read; a trashed (``T``) message is evidence like any other.

Real samples: none in ``../shared/corpora``; tests build Maildir trees in code.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import ClassVar

from breachscope.formats._mail import RawMessage, looks_like_headers, message_rows, read_lines
from breachscope.formats.base import EvidenceItem, Yielded, register

RECORD = "file"
MESSAGE_FOLDERS = ("cur", "new")
TOP_BOX = "INBOX"
TOP_BOX_NAMES = frozenset({"maildir"})  # casefolded names that mean the top box


def _is_box(folder: Path) -> bool:
    return all((folder / name).is_dir() for name in MESSAGE_FOLDERS)


def decode_mutf7(name: str) -> str:
    """An IMAP modified UTF-7 folder name (RFC 3501 5.1.3) as text; undecodable names as given.

    >>> decode_mutf7("&ZeVnLIqe-")
    '日本語'
    >>> decode_mutf7("Tom &- Jerry")
    'Tom & Jerry'
    """
    if "&" not in name:
        return name
    out: list[str] = []
    rest = name
    try:
        while "&" in rest:
            plain, _, rest = rest.partition("&")
            encoded, dash, rest = rest.partition("-")
            if not dash:
                return name
            out.append(plain)
            if not encoded:
                out.append("&")
                continue
            padded = encoded.replace(",", "/") + "=" * (-len(encoded) % 4)
            out.append(base64.b64decode(padded, validate=True).decode("utf-16-be"))
    except (binascii.Error, UnicodeDecodeError):
        return name
    out.append(rest)
    return "".join(out)


def folder_name(box: Path) -> str:
    """The folder a mail client shows for the Maildir box ``box``.

    >>> folder_name(Path("/mail/t.yamada/.Archive.2011"))
    'Archive/2011'
    >>> folder_name(Path("/mail/t.yamada/Maildir"))
    'INBOX'
    """
    name = box.name
    if name.startswith(".") and name.strip("."):
        return "/".join(decode_mutf7(part) for part in name[1:].split(".") if part)
    if name.casefold() in TOP_BOX_NAMES or _has_subfolders(box):
        return TOP_BOX
    return decode_mutf7(name)


def _has_subfolders(box: Path) -> bool:
    try:
        return any(
            child.name.startswith(".") and child.is_dir() and _is_box(child)
            for child in box.iterdir()
        )
    except OSError:
        return False


@register
class Maildir:
    """One message file of a Maildir. Emits ``messages``, ``attachments`` and ``addresses``.

    Recognised by place and content: the file's parent is ``cur`` or ``new``, the folder above
    has both, and the file opens with a mail header section (an mbox-style ``From `` line in
    front is allowed, as some delivery agents leave one).
    """

    name: ClassVar[str] = "maildir"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("messages", "attachments", "addresses")
    sniff_priority: ClassVar[int] = 25

    def sniff(self, head: bytes, path: PurePath) -> bool:
        where = Path(path)
        if where.parent.name not in MESSAGE_FOLDERS:
            return False
        try:
            if not _is_box(where.parent.parent):
                return False
        except OSError:
            return False
        if head.startswith(b"From "):
            head = head.partition(b"\n")[2]
        return looks_like_headers(head)

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        folder = folder_name(item.path.parent.parent)
        message = RawMessage()
        with item.open() as stream:
            envelope = False  # a delivery agent's mbox ``From `` line is not a header
            for offset, line, line_start in read_lines(stream):
                if offset == 0:
                    envelope = line.startswith(b"From ")
                elif line_start:
                    envelope = False
                if not envelope:
                    message.add(line, line_start)
        yield from message_rows(message, item, RECORD, folder)
