"""Notifications (rules.md, Notifications): whom must we tell?"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from breachscope.analyses import Ref, notifications
from breachscope.analyses.campaign import Campaign, OtherRecipient
from breachscope.analyses.exposure import AddressDetail, ExposedCredential, Exposure
from breachscope.custody import format_time
from tests.analyses.builders import Evidence, eid

T0 = dt.datetime(2011, 7, 6, 1, 12, tzinfo=dt.UTC)
MBOX, DC, VCF = eid("mbox"), eid("dc.evtx"), eid("contacts.vcf")
SUBJECT = "t.yamada@example-space.jp"
SENDER = "secretariat@examp1e-space.jp"
CASE = """
case: T-NOTIFY
subject:
  hosts:
    - name: WS-0423
  users:
    - name: Taro Yamada
      email: T.Yamada@example-space.jp
systems:
  - name: corp-ad
    owner: {name: Directory team, email: AD-Admins@example-space.jp}
  - name: jumphost
    owner: {name: Unix team}
evidence:
  - path: evidence
"""


def detail(address: str, ref: Ref) -> AddressDetail:
    return AddressDetail(address, True, ["to"], [ref])


def credential(system: str, account: str, ref: Ref) -> ExposedCredential:
    return ExposedCredential(system, account, account.lower(), "used", T0, None, [ref])


def sections(ctx: Any) -> tuple[Exposure, Campaign]:
    mail = ctx.ref(MBOX, "offset:0")
    exposure = Exposure(
        status="analysed",
        addresses=[
            detail(SUBJECT, mail),
            detail(SENDER, mail),
            detail("k.sato@example-space.jp", mail),
            detail("b.baba@example-space.jp", ctx.ref(VCF, "line:3")),
        ],
        credentials=[
            credential("corp-ad", "EXSPACE\\tyamada", ctx.ref(DC, "evtx:7")),
            credential("jumphost", "tyamada", ctx.ref(DC, "evtx:8")),
            credential("https://travel.example", "t.yamada", ctx.ref(DC, "evtx:9")),
        ],
    )
    campaign = Campaign(
        status="analysed",
        other_recipients=[
            OtherRecipient("k.sato@example-space.jp", "<evil@x>", ["message_id"], [mail]),
            OtherRecipient("m.ito@example-space.jp", "<evil@x>", ["message_id"], [mail]),
        ],
        senders={SENDER},
    )
    return exposure, campaign


def scenario() -> Evidence:
    ev = Evidence()
    for name in ("Kenji Sato", "Kenji Sato", "K. Sato"):
        ev.add("addresses", MBOX, address="k.sato@example-space.jp", display_name=name,
               where="to")  # fmt: skip
    ev.add("addresses", MBOX, address="m.ito@example-space.jp", display_name="Mariko Ito",
           where="cc")  # fmt: skip
    ev.add("addresses", MBOX, address="ad-admins@example-space.jp", display_name="AD admin box",
           where="cc")  # fmt: skip
    return ev


@pytest.fixture
def found(tmp_path: Path) -> dict[str, dict[str, Any]]:
    ctx = scenario().context(tmp_path, CASE)
    exposure, campaign = sections(ctx)
    result = notifications.analyse(ctx, exposure, campaign).as_finding()
    assert [r["address"] for r in result["recipients"]] == sorted(
        r["address"] for r in result["recipients"]
    )
    assert result["status"] == "analysed"
    return {r["address"]: r for r in result["recipients"]}


def test_holders_of_exposed_addresses_minus_subject_and_malicious_senders(
    found: dict[str, dict[str, Any]],
) -> None:
    assert SUBJECT not in found
    assert SENDER not in found
    baba = found["b.baba@example-space.jp"]
    assert (baba["reasons"], baba["exposed"], baba["name"]) == (
        ["exposed_address"],
        ["email_address"],
        None,
    )
    assert baba["evidence"][0]["evidence_id"] == VCF


def test_owners_of_systems_whose_credentials_leaked(found: dict[str, dict[str, Any]]) -> None:
    owner = found["ad-admins@example-space.jp"]
    assert owner["reasons"] == ["system_owner"]
    assert owner["exposed"] == ["credential:corp-ad"]
    assert owner["name"] == "Directory team"  # the manifest's name before a display name
    assert owner["evidence"][0]["evidence_id"] == DC


def test_same_email_recipients_merge_with_other_reasons(found: dict[str, dict[str, Any]]) -> None:
    sato = found["k.sato@example-space.jp"]
    assert sato["reasons"] == ["exposed_address", "same_email_recipient"]
    assert sato["exposed"] == ["email_address"]
    assert sato["name"] == "Kenji Sato"  # the display name seen most often
    ito = found["m.ito@example-space.jp"]
    assert (ito["reasons"], ito["exposed"], ito["name"]) == (
        ["same_email_recipient"],
        [],
        "Mariko Ito",
    )


def test_systems_without_owner_address_are_noted(tmp_path: Path) -> None:
    ctx = scenario().context(tmp_path, CASE)
    result = notifications.analyse(ctx, *sections(ctx))
    assert {r.address for r in result.recipients} == {
        "ad-admins@example-space.jp",
        "b.baba@example-space.jp",
        "k.sato@example-space.jp",
        "m.ito@example-space.jp",
    }
    assert [n.split(":")[0] for n in result.notes] == ["system https", "system jumphost"]


def test_status_follows_what_exposure_and_campaign_could_read(tmp_path: Path) -> None:
    ctx = scenario().context(tmp_path, CASE)
    exposure, campaign = sections(ctx)
    assert notifications.analyse(ctx, None, campaign).status == "not_analysed"
    exposure.not_covered = [
        "stored files: no files rows relevant to the subject",
        "e-mail addresses on the host: no addresses rows relevant to the subject",
    ]
    campaign.not_covered = [
        "other recipients: no deliveries rows (mail gateway logs)",
        "vulnerable hosts: no vulns rows in the evidence",
    ]
    result = notifications.analyse(ctx, exposure, campaign)
    assert result.status == "partial"
    assert result.not_covered == [
        "exposure: e-mail addresses on the host: no addresses rows relevant to the subject",
        "campaign: other recipients: no deliveries rows (mail gateway logs)",
    ]


@pytest.mark.slow
def test_demo_notifications_match_the_generators_truth(tmp_path: Path) -> None:
    from breachscope.demo_run import run_demo

    demo = run_demo(tmp_path, clock=lambda: dt.datetime(2026, 11, 26, tzinfo=dt.UTC))
    findings, truth = demo.investigation.findings, demo.truth
    assert findings is not None
    rows = {r["address"]: r for r in findings["notifications"]["recipients"]}
    by_reason = {
        reason: {a for a, r in rows.items() if reason in r["reasons"]}
        for reason in ("exposed_address", "system_owner", "same_email_recipient")
    }
    subject = {"t.yamada@example-space.jp"}
    assert by_reason["exposed_address"] == set(truth.addresses) - subject - {truth.malicious_sender}
    assert by_reason["system_owner"] == set(truth.system_owners_to_notify)
    assert by_reason["same_email_recipient"] == set(truth.same_email_recipients)
    campaign = findings["campaign"]
    assert {r["address"] for r in campaign["other_recipients"]} == set(truth.same_email_recipients)
    assert [h["host"] for h in campaign["vulnerable_hosts"]] == list(
        truth.campaign_vulnerable_hosts
    )
    expected = set()
    for item in truth.countermeasures:
        if item["action"] == "rotate":
            target = f"{item['system']}: {item['account']}"
        elif item["action"] == "patch":
            target = f"{item['host']}: {item['product']}"
        else:
            target = item["indicator"]
        ref = item.get("evidence")
        expected.add((item["action"], target, item["status"], ref.record if ref else None))
    found = {
        (
            c["action"],
            c["target"],
            c["status"],
            c["evidence"][0]["record"] if c["evidence"] else None,
        )
        for c in findings["countermeasures"]
    }
    assert found == expected
    assert format_time(truth.window_end) == findings["window"]["end"]
