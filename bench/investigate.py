"""Time per stage and peak memory of one investigation of the demo case, by volume.

Each measurement runs in a fresh child process (this script with ``--child``), which calls the
pieces of `breachscope.pipeline.investigate` itself so each stage is timed on its own:
generate (`generate_case`), ingest (`pipeline.ingest_case`), analyses (`run_analyses` on the
engine) and findings (`build_findings` + `write_findings`). The child reports its wall times,
the case's size on disk and its peak RSS after each stage (``ru_maxrss``, cumulative, so the
ingest figure is the peak of generate + ingest); the parent adds the whole process's peak RSS
including children (a Spark JVM) from ``os.wait4``. A measurement that runs past
``--cap-seconds`` is killed and reported as such. Cases are written under ``--tmp`` and removed.

    .venv/bin/python bench/investigate.py --scale 1 --scale 10 --runs 3
    .venv/bin/python bench/investigate.py --scale 100 --runs 1 --cap-seconds 900
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STAGES = ("generate", "ingest", "analyses", "findings")
RESULT = "bench-result.json"  # the child's figures, beside the case it wrote


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def child(scale: int, folder: Path, engine: str) -> dict[str, Any]:
    """One investigation, stage by stage (runs in the child process)."""
    from breachscope.analyses import Context
    from breachscope.analyses.run import run_analyses
    from breachscope.custody import format_time, system_clock
    from breachscope.demo.generate import generate_case
    from breachscope.findings import build_findings, write_findings
    from breachscope.pipeline import ingest_case
    from breachscope.store import Store, ibis_connection

    seconds: dict[str, float] = {}
    peaks: dict[str, int] = {}
    case_dir, out = folder / "case", folder / "out"

    started = time.perf_counter()
    generate_case(case_dir, scale=scale)
    seconds["generate"] = time.perf_counter() - started
    peaks["generate"] = _peak_bytes()

    started = time.perf_counter()
    case, _, out, custody, result = ingest_case(case_dir, out)
    seconds["ingest"] = time.perf_counter() - started
    peaks["ingest"] = _peak_bytes()

    started = time.perf_counter()
    store = Store(out)
    store.duckdb().close()
    sections = run_analyses(Context.open(case, ibis_connection(out, engine), blob=store.blob))
    seconds["analyses"] = time.perf_counter() - started
    peaks["analyses"] = _peak_bytes()

    started = time.perf_counter()
    inputs = [record.as_finding() for record in result.inputs]
    head = custody.append(
        "run_finished",
        case=case.case,
        inputs=len(inputs),
        records=sum(i["records"] for i in inputs),
        errors=sum(i["errors"] for i in inputs),
    )
    document = build_findings(
        case.case, format_time(system_clock()) or "", inputs, sections, custody_head=head
    )
    write_findings(out, document)
    seconds["findings"] = time.perf_counter() - started
    peaks["findings"] = _peak_bytes()

    return {
        "seconds": seconds,
        "peaks": peaks,
        "records": sum(i["records"] for i in inputs),
        "case_bytes": _size(case_dir),
        "out_bytes": _size(out),
    }


def measure(scale: int, engine: str, cap: float, tmp: Path) -> dict[str, Any]:
    """One measurement in a fresh process; ``{"capped": True}`` if it ran past ``cap``."""
    folder = Path(tempfile.mkdtemp(prefix=f"bs-bench-{scale}x-", dir=tmp))
    # -P: bench/ is not put on sys.path, where bench/evtx.py would shadow the evtx package
    args = [sys.executable, "-P", __file__, "--child", str(scale), str(folder), "--engine", engine]
    try:
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = started + cap
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                os.wait4(process.pid, 0)
                return {"capped": True, "wall": time.perf_counter() - started}
            time.sleep(0.2)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"scale {scale}: child failed with status {status}")
        found: dict[str, Any] = json.loads((folder / RESULT).read_text(encoding="utf-8"))
        found["wall"] = wall
        found["peak_process"] = usage.ru_maxrss * 1024
        return found
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _mib(value: float) -> str:
    return f"{value / 2**20:.0f}"


def table(scale: int, runs: list[dict[str, Any]]) -> list[str]:
    """Rows of the printed table: median over the runs of each stage."""
    done = [r for r in runs if not r.get("capped")]
    if not done:
        return [f"{scale:>5}x  capped after {runs[0]['wall']:.0f} s (not finished)"]
    lines = []
    for stage in STAGES:
        seconds = [r["seconds"][stage] for r in done]
        peak = statistics.median(r["peaks"][stage] for r in done)
        lines.append(
            f"{scale:>5}x  {stage:<9} {statistics.median(seconds):>8.2f} s  "
            f"[{', '.join(f'{s:.2f}' for s in seconds)}]  peak so far {_mib(peak)} MiB"
        )
    wall = [r["wall"] for r in done]
    first = done[0]
    lines.append(
        f"{scale:>5}x  {'total':<9} {statistics.median(wall):>8.2f} s  "
        f"[{', '.join(f'{s:.2f}' for s in wall)}]  process peak "
        f"{_mib(statistics.median(r['peak_process'] for r in done))} MiB; "
        f"{first['records']:,} records, case {_mib(first['case_bytes'])} MiB, "
        f"store {_mib(first['out_bytes'])} MiB"
        + (f"; {len(runs) - len(done)} run(s) capped" if len(done) < len(runs) else "")
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=int, action="append", help="volume (repeatable)")
    parser.add_argument("--runs", type=int, default=3, help="runs per scale (median)")
    parser.add_argument("--cap-seconds", type=float, default=900.0)
    parser.add_argument("--engine", default="duckdb", choices=("duckdb", "spark"))
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--child", nargs=2, metavar=("SCALE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        found = child(int(args.child[0]), Path(args.child[1]), args.engine)
        (Path(args.child[1]) / RESULT).write_text(json.dumps(found), encoding="utf-8")
        return
    print(f"engine {args.engine}; median of {args.runs} run(s); cap {args.cap_seconds:.0f} s")
    for scale in args.scale or [1, 10]:
        runs = []
        for _ in range(args.runs):
            runs.append(measure(scale, args.engine, args.cap_seconds, args.tmp))
            if runs[-1].get("capped"):
                break
        for line in table(scale, runs):
            print(line, flush=True)


if __name__ == "__main__":
    main()
