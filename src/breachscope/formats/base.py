"""What every format shares: the item it reads, what it yields, and the registry.

A format module declares a class with ``name``, ``tables``, ``sniff(head, path)`` and
``read(item)`` and decorates it with `register`; nothing else is edited to add a format.
``read`` yields `Row` objects (a table name and its values, with a ``record`` reference) and
`Problem` objects for bad records: an ``error`` drops the record, a ``warning`` keeps it with a
problem. Reading always goes on after a problem. Formats never store, never open another
evidence file and never call an analysis.
"""

from __future__ import annotations

import bz2
import csv
import datetime as dt
import gzip
import io
import lzma
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import IO, Any, ClassVar, Literal, Protocol
from zoneinfo import ZoneInfo

from breachscope.case import Case, to_utc
from breachscope.identity import Realms

SNIFF_BYTES = 8192

_COMPRESSORS: tuple[tuple[bytes, Any], ...] = (
    (b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw, mode="rb")),
    (b"BZh", bz2.BZ2File),
    (b"\xfd7zXZ\x00", lzma.LZMAFile),
)


@dataclass(frozen=True)
class Row:
    """One row for a normalized table; ``values`` must include ``record``."""

    table: str
    values: dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """A record that could not be read (``error``: dropped) or was kept with a problem."""

    record: str
    message: str
    severity: Literal["error", "warning"] = "error"


@dataclass(frozen=True)
class Blob:
    """Content to keep by its SHA-256 (an attachment's bytes), outside the tables.

    The ingest stores it once under ``store/blobs/<sha256>``: no extension, read-only,
    never executed (rules.md, Hostile data). Analyses read it back through the store.
    """

    sha256: str
    data: bytes


Yielded = Row | Problem | Blob


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file for ``mapped-csv`` / ``mapped-jsonl`` (see formats.md)."""

    table: str
    time_column: str | None
    time_format: str | None
    fields: dict[str, Any]
    constants: dict[str, Any]
    sha256: str


@dataclass(frozen=True)
class EvidenceItem:
    """One evidence file to read, with everything the manifest says about it."""

    path: Path
    rel_path: str
    evidence_id: str
    system: str | None = None
    host: str | None = None
    owner: str | None = None
    timezone: str = "UTC"
    year: int | None = None
    clock_offset: float = 0.0
    mount: str | None = None
    mapping: Mapping | None = None
    case: Case | None = None
    fallback_year: int | None = None
    realms: Realms = field(default_factory=Realms)
    folder_path: str | None = None
    """For a file of a collected host folder: its path inside that folder, with ``/``."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def utc(self, moment: dt.datetime) -> dt.datetime:
        """A time of this item in UTC: naive times in the item's zone, plus its clock offset."""
        return to_utc(moment, self.zone) + dt.timedelta(seconds=self.clock_offset)

    def open(self) -> IO[bytes]:
        """The item's bytes, read-only, decompressed when gzip, bzip2 or xz."""
        return open_evidence(self.path)

    def head(self, size: int = SNIFF_BYTES) -> bytes:
        with self.open() as stream:
            return stream.read(size)


def open_raw(path: Path) -> IO[bytes]:
    """Open evidence read-only (O_RDONLY, and O_NOATIME where the OS allows it)."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    try:
        fd = os.open(path, flags | noatime)
    except PermissionError:
        fd = os.open(path, flags)
    return os.fdopen(fd, "rb", buffering=1 << 16)


class _Decompressed(io.BufferedReader):
    """A decompressing reader that also closes the evidence file beneath it (the stdlib
    decompressors leave a file object they were given open)."""

    def __init__(self, stream: Any, raw: IO[bytes]) -> None:
        super().__init__(stream, buffer_size=1 << 16)
        self._evidence = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._evidence.close()


def open_evidence(path: Path) -> IO[bytes]:
    """Open read-only and decompress transparently by magic bytes (never by file name)."""
    raw = open_raw(path)
    magic = raw.peek(6)[:6] if isinstance(raw, io.BufferedReader) else b""
    for signature, opener in _COMPRESSORS:
        if magic.startswith(signature):
            return _Decompressed(opener(raw), raw)
    return raw


def numbered_lines(stream: IO[bytes], max_bytes: int) -> Iterator[tuple[int, str | None]]:
    """(1-based line number, text) of a byte stream, ``None`` for a line over ``max_bytes``.

    Split on ``\\n`` only (a raw ``\\r`` inside a field must not end the record); decoded as
    UTF-8 with replacement. Memory stays bounded by ``max_bytes`` whatever the file holds.
    """
    number = 0
    while True:
        raw = stream.readline(max_bytes + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(max_bytes)
            yield number, None
            continue
        yield number, raw.decode("utf-8", errors="replace").rstrip("\r\n")


def csv_header_of(head: bytes) -> list[str]:
    """The cells of the first line of ``head`` read as CSV (BOM dropped); [] if unreadable.

    >>> csv_header_of(b"\\xef\\xbb\\xbfhost,name,version\\r\\nWS-1,Office,12")
    ['host', 'name', 'version']
    """
    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    first = text.split("\n", 1)[0].rstrip("\r")
    try:
        return next(csv.reader([first]), [])
    except csv.Error:
        return []


def csv_rows(reader: Any) -> Iterator[tuple[str, list[str]] | Problem]:
    """(``csv:N`` record, cells) of each data row of a ``csv.reader`` whose header was read.

    A row the csv module cannot read is a `Problem` and reading goes on, unless the reader
    cannot move past it (then reading stops there).
    """
    number = 0
    while True:
        number += 1
        record = f"csv:{number}"
        line = reader.line_num
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Problem(record, f"CSV row cannot be read: {error}")
            if reader.line_num == line:  # the reader cannot move on
                return
            continue
        yield record, cells


def compression_of(path: Path) -> str | None:
    """'gzip', 'bzip2', 'xz' or None, by magic bytes."""
    with open_raw(path) as raw:
        magic = raw.read(6)
    for (signature, _), name in zip(_COMPRESSORS, ("gzip", "bzip2", "xz"), strict=True):
        if magic.startswith(signature):
            return name
    return None


class Format(Protocol):
    """The shape of a registered format class."""

    name: ClassVar[str]
    version: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]

    def sniff(self, head: bytes, path: PurePath) -> bool: ...

    def read(self, item: EvidenceItem) -> Iterator[Yielded]: ...


REGISTRY: dict[str, type[Any]] = {}


def register(cls: type[Any]) -> type[Any]:
    """Class decorator that adds a format to the registry under its unique ``name``."""
    for attribute in ("name", "version", "tables", "sniff", "read"):
        if not hasattr(cls, attribute):
            raise TypeError(f"format {cls.__name__} lacks {attribute!r}")
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"two formats are called {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls
