"""The timeline: stable UTC order, filters, paging, and hostile evidence kept inert."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from click.testing import CliRunner

from breachscope.cli import main
from breachscope.pipeline import investigate

HOSTILE_URL = "http://evil.example/a\"b\x1b[2J\x07=cmd|' /C calc'!A0"


HOSTILE_USER = "=cmd|'/Ccalc'!A0"


def squid_line(epoch: float, url: str, user: str = "-") -> str:
    return (
        f"{epoch:.3f}    120 10.20.4.23 TCP_MISS/200 5120 GET {url} {user} "
        "HIER_DIRECT/192.0.2.9 text/html"
    )


def squid_case(tmp_path: Path) -> Path:
    case_dir = tmp_path / "case"
    (case_dir / "logs").mkdir(parents=True)
    start = dt.datetime(2011, 7, 6, 1, 0, tzinfo=dt.UTC).timestamp()
    lines = [squid_line(start + 60 * n, f"http://intranet.example/page{n}") for n in range(30)]
    lines.insert(5, squid_line(start + 301, HOSTILE_URL, HOSTILE_USER))
    (case_dir / "logs" / "access.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (case_dir / "case.yaml").write_text(
        "case: T-1\nevidence:\n  - path: logs/access.log\n    host: proxy01\n", encoding="utf-8"
    )
    return case_dir


def run_timeline(out: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["timeline", str(out), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_hostile_url_comes_out_inert_in_every_format(tmp_path: Path) -> None:
    out = investigate(squid_case(tmp_path), tmp_path / "out").out_dir
    table = run_timeline(out, "--grep", "evil")
    assert "\x1b" not in table and "\x07" not in table
    assert "=cmd|" in table

    rows = list(csv.reader(io.StringIO(run_timeline(out, "--grep", "evil", "--format", "csv"))))
    (row,) = rows[1:]
    assert row[3] == "'" + HOSTILE_USER
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)
    assert "=cmd|' /C calc'!A0" in row[4]

    (line,) = run_timeline(out, "--grep", "evil", "--format", "jsonl").splitlines()
    assert "\x1b" not in line and "\x07" not in line
    assert "=cmd|' /C calc'!A0" in json.loads(line)["summary"]


def test_order_filters_and_limits(tmp_path: Path) -> None:
    out = investigate(squid_case(tmp_path), tmp_path / "out").out_dir
    lines = run_timeline(out, "--format", "jsonl", "--limit", "0").splitlines()
    times = [json.loads(line)["time"] for line in lines]
    assert len(times) == 31 and times == sorted(times)
    window = run_timeline(
        out, "--format", "jsonl", "--from", "2011-07-06T01:10Z", "--to", "2011-07-06T01:20:00Z"
    ).splitlines()
    assert len(window) == 10
    assert all(json.loads(w)["time"].startswith("2011-07-06T01:1") for w in window)
    assert len(run_timeline(out, "--format", "jsonl", "--limit", "3").splitlines()) == 3
    assert run_timeline(out, "--format", "jsonl", "--host", "nowhere") == ""
    first = json.loads(lines[0])
    assert first["evidence_id"].startswith("sha256:") and first["record"] == "line:1"


def test_a_formula_in_a_csv_cell_is_prefixed() -> None:
    from breachscope.timeline import csv_cell

    assert csv_cell("=1+1") == "'=1+1"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("plain") == "plain"
