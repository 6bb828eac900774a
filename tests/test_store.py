"""Parquet files per item, published only when complete; views over the current run only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from breachscope.schema import TABLES, TIME
from breachscope.store import BadRow, Store

EID = "sha256:" + "ab" * 32
T0 = dt.datetime(2011, 7, 6, 1, 12, tzinfo=dt.UTC)


def logon(number: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "evidence_id": EID,
        "record": f"line:{number}",
        "time": T0 + dt.timedelta(minutes=number),
        "system": "jumphost",
        "account": "tyamada",
        "account_key": "tyamada",
        "outcome": "success",
        "src_ip": "10.20.4.23",
    }
    row.update(values)
    return row


def write_item(store: Store, rows: list[dict[str, object]], key: str = "k1") -> dict[str, int]:
    writer = store.item_writer(EID, key)
    for row in rows:
        writer.add("logons", row)
    writer.finish()
    return writer.commit({"records": len(rows), "errors": 0, "warnings": 0})


def test_files_appear_only_on_commit(tmp_path: Path) -> None:
    store = Store(tmp_path)
    writer = store.item_writer(EID, "k1")
    writer.add("logons", logon(1))
    writer.finish()
    final = store.table_file("logons", EID, "k1")
    assert not final.exists()
    assert final.with_suffix(".parquet.tmp").exists()
    assert store.done_marker(EID, "k1") is None
    writer.commit({"records": 1, "errors": 0, "warnings": 0})
    assert final.exists()
    assert store.done_marker(EID, "k1") == {
        "records": 1,
        "errors": 0,
        "warnings": 0,
        "tables": {"logons": 1},
    }


def test_physical_types_follow_the_architecture(tmp_path: Path) -> None:
    store = Store(tmp_path)
    write_item(store, [logon(1)])
    schema = pq.read_schema(store.table_file("logons", EID, "k1"))
    assert schema.field("time").type == TIME
    assert schema.names == TABLES["logons"].names


def test_batches_bound_memory_and_keep_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BREACHSCOPE_BATCH_ROWS", "7")
    store = Store(tmp_path)
    write_item(store, [logon(n) for n in range(50)])
    metadata = pq.ParquetFile(store.table_file("logons", EID, "k1")).metadata
    assert metadata.num_rows == 50
    assert metadata.num_row_groups == 8


def test_a_row_with_a_wrong_type_is_rejected_alone(tmp_path: Path) -> None:
    store = Store(tmp_path)
    writer = store.item_writer(EID, "k1")
    writer.add("logons", logon(1))
    writer.add("logons", logon(2, time="not a time"))
    writer.add("logons", logon(3))
    rejected = writer.finish()
    assert [row["record"] for row, _ in rejected] == ["line:2"]
    assert writer.commit({"records": 2, "errors": 1, "warnings": 0}) == {"logons": 2}


def test_an_unknown_column_is_a_bug_not_data(tmp_path: Path) -> None:
    writer = Store(tmp_path).item_writer(EID, "k1")
    with pytest.raises(BadRow, match="accout"):
        writer.add("logons", {**logon(1), "accout": "x"})


def test_views_read_only_the_current_runs_files_and_empty_tables_are_typed(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    write_item(store, [logon(1), logon(2)], key="old")
    write_item(store, [logon(3)], key="new")
    store.write_run({"logons": [f"logons/{'ab' * 32}-new.parquet"]})
    con = store.duckdb()
    assert con.execute("SELECT record FROM logons").fetchall() == [("line:3",)]
    assert con.execute("SELECT count(*) FROM processes").fetchone() == (0,)
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE messages)").fetchall())
    assert types["time"] == "TIMESTAMP WITH TIME ZONE"
    assert types["recipients"] == "VARCHAR[]"
    event = con.execute('SELECT "table", account, summary, record FROM events').fetchone()
    assert event is not None
    assert event[0] == "logons" and event[1] == "tyamada" and "10.20.4.23" in event[2]
    con.close()


def test_views_work_from_another_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "out")
    write_item(store, [logon(1)])
    store.write_run({"logons": [f"logons/{'ab' * 32}-k1.parquet"]})
    store.duckdb().close()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    con = Store(tmp_path / "out").duckdb()
    assert con.execute("SELECT count(*) FROM logons").fetchone() == (1,)
    con.close()


def test_blobs_are_kept_once_by_hash_read_only_without_extension(tmp_path: Path) -> None:
    import hashlib
    import stat

    store = Store(tmp_path)
    data = b"MZ\x90\x00 not a real program"
    digest = hashlib.sha256(data).hexdigest()
    path = store.keep_blob(digest, data)
    assert path.name == digest and path.suffix == ""
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IXUSR)
    assert store.keep_blob(digest, data) == path
    assert store.blob(digest) == data
    with pytest.raises(ValueError, match="SHA-256"):
        store.keep_blob("../../etc/passwd", data)
