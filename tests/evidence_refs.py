"""Opening the raw record behind an evidence reference, for tests that check every citation.

Each record kind of rules.md (Record references) is resolved in the evidence file itself, read
only: ``line:N`` (after decompression, ``#k`` expansion allowed), ``offset:N`` (an mbox ``From ``
line), ``xml:N`` (the N-th Event XML event), ``csv:N``, ``jsonl:N``, ``json:<path>``,
``sqlite:<table>:<rowid>`` (through a copy), ``evtx:N`` (an EventRecordID) and ``file``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

from breachscope.formats.base import open_evidence


def resolve(case_dir: Path, evidence_id: str, path: str, record: str) -> str:
    """The raw record's text (or a description); raises AssertionError if it does not exist."""
    file = case_dir / path
    assert file.is_file(), f"{path}: evidence file missing"
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    assert evidence_id == f"sha256:{digest}", f"{path}: evidence id is not the file's hash"
    kind, _, where = record.partition(":")
    with open_evidence(file) as stream:
        data = stream.read()
    if kind == "file":
        return path
    if kind == "line":
        number = int(where.split("#")[0])
        lines = data.split(b"\n")
        assert 1 <= number <= len(lines) and lines[number - 1].strip(), f"{path}: no {record}"
        return lines[number - 1].decode("utf-8", "replace")
    if kind == "offset":
        offset = int(where)
        assert data[offset : offset + 5] == b"From ", f"{path}: no message at {record}"
        return data[offset : offset + 200].decode("utf-8", "replace")
    if kind == "xml":
        events = data.decode("utf-8", "replace").split("</Event>")
        number = int(where)
        assert 1 <= number < len(events), f"{path}: no {record}"
        return events[number - 1].strip()
    if kind == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig", "replace"))))
        number = int(where)
        assert 1 <= number < len(rows), f"{path}: no {record}"
        return ",".join(rows[number])
    if kind == "jsonl":
        lines = data.decode("utf-8", "replace").splitlines()
        return lines[int(where) - 1]
    if kind == "json":
        node = json.loads(data)
        for part in where.split("/") if where else []:
            node = node[int(part)] if isinstance(node, list) else node[part]
        return json.dumps(node)[:200]
    if kind == "sqlite":
        table, rowid = where.rsplit(":", 1)
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / "copy.db"
            shutil.copyfile(file, copy)
            con = sqlite3.connect(copy)
            try:
                row = con.execute(
                    f'SELECT * FROM "{table}" WHERE rowid = ?', (int(rowid),)
                ).fetchone()
            finally:
                con.close()
        assert row is not None, f"{path}: no {record}"
        return repr(row)[:200]
    if kind == "evtx":
        from evtx import PyEvtxParser

        for item in PyEvtxParser(str(file)).records_json():
            event = json.loads(item["data"])["Event"]["System"]
            if str(event["EventRecordID"]) == where:
                return item["data"][:200]
        raise AssertionError(f"{path}: no {record}")
    raise AssertionError(f"{path}: unknown record kind {record!r}")


def all_refs(node: object) -> list[dict[str, str]]:
    """Every evidence reference anywhere in a findings document."""
    found: list[dict[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("evidence") and isinstance(value, list):
                found += [v for v in value if isinstance(v, dict) and "record" in v]
            else:
                found += all_refs(value)
    elif isinstance(node, list):
        for value in node:
            found += all_refs(value)
    return found
