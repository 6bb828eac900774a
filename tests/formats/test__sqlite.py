"""The SQLite evidence rule (rules.md, Hostile data): evidence is copied with its ``-wal`` /
``-journal`` siblings and the copy opened, so nothing is ever written beside the evidence.

Databases here are built in code; the real browser samples are read in the format tests.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from breachscope.formats._sqlite import (
    SQLITE_MAGIC,
    head_has_tables,
    is_sqlite,
    sqlite_copy,
    table_columns,
    table_names,
)
from tests.conftest import make_item


def listing(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file in ``folder`` with its size, mtime and mode: what must not change."""
    return {
        entry.name: (entry.stat().st_size, entry.stat().st_mtime_ns, entry.stat().st_mode)
        for entry in os.scandir(folder)
    }


def database_with_wal(folder: Path, name: str = "History") -> Path:
    """A database whose last rows are only in its ``-wal`` (as a browser leaves it while
    running): the files are snapshotted while the writer still holds the WAL open."""
    work = folder.parent / f"{folder.name}-writer"
    work.mkdir()
    live = work / name
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, value TEXT)")
    writer.execute("INSERT INTO t (value) VALUES ('checkpointed')")
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    writer.execute("INSERT INTO t (value) VALUES ('only in the wal')")
    folder.mkdir(exist_ok=True)
    shutil.copy2(live, folder / name)
    shutil.copy2(live.with_name(name + "-wal"), folder / (name + "-wal"))
    writer.close()
    return folder / name


def database_with_hot_journal(folder: Path, name: str = "Login Data") -> Path:
    """A database caught mid-transaction: its file already holds uncommitted pages and its
    ``-journal`` the pages to roll back (a browser killed while writing)."""
    work = folder.parent / f"{folder.name}-writer"
    work.mkdir()
    live = work / name
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode = DELETE")
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, value TEXT)")
    writer.execute("BEGIN")
    writer.executemany("INSERT INTO t (value) VALUES (?)", [("committed",)] * 2000)
    writer.execute("COMMIT")
    writer.execute("PRAGMA cache_size = 1")  # spill uncommitted pages into the file
    writer.execute("BEGIN")
    writer.execute("UPDATE t SET value = 'uncommitted ' || hex(randomblob(200))")
    folder.mkdir(exist_ok=True)
    shutil.copy2(live, folder / name)
    shutil.copy2(live.with_name(name + "-journal"), folder / (name + "-journal"))
    writer.execute("ROLLBACK")
    writer.close()
    return folder / name


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[None]:
    """Leave ``tmp_path`` writable again for pytest's clean-up."""
    yield
    for root, folders, files in os.walk(tmp_path):
        for name in folders + files:
            os.chmod(os.path.join(root, name), stat.S_IRWXU)


def test_the_copy_sees_the_wal_and_nothing_is_written_beside_the_evidence(
    tmp_path: Path, read_only: None
) -> None:
    evidence = database_with_wal(tmp_path / "evidence")
    alone = tmp_path / "without-wal"
    alone.mkdir()
    shutil.copy(evidence, alone / "db")
    with sqlite3.connect(alone / "db") as control:  # the last row is only in the -wal
        assert control.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    control.close()
    for path in evidence.parent.iterdir():
        path.chmod(0o444)
    evidence.parent.chmod(0o555)  # (for a non-root user) opening in place could not create -shm
    before = listing(evidence.parent)
    with sqlite_copy(make_item(evidence)) as connection:
        values = [value for (value,) in connection.execute("SELECT value FROM t ORDER BY id")]
        temporary = Path(connection.execute("PRAGMA database_list").fetchone()[2]).parent
    assert values == ["checkpointed", "only in the wal"]
    assert listing(evidence.parent) == before
    assert sorted(before) == ["History", "History-wal"]
    assert not temporary.exists(), "the temporary copy is removed afterwards"


def test_a_hot_journal_is_copied_and_rolled_back_on_the_copy(tmp_path: Path) -> None:
    evidence = database_with_hot_journal(tmp_path / "evidence")
    alone = tmp_path / "without-journal"
    alone.mkdir()
    shutil.copy(evidence, alone / "db")
    with sqlite3.connect(alone / "db") as control:  # the file alone holds uncommitted pages
        assert control.execute("SELECT count(*) FROM t WHERE value != 'committed'").fetchone()[0]
    control.close()
    before = listing(evidence.parent)
    with sqlite_copy(make_item(evidence)) as connection:
        values = {value for (value,) in connection.execute("SELECT value FROM t")}
    assert values == {"committed"}
    assert listing(evidence.parent) == before
    assert sorted(before) == ["Login Data", "Login Data-journal"]


def test_the_copy_cannot_be_written_through(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (id INTEGER)")
    setup.close()
    with (
        sqlite_copy(make_item(path)) as connection,
        pytest.raises(sqlite3.OperationalError, match="readonly"),
    ):
        connection.execute("INSERT INTO t VALUES (1)")


def test_compressed_evidence_is_decompressed_into_the_copy(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    with sqlite3.connect(plain) as setup:
        setup.execute("CREATE TABLE urls (id INTEGER)")
    setup.close()
    packed = tmp_path / "History.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    with sqlite_copy(make_item(packed)) as connection:
        assert table_names(connection) == {"urls"}
        assert table_columns(connection, "urls") == {"id"}


def test_a_file_that_is_not_a_database_raises_a_database_error(tmp_path: Path) -> None:
    path = tmp_path / "History"
    path.write_bytes(SQLITE_MAGIC + b"\xff" * 4000)
    with pytest.raises(sqlite3.DatabaseError), sqlite_copy(make_item(path)):
        pass
    assert sorted(os.listdir(tmp_path)) == ["History"]


def test_head_recognition() -> None:
    head = SQLITE_MAGIC + b"...CREATE TABLE logins (origin_url VARCHAR NOT NULL, ..."
    assert is_sqlite(head)
    assert head_has_tables(head, "logins")
    assert not head_has_tables(head, "logins", "stats")
    assert not head_has_tables(SQLITE_MAGIC + b"CREATE TABLE moz_logins (id)", "logins")
    assert not is_sqlite(b"SQLite format 2\x00")
