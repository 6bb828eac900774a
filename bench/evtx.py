"""EVTX ingest throughput against the raw ``evtx`` package, on real samples (issue 4's figures).

Run from the repository root (the corpora are read in place, never copied):

    .venv/bin/python bench/evtx.py                  # both corpora below, median of 3 runs
    .venv/bin/python bench/evtx.py --runs 5 --corpus /some/folder/of/evtx

Every run measures, on the same files (every regular file under each ``--corpus`` folder,
recursively; default ``evtx-attack-samples`` and ``plaso/evtx`` under ../shared/corpora):

- ``raw evtx``: ``PyEvtxParser(path).records_json()`` iterated in this process, counting the
  records: what the Rust parser costs by itself, the ceiling for any Python reader.
- ``raw + json.loads``: the same, decoding each record's JSON text, which any consumer must at
  least do.
- ``reader (in process)``: breachscope's EVTX reader (``EvtxFile.read``) over every file in
  this process: the raw parse plus decoding and row making, without the rest of the ingest.
- ``ingest``: ``python -m breachscope ingest`` in a fresh process of a temporary case
  whose evidence items are the corpus folders by absolute path, into a temporary output folder:
  the real pipeline (hashing, sniffing, reading, Parquet writing, custody, DuckDB views).
  Timed from spawn to exit; its CPU time and peak RSS from ``os.wait4``.
- ``empty-case ingest``: the same command on a case with no evidence: interpreter and import
  start-up plus the fixed work of a run.
- ``ingest - start-up``: ingest wall time minus the empty case's, so the throughput of the
  ingest itself, comparable with the in-process raw figures.

Each figure is the median over ``--runs`` runs (the measurements are interleaved, so a slow
moment of the machine hits all of them alike). ``seconds`` is wall time; ``cpu s`` is the CPU
time used (user + system, all threads), steadier than wall time on a busy machine and blind to
waits such as the custody log's fsync. Records/s always divide the raw record count (records
the parser yields without error), so a ratio of two rates is the ratio of their times. The
``ingest/raw`` ratios compare the ingest (wall, and without start-up) with both baselines;
issue 4's goal is at least 60% of raw. Peak memory is the child's maximum resident set size;
on the ``ingest - start-up`` line it is what reading the evidence added to the empty case's
peak. The ingest's own record count (summed from its ``done`` markers) is printed as a check.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
DEFAULT_CORPUS = (CORPORA / "evtx-attack-samples", CORPORA / "plaso" / "evtx")
GOAL = 0.60  # issue 4: the ingest at least 60% of the raw parser's rate
MIB = 2**20


def _import(name: str) -> Any:
    """A module imported after this script's folder is dropped from the import path.

    This script is itself named ``evtx.py`` and Python puts a script's folder first on the
    import path: ``import evtx`` (here, and in ``breachscope.formats.evtx``) would find it.
    """
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    return importlib.import_module(name)


def corpus_files(folders: list[Path]) -> list[Path]:
    """Regular files under the folders, in a stable order, links not followed (as the ingest)."""
    found: list[Path] = []
    for folder in folders:
        for current, dirs, names in os.walk(folder, followlinks=False):
            dirs.sort()
            for name in sorted(names):
                path = Path(current) / name
                if path.is_file() and not path.is_symlink():
                    found.append(path)
    return found


class Timing(NamedTuple):
    wall: float  # seconds
    cpu: float  # seconds of CPU time, user and system, all threads


class _Clock:
    """Wall and CPU time of this process since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def timing(self) -> Timing:
        return Timing(time.perf_counter() - self.wall, time.process_time() - self.cpu)


def raw_pass(parser_class: Any, files: list[Path], decode: bool) -> tuple[Timing, int]:
    """Time and records of one iteration over every file with the bare ``evtx`` parser."""
    records = 0
    clock = _Clock()
    for path in files:
        iterator: Iterator[dict[str, Any]] = parser_class(str(path)).records_json()
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                break
            except RuntimeError:  # an unreadable chunk or record: skipped, as the reader does
                continue
            if decode:
                json.loads(record["data"])
            records += 1
    return clock.timing(), records


def reader_pass(files: list[Path]) -> Timing:
    """Time of one pass of breachscope's EVTX reader (``EvtxFile.read``) over every file,
    in this process: parsing and row making, without the ingest's hashing and writing."""
    reader = _import("breachscope.formats.evtx").EvtxFile()
    item_class = _import("breachscope.formats.base").EvidenceItem
    clock = _Clock()
    for path in files:
        item = item_class(path=path, rel_path=str(path), evidence_id="sha256:-", system="corp-ad")
        for _ in reader.read(item):
            pass
    return clock.timing()


def ingest_pass(case_dir: Path, out_dir: Path) -> tuple[Timing, int]:
    """Time and peak RSS (bytes) of one ``breachscope ingest`` in a fresh process."""
    command = [sys.executable, "-m", "breachscope", "ingest", str(case_dir), "-o", str(out_dir)]
    started = time.perf_counter()
    process = subprocess.Popen([*command, "--no-progress"], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"ingest of {case_dir} failed with status {status}")
    cpu = usage.ru_utime + usage.ru_stime
    return Timing(elapsed, cpu), usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def ingested_records(out_dir: Path) -> int:
    """The records the ingest counted, from its per-item ``done`` markers."""
    markers = (out_dir / "store" / "done").glob("*.json")
    return sum(json.loads(marker.read_text(encoding="utf-8"))["records"] for marker in markers)


def write_case(case_dir: Path, folders: list[Path]) -> None:
    case_dir.mkdir()
    items = "".join(f"  - path: {json.dumps(str(f))}\n    system: corp-ad\n" for f in folders)
    evidence = f"\n{items}" if items else " []\n"
    (case_dir / "case.yaml").write_text(f"case: BENCH\nevidence:{evidence}", encoding="utf-8")


def _rate(records: int, seconds: float) -> str:
    return f"{records / seconds:>12,.0f}" if seconds > 0 else f"{'-':>12}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument(
        "--corpus", type=Path, action="append", help="a folder of EVTX files (repeatable)"
    )
    args = parser.parse_args()
    folders = [folder.resolve() for folder in (args.corpus or DEFAULT_CORPUS)]
    for folder in folders:
        if not folder.is_dir():
            raise SystemExit(f"no such folder: {folder}")
    files = corpus_files(folders)
    size = sum(path.stat().st_size for path in files)
    parser_class = _import("evtx").PyEvtxParser
    timings: dict[str, list[Timing]] = {}
    peaks: dict[str, list[float]] = {}
    records = ingested = 0
    with tempfile.TemporaryDirectory(prefix="bs-bench-evtx-") as tmp:
        root = Path(tmp)
        write_case(root / "case", folders)
        write_case(root / "empty", [])
        for run in range(args.runs):
            for decode, name in ((False, "raw"), (True, "decoded")):
                timing, records = raw_pass(parser_class, files, decode)
                timings.setdefault(name, []).append(timing)
            timings.setdefault("reader", []).append(reader_pass(files))
            for case in ("empty", "case"):
                out_dir = root / f"out-{case}-{run}"
                timing, rss = ingest_pass(root / case, out_dir)
                timings.setdefault(case, []).append(timing)
                peaks.setdefault(case, []).append(rss)
                if case == "case":
                    ingested = ingested_records(out_dir)
                shutil.rmtree(out_dir)

    time_of = {name: statistics.median(t.wall for t in values) for name, values in timings.items()}
    cpu_of = {name: statistics.median(t.cpu for t in values) for name, values in timings.items()}
    peak_of = {name: statistics.median(values) for name, values in peaks.items()}
    time_of["work"] = work = time_of["case"] - time_of["empty"]
    cpu_of["work"] = cpu_of["case"] - cpu_of["empty"]
    print(f"{len(files)} files, {size / MIB:.1f} MiB, under: {', '.join(map(str, folders))}")
    print(f"records: {records:,} (raw parser), {ingested:,} (ingest); median of {args.runs} runs")
    print(f"{'':<22} {'seconds':>9} {'records/s':>12} {'cpu s':>9} {'peak MiB':>9}")
    rows: list[tuple[str, str, float | None]] = [
        ("raw evtx", "raw", None),
        ("raw + json.loads", "decoded", None),
        ("reader (in process)", "reader", None),
        ("ingest", "case", peak_of["case"]),
        ("empty-case ingest", "empty", peak_of["empty"]),
        ("ingest - start-up", "work", peak_of["case"] - peak_of["empty"]),
    ]
    for label, name, peak in rows:
        rate = _rate(records, time_of[name]) if name != "empty" else f"{'':>12}"
        memory = f"{peak / MIB:>9.1f}" if peak is not None else f"{'':>9}"
        print(f"{label:<22} {time_of[name]:>9.3f} {rate} {cpu_of[name]:>9.3f} {memory}")
    print(f"ingest/raw (goal >= {GOAL:.0%}):")
    for label, elapsed in (("wall", time_of["case"]), ("without start-up", work)):
        versus_raw = time_of["raw"] / elapsed if elapsed > 0 else float("nan")
        versus_decoded = time_of["decoded"] / elapsed if elapsed > 0 else float("nan")
        print(
            f"  {label:<18} {versus_raw:>7.1%} of raw, {versus_decoded:>7.1%} of raw + json.loads"
        )


if __name__ == "__main__":
    main()
