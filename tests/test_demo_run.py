"""`breachscope demo`: the answers equal the generator's own truth, and every citation opens."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from breachscope.cli import main
from breachscope.custody import format_time
from breachscope.demo_run import DemoRun, run_demo
from tests.evidence_refs import all_refs, resolve

FIXED = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    return run_demo(tmp_path_factory.mktemp("demo"), clock=lambda: FIXED)


def findings(demo: DemoRun) -> dict[str, Any]:
    assert demo.investigation.findings is not None
    return demo.investigation.findings


def test_entry_is_the_planted_email_and_the_unpatched_office(demo: DemoRun) -> None:
    entry, truth = findings(demo)["entry"], demo.truth
    assert entry["status"] == "analysed"
    assert [e["message_id"] for e in entry["emails"]] == [truth.malicious_message_id]
    (email,) = entry["emails"]
    assert email["verdict"] == truth.attachment_verdict
    assert [a["filename"] for a in email["attachments"]] == [truth.attachment_name]
    expected = {
        (s.host, s.name, s.version, s.cve, s.match, s.confidence) for s in truth.vulnerable_software
    }
    found = {
        (s["host"], s["product"], s["version"], cve, s["match"], s["confidence"])
        for s in entry["vulnerable_software"]
        for cve in s["cves"]
    }
    assert found == expected


def test_window_starts_at_the_process_and_ends_after_the_last_beacon(demo: DemoRun) -> None:
    window, truth = findings(demo)["window"], demo.truth
    assert window["start"] == format_time(truth.window_start)
    assert window["end"] == format_time(truth.window_end)
    assert window["basis"][0] in truth.window_start_basis
    assert window["start_evidence"][0]["path"] == truth.window_start_evidence.path
    assert window["start_evidence"][0]["record"] == truth.window_start_evidence.record


def test_exposed_credentials(demo: DemoRun) -> None:
    exposure, truth = findings(demo)["exposure"], demo.truth
    expected = {
        (c.system, c.account, c.how, format_time(c.exposed_from)) for c in truth.credentials
    }
    found = {
        (c["system"], c["account"], c["how"], c["exposed_from"]) for c in exposure["credentials"]
    }
    assert found == expected


def test_the_exact_address_set(demo: DemoRun) -> None:
    addresses, truth = findings(demo)["exposure"]["email_addresses"], demo.truth
    assert addresses["items"] == sorted(truth.addresses)
    assert addresses["count"] == len(truth.addresses)
    assert (addresses["internal"], addresses["external"]) == (
        truth.internal_addresses,
        truth.external_addresses,
    )
    assert sorted(addresses.get("mentioned", [])) == sorted(truth.mentioned)


def test_labelled_and_displayed_files_urls_and_searches(demo: DemoRun) -> None:
    exposure, truth = findings(demo)["exposure"], demo.truth
    labelled = {(f["path"], tuple(f["labels"])) for f in exposure["files"]["items"] if f["labels"]}
    assert labelled == {(f.path, tuple(f.labels)) for f in truth.labelled_files}
    assert exposure["files"]["stored"] == len(truth.stored_files)
    shown = {
        (d["kind"], d["what"].casefold() if d["kind"] == "search" else d["what"], d["time"])
        for d in exposure["displayed"]
    }
    expected = {
        (d.kind, d.key.casefold() if d.kind == "search" else d.key, format_time(d.time))
        for d in (*truth.displayed_files, *truth.displayed_urls, *truth.displayed_searches)
    }
    assert shown == expected
    assert not {u for u in truth.not_displayed_urls} & {d["what"] for d in exposure["displayed"]}


def test_every_cited_record_opens(demo: DemoRun) -> None:
    refs = all_refs(findings(demo))
    assert len(refs) > 50
    for ref in {(r["evidence_id"], r["path"], r["record"]) for r in refs}:
        resolve(demo.case_dir, *ref)


def test_every_fact_bearing_item_carries_evidence(demo: DemoRun) -> None:
    document = findings(demo)
    items = [
        *document["entry"]["emails"],
        *document["entry"]["vulnerable_software"],
        *document["exposure"]["files"]["items"],
        *document["exposure"]["displayed"],
        *document["exposure"]["credentials"],
        *document["exposure"]["exfiltration"],
    ]
    assert items
    for item in items:
        assert item.get("evidence"), item


def test_the_demo_command_prints_where_and_what(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "-o", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "findings:" in result.output and "window:" in result.output
    assert (tmp_path / "out" / "findings.json").is_file()
    assert (tmp_path / "case" / "truth.json").is_file()


def test_with_known_the_manifest_times_set_the_window(tmp_path: Path) -> None:
    from breachscope.case import load_case

    run = run_demo(tmp_path, with_known=True, clock=lambda: FIXED)
    case, _ = load_case(run.case_dir)
    window = findings(run)["window"]
    assert case.known.infected_at is not None and case.known.contained_at is not None
    assert window["basis"][0] == "known"
    assert window["start"] == format_time(case.known.infected_at)
    assert window["end"] == format_time(case.known.contained_at)
    malicious = [e["message_id"] for e in findings(run)["entry"]["emails"]]
    assert case.known.malicious_message_ids[0] in malicious
