"""Assembling ``findings.json`` and validating it against the schema.

Every section is always present. A section whose analysis does not exist yet, or could not
start, says ``status: not_analysed`` (the misuse verdict is then ``inconclusive``: nobody has
looked, so "none found" would be a false statement). The schema is the spec's
``findings.schema.json``, shipped inside the package so an installed tool can check its output.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from breachscope import __version__

FINDINGS_NAME = "findings.json"
SECTIONS = (
    "entry",
    "window",
    "exposure",
    "misuse",
    "campaign",
    "notifications",
    "countermeasures",
)


def load_schema() -> dict[str, Any]:
    text = resources.files("breachscope").joinpath("data/findings.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def not_analysed_sections(reason: str = "analysis not available in this version") -> dict[str, Any]:
    """Every section in its not-analysed form."""
    not_covered = [reason]
    return {
        "entry": {
            "emails": [],
            "vulnerable_software": [],
            "infected_at": None,
            "status": "not_analysed",
            "not_covered": not_covered,
        },
        "window": {
            "start": None,
            "end": None,
            "basis": [],
            "status": "not_analysed",
            "not_covered": not_covered,
        },
        "exposure": {
            "files": {"stored": 0, "by_label": {}, "items": []},
            "displayed": [],
            "credentials": [],
            "email_addresses": {"count": 0, "internal": 0, "external": 0, "items": []},
            "exfiltration": [],
            "status": "not_analysed",
            "not_covered": not_covered,
        },
        "misuse": {
            "verdict": "inconclusive",
            "by_credential": [],
            "status": "not_analysed",
            "not_covered": not_covered,
        },
        "campaign": {
            "other_recipients": [],
            "other_hosts_contacting_iocs": [],
            "vulnerable_hosts": [],
            "status": "not_analysed",
            "not_covered": not_covered,
        },
        "notifications": {"recipients": [], "status": "not_analysed", "not_covered": not_covered},
        "countermeasures": [],
    }


def build_findings(
    case_id: str,
    generated_at: str,
    inputs: list[dict[str, Any]],
    sections: dict[str, Any] | None = None,
    custody_head: str | None = None,
) -> dict[str, Any]:
    """The findings document: sections given by analyses, the rest not analysed."""
    document: dict[str, Any] = {
        "case": case_id,
        "generated_at": generated_at,
        "tool_version": __version__,
        "inputs": inputs,
    }
    merged = not_analysed_sections()
    merged.update(sections or {})
    for name in SECTIONS:
        document[name] = merged[name]
    if custody_head is not None:
        document["custody_head"] = custody_head
    return document


def validation_errors(document: dict[str, Any]) -> list[str]:
    """Schema violations as readable lines (empty when valid)."""
    validator = jsonschema.Draft202012Validator(load_schema())
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


def write_findings(out_dir: Path, document: dict[str, Any]) -> Path:
    """Validate and write ``findings.json`` atomically; an invalid document is a bug."""
    problems = validation_errors(document)
    if problems:
        raise ValueError("findings.json would not match its schema:\n" + "\n".join(problems))
    path = out_dir / FINDINGS_NAME
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
