"""Exposure (rules.md, Exposure): tables built in code, one DuckDB store per scenario.

The main scenario holds a positive and a negative case for each rule; it is built once for the
module (the tests only read it), so the inner loop stays fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from breachscope.analyses.exposure import (
    BEACON_MIN_CONTACTS,
    MAX_EVIDENCE_REFS,
    Exposure,
    analyse,
    coefficient_of_variation,
    document_paths,
    exposed_credentials,
)
from breachscope.analyses.window import Window, ioc_contacts
from breachscope.findings import build_findings, validation_errors
from breachscope.formats.host_file import windows_path
from breachscope.identity import path_key
from tests.analyses.builders import Evidence, eid

T0 = dt.datetime(2011, 7, 6, 1, 0, tzinfo=dt.UTC)
END = T0 + dt.timedelta(days=10)
WINDOW = Window(start=T0, end=END, basis=["known"], status="analysed")
HOST = "WS-0423"
OTHER = "OTHER-PC"
SUBJECT_IP = "10.20.4.23"
EGRESS_IP = "203.0.113.10"


BODYFILE = eid("bodyfile")
FOLDER_FILE = eid("collected classified-plan.docx")
LNK = eid("lnk")
SECURITY = eid("ws security.evtx")
DC = eid("dc01 security.evtx")
PORTAL = eid("partner-portal.csv")
WEBMAIL = eid("webmail.csv")
HISTORY = eid("History")
FIREFOX = eid("places.sqlite")
LOGINS = eid("Login Data")
MBOX = eid("t.yamada.mbox")
VCARD = eid("contacts.vcf")
SQUID = eid("access.log")
IOCS = eid("iocs.txt")

CASE = r"""
case: T-EXPOSURE
organization:
  mail_domains: [example-space.jp]
  egress_ips: [203.0.113.10]
subject:
  hosts:
    - name: WS-0423
      ips: [10.20.4.23]
  users:
    - name: Taro Yamada
      email: t.yamada@example-space.jp
      accounts:
        - {system: corp-ad, account: 'EXSPACE\tyamada'}
        - {system: partner-portal, account: tyamada@partner.example}
systems:
  - name: corp-ad
    hosts: [dc01.example-space.jp]
  - name: partner-portal
    hosts: ['https://portal.partner.example']
  - name: webmail
    hosts: [webmail.example]
known:
  rotations:
    - {system: partner-portal, account: tyamada@partner.example, at: 2011-07-16T02:00:00Z}
sensitivity:
  - label: classified
    patterns: ['(?i)classified']
  - label: htv
    patterns: ['(?i)\bHTV\b']
    match: [content, search]
evidence:
  - path: evidence
"""


def at(**delta: float) -> dt.datetime:
    return T0 + dt.timedelta(**delta)


# -- builders -----------------------------------------------------------------------------


def file_row(ev: Evidence, path: str, evidence: str = BODYFILE, **values: Any) -> None:
    values.setdefault("host", HOST)
    values.setdefault("kind", "file")
    values.setdefault("deleted", False)
    values.setdefault("btime", at(days=-100))
    values.setdefault("mtime", at(days=-50))
    ev.add("files", evidence, path=path, path_key=path_key(path), **values)


def opened(ev: Evidence, path: str, time: dt.datetime, host: str = HOST) -> None:
    ev.add("file_access", LNK, time=time, host=host, path=path, path_key=path_key(path), how="lnk")


def visit(
    ev: Evidence,
    url: str,
    time: dt.datetime,
    transition: str | None = "link",
    evidence: str = HISTORY,
    **values: Any,
) -> None:
    values.setdefault("host", HOST)
    ev.add("web_visits", evidence, time=time, url=url, transition=transition, **values)


def logon(
    ev: Evidence,
    account: str,
    account_key: str,
    time: dt.datetime,
    evidence: str = DC,
    **values: Any,
) -> None:
    values.setdefault("outcome", "success")
    values.setdefault("system", "corp-ad")
    values.setdefault("host", "DC01")
    ev.add("logons", evidence, time=time, account=account, account_key=account_key, **values)


def address(
    ev: Evidence,
    value: str,
    where: str,
    message: str | None,
    evidence: str = MBOX,
    **values: Any,
) -> None:
    values.setdefault("mailbox_owner", "t.yamada@example-space.jp")
    values.setdefault("record", f"offset:{message}" if message else None)
    ev.add("addresses", evidence, address=value, where=where, message_id=message, **values)


def message(ev: Evidence, message_id: str, time: dt.datetime | None) -> None:
    ev.add(
        "messages",
        MBOX,
        message_id=message_id,
        time=time,
        mailbox_owner="t.yamada@example-space.jp",
        record=f"offset:{message_id}",
    )


def squid(ev: Evidence, destination: str, times: Iterable[dt.datetime], **values: Any) -> None:
    values.setdefault("src_ip", SUBJECT_IP)
    values.setdefault("host", "proxy01")
    for time in times:
        ev.add(
            "network",
            SQUID,
            time=time,
            start_time=time - dt.timedelta(seconds=1),
            dst_host=destination,
            url=f"https://{destination}/",
            bytes_out=None,
            **values,
        )


def jittered(start: dt.datetime, jitter: float, contacts: int = 11) -> list[dt.datetime]:
    """Contacts every 60 s +- ``jitter``, alternating: the intervals' CV is ``jitter``."""
    times, moment = [start], start
    for index in range(contacts - 1):
        moment += dt.timedelta(seconds=60 * (1 + (jitter if index % 2 else -jitter)))
        times.append(moment)
    return times


# -- the main scenario --------------------------------------------------------------------


def scenario() -> Evidence:
    ev = Evidence()
    docs = "C:\\Users\\taro\\Documents\\"
    # Stored files.
    file_row(ev, docs + "classified-plan.docx")
    file_row(ev, docs + "classified-plan.docx", kind="filename_attribute")
    collected = windows_path("C/Users/taro/Documents/classified-plan.docx")
    file_row(ev, collected, evidence=FOLDER_FILE, labels=["classified", "htv"], record="file")
    file_row(ev, docs + "plain.txt")
    file_row(ev, docs + "report.docx:Zone.Identifier", kind="stream")
    file_row(ev, docs, kind="dir")
    file_row(ev, docs + "new-classified.docx", btime=END + dt.timedelta(hours=1))
    file_row(ev, "C:\\$MFT")
    file_row(ev, "C:\\$Extend\\$ObjId")
    file_row(ev, "C:\\$Recycle.Bin\\S-1-5-21\\$Rabc.docx")
    file_row(ev, docs + "old-classified.doc", deleted=True, mtime=at(days=-3), atime=at(days=-2))
    file_row(ev, docs + "wiped-classified.doc", deleted=True, mtime=at(days=-3), atime=at(days=2))
    file_row(ev, docs + "classified-other.docx", host=OTHER)

    # Displayed: shortcuts, documents given to applications, visits, searches.
    opened(ev, docs + "plain.txt", at(days=-1))
    opened(ev, docs + "plain.txt", at(hours=1))
    opened(ev, docs + "plain.txt", at(days=2))
    opened(ev, docs + "after.txt", END + dt.timedelta(hours=1))
    opened(ev, docs + "elsewhere.txt", at(hours=1), host=OTHER)
    ev.add(
        "processes",
        SECURITY,
        time=at(hours=3),
        host=HOST,
        image="C:\\Program Files\\Microsoft Office\\Office14\\WINWORD.EXE",
        command_line='"C:\\Program Files\\Microsoft Office\\Office14\\WINWORD.EXE" /n '
        f'"{docs}Classified-Plan.docx"',
    )
    ev.add(
        "processes",
        SECURITY,
        time=at(hours=3),
        host=HOST,
        image="C:\\Windows\\System32\\cmd.exe",
        command_line=f"cmd.exe /c copy {docs}secret.docx E:\\",
    )
    visit(ev, "https://intranet.example/classified/a", at(hours=-1))
    visit(ev, "https://intranet.example/classified/a", at(hours=5))
    visit(ev, "https://intranet.example/classified/a", at(hours=6), transition="reload")
    visit(ev, "https://ads.example/frame", at(hours=4), transition="auto_subframe")
    visit(ev, "https://hop.example/r", at(hours=4), transition="link|redirect")
    visit(ev, "https://embed.example/x", at(hours=4), transition="embed", evidence=FIREFOX)
    visit(ev, "https://elsewhere.example/", at(hours=4), host=OTHER)
    visit(ev, "https://www.google.com/search?q=HTV+spec", at(hours=7), search_terms="HTV spec")
    visit(ev, "https://www.google.com/search?q=htv++SPEC", at(hours=8), search_terms="htv  SPEC")
    visit(ev, "https://www.google.com/search?q=holiday", at(days=-2), search_terms="holiday")

    # Credentials used: from the subject host's IP, locally, and via the egress address.
    logon(ev, "EXSPACE\\tyamada", "tyamada@example-space.jp", at(hours=1), src_ip=SUBJECT_IP)
    logon(ev, "EXSPACE\\TYamada", "tyamada@example-space.jp", at(hours=2), src_ip=SUBJECT_IP)
    logon(ev, "EXSPACE\\hanako", "hanako@example-space.jp", at(hours=1), src_ip="10.99.0.5")
    logon(ev, "EXSPACE\\WS-0423$", "ws-0423$@example-space.jp", at(hours=1), src_ip=SUBJECT_IP)
    logon(ev, "ANONYMOUS LOGON", "anonymous logon", at(hours=1), src_ip=SUBJECT_IP)
    logon(
        ev, "EXSPACE\\svc", "svc@example-space.jp", at(hours=1), src_ip=SUBJECT_IP, logon_type="5"
    )
    logon(ev, "EXSPACE\\early", "early@example-space.jp", at(hours=-1), src_ip=SUBJECT_IP)
    logon(ev, "EXSPACE\\failed", "failed@example-space.jp", at(hours=1), src_ip=SUBJECT_IP,
          outcome="failure")  # fmt: skip
    logon(ev, "EXSPACE\\bymame", "bymame@example-space.jp", at(hours=1),
          src_host="ws-0423.example-space.jp")  # fmt: skip
    logon(ev, "WS-0423\\admin", "ws-0423\\admin", at(hours=9), evidence=SECURITY, system=None,
          host=HOST, src_ip="127.0.0.1", logon_type="2")  # fmt: skip
    logon(ev, "WS-0423\\guest", "ws-0423\\guest", at(hours=9), evidence=SECURITY, system=None,
          host=HOST, src_ip="10.99.0.5", logon_type="3")  # fmt: skip
    portal_time = at(days=2)
    logon(ev, "tyamada@partner.example", "tyamada@partner.example", portal_time, evidence=PORTAL,
          system="partner-portal", host=None, src_ip=EGRESS_IP)  # fmt: skip
    squid(ev, "portal.partner.example", [portal_time - dt.timedelta(seconds=100)])
    logon(ev, "someone@webmail.example", "someone@webmail.example", at(days=4), evidence=WEBMAIL,
          system="webmail", host=None, src_ip=EGRESS_IP)  # fmt: skip
    squid(ev, "webmail.example", [at(days=4, minutes=10)])

    # Credentials stored.
    stored = {"evidence": LOGINS, "host": HOST, "time": at(days=-30)}
    portal = "tyamada@partner.example"
    ev.add("stored_credentials", origin="https://portal.partner.example/login", account=portal,
           account_key=portal, **stored)  # fmt: skip
    ev.add("stored_credentials", origin="https://shop.example/", account="Taro@Shop.example",
           account_key="taro@shop.example", **stored)  # fmt: skip
    ev.add("stored_credentials", origin="https://later.example/", account="late",
           account_key="late", **{**stored, "time": END + dt.timedelta(days=1)})  # fmt: skip
    ev.add("stored_credentials", origin="https://other.example/", account="o",
           account_key="o", **{**stored, "host": OTHER})  # fmt: skip
    ev.add("stored_credentials", origin="https://forum.example", account=None, account_key=None,
           **{**stored, "evidence": FIREFOX})  # fmt: skip

    # Rotations: a change inside the window is not one; the first after the window is.
    for when in (at(days=1), END + dt.timedelta(days=2), END + dt.timedelta(days=1)):
        ev.add("credential_changes", DC, time=when, system="corp-ad", account="EXSPACE\\tyamada",
               account_key="tyamada@example-space.jp", kind="changed")  # fmt: skip

    # Addresses.
    message(ev, "<m1>", at(days=-10))
    address(ev, "alice@example-space.jp", "from", "<m1>")
    address(ev, "t.yamada@example-space.jp", "to", "<m1>")
    address(ev, "bob@partner.example", "cc", "<m1>")
    address(ev, "carol@example.org", "mention", "<m1>")
    address(ev, "alice@example-space.jp", "mention", "<m1>")
    message(ev, "<m2>", END + dt.timedelta(hours=1))
    address(ev, "late@external.example", "from", "<m2>")
    address(ev, "late-mention@external.example", "mention", "<m2>")
    message(ev, "<m3>", None)
    address(ev, "undated@external.example", "from", "<m3>")
    message(ev, "<m4>", at(days=1))
    address(ev, "BOB@Partner.Example", "reply-to", "<m4>")
    address(ev, "dave@sub.example-space.jp", "contact", None, evidence=VCARD, host=HOST,
            mailbox_owner=None, record="line:1")  # fmt: skip
    address(ev, "eve@elsewhere.example", "contact", None, evidence=VCARD, host=OTHER,
            mailbox_owner="someone@example-space.jp", record="line:9")  # fmt: skip

    # Exfiltration: an IOC destination, a beacon, a jittery non-beacon.
    ev.add("iocs", IOCS, kind="domain", value="evil.example", source="iocs.txt")
    squid(ev, "evil.example", [at(days=-1)], bytes_in=999)
    squid(ev, "evil.example", [at(hours=1)], bytes_in=500)
    squid(ev, "evil.example", [at(hours=2)], bytes_in=700)
    squid(ev, "beacon.example", jittered(at(days=3), 0.1), bytes_in=100)
    squid(ev, "noisy.example", jittered(at(days=3), 0.5), bytes_in=100)
    squid(ev, "beacon.example", jittered(at(days=3), 0.1), bytes_in=100, src_ip="10.99.0.5")
    return ev


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> Exposure:
    ctx = scenario().context(tmp_path_factory.mktemp("exposure"), CASE)
    return analyse(ctx, WINDOW, ioc_contacts(ctx))


@pytest.fixture(scope="module")
def finding(found: Exposure) -> dict[str, Any]:
    return found.as_finding()


# -- stored files -------------------------------------------------------------------------


def test_stored_files_count_regular_files_that_existed_in_the_window(found: Exposure) -> None:
    # classified-plan (bodyfile + twin + collected copy = 1), plain.txt, wiped-classified,
    # the recycle bin file. Not: the stream, the directory, the file created after the window,
    # $MFT, $Extend, the file deleted before the window, the other host's file.
    assert found.files_stored == 4


def test_file_items_are_labelled_or_displayed_stored_files(finding: dict[str, Any]) -> None:
    items = {i["path"].rsplit("\\", 1)[1]: i for i in finding["files"]["items"]}
    assert sorted(items) == ["classified-plan.docx", "plain.txt", "wiped-classified.doc"]
    plan = items["classified-plan.docx"]
    assert plan["host"] == HOST
    assert plan["labels"] == ["classified", "htv"]  # path label + the collected copy's content
    assert plan["displayed"] is True
    assert {e["evidence_id"] for e in plan["evidence"]} == {BODYFILE, FOLDER_FILE}
    assert items["plain.txt"] == {**items["plain.txt"], "labels": [], "displayed": True}
    assert items["wiped-classified.doc"]["displayed"] is False
    assert finding["files"]["by_label"] == {"classified": 2, "htv": 1}


# -- displayed ----------------------------------------------------------------------------


def test_displayed_files_from_shortcuts_and_applications(finding: dict[str, Any]) -> None:
    files = [d for d in finding["displayed"] if d["kind"] == "file"]
    assert [(d["what"].rsplit("\\", 1)[1], d["time"], d["times"]) for d in files] == [
        ("plain.txt", "2011-07-06T02:00:00Z", 2),  # the pre-window opening is not counted
        ("Classified-Plan.docx", "2011-07-06T04:00:00Z", 1),
    ]
    assert files[1]["labels"] == ["classified", "htv"]
    assert files[1]["host"] == HOST
    assert all(d["evidence"] for d in finding["displayed"])


def test_displayed_urls_skip_subframes_redirect_hops_and_other_hosts(
    finding: dict[str, Any],
) -> None:
    urls = {d["what"]: d for d in finding["displayed"] if d["kind"] == "url"}
    assert sorted(urls) == [
        "https://intranet.example/classified/a",
        "https://www.google.com/search?q=HTV+spec",
        "https://www.google.com/search?q=htv++SPEC",
    ]
    intranet = urls["https://intranet.example/classified/a"]
    assert (intranet["time"], intranet["times"]) == ("2011-07-06T06:00:00Z", 2)
    assert intranet["labels"] == ["classified"]


def test_displayed_searches_merge_spellings(finding: dict[str, Any]) -> None:
    searches = [d for d in finding["displayed"] if d["kind"] == "search"]
    assert [(d["what"], d["time"], d["times"], d["labels"]) for d in searches] == [
        ("HTV spec", "2011-07-06T08:00:00Z", 2, ["htv"])
    ]


def test_displayed_is_sorted_by_time(finding: dict[str, Any]) -> None:
    times = [d["time"] for d in finding["displayed"]]
    assert times == sorted(times)


def test_document_paths_on_command_lines() -> None:
    assert document_paths('AcroRd32.exe /n "C:\\a b\\x.pdf"') == ["C:\\a b\\x.pdf"]
    assert document_paths("notepad.exe \\\\srv\\share\\notes.txt") == ["\\\\srv\\share\\notes.txt"]
    assert document_paths("chrome.exe --user-data-dir=C:\\profile") == []
    assert document_paths("excel.exe " + "C:\\" + "x" * 50_000) == []  # bounded


# -- credentials --------------------------------------------------------------------------


def credentials(finding: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["system"], c["account"]): c for c in finding["credentials"]}


def test_used_credentials(finding: dict[str, Any]) -> None:
    found = credentials(finding)
    corp = found[("corp-ad", "EXSPACE\\tyamada")]  # the manifest spelling
    assert (corp["how"], corp["exposed_from"]) == ("used", "2011-07-06T02:00:00Z")
    assert found[("corp-ad", "EXSPACE\\bymame")]["how"] == "used"  # by source host name
    local = found[(HOST, "WS-0423\\admin")]  # loopback on the subject host, local account
    assert local["exposed_from"] == "2011-07-06T10:00:00Z"
    accounts = {account for _, account in found}
    for absent in ("EXSPACE\\hanako", "EXSPACE\\WS-0423$", "ANONYMOUS LOGON", "EXSPACE\\svc",
                   "EXSPACE\\early", "EXSPACE\\failed", "WS-0423\\guest"):  # fmt: skip
        assert absent not in accounts


def test_egress_correlated_logon_is_used_and_uncorrelated_is_not(finding: dict[str, Any]) -> None:
    found = credentials(finding)
    portal = found[("partner-portal", "tyamada@partner.example")]
    assert portal["how"] == "both"  # used via the egress address and saved in the browser
    assert portal["exposed_from"] == "2011-07-06T01:00:00Z"  # window.start, as stored
    assert SQUID in {e["evidence_id"] for e in portal["evidence"]}
    assert PORTAL in {e["evidence_id"] for e in portal["evidence"]}
    assert not any(system == "webmail" for system, _ in found)  # traffic 10 min off


def test_stored_credentials(finding: dict[str, Any]) -> None:
    found = credentials(finding)
    shop = found[("https://shop.example", "Taro@Shop.example")]
    assert (shop["how"], shop["exposed_from"], shop["rotated_at"]) == (
        "stored",
        "2011-07-06T01:00:00Z",
        None,
    )
    assert found[("https://forum.example", "(unknown)")]["how"] == "stored"
    systems = {system for system, _ in found}
    assert "https://later.example" not in systems  # saved after the window
    assert "https://other.example" not in systems  # another host


def test_rotation_is_the_first_change_after_the_window(finding: dict[str, Any]) -> None:
    found = credentials(finding)
    # The change inside the window is not a rotation; the first one after it is.
    assert found[("corp-ad", "EXSPACE\\tyamada")]["rotated_at"] == "2011-07-17T01:00:00Z"
    # No logged change: the manifest's known rotation.
    assert found[("partner-portal", "tyamada@partner.example")]["rotated_at"] == (
        "2011-07-16T02:00:00Z"
    )


def test_exposed_credentials_carry_keys_for_misuse(found: Exposure) -> None:
    keys = {(c.system, c.account_key) for c in found.credentials}
    assert ("corp-ad", "tyamada@example-space.jp") in keys
    assert ("https://forum.example", None) in keys
    assert all(c.refs for c in found.credentials)
    assert all(len(c.refs) <= MAX_EVIDENCE_REFS for c in found.credentials)


# -- addresses ----------------------------------------------------------------------------


def test_addresses(finding: dict[str, Any], found: Exposure) -> None:
    mail = finding["email_addresses"]
    assert mail["items"] == [
        "alice@example-space.jp",
        "bob@partner.example",  # two spellings, one address
        "dave@sub.example-space.jp",  # a contact; internal by sub-domain
        "t.yamada@example-space.jp",
        "undated@external.example",  # no Date: counted, and said so
    ]
    assert (mail["count"], mail["internal"], mail["external"]) == (5, 3, 2)
    assert mail["mentioned"] == ["carol@example.org"]  # alice is an item already
    bob = next(d for d in mail["details"] if d["address"] == "bob@partner.example")
    assert (bob["where"], bob["internal"]) == (["cc", "reply-to"], False)
    assert len(bob["evidence"]) == 2
    assert any("without a readable date" in note for note in found.notes)
    assert not any("mail_domains" in note for note in found.notes)


# -- exfiltration -------------------------------------------------------------------------


def test_exfiltration_to_ioc_and_beaconing_destinations(finding: dict[str, Any]) -> None:
    exfiltration = {e["destination"]: e for e in finding["exfiltration"]}
    assert sorted(exfiltration) == ["beacon.example", "evil.example"]  # not noisy.example
    evil = exfiltration["evil.example"]
    assert evil["reasons"] == ["ioc"]
    assert (evil["bytes_in"], evil["bytes_out"], evil["bytes_basis"]) == (1200, None, "unknown")
    assert (evil["first"], evil["last"]) == ("2011-07-06T02:00:00Z", "2011-07-06T03:00:00Z")
    beacon = exfiltration["beacon.example"]
    assert beacon["reasons"] == ["beaconing"]
    assert beacon["bytes_in"] == 100 * 11  # the other host's beacon rows are not the subject's
    assert len(beacon["evidence"]) == 11


def test_coefficient_of_variation() -> None:
    assert coefficient_of_variation(jittered(T0, 0.1)) == pytest.approx(0.1)
    assert coefficient_of_variation(jittered(T0, 0.5)) == pytest.approx(0.5)
    assert coefficient_of_variation([T0, T0]) is None
    assert BEACON_MIN_CONTACTS == 10


# -- the section --------------------------------------------------------------------------


def test_status_analysed_and_schema_valid(finding: dict[str, Any]) -> None:
    assert finding["status"] == "analysed"
    assert finding["not_covered"] == []
    document = build_findings("T", "2011-08-01T00:00:00Z", [], {"exposure": finding})
    assert validation_errors(document) == []


def test_same_input_same_output(tmp_path: Path, finding: dict[str, Any]) -> None:
    ctx = scenario().context(tmp_path, CASE)
    assert analyse(ctx, WINDOW, ioc_contacts(ctx)).as_finding() == finding


SMALL_CASE = r"""
case: T-SMALL
subject:
  hosts: [{name: WS-0423, ips: [10.20.4.23]}]
  users: [{name: Taro Yamada, email: t.yamada@example-space.jp}]
evidence: [{path: evidence}]
"""


def test_partial_without_tables_and_internal_from_subject_domains(tmp_path: Path) -> None:
    ev = Evidence()
    file_row(ev, "C:\\Users\\taro\\a.txt")
    file_row(ev, "C:\\Users\\taro\\b.txt", btime=END + dt.timedelta(days=30))
    address(ev, "x@example-space.jp", "to", None, record="line:1")
    address(ev, "y@example.org", "to", None, record="line:2", mailbox_owner="Taro Yamada")
    open_ended = Window(start=T0, end=None, basis=["first_ioc_contact"], status="analysed")
    found = analyse(ev.context(tmp_path, SMALL_CASE), open_ended, [])
    assert found.files_stored == 2  # without an end, a file created later still counts
    assert any("no end" in note for note in found.notes)
    assert found.status == "partial"
    missing = " ".join(found.not_covered)
    for table in ("file_access", "processes", "web_visits", "logons", "stored_credentials",
                  "network", "iocs"):  # fmt: skip
        assert f"no {table} rows" in missing
    assert "no files rows" not in missing and "no addresses rows" not in missing
    mail = found.as_finding()["email_addresses"]
    assert (mail["internal"], mail["external"]) == (1, 1)
    assert any("mail_domains is not given" in note for note in found.notes)


def test_not_analysed_without_a_window_start(tmp_path: Path) -> None:
    ctx = Evidence().context(tmp_path, SMALL_CASE)
    window = Window(start=None, end=None, basis=[], status="not_analysed")
    found = analyse(ctx, window, [])
    assert found.status == "not_analysed"
    assert found.not_covered
    assert exposed_credentials(ctx, window) == []
    document = build_findings("T", "2011-08-01T00:00:00Z", [], {"exposure": found.as_finding()})
    assert validation_errors(document) == []


def test_evidence_is_bounded(tmp_path: Path) -> None:
    ev = Evidence()
    for minute in range(MAX_EVIDENCE_REFS + 5):
        visit(ev, "https://often.example/", at(minutes=minute))
    found = analyse(ev.context(tmp_path, SMALL_CASE), WINDOW, [])
    (item,) = found.displayed
    assert item.times == MAX_EVIDENCE_REFS + 5
    assert len(item.refs) == MAX_EVIDENCE_REFS
