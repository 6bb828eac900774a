"""Is this installed software vulnerable? Inventory rows matched to NVD CPE criteria (and KEV).

Needs: `software` rows (``host``, ``name``, ``version``, ``publisher``, ``evidence_id``,
``record``) and `vulns` rows (formats ``nvd`` and ``kev``) as plain dicts; the analysis layer
filters its tables first and passes the few rows in. Pure Python, no I/O.
Rules: rules.md, Vulnerable software (``match`` and ``confidence`` of each match).

**Which product is it?** A software name becomes CPE ``vendor:product`` names in two ways:

- The explicit alias table (`identify`): Microsoft Office suites, Office programs, viewers and
  the compatibility pack (``microsoft:office``, ``microsoft:word`` ...), Microsoft 365 Apps,
  Windows (``microsoft:windows_7``, ``windows_10_1809``, ``windows_server_2008`` ...), Adobe
  Reader / Acrobat (``adobe:acrobat_reader``, ``acrobat_reader_dc``, ``acrobat``,
  ``acrobat_dc``), Flash Player, AIR, Chrome, Firefox, Thunderbird. Names are compared
  lower-cased, with ``(...)`` groups, a trailing ``- en-us`` and trade marks removed. Office
  and Windows names must consist of known words only (``Microsoft Office Professional Plus
  2007`` is the suite; ``Microsoft Office Proof (French) 2010`` and ``... Primary Interop
  Assemblies`` are components and are not). Identification by this table is *certain*.
- Otherwise a normalised fallback: vendor = first word of the publisher (or of the name),
  product = the name without version numbers and without that vendor word, spaces as ``_``
  (``Foo Corp`` / ``Foo Viewer 2.1`` -> ``foo:viewer``). Identification this way is never
  certain, so every match it gives is ``possible``.
- Rows that are updates, not products (``Security Update for ...``, ``Hotfix for ...``,
  ``... (KB2345000)``, ``Service Pack 2 for ...``) are skipped.

**Which release is installed?** Two styles, as NVD writes them:

- *Version style* (Adobe, browsers, fallback): the inventory version is compared numerically,
  dot segment by dot segment (`compare_versions`; missing segments count as 0, so ``10.0``
  equals ``10.0.0``). A CPE with ``*``/``-`` version and bounds is a **version_range**; one
  with a concrete version (``acrobat_reader:10.0.1``) is an **exact_version** when the versions
  are equal; ``*``/``-`` without bounds (every version) is a ``version_range`` that is only
  ever ``possible``. ``fixed_version`` is ``versionEndExcluding`` when the CPE has it, else
  null (an including end names the last vulnerable version, not the fix).
- *Edition style* (Microsoft): NVD's CPE version is the edition (``office:2007``,
  ``windows_server_2008:r2``) and its update the service pack (``sp2``). The edition comes
  from the year in the name, else from the major version (`OFFICE_MAJOR_EDITIONS`: 11 ->
  2003, 12 -> 2007, 14 -> 2010 ...); Windows editions and releases from the build
  (`WINDOWS_BUILDS`, `WINDOWS_10_RELEASES` ...). The service pack comes from the build number
  by the sourced table `OFFICE_SERVICE_PACKS` (Windows: `WINDOWS_BUILDS`), else from
  ``Service Pack N`` / ``SPN`` in the name or version text. Edition and SP both equal is
  **edition_sp** ``confirmed``; an edition-matching CPE whose update is ``*`` or ``-`` is
  **edition_any** ``possible`` (the CPE does not say which updates are affected); a CPE SP
  other than the installed one is no match. ``fixed_version`` is null for edition matches.
  Ranges on edition-style products (``windows_10_1809`` up to ``10.0.17763.2183``) compare
  the build as a version.

**Confidence.** ``confirmed`` needs a certain identification and a decided comparison.
Everything else that cannot be ruled out is ``possible``: a fallback identification, an
unknown or unparsable version, an unknown service pack, a version that is shorter than the
bound that decides it (``10.0.17763`` against ``10.0.17763.2183``: the missing revision could
fall either side), an edition that the name does not say (Office 16.0 is 2016, 2019, 2021 or
365). Note that ``confirmed`` means NVD's criteria name the installed release; security
updates installed *within* a service pack are not visible in a CPE (rules.md: the infection
date uses install/update history where evidence has it).

**Not covered.** Platform ("running on") constraints of AND configurations and the CPE fields
``sw_edition`` (Adobe's ``classic``/``continuous`` track, ``rt``, ``click-to-run``),
``target_sw`` (``macos``) and ``target_hw`` (``x64``) are ignored: inventory rows seldom say
them, and ignoring them only adds possible matches. ``known_exploited`` is true when any
`vulns` row for the CVE says so (a KEV row, or an NVD record with CISA's KEV dates).

One `VulnMatch` per inventory row and CVE: the strongest of its matches (``confirmed`` before
``possible``, then ``edition_sp``, ``exact_version``, ``version_range``, ``edition_any``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

Match = Literal["edition_sp", "exact_version", "version_range", "edition_any"]
Confidence = Literal["confirmed", "possible"]
Style = Literal["edition", "version"]

MATCH_ORDER: tuple[Match, ...] = ("edition_sp", "exact_version", "version_range", "edition_any")
ANY = "*"
NA = "-"
# NVD writes the R2 release of Windows Server as version "r2" and the first release as "-",
# so a "-" (not applicable) version must not match an R2 install.
NA_EXCLUDED_EDITIONS = frozenset({"r2"})
MAX_VERSION_SEGMENTS = 8


def _words(text: str) -> frozenset[str]:
    """The blank-separated words of ``text`` (keeps the word lists below readable)."""
    return frozenset(text.split())


# --- Sources of the tables below (cited by key in each row) -------------------------------
SOURCES: dict[str, str] = {
    "kb821549": "Microsoft KB 821549, How to check the version of Office 2003 products "
    "(support.microsoft.com/help/821549): versions of the original release and each SP",
    "tenable-27524": "Tenable plugin 27524 Microsoft Office Detection (office_installed.nasl "
    "rev 1.58, 2017-05-10): Word/Excel/PowerPoint file versions per service pack, XP to 2013",
    "puppet-msoffice": "liamjbennett/puppet-msoffice manifests/params.pp (commit 1f11e2b): "
    "suite build per service pack with its package (office2007sp3-kb2526086 ...)",
    "wikipedia-office-2003": "Wikipedia, Microsoft Office 2003: final release Service Pack 3 "
    "(11.0.8173.0)",
    "issue-4": "breachscope issue 4, quoting Microsoft's version KB articles",
    "inventory-samples": "real inventories: Microsoft Office Professional Plus 2010 "
    "14.0.7015.1000 (Checkmk win_wmi_software example); Compatibility Pack for the 2007 "
    "Office system 12.0.6612.1000",
    "ms-release-info": "Microsoft, Windows 10 / Windows 11 / Windows Server release "
    "information (learn.microsoft.com/windows/release-health), as compiled in "
    "altrhombus/DataForGeeks content/ms/mswin/releases.json",
    "nvd-corpus": "NVD CVE-2021-40444 / CVE-2022-30190 bounds: windows_server_2016 "
    "10.0.14393.x, windows_server_2019 10.0.17763.x, windows_server_2022 10.0.20348.x",
    "ms-os-version": "Microsoft, Operating System Version (learn.microsoft.com/windows/win32/"
    "sysinfo/operating-system-version): 5.1 XP, 6.0 Vista/2008, 6.1 7/2008 R2, 6.2 8/2012, "
    "6.3 8.1/2012 R2; build-to-SP numbers are the well-known RTM/SP builds, not re-checked "
    "against a Microsoft page in this change",
}


@dataclass(frozen=True)
class ServicePackBuild:
    """The first build (third version segment) of an Office service pack level."""

    major: int
    edition: str
    level: str  # "rtm", "sp1", ...
    first_build: int
    sources: tuple[str, ...]
    note: str = ""


# Office build -> service pack. ``first_build`` is the lowest build any source gives for the
# level (suite MSI ProductVersion as Add/Remove Programs shows it, or a program's file
# version), so that every program of a suite at that SP is classed as such; a build is at the
# highest level whose first build it reaches (below SP1 it is RTM). Security updates raise
# builds within a level but, in the sources, never up to the next level's first build.
OFFICE_SERVICE_PACKS: tuple[ServicePackBuild, ...] = (
    ServicePackBuild(10, "xp", "rtm", 0, ("tenable-27524",), "unsure: one source only"),
    ServicePackBuild(10, "xp", "sp1", 3416, ("tenable-27524",), "Word 3416, Excel/PPT 3506"),
    ServicePackBuild(10, "xp", "sp2", 4205, ("tenable-27524",), "PPT 4205, Word 4219"),
    ServicePackBuild(10, "xp", "sp3", 6501, ("tenable-27524",), "Excel/PPT 6501, Word 6612"),
    ServicePackBuild(11, "2003", "rtm", 5614, ("kb821549", "puppet-msoffice")),
    ServicePackBuild(
        11, "2003", "sp1", 6355, ("kb821549", "tenable-27524", "puppet-msoffice"), "suite 6361"
    ),
    ServicePackBuild(
        11,
        "2003",
        "sp2",
        6560,
        ("kb821549", "tenable-27524", "puppet-msoffice"),
        "programs 6560-6568, suite 7969",
    ),
    ServicePackBuild(
        11,
        "2003",
        "sp3",
        8169,
        ("kb821549", "tenable-27524", "puppet-msoffice", "wikipedia-office-2003", "issue-4"),
        "programs 8169, suite 8173",
    ),
    ServicePackBuild(12, "2007", "rtm", 4518, ("puppet-msoffice", "issue-4")),
    ServicePackBuild(
        12,
        "2007",
        "sp1",
        6213,
        ("issue-4", "tenable-27524", "puppet-msoffice"),
        "6213 in issue 4, 6215 in the others",
    ),
    ServicePackBuild(12, "2007", "sp2", 6425, ("issue-4", "tenable-27524", "puppet-msoffice")),
    ServicePackBuild(
        12,
        "2007",
        "sp3",
        6600,
        ("issue-4", "tenable-27524", "puppet-msoffice", "inventory-samples"),
        "PowerPoint 6600, Excel 6611, suite 6612",
    ),
    ServicePackBuild(14, "2010", "rtm", 4754, ("issue-4", "tenable-27524", "puppet-msoffice")),
    ServicePackBuild(
        14,
        "2010",
        "sp1",
        6023,
        ("issue-4", "tenable-27524", "puppet-msoffice"),
        "puppet 6023, Word/Excel 6024, suite 6029",
    ),
    ServicePackBuild(
        14,
        "2010",
        "sp2",
        7011,
        ("issue-4", "tenable-27524", "puppet-msoffice", "inventory-samples"),
        "puppet 7011, all others 7015",
    ),
    ServicePackBuild(15, "2013", "rtm", 4420, ("issue-4", "tenable-27524", "puppet-msoffice")),
    ServicePackBuild(
        15,
        "2013",
        "sp1",
        4569,
        ("issue-4", "tenable-27524"),
        "4569.1504-1506; Tenable's PowerPoint 4454 is below RTM+updates and is not used",
    ),
)
# Office major version -> the editions (CPE versions) it can be. 16.0 is shared by 2016,
# 2019, 2021, 2024 and Microsoft 365, so only a year in the name decides it.
OFFICE_MAJOR_EDITIONS: dict[int, tuple[str, ...]] = {
    9: ("2000",),
    10: ("xp", "2002"),
    11: ("2003",),
    12: ("2007",),
    14: ("2010",),
    15: ("2013",),
    16: ("2016", "2019", "2021", "2024"),
}
# A year in a name -> the CPE versions NVD uses for that edition (Office XP is "xp" for the
# suite but "2002" for Excel: CVE-2009-3129).
OFFICE_YEAR_EDITIONS: dict[str, tuple[str, ...]] = {
    "2000": ("2000",),
    "xp": ("xp", "2002"),
    "2002": ("xp", "2002"),
    "2003": ("2003",),
    "2007": ("2007",),
    "2010": ("2010",),
    "2013": ("2013",),
    "2016": ("2016",),
    "2019": ("2019",),
    "2021": ("2021",),
    "2024": ("2024",),
}
OFFICE_EDITION_MAJOR: dict[str, int] = {
    edition: major for major, editions in OFFICE_MAJOR_EDITIONS.items() for edition in editions
}
# Suites from 2016 on also have CPE products named after the edition (CVE-2024-21413).
OFFICE_EDITION_PRODUCTS: dict[str, tuple[str, ...]] = {
    "2016": ("office_2016",),
    "2019": ("office_2019",),
    "2021": ("office_long_term_servicing_channel",),
    "2024": ("office_long_term_servicing_channel",),
}
OFFICE_SUITE_WORDS = _words(
    "professional plus standard enterprise ultimate basic starter small business home and "
    "student teacher edition premium personal ltsc with frontpage academic pro proplus "
    "volume retail trial x86 x64 32-bit 64-bit"
)
OFFICE_APP_WORDS = _words("professional standard home and student edition plus")
OFFICE_APPS: dict[str, str] = {
    "word": "word",
    "excel": "excel",
    "powerpoint": "powerpoint",
    "outlook": "outlook",
    "access": "access",
    "publisher": "publisher",
    "visio": "visio",
    "project": "project",
    "onenote": "onenote",
    "infopath": "infopath",
}
OFFICE_VIEWERS: dict[str, str] = {
    "word": "word_viewer",
    "excel": "excel_viewer",
    "powerpoint": "powerpoint_viewer",
    "visio": "visio_viewer",
}


@dataclass(frozen=True)
class WindowsBuild:
    """A pre-Windows-10 build: its client and server CPE products and service pack."""

    client: str | None
    server: str | None
    service_pack: str | None  # None: the build does not say (XP SP1-SP3 are all 2600)
    server_edition: str = NA  # "r2": NVD's version for Server 2008 R2 / 2012 R2
    sources: tuple[str, ...] = ("ms-os-version",)


# (major, minor, build) -> release. Server 2008 shipped as 6001 ("SP1" level).
WINDOWS_BUILDS: dict[tuple[int, int, int], WindowsBuild] = {
    (5, 1, 2600): WindowsBuild("windows_xp", None, None),
    (5, 2, 3790): WindowsBuild("windows_xp", "windows_server_2003", None),
    (6, 0, 6000): WindowsBuild("windows_vista", None, "rtm"),
    (6, 0, 6001): WindowsBuild("windows_vista", "windows_server_2008", "sp1"),
    (6, 0, 6002): WindowsBuild("windows_vista", "windows_server_2008", "sp2"),
    (6, 0, 6003): WindowsBuild("windows_vista", "windows_server_2008", "sp2"),
    (6, 1, 7600): WindowsBuild("windows_7", "windows_server_2008", "rtm", "r2"),
    (6, 1, 7601): WindowsBuild("windows_7", "windows_server_2008", "sp1", "r2"),
    (6, 2, 9200): WindowsBuild("windows_8", "windows_server_2012", None),
    (6, 3, 9600): WindowsBuild("windows_8.1", "windows_server_2012", None, "r2"),
}
# Windows 10 / 11 client build -> release (sources: ms-release-info).
WINDOWS_10_RELEASES: dict[int, str] = {
    10240: "1507",
    10586: "1511",
    14393: "1607",
    15063: "1703",
    16299: "1709",
    17134: "1803",
    17763: "1809",
    18362: "1903",
    18363: "1909",
    19041: "2004",
    19042: "20h2",
    19043: "21h1",
    19044: "21h2",
    19045: "22h2",
}
WINDOWS_11_RELEASES: dict[int, str] = {22000: "21h2", 22621: "22h2", 22631: "23h2", 26100: "24h2"}
# Windows Server on the 10.0 kernel: build -> CPE product (ms-release-info, nvd-corpus).
WINDOWS_SERVER_10: dict[int, str] = {
    14393: "windows_server_2016",
    17763: "windows_server_2019",
    18362: "windows_server_1903",
    18363: "windows_server_1909",
    19041: "windows_server_2004",
    19042: "windows_server_20h2",
    20348: "windows_server_2022",
    26100: "windows_server_2025",
}
# A Windows name's release word (after "windows") -> its client CPE product, for a row
# whose build is not in the tables.
WINDOWS_NAMED: dict[str, str] = {
    "xp": "windows_xp",
    "vista": "windows_vista",
    "7": "windows_7",
    "8": "windows_8",
    "8.1": "windows_8.1",
}
WINDOWS_WORDS = _words(
    "home professional pro enterprise ultimate business starter education standard datacenter "
    "web premium basic n kn edition for workstations ltsc ltsb iot server essentials foundation "
    "storage x64 x86 64-bit 32-bit service pack sp1 sp2 sp3 r2 media center tablet pc embedded"
)

# Version-style products: normalised-name pattern -> (vendor, products).
VERSION_ALIASES: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = (
    (re.compile(r"^adobe flash player\b"), "adobe", ("flash_player",)),
    (re.compile(r"^adobe air\b"), "adobe", ("adobe_air", "air")),
    (re.compile(r"^google chrome\b"), "google", ("chrome",)),
    (re.compile(r"^mozilla firefox\b"), "mozilla", ("firefox",)),
    (re.compile(r"^mozilla thunderbird\b"), "mozilla", ("thunderbird",)),
)
ADOBE_READER_RE = re.compile(r"^adobe (?:acrobat )?reader\b")
ADOBE_ACROBAT_RE = re.compile(r"^adobe acrobat\b")
ADOBE_DC_MAJOR = 15  # Acrobat DC (2015) and later: the *_dc CPE products

PATCH_RE = re.compile(
    r"^(?:security update|update|hotfix|critical update|definition update|service pack \d+)"
    r"\b.*\bfor\b|\bkb\d{6,7}\b",
    re.IGNORECASE,
)
VERSION_RE = re.compile(rf"\s*v?(\d{{1,12}}(?:[.,]\d{{1,12}}){{0,{MAX_VERSION_SEGMENTS - 1}}})")
SERVICE_PACK_RE = re.compile(r"\b(?:service pack|sp)\s*(\d{1,2})\b", re.IGNORECASE)
CPE_SP_RE = re.compile(r"^(?:rtm|sp\d{1,2})$")
OFFICE_YEAR_RE = re.compile(r"\b(2000|xp|2002|2003|2007|2010|2013|2016|2019|2021|2024)\b")
TRADEMARK_RE = re.compile(r"[®™©]|\((?:r|tm|c)\)", re.IGNORECASE)
PAREN_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
LANGUAGE_TAG_RE = re.compile(r"\s+-\s+[a-z]{2,3}(?:-[a-z0-9]{2,4}){0,2}$")
NAME_JUNK_RE = re.compile(r"[^a-z0-9.+\-\s]")
NUMBER_TOKEN_RE = re.compile(r"^v?\d+(?:[.,]\d+)*$")
VENDOR_STOPWORDS = frozenset({"the", "inc", "inc.", "corp", "corporation", "ltd", "llc", "co"})


# --- versions ------------------------------------------------------------------------------


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """The numeric dot segments at the start of ``text`` (``,`` accepted as a dot), or None.

    >>> parse_version("12.0.6425.1000")
    (12, 0, 6425, 1000)
    >>> parse_version("11.0.02")
    (11, 0, 2)
    >>> parse_version("6.1.7601 Service Pack 1 Build 7601")
    (6, 1, 7601)
    >>> parse_version("10,2,154,13")
    (10, 2, 154, 13)
    >>> parse_version("X") is None
    True
    """
    if not text:
        return None
    found = VERSION_RE.match(text)
    if found is None:
        return None
    return tuple(int(part) for part in re.split(r"[.,]", found.group(1)))


def compare_versions(left: str | tuple[int, ...], right: str | tuple[int, ...]) -> int:
    """-1, 0 or 1 as ``left`` is below, equal to or above ``right``; missing segments are 0.

    >>> compare_versions("9.3.4", "9.4")
    -1
    >>> compare_versions("10.0", "10.0.0")
    0
    >>> compare_versions("11.0.10", "11.0.02")
    1
    """
    a = parse_version(left) if isinstance(left, str) else left
    b = parse_version(right) if isinstance(right, str) else right
    if a is None or b is None:
        raise ValueError(f"not a version: {left if a is None else right!r}")
    width = max(len(a), len(b))
    padded_a = a + (0,) * (width - len(a))
    padded_b = b + (0,) * (width - len(b))
    return (padded_a > padded_b) - (padded_a < padded_b)


def _truncated(version: tuple[int, ...], bound: tuple[int, ...]) -> bool:
    """True when ``version`` is shorter than ``bound``, agrees with it as far as it goes and
    the bound goes on with non-zero segments: the comparison is then decided by segments the
    inventory did not record (``10.0.17763`` against ``10.0.17763.2183``)."""
    width = len(version)
    return width < len(bound) and bound[:width] == version and any(bound[width:])


# --- CPE names -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cpe:
    """The fields of a CPE 2.3 formatted string that matching uses, unescaped, lower-case."""

    part: str
    vendor: str
    product: str
    version: str
    update: str
    edition: str
    sw_edition: str
    target_sw: str
    target_hw: str


def parse_cpe(text: str) -> Cpe | None:
    """A CPE 2.3 formatted string split on unescaped ``:`` (NISTIR 7695, 6.2), or None.

    >>> parse_cpe("cpe:2.3:a:microsoft:office:2007:sp2:*:*:*:*:*:*").update
    'sp2'
    >>> parse_cpe("cpe:2.3:o:microsoft:windows_8.1:-:*:*:*:*:*:*:*").product
    'windows_8.1'
    >>> parse_cpe("cpe:/a:microsoft:office:2007") is None
    True
    """
    if not text.startswith("cpe:2.3:"):
        return None
    fields: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    if len(fields) != 13:
        return None
    values = [field.lower() for field in fields[2:]]
    return Cpe(
        part=values[0],
        vendor=values[1],
        product=values[2],
        version=values[3],
        update=values[4],
        edition=values[5],
        sw_edition=values[7],
        target_sw=values[8],
        target_hw=values[9],
    )


# --- what an inventory row is --------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """One CPE ``vendor:product`` an inventory row may be, and what is known of its release.

    ``editions`` are the CPE versions that name the installed edition (edition style only;
    None: unknown). ``service_pack`` is ``rtm``/``spN`` (None: unknown or the product has
    none). ``certain`` is True when the alias table identified the product.
    """

    vendor: str
    product: str
    style: Style
    editions: frozenset[str] | None = None
    edition_certain: bool = False
    service_pack: str | None = None
    certain: bool = True


def normalize_name(name: str) -> str:
    """A software name as the alias table compares it.

    >>> normalize_name("Microsoft® Office Proof (French) 2010")
    'microsoft office proof 2010'
    >>> normalize_name("Microsoft Office Professional Plus 2016 - en-us")
    'microsoft office professional plus 2016'
    """
    text = unicodedata.normalize("NFKC", name).lower()
    text = TRADEMARK_RE.sub(" ", text)
    text = PAREN_RE.sub(" ", text)
    text = " ".join(text.split())
    text = LANGUAGE_TAG_RE.sub("", text)
    text = NAME_JUNK_RE.sub(" ", text.replace(",", " ").replace("_", " "))
    return " ".join(text.split())


def _text_service_pack(*texts: str | None) -> str | None:
    """``spN`` from ``Service Pack N`` / ``SP N`` in any of ``texts``."""
    for text in texts:
        if text:
            found = SERVICE_PACK_RE.search(text)
            if found is not None:
                return f"sp{int(found.group(1))}"
    return None


def office_service_pack(version: tuple[int, ...] | None) -> str | None:
    """The Office service pack level of a build, by `OFFICE_SERVICE_PACKS`, or None.

    >>> office_service_pack((12, 0, 6425, 1000))
    'sp2'
    >>> office_service_pack((12, 0, 6612, 1000))
    'sp3'
    >>> office_service_pack((11, 0, 8173, 0))
    'sp3'
    >>> office_service_pack((14, 0, 4763, 1000))
    'rtm'
    >>> office_service_pack((16, 0, 4266, 1001)) is None
    True
    """
    if version is None or len(version) < 3:
        return None
    levels = [row for row in OFFICE_SERVICE_PACKS if row.major == version[0]]
    if not levels:
        return None
    reached = [row for row in levels if row.first_build <= version[2]]
    return (reached[-1] if reached else levels[0]).level


def _office_identities(
    products: Iterable[str], name: str, version: tuple[int, ...] | None, raw: str
) -> list[Identity]:
    """Edition-style identities of an Office suite or program named ``name``."""
    year = OFFICE_YEAR_RE.search(name)
    major = version[0] if version else None
    major_editions = OFFICE_MAJOR_EDITIONS.get(major) if major is not None else None
    service_pack: str | None = None
    edition_year: str | None = None
    if year is not None:
        edition_year = year.group(1)
        editions = frozenset(OFFICE_YEAR_EDITIONS[edition_year])
        agrees = major is None or OFFICE_EDITION_MAJOR.get(edition_year) == major
        certain = agrees
        if not agrees and major_editions:
            editions |= frozenset(major_editions)
        if agrees:
            service_pack = office_service_pack(version)
    elif major_editions:
        editions = frozenset(major_editions)
        # XP is one edition under two CPE versions ("xp", "2002"); 16.0 is four editions.
        certain = len({OFFICE_YEAR_EDITIONS[edition] for edition in major_editions}) == 1
        service_pack = office_service_pack(version)
    else:
        return [
            Identity("microsoft", product, "edition", None, False, _text_service_pack(raw))
            for product in products
        ]
    service_pack = service_pack or _text_service_pack(raw)
    identities = [
        Identity("microsoft", product, "edition", editions, certain, service_pack)
        for product in products
    ]
    if "office" in products and edition_year in OFFICE_EDITION_PRODUCTS:
        for product in OFFICE_EDITION_PRODUCTS[edition_year]:
            identities.append(
                Identity("microsoft", product, "edition", editions, certain, service_pack)
            )
    return identities


def _office(name: str, version: tuple[int, ...] | None, raw: str) -> list[Identity] | None:
    """Identities when ``name`` is a Microsoft Office suite, program, viewer or pack."""
    if re.match(r"^microsoft (?:office )?365\b|^microsoft 365 apps\b", name):
        return [
            Identity("microsoft", product, "edition", None, False, None)
            for product in ("365_apps", "office_365_proplus")
        ]
    if re.match(r"^(?:microsoft )?(?:office )?compatibility pack\b", name):
        return _office_identities(("office_compatibility_pack",), name, version, raw)
    viewer = re.match(r"^microsoft (?:office )?(word|excel|powerpoint|visio) viewer\b", name)
    if viewer is not None:
        return _office_identities((OFFICE_VIEWERS[viewer.group(1)],), name, version, raw)
    words = name.split()
    if words[:2] == ["microsoft", "office"] and all(
        word in OFFICE_SUITE_WORDS or word in OFFICE_YEAR_EDITIONS for word in words[2:]
    ):
        return _office_identities(("office",), name, version, raw)
    app = re.match(r"^microsoft (?:office )?([a-z]+)\b", name)
    if app is not None and app.group(1) in OFFICE_APPS:
        rest = name[app.end() :].split()
        if all(word in OFFICE_APP_WORDS or word in OFFICE_YEAR_EDITIONS for word in rest):
            return _office_identities((OFFICE_APPS[app.group(1)],), name, version, raw)
    return None


def _windows(name: str, version: tuple[int, ...] | None, raw: str) -> list[Identity] | None:
    """Identities when ``name`` is a Windows operating system (not a Windows component)."""
    found = re.match(r"^(?:microsoft )?windows (xp|vista|7|8\.1|8|10|11|server)\b(.*)$", name)
    if found is None:
        return None
    release, rest = found.group(1), found.group(2).split()
    server_year: str | None = None
    if release == "server" and rest and re.fullmatch(r"\d{4}|\d{2}h\d", rest[0]):
        server_year, rest = rest[0], rest[1:]
    if not all(word in WINDOWS_WORDS for word in rest):
        return None
    r2 = "r2" in rest
    server = release == "server" or "server" in rest
    text_sp = _text_service_pack(raw)
    identities: list[Identity] = []

    def add(
        product: str, editions: Iterable[str], sp: str | None, known: bool = True, sure: bool = True
    ) -> None:
        """``known``: the edition is known; ``sure``: the product (release) is."""
        identities.append(
            Identity("microsoft", product, "edition", frozenset(editions), known, sp, sure)
        )

    def unknown_release(family: str, releases: Mapping[int, str]) -> None:
        """Windows 10/11 of an unknown release: any of them, each only possibly."""
        add(family, set(releases.values()), None, known=False)
        for release_name in releases.values():
            add(f"{family}_{release_name}", {NA}, None, sure=False)

    build = (
        WINDOWS_BUILDS.get((version[0], version[1], version[2]))
        if version is not None and len(version) >= 3
        else None
    )
    if version is not None and version[:2] == (10, 0) and len(version) >= 3:
        number = version[2]
        if server:
            if number in WINDOWS_SERVER_10:
                add(WINDOWS_SERVER_10[number], {NA}, None)
            elif server_year:
                add(f"windows_server_{server_year}", {NA}, None)
        elif number >= min(WINDOWS_11_RELEASES):
            if number in WINDOWS_11_RELEASES:
                add(f"windows_11_{WINDOWS_11_RELEASES[number]}", {NA}, None)
                add("windows_11", {WINDOWS_11_RELEASES[number]}, None)
            else:
                unknown_release("windows_11", WINDOWS_11_RELEASES)
        elif number in WINDOWS_10_RELEASES:
            add(f"windows_10_{WINDOWS_10_RELEASES[number]}", {NA}, None)
            add("windows_10", {WINDOWS_10_RELEASES[number]}, None)
        else:
            unknown_release("windows_10", WINDOWS_10_RELEASES)
        return identities
    if build is not None:
        sp = build.service_pack or text_sp
        if server and build.server is not None:
            add(build.server, {build.server_edition}, sp)
        elif not server and build.client is not None:
            if build.client == "windows_8.1":
                add("windows_rt_8.1", {NA}, sp)
            add(build.client, {NA}, sp)
        return identities
    # No (known) build: go by the name; the release is then certain, the SP only if written.
    if server and server_year:
        add(f"windows_server_{server_year}", {"r2"} if r2 else {NA}, text_sp)
    elif release in WINDOWS_NAMED:
        add(WINDOWS_NAMED[release], {NA}, text_sp)
    elif release in ("10", "11"):
        releases = WINDOWS_10_RELEASES if release == "10" else WINDOWS_11_RELEASES
        unknown_release(f"windows_{release}", releases)
    return identities


def _adobe(name: str, version: tuple[int, ...] | None) -> list[Identity] | None:
    """Identities of Adobe Reader / Acrobat: the DC products from Acrobat DC (15) on."""
    dc = re.search(r"\bdc\b", name) is not None
    modern = version is not None and version[0] >= ADOBE_DC_MAJOR
    if ADOBE_READER_RE.match(name):
        if dc:
            products: tuple[str, ...] = ("acrobat_reader_dc",)
        elif modern:
            products = ("acrobat_reader", "acrobat_reader_dc")
        else:
            products = ("acrobat_reader",)
    elif ADOBE_ACROBAT_RE.match(name):
        if dc:
            products = ("acrobat_dc",)
        elif modern:
            products = ("acrobat", "acrobat_dc")
        else:
            products = ("acrobat",)
    else:
        return None
    return [Identity("adobe", product, "version") for product in products]


def _fallback(name: str, publisher: str | None) -> list[Identity]:
    """Uncertain identities from the name and publisher (vendor prefix dropped)."""
    words = [word for word in name.split() if not NUMBER_TOKEN_RE.match(word)]
    if not words:
        return []
    vendors: list[str] = []
    if publisher:
        publisher_words = [
            word for word in normalize_name(publisher).split() if word not in VENDOR_STOPWORDS
        ]
        if publisher_words:
            vendors.append(publisher_words[0])
    vendors.append(words[0])
    identities: dict[tuple[str, str], Identity] = {}
    for vendor in vendors:
        rest = words[1:] if words[0] == vendor else words
        for product_words in (rest, words):
            product = "_".join(product_words)
            if product and (vendor, product) not in identities:
                identities[(vendor, product)] = Identity(vendor, product, "version", certain=False)
    return list(identities.values())


def identify(name: str | None, version: str | None, publisher: str | None = None) -> list[Identity]:
    """The CPE products an inventory row may be: by the alias table, else the fallback.

    >>> [(i.product, sorted(i.editions or ()), i.service_pack) for i in identify(
    ...     "Microsoft Office Professional Plus 2007", "12.0.6425.1000")]
    [('office', ['2007'], 'sp2')]
    >>> [i.product for i in identify("Adobe Reader 9.3.4", "9.3.4")]
    ['acrobat_reader']
    >>> identify("Security Update for Microsoft Office 2007 (KB2345000)", "1")
    []
    >>> [(i.vendor, i.product, i.certain) for i in identify("Foo Viewer 2.1", "2.1", "Foo Inc.")]
    [('foo', 'viewer', False), ('foo', 'foo_viewer', False)]
    """
    if not name or not name.strip() or PATCH_RE.search(name):
        return []
    normalized = normalize_name(name)
    if not normalized:
        return []
    parsed = parse_version(version)
    raw = f"{name} {version or ''}"
    for found in (
        _office(normalized, parsed, raw),
        _windows(normalized, parsed, raw),
        _adobe(normalized, parsed),
    ):
        if found is not None:
            return found
    for pattern, vendor, products in VERSION_ALIASES:
        if pattern.match(normalized):
            return [Identity(vendor, product, "version") for product in products]
    return _fallback(normalized, publisher)


# --- judging one criterion -----------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRef:
    """Where a fact came from: an evidence file's id and the record in it."""

    evidence_id: str | None
    record: str | None


@dataclass(frozen=True)
class VulnMatch:
    """An inventory row that a CVE's CPE criteria match (rules.md, Vulnerable software).

    ``product``/``version`` are the inventory's; ``cpe`` is the criterion that decided the
    match; ``software`` refers to the inventory row and ``vuln_evidence`` to the NVD row that
    matched and the KEV rows that mark the CVE as exploited.
    """

    host: str | None
    product: str
    version: str | None
    cve: str
    match: Match
    confidence: Confidence
    fixed_version: str | None
    known_exploited: bool
    cpe: str
    software: EvidenceRef
    vuln_evidence: tuple[EvidenceRef, ...]


@dataclass(frozen=True)
class _Criterion:
    cve: str
    text: str
    cpe: Cpe
    start_including: str | None
    start_excluding: str | None
    end_including: str | None
    end_excluding: str | None
    ref: EvidenceRef

    @property
    def bounded(self) -> bool:
        return any(
            (self.start_including, self.start_excluding, self.end_including, self.end_excluding)
        )


Verdict = tuple[Match, Confidence, str | None]


def _criterion(row: Mapping[str, Any]) -> _Criterion | None:
    cve, text = row.get("cve"), row.get("cpe")
    if not isinstance(cve, str) or not isinstance(text, str):
        return None
    cpe = parse_cpe(text)
    if cpe is None:
        return None
    if cpe.version == NA and cpe.update == "r2":
        # NVD writes Server 2012 R2 both as "windows_server_2012:r2" and ":-:r2".
        cpe = replace(cpe, version="r2", update=ANY)

    def text_of(key: str) -> str | None:
        value = row.get(key)
        return value.strip() if isinstance(value, str) and value.strip() else None

    return _Criterion(
        cve=cve,
        text=text,
        cpe=cpe,
        start_including=text_of("version_start_including"),
        start_excluding=text_of("version_start_excluding"),
        end_including=text_of("version_end_including"),
        end_excluding=text_of("version_end_excluding"),
        ref=EvidenceRef(row.get("evidence_id"), row.get("record")),
    )


def _range(version: tuple[int, ...] | None, criterion: _Criterion) -> bool | None:
    """True: within all bounds; False: outside one; None: cannot be decided."""
    if version is None:
        return None
    undecided = False
    checks = (
        (criterion.start_including, lambda c: c >= 0),
        (criterion.start_excluding, lambda c: c > 0),
        (criterion.end_including, lambda c: c <= 0),
        (criterion.end_excluding, lambda c: c < 0),
    )
    for text, holds in checks:
        if text is None:
            continue
        bound = parse_version(text)
        if bound is None:
            undecided = True
            continue
        if _truncated(version, bound):
            undecided = True
            continue
        if not holds(compare_versions(version, bound)):
            return False
    return None if undecided else True


def _exact(version: tuple[int, ...] | None, raw: str | None, wanted: str) -> bool | None:
    """True: the inventory version is the CPE's; False: it is not; None: cannot be decided."""
    target = parse_version(wanted)
    if target is None:
        return raw is not None and raw.strip().lower() == wanted
    if version is None:
        return None
    if _truncated(version, target) or _truncated(target, version):
        return None
    return compare_versions(version, target) == 0


def _edition(identity: Identity, cpe_version: str) -> bool | None:
    """True: the CPE version names the installed edition; False: another; None: unknown."""
    if cpe_version == ANY:
        return True
    if cpe_version == NA:
        return not (identity.editions and identity.editions & NA_EXCLUDED_EDITIONS)
    if identity.editions is None:
        return None
    if cpe_version not in identity.editions:
        return False
    return True if identity.edition_certain else None


def _judge(
    identity: Identity, version: tuple[int, ...] | None, raw: str | None, criterion: _Criterion
) -> Verdict | None:
    """How ``criterion`` matches an inventory row seen as ``identity``, or None."""
    cpe = criterion.cpe
    if criterion.bounded:
        inside = _range(version, criterion)
        if inside is False:
            return None
        sure = inside is True and identity.certain
        return "version_range", "confirmed" if sure else "possible", criterion.end_excluding
    if identity.style == "version":
        if cpe.version in (ANY, NA):
            return "version_range", "possible", None
        same = _exact(version, raw, cpe.version)
        if same is False:
            return None
        sure = same is True and identity.certain
        return "exact_version", "confirmed" if sure else "possible", None
    edition = _edition(identity, cpe.version)
    if edition is False:
        return None
    update = "rtm" if cpe.update == "gold" else cpe.update
    if CPE_SP_RE.match(update) is None:
        return "edition_any", "possible", None
    if identity.service_pack is not None and identity.service_pack != update:
        return None
    sure = edition is True and identity.certain and identity.service_pack == update
    return "edition_sp", "confirmed" if sure else "possible", None


def _strength(verdict: Verdict) -> tuple[int, int]:
    match, confidence, _ = verdict
    return (0 if confidence == "confirmed" else 1, MATCH_ORDER.index(match))


# --- the entry point -----------------------------------------------------------------------


def match_software(
    software_rows: Iterable[Mapping[str, Any]], vulns_rows: Iterable[Mapping[str, Any]]
) -> list[VulnMatch]:
    """Every (inventory row, CVE) pair the CPE criteria of ``vulns_rows`` match, strongest
    match per pair, sorted by host, product, version and CVE.

    ``software_rows`` are `software` table rows; ``vulns_rows`` are `vulns` rows from NVD
    (criteria and bounds) and KEV (known-exploited marks). Rows without a CPE only mark CVEs.
    """
    index: dict[tuple[str, str], list[_Criterion]] = defaultdict(list)
    seen: set[tuple[Any, ...]] = set()
    exploited: dict[str, list[EvidenceRef]] = defaultdict(list)
    for row in vulns_rows:
        cve = row.get("cve")
        criterion = _criterion(row)
        if isinstance(cve, str) and row.get("known_exploited") is True:
            # A KEV row is evidence of its own; an NVD row's mark travels with its criterion.
            refs = exploited[cve]
            if criterion is None:
                refs.append(EvidenceRef(row.get("evidence_id"), row.get("record")))
        if criterion is None:
            continue
        key = (
            criterion.cve,
            criterion.text,
            criterion.start_including,
            criterion.start_excluding,
            criterion.end_including,
            criterion.end_excluding,
        )
        if key in seen:
            continue
        seen.add(key)
        index[(criterion.cpe.vendor, criterion.cpe.product)].append(criterion)

    matches: list[VulnMatch] = []
    for row in software_rows:
        name = row.get("name")
        raw_version = row.get("version")
        version_text = raw_version if isinstance(raw_version, str) else None
        publisher = row.get("publisher")
        identities = identify(
            name if isinstance(name, str) else None,
            version_text,
            publisher if isinstance(publisher, str) else None,
        )
        if not identities:
            continue
        version = parse_version(version_text)
        best: dict[str, tuple[Verdict, _Criterion]] = {}
        for identity in identities:
            for criterion in index.get((identity.vendor, identity.product), ()):
                verdict = _judge(identity, version, version_text, criterion)
                if verdict is None:
                    continue
                held = best.get(criterion.cve)
                if held is None or _strength(verdict) < _strength(held[0]):
                    best[criterion.cve] = (verdict, criterion)
        software_ref = EvidenceRef(row.get("evidence_id"), row.get("record"))
        host = row.get("host")
        for cve, ((match, confidence, fixed), criterion) in best.items():
            kev_refs = tuple(exploited.get(cve, ()))
            matches.append(
                VulnMatch(
                    host=host if isinstance(host, str) else None,
                    product=str(name),
                    version=version_text,
                    cve=cve,
                    match=match,
                    confidence=confidence,
                    fixed_version=fixed,
                    known_exploited=cve in exploited,
                    cpe=criterion.text,
                    software=software_ref,
                    vuln_evidence=(criterion.ref, *kev_refs),
                )
            )
    matches.sort(key=lambda m: (m.host or "", m.product, m.version or "", m.cve, m.cpe))
    return matches
