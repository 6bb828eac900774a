"""The explorable timeline: every event of a store in UTC time order, filtered and paged.

Rows stream from DuckDB in pages (``fetchmany``), so a long timeline is never held in memory.
Order is stable: time, then table, evidence id and record. Output is safe by rules.md:
control characters are stripped on a terminal, and CSV cells that a spreadsheet would run as a
formula (starting ``= + - @``) get a ``'`` prefix.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from breachscope.custody import format_time
from breachscope.store import Store
from breachscope.terminal import strip_controls

PAGE_ROWS = 5_000
COLUMNS = ("time", "table", "host", "account", "summary", "evidence_id", "record")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class TimelineFilter:
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    host: str | None = None
    account: str | None = None
    tables: Sequence[str] = ()
    grep: str | None = None
    limit: int | None = 200


def query(flt: TimelineFilter) -> tuple[str, list[Any]]:
    """SQL and parameters for the filtered, ordered events."""
    where: list[str] = []
    params: list[Any] = []
    if flt.start:
        where.append("time >= ?")
        params.append(flt.start)
    if flt.end:
        where.append("time < ?")
        params.append(flt.end)
    if flt.host:
        where.append("lower(host) LIKE ?")
        params.append(f"%{flt.host.lower()}%")
    if flt.account:
        where.append("lower(account) LIKE ?")
        params.append(f"%{flt.account.lower()}%")
    if flt.tables:
        where.append(f'"table" IN ({", ".join("?" for _ in flt.tables)})')
        params.extend(flt.tables)
    if flt.grep:
        where.append("regexp_matches(summary, ?, 'i')")
        params.append(flt.grep)
    sql = "SELECT * FROM events"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += ' ORDER BY time, "table", evidence_id, record'
    if flt.limit is not None:
        sql += f" LIMIT {int(flt.limit)}"
    return sql, params


def events(out_dir: Path, flt: TimelineFilter) -> Iterator[dict[str, Any]]:
    """Matching events, page by page."""
    con = Store(out_dir).duckdb()
    try:
        cursor = con.execute(*query(flt))
        names = [d[0] for d in cursor.description]
        while rows := cursor.fetchmany(PAGE_ROWS):
            for row in rows:
                yield dict(zip(names, row, strict=True))
    finally:
        con.close()


def csv_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not execute.

    >>> csv_cell("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _text(row: dict[str, Any]) -> dict[str, str]:
    return {
        k: (format_time(row[k]) or "") if k == "time" else ("" if row[k] is None else str(row[k]))
        for k in COLUMNS
    }


def write_timeline(rows: Iterator[dict[str, Any]], fmt: str, stream: TextIO) -> int:
    """Write rows as ``table`` (terminal), ``csv`` or ``jsonl``; returns how many."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([csv_cell(v) for v in _text(row).values()])
            count += 1
    elif fmt == "jsonl":
        for row in rows:
            stream.write(json.dumps(_text(row), ensure_ascii=True) + "\n")
            count += 1
    else:
        for row in rows:
            text = _text(row)
            line = "  ".join(
                [
                    text["time"],
                    f"{text['table']:<18}",
                    f"{text['host'][:20]:<20}",
                    f"{text['account'][:28]:<28}",
                    text["summary"],
                    f"[{text['evidence_id'][7:19]} {text['record']}]",
                ]
            )
            stream.write(strip_controls(line) + "\n")
            count += 1
    return count


def print_timeline(out_dir: Path, flt: TimelineFilter, fmt: str = "table") -> int:
    """Write the filtered timeline to standard output; returns the number of rows."""
    return write_timeline(events(out_dir, flt), fmt, sys.stdout)
