"""findings.json is always complete and valid, and its schema is the spec's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from breachscope.findings import (
    SECTIONS,
    build_findings,
    load_schema,
    validation_errors,
    write_findings,
)
from tests.conftest import PROJECT


def test_the_packaged_schema_is_the_spec_schema() -> None:
    spec = PROJECT.parent / "shared" / "spec" / "findings.schema.json"
    assert load_schema() == json.loads(spec.read_text(encoding="utf-8"))


def test_every_section_is_present_and_not_analysed_until_its_analysis_exists() -> None:
    document = build_findings("C-1", "2026-01-01T00:00:00Z", [], custody_head="ab" * 32)
    assert validation_errors(document) == []
    for name in SECTIONS:
        assert name in document
    for name in ("entry", "window", "exposure", "misuse", "campaign", "notifications"):
        assert document[name]["status"] == "not_analysed"
        assert document[name]["not_covered"]
    assert document["misuse"]["verdict"] == "inconclusive"


def test_an_invalid_document_is_never_written(tmp_path: Path) -> None:
    document = build_findings("C-1", "yesterday", [])
    with pytest.raises(ValueError, match="generated_at"):
        write_findings(tmp_path, document)
    assert not (tmp_path / "findings.json").exists()
