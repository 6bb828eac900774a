"""Ingest: from the manifest's evidence list to Parquet tables, with custody.

For each file: resolve the path (a folder is walked in name order, links are not followed),
hash it, choose its reader(s), derive each reader's ``parse_key`` and stream the rows into the
store. Items finished by an earlier run with the same ``parse_key`` are not read again.

Which reader reads a file (rules.md, Exposure -> Collected host folder):
- the manifest's ``format:`` when given, else content sniffing;
- in a collected host folder (a folder item with ``host:``) every regular file becomes a
  ``files`` row (the ``host_file`` reader, with content labels), and only files at known
  artefact paths are also parsed by the format their content shows;
- IOC files (``iocs:``) and vulnerability data (``vulnerabilities:``) are read like evidence by
  the formats that fill ``iocs`` and ``vulns``; mapping files are hashed and logged.
The outcome of every file is an `InputRecord` (``inputs[]`` of findings.json).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from breachscope import __version__
from breachscope.case import Case, EvidenceSpec
from breachscope.custody import CustodyLog, Hashed, hash_file
from breachscope.formats import get_format, sniff_format
from breachscope.formats.base import SNIFF_BYTES, Blob, EvidenceItem, Mapping, Problem, Row
from breachscope.identity import Realms
from breachscope.mapping import MappingError, load_mapping
from breachscope.schema import SCHEMA_VERSION, TABLES, column_set
from breachscope.store import BadRow, Store
from breachscope.vulndata import cached_files

Progress = Callable[[str, int, int], None]

HOST_FILE_FORMAT = "host_file"
IOC_TEXT_FORMAT = "ioc_text"
# Known artefact paths of a collected host folder (casefolded globs over the path inside it).
ARTEFACT_GLOBS = (
    "*/recent/*.lnk",
    "*/office/recent/*.lnk",
    "*/user data/*/history",
    "*/user data/*/login data",
    "*/profiles/*/places.sqlite",
    "*/profiles/*/logins.json",
    "*.vcf",
    "*.pst",
    "*.ost",
    "*.eml",
    "*.msg",
)
ROLE_TABLES = {"ioc": frozenset({"iocs"}), "vulns": frozenset({"vulns"})}
EVIDENCE_TABLES = frozenset(TABLES) - {"iocs", "vulns"}


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
    parts: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per parse_key, the row count of each table written."""

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


@dataclass(frozen=True)
class Planned:
    """One file to read: its manifest item, its role and, in a folder item, the folder."""

    spec: EvidenceSpec
    path: Path
    role: str = "evidence"
    folder: Path | None = None


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


def is_artefact(folder_path: str) -> bool:
    """Is a path inside a collected host folder one whose format is worth parsing?

    >>> is_artefact("C/Users/taro/AppData/Roaming/Microsoft/Windows/Recent/plan.docx.lnk")
    True
    >>> is_artefact("C/Users/taro/Documents/plan.docx")
    False
    """
    key = "/" + folder_path.casefold()
    return any(
        fnmatch.fnmatchcase(key, "*/" + glob.lstrip("*/")) or fnmatch.fnmatchcase(key, glob)
        for glob in ARTEFACT_GLOBS
    )


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
        item.folder_path or "",
        mapping_hash or "",
        _sensitivity_hash(item.case) if format_name == HOST_FILE_FORMAT else "",
        SCHEMA_VERSION,
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]


def _sensitivity_hash(case: Case | None) -> str:
    if case is None:
        return ""
    text = repr([s.model_dump() for s in case.sensitivity])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
        self.mappings: dict[str, Mapping] = {}

    def run(self) -> IngestResult:
        inputs = self._mapping_files()
        files: dict[str, list[str]] = {}
        plan = self._plan()
        for number, planned in enumerate(plan, start=1):
            if self.progress:
                self.progress(_relative(planned.path, self.case_dir), number, len(plan))
            record = self._ingest_file(planned)
            inputs.append(record)
            if record.status != "ok" or not record.evidence_id:
                continue
            for key, tables in record.parts.items():
                for table in tables:
                    file = self.store.table_file(table, record.evidence_id, key)
                    files.setdefault(table, []).append(file.relative_to(self.store.root).as_posix())
        self.store.write_run(files)
        return IngestResult(inputs=inputs, files=files)

    def _mapping_files(self) -> list[InputRecord]:
        """Hash, log and validate every mapping file first: a bad one stops the run early."""
        records = []
        for rel in sorted({spec.mapping for spec in self.case.evidence if spec.mapping}):
            path = (self.case_dir / rel).resolve()
            if not path.is_file():
                if not self.keep_going:
                    raise IngestError(f"mapping file {rel!r}: no such file")
                records.append(InputRecord(path=rel, role="mapping", status="missing"))
                continue
            hashed = hash_file(path)
            self.custody.append(
                "hashed", role="mapping", path=rel, evidence_id=hashed.evidence_id, size=hashed.size
            )
            try:
                self.mappings[rel] = load_mapping(path)
            except MappingError as error:
                raise IngestError(str(error)) from None
            records.append(
                InputRecord(
                    path=rel,
                    role="mapping",
                    evidence_id=hashed.evidence_id,
                    sha256=hashed.sha256,
                    size=hashed.size,
                    format="mapping",
                )
            )
        return records

    def _plan(self) -> list[Planned]:
        """Every file to read; a missing path is an error, or recorded with --keep-going."""
        wanted: list[tuple[EvidenceSpec, str]] = [
            (EvidenceSpec(path=p), "ioc") for p in self.case.iocs
        ]
        vulns = self.case.vulnerabilities
        if vulns is None:  # case-manifest.md: then the data of the last `vulndata fetch`
            vulns = [str(path) for path in cached_files()]
        wanted += [(EvidenceSpec(path=p), "vulns") for p in vulns]
        wanted += [(spec, "evidence") for spec in self.case.evidence]
        plan: list[Planned] = []
        for spec, role in wanted:
            path = (self.case_dir / spec.path).resolve()
            if not path.exists():
                if not self.keep_going:
                    noun = "evidence" if role == "evidence" else f"{role} file"
                    raise IngestError(f"{noun} {spec.path!r}: no such file or folder")
                plan.append(Planned(spec, path, role))
                continue
            folder = path if path.is_dir() else None
            plan.extend(Planned(spec, file, role, folder) for file in walk_files(path))
        return plan

    def _item(self, planned: Planned, hashed: Hashed) -> EvidenceItem:
        spec = planned.spec
        infected = self.case.known.infected_at
        folder_path = (
            planned.path.relative_to(planned.folder).as_posix() if planned.folder else None
        )
        return EvidenceItem(
            path=planned.path,
            rel_path=_relative(planned.path, self.case_dir),
            evidence_id=hashed.evidence_id,
            system=spec.system,
            host=spec.host,
            owner=spec.owner,
            timezone=spec.timezone or self.case.timezone,
            year=spec.year,
            clock_offset=spec.clock_offset or 0.0,
            mount=spec.mount,
            mapping=self.mappings.get(spec.mapping) if spec.mapping else None,
            case=self.case,
            fallback_year=infected.year if infected else None,
            realms=self.realms,
            folder_path=folder_path,
        )

    def _ingest_file(self, planned: Planned) -> InputRecord:
        rel = _relative(planned.path, self.case_dir)
        record = InputRecord(path=rel, role=planned.role)
        if not planned.path.exists():
            record.status = "missing"
            return record
        try:
            hashed = hash_file(planned.path)
        except OSError as error:
            if not self.keep_going:
                raise IngestError(f"{rel!r}: cannot be read: {error}") from None
            record.status = "unreadable"
            return record
        record.evidence_id, record.sha256, record.size = (
            hashed.evidence_id,
            hashed.sha256,
            hashed.size,
        )
        self.custody.append(
            "hashed",
            role=planned.role,
            path=rel,
            evidence_id=hashed.evidence_id,
            size=hashed.size,
        )
        item = self._item(planned, hashed)
        readers = self._readers(planned, item)
        if not readers:
            record.status = "unknown_format"
            if planned.folder is None and not self.keep_going:
                raise IngestError(
                    f"{rel!r}: format not recognised; name it with 'format:' in case.yaml "
                    "(see formats.md)"
                )
            return record
        record.format = "+".join(reader.name for reader in readers)
        for reader in readers:
            mapping_hash = item.mapping.sha256 if item.mapping else None
            key = parse_key(reader.name, reader.version, item, mapping_hash)
            marker = self.store.done_marker(hashed.evidence_id, key)
            if marker is None:
                marker = self._parse(reader, item, record, key)
                if marker is None:
                    return record
            record.records += marker["records"]
            record.errors += marker["errors"]
            record.warnings += marker["warnings"]
            record.parts[key] = marker["tables"]
            self.custody.append(
                "parsed",
                path=rel,
                evidence_id=hashed.evidence_id,
                format=f"{reader.name}/{reader.version}",
                parse_key=key,
                records=marker["records"],
                errors=marker["errors"],
                warnings=marker["warnings"],
            )
        return record

    def _readers(self, planned: Planned, item: EvidenceItem) -> list[Any]:
        spec = planned.spec
        if spec.format:
            try:
                return [get_format(spec.format)]
            except KeyError as error:
                raise IngestError(f"evidence {spec.path!r}: {error.args[0]}") from None
        collected = planned.folder is not None and spec.host is not None
        if collected and item.folder_path is not None and not is_artefact(item.folder_path):
            return [get_format(HOST_FILE_FORMAT)]
        sniffed = self._sniff(planned, item)
        if sniffed is None and planned.role == "ioc":
            # The manifest says it is an indicator list: a list whose first lines hold a value
            # of unknown shape is still read as one (unknown values are kept with a warning).
            sniffed = get_format(IOC_TEXT_FORMAT)
        if collected:
            return [get_format(HOST_FILE_FORMAT), *([sniffed] if sniffed else [])]
        return [sniffed] if sniffed else []

    def _sniff(self, planned: Planned, item: EvidenceItem) -> Any:
        """Sniff among the formats that fit the file's role: indicator and vulnerability
        formats only read the files the manifest lists under ``iocs:`` / ``vulnerabilities:``."""
        try:
            head = item.head(SNIFF_BYTES)
        except (OSError, EOFError, ValueError):
            return None
        return sniff_format(head, planned.path, ROLE_TABLES.get(planned.role, EVIDENCE_TABLES))

    def _parse(
        self, reader: Any, item: EvidenceItem, record: InputRecord, key: str
    ) -> dict[str, Any] | None:
        writer = self.store.item_writer(item.evidence_id, key)
        # Records = rows' record references, a run of rows from one record counted once: a
        # set of every reference would grow with the evidence.
        records = 0
        last_ref: str | None = None
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
                if isinstance(thing, Blob):
                    self.store.keep_blob(thing.sha256, thing.data)
                    continue
                if isinstance(thing, Row):
                    values = {**base, **thing.values}
                    table_columns = column_set(thing.table)
                    for column, value in defaults.items():
                        if values.get(column) is None and column in table_columns:
                            values[column] = value
                    rejected = writer.add(thing.table, values)
                    if values["record"] != last_ref:
                        records += 1
                        last_ref = values["record"]
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
        except BadRow:
            writer.abandon()
            raise
        except Exception as error:  # a reader crash must not lose the rest of the case
            writer.abandon()
            if not self.keep_going:
                raise IngestError(
                    f"{record.path!r}: the {reader.name} reader failed: "
                    f"{type(error).__name__}: {error}"
                ) from error
            record.status = "unreadable"
            record.errors += 1
            return None
        marker = {
            "records": records,
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
                "records": records,
                "errors": errors,
                "warnings": warnings,
            },
        )
        writer.finish()
        tables = writer.commit(marker)
        return {**marker, "tables": tables}
