"""CISA Known Exploited Vulnerabilities catalogue (JSON). Emits `vulns` rows.

Reference: https://www.cisa.gov/known-exploited-vulnerabilities-catalog and the catalogue's
schema (https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities_schema.json):
``{"title", "catalogVersion", "dateReleased", "count", "vulnerabilities": [{"cveID",
"vendorProject", "product", "vulnerabilityName", "dateAdded", ...}]}``.

One row per catalogue entry: ``cve`` (``cveID``), ``known_exploited`` true and ``source``
``kev``. The catalogue names products in prose (``vendorProject``/``product``, "Office"), not
as CPEs, so ``cpe`` and the version bounds are null: a KEV row never matches software by
itself, it marks a CVE that NVD rows match as exploited (`breachscope.detect.vulns`).
Record ``json:vulnerabilities/<i>`` (a JSON Pointer to the entry). An entry without a
``CVE-YYYY-N`` ``cveID`` is an error for that entry. The document is loaded whole, bounded
like NVD documents (the catalogue is about 1 MB).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, ClassVar

from breachscope.formats.base import EvidenceItem, Problem, Row, Yielded, register
from breachscope.formats.nvd import CVE_ID_RE, json_text, load_json_document, show

SOURCE = "kev"
SNIFF_RE = re.compile(r'"catalogVersion"\s*:')


@register
class KevCatalog:
    """CISA KEV catalogue JSON (``catalogVersion``, ``vulnerabilities[].cveID``). Emits
    `vulns` rows with ``known_exploited`` true.

    Reference: https://www.cisa.gov/known-exploited-vulnerabilities-catalog
    """

    name: ClassVar[str] = "kev"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("vulns",)
    sniff_priority: ClassVar[int] = 30

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """True when ``head`` is a JSON object with a ``catalogVersion`` key."""
        text = json_text(head)
        return text.lstrip().startswith("{") and SNIFF_RE.search(text) is not None

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """One `vulns` row per catalogue entry, in catalogue order."""
        document, problem = load_json_document(item)
        if problem is not None:
            yield problem
            return
        if not isinstance(document, dict) or "catalogVersion" not in document:
            yield Problem("file", "not a CISA KEV catalogue (no catalogVersion)")
            return
        entries = document.get("vulnerabilities")
        if not isinstance(entries, list):
            yield Problem("file", "KEV catalogue without a vulnerabilities list")
            return
        for index, entry in enumerate(entries):
            record = f"json:vulnerabilities/{index}"
            yield from self._entry(record, entry)

    def _entry(self, record: str, entry: Any) -> Iterator[Yielded]:
        if not isinstance(entry, dict):
            yield Problem(record, "KEV entry is not a JSON object")
            return
        cve_id = entry.get("cveID")
        if not isinstance(cve_id, str) or CVE_ID_RE.match(cve_id.strip()) is None:
            yield Problem(record, f"KEV entry without a CVE id: {show(cve_id)}")
            return
        yield Row(
            "vulns",
            {
                "cve": cve_id.strip(),
                "cpe": None,
                "version_start_including": None,
                "version_start_excluding": None,
                "version_end_including": None,
                "version_end_excluding": None,
                "known_exploited": True,
                "source": SOURCE,
                "record": record,
            },
        )
