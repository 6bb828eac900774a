"""One investigation end to end: manifest -> custody -> ingest -> analyses -> findings.

The CLI calls `investigate`; tests call it with an injected clock. The output folder must not
lie inside an evidence folder (the run would read its own output and write beside evidence).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from breachscope import __version__
from breachscope.analyses import Context
from breachscope.analyses.run import run_analyses
from breachscope.case import Case, CaseError, load_case
from breachscope.custody import Clock, CustodyLog, format_time, system_clock
from breachscope.findings import build_findings, write_findings
from breachscope.ingest import Ingest, IngestResult, Progress
from breachscope.report import write_report
from breachscope.store import Store, ibis_connection

RUN_INFO = "run-info.json"


@dataclass
class Investigation:
    case: Case
    case_dir: Path
    out_dir: Path
    findings_path: Path | None
    findings: dict[str, Any] | None
    ingest: IngestResult
    custody_head: str


def default_out_dir(case_dir: Path) -> Path:
    return case_dir / "out"


def _check_out_dir(case: Case, case_dir: Path, out_dir: Path) -> None:
    out = out_dir.resolve()
    for spec in case.evidence:
        evidence = (case_dir / spec.path).resolve()
        if out == evidence or evidence in out.parents or out in evidence.parents:
            raise CaseError(
                f"output folder {out_dir} overlaps evidence {spec.path!r}; "
                "choose another folder with -o (evidence is never written)"
            )


def ingest_case(
    location: str | Path,
    out_dir: Path | None = None,
    keep_going: bool = False,
    clock: Clock = system_clock,
    progress: Progress | None = None,
) -> tuple[Case, Path, Path, CustodyLog, IngestResult]:
    """Load the manifest and read all evidence into ``out_dir``'s store."""
    case, case_dir = load_case(location)
    out = (out_dir or default_out_dir(case_dir)).resolve()
    _check_out_dir(case, case_dir, out)
    out.mkdir(parents=True, exist_ok=True)
    (out / RUN_INFO).write_text(
        json.dumps({"case_dir": str(case_dir), "case": case.case}, indent=1) + "\n",
        encoding="utf-8",
    )
    custody = CustodyLog(out, clock)
    custody.append("run_started", case=case.case, tool_version=__version__)
    store = Store(out)
    result = Ingest(case, case_dir, store, custody, keep_going, progress).run()
    return case, case_dir, out, custody, result


def investigate(
    location: str | Path,
    out_dir: Path | None = None,
    keep_going: bool = False,
    clock: Clock = system_clock,
    progress: Progress | None = None,
    engine: str = "duckdb",
) -> Investigation:
    """Ingest, analyse, write ``findings.json`` and the report; returns what was done."""
    case, case_dir, out, custody, result = ingest_case(
        location, out_dir, keep_going, clock, progress
    )
    store = Store(out)
    store.duckdb().close()
    con = ibis_connection(out, engine)
    sections = run_analyses(Context.open(case, con, blob=store.blob))
    inputs = [record.as_finding() for record in result.inputs]
    head = custody.append(
        "run_finished",
        case=case.case,
        inputs=len(inputs),
        records=sum(i["records"] for i in inputs),
        errors=sum(i["errors"] for i in inputs),
    )
    document = build_findings(
        case.case, format_time(clock()) or "", inputs, sections, custody_head=head
    )
    path = write_findings(out, document)
    write_report(out, document, out)
    return Investigation(case, case_dir, out, path, document, result, head)
