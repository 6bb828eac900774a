"""Write a complete demo case folder and the truth it was built to reveal.

``generate_case(folder)`` writes ``case.yaml``, the evidence it names, the mappings, the
indicator list and the vulnerability record, and ``truth.json`` beside them (not named in the
manifest: it is the answer, not evidence). The same seed gives byte-identical files: times
are fixed, randomness comes from ``random.Random`` streams seeded from the seed, ZIP members
and file times are set explicitly, and nothing reads the clock.

``scale`` multiplies the ordinary volume (colleagues' mail, their logons, their browsing,
other portal users) for benchmarks; the subject's facts (window, credentials, files, screen)
do not change with it, while the number of exposed addresses grows with it (more people
write to the employee). ``variant`` changes the evidence and the truth: ``outsider``,
``missing_day``, ``log_cleared``; ``stored_no_logs`` is the base case (its saved browser
credential has no logs), named for the tests that ask for it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from breachscope.demo import schedule
from breachscope.demo.browsing import plan_browsing
from breachscope.demo.host import write_host_folder
from breachscope.demo.jumphost import write_auth_log
from breachscope.demo.mail import write_mailbox
from breachscope.demo.manifest import case_yaml
from breachscope.demo.partner import write_partner_logs
from breachscope.demo.payload import fake_executable
from breachscope.demo.people import build_directory
from breachscope.demo.proxy import write_proxy_log
from breachscope.demo.reference import write_reference
from breachscope.demo.scenario import VARIANTS, Scenario
from breachscope.demo.truth import CaseFacts, Truth, compute
from breachscope.demo.windows import (
    write_dc_security,
    write_sysmon,
    write_workstation_security,
)

MANIFEST = "case.yaml"
TRUTH = "truth.json"
MAX_SCALE = 100  # colleagues' PCs get addresses 10.20.x.y: at most 25,600 of them


def generate_case(
    folder: Path,
    seed: int = 2011,
    scale: int = 1,
    with_known: bool = False,
    variant: str | None = None,
) -> Truth:
    """Write the demo case into ``folder`` (created; it must be empty) and return its truth."""
    if variant is not None and variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}, not {scale}")
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty; the demo case needs an empty folder")
    folder.mkdir(parents=True, exist_ok=True)

    scenario = Scenario(seed=seed, scale=scale, variant=variant, with_known=with_known)
    people = build_directory(scenario)
    executable = fake_executable()
    dropped_sha256 = hashlib.sha256(executable).hexdigest()
    plan = schedule.plan(scenario)
    visits = plan_browsing(scenario, plan)

    mail = write_mailbox(folder, scenario, people, executable)
    processes = write_sysmon(folder, scenario, plan, dropped_sha256)
    workstation = write_workstation_security(folder, plan)
    dc = write_dc_security(folder, scenario, people, plan)
    requests = write_proxy_log(folder, scenario, people, plan, visits)
    partner = write_partner_logs(folder, scenario, plan)
    jump = write_auth_log(folder, scenario)
    host = write_host_folder(folder, scenario, people, plan, visits, mail.attachment, executable)
    write_reference(folder, people, dropped_sha256)
    (folder / MANIFEST).write_text(case_yaml(scenario), encoding="utf-8")

    truth = compute(
        CaseFacts(
            scenario=scenario,
            mail=mail,
            processes=processes,
            workstation_logons=workstation,
            dc=dc,
            requests=requests,
            partner=partner,
            jump_logons=jump,
            host=host,
            sessions=[(s.start, s.end) for s in plan.sessions],
            dropped_sha256=dropped_sha256,
        )
    )
    (folder / TRUTH).write_text(truth.dumps(), encoding="utf-8")
    return truth
