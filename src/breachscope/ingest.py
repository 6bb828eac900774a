"""Ingest: from the manifest's evidence list to Parquet tables, with custody.

For each evidence item: resolve the path (a folder is walked in name order, links are not
followed), hash it, choose its format (the manifest's ``format:`` or content sniffing), derive
its ``parse_key`` and stream the format's rows into the store. Items finished by an earlier run
with the same ``parse_key`` are not read again. IOC, vulnerability and mapping files are hashed
and logged too. The outcome of every file is an `InputRecord` (``inputs[]`` of findings.json).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from breachscope import __version__
from breachscope.case import Case, EvidenceSpec
from breachscope.custody import CustodyLog, Hashed, hash_file
from breachscope.formats import get_format, sniff_format
from breachscope.formats.base import SNIFF_BYTES, EvidenceItem, Mapping, Problem, Row
from breachscope.identity import Realms
from breachscope.mapping import MappingError, load_mapping
from breachscope.schema import SCHEMA_VERSION, columns
from breachscope.store import BadRow, Store

Progress = Callable[[str, int, int], None]


class IngestError(Exception):
    """Evidence that cannot be used without ``--keep-going``; names the item. Exit status 2."""


@dataclass
class InputRecord:
    """One line of ``inputs[]``: what happened to one file."""

    path: str
    role: str = "evidence"
    evidence_id: str | None = None
    sha256: str | None = None
    size: int | None = None
    format: str | None = None
    records: int = 0
    errors: int = 0
    warnings: int = 0
    status: str = "ok"
    system: str | None = None
    host: str | None = None
    owner: str | None = None
    parse_key: str | None = None
    tables: dict[str, int] = field(default_factory=dict)

    def as_finding(self) -> dict[str, Any]:
        return {
            "evidence_id": self.evidence_id,
            "path": self.path,
            "sha256": self.sha256,
            "format": self.format,
            "records": self.records,
            "errors": self.errors,
            "warnings": self.warnings,
            "status": self.status,
            "role": self.role,
        }


@dataclass
class IngestResult:
    inputs: list[InputRecord]
    files: dict[str, list[str]]


def _relative(path: Path, case_dir: Path) -> str:
    try:
        return path.relative_to(case_dir).as_posix()
    except ValueError:
        return path.as_posix()


def walk_files(root: Path) -> Iterator[Path]:
    """Regular files under ``root`` in a stable order; links are not followed."""
    if root.is_file():
        yield root
        return
    for current, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(current) / name
            if path.is_file() and not path.is_symlink():
                yield path


def parse_key(
    format_name: str, format_version: str, item: EvidenceItem, mapping_hash: str | None
) -> str:
    """12 hex chars naming one way of parsing one file (architecture, physical rules)."""
    parts = [
        f"{format_name}/{format_version}",
        item.system or "",
        item.host or "",
        item.owner or "",
        item.timezone,
        str(item.year or item.fallback_year or ""),
        repr(item.clock_offset),
        item.mount or "",
        mapping_hash or "",
        SCHEMA_VERSION,
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]


class Ingest:
    """Reads a case's evidence into a store."""

    def __init__(
        self,
        case: Case,
        case_dir: Path,
        store: Store,
        custody: CustodyLog,
        keep_going: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.case = case
        self.case_dir = case_dir
        self.store = store
        self.custody = custody
        self.keep_going = keep_going
        self.progress = progress
        self.realms = Realms.from_case(case)

    def run(self) -> IngestResult:
        inputs: list[InputRecord] = []
        inputs += self._side_files("ioc", self.case.iocs)
        inputs += self._side_files("vulns", self.case.vulnerabilities or [])
        mappings = [spec.mapping for spec in self.case.evidence if spec.mapping]
        inputs += self._side_files("mapping", mappings)
        mapping_hashes = {i.path: i.sha256 for i in inputs if i.role == "mapping"}
        files: dict[str, list[str]] = {}
        plan = self._plan()
        for number, (spec, path) in enumerate(plan, start=1):
            if self.progress:
                self.progress(_relative(path, self.case_dir), number, len(plan))
            record = self._ingest_file(spec, path, mapping_hashes)
            inputs.append(record)
            if record.status == "ok" and record.parse_key and record.evidence_id:
                for table in record.tables:
                    file = self.store.table_file(table, record.evidence_id, record.parse_key)
                    files.setdefault(table, []).append(file.relative_to(self.store.root).as_posix())
        self.store.write_run(files)
        return IngestResult(inputs=inputs, files=files)

    def _plan(self) -> list[tuple[EvidenceSpec, Path]]:
        """Every file to read, with its manifest item; a missing path is an error or recorded."""
        plan: list[tuple[EvidenceSpec, Path]] = []
        for spec in self.case.evidence:
            path = (self.case_dir / spec.path).resolve()
            if not path.exists():
                if not self.keep_going:
                    raise IngestError(f"evidence {spec.path!r}: no such file or folder")
                plan.append((spec, path))
                continue
            plan.extend((spec, file) for file in walk_files(path))
        return plan

    def _side_files(self, role: str, paths: list[str]) -> list[InputRecord]:
        records = []
        for rel in paths:
            path = (self.case_dir / rel).resolve()
            if not path.is_file():
                if not self.keep_going:
                    raise IngestError(f"{role} file {rel!r}: no such file")
                records.append(InputRecord(path=rel, role=role, status="missing"))
                continue
            hashed = hash_file(path)
            self.custody.append(
                "hashed", role=role, path=rel, evidence_id=hashed.evidence_id, size=hashed.size
            )
            records.append(
                InputRecord(
                    path=rel,
                    role=role,
                    evidence_id=hashed.evidence_id,
                    sha256=hashed.sha256,
                    size=hashed.size,
                    format=role,
                )
            )
        return records

    def _item(self, spec: EvidenceSpec, path: Path, hashed: Hashed) -> EvidenceItem:
        infected = self.case.known.infected_at
        return EvidenceItem(
            path=path,
            rel_path=_relative(path, self.case_dir),
            evidence_id=hashed.evidence_id,
            system=spec.system,
            host=spec.host,
            owner=spec.owner,
            timezone=spec.timezone or self.case.timezone,
            year=spec.year,
            clock_offset=spec.clock_offset or 0.0,
            mount=spec.mount,
            mapping=_load_mapping(self.case_dir, spec),
            case=self.case,
            fallback_year=infected.year if infected else None,
            realms=self.realms,
        )

    def _ingest_file(
        self, spec: EvidenceSpec, path: Path, mapping_hashes: dict[str, str | None]
    ) -> InputRecord:
        rel = _relative(path, self.case_dir)
        record = InputRecord(path=rel, system=spec.system, host=spec.host, owner=spec.owner)
        if not path.exists():
            record.status = "missing"
            return record
        try:
            hashed = hash_file(path)
        except OSError as error:
            if not self.keep_going:
                raise IngestError(f"evidence {rel!r}: cannot be read: {error}") from None
            record.status = "unreadable"
            return record
        record.evidence_id, record.sha256, record.size = (
            hashed.evidence_id,
            hashed.sha256,
            hashed.size,
        )
        self.custody.append(
            "hashed", role="evidence", path=rel, evidence_id=hashed.evidence_id, size=hashed.size
        )
        item = self._item(spec, path, hashed)
        reader = self._choose_format(spec, item, path)
        if reader is None:
            record.status = "unknown_format"
            single_file = (self.case_dir / spec.path).resolve() == path
            if single_file and not self.keep_going:
                raise IngestError(
                    f"evidence {rel!r}: format not recognised; name it with 'format:' "
                    "in case.yaml (see formats.md)"
                )
            return record
        record.format = reader.name
        mapping_hash = mapping_hashes.get(spec.mapping) if spec.mapping else None
        key = parse_key(reader.name, reader.version, item, mapping_hash)
        record.parse_key = key
        marker = self.store.done_marker(hashed.evidence_id, key)
        if marker is None:
            marker = self._parse(reader, item, record, key)
        record.records = marker["records"]
        record.errors = marker["errors"]
        record.warnings = marker["warnings"]
        record.tables = marker["tables"]
        self.custody.append(
            "parsed",
            path=rel,
            evidence_id=hashed.evidence_id,
            format=f"{reader.name}/{reader.version}",
            parse_key=key,
            records=record.records,
            errors=record.errors,
            warnings=record.warnings,
        )
        return record

    def _choose_format(self, spec: EvidenceSpec, item: EvidenceItem, path: Path) -> Any:
        if spec.format:
            try:
                return get_format(spec.format)
            except KeyError as error:
                raise IngestError(f"evidence {spec.path!r}: {error.args[0]}") from None
        try:
            head = item.head(SNIFF_BYTES)
        except (OSError, EOFError, ValueError):
            return None
        return sniff_format(head, path)

    def _parse(
        self, reader: Any, item: EvidenceItem, record: InputRecord, key: str
    ) -> dict[str, Any]:
        writer = self.store.item_writer(item.evidence_id, key)
        refs: set[str] = set()
        errors = warnings = 0
        base = {"evidence_id": item.evidence_id}
        defaults = {"system": item.system, "host": item.host}

        def problem_row(found: Problem) -> dict[str, Any]:
            return {
                **base,
                "record": found.record,
                "severity": found.severity,
                "message": found.message[:2000],
                **defaults,
            }

        try:
            for thing in reader.read(item):
                if isinstance(thing, Row):
                    values = {**base, **thing.values}
                    for column, value in defaults.items():
                        if values.get(column) is None and column in columns(thing.table):
                            values[column] = value
                    rejected = writer.add(thing.table, values)
                    refs.add(values["record"])
                else:
                    rejected = writer.add("problems", problem_row(thing))
                    if thing.severity == "error":
                        errors += 1
                    else:
                        warnings += 1
                for bad, reason in rejected:
                    errors += 1
                    writer.add("problems", problem_row(Problem(str(bad.get("record")), reason)))
            for bad, reason in writer.finish():
                errors += 1
                writer.add("problems", problem_row(Problem(str(bad.get("record")), reason)))
            writer.finish()
        except BadRow:
            writer.abandon()
            raise
        except Exception as error:  # a format crash must not lose the rest of the case
            writer.abandon()
            if not self.keep_going:
                raise IngestError(
                    f"evidence {record.path!r}: the {reader.name} reader failed: "
                    f"{type(error).__name__}: {error}"
                ) from error
            record.status = "unreadable"
            return {"records": 0, "errors": 1, "warnings": 0, "tables": {}}
        marker = {
            "records": len(refs),
            "errors": errors,
            "warnings": warnings,
            "format": f"{reader.name}/{reader.version}",
            "tool_version": __version__,
        }
        writer.add(
            "evidence",
            {
                **base,
                "record": "file",
                "path": record.path,
                "sha256": record.sha256,
                "size": record.size,
                "format": reader.name,
                "system": item.system,
                "host": item.host,
                "owner": item.owner,
                "records": len(refs),
                "errors": errors,
                "warnings": warnings,
            },
        )
        writer.finish()
        tables = writer.commit(marker)
        return {**marker, "tables": tables}


def _load_mapping(case_dir: Path, spec: EvidenceSpec) -> Mapping | None:
    if not spec.mapping:
        return None
    try:
        return load_mapping(case_dir / spec.mapping)
    except MappingError as error:
        raise IngestError(str(error)) from None


def inputs_summary(inputs: list[InputRecord]) -> str:
    """One line per input for logs."""
    return "\n".join(json.dumps(i.as_finding(), sort_keys=True) for i in inputs)
