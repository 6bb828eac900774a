"""The command line as a responder meets it: help that teaches, errors that name the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from breachscope.cli import main
from tests.conftest import PROJECT

EXAMPLE = PROJECT / "examples" / "ws-0423"


@pytest.mark.parametrize(
    "command", ["investigate", "ingest", "timeline", "verify", "demo", "vulndata fetch"]
)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(main, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    assert f"breachscope {command}" in result.output


def test_investigate_prints_findings_and_custody_head(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["investigate", str(EXAMPLE), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "findings:" in result.output
    head = result.output.split("custody head: ")[1].strip()
    assert len(head) == 64
    assert (tmp_path / "o" / "findings.json").read_text("utf-8").count(head) == 1


def test_a_manifest_error_exits_2_naming_the_key(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(EXAMPLE, case_dir)
    manifest = case_dir / "case.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace("timezone:", "timzone:"), "utf-8")
    result = CliRunner().invoke(main, ["investigate", str(case_dir), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "timzone: unknown key" in result.output


def test_output_inside_an_evidence_folder_is_refused(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(EXAMPLE, case_dir)
    inside = case_dir / "evidence" / "mail" / "out"
    manifest = case_dir / "case.yaml"
    manifest.write_text(
        manifest.read_text("utf-8") + "  - path: evidence/mail\n    owner: x@example-space.jp\n",
        "utf-8",
    )
    result = CliRunner().invoke(main, ["investigate", str(case_dir), "-o", str(inside)])
    assert result.exit_code == 2
    assert "overlaps evidence" in result.output
    assert not inside.exists()


def test_verify_fails_with_status_1_when_evidence_changed(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(EXAMPLE, case_dir)
    out = tmp_path / "o"
    assert CliRunner().invoke(main, ["investigate", str(case_dir), "-o", str(out)]).exit_code == 0
    assert CliRunner().invoke(main, ["verify", str(out)]).exit_code == 0
    mbox = case_dir / "evidence" / "mail" / "t.yamada.mbox"
    mbox.write_bytes(mbox.read_bytes() + b"\n")
    result = CliRunner().invoke(main, ["verify", str(out), "--case", str(case_dir)])
    assert result.exit_code == 1
    assert "t.yamada.mbox: changed" in result.output


def test_vulndata_fetch_caches_the_feeds_from_the_given_urls(tmp_path: Path) -> None:
    import http.server
    import threading
    from functools import partial

    feeds = tmp_path / "feeds"
    feeds.mkdir()
    corpora = PROJECT.parent / "shared" / "corpora"
    shutil.copyfile(corpora / "nvd" / "CVE-2010-3333.json", feeds / "nvd.json")
    shutil.copyfile(corpora / "kev" / "known_exploited_vulnerabilities.json", feeds / "kev.json")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(feeds))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        result = CliRunner().invoke(
            main,
            [
                "vulndata",
                "fetch",
                "--nvd-url",
                f"{base}/nvd.json",
                "--kev-url",
                f"{base}/kev.json",
                "--cache",
                str(tmp_path / "cache"),
            ],
        )
        missing = CliRunner().invoke(
            main,
            [
                "vulndata",
                "fetch",
                "--nvd-url",
                f"{base}/gone.json",
                "--kev-url",
                f"{base}/kev.json",
                "--cache",
                str(tmp_path / "cache2"),
            ],
        )
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    assert result.output.count("cached ") == 2
    assert missing.exit_code == 2
    assert "gone.json" in missing.output
