"""How long `breachscope demo` takes end to end (issue 5's goal: under 60 s on this machine).

Runs ``python -m breachscope demo`` in a fresh process several times (generation, ingest,
analyses, findings) and prints each wall time, the median and the peak RSS. For scale, a
baseline in the same run: an empty ``python -m breachscope --version`` (interpreter start-up
and imports), so the figure can be read against machine noise.

    .venv/bin/python bench/demo.py --runs 3 [--scale 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(args: list[str]) -> tuple[float, int]:
    """Seconds and peak RSS (bytes) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed with status {status}")
    return time.perf_counter() - started, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args()
    base = [sys.executable, "-m", "breachscope"]
    baseline = [timed([*base, "--version"])[0] for _ in range(args.runs)]
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bs-demo-") as folder:
            command = [*base, "demo", "-o", folder, "--scale", str(args.scale), "--no-progress"]
            runs.append(timed(command))
    seconds = [s for s, _ in runs]
    print(f"start-up baseline: median {statistics.median(baseline):.2f} s")
    print(f"demo scale {args.scale}: " + ", ".join(f"{s:.1f}" for s in seconds) + " s")
    print(
        f"demo scale {args.scale}: median {statistics.median(seconds):.1f} s, "
        f"peak RSS {statistics.median(r for _, r in runs) / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    main()
