"""The columnar store: Parquet files per table and evidence, DuckDB views, Ibis connections.

Layout under ``OUT/store/``: ``<table>/<evidence hex>-<parse_key>.parquet``, written as
``.tmp`` and renamed only when the whole item has been read, then a ``done/`` marker with the
item's counts. A crash leaves at most ``.tmp`` files, which the next run overwrites; finished
items are not read again. So an interrupted run re-runs to the same files, without duplicates.

``OUT/store/run.json`` lists the files of the current run; views read only those (a changed
time zone or mapping gives a new ``parse_key`` and the old files are simply not listed).
Views are (re)created at connect time with absolute paths, since a persisted view over a
relative path breaks from another working directory.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from breachscope.schema import STR, TABLES, TIME, TIMELINE_TABLES, column_set

STORE_DIR = "store"
DATABASE_NAME = "breachscope.duckdb"
RUN_NAME = "run.json"
BLOB_DIR = "blobs"
DEFAULT_BATCH_ROWS = 20_000
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "write_statistics": True}

_batches_written = 0


def batch_rows() -> int:
    """Rows per Arrow batch (``BREACHSCOPE_BATCH_ROWS``): bounds memory whatever the input size."""
    return int(os.environ.get("BREACHSCOPE_BATCH_ROWS", DEFAULT_BATCH_ROWS))


def _after_batch() -> None:
    """Fault injection for the crash-and-resume test: ``BREACHSCOPE_FAULT_AFTER_BATCHES=N``."""
    global _batches_written
    _batches_written += 1
    limit = os.environ.get("BREACHSCOPE_FAULT_AFTER_BATCHES")
    if limit and _batches_written >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


class BadRow(ValueError):
    """A row whose values do not fit its table's types."""


@dataclass
class _TableWriter:
    table: str
    tmp_path: Path
    schema: pa.Schema
    pending: list[dict[str, Any]] = field(default_factory=list)
    writer: pq.ParquetWriter | None = None
    rows: int = 0
    limit: int = field(default_factory=batch_rows)  # read once per file, not once per row

    def add(self, values: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
        self.pending.append(values)
        return self.flush() if len(self.pending) >= self.limit else []

    def flush(self) -> list[tuple[dict[str, Any], str]]:
        """Write pending rows; return rows that did not fit the types, with the reason."""
        if not self.pending:
            return []
        rejected: list[tuple[dict[str, Any], str]] = []
        try:
            batch = pa.Table.from_pylist(self.pending, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            good = []
            for values in self.pending:
                try:
                    pa.Table.from_pylist([values], schema=self.schema)
                    good.append(values)
                except (
                    pa.ArrowInvalid,
                    pa.ArrowTypeError,
                    TypeError,
                    ValueError,
                    OverflowError,
                ) as e:
                    rejected.append((values, f"{self.table}: {e}"))
            batch = pa.Table.from_pylist(good, schema=self.schema)
        self.pending = []
        if batch.num_rows:
            if self.writer is None:
                self.tmp_path.parent.mkdir(parents=True, exist_ok=True)
                self.writer = pq.ParquetWriter(self.tmp_path, self.schema, **PARQUET_OPTIONS)
            self.writer.write_table(batch)
            self.rows += batch.num_rows
            _after_batch()
        return rejected

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class ItemWriter:
    """Writes one evidence item's rows to per-table ``.tmp`` files; `commit` publishes them."""

    def __init__(self, store: Store, evidence_id: str, parse_key: str) -> None:
        self.store = store
        self.stem = f"{evidence_id.removeprefix('sha256:')}-{parse_key}"
        self.writers: dict[str, _TableWriter] = {}

    def add(self, table: str, values: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
        """Queue one row; returns rows rejected by a flush this call caused."""
        unknown = values.keys() - column_set(table)
        if unknown:
            raise BadRow(f"{table} has no column(s) {sorted(unknown)}")
        writer = self.writers.get(table)
        if writer is None:
            tmp = self.store.root / table / f"{self.stem}.parquet.tmp"
            writer = self.writers[table] = _TableWriter(table, tmp, TABLES[table])
        return writer.add(values)

    def finish(self) -> list[tuple[dict[str, Any], str]]:
        """Flush everything; return the rows rejected for their types."""
        rejected: list[tuple[dict[str, Any], str]] = []
        for writer in self.writers.values():
            rejected.extend(writer.flush())
        return rejected

    def commit(self, marker: dict[str, Any]) -> dict[str, int]:
        """Close and rename every ``.tmp`` file, then write the done marker. Returns row counts."""
        counts: dict[str, int] = {}
        for table, writer in sorted(self.writers.items()):
            writer.close()
            if writer.rows:
                os.replace(writer.tmp_path, writer.tmp_path.with_suffix(""))
                counts[table] = writer.rows
            elif writer.tmp_path.exists():
                writer.tmp_path.unlink()
        marker = {**marker, "tables": counts}
        done = self.store.root / "done" / f"{self.stem}.json"
        done.parent.mkdir(parents=True, exist_ok=True)
        tmp = done.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(marker, sort_keys=True, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, done)
        return counts

    def abandon(self) -> None:
        for writer in self.writers.values():
            writer.close()
            writer.tmp_path.unlink(missing_ok=True)


class Store:
    """The Parquet files and catalog of one output folder."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir.resolve()
        self.root = self.out_dir / STORE_DIR
        self.root.mkdir(parents=True, exist_ok=True)

    def done_marker(self, evidence_id: str, parse_key: str) -> dict[str, Any] | None:
        """The counts of an item already written by an earlier (possibly interrupted) run."""
        path = self.root / "done" / f"{evidence_id.removeprefix('sha256:')}-{parse_key}.json"
        if not path.is_file():
            return None
        marker: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        for table in marker.get("tables", {}):
            if not self.table_file(table, evidence_id, parse_key).is_file():
                return None
        return marker

    def table_file(self, table: str, evidence_id: str, parse_key: str) -> Path:
        return self.root / table / f"{evidence_id.removeprefix('sha256:')}-{parse_key}.parquet"

    def keep_blob(self, sha256: str, data: bytes) -> Path:
        """Store content once by hash: ``blobs/<sha256>``, no extension, read-only."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        path = self.root / BLOB_DIR / sha256
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(sha256 + ".tmp")
            tmp.write_bytes(data)
            tmp.chmod(0o444)
            os.replace(tmp, path)
        return path

    def blob(self, sha256: str) -> bytes | None:
        """Stored content by hash, or None."""
        path = self.root / BLOB_DIR / sha256
        return path.read_bytes() if path.is_file() else None

    def item_writer(self, evidence_id: str, parse_key: str) -> ItemWriter:
        return ItemWriter(self, evidence_id, parse_key)

    def write_run(self, files: dict[str, list[str]]) -> None:
        """Record which files (relative to the store) make up the current run's tables."""
        listing = {table: sorted(set(files.get(table, []))) for table in sorted(TABLES)}
        tmp = self.root / (RUN_NAME + ".tmp")
        tmp.write_text(json.dumps(listing, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, self.root / RUN_NAME)

    def run_files(self) -> dict[str, list[Path]]:
        """Absolute paths of the current run's Parquet files, per table."""
        path = self.root / RUN_NAME
        listing = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        return {t: [self.root / f for f in listing.get(t, [])] for t in TABLES}

    def duckdb(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """The DuckDB catalog with a view per table and ``events``, made at connect time."""
        database = self.out_dir / DATABASE_NAME
        con = duckdb.connect(str(database), read_only=read_only)
        if not read_only:
            create_views(con, self.run_files())
        return con


def duckdb_type(kind: pa.DataType) -> str:
    """DuckDB SQL type of an Arrow type used in `schema`."""
    if pa.types.is_timestamp(kind):
        return "TIMESTAMPTZ"
    if pa.types.is_int64(kind):
        return "BIGINT"
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    if pa.types.is_list(kind):
        return "VARCHAR[]"
    return "VARCHAR"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_sql(table: str, files: Iterable[Path]) -> str:
    """SELECT over a table's Parquet files; typed and empty when there are none."""
    paths = [str(p) for p in files]
    schema = TABLES[table]
    if not paths:
        cols = ", ".join(f"CAST(NULL AS {duckdb_type(f.type)}) AS {_quote(f.name)}" for f in schema)
        return f"SELECT {cols} WHERE false"
    listing = ", ".join(_sql_string(p) for p in paths)
    cols = ", ".join(_quote(f.name) for f in schema)
    return f"SELECT {cols} FROM read_parquet([{listing}])"


# Per table: SQL for (host, account, summary) of its rows in the `events` timeline.
EVENT_FIELDS: dict[str, tuple[str, str, str]] = {
    "messages": ("host", "sender", "concat('mail from ', coalesce(sender, '?'), ': ', subject)"),
    "deliveries": (
        "host",
        "recipient",
        "concat('delivery ', coalesce(status, ''), ' ', coalesce(sender, '?'), ' -> ', recipient)",
    ),
    "logons": (
        "coalesce(dst_host, host)",
        "account",
        "concat(coalesce(outcome, '?'), ' logon to ', coalesce(system, host, '?'), ' as ', "
        "coalesce(account, '?'), ' from ', coalesce(src_ip, src_host, '?'), "
        "' (', coalesce(method, ''), ')')",
    ),
    "credential_changes": (
        "host",
        "account",
        "concat('credential ', coalesce(kind, 'change'), ' on ', coalesce(system, host, '?'), "
        "' for ', coalesce(account, '?'))",
    ),
    "processes": (
        "host",
        '"user"',
        "concat('process ', coalesce(command_line, image, '?'))",
    ),
    "network": (
        "host",
        '"user"',
        "concat(coalesce(method, ''), ' ', coalesce(url, dst_host, dst_ip, '?'), ' ', "
        "coalesce(status, ''))",
    ),
    "file_access": ("host", '"user"', "concat('opened ', coalesce(path, '?'))"),
    "web_visits": ("host", '"user"', "concat('visited ', coalesce(url, '?'))"),
    "win_events": (
        "host",
        "account",
        "concat(coalesce(channel, ''), ' ', CAST(event_id AS VARCHAR), ' ', "
        "coalesce(provider, ''))",
    ),
}


def events_sql() -> str:
    """The union timeline over every table with a time."""
    parts = []
    for table in TIMELINE_TABLES:
        host, account, summary = EVENT_FIELDS[table]
        parts.append(
            f'SELECT time, {_sql_string(table)} AS "table", CAST({host} AS VARCHAR) AS host, '
            f"CAST({account} AS VARCHAR) AS account, {summary} AS summary, evidence_id, record "
            f"FROM {table} WHERE time IS NOT NULL"
        )
    return "\nUNION ALL\n".join(parts)


def create_views(con: duckdb.DuckDBPyConnection, files: dict[str, list[Path]]) -> None:
    for table in TABLES:
        con.execute(f"CREATE OR REPLACE VIEW {table} AS {table_sql(table, files.get(table, []))}")
    con.execute(f"CREATE OR REPLACE VIEW events AS {events_sql()}")


EVENTS_SCHEMA = pa.schema(
    [
        ("time", TIME),
        ("table", STR),
        ("host", STR),
        ("account", STR),
        ("summary", STR),
        ("evidence_id", STR),
        ("record", STR),
    ]
)


def ibis_connection(out_dir: Path, engine: str = "duckdb") -> Any:
    """An Ibis backend over the current run's tables: DuckDB (default) or Spark (local)."""
    store = Store(out_dir)
    if engine == "duckdb":
        import ibis

        store.duckdb().close()
        return ibis.duckdb.connect(str(store.out_dir / DATABASE_NAME), read_only=True)
    if engine == "spark":
        from breachscope.spark import spark_connection

        return spark_connection(store.run_files())
    raise ValueError(f"unknown engine {engine!r}; use duckdb or spark")
