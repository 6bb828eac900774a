"""Entry (rules.md, Entry): which e-mail, which attachment, which out-of-date software."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from breachscope.analyses import entry
from breachscope.analyses.window import analyse as window_analyse
from breachscope.analyses.window import ioc_contacts
from tests.analyses.builders import Evidence, eid
from tests.detect.test_attachments import ole1_object, ole_package_native, pe_bytes, rtf_with_object

T0 = dt.datetime(2011, 7, 6, 1, 12, tzinfo=dt.UTC)
MBOX, SYSMON, INVENTORY, NVD = eid("mbox"), eid("sysmon"), eid("software.csv"), eid("nvd.json")
CASE = """
case: T-ENTRY
subject:
  hosts:
    - name: WS-0423
  users:
    - name: Taro Yamada
      email: t.yamada@example-space.jp
evidence:
  - path: evidence
"""
OFFICE_2007 = "cpe:2.3:a:microsoft:office:2007:sp2:*:*:*:*:*:*"


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def message(ev: Evidence, message_id: str, minutes: float, **values: object) -> None:
    ev.add(
        "messages",
        MBOX,
        message_id=message_id,
        time=at(minutes),
        sender=values.pop("sender", "news@conference.example"),
        recipients=["t.yamada@example-space.jp"],
        subject="Programme",
        mailbox_owner="t.yamada@example-space.jp",
        **values,
    )


def attachment(
    ev: Evidence, message_id: str, filename: str, data: bytes, blobs: dict[str, bytes]
) -> None:
    digest = hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    ev.add(
        "attachments", MBOX, message_id=message_id, filename=filename, sha256=digest, size=len(data)
    )


def scenario(ev: Evidence, blobs: dict[str, bytes]) -> None:
    rtf = rtf_with_object(ole1_object("Package", ole_package_native("svchost32.exe", pe_bytes())))
    message(ev, "<evil@conference.example>", -30)
    attachment(ev, "<evil@conference.example>", "programme.rtf", rtf, blobs)
    message(ev, "<clean@example-space.jp>", -20, sender="boss@example-space.jp")
    attachment(ev, "<clean@example-space.jp>", "minutes.txt", b"plain minutes\n", blobs)
    message(ev, "<later@conference.example>", 90)
    attachment(ev, "<later@conference.example>", "again.rtf", rtf, blobs)
    ev.add(
        "processes",
        SYSMON,
        time=at(0),
        host="WS-0423",
        command_line='WINWORD.EXE /n "C:\\Temp\\programme.rtf"',
    )
    for host, version in (
        ("WS-0423", "12.0.6425.1000"),
        ("WS-0511", "12.0.6425.1000"),
        ("WS-0424", "12.0.6612.1000"),
    ):
        ev.add(
            "software",
            INVENTORY,
            host=host,
            name="Microsoft Office Professional 2007",
            version=version,
            publisher="Microsoft Corporation",
        )
    ev.add("vulns", NVD, cve="CVE-2010-3333", cpe=OFFICE_2007, known_exploited=True)


def test_the_malicious_mail_the_opened_attachment_and_the_vulnerable_office(
    tmp_path: Path,
) -> None:
    ev, blobs = Evidence(), {}
    scenario(ev, blobs)
    ctx = ev.context(tmp_path, CASE)
    ctx.blob = blobs.get
    judged = entry.judge_messages(ctx)
    assert entry.suspect_attachment_names(judged) == ["again.rtf", "programme.rtf"]
    window = window_analyse(ctx, entry.suspect_attachment_names(judged), ioc_contacts(ctx))
    assert window.start == at(0)
    found = entry.analyse(ctx, judged, window, []).as_finding()
    (email,) = found["emails"]
    assert email["message_id"] == "<evil@conference.example>"
    assert email["verdict"] == "malicious"
    assert email["opened_at"] == "2011-07-06T01:12:00Z"
    assert "attachment_opened" in email["reasons"]
    assert email["evidence"][0]["evidence_id"] == MBOX
    (rtf,) = email["attachments"]
    assert any(i.startswith("ole_package") for i in rtf["indicators"])
    assert found["infected_at"] == "2011-07-06T01:12:00Z"
    assert found["first_malicious_activity"]["kind"] == "process_creation"
    (office,) = found["vulnerable_software"]
    assert (office["host"], office["version"], office["cves"]) == (
        "WS-0423",
        "12.0.6425.1000",
        ["CVE-2010-3333"],
    )
    assert (office["match"], office["confidence"], office["fixed_version"]) == (
        "edition_sp",
        "confirmed",
        None,
    )
    assert office["known_exploited"] is True
    assert {e["evidence_id"] for e in office["evidence"]} == {INVENTORY, NVD}


def test_other_hosts_vulnerable_office_is_left_for_the_campaign(tmp_path: Path) -> None:
    ev, blobs = Evidence(), {}
    scenario(ev, blobs)
    ctx = ev.context(tmp_path, CASE)
    ctx.blob = blobs.get
    judged = entry.judge_messages(ctx)
    window = window_analyse(ctx, entry.suspect_attachment_names(judged), [])
    result = entry.analyse(ctx, judged, window, [])
    assert [m.host for m in result.other_vulnerable] == ["WS-0511"]


def test_a_known_malicious_message_is_listed_even_without_attachments(tmp_path: Path) -> None:
    ev = Evidence()
    message(ev, "<told@example.org>", -10)
    case = CASE.replace(
        "evidence:\n",
        "known:\n  malicious_message_ids: ['<told@example.org>']\n"
        "  infected_at: 2011-07-06T01:12:00Z\nevidence:\n",
    )
    ctx = ev.context(tmp_path, case)
    judged = entry.judge_messages(ctx)
    window = window_analyse(ctx, [], [])
    found = entry.analyse(ctx, judged, window, []).as_finding()
    assert [(e["message_id"], e["verdict"]) for e in found["emails"]] == [
        ("<told@example.org>", "malicious")
    ]
