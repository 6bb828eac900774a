"""NVD CVE API 2.0 JSON: the 26 real records of ``../shared/corpora/nvd/`` (read in place)
and documents built in code from them (API response, list) or from the API documentation
(https://nvd.nist.gov/developers/vulnerabilities) for malformed entries."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path, PurePath
from typing import Any

import pytest

from breachscope.formats import nvd
from breachscope.formats.base import REGISTRY
from breachscope.formats.nvd import NvdCveJson
from tests.conftest import make_item, read_all

FORMAT = NvdCveJson()
BOUND_KEYS = {
    "versionStartIncluding": "version_start_including",
    "versionStartExcluding": "version_start_excluding",
    "versionEndIncluding": "version_end_including",
    "versionEndExcluding": "version_end_excluding",
}


def corpus_records(corpora: Path) -> list[Path]:
    return sorted((corpora / "nvd").glob("CVE-*.json"))


def vulnerable_entries(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Every cpeMatch entry with vulnerable true, in document order (the expected rows)."""
    return [
        entry
        for configuration in record.get("configurations", [])
        for node in configuration["nodes"]
        for entry in node["cpeMatch"]
        if entry["vulnerable"] is True
    ]


def resolve(document: Any, record: str) -> Any:
    """Follow a ``json:`` record reference (a JSON Pointer without its leading slash)."""
    assert record.startswith("json:")
    node = document
    for step in record.removeprefix("json:").split("/"):
        node = node[int(step)] if isinstance(node, list) else node[step]
    return node


def write_json(tmp_path: Path, document: Any, name: str = "nvd.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def minimal_record(cve_id: str = "CVE-2099-0001", **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": cve_id,
        "sourceIdentifier": "secure@example.com",
        "vulnStatus": "Analyzed",
        "configurations": [
            {
                "nodes": [
                    {
                        "operator": "OR",
                        "negate": False,
                        "cpeMatch": [
                            {
                                "vulnerable": True,
                                "criteria": "cpe:2.3:a:example:viewer:*:*:*:*:*:*:*:*",
                                "versionEndExcluding": "2.0",
                                "matchCriteriaId": "00000000-0000-0000-0000-000000000001",
                            }
                        ],
                    }
                ]
            }
        ],
    }
    record.update(extra)
    return record


def test_registered_under_its_name() -> None:
    assert REGISTRY["nvd"] is NvdCveJson
    assert NvdCveJson.version == "1"
    assert NvdCveJson.tables == ("vulns",)
    assert NvdCveJson.sniff_priority == 30


@pytest.mark.parametrize(
    "head",
    [
        b'{"resultsPerPage": 1, "startIndex": 0, "totalResults": 1, "format": "NVD_CVE", '
        b'"version": "2.0", "vulnerabilities": [',
        b'{"vulnerabilities": [ {\n  "cve": {"id": "CVE-2010-3333"',
        b'\xef\xbb\xbf{\n  "id": "CVE-2010-3333",\n  "sourceIdentifier": "secure@microsoft.com"',
        b'[{"id": "CVE-2010-3333", "vulnStatus": "Analyzed"}]',
    ],
)
def test_sniff_accepts_nvd_shapes(head: bytes) -> None:
    assert FORMAT.sniff(head, PurePath("x.json"))


@pytest.mark.parametrize(
    "head",
    [
        b'{"title": "CISA Catalog", "catalogVersion": "2025.08.25", "vulnerabilities": [{"cveID"',
        b'{"id": "CVE-2010-3333", "modified": "2024-01-01T00:00:00Z", "affected": []}',  # OSV
        b'{"dataType": "CVE_RECORD", "cveMetadata": {"cveId": "CVE-2010-3333"}}',  # CVE JSON 5
        b'{"type": "bundle", "id": "bundle--1", "objects": []}',
        b"id,configurations\nCVE-2010-3333,x\n",
    ],
)
def test_sniff_refuses_other_json(head: bytes) -> None:
    assert not FORMAT.sniff(head, PurePath("x.json"))


@pytest.mark.corpus
def test_every_corpus_record_is_recognised_from_its_head(corpora: Path) -> None:
    paths = corpus_records(corpora)
    assert len(paths) == 26
    for path in paths:
        assert FORMAT.sniff(make_item(path).head(), PurePath(path.name)), path.name


@pytest.mark.corpus
def test_corpus_records_give_one_row_per_vulnerable_cpe_match(corpora: Path) -> None:
    total = 0
    for path in corpus_records(corpora):
        record = json.loads(path.read_text(encoding="utf-8"))
        expected = vulnerable_entries(record)
        rows, problems = read_all(FORMAT, make_item(path))
        assert problems == [], path.name
        assert len(rows) == len(expected), path.name
        total += len(rows)
        for row, entry in zip(rows, expected, strict=True):
            values = row.values
            assert row.table == "vulns"
            assert "evidence_id" not in values
            assert values["cve"] == record["id"]
            assert values["cpe"] == entry["criteria"]
            assert values["source"] == "nvd"
            # NVD copies a CVE's KEV listing into the record (cisaExploitAdd).
            assert values["known_exploited"] is ("cisaExploitAdd" in record)
            for key, column in BOUND_KEYS.items():
                assert values[column] == entry.get(key)
            assert resolve(record, values["record"]) == entry
            assert values["record"].startswith("json:configurations/")
    assert total == sum(
        len(vulnerable_entries(json.loads(p.read_text(encoding="utf-8"))))
        for p in corpus_records(corpora)
    )


@pytest.mark.corpus
def test_platform_cpes_of_and_configurations_give_no_rows(corpora: Path) -> None:
    """CVE-2010-2883: Reader/Acrobat ranges AND (macOS or Windows): only the four ranges."""
    rows, problems = read_all(FORMAT, make_item(corpora / "nvd" / "CVE-2010-2883.json"))
    assert problems == []
    assert [(r.values["cpe"].split(":")[4], r.values["version_end_excluding"]) for r in rows] == [
        ("acrobat", "8.2.5"),
        ("acrobat", "9.4"),
        ("acrobat_reader", "8.2.5"),
        ("acrobat_reader", "9.4"),
    ]
    assert rows[3].values["record"] == "json:configurations/1/nodes/0/cpeMatch/1"
    assert all(":o:" not in r.values["cpe"] for r in rows)


@pytest.mark.corpus
def test_api_response_and_list_shapes(corpora: Path, tmp_path: Path) -> None:
    records = [
        json.loads((corpora / "nvd" / name).read_text(encoding="utf-8"))
        for name in ("CVE-2010-3333.json", "CVE-2011-0609.json")
    ]
    response = {
        "resultsPerPage": 2,
        "startIndex": 0,
        "totalResults": 2,
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2025-01-01T00:00:00.000",
        "vulnerabilities": [{"cve": record} for record in records],
    }
    expected = sum(len(vulnerable_entries(record)) for record in records)
    for document, prefix in (
        (response, "json:vulnerabilities/1/cve/configurations/"),
        (records, "json:1/configurations/"),
        ([{"cve": record} for record in records], "json:1/cve/configurations/"),
    ):
        path = write_json(tmp_path, document)
        assert FORMAT.sniff(make_item(path).head(), PurePath(path.name))
        rows, problems = read_all(FORMAT, make_item(path))
        assert problems == []
        assert len(rows) == expected
        last = rows[-1].values
        assert last["cve"] == "CVE-2011-0609"
        assert last["record"].startswith(prefix)
        assert resolve(document, last["record"])["criteria"] == last["cpe"]


@pytest.mark.corpus
def test_gzip_compressed_response_is_read(corpora: Path, tmp_path: Path) -> None:
    record = json.loads((corpora / "nvd" / "CVE-2010-3333.json").read_text(encoding="utf-8"))
    path = tmp_path / "nvd.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"vulnerabilities": [{"cve": record}]}).encode()))
    rows, problems = read_all(FORMAT, make_item(path))
    assert problems == []
    assert len(rows) == len(vulnerable_entries(record))


def test_unanalysed_and_rejected_records_are_counted_in_one_warning(tmp_path: Path) -> None:
    waiting = {"id": "CVE-2099-0002", "vulnStatus": "Awaiting Analysis"}
    rejected = {"id": "CVE-2099-0003", "vulnStatus": "Rejected", "configurations": []}
    document = {"vulnerabilities": [{"cve": c} for c in (minimal_record(), waiting, rejected)]}
    rows, problems = read_all(FORMAT, make_item(write_json(tmp_path, document)))
    assert [r.values["cve"] for r in rows] == ["CVE-2099-0001"]
    assert rows[0].values["known_exploited"] is False
    assert rows[0].values["version_end_excluding"] == "2.0"
    assert [(p.record, p.severity) for p in problems] == [("file", "warning")] * 2
    assert "CVE-2099-0002" in problems[0].message
    assert "CVE-2099-0003" in problems[1].message


def test_bad_entries_are_errors_and_reading_goes_on(tmp_path: Path) -> None:
    good = minimal_record()
    bad_criteria = copy.deepcopy(good)
    bad_criteria["id"] = "CVE-2099-0010"
    bad_criteria["configurations"][0]["nodes"][0]["cpeMatch"][0]["criteria"] = "cpe:/a:x:y"
    bad_bound = copy.deepcopy(good)
    bad_bound["id"] = "CVE-2099-0011"
    bad_bound["configurations"][0]["nodes"][0]["cpeMatch"][0]["versionEndExcluding"] = 2
    no_id = copy.deepcopy(good)
    no_id["id"] = "GHSA-xxxx"
    no_nodes = minimal_record("CVE-2099-0012", configurations=[{"operator": "AND"}])
    document = {
        "vulnerabilities": [
            {"cve": c} for c in (bad_criteria, bad_bound, no_id, no_nodes, "text", good)
        ]
    }
    rows, problems = read_all(FORMAT, make_item(write_json(tmp_path, document)))
    assert [r.values["cve"] for r in rows] == ["CVE-2099-0001"]
    assert (
        rows[0].values["record"] == "json:vulnerabilities/5/cve/configurations/0/nodes/0/cpeMatch/0"
    )
    assert [(p.record, p.severity) for p in problems] == [
        ("json:vulnerabilities/0/cve/configurations/0/nodes/0/cpeMatch/0", "error"),
        ("json:vulnerabilities/1/cve/configurations/0/nodes/0/cpeMatch/0", "error"),
        ("json:vulnerabilities/2/cve", "error"),
        ("json:vulnerabilities/3/cve/configurations/0", "error"),
        ("json:vulnerabilities/4/cve", "error"),
    ]
    assert "'cpe:/a:x:y'" in problems[0].message


def test_known_exploited_follows_cisa_dates(tmp_path: Path) -> None:
    record = minimal_record(cisaExploitAdd="2021-11-03", cisaActionDue="2022-05-03")
    rows, _ = read_all(FORMAT, make_item(write_json(tmp_path, record)))
    assert rows[0].values["known_exploited"] is True


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON"),
        (b'{"catalogVersion": "1", "vulnerabilities": []}', "not NVD"),
        (b'"a string"', "not NVD"),
    ],
)
def test_file_level_problems(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    rows, problems = read_all(FORMAT, make_item(path))
    assert rows == []
    assert len(problems) == 1
    assert problems[0].record == "file"
    assert message in problems[0].message


def test_a_document_over_the_bound_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nvd, "MAX_DOCUMENT_BYTES", 64)
    path = write_json(tmp_path, minimal_record())
    rows, problems = read_all(FORMAT, make_item(path))
    assert rows == []
    assert [p.message for p in problems] == ["JSON document larger than 64 bytes"]
