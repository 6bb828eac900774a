"""NVD CVE API 2.0 JSON: CVE records with their CPE match configurations. Emits `vulns` rows.

Reference: https://nvd.nist.gov/developers/vulnerabilities (the CVE API and its response) and
the CVE API 2.0 JSON schema (``cve_api_json_2.0.schema``); CPE 2.3 names: NISTIR 7695.

Three document shapes are read, all as the NVD writes a CVE (the ``cve`` object):

- an API response, ``{"resultsPerPage": ..., "format": "NVD_CVE", "vulnerabilities":
  [{"cve": {...}}, ...]}``, as ``breachscope vulndata fetch`` caches it;
- one CVE record, ``{"id": "CVE-...", "configurations": [...]}``, as mirrors keep them
  (fkie-cad/nvd-json-data-feeds: one file per CVE);
- a JSON list of such records (or of ``{"cve": ...}`` items), for a hand-made bundle.

One row per ``cpeMatch`` entry with ``vulnerable: true``: ``cve``, ``cpe`` (the ``criteria``
string, as written), the four ``version{Start,End}{Including,Excluding}`` bounds (text, or
null), ``known_exploited`` and ``source`` ``nvd``. Why the reading is done the way it is:

- **Running-on constraints are ignored.** NVD writes "Reader 9.x on Windows or macOS" as a
  configuration with ``operator: AND`` over a node of vulnerable application CPEs and a node
  of ``vulnerable: false`` platform CPEs (CVE-2010-2883). The `vulns` table has no column for
  the platform, and an inventory row rarely says which OS its host runs, so every vulnerable
  ``cpeMatch`` is a row of its own and platform CPEs give none. This errs on the side of more
  (possible) matches, never fewer. Negated nodes (``negate: true``) are not interpreted
  either: their vulnerable entries are rows like any other.
- **known_exploited** is true when the record carries ``cisaExploitAdd``: the NVD copies a
  CVE's CISA KEV listing into the record, so a case with NVD data and no KEV file still knows
  which CVEs are exploited. A KEV catalogue (format ``kev``) adds rows that say so too.
- **Record** references are JSON Pointers (RFC 6901, without the leading ``/``) to the
  ``cpeMatch`` entry, so a reader can find it with any JSON tool:
  ``json:vulnerabilities/0/cve/configurations/0/nodes/1/cpeMatch/3`` in an API response,
  ``json:configurations/0/nodes/1/cpeMatch/3`` in a single record and
  ``json:<i>/configurations/...`` (or ``json:<i>/cve/configurations/...``) in a list.
- A record without ``configurations`` (NVD status "Received" / "Awaiting Analysis") and a
  ``Rejected`` one give no rows; they are counted in one warning per file rather than one
  each, because a full feed holds thousands. A ``cpeMatch`` whose ``criteria`` is not a CPE
  2.3 name, or whose bound is not text, is an error for that entry; a record without a
  ``CVE-YYYY-N`` id is an error for the record.
- The document is loaded whole, bounded by `MAX_DOCUMENT_BYTES` (a larger file is one error
  and is not read): the JSON is one value, and the API's pages are far below the bound.
  Version bounds and criteria are kept as written; comparing them is `breachscope.detect.vulns`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, ClassVar

from breachscope.formats.base import EvidenceItem, Problem, Row, Yielded, register

MAX_DOCUMENT_BYTES = 512 << 20
SHOWN_CHARS = 80  # how much of a hostile value a problem message quotes
MAX_NAMED = 5  # CVE ids a summary warning names
SOURCE = "nvd"
BOUNDS: tuple[tuple[str, str], ...] = (
    ("versionStartIncluding", "version_start_including"),
    ("versionStartExcluding", "version_start_excluding"),
    ("versionEndIncluding", "version_end_including"),
    ("versionEndExcluding", "version_end_excluding"),
)

CVE_ID_RE = re.compile(r"^CVE-\d{4}-\d{4,}$")
CPE23_RE = re.compile(r"^cpe:2\.3:[aoh*-]:")
# An API response names its format, or opens its list with a "cve" object.
API_SNIFF_RE = re.compile(
    r'"format"\s*:\s*"NVD_CVE"|"vulnerabilities"\s*:\s*\[\s*\{\s*"cve"\s*:\s*\{'
)
# A record (or a list of them) opens with its CVE id; an NVD key must follow in the head, so
# that other CVE-keyed JSON (OSV, CVE JSON 5) is not taken for NVD.
RECORD_SNIFF_RE = re.compile(r'^\s*\[?\s*\{\s*(?:"cve"\s*:\s*\{\s*)?"id"\s*:\s*"CVE-\d{4}-\d{4,}"')
NVD_KEYS = ("sourceIdentifier", "vulnStatus", "configurations", "lastModified")
NVD_KEYS_RE = re.compile(r'"(?:' + "|".join(NVD_KEYS) + r')"\s*:')


def show(value: Any) -> str:
    """A hostile value, JSON-quoted and cut to `SHOWN_CHARS`, for a problem message."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "...")


def json_text(head: bytes) -> str:
    """``head`` as text without a UTF-8 BOM (for sniffing)."""
    return head.decode("utf-8", errors="replace").removeprefix("\ufeff")


def load_json_document(item: EvidenceItem, limit: int | None = None) -> tuple[Any, Problem | None]:
    """The item's JSON document, or a file-level problem saying why there is none.

    At most ``limit`` (default `MAX_DOCUMENT_BYTES`) bytes are read: a larger document is
    refused rather than held.
    """
    limit = MAX_DOCUMENT_BYTES if limit is None else limit
    with item.open() as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        return None, Problem("file", f"JSON document larger than {limit} bytes")
    try:
        return json.loads(data.decode("utf-8", errors="replace").removeprefix("\ufeff")), None
    except (ValueError, RecursionError) as error:
        return None, Problem("file", f"not JSON: {show(str(error))}")


def _records(document: Any) -> Iterator[tuple[str, Any]]:
    """(JSON Pointer prefix, cve object) for each CVE of any of the three shapes."""
    if isinstance(document, dict) and isinstance(document.get("vulnerabilities"), list):
        for index, entry in enumerate(document["vulnerabilities"]):
            cve = entry.get("cve") if isinstance(entry, dict) else None
            yield f"vulnerabilities/{index}/cve/", cve
    elif isinstance(document, dict):
        yield "", document
    elif isinstance(document, list):
        for index, entry in enumerate(document):
            if isinstance(entry, dict) and isinstance(entry.get("cve"), dict):
                yield f"{index}/cve/", entry["cve"]
            else:
                yield f"{index}/", entry


def _is_nvd_document(document: Any) -> bool:
    if isinstance(document, dict):
        if "catalogVersion" in document:  # a KEV catalogue also has "vulnerabilities"
            return False
        entries = document.get("vulnerabilities")
        if isinstance(entries, list):
            return all(isinstance(e, dict) and "cve" in e for e in entries[:1])
        return isinstance(document.get("id"), str) and any(key in document for key in NVD_KEYS)
    if isinstance(document, list):
        return bool(document) and all(
            isinstance(e, dict) and ("cve" in e or "id" in e) for e in document[:1]
        )
    return False


@register
class NvdCveJson:
    """NVD CVE API 2.0 JSON (API response, single record or list). Emits `vulns` rows, one per
    vulnerable CPE match criterion.

    Reference: https://nvd.nist.gov/developers/vulnerabilities
    """

    name: ClassVar[str] = "nvd"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("vulns",)
    sniff_priority: ClassVar[int] = 30

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """True for an API response (``"format": "NVD_CVE"`` or ``"vulnerabilities": [{"cve":
        {``), or a record or list of records that opens with ``"id": "CVE-...`` (or ``{"cve":
        {"id": "CVE-...``) and has an NVD key (``sourceIdentifier``, ``vulnStatus`` ...) in the
        head, which other CVE-keyed JSON (OSV, CVE JSON 5) does not."""
        text = json_text(head)
        if not text.lstrip().startswith(("{", "[")):
            return False
        if API_SNIFF_RE.search(text):
            return True
        return RECORD_SNIFF_RE.match(text) is not None and NVD_KEYS_RE.search(text) is not None

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """`vulns` rows of every vulnerable ``cpeMatch`` of every CVE, in document order."""
        document, problem = load_json_document(item)
        if problem is not None:
            yield problem
            return
        if not _is_nvd_document(document):
            yield Problem("file", "not NVD CVE API 2.0 JSON (no vulnerabilities[].cve or id)")
            return
        unanalysed: list[str] = []
        rejected: list[str] = []
        for prefix, cve in _records(document):
            where = f"json:{prefix}".rstrip("/")
            if not isinstance(cve, dict):
                yield Problem(where, "CVE record is not a JSON object")
                continue
            cve_id = cve.get("id")
            if not isinstance(cve_id, str) or CVE_ID_RE.match(cve_id) is None:
                yield Problem(where, f"CVE record without a CVE id: {show(cve_id)}")
                continue
            if cve.get("vulnStatus") == "Rejected":
                rejected.append(cve_id)
                continue
            configurations = cve.get("configurations")
            if not isinstance(configurations, list) or not configurations:
                unanalysed.append(cve_id)
                continue
            known_exploited = bool(cve.get("cisaExploitAdd"))
            yield from self._configurations(cve_id, known_exploited, prefix, configurations)
        for listed, why in (
            (unanalysed, "have no CPE configurations (not analysed by NVD) and match nothing"),
            (rejected, "are rejected and give no rows"),
        ):
            if listed:
                named = ", ".join(listed[:MAX_NAMED]) + (", ..." if len(listed) > MAX_NAMED else "")
                yield Problem("file", f"{len(listed)} CVE record(s) {why}: {named}", "warning")

    def _configurations(
        self, cve_id: str, known_exploited: bool, prefix: str, configurations: list[Any]
    ) -> Iterator[Yielded]:
        for c_index, configuration in enumerate(configurations):
            c_where = f"{prefix}configurations/{c_index}"
            nodes = configuration.get("nodes") if isinstance(configuration, dict) else None
            if not isinstance(nodes, list):
                yield Problem(f"json:{c_where}", f"{cve_id}: configuration without nodes")
                continue
            for n_index, node in enumerate(nodes):
                n_where = f"{c_where}/nodes/{n_index}"
                matches = node.get("cpeMatch") if isinstance(node, dict) else None
                if not isinstance(matches, list):
                    yield Problem(f"json:{n_where}", f"{cve_id}: node without cpeMatch")
                    continue
                for m_index, entry in enumerate(matches):
                    record = f"json:{n_where}/cpeMatch/{m_index}"
                    yield from self._match(cve_id, known_exploited, record, entry)

    def _match(
        self, cve_id: str, known_exploited: bool, record: str, entry: Any
    ) -> Iterator[Yielded]:
        if not isinstance(entry, dict):
            yield Problem(record, f"{cve_id}: cpeMatch entry is not a JSON object")
            return
        if entry.get("vulnerable") is not True:
            return  # a platform the vulnerable product runs on, not a vulnerable product
        criteria = entry.get("criteria")
        if not isinstance(criteria, str) or CPE23_RE.match(criteria) is None:
            yield Problem(record, f"{cve_id}: criteria is not a CPE 2.3 name: {show(criteria)}")
            return
        values: dict[str, Any] = {
            "cve": cve_id,
            "cpe": criteria,
            "known_exploited": known_exploited,
            "source": SOURCE,
            "record": record,
        }
        for key, column in BOUNDS:
            bound = entry.get(key)
            if bound is not None and (not isinstance(bound, str) or not bound.strip()):
                yield Problem(record, f"{cve_id}: {key} is not a version: {show(bound)}")
                return
            values[column] = bound
        yield Row("vulns", values)
