"""Builders for analysis tests: rows per evidence file, written to a store as the ingest would."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from itertools import count
from pathlib import Path
from typing import Any

from breachscope.analyses import Context
from breachscope.case import parse_case
from breachscope.store import Store, ibis_connection


def eid(name: str) -> str:
    """A stable evidence id for a named fake evidence file."""
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


class Evidence:
    """Rows per evidence file, written to a store as the ingest would."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        self.numbers = count(1)

    def add(self, table: str, evidence: str, **values: Any) -> dict[str, Any]:
        values.setdefault("record", f"line:{next(self.numbers)}")
        self.rows[evidence].append((table, values))
        return values

    def context(self, tmp: Path, case_text: str) -> Context:
        store = Store(tmp)
        listing: dict[str, list[str]] = defaultdict(list)
        for evidence, rows in self.rows.items():
            writer = store.item_writer(evidence, "k1")
            path = f"evidence/{evidence[7:15]}"
            writer.add("evidence", {"path": path, "evidence_id": evidence, "record": "file"})
            for table, values in rows:
                writer.add(table, {**values, "evidence_id": evidence})
            assert writer.finish() == []
            for table in writer.commit({"records": len(rows)}):
                listing[table].append(f"{table}/{evidence[7:]}-k1.parquet")
        store.write_run(listing)
        return Context.open(parse_case(case_text), ibis_connection(tmp))
