"""Ingest throughput and peak memory per format, at two sizes (issue 3's figures).

Generates auth.log, Squid access.log and mapped-CSV files of N lines and an mbox of M
messages, then times ``breachscope ingest`` on each in a fresh process, several runs, and
prints the median rows/s and the median peak RSS. Flat memory means the peak at the larger
size is at most 1.2x the peak at the smaller one.

    .venv/bin/python bench/ingest.py                       # 1M and 4M lines, 10k/40k messages
    .venv/bin/python bench/ingest.py --lines 100000 400000 --messages 2000 8000 --runs 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

START = dt.datetime(2011, 7, 6, 0, 0, tzinfo=dt.UTC)
MAPPING = """table: logons
time: {column: timestamp, format: '%Y-%m-%d %H:%M:%S'}
fields:
  account: username
  src_ip: client_ip
  outcome: {column: result, map: {OK: success, FAIL: failure}}
constants: {system: partner-portal}
"""


def write_auth(path: Path, lines: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for n in range(lines):
            moment = START + dt.timedelta(seconds=n % 2_000_000)
            stamp = moment.strftime("%b %d %H:%M:%S").replace(" 0", "  ", 1)
            if n % 3:
                source = f"198.51.100.{n % 250} port {1024 + n % 60000}"
                text = f"Failed password for invalid user u{n % 977} from {source} ssh2"
            else:
                source = f"10.20.{n % 250}.{n % 200} port 50122"
                text = f"Accepted password for user{n % 97} from {source} ssh2"
            out.write(f"{stamp} jump01 sshd[{1000 + n % 30000}]: {text}\n")


def write_squid(path: Path, lines: int) -> None:
    base = START.timestamp()
    with path.open("w", encoding="utf-8") as out:
        for n in range(lines):
            out.write(
                f"{base + n * 0.5:.3f}    {n % 900} 10.20.4.{n % 250} TCP_MISS/200 {n % 99999} "
                f"GET http://site{n % 5000}.example/path/{n}?q=x - HIER_DIRECT/192.0.2.{n % 250} "
                "text/html\n"
            )


def write_csv(path: Path, lines: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("timestamp,username,client_ip,result\n")
        for n in range(lines):
            moment = START + dt.timedelta(seconds=n)
            result = "OK" if n % 4 else "FAIL"
            user = f"user{n % 500}@partner.example"
            out.write(f"{moment:%Y-%m-%d %H:%M:%S},{user},203.0.113.{n % 250},{result}\n")


def write_mbox(path: Path, messages: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for n in range(messages):
            moment = START + dt.timedelta(minutes=n)
            out.write(
                f"From sender{n % 300}@example.org {moment:%a %b %d %H:%M:%S %Y}\n"
                f"From: Sender {n % 300} <sender{n % 300}@example.org>\n"
                f"To: t.yamada@example-space.jp, colleague{n % 50}@example-space.jp\n"
                f"Cc: list{n % 7}@lists.example-space.jp\n"
                f"Subject: Report number {n}\n"
                f"Date: {moment:%a, %d %b %Y %H:%M:%S} +0000\n"
                f"Message-ID: <m{n}@example.org>\n"
                "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
                + "".join(f"Line {k} of message {n}, nothing to see here.\n" for k in range(12))
                + "\n"
            )


KINDS: dict[str, tuple[Callable[[Path, int], None], str]] = {
    "auth.log": (write_auth, "  - path: ev.log\n    system: jumphost\n    year: 2011\n"),
    "squid": (write_squid, "  - path: ev.log\n    host: proxy01\n"),
    "mapped-csv": (
        write_csv,
        "  - path: ev.log\n    system: partner-portal\n    format: mapped-csv\n"
        "    mapping: mapping.yaml\n",
    ),
    "mbox": (write_mbox, "  - path: ev.log\n    owner: t.yamada@example-space.jp\n"),
}


def measure(case_dir: Path, out_dir: Path) -> tuple[float, int]:
    """Seconds and peak RSS (bytes) of one ingest in a fresh process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "breachscope",
            "ingest",
            str(case_dir),
            "-o",
            str(out_dir),
            "--no-progress",
        ],
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"ingest failed with status {status}")
    return elapsed, usage.ru_maxrss * 1024


def bench(kind: str, size: int, runs: int, root: Path) -> dict[str, float]:
    writer, evidence = KINDS[kind]
    case_dir = root / f"{kind}-{size}"
    case_dir.mkdir()
    writer(case_dir / "ev.log", size)
    (case_dir / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    (case_dir / "case.yaml").write_text(f"case: BENCH\nevidence:\n{evidence}", encoding="utf-8")
    times, peaks = [], []
    for run in range(runs):
        seconds, peak = measure(case_dir, root / f"out-{kind}-{size}-{run}")
        times.append(seconds)
        peaks.append(peak)
    return {"seconds": statistics.median(times), "peak": statistics.median(peaks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs=2, default=[1_000_000, 4_000_000])
    parser.add_argument("--messages", type=int, nargs=2, default=[10_000, 40_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kinds", nargs="*", default=list(KINDS))
    args = parser.parse_args()
    header = f"{'format':<11} {'size':>9} {'median s':>9} {'rows/s':>9} {'peak MiB':>9}"
    print(f"{header}  runs={args.runs}")
    with tempfile.TemporaryDirectory(prefix="bs-bench-") as tmp:
        root = Path(tmp)
        for kind in args.kinds:
            sizes = args.messages if kind == "mbox" else args.lines
            results = [bench(kind, size, args.runs, root) for size in sizes]
            for size, result in zip(sizes, results, strict=True):
                print(
                    f"{kind:<11} {size:>9} {result['seconds']:>9.2f} "
                    f"{size / result['seconds']:>9.0f} {result['peak'] / 2**20:>9.1f}"
                )
            ratio = results[1]["peak"] / results[0]["peak"]
            verdict = "flat" if ratio <= 1.2 else "GROWS"
            print(f"{kind:<11} peak ratio {sizes[1]}/{sizes[0]}: {ratio:.2f} ({verdict})")
            for path in root.iterdir():
                if path.is_dir():
                    subprocess.run(["rm", "-rf", str(path)], check=True)


if __name__ == "__main__":
    main()
