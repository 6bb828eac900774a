"""Reading SQLite evidence safely: a private copy, never the evidence in place.

Why a copy (rules.md, Hostile data): opening a database in place can write beside it. SQLite
creates a ``-shm`` file next to a WAL database even for a read-only connection, rolls back a
hot ``-journal`` (which rewrites the database), and may checkpoint a ``-wal`` into it. Evidence
must never change and must never get a new file beside it, so `sqlite_copy` copies the file and
its ``-wal`` / ``-journal`` siblings into a fresh temporary folder and opens the copy there. The
copy is opened read-write on purpose: that is what lets SQLite apply the WAL (committed pages a
browser had not yet checkpointed, often the most recent history) and roll back an interrupted
transaction, exactly as the browser would on its next start. Every write lands in the
temporary folder, which is deleted afterwards. The ``-shm`` sibling is not copied: it is only
an index of the WAL, and SQLite rebuilds it from the WAL itself.

The database is hostile too (rules.md): ``trusted_schema`` is off so a crafted view or trigger
cannot call functions with side effects, and ``query_only`` is on so nothing we run can write.

This module also holds what the SQLite browser formats share: recognising a database and its
tables from the first bytes, and the browsers' time bases.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from breachscope.formats.base import EvidenceItem, Problem, open_raw

SQLITE_MAGIC = b"SQLite format 3\x00"
SIBLING_SUFFIXES = ("-wal", "-journal")
COPY_NAME = "evidence.sqlite"
WEBKIT_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)
UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@contextmanager
def sqlite_copy(item: EvidenceItem) -> Iterator[sqlite3.Connection]:
    """A connection to a private copy of ``item``'s database (and its -wal/-journal).

    The database bytes are read through ``item.open()`` (read-only, decompressed when the
    evidence is gzip/bzip2/xz); siblings are copied as they are. Raises `OSError` when the
    evidence cannot be read; a file that is not a database raises `sqlite3.DatabaseError` at
    the first query, as SQLite only looks at the file then.
    """
    with tempfile.TemporaryDirectory(prefix="breachscope-sqlite-") as folder:
        copy = Path(folder) / COPY_NAME
        with item.open() as source, copy.open("xb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
        for suffix in SIBLING_SUFFIXES:
            sibling = item.path.with_name(item.path.name + suffix)
            if sibling.is_file():
                with (
                    open_raw(sibling) as source,
                    copy.with_name(COPY_NAME + suffix).open("xb") as target,
                ):
                    shutil.copyfileobj(source, target, 1 << 20)
        connection = sqlite3.connect(copy, isolation_level=None)
        with closing(connection):
            connection.execute("PRAGMA trusted_schema = OFF")
            _apply_journal(connection)
            connection.execute("PRAGMA query_only = ON")
            yield connection


def _apply_journal(connection: sqlite3.Connection) -> None:
    """Let SQLite replay the WAL / roll back a hot journal on the copy before we read.

    Reading the schema is enough to make SQLite do it; a file that is not a database raises
    here, and the caller reports it.
    """
    connection.execute("SELECT count(*) FROM sqlite_master").fetchone()


def table_names(connection: sqlite3.Connection) -> set[str]:
    """The names of the tables in the database, lower-cased."""
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(name).lower() for (name,) in rows if isinstance(name, str)}


def table_columns(connection: sqlite3.Connection, table: str) -> set[str]:
    """The column names of ``table`` (one of our constants, never evidence text), lower-cased.

    Browsers add and drop columns between versions, so formats select only columns that exist.
    """
    rows = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
    return {str(row[1]).lower() for row in rows}


def is_sqlite(head: bytes) -> bool:
    """True when ``head`` starts with the SQLite 3 file header."""
    return head.startswith(SQLITE_MAGIC)


def head_has_tables(head: bytes, *tables: str) -> bool:
    """True when the schema text in ``head`` creates every one of ``tables``.

    ``sqlite_master`` starts on page 1, so in a small schema the ``CREATE TABLE`` statements
    are in the first bytes; in a larger one page 1 is an interior page and the statements lie
    further on (the plaso Chrome ``History`` and Firefox ``places.sqlite`` samples are like
    that), so a False here is not proof the tables are missing.

    >>> head_has_tables(b'CREATE TABLE urls(id) CREATE TABLE "visits" (id)', "urls", "visits")
    True
    >>> head_has_tables(b"CREATE TABLE moz_logins(id)", "logins")
    False
    """
    return all(_create_table(table).search(head) for table in tables)


def _create_table(table: str) -> re.Pattern[bytes]:
    name = re.escape(table.encode("ascii"))
    return re.compile(
        rb"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"'`\[]?" + name + rb"[\"'`\]]?[\s(]",
        re.IGNORECASE,
    )


def webkit_time(value: Any) -> dt.datetime | None:
    """A Chrome (WebKit) time: microseconds since 1601-01-01 UTC; 0 means "not set".

    >>> webkit_time(12945175391000000).isoformat()
    '2011-03-21T10:03:11+00:00'
    >>> webkit_time(0) is None
    True
    """
    return _offset_time(WEBKIT_EPOCH, value, 1)


def unix_micro_time(value: Any) -> dt.datetime | None:
    """A Firefox places time: microseconds since 1970-01-01 UTC; 0 means "not set".

    >>> unix_micro_time(1309518981371935).isoformat()
    '2011-07-01T11:16:21.371935+00:00'
    """
    return _offset_time(UNIX_EPOCH, value, 1)


def unix_milli_time(value: Any) -> dt.datetime | None:
    """A Firefox ``logins.json`` time: milliseconds since 1970-01-01 UTC; 0 means "not set".

    >>> unix_milli_time(1500000000000).isoformat()
    '2017-07-14T02:40:00+00:00'
    """
    return _offset_time(UNIX_EPOCH, value, 1000)


def _offset_time(epoch: dt.datetime, value: Any, micros_per_unit: int) -> dt.datetime | None:
    """``epoch`` plus ``value`` units; None for 0/NULL; ValueError for anything unusable."""
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"time {value!r} is not an integer")
    if value < 0:
        raise ValueError(f"time {value} is negative")
    try:
        return epoch + dt.timedelta(microseconds=value * micros_per_unit)
    except OverflowError:
        raise ValueError(f"time {value} is out of range") from None


def sqlite_text(value: Any) -> str | None:
    """SQLite columns hold any type whatever the schema says; text is what we keep."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def read_visit_time(
    record: str, raw: Any, convert: Callable[[Any], dt.datetime | None]
) -> dt.datetime | Problem:
    """A visit's time through ``convert``, or the `Problem` that drops the visit."""
    try:
        time = convert(raw)
    except ValueError as error:
        return Problem(record, str(error))
    return time if time is not None else Problem(record, "visit without a time")
