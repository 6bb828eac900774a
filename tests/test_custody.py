"""Evidence ids, the hash chain, and what a damaged log looks like."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from breachscope.custody import (
    CustodyError,
    CustodyLog,
    format_time,
    hash_file,
    verify_chain,
)

FIXED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def fixed_clock() -> dt.datetime:
    return FIXED


def log_with(tmp_path: Path, entries: int) -> CustodyLog:
    log = CustodyLog(tmp_path, fixed_clock)
    for number in range(entries):
        log.append("hashed", path=f"evidence/{number}.log", evidence_id=f"sha256:{number:064x}")
    return log


def test_evidence_id_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "e.log"
    path.write_bytes(b"evidence\n")
    hashed = hash_file(path)
    assert hashed.evidence_id == "sha256:" + hashlib.sha256(b"evidence\n").hexdigest()
    assert hashed.size == 9


def test_the_chain_links_each_line_to_the_previous_one(tmp_path: Path) -> None:
    log = log_with(tmp_path, 3)
    head, problems = verify_chain(log.path)
    assert problems == []
    assert head == log.head
    lines = log.path.read_bytes().splitlines()
    assert json.loads(lines[1])["prev"] == hashlib.sha256(lines[0]).hexdigest()


def test_reopening_appends_and_continues_the_chain(tmp_path: Path) -> None:
    first = log_with(tmp_path, 2)
    second = CustodyLog(tmp_path, fixed_clock)
    assert second.head == first.head
    second.append("parsed", path="x")
    assert verify_chain(second.path) == (second.head, [])
    assert len(second.path.read_bytes().splitlines()) == 3


def test_an_edited_line_breaks_the_chain_at_the_next_line(tmp_path: Path) -> None:
    log = log_with(tmp_path, 3)
    text = log.path.read_text().replace("evidence/1.log", "evidence/X.log")
    log.path.write_text(text)
    _, problems = verify_chain(log.path)
    assert any(":3: chain broken" in p for p in problems)


def test_a_truncated_tail_is_reported(tmp_path: Path) -> None:
    log = log_with(tmp_path, 3)
    log.path.write_bytes(log.path.read_bytes()[:-10])
    _, problems = verify_chain(log.path)
    assert any("truncated" in p for p in problems)
    with pytest.raises(CustodyError, match="truncated"):
        CustodyLog(tmp_path, fixed_clock)


def test_times_are_utc_with_fraction_only_when_nonzero() -> None:
    assert format_time(FIXED) == "2026-01-02T03:04:05Z"
    assert format_time(FIXED.replace(microsecond=120000)) == "2026-01-02T03:04:05.12Z"
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert format_time(dt.datetime(2011, 7, 6, 10, 12, tzinfo=tokyo)) == "2011-07-06T01:12:00Z"
