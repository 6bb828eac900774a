"""Vulnerable software: inventory rows built in code, matched against the real NVD records
and KEV catalogue of ``../shared/corpora/`` (read there through the ``nvd``/``kev`` formats)
and against `vulns` rows built in code for cases the corpus lacks.

The three matching styles of the acceptance criteria, each from a real record:

- edition + service pack: CVE-2010-3333 (``office:2003:sp3``, ``office:2007:sp2``,
  ``office:2010:*``, ``office:xp:sp3``);
- version ranges: CVE-2010-2883 (Reader/Acrobat 8.0-<8.2.5 and 9.0-<9.4). The record in the
  corpus has ranges only, no per-version CPEs;
- per-version CPEs: CVE-2011-0609 (``acrobat_reader:10.0``, ``acrobat_reader:10.0.1``, next to
  the range 9.0-9.4.2) and CVE-2009-3129 (``excel:2002:sp3`` ... ``excel:2007:sp2``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from breachscope.detect import vulns
from breachscope.detect.vulns import (
    OFFICE_SERVICE_PACKS,
    SOURCES,
    WINDOWS_BUILDS,
    EvidenceRef,
    VulnMatch,
    compare_versions,
    identify,
    match_software,
    office_service_pack,
    parse_cpe,
    parse_version,
)
from breachscope.formats.kev import KevCatalog
from breachscope.formats.nvd import NvdCveJson
from tests.conftest import make_item, read_all

SOFTWARE_EVIDENCE = "sha256:" + "a" * 64


def software(
    name: str | None,
    version: str | None,
    *,
    host: str = "WS-0423",
    publisher: str | None = None,
    record: str = "csv:1",
) -> dict[str, Any]:
    """One `software` row as the inventory formats write it (with its evidence reference)."""
    return {
        "host": host,
        "name": name,
        "version": version,
        "publisher": publisher,
        "install_date": None,
        "observed_at": None,
        "system": None,
        "evidence_id": SOFTWARE_EVIDENCE,
        "record": record,
    }


def criterion(cve: str, cpe: str, known_exploited: bool = False, **bounds: str) -> dict[str, Any]:
    """One `vulns` row as the nvd format writes it, built in code."""
    row: dict[str, Any] = {
        "cve": cve,
        "cpe": cpe,
        "version_start_including": None,
        "version_start_excluding": None,
        "version_end_including": None,
        "version_end_excluding": None,
        "known_exploited": known_exploited,
        "source": "nvd",
        "evidence_id": "sha256:" + "b" * 64,
        "record": "json:configurations/0/nodes/0/cpeMatch/0",
    }
    row.update(bounds)
    return row


def nvd_rows(corpora: Path, *cves: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for cve in cves:
        item = make_item(corpora / "nvd" / f"{cve}.json")
        read, problems = read_all(NvdCveJson(), item)
        assert problems == []
        rows += [row.values | {"evidence_id": item.evidence_id} for row in read]
    return rows


def kev_rows(corpora: Path) -> list[dict[str, Any]]:
    item = make_item(corpora / "kev" / "known_exploited_vulnerabilities.json")
    read, problems = read_all(KevCatalog(), item)
    assert problems == []
    return [row.values | {"evidence_id": item.evidence_id} for row in read]


def verdicts(matches: list[VulnMatch], cve: str) -> dict[tuple[str, str | None], tuple[Any, ...]]:
    """(product, version) -> (match, confidence, fixed_version) for one CVE."""
    return {
        (m.product, m.version): (m.match, m.confidence, m.fixed_version)
        for m in matches
        if m.cve == cve
    }


# --- acceptance: the three styles on real records -------------------------------------------


@pytest.mark.corpus
def test_cve_2010_3333_edition_and_service_pack(corpora: Path) -> None:
    inventory = [
        software("Microsoft Office Professional Plus 2007", "12.0.6425.1000"),  # SP2
        software("Microsoft Office Professional Plus 2007", "12.0.6612.1000"),  # SP3: patched
        software("Microsoft Office Standard 2007", "12.0"),  # SP unknown
        software("Microsoft Office Professional Edition 2003", "11.0.8173.0"),  # SP3
        software("Microsoft Office 2003 Standard", "11.0.7969.0"),  # SP2: not listed
        software("Microsoft Office XP Professional", "10.0.6626.0"),  # SP3
        software("Microsoft Office Standard 2010", "14.0.4763.1000"),  # office:2010:*
        software("Microsoft Office Professional Plus 2013", "15.0.4569.1506"),  # not affected
        software("Microsoft Office Proof (French) 2007", "12.0.6425.1000"),  # a component
        software("Adobe Reader 9.3.4", "9.3.4"),  # another product
    ]
    found = verdicts(match_software(inventory, nvd_rows(corpora, "CVE-2010-3333")), "CVE-2010-3333")
    assert found == {
        ("Microsoft Office Professional Plus 2007", "12.0.6425.1000"): (
            "edition_sp",
            "confirmed",
            None,
        ),
        ("Microsoft Office Standard 2007", "12.0"): ("edition_sp", "possible", None),
        ("Microsoft Office Professional Edition 2003", "11.0.8173.0"): (
            "edition_sp",
            "confirmed",
            None,
        ),
        ("Microsoft Office XP Professional", "10.0.6626.0"): ("edition_sp", "confirmed", None),
        ("Microsoft Office Standard 2010", "14.0.4763.1000"): ("edition_any", "possible", None),
    }


@pytest.mark.corpus
def test_cve_2010_2883_version_ranges(corpora: Path) -> None:
    inventory = [
        software("Adobe Reader 9.3.4", "9.3.4"),
        software("Adobe Reader 8.1.2", "8.1.2"),
        software("Adobe Acrobat 9 Pro", "9.3.0"),
        software("Adobe Reader 9.4.0", "9.4.0"),  # the fix: above the range
        software("Adobe Reader X (10.0.0)", "10.0.0"),  # above the range
        software("Adobe Reader 7.0.9", "7.0.9"),  # below the range
        software("Adobe Reader 9", "9"),  # too short to place against 9.4
        software("Adobe Reader", None),  # version unknown
        software("Foxit Reader", "4.1.1.0805", publisher="Foxit Corporation"),  # other product
    ]
    found = verdicts(match_software(inventory, nvd_rows(corpora, "CVE-2010-2883")), "CVE-2010-2883")
    assert found == {
        ("Adobe Reader 9.3.4", "9.3.4"): ("version_range", "confirmed", "9.4"),
        ("Adobe Reader 8.1.2", "8.1.2"): ("version_range", "confirmed", "8.2.5"),
        ("Adobe Acrobat 9 Pro", "9.3.0"): ("version_range", "confirmed", "9.4"),
        ("Adobe Reader 9", "9"): ("version_range", "possible", "9.4"),
        ("Adobe Reader", None): ("version_range", "possible", "8.2.5"),
    }


@pytest.mark.corpus
def test_cve_2011_0609_per_version_cpes(corpora: Path) -> None:
    inventory = [
        software("Adobe Reader X (10.0.1)", "10.0.1"),  # acrobat_reader:10.0.1
        software("Adobe Reader X", "10.0.0"),  # acrobat_reader:10.0 (10.0 == 10.0.0)
        software("Adobe Reader X (10.1.0)", "10.1.0"),  # neither listed version nor range
        software("Adobe Reader 9.4.2", "9.4.2"),  # range 9.0-9.4.2, end included
        software("Adobe Flash Player 10 ActiveX", "10.2.152.26"),  # <= 10.2.154.13
        software("Adobe Flash Player 10 ActiveX", "10.2.159.1"),  # above
    ]
    found = verdicts(match_software(inventory, nvd_rows(corpora, "CVE-2011-0609")), "CVE-2011-0609")
    assert found == {
        ("Adobe Reader X (10.0.1)", "10.0.1"): ("exact_version", "confirmed", None),
        ("Adobe Reader X", "10.0.0"): ("exact_version", "confirmed", None),
        # versionEndIncluding names the last vulnerable version, not a fix.
        ("Adobe Reader 9.4.2", "9.4.2"): ("version_range", "confirmed", None),
        ("Adobe Flash Player 10 ActiveX", "10.2.152.26"): ("version_range", "confirmed", None),
    }


@pytest.mark.corpus
def test_cve_2009_3129_per_version_excel_editions(corpora: Path) -> None:
    inventory = [
        software("Microsoft Office Excel 2007", "12.0.6425.1000"),  # excel:2007:sp2
        software("Microsoft Office Excel 2007", "12.0.6612.1000"),  # SP3: not listed
        software("Microsoft Excel 2002", "10.0.6501.0"),  # excel:2002:sp3 (Office XP)
        software("Microsoft Office Excel Viewer 2003", "11.0.8173.0"),  # excel_viewer:2003:sp3
    ]
    found = verdicts(match_software(inventory, nvd_rows(corpora, "CVE-2009-3129")), "CVE-2009-3129")
    assert found == {
        ("Microsoft Office Excel 2007", "12.0.6425.1000"): ("edition_sp", "confirmed", None),
        ("Microsoft Excel 2002", "10.0.6501.0"): ("edition_sp", "confirmed", None),
        ("Microsoft Office Excel Viewer 2003", "11.0.8173.0"): ("edition_sp", "confirmed", None),
    }


@pytest.mark.corpus
def test_known_exploited_comes_from_kev(corpora: Path) -> None:
    plain = [row | {"known_exploited": False} for row in nvd_rows(corpora, "CVE-2010-3333")]
    inventory = [software("Microsoft Office Professional Plus 2007", "12.0.6425.1000")]
    (alone,) = match_software(inventory, plain)
    assert alone.known_exploited is False
    assert len(alone.vuln_evidence) == 1
    (marked,) = match_software(inventory, plain + kev_rows(corpora))
    assert marked.known_exploited is True
    kev_index = next(i for i, row in enumerate(kev_rows(corpora)) if row["cve"] == "CVE-2010-3333")
    assert marked.vuln_evidence[1].record == f"json:vulnerabilities/{kev_index}"
    # NVD's own copy of the KEV listing (cisaExploitAdd) also counts.
    (from_nvd,) = match_software(inventory, nvd_rows(corpora, "CVE-2010-3333"))
    assert from_nvd.known_exploited is True


@pytest.mark.corpus
def test_evidence_references_and_match_fields(corpora: Path) -> None:
    rows = nvd_rows(corpora, "CVE-2010-2883")
    inventory = [software("Adobe Reader 9.3.4", "9.3.4", host="WS-7", record="csv:12")]
    (match,) = match_software(inventory, rows)
    assert match.host == "WS-7"
    assert match.product == "Adobe Reader 9.3.4"
    assert match.version == "9.3.4"
    assert match.cpe == "cpe:2.3:a:adobe:acrobat_reader:*:*:*:*:*:*:*:*"
    assert match.software == EvidenceRef(SOFTWARE_EVIDENCE, "csv:12")
    assert match.vuln_evidence == (
        EvidenceRef(rows[3]["evidence_id"], "json:configurations/1/nodes/0/cpeMatch/1"),
    )


@pytest.mark.corpus
def test_windows_builds_against_mshtml_and_follina(corpora: Path) -> None:
    rows = nvd_rows(corpora, "CVE-2021-40444", "CVE-2022-30190")
    inventory = [
        software("Windows 10 Pro", "10.0.17763.1000"),
        software("Windows 10 Enterprise", "10.0.17763.3046"),  # Follina's fix, after MSHTML's
        software("Windows 10 Pro", "10.0.17763"),  # no revision: cannot be placed
        software("Microsoft Windows 7 Professional", "6.1.7601 Service Pack 1"),
        software("Microsoft Windows 7 Professional", "6.1.7600"),  # RTM: only SP1 is listed
        software("Microsoft Windows Server 2008 R2 Enterprise", "6.1.7601"),
    ]
    found = match_software(inventory, rows)
    assert verdicts(found, "CVE-2022-30190") == {
        ("Windows 10 Pro", "10.0.17763.1000"): ("version_range", "confirmed", "10.0.17763.3046"),
        ("Windows 10 Pro", "10.0.17763"): ("version_range", "possible", "10.0.17763.3046"),
        ("Microsoft Windows 7 Professional", "6.1.7601 Service Pack 1"): (
            "edition_sp",
            "confirmed",
            None,
        ),
        ("Microsoft Windows Server 2008 R2 Enterprise", "6.1.7601"): (
            "edition_sp",
            "confirmed",
            None,
        ),
    }
    assert ("Windows 10 Enterprise", "10.0.17763.3046") not in verdicts(found, "CVE-2022-30190")
    assert verdicts(found, "CVE-2021-40444")[("Windows 10 Pro", "10.0.17763.1000")] == (
        "version_range",
        "confirmed",
        "10.0.17763.2183",
    )


@pytest.mark.corpus
def test_every_corpus_record_and_the_catalogue_feed_the_matcher(corpora: Path) -> None:
    names = [path.stem for path in sorted((corpora / "nvd").glob("CVE-*.json"))]
    rows = nvd_rows(corpora, *names) + kev_rows(corpora)
    inventory = [
        software("Microsoft Office Professional Plus 2010", "14.0.7015.1000"),
        software("Adobe Acrobat Reader DC", "18.011.20038"),
        software("Microsoft Office Professional Plus 2016", "16.0.4266.1001"),
    ]
    matches = match_software(inventory, rows)
    by_product = {(m.product, m.cve): m for m in matches}
    assert by_product[("Adobe Acrobat Reader DC", "CVE-2018-4990")].confidence == "confirmed"
    office_2010 = {cve for product, cve in by_product if "2010" in product}
    assert {"CVE-2015-1641", "CVE-2017-0199", "CVE-2017-11882"} <= office_2010
    assert "CVE-2012-0158" in office_2010  # office:2010:*:x86 -> edition_any
    assert by_product[("Microsoft Office Professional Plus 2010", "CVE-2012-0158")].match == (
        "edition_any"
    )
    assert all(m.known_exploited for m in matches)
    assert matches == sorted(matches, key=lambda m: (m.host or "", m.product, m.version, m.cve))


# --- versions and CPE names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("9.3.4", "9.4", -1),
        ("9.4.0.195", "9.4", 1),
        ("10.0", "10.0.0", 0),
        ("11.0.10", "11.0.02", 1),
        ("10.0.17763.2183", "10.0.17763.999", 1),
        ("15.006.30060", "15.008.20082", -1),
        ("2.6.19140", "2.6.19139", 1),
    ],
)
def test_compare_versions(left: str, right: str, expected: int) -> None:
    assert compare_versions(left, right) == expected
    assert compare_versions(right, left) == -expected


def test_compare_versions_refuses_text() -> None:
    with pytest.raises(ValueError, match="not a version"):
        compare_versions("beta", "1.0")


def test_parse_version_is_bounded() -> None:
    assert parse_version("1.2.3.4.5.6.7.8.9.10") == (1, 2, 3, 4, 5, 6, 7, 8)
    assert parse_version("") is None
    assert parse_version(None) is None


def test_parse_cpe_unescapes_and_rejects() -> None:
    cpe = parse_cpe(r"cpe:2.3:a:vendor\:x:prod\.uct:1.0:sp2:*:*:*:macos:x64:*")
    assert cpe is not None
    assert (cpe.vendor, cpe.product, cpe.version, cpe.update) == (
        "vendor:x",
        "prod.uct",
        "1.0",
        "sp2",
    )
    assert (cpe.target_sw, cpe.target_hw) == ("macos", "x64")
    assert parse_cpe("cpe:2.3:a:too:short") is None


# --- the service pack table ------------------------------------------------------------------


def test_service_pack_table_is_ordered_and_sourced() -> None:
    by_major: dict[int, list[int]] = {}
    for row in OFFICE_SERVICE_PACKS:
        by_major.setdefault(row.major, []).append(row.first_build)
        assert row.sources, row
        assert set(row.sources) <= set(SOURCES), row
    for builds in by_major.values():
        assert builds == sorted(builds)
    for build in WINDOWS_BUILDS.values():
        assert set(build.sources) <= set(SOURCES)


@pytest.mark.parametrize(
    ("version", "level"),
    [
        ((11, 0, 5614, 0), "rtm"),
        ((11, 0, 6361, 0), "sp1"),
        ((11, 0, 7969, 0), "sp2"),
        ((11, 0, 8169, 0), "sp3"),
        ((12, 0, 4518, 1014), "rtm"),
        ((12, 0, 6215, 1000), "sp1"),
        ((12, 0, 6545, 5000), "sp2"),  # SP2 plus security updates
        ((12, 0, 6600, 1000), "sp3"),
        ((14, 0, 6029, 1000), "sp1"),
        ((14, 0, 7015, 1000), "sp2"),
        ((15, 0, 4420, 1017), "rtm"),
        ((15, 0, 4569, 1506), "sp1"),
        ((12, 0), None),
        ((13, 0, 1, 0), None),
    ],
)
def test_office_service_pack(version: tuple[int, ...], level: str | None) -> None:
    assert office_service_pack(version) == level


# --- identification --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "products"),
    [
        ("Microsoft Office Professional Plus 2007", "12.0.6425.1000", ["office"]),
        ("Microsoft Office Home and Student 2010", "14.0.7015.1000", ["office"]),
        (
            "Microsoft Office Professional Plus 2016 - en-us",
            "16.0.4266.1001",
            ["office", "office_2016"],
        ),
        ("Microsoft Office Word 2007", "12.0.6612.1000", ["word"]),
        ("Microsoft Word 2010", "14.0.7015.1000", ["word"]),
        ("Microsoft Office Word Viewer 2003", "11.0.8173.0", ["word_viewer"]),
        (
            "Compatibility Pack for the 2007 Office system",
            "12.0.6612.1000",
            ["office_compatibility_pack"],
        ),
        (
            "Microsoft 365 Apps for enterprise - en-us",
            "16.0.14326.20238",
            ["365_apps", "office_365_proplus"],
        ),
        ("Adobe Reader 9.3.4", "9.3.4", ["acrobat_reader"]),
        ("Adobe Acrobat Reader DC", "21.001.20145", ["acrobat_reader_dc"]),
        ("Adobe Acrobat Reader - English", "23.003.20244", ["acrobat_reader", "acrobat_reader_dc"]),
        ("Adobe Acrobat X Pro - English, Français, Deutsch", "10.1.4", ["acrobat"]),
        ("Adobe Flash Player 11 Plugin", "11.2.202.235", ["flash_player"]),
        ("Adobe AIR", "2.6.0.19140", ["adobe_air", "air"]),
        ("Google Chrome", "10.0.648.127", ["chrome"]),
        ("Windows 10 Pro", "10.0.19045.3803", ["windows_10_22h2", "windows_10"]),
        ("Windows 11 Enterprise", "10.0.22621.1", ["windows_11_22h2", "windows_11"]),
        ("Windows Server 2019 Datacenter", "10.0.17763.100", ["windows_server_2019"]),
        ("Windows Server 2012 R2 Standard", "6.3.9600", ["windows_server_2012"]),
        ("Microsoft Windows 8.1 Pro", "6.3.9600", ["windows_rt_8.1", "windows_8.1"]),
    ],
)
def test_alias_table(name: str, version: str, products: list[str]) -> None:
    identities = identify(name, version)
    assert [i.product for i in identities] == products
    assert all(i.certain for i in identities)


@pytest.mark.parametrize(
    "name",
    [
        "Security Update for Microsoft Office 2007 (KB2345000)",
        "Update for Microsoft Office 2010 (KB2553347) 32-Bit Edition",
        "Hotfix for Microsoft Windows (KB2999226)",
        "Service Pack 2 for Microsoft Office 2007",
        "",
        "   ",
    ],
)
def test_updates_are_not_products(name: str) -> None:
    assert identify(name, "1.0") == []


@pytest.mark.parametrize(
    "name",
    [
        "Microsoft Office Proof (French) 2010",
        "Microsoft Office 2010 Primary Interop Assemblies",
        "Microsoft Office Shared MUI (English) 2007",
        "Microsoft Office Outlook Connector",
        "Microsoft Access database engine 2010 (English)",
        "Microsoft Visual C++ 2010  x86 Redistributable - 10.0.40219",
        "Windows Driver Package - Intel (e1express) Net  (06/01/2009 9.13.41.0)",
        "Microsoft Windows Desktop Runtime - 6.0.25 (x64)",
    ],
)
def test_components_are_not_office_or_windows(name: str) -> None:
    for identity in identify(name, "14.0.7015.1000", "Microsoft Corporation"):
        assert not identity.certain
        assert identity.style == "version"


def test_office_edition_from_the_build_when_the_name_has_no_year() -> None:
    (office,) = identify("Microsoft Office Professional", "11.0.8173.0")
    assert office.editions == frozenset({"2003"})
    assert office.edition_certain
    assert office.service_pack == "sp3"
    (modern,) = identify("Microsoft Office Professional Plus", "16.0.10730.20102")
    assert modern.editions == frozenset({"2016", "2019", "2021", "2024"})
    assert not modern.edition_certain


@pytest.mark.corpus
def test_windows_10_of_unknown_release_is_only_possibly_vulnerable(corpora: Path) -> None:
    rows = nvd_rows(corpora, "CVE-2022-30190")
    matches = match_software([software("Windows 10 Pro", None)], rows)
    assert [(m.cve, m.match, m.confidence) for m in matches] == [
        ("CVE-2022-30190", "version_range", "possible")
    ]


def test_windows_xp_service_pack_comes_from_the_text() -> None:
    (xp,) = identify("Microsoft Windows XP Professional", "5.1.2600 Service Pack 3")
    assert (xp.product, xp.service_pack) == ("windows_xp", "sp3")
    (unknown,) = identify("Microsoft Windows XP Professional", "5.1.2600")
    assert unknown.service_pack is None


def test_fallback_identification_is_only_possible() -> None:
    rows = [
        criterion(
            "CVE-2099-0001", "cpe:2.3:a:7-zip:7-zip:*:*:*:*:*:*:*:*", version_end_excluding="23.00"
        ),
        criterion("CVE-2099-0002", "cpe:2.3:a:foo:viewer:2.1:*:*:*:*:*:*:*"),
    ]
    matches = match_software(
        [
            software("7-Zip 19.00 (x64)", "19.00", publisher="Igor Pavlov"),
            software("Foo Viewer 2.1", "2.1", publisher="Foo Inc."),
        ],
        rows,
    )
    assert [(m.product, m.match, m.confidence, m.fixed_version) for m in matches] == [
        ("7-Zip 19.00 (x64)", "version_range", "possible", "23.00"),
        ("Foo Viewer 2.1", "exact_version", "possible", None),
    ]


# --- matching rules on rows built in code ----------------------------------------------------


def test_strongest_match_per_cve_wins() -> None:
    rows = [
        criterion("CVE-2099-0001", "cpe:2.3:a:microsoft:office:2007:*:*:*:*:*:*:*"),
        criterion("CVE-2099-0001", "cpe:2.3:a:microsoft:office:2007:sp2:*:*:*:*:*:*"),
        criterion("CVE-2099-0001", "cpe:2.3:a:microsoft:office:2007:sp2:*:*:*:*:*:*"),  # again
    ]
    (match,) = match_software([software("Microsoft Office Standard 2007", "12.0.6425.1000")], rows)
    assert (match.match, match.confidence) == ("edition_sp", "confirmed")
    assert match.cpe == "cpe:2.3:a:microsoft:office:2007:sp2:*:*:*:*:*:*"


def test_rtm_and_gold_updates() -> None:
    rows = [criterion("CVE-2099-0001", "cpe:2.3:o:microsoft:windows_7:-:gold:*:*:*:*:*:*")]
    assert [
        m.match for m in match_software([software("Windows 7 Ultimate", "6.1.7600")], rows)
    ] == ["edition_sp"]
    assert match_software([software("Windows 7 Ultimate", "6.1.7601")], rows) == []


def test_server_2012_r2_written_as_an_update() -> None:
    """NVD writes 2012 R2 both ways: ``windows_server_2012:r2`` and ``:-:r2``."""
    rows = [
        criterion("CVE-2099-0001", "cpe:2.3:o:microsoft:windows_server_2012:-:r2:*:*:*:*:*:*"),
        criterion("CVE-2099-0002", "cpe:2.3:o:microsoft:windows_server_2012:-:*:*:*:*:*:*:*"),
    ]
    r2 = match_software([software("Windows Server 2012 R2 Standard", "6.3.9600")], rows)
    assert [(m.cve, m.match) for m in r2] == [("CVE-2099-0001", "edition_any")]
    first = match_software([software("Windows Server 2012 Standard", "6.2.9200")], rows)
    assert [m.cve for m in first] == ["CVE-2099-0002"]


def test_unparsable_bounds_and_versions_are_possible() -> None:
    rows = [
        criterion(
            "CVE-2099-0001", "cpe:2.3:a:google:chrome:*:*:*:*:*:*:*:*", version_end_excluding="beta"
        ),
        criterion(
            "CVE-2099-0002", "cpe:2.3:a:google:chrome:*:*:*:*:*:*:*:*", version_end_excluding="10.0"
        ),
    ]
    matches = match_software([software("Google Chrome", "unknown")], rows)
    assert [(m.cve, m.confidence) for m in matches] == [
        ("CVE-2099-0001", "possible"),
        ("CVE-2099-0002", "possible"),
    ]
    below = match_software([software("Google Chrome", "9.0.597.98")], rows)
    assert [(m.cve, m.confidence) for m in below] == [
        ("CVE-2099-0001", "possible"),
        ("CVE-2099-0002", "confirmed"),
    ]


def test_an_unbounded_any_version_is_only_possible() -> None:
    rows = [criterion("CVE-2099-0001", "cpe:2.3:a:adobe:flash_player:*:*:*:*:*:*:*:*")]
    (match,) = match_software([software("Adobe Flash Player 32 NPAPI", "32.0.0.465")], rows)
    assert (match.match, match.confidence, match.fixed_version) == (
        "version_range",
        "possible",
        None,
    )


def test_rows_without_a_criterion_or_name_are_passed_over() -> None:
    rows = [
        criterion("CVE-2099-0001", "cpe:/a:adobe:flash_player:10"),  # CPE 2.2: not read
        {"cve": "CVE-2099-0002", "cpe": None, "known_exploited": True, "source": "kev"},
        {"cve": None, "cpe": "cpe:2.3:a:adobe:flash_player:*:*:*:*:*:*:*:*"},
    ]
    assert match_software([software("Adobe Flash Player 10 ActiveX", "10.0.1")], rows) == []
    assert match_software([software(None, "1.0")], rows) == []


def test_module_docstring_names_every_match_kind() -> None:
    doc = vulns.__doc__ or ""
    for kind in vulns.MATCH_ORDER:
        assert kind in doc
