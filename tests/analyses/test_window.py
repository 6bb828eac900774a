"""The window (rules.md, The window): start and end from evidence, or from the manifest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from breachscope.analyses.window import BEACON_GRACE, analyse, ioc_contacts
from tests.analyses.builders import Evidence, eid

T0 = dt.datetime(2011, 7, 6, 1, 12, tzinfo=dt.UTC)
SYSMON, PROXY, IOCS, LNK = eid("sysmon.xml"), eid("access.log"), eid("c2.txt"), eid("lnk")
CASE = """
case: T-WINDOW
subject:
  hosts:
    - name: WS-0423
      ips: [10.20.4.23]
evidence:
  - path: evidence
"""
KNOWN = CASE.replace(
    "evidence:\n",
    "known:\n  infected_at: 2011-07-01T09:00:00+09:00\n"
    "  contained_at: 2011-08-11T09:30:00+09:00\nevidence:\n",
)
WORD = '"C:\\Program Files\\Microsoft Office\\Office12\\WINWORD.EXE" /n "C:\\Temp\\programme.rtf"'


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def infection(ev: Evidence, beacons: int = 12) -> None:
    ev.add("processes", SYSMON, time=at(0), host="WS-0423.example-space.jp", command_line=WORD)
    ev.add("processes", SYSMON, time=at(-60), host="OTHER-PC", command_line=WORD)
    ev.add("iocs", IOCS, kind="domain", value="example-cdn.net")
    for n in range(beacons):
        ev.add(
            "network",
            PROXY,
            time=at(5 + 30 * n),
            src_ip="10.20.4.23",
            dst_host="update.example-cdn.net",
            url="http://update.example-cdn.net/b",
        )
    ev.add("network", PROXY, time=at(-5), src_ip="10.20.4.99", dst_host="update.example-cdn.net")
    ev.add("network", PROXY, time=at(-3), src_ip="10.20.4.23", dst_host="intranet.example")


def test_start_is_the_process_naming_the_attachment_and_end_the_last_beacon_plus_grace(
    tmp_path: Path,
) -> None:
    ev = Evidence()
    infection(ev)
    ctx = ev.context(tmp_path, CASE)
    contacts = ioc_contacts(ctx)
    assert [c.host for c in contacts] == ["WS-0423"] * 12
    window = analyse(ctx, ["programme.rtf"], contacts)
    assert window.start == at(0)
    assert window.end == at(5 + 30 * 11) + BEACON_GRACE
    assert window.basis == ["process_creation", "last_ioc_contact"]
    assert window.status == "analysed"
    found = window.as_finding()
    assert found["start_evidence"][0]["evidence_id"] == SYSMON
    assert found["end_evidence"][0]["evidence_id"] == PROXY
    assert found["by_host"] == [
        {"host": "WS-0423", "start": "2011-07-06T01:12:00Z", "end": found["end"]}
    ]


def test_an_earlier_opening_of_the_attachment_sets_the_start(tmp_path: Path) -> None:
    ev = Evidence()
    infection(ev)
    ev.add(
        "file_access",
        LNK,
        time=at(-2),
        host="WS-0423",
        how="lnk",
        path="C:\\Temp\\programme.rtf",
        path_key="c:\\temp\\programme.rtf",
    )
    ctx = ev.context(tmp_path, CASE)
    window = analyse(ctx, ["programme.rtf"], ioc_contacts(ctx))
    assert window.start == at(-2)
    assert window.basis[0] == "attachment_opened"


def test_without_attachment_evidence_the_first_ioc_contact_starts_it(tmp_path: Path) -> None:
    ev = Evidence()
    infection(ev)
    ctx = ev.context(tmp_path, CASE)
    window = analyse(ctx, [], ioc_contacts(ctx))
    assert window.start == at(5)
    assert window.basis[0] == "first_ioc_contact"


def test_known_times_win_and_the_evidence_is_still_listed(tmp_path: Path) -> None:
    ev = Evidence()
    infection(ev)
    ctx = ev.context(tmp_path, KNOWN)
    window = analyse(ctx, ["programme.rtf"], ioc_contacts(ctx))
    assert window.start == dt.datetime(2011, 7, 1, 0, 0, tzinfo=dt.UTC)
    assert window.end == dt.datetime(2011, 8, 11, 0, 30, tzinfo=dt.UTC)
    assert window.basis == ["known", "process_creation"]


def test_no_trace_at_all_is_not_analysed(tmp_path: Path) -> None:
    ev = Evidence()
    ev.add("network", PROXY, time=at(1), src_ip="10.20.4.23", dst_host="intranet.example")
    ctx = ev.context(tmp_path, CASE)
    window = analyse(ctx, ["programme.rtf"], ioc_contacts(ctx))
    assert (window.start, window.end, window.status) == (None, None, "not_analysed")
