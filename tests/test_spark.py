"""The Spark engine reads every table the store writes, through Ibis (engine parity smoke)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from breachscope.schema import TABLES
from breachscope.store import Store, ibis_connection

pytestmark = [pytest.mark.spark, pytest.mark.slow]

EID = "sha256:" + "cd" * 32
T0 = dt.datetime(2011, 7, 6, 1, 12, 0, 123456, tzinfo=dt.UTC)


def require_java() -> None:
    if shutil.which("java") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("java is missing on CI: the Spark engine cannot be tested")
        pytest.skip("java is not installed; Spark tests need Java 17")


def sample_row(table: str) -> dict[str, object]:
    row: dict[str, object] = {"evidence_id": EID, "record": "line:1"}
    for field in TABLES[table]:
        if field.name in row:
            continue
        kind = str(field.type)
        if kind.startswith("timestamp"):
            row[field.name] = T0
        elif kind == "int64":
            row[field.name] = 7
        elif kind == "bool":
            row[field.name] = True
        elif kind.startswith("list"):
            row[field.name] = ["a", "b"]
        else:
            row[field.name] = f"{table}.{field.name}"
    return row


def test_spark_reads_every_table_as_duckdb_does(tmp_path: Path) -> None:
    require_java()
    store = Store(tmp_path)
    writer = store.item_writer(EID, "k1")
    for table in TABLES:
        writer.add(table, sample_row(table))
    writer.finish()
    counts = writer.commit({"records": 1, "errors": 0, "warnings": 0})
    store.write_run({t: [f"{t}/{'cd' * 32}-k1.parquet"] for t in counts})
    duck = ibis_connection(tmp_path, "duckdb")
    spark = ibis_connection(tmp_path, "spark")
    for table in TABLES:
        expected = duck.table(table).to_pyarrow().to_pylist()
        got = spark.table(table).to_pyarrow().to_pylist()
        assert len(got) == 1, table
        for column, value in expected[0].items():
            if isinstance(value, dt.datetime):
                assert got[0][column].replace(tzinfo=dt.UTC) == value.astimezone(dt.UTC), column
            else:
                assert got[0][column] == value, (table, column)
