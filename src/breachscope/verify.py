"""``breachscope verify``: is the output's chain of custody intact and the evidence unchanged?

Checks the custody hash chain line by line, that its head is the ``custody_head`` in
``findings.json`` (a truncated or extended log no longer matches), and that every evidence
file logged as hashed still has the same SHA-256.
"""

from __future__ import annotations

import json
from pathlib import Path

from breachscope.custody import CUSTODY_NAME, hash_file, read_entries, verify_chain
from breachscope.findings import FINDINGS_NAME
from breachscope.pipeline import RUN_INFO


def verify_output(out_dir: Path, case_dir: Path | None = None) -> list[str]:
    """Every problem found (empty: all good)."""
    problems: list[str] = []
    custody = out_dir / CUSTODY_NAME
    head, chain_problems = verify_chain(custody)
    problems += chain_problems
    findings_path = out_dir / FINDINGS_NAME
    if not findings_path.is_file():
        problems.append(f"{findings_path}: missing")
    else:
        recorded = json.loads(findings_path.read_text(encoding="utf-8")).get("custody_head")
        if recorded != head:
            problems.append(
                f"custody head {head} does not match findings.json custody_head {recorded} "
                "(the log was truncated, extended or edited)"
            )
    if case_dir is None:
        info = out_dir / RUN_INFO
        if info.is_file():
            case_dir = Path(json.loads(info.read_text(encoding="utf-8"))["case_dir"])
    if case_dir is None:
        problems.append("case folder unknown; pass --case DIR to check evidence hashes")
        return problems
    if not custody.is_file():
        return problems
    checked: dict[str, str] = {}
    for number, _, entry in read_entries(custody):
        if entry.get("action") != "hashed" or "path" not in entry:
            continue
        checked[entry["path"]] = entry.get("evidence_id", "")
        _ = number
    for rel, evidence_id in sorted(checked.items()):
        path = case_dir / rel
        if not path.is_file():
            problems.append(f"{rel}: evidence file is gone")
            continue
        now = hash_file(path).evidence_id
        if now != evidence_id:
            problems.append(f"{rel}: changed since it was hashed ({evidence_id} -> {now})")
    return problems
