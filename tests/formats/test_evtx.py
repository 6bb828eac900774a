"""Tests for the ``evtx`` format (binary Windows event logs, read with the Rust ``evtx``).

Real samples: every file of sbousseaden's EVTX-ATTACK-SAMPLES and plaso's two test logs
(``System2.evtx`` is cut short after three of its 96 chunks), read in place. Damaged files are
made from them in ``tmp_path``. The mapping of events to rows is tested in
``test__windows_events``.
"""

from __future__ import annotations

import gzip
import json
import struct
import time
from collections import Counter
from pathlib import Path, PurePath
from typing import Any

import pyarrow as pa
import pytest
from evtx import PyEvtxParser

from breachscope.formats import _windows_events, evtx
from breachscope.formats.base import REGISTRY, Problem, Row
from breachscope.formats.evtx import EvtxFile
from breachscope.schema import TABLES
from tests.conftest import make_item, read_all

READER = EvtxFile()
SPRAY = ("evtx-attack-samples", "Credential Access", "kerberos_pwd_spray_4771.evtx")
CORPUS_SECONDS = 60


def corpus_files(corpora: Path) -> list[Path]:
    attack = sorted(p for p in (corpora / "evtx-attack-samples").rglob("*") if p.is_file())
    plaso = sorted((corpora / "plaso" / "evtx").glob("*.evtx"))
    return attack + plaso


def raw_records(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The records the ``evtx`` package itself reads (as JSON), and its error count."""
    records: list[dict[str, Any]] = []
    errors = 0
    iterator = PyEvtxParser(str(path)).records_json()
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            return records, errors
        except RuntimeError:
            errors += 1
            continue
        records.append(record)


def event_id(record: dict[str, Any]) -> int:
    value = json.loads(record["data"])["Event"]["System"]["EventID"]
    return int(value["#text"] if isinstance(value, dict) else value)


def record_id(record: dict[str, Any]) -> int:
    """``System/EventRecordID``: in samples saved from a filtered view it is not the record
    header's number, which starts again at 1."""
    return int(json.loads(record["data"])["Event"]["System"]["EventRecordID"])


def win_events(rows: list[Row]) -> list[dict[str, Any]]:
    return [row.values for row in rows if row.table == "win_events"]


def errors(problems: list[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.severity == "error"]


# --- declaration and sniffing ----------------------------------------------------------------


def test_registered_with_its_declaration() -> None:
    assert REGISTRY["evtx"] is EvtxFile
    assert (EvtxFile.name, EvtxFile.version, EvtxFile.sniff_priority) == ("evtx", "1", 10)
    assert EvtxFile.tables == _windows_events.TABLES
    assert set(EvtxFile.tables) <= set(TABLES)
    assert evtx.__doc__ and "ElfFile" in evtx.__doc__


def test_sniff_knows_the_file_header_magic() -> None:
    assert READER.sniff(b"ElfFile\x00" + bytes(120), PurePath("Security.evtx"))
    assert READER.sniff(b"ElfFile\x00", PurePath("renamed.bin"))


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"ElfFile",  # cut short: not the whole magic
        b"ElfChnk\x00" + bytes(56),  # a chunk, not a file
        b"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>",
        b"MZ\x90\x00",
        bytes(range(256)),
    ],
)
def test_sniff_refuses_what_is_not_evtx(head: bytes) -> None:
    assert not READER.sniff(head, PurePath("Security.evtx"))


@pytest.mark.corpus
def test_sniff_knows_every_corpus_file(corpora: Path) -> None:
    for path in corpus_files(corpora):
        assert READER.sniff(path.read_bytes()[:8192], PurePath(path.name)), path


# --- the corpus ------------------------------------------------------------------------------


@pytest.mark.corpus
def test_every_corpus_record_is_a_win_events_row_or_an_error(corpora: Path) -> None:
    """Every record the parser reads is one ``win_events`` row (its typed rows follow it,
    citing the same ``evtx:<EventRecordID>``), every parser error one error, no crash; and
    every row fits its table's Arrow schema."""
    started = time.monotonic()
    files = corpus_files(corpora)
    assert len(files) >= 270
    by_table: Counter[str] = Counter()
    total = 0
    for path in files:
        records, parser_errors = raw_records(path)
        rows, problems = read_all(READER, make_item(path))
        events = win_events(rows)
        assert len(events) == len(records), path
        assert len(errors(problems)) == parser_errors, path
        assert [e["record"] for e in events] == [f"evtx:{record_id(r)}" for r in records]
        assert [e["record_id"] for e in events] == [record_id(r) for r in records]
        assert [e["event_id"] for e in events] == [event_id(r) for r in records]
        current = None
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if row.table == "win_events":
                current = row.values["record"]
            assert row.values["record"] == current, f"{path}: typed row apart from its event"
            assert "evidence_id" not in row.values
            grouped.setdefault(row.table, []).append(row.values)
        for name, values in grouped.items():
            pa.Table.from_pylist(
                [{"evidence_id": "sha256:0", **v} for v in values], schema=TABLES[name]
            )
            by_table[name] += len(values)
        total += len(records)
    assert total == by_table["win_events"] > 13_000
    assert by_table["processes"] > 1_000 and by_table["network"] > 100
    assert by_table["logons"] > 50 and by_table["credential_changes"] >= 1
    assert time.monotonic() - started < CORPUS_SECONDS


@pytest.mark.corpus
def test_the_kerberos_password_spray_gives_its_4771_failures(corpora: Path) -> None:
    """The 4771s of the raw records (not machine accounts) are the spray's failed logons."""
    path = corpora.joinpath(*SPRAY)
    records, _ = raw_records(path)
    expected = {
        f"evtx:{record_id(r)}": json.loads(r["data"])["Event"]["EventData"]
        for r in records
        if event_id(r) == 4771
        and not json.loads(r["data"])["Event"]["EventData"]["TargetUserName"].endswith("$")
    }
    assert expected, "the sample holds 4771 failures"
    rows, problems = read_all(READER, make_item(path, system="corp-ad"))
    assert problems == []
    found = {
        row.values["record"]: row.values
        for row in rows
        if row.table == "logons" and row.values["record"] in expected
    }
    assert found.keys() == expected.keys()
    for record, row in found.items():
        raw = expected[record]
        assert (row["outcome"], row["method"], row["system"]) == ("failure", "kerberos", "corp-ad")
        assert row["account"].split("@")[0] == raw["TargetUserName"]
        assert row["account_key"] == f"{raw['TargetUserName'].lower()}@threebeesco.com"
        assert row["src_ip"] == raw["IpAddress"].removeprefix("::ffff:")
        assert row["reason"] == "0x18 KDC_ERR_PREAUTH_FAILED"
    # the spray's 4768s (probes of unknown names, then a real TGT) share the 4771s' realm
    logons = [row.values for row in rows if row.table == "logons"]
    assert len(logons) > len(found)
    assert all(v["account_key"].endswith("@threebeesco.com") for v in logons)


@pytest.mark.corpus
def test_log_cleared_events_are_found_by_event_id(corpora: Path) -> None:
    for name, wanted in (
        ("DE_1102_security_log_cleared.evtx", (1102, "Security")),
        ("DE_104_system_log_cleared.evtx", (104, "System")),
    ):
        path = corpora / "evtx-attack-samples" / "Defense Evasion" / name
        rows, _ = read_all(READER, make_item(path))
        cleared = [e for e in win_events(rows) if (e["event_id"], e["channel"]) == wanted]
        assert cleared and all(e["provider"] == "Microsoft-Windows-Eventlog" for e in cleared)


@pytest.mark.corpus
def test_a_truncated_file_is_read_as_far_as_it_goes_with_a_warning(corpora: Path) -> None:
    path = corpora / "plaso" / "evtx" / "System2.evtx"
    records, _ = raw_records(path)
    rows, problems = read_all(READER, make_item(path))
    assert len(win_events(rows)) == len(records) > 0
    assert [(p.record, p.severity) for p in problems] == [("file", "warning")]
    assert "96 chunks" in problems[0].message


# --- damaged and disguised files -------------------------------------------------------------


def damaged_copy(corpora: Path, tmp_path: Path) -> Path:
    """plaso's System.evtx with its second chunk's header overwritten."""
    data = bytearray((corpora / "plaso" / "evtx" / "System.evtx").read_bytes())
    second_chunk = evtx.FILE_HEADER_BYTES + evtx.CHUNK_BYTES
    data[second_chunk : second_chunk + 0x200] = b"\xff" * 0x200
    path = tmp_path / "damaged.evtx"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.corpus
def test_an_unreadable_chunk_is_one_error_and_reading_goes_on(
    corpora: Path, tmp_path: Path
) -> None:
    path = damaged_copy(corpora, tmp_path)
    records, parser_errors = raw_records(path)
    assert parser_errors == 1
    rows, problems = read_all(READER, make_item(path))
    assert len(win_events(rows)) == len(records)
    assert [(p.record, p.severity) for p in problems] == [("evtx:?", "error")]
    assert "chunk" in problems[0].message
    intact, _ = raw_records(corpora / "plaso" / "evtx" / "System.evtx")
    assert len(records) < len(intact)
    assert win_events(rows)[-1]["record_id"] == record_id(intact[-1])


@pytest.mark.corpus
def test_damaged_records_become_errors(corpora: Path, tmp_path: Path) -> None:
    """Bytes overwritten inside a chunk's records: the parser's errors are ours, one each."""
    data = bytearray((corpora / "plaso" / "evtx" / "System.evtx").read_bytes())
    start = evtx.FILE_HEADER_BYTES + 2 * evtx.CHUNK_BYTES + 0x300
    data[start : start + 0x300] = b"A" * 0x300
    path = tmp_path / "damaged-records.evtx"
    path.write_bytes(bytes(data))
    records, parser_errors = raw_records(path)
    rows, problems = read_all(READER, make_item(path))
    assert parser_errors >= 1
    assert len(win_events(rows)) == len(records)
    assert len(errors(problems)) == parser_errors


@pytest.mark.corpus
def test_gzip_compressed_evidence_reads_the_same(corpora: Path, tmp_path: Path) -> None:
    path = corpora.joinpath(*SPRAY)
    packed = tmp_path / "spray.evtx.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    plain_rows, _ = read_all(READER, make_item(path))
    packed_rows, packed_problems = read_all(READER, make_item(packed))
    assert packed_problems == []
    assert packed_rows == plain_rows


def test_a_file_without_the_magic_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.evtx"
    path.write_bytes(b"ElfFilX\x00" + bytes(5000))
    rows, problems = read_all(READER, make_item(path))
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [("file", "error")]


def test_a_bare_file_header_has_no_records_and_says_it_is_cut(tmp_path: Path) -> None:
    header = bytearray(evtx.FILE_HEADER_BYTES)
    header[:8] = evtx.MAGIC
    struct.pack_into("<QQQIHHHH", header, 8, 0, 0, 1, 128, 1, 3, 4096, 1)
    path = tmp_path / "empty.evtx"
    path.write_bytes(bytes(header))
    rows, problems = read_all(READER, make_item(path))
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [("file", "warning")]


def test_a_file_shorter_than_its_header_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "short.evtx"
    path.write_bytes(evtx.MAGIC + bytes(20))
    rows, problems = read_all(READER, make_item(path))
    assert rows == []
    assert len(problems) == 1 and problems[0].record == "file"
