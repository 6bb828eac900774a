"""A whole ingest run: reproducible, resumable after a crash, and never touching evidence."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from breachscope.ingest import IngestError
from breachscope.pipeline import investigate
from breachscope.verify import verify_output
from tests.conftest import PROJECT

EXAMPLE = PROJECT / "examples" / "ws-0423"
FIXED = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def fixed_clock() -> dt.datetime:
    return FIXED


def copy_example(tmp_path: Path) -> Path:
    case_dir = tmp_path / "case"
    shutil.copytree(EXAMPLE, case_dir, ignore=shutil.ignore_patterns("out"))
    return case_dir


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and mtime (ns) under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def outputs(out: Path) -> dict[str, bytes]:
    """The Parquet files of the run and findings.json, by relative path."""
    files = {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted((out / "store").rglob("*.parquet"))
    }
    files["findings.json"] = (out / "findings.json").read_bytes()
    return files


def findings_without_head(out: Path) -> dict[str, object]:
    document: dict[str, object] = json.loads((out / "findings.json").read_text("utf-8"))
    document.pop("custody_head")
    return document


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "breachscope", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1795000000", **(env or {})},
        check=False,
    )


def test_two_runs_into_fresh_folders_are_byte_identical(tmp_path: Path) -> None:
    case_dir = copy_example(tmp_path)
    first = investigate(case_dir, tmp_path / "out1", clock=fixed_clock)
    second = investigate(case_dir, tmp_path / "out2", clock=fixed_clock)
    assert outputs(first.out_dir) == outputs(second.out_dir)
    assert (first.out_dir / "custody.jsonl").read_bytes() == (
        second.out_dir / "custody.jsonl"
    ).read_bytes()
    assert first.findings is not None
    inputs = first.findings["inputs"]
    assert {"mbox", "linux_auth", "event_xml", "squid"} <= {i["format"] for i in inputs}
    assert all(i["status"] == "ok" and i["errors"] == 0 for i in inputs)


def test_evidence_is_left_exactly_as_it_was(tmp_path: Path) -> None:
    case_dir = copy_example(tmp_path)
    before = snapshot(case_dir)
    investigate(case_dir, tmp_path / "out", clock=fixed_clock)
    assert snapshot(case_dir) == before


def test_verify_catches_changed_evidence_edited_custody_and_truncation(tmp_path: Path) -> None:
    case_dir = copy_example(tmp_path)
    out = investigate(case_dir, tmp_path / "out", clock=fixed_clock).out_dir
    assert verify_output(out) == []
    custody = out / "custody.jsonl"
    pristine = custody.read_bytes()

    lines = pristine.splitlines(keepends=True)
    target = next(
        n for n, line in enumerate(lines) if b'"path":"evidence/' in line.replace(b" ", b"")
    )
    assert 0 < target < len(lines) - 1
    edited = lines[target].replace(b"evidence/", b"evidenze/")
    custody.write_bytes(b"".join([*lines[:target], edited, *lines[target + 1 :]]))
    assert any("chain broken" in p for p in verify_output(out))

    custody.write_bytes(b"".join(lines[:-1]))
    assert any("does not match" in p for p in verify_output(out))
    custody.write_bytes(pristine[:-5])
    assert any("truncated" in p for p in verify_output(out))
    custody.write_bytes(pristine)

    log = case_dir / "evidence" / "logs" / "jump01-auth.log"
    log.write_bytes(log.read_bytes().replace(b"Accepted", b"Acceptex", 1))
    assert any("jump01-auth.log: changed" in p for p in verify_output(out))


def test_a_missing_evidence_path_stops_with_its_name_or_is_recorded(tmp_path: Path) -> None:
    case_dir = copy_example(tmp_path)
    manifest = case_dir / "case.yaml"
    manifest.write_text(
        manifest.read_text("utf-8") + "  - path: evidence/logs/gone.log\n    system: jumphost\n",
        encoding="utf-8",
    )
    with pytest.raises(IngestError, match=r"evidence/logs/gone\.log"):
        investigate(case_dir, tmp_path / "out", clock=fixed_clock)
    result = run_cli("investigate", str(case_dir), "-o", str(tmp_path / "cli"))
    assert result.returncode == 2
    assert "evidence/logs/gone.log" in result.stderr

    kept = investigate(case_dir, tmp_path / "kept", keep_going=True, clock=fixed_clock)
    assert kept.findings is not None
    status = {i["path"]: i["status"] for i in kept.findings["inputs"]}
    assert status["evidence/logs/gone.log"] == "missing"
    assert status["evidence/logs/jump01-auth.log"] == "ok"
    assert status["evidence/mail/t.yamada.mbox"] == "ok"


def test_compressed_evidence_reads_like_the_plain_file(tmp_path: Path) -> None:
    case_dir = copy_example(tmp_path)
    plain = investigate(case_dir, tmp_path / "plain", clock=fixed_clock)
    log = case_dir / "evidence" / "logs" / "jump01-auth.log"
    packed = log.with_name("jump01-auth.log.gz")
    packed.write_bytes(gzip.compress(log.read_bytes(), mtime=0))
    log.unlink()
    manifest = case_dir / "case.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace("auth.log", "auth.log.gz"), "utf-8")
    packed_run = investigate(case_dir, tmp_path / "packed", clock=fixed_clock)
    con_a = plain.out_dir / "breachscope.duckdb"
    con_b = packed_run.out_dir / "breachscope.duckdb"
    import duckdb

    query = "SELECT * EXCLUDE (evidence_id) FROM logons ORDER BY record"
    rows_a = duckdb.connect(str(con_a), read_only=True).execute(query).fetchall()
    rows_b = duckdb.connect(str(con_b), read_only=True).execute(query).fetchall()
    assert rows_a and rows_a == rows_b


def test_a_crash_mid_ingest_reruns_to_the_same_result(tmp_path: Path) -> None:
    case_dir = copy_example(tmp_path)
    small = {"BREACHSCOPE_BATCH_ROWS": "2"}
    clean = run_cli("investigate", str(case_dir), "-o", str(tmp_path / "clean"), env=small)
    assert clean.returncode == 0, clean.stderr
    crashed_out = tmp_path / "crashed"
    crash = run_cli(
        "investigate",
        str(case_dir),
        "-o",
        str(crashed_out),
        env={"BREACHSCOPE_FAULT_AFTER_BATCHES": "3", **small},
    )
    assert crash.returncode == -signal.SIGKILL
    partial = list((crashed_out / "store").rglob("*.parquet*"))
    assert partial, "the crash should leave partial output behind"
    assert not (crashed_out / "findings.json").exists()

    rerun = run_cli("investigate", str(case_dir), "-o", str(crashed_out), env=small)
    assert rerun.returncode == 0, rerun.stderr
    assert not list((crashed_out / "store").rglob("*.tmp"))
    assert outputs(crashed_out).keys() == outputs(tmp_path / "clean").keys()
    for name, data in outputs(tmp_path / "clean").items():
        if name != "findings.json":
            assert outputs(crashed_out)[name] == data, name
    assert findings_without_head(crashed_out) == findings_without_head(tmp_path / "clean")
    assert verify_output(crashed_out) == []
