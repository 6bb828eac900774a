"""The Sleuth Kit bodyfile (mactime 3.x): one file-system entry a line. Emits `files` rows.

Reference: https://wiki.sleuthkit.org/index.php?title=Body_file and TSK's own writer
``tsk_fs_name_print_mac_md5`` (tsk/fs/fs_name.c). The layout is::

    MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime

Why the reading is done the way it is:

- The name may itself hold ``|`` (older TSK writes it raw, other tools escape it as ``\\|``),
  so the name is everything between the first field and the last nine, as plaso reads it.
- Escapes (``\\xNN`` for control characters, ``\\|``, ``\\\\``) are undone in one pass, as
  plaso's bodyfile parser undoes them. A name holding *raw* control characters
  was not escaped by its writer, so it is kept as written and the row carries a warning (plaso
  gives the same line a recovery warning). TSK itself replaces control characters by ``^``.
- TSK appends markers to the name in this order: ``:stream`` (NTFS alternate data stream),
  `` ($FILE_NAME)``, `` -> target`` (symbolic links), `` (deleted)`` or
  `` (deleted-realloc)`` (the name is unallocated; with ``-realloc`` its metadata now belongs
  to another file). They are taken off from the end: ``deleted`` is set, a link loses its
  target, and a `` ($FILE_NAME)`` twin keeps its row with ``kind`` ``filename_attribute`` so
  that exposure can leave twins out (rules.md, Exposure -> Stored files).
- ``kind`` comes from the type letter TSK writes before the ``/`` of ``mode_as_string`` (the
  directory entry's type), else from the one after it (the metadata's type); a mode without
  ``/`` is read as ``ls -l`` writes it (``-`` is a regular file). An alternate data stream
  (an NTFS ``$DATA`` attribute, ``inode-128-id``, with a ``:`` in the last name component) is
  ``stream``: it is part of a file, not a file.
- Volume-root ``$`` metadata files (``$MFT``, ``$LogFile``, ``$Extend/...``) are kept as
  ordinary rows (``kind`` ``file`` or ``dir``): whether they count is exposure's decision,
  not the reader's.
- Times are epoch seconds, possibly with a fraction (nanoseconds are cut to microseconds, the
  store's resolution). ``0`` or empty means unknown and becomes null. Epochs are UTC by
  definition, so no zone applies; the item's ``clock_offset`` does (rules.md, Times). Plaso
  instead reads bodyfile epochs as local time; breachscope does not.
- The MD5 is not a SHA-256, so ``sha256`` stays null. When TSK had no metadata for an entry
  it writes ``----------|0|0|0`` for mode, UID, GID and size; that size is unknown (null).
- Paths follow rules.md (Identity -> Files): ``\\`` separators, drive ``C:`` unless the item
  says ``mount:`` or the name carries its own drive (``fls -m D:/``).
- A line with fewer than eleven fields, or with no name, is an error and is dropped; a field
  that is not a number is a warning, the field is null and the row is kept. Lines starting
  with ``#`` are comments. Reading is line by line, bounded by `MAX_LINE_BYTES`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, ClassVar

from breachscope.formats.base import EvidenceItem, Problem, Row, Yielded, numbered_lines, register
from breachscope.identity import display_path, path_key

MAX_LINE_BYTES = 1 << 20
SNIFF_LINES = 5
FIELDS = 11
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
INT64_MAX = (1 << 63) - 1

DELETED_SUFFIXES = (" (deleted)", " (deleted-realloc)")
FILE_NAME_SUFFIX = " ($FILE_NAME)"
LINK_ARROW = " -> "
NO_METADATA_MODE = "----------"
FILENAME_ATTRIBUTE = "filename_attribute"
STREAM = "stream"
UNKNOWN_KIND = "unknown"
# TSK's tsk_fs_name_type_str / tsk_fs_meta_type_str letters.
TYPE_KINDS: dict[str, str] = {
    "r": "file",
    "d": "dir",
    "l": "link",
    "p": "fifo",
    "c": "char_device",
    "b": "block_device",
    "s": "socket",
    "h": "shadow",
    "w": "whiteout",
    "v": "virtual",
    "V": "virtual_dir",
}
# Characters plaso's bodyfile writer escapes as \xNN: C0 controls and DEL..0x9F.
NON_PRINTABLE = frozenset([*range(0x00, 0x20), *range(0x7F, 0xA0)])

MD5_RE = re.compile(r"^(?:0?|[0-9a-fA-F]{32})$")
INODE_RE = re.compile(r"^\d+(?:-\d+){0,2}$")
NTFS_DATA_INODE_RE = re.compile(r"^\d+-128-\d+$")
NUMBER_RE = re.compile(r"^\d*$")
EPOCH_RE = re.compile(r"^(?P<seconds>\d{1,12})(?:\.(?P<fraction>\d+))?$")
MODE_RE = re.compile(r"^[-A-Za-z]/?[-A-Za-z]{0,10}$")
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")
SEPARATOR_RE = re.compile(r"[/\\]")
ESCAPE_RE = re.compile(r"\\(?:x(?P<hex>[0-9a-fA-F]{2})|(?P<char>[|\\]))")


def _unescape(match: re.Match[str]) -> str:
    if match["char"]:
        return match["char"]
    value = int(match["hex"], 16)
    return chr(value) if value in NON_PRINTABLE else match[0]


def _kind(mode: str) -> str:
    """The entry's kind from ``mode_as_string``: ``r/rrw-------``, ``-/d---------``, ``drwx...``."""
    if "/" in mode:
        name_type, _, meta = mode.partition("/")
        letter = name_type[:1] if name_type not in ("", "-") else meta[:1]
        return TYPE_KINDS.get(letter, UNKNOWN_KIND)
    letter = mode[:1]
    return "file" if letter == "-" else TYPE_KINDS.get(letter, UNKNOWN_KIND)


def _epoch(text: str) -> dt.datetime | None:
    """Aware UTC time of an epoch field, None for 0 or empty; ValueError when not one."""
    if not text:
        return None
    match = EPOCH_RE.match(text)
    if match is None:
        raise ValueError(text)
    seconds = int(match["seconds"])
    micros = int((match["fraction"] or "").ljust(6, "0")[:6])
    if seconds == 0 and micros == 0:
        return None
    return EPOCH + dt.timedelta(seconds=seconds, microseconds=micros)


def _looks_like_entry(line: str) -> bool:
    parts = line.split("|")
    if len(parts) < FIELDS or not "|".join(parts[1:-9]):
        return False
    inode, mode, uid, gid, size, *times = parts[-9:]
    return (
        MD5_RE.match(parts[0]) is not None
        and INODE_RE.match(inode) is not None
        and MODE_RE.match(mode) is not None
        and all(NUMBER_RE.match(value) for value in (uid, gid, size))
        and all(not value or EPOCH_RE.match(value) for value in times)
    )


@register
class Bodyfile:
    """The Sleuth Kit bodyfile, mactime 3.x (``fls -m``, ``ils -m``). Emits `files` rows.

    Reference: https://wiki.sleuthkit.org/index.php?title=Body_file
    Volume-root ``$`` metadata files are kept as rows; exposure leaves them out.
    """

    name: ClassVar[str] = "bodyfile"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("files",)
    sniff_priority: ClassVar[int] = 40

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """True when the first entry lines of ``head`` are 11 ``|``-separated fields.

        Comment lines (``#``) are passed over; the first entry must have a numeric inode,
        numeric sizes and epoch times, and most of the first `SNIFF_LINES` entries too. The
        last line of a full ``head`` may be cut short, so it is only used when it is the only
        one.
        """
        pieces = head.split(b"\n")
        if len(pieces) > 1:
            pieces = pieces[:-1]
        lines = [p.decode("utf-8", errors="replace").rstrip("\r") for p in pieces]
        entries = [line for line in lines if line.strip() and not line.startswith("#")]
        entries = entries[:SNIFF_LINES]
        if not entries or not _looks_like_entry(entries[0]):
            return False
        matching = sum(1 for line in entries if _looks_like_entry(line))
        return matching * 2 > len(entries)

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """One `files` row per entry line, with its problems before it."""
        with item.open() as stream:
            for number, line in numbered_lines(stream, MAX_LINE_BYTES):
                record = f"line:{number}"
                if line is None:
                    yield Problem(record, f"line longer than {MAX_LINE_BYTES} bytes")
                    continue
                if not line.strip() or line.startswith("#"):
                    continue
                yield from self._parse(item, record, line)

    def _parse(self, item: EvidenceItem, record: str, line: str) -> Iterator[Yielded]:
        parts = line.split("|")
        if len(parts) < FIELDS:
            yield Problem(record, f"{len(parts)} fields, a bodyfile line has {FIELDS}")
            return
        md5, name = parts[0], "|".join(parts[1:-9])
        inode, mode, uid, gid, size_text, atime, mtime, ctime, crtime = parts[-9:]
        if not name:
            yield Problem(record, "entry without a name")
            return

        warnings: list[str] = []
        if not MD5_RE.match(md5):
            warnings.append("MD5 field is not an MD5")
        if not INODE_RE.match(inode):
            warnings.append("inode field is not an inode number")
        for label, value in (("UID", uid), ("GID", gid)):
            if not NUMBER_RE.match(value):
                warnings.append(f"{label} field is not a number")

        size: int | None = None
        if not NUMBER_RE.match(size_text) or (size_text and int(size_text) > INT64_MAX):
            warnings.append("size field is not a number")
        elif size_text and mode.partition("/")[2] != NO_METADATA_MODE:
            size = int(size_text)

        times: dict[str, dt.datetime | None] = {}
        columns = (("atime", atime), ("mtime", mtime), ("ctime", ctime), ("btime", crtime))
        for column, text in columns:
            try:
                moment = _epoch(text)
                times[column] = None if moment is None else item.utc(moment)
            except (ValueError, OverflowError):
                warnings.append(f"{column} field is not an epoch time")
                times[column] = None

        if CONTROL_RE.search(name):
            warnings.append("name holds unescaped control characters; kept as written")
        else:
            name = ESCAPE_RE.sub(_unescape, name)

        kind = _kind(mode)
        deleted = False
        for suffix in DELETED_SUFFIXES:
            if name.endswith(suffix):
                name, deleted = name.removesuffix(suffix), True
                break
        if kind == "link" and LINK_ARROW in name:
            name = name.rpartition(LINK_ARROW)[0]
        if name.endswith(FILE_NAME_SUFFIX):
            name, kind = name.removesuffix(FILE_NAME_SUFFIX), FILENAME_ATTRIBUTE
        elif NTFS_DATA_INODE_RE.match(inode) and ":" in SEPARATOR_RE.split(name)[-1]:
            kind = STREAM

        for message in warnings:
            yield Problem(record, message, "warning")
        shown = display_path(name, item.mount)
        values: dict[str, Any] = {
            "host": item.host,
            "path": shown,
            "path_key": path_key(shown, item.mount),
            "size": size,
            **times,
            "sha256": None,
            "labels": None,
            "kind": kind,
            "deleted": deleted,
            "system": item.system,
            "record": record,
        }
        yield Row("files", values)
