"""Campaign (rules.md, Same e-mail; Vulnerable software): who else is at risk?"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from breachscope.analyses import campaign, entry
from breachscope.analyses.entry import Entry, SuspectMessage
from breachscope.analyses.window import Window
from breachscope.detect.attachments import AttachmentVerdict
from tests.analyses.builders import Evidence, eid

T0 = dt.datetime(2011, 7, 6, 1, 12, tzinfo=dt.UTC)
MBOX, OTHER_MBOX, GATEWAY = eid("mbox"), eid("other.mbox"), eid("gateway.log")
PROXY, SYSMON, INVENTORY, NVD, IOCS = (
    eid("proxy"),
    eid("sysmon-ws0511"),
    eid("software.csv"),
    eid("nvd.json"),
    eid("iocs.txt"),
)
SUBJECT = "t.yamada@example-space.jp"
SENDER = "secretariat@examp1e-space.jp"
SHA = "ab" * 32
CASE = """
case: T-CAMPAIGN
subject:
  hosts:
    - name: WS-0423
      ips: [10.20.4.23]
  users:
    - name: Taro Yamada
      email: t.yamada@example-space.jp
evidence:
  - path: evidence
"""
OFFICE_2007 = "cpe:2.3:a:microsoft:office:2007:sp2:*:*:*:*:*:*"


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def seed() -> SuspectMessage:
    verdict = AttachmentVerdict("programme.rtf", SHA, 10, "rtf", "malicious", [], [])
    return SuspectMessage(
        "<evil@examp1e-space.jp>",
        SENDER,
        [SUBJECT, "k.sato@example-space.jp"],
        "ISTS 2011 programme",
        at(0),
        [],
        attachments=[verdict],
        reasons=["attachment_malicious"],
    )


def found_entry(ctx: object, emails: list[SuspectMessage]) -> Entry:
    window = Window(start=at(1), end=at(5), basis=[], status="analysed")
    matches = entry.vulnerable_software(ctx)  # type: ignore[arg-type]
    return Entry(emails, [], matches, window, "analysed", [])


def message(ev: Evidence, message_id: str, hours: float, recipients: list[str], **values: object):
    ev.add(
        "messages",
        values.pop("evidence", OTHER_MBOX),
        message_id=message_id,
        time=at(hours),
        sender=values.pop("sender", SENDER),
        recipients=recipients,
        subject=values.pop("subject", "ISTS 2011 programme"),
        **values,
    )


def scenario() -> Evidence:
    ev = Evidence()
    message(
        ev,
        "<evil@examp1e-space.jp>",
        0,
        [SUBJECT, "K.Sato@Example-Space.JP"],
        evidence=MBOX,
        mailbox_owner=SUBJECT,
    )
    # Same attachment, other Message-ID and subject: the same e-mail.
    message(ev, "<copy@elsewhere.example>", 2, ["a.abe@example-space.jp"], subject="Fwd")
    ev.add("attachments", OTHER_MBOX, message_id="<copy@elsewhere.example>", sha256=SHA)
    # Same sender and subject within 72 h (subject spacing and case differ): the same e-mail.
    message(ev, "<again@examp1e-space.jp>", 48, ["b.baba@example-space.jp"],
            subject="  ists 2011 PROGRAMME ")  # fmt: skip
    # Same sender and subject after 72 h, or another subject: not the same e-mail.
    message(ev, "<late@examp1e-space.jp>", 73, ["c.chiba@example-space.jp"])
    message(ev, "<other@examp1e-space.jp>", 1, ["d.doi@example-space.jp"], subject="Invoice")
    # The gateway delivered the suspect message to one more person and refused another.
    for recipient, status in (
        ("e.endo@example-space.jp", "sent"),
        ("f.fujii@x.example", "rejected"),
    ):
        ev.add("deliveries", GATEWAY, time=at(0), message_id="<evil@examp1e-space.jp>",
               sender=SENDER, recipient=recipient, status=status)  # fmt: skip
    ev.add("iocs", IOCS, kind="domain", value="evil.example")
    ev.add("iocs", IOCS, kind="ipv4", value="203.0.113.7")
    ev.add("iocs", IOCS, kind="sha256", value=SHA)
    proxy = [
        ("10.20.4.23", "c2.evil.example", at(1)),  # the subject host's IP: not another host
        ("10.20.5.11", "c2.evil.example", at(2)),
        ("10.20.5.11", "c2.evil.example", at(3)),
        ("10.20.5.12", "notevil.example", at(2)),
    ]
    for src_ip, host, time in proxy:
        ev.add("network", PROXY, time=time, src_ip=src_ip, dst_host=host,
               url=f"http://{host}/gate", system="proxy")  # fmt: skip
    ev.add("network", SYSMON, time=at(1), host="WS-0423", dst_host="c2.evil.example")
    ev.add("network", SYSMON, time=at(4), host="WS-0511.example-space.jp", src_ip="10.20.5.40",
           dst_ip="203.0.113.7", dst_port=443)  # fmt: skip
    for host in ("WS-0423", "WS-0511"):
        ev.add("software", INVENTORY, host=host, name="Microsoft Office Professional 2007",
               version="12.0.6425.1000", publisher="Microsoft Corporation")  # fmt: skip
    ev.add("vulns", NVD, cve="CVE-2010-3333", cpe=OFFICE_2007, known_exploited=True)
    return ev


def test_other_recipients_of_the_same_email(tmp_path: Path) -> None:
    ctx = scenario().context(tmp_path, CASE)
    found = campaign.analyse(ctx, found_entry(ctx, [seed()])).as_finding()
    recipients = {(r["address"], r["message_id"]): r for r in found["other_recipients"]}
    assert sorted(recipients) == [
        ("a.abe@example-space.jp", "<copy@elsewhere.example>"),
        ("b.baba@example-space.jp", "<again@examp1e-space.jp>"),
        ("e.endo@example-space.jp", "<evil@examp1e-space.jp>"),
        ("k.sato@example-space.jp", "<evil@examp1e-space.jp>"),
    ]
    assert recipients[("a.abe@example-space.jp", "<copy@elsewhere.example>")]["match"] == [
        "attachment_sha256"
    ]
    assert recipients[("b.baba@example-space.jp", "<again@examp1e-space.jp>")]["match"] == [
        "sender_subject"
    ]
    sato = recipients[("k.sato@example-space.jp", "<evil@examp1e-space.jp>")]
    assert "message_id" in sato["match"]
    assert [e["evidence_id"] for e in sato["evidence"]] == [MBOX]
    endo = recipients[("e.endo@example-space.jp", "<evil@examp1e-space.jp>")]
    assert [e["evidence_id"] for e in endo["evidence"]] == [GATEWAY]


def test_other_hosts_contacting_indicators(tmp_path: Path) -> None:
    ctx = scenario().context(tmp_path, CASE)
    found = campaign.analyse(ctx, found_entry(ctx, [seed()])).as_finding()
    hosts = found["other_hosts_contacting_iocs"]
    assert [(h["host"], h["indicator"], h["contacts"]) for h in hosts] == [
        ("10.20.5.11", "evil.example", 2),
        ("WS-0511.example-space.jp", "203.0.113.7", 1),
    ]
    assert (hosts[0]["first"], hosts[0]["last"]) == ("2011-07-06T03:12:00Z", "2011-07-06T04:12:00Z")
    assert {e["evidence_id"] for e in hosts[0]["evidence"]} == {PROXY}
    assert len(hosts[0]["evidence"]) == 2


def test_vulnerable_hosts_are_entrys_other_matches(tmp_path: Path) -> None:
    ctx = scenario().context(tmp_path, CASE)
    found = campaign.analyse(ctx, found_entry(ctx, [seed()])).as_finding()
    assert [(v["host"], v["product"], v["cves"]) for v in found["vulnerable_hosts"]] == [
        ("WS-0423", "Microsoft Office Professional 2007", ["CVE-2010-3333"]),
        ("WS-0511", "Microsoft Office Professional 2007", ["CVE-2010-3333"]),
    ]
    assert found["status"] == "analysed"
    assert found["not_covered"] == []


def test_senders_are_kept_for_notifications(tmp_path: Path) -> None:
    ctx = scenario().context(tmp_path, CASE)
    assert campaign.analyse(ctx, found_entry(ctx, [seed()])).senders == {SENDER}


def test_without_suspect_mail_or_gateway_logs_the_section_is_partial(tmp_path: Path) -> None:
    ev = Evidence()
    message(ev, "<evil@examp1e-space.jp>", 0, [SUBJECT, "k.sato@example-space.jp"], evidence=MBOX)
    ev.add("iocs", IOCS, kind="domain", value="evil.example")
    ev.add("network", SYSMON, time=at(1), host="WS-0423", dst_host="c2.evil.example")
    ctx = ev.context(tmp_path, CASE)
    found = campaign.analyse(ctx, found_entry(ctx, [seed()]))
    assert found.status == "partial"
    assert [r.address for r in found.other_recipients] == ["k.sato@example-space.jp"]
    assert any(n.startswith("other recipients: no deliveries") for n in found.not_covered)
    assert any("hosts other than the subject" in n for n in found.not_covered)
    assert any(n.startswith("vulnerable hosts") for n in found.not_covered)
    nothing = campaign.analyse(ctx, found_entry(ctx, []))
    assert nothing.other_recipients == []
    assert any("no suspect e-mail" in n for n in nothing.not_covered)


def test_nothing_to_follow_is_not_analysed(tmp_path: Path) -> None:
    ev = Evidence()
    message(ev, "<x@example.org>", 0, [SUBJECT], evidence=MBOX)
    ctx = ev.context(tmp_path, CASE)
    found = campaign.analyse(ctx, found_entry(ctx, []))
    assert found.status == "not_analysed"
    assert found.as_finding()["other_hosts_contacting_iocs"] == []
