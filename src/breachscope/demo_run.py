"""``breachscope demo``: generate the demo case and investigate it, end to end.

The case is written to ``OUT/case`` by `breachscope.demo.generate_case` (deterministic, seeded)
and investigated into ``OUT/out``; the generator's own truth stays in ``OUT/case/truth.json``
so the answers can be checked against what was planted.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from breachscope.custody import Clock, system_clock
from breachscope.demo.generate import generate_case
from breachscope.demo.truth import Truth
from breachscope.ingest import Progress
from breachscope.pipeline import Investigation, investigate


@dataclass
class DemoRun:
    case_dir: Path
    truth: Truth
    investigation: Investigation


def run_demo(
    out: Path,
    seed: int = 2011,
    scale: int = 1,
    with_known: bool = False,
    variant: str | None = None,
    clock: Clock = system_clock,
    progress: Progress | None = None,
    engine: str = "duckdb",
) -> DemoRun:
    """Generate the case into ``out/case`` (anew) and investigate it into ``out/out``."""
    case_dir = out / "case"
    if case_dir.exists():
        shutil.rmtree(case_dir)
    case_dir.mkdir(parents=True)
    truth = generate_case(case_dir, seed=seed, scale=scale, with_known=with_known, variant=variant)
    findings_dir = out / "out"
    if findings_dir.exists():
        shutil.rmtree(findings_dir)
    result = investigate(case_dir, findings_dir, clock=clock, progress=progress, engine=engine)
    return DemoRun(case_dir, truth, result)


def summary(findings: dict[str, Any]) -> list[str]:
    """A few lines answering each question, for the terminal."""
    lines = []
    entry, window, exposure = findings["entry"], findings["window"], findings["exposure"]
    for email in entry["emails"]:
        names = ", ".join(a["filename"] for a in email["attachments"]) or "no attachment"
        lines.append(
            f"entry:     {email['verdict']} e-mail {email['message_id']} from {email['sender']} "
            f"({names})"
        )
    for software in entry["vulnerable_software"]:
        lines.append(
            f"           {software['host']}: {software['product']} {software['version']} "
            f"({', '.join(software['cves'])}, {software['match']}, {software['confidence']})"
        )
    lines.append(f"window:    {window['start']} -> {window['end']}  ({', '.join(window['basis'])})")
    addresses = exposure["email_addresses"]
    lines.append(
        f"exposure:  {exposure['files']['stored']} files stored "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(exposure['files']['by_label'].items()))}), "
        f"{len(exposure['displayed'])} items on screen, "
        f"{len(exposure['credentials'])} credentials, "
        f"{addresses['count']} e-mail addresses ({addresses['internal']} internal)"
    )
    for credential in exposure["credentials"]:
        lines.append(
            f"           credential {credential['system']} {credential['account']} "
            f"({credential['how']}, rotated {credential['rotated_at'] or 'not yet'})"
        )
    misuse = findings["misuse"]
    if misuse["status"] == "not_analysed":
        lines.append("misuse:    not analysed by this version (verdict left inconclusive)")
    else:
        lines.append(f"misuse:    {misuse['verdict']} ({misuse['status']})")
    return lines
