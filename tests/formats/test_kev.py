"""CISA KEV catalogue: the real catalogue in ``../shared/corpora/kev/`` (read in place) and
small catalogues built in code from its schema for malformed entries."""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Any

import pytest

from breachscope.formats.base import REGISTRY
from breachscope.formats.kev import KevCatalog
from tests.conftest import make_item, read_all

FORMAT = KevCatalog()


def kev_path(corpora: Path) -> Path:
    return corpora / "kev" / "known_exploited_vulnerabilities.json"


def catalogue(*entries: Any) -> dict[str, Any]:
    return {
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": "2099.01.01",
        "dateReleased": "2099-01-01T00:00:00.000Z",
        "count": len(entries),
        "vulnerabilities": list(entries),
    }


def test_registered_under_its_name() -> None:
    assert REGISTRY["kev"] is KevCatalog
    assert KevCatalog.version == "1"
    assert KevCatalog.tables == ("vulns",)
    assert KevCatalog.sniff_priority == 30


def test_sniff() -> None:
    assert FORMAT.sniff(b'{\n    "title": "x",\n    "catalogVersion": "2025.08.25",', PurePath("k"))
    assert not FORMAT.sniff(b'{"vulnerabilities": [{"cve": {"id": "CVE-2010-3333"', PurePath("k"))
    assert not FORMAT.sniff(b"catalogVersion,cveID\n", PurePath("k"))


@pytest.mark.corpus
def test_the_real_catalogue_gives_one_row_per_entry(corpora: Path) -> None:
    path = kev_path(corpora)
    document = json.loads(path.read_text(encoding="utf-8"))
    item = make_item(path)
    assert FORMAT.sniff(item.head(), PurePath(path.name))
    rows, problems = read_all(FORMAT, item)
    assert problems == []
    assert len(rows) == len(document["vulnerabilities"])
    for index, row in enumerate(rows):
        values = row.values
        assert row.table == "vulns"
        assert values["record"] == f"json:vulnerabilities/{index}"
        assert values["cve"] == document["vulnerabilities"][index]["cveID"]
        assert values["known_exploited"] is True
        assert values["source"] == "kev"
        assert values["cpe"] is None
        assert values["version_end_excluding"] is None
        assert "evidence_id" not in values
    assert "CVE-2010-3333" in {row.values["cve"] for row in rows}


def test_bad_entries_are_errors_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "kev.json"
    document = catalogue(
        {"cveID": "not-a-cve"}, "text", {"vendorProject": "x"}, {"cveID": " CVE-2099-0001 "}
    )
    path.write_text(json.dumps(document), encoding="utf-8")
    rows, problems = read_all(FORMAT, make_item(path))
    assert [(r.values["cve"], r.values["record"]) for r in rows] == [
        ("CVE-2099-0001", "json:vulnerabilities/3")
    ]
    assert [p.record for p in problems] == [f"json:vulnerabilities/{i}" for i in range(3)]
    assert all(p.severity == "error" for p in problems)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[1, 2]", "not a CISA KEV catalogue"),
        (b'{"catalogVersion": "1"}', "without a vulnerabilities list"),
        (b"{oops", "not JSON"),
    ],
)
def test_file_level_problems(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "kev.json"
    path.write_bytes(content)
    rows, problems = read_all(FORMAT, make_item(path))
    assert rows == []
    assert [p.record for p in problems] == ["file"]
    assert message in problems[0].message
