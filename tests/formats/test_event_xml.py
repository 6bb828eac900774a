"""Tests for the ``event_xml`` format (Windows events as ``wevtutil qe /f:xml`` prints them).

No real ``wevtutil`` export is in the corpora. Files are built in code: events with
`build_event` (after Microsoft's event pages), and every EVTX sample of the corpora converted to
Event XML with the ``evtx`` package's own XML rendering, laid out as ``wevtutil`` writes it
(no declaration, one event a line), which must give the rows the ``evtx`` format gives.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import Any

import pytest
from evtx import PyEvtxParser

from breachscope.formats import _windows_events, event_xml
from breachscope.formats.base import REGISTRY, EvidenceItem, Problem, Row
from breachscope.formats.event_xml import WindowsEventXml
from breachscope.formats.evtx import EvtxFile
from breachscope.schema import TABLES
from tests.conftest import make_item, read_all
from tests.formats.test__windows_events import (
    AUDIT_FAILURE,
    LOG_CLEARED_1102,
    LOGON_4624,
    LOGON_4625,
    PROCESS_4688,
    SYSMON,
    SYSMON_1,
    build_event,
)

READER = WindowsEventXml()
NS = _windows_events.EVENT_NS
CORPUS_SECONDS = 60
DECLARATION = re.compile(r"<\?xml[^>]*\?>")
# The evtx package indents its XML, also inside empty elements; wevtutil writes none. Indents
# are a line end and spaces (a value of one bare line end stays, as in plaso's System.evtx).
PRETTY_PRINTING = re.compile(r">\n(?: +(?=<)|(?=</Event>))")
# Characters XML 1.0 does not allow (section 2.2): a record holding one cannot be exported.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def sample_events() -> list[str]:
    """4624, 4625, 4688, Sysmon 1 and 1102, as five ``wevtutil`` lines."""
    return [
        build_event(4624, LOGON_4624, record_id=101),
        build_event(4625, LOGON_4625, record_id=102, keywords=AUDIT_FAILURE),
        build_event(4688, PROCESS_4688, record_id=103),
        build_event(1, SYSMON_1, provider=SYSMON, channel="Microsoft-Windows-Sysmon/Operational"),
        build_event(1102, provider="Microsoft-Windows-Eventlog", payload=LOG_CLEARED_1102),
    ]


def xml_item(
    tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "security.xml", **fields: Any
) -> EvidenceItem:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return make_item(path, **fields)


def read_text(tmp_path: Path, text: str, **fields: Any) -> tuple[list[Row], list[Problem]]:
    return read_all(READER, xml_item(tmp_path, text, **fields))


def tables(rows: Iterable[Row]) -> list[tuple[str, str]]:
    return [(row.table, row.values["record"]) for row in rows]


def without_record(rows: Iterable[Row]) -> list[tuple[str, dict[str, Any]]]:
    return [(row.table, {k: v for k, v in row.values.items() if k != "record"}) for row in rows]


# --- declaration and sniffing ----------------------------------------------------------------


def test_registered_with_its_declaration() -> None:
    assert REGISTRY["event_xml"] is WindowsEventXml
    assert (WindowsEventXml.name, WindowsEventXml.version) == ("event_xml", "1")
    assert WindowsEventXml.sniff_priority == 35
    assert WindowsEventXml.tables == EvtxFile.tables
    assert set(WindowsEventXml.tables) <= set(TABLES)
    assert event_xml.__doc__ and "wevtutil" in event_xml.__doc__


@pytest.mark.parametrize(
    "text",
    [
        f"<Event xmlns='{NS}'><System>",
        f'<Event xmlns="{NS}">',
        f"\ufeff<Event xmlns='{NS}'><System>",
        f"\r\n  <Event xmlns='{NS}'>",
        f"<?xml version='1.0' encoding='utf-8'?>\n<Event xmlns='{NS}'>",
        f"<Events><Event xmlns='{NS}'><System>",
        f"<?xml version='1.0'?><!-- exported --><Events>\n<Event xmlns='{NS}'>",
    ],
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le"])
def test_sniff_knows_wevtutil_output(text: str, encoding: str) -> None:
    assert READER.sniff(text.encode(encoding)[:8192], PurePath("export.txt"))


def test_sniff_on_a_head_cut_in_the_middle_of_a_long_event() -> None:
    head = "\n".join(sample_events()).encode("utf-16")[:301]
    assert READER.sniff(head, PurePath("export.xml"))


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"<Event><System><EventID>4624</EventID></System></Event>",  # no events namespace
        b"<Event xmlns='urn:something-else'>",
        f"<html><body><Event xmlns='{NS}'>".encode(),  # events only inside another document
        f"<Events></Events> then text <Event xmlns='{NS}'>".encode(),
        b"<?xml version='1.0'?><rss version='2.0'><channel>",
        b"ElfFile\x00" + bytes(120),
        b"Mar  4 10:00:00 web01 sshd[100]: Accepted password for root from 1.2.3.4 port 22",
        bytes(range(256)),
    ],
)
def test_sniff_refuses_what_is_not_event_xml(head: bytes) -> None:
    assert not READER.sniff(head, PurePath("export.xml"))


# --- events built in code --------------------------------------------------------------------


def test_typed_rows_of_wevtutil_lines(tmp_path: Path) -> None:
    rows, problems = read_text(tmp_path, "\n".join(sample_events()) + "\n", system="corp-ad")
    assert problems == []
    assert tables(rows) == [
        ("win_events", "xml:1"),
        ("logons", "xml:1"),
        ("win_events", "xml:2"),
        ("logons", "xml:2"),
        ("win_events", "xml:3"),
        ("processes", "xml:3"),
        ("win_events", "xml:4"),
        ("processes", "xml:4"),
        ("win_events", "xml:5"),
    ]
    success, failure = (row.values for row in rows if row.table == "logons")
    assert (success["outcome"], success["account"]) == ("success", "EXSPACE\\TYamada")
    assert (success["session_id"], success["src_ip"]) == ("0x8dcdc", "10.20.4.99")
    assert (failure["outcome"], failure["method"]) == ("failure", "ntlm")
    assert failure["reason"] == "0xc000006a STATUS_WRONG_PASSWORD"
    cmd, sysmon = (row.values for row in rows if row.table == "processes")
    assert (cmd["pid"], cmd["image"]) == (0x1A2C, "C:\\Windows\\System32\\cmd.exe")
    assert sysmon["sha256"].startswith("9f86d081")
    cleared = rows[-1].values
    assert (cleared["event_id"], cleared["channel"]) == (1102, "Security")
    assert cleared["provider"] == "Microsoft-Windows-Eventlog"
    assert [r.values["record_id"] for r in rows if r.table == "win_events"][:3] == [101, 102, 103]
    assert all(r.values["system"] == "corp-ad" for r in rows)


def test_wrapped_pretty_printed_and_declared_events_read_alike(tmp_path: Path) -> None:
    plain, _ = read_text(tmp_path, "\n".join(sample_events()))
    pretty = "\n".join(
        "<?xml version='1.0' encoding='utf-8'?>\n" + xml.replace("><", ">\n  <")
        for xml in sample_events()
    )
    wrapped = "<?xml version='1.0'?>\r\n<Events>\r\n" + "\r\n".join(sample_events()) + "</Events>"
    for text in (pretty, wrapped, "".join(sample_events())):
        rows, problems = read_text(tmp_path, text)
        assert problems == []
        assert rows == plain


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_byte_order_marks_and_utf16_exports(tmp_path: Path, encoding: str) -> None:
    events = sample_events()
    events[0] = events[0].replace("TYamada", "山田太郎")
    plain, _ = read_text(tmp_path, "\n".join(events))
    rows, problems = read_all(READER, xml_item(tmp_path, "\n".join(events), encoding, "u.xml"))
    assert problems == []
    assert rows == plain
    assert rows[0].values["account"] == "EXSPACE\\山田太郎"


def test_events_split_across_reads_are_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = sample_events()
    events[0] = events[0].replace("TYamada", "山田太郎")
    text = "\n".join(events) + "\n"
    expected, _ = read_text(tmp_path, text)
    monkeypatch.setattr(event_xml, "READ_BYTES", 7)
    for encoding in ("utf-8", "utf-16"):
        rows, problems = read_all(READER, xml_item(tmp_path, text, encoding, "s.xml"))
        assert problems == []
        assert rows == expected


def test_an_event_with_a_dtd_or_entity_is_refused_and_the_next_is_read(tmp_path: Path) -> None:
    first, second = sample_events()[:2]
    entity = "<!DOCTYPE Event [<!ENTITY who 'Administrator'>]>" + first.replace("TYamada", "&who;")
    external = '<!DOCTYPE Event SYSTEM "http://attacker.example/x.dtd">' + first
    laughs = (
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        + first.replace("TYamada", "&lol2;")
    )
    text = "\n".join([first, entity, external, laughs, second])
    rows, problems = read_text(tmp_path, text)
    assert [(p.record, p.severity) for p in problems] == [
        ("xml:2", "error"),
        ("xml:3", "error"),
        ("xml:4", "error"),
    ]
    assert all("refused" in p.message for p in problems)
    assert sorted({record for _, record in tables(rows)}) == ["xml:1", "xml:5"]
    assert not any("Administrator" in str(row.values) for row in rows)


def test_an_undeclared_entity_is_not_well_formed(tmp_path: Path) -> None:
    first = sample_events()[0]
    rows, problems = read_text(tmp_path, first.replace("TYamada", "&who;") + "\n" + first)
    assert [p.record for p in problems] == ["xml:1"]
    assert {record for _, record in tables(rows)} == {"xml:2"}


def test_a_truncated_last_event_is_an_error(tmp_path: Path) -> None:
    events = sample_events()
    text = "\n".join(events[:2]) + "\n" + events[2][: len(events[2]) // 2]
    rows, problems = read_text(tmp_path, text)
    assert [(p.record, p.severity) for p in problems] == [("xml:3", "error")]
    assert "truncated" in problems[0].message
    assert {record for _, record in tables(rows)} == {"xml:1", "xml:2"}


def test_broken_events_are_errors_and_the_others_are_read(tmp_path: Path) -> None:
    first, second, third = sample_events()[:3]
    broken = first.replace("</System>", "")  # not well-formed
    not_an_event = f"<Event xmlns='{NS}'><EventData/></Event>"  # no System
    no_time = re.sub(r"<TimeCreated[^>]*/>", "", second)
    text = "\n".join([broken, first, not_an_event, no_time, third])
    rows, problems = read_text(tmp_path, text)
    assert [p.record for p in problems] == ["xml:1", "xml:3", "xml:4"]
    assert "well-formed" in problems[0].message
    assert "System" in problems[1].message and "TimeCreated" in problems[2].message
    assert {record for _, record in tables(rows)} == {"xml:2", "xml:5"}


def test_an_over_long_event_is_skipped_without_holding_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_xml, "MAX_EVENT_CHARS", 5000)
    monkeypatch.setattr(event_xml, "READ_BYTES", 1000)
    first, second = sample_events()[:2]
    huge = build_event(4688, {**PROCESS_4688, "CommandLine": "A" * 50_000})
    rows, problems = read_text(tmp_path, "\n".join([first, huge, second]))
    assert [(p.record, p.severity) for p in problems] == [("xml:2", "error")]
    assert {record for _, record in tables(rows)} == {"xml:1", "xml:3"}


def test_an_end_tag_with_white_space_and_rendering_info(tmp_path: Path) -> None:
    plain, _ = read_text(tmp_path, sample_events()[0])
    rendered = sample_events()[0].replace(
        "</Event>",
        "<RenderingInfo Culture='ja-JP'><Message>アカウントが正常にログオンしました。</Message>"
        "<Level>情報</Level></RenderingInfo></Event\n>",
    )
    rows, problems = read_text(tmp_path, rendered)
    assert problems == []
    assert rows == plain


def test_hostile_trees_and_times_are_errors_and_the_next_event_is_read(tmp_path: Path) -> None:
    first, second = sample_events()[:2]
    deep = "<UserData>" + "<a>" * 200 + "x" + "</a>" * 200 + "</UserData>"
    nested = build_event(4624, payload=deep)
    late = build_event(4624, LOGON_4624, time="9999-12-31T23:59:59Z")
    rows, problems = read_text(tmp_path, "\n".join([nested, late, first, second]), clock_offset=60)
    assert [(p.record, p.severity) for p in problems] == [("xml:1", "error"), ("xml:2", "error")]
    assert "nested" in problems[0].message and "out of range" in problems[1].message
    assert {record for _, record in tables(rows)} == {"xml:3", "xml:4"}


@pytest.mark.parametrize("text", ["", "\n\n", "<Events>\n</Events>\n", "\ufeff"])
def test_an_export_without_events_has_no_rows(tmp_path: Path, text: str) -> None:
    assert read_text(tmp_path, text) == ([], [])


# --- the same events from EVTX and from Event XML --------------------------------------------


def wevtutil_layout(path: Path) -> tuple[str, int]:
    """The records of an EVTX file as ``wevtutil qe /f:xml`` lays them out, from the evtx
    package's XML rendering; and how many hold characters XML 1.0 forbids."""
    lines = []
    unexportable = 0
    for record in PyEvtxParser(str(path)).records():
        xml = PRETTY_PRINTING.sub(">", DECLARATION.sub("", record["data"])).strip()
        unexportable += NOT_XML.search(xml) is not None
        lines.append(xml)
    return "\n".join(lines) + "\n", unexportable


def by_record(rows: list[Row]) -> list[list[Row]]:
    """Rows grouped by their event (a ``win_events`` row starts each group)."""
    groups: list[list[Row]] = []
    for row in rows:
        if row.table == "win_events":
            groups.append([])
        groups[-1].append(row)
    return groups


@pytest.mark.corpus
def test_every_evtx_sample_as_event_xml_gives_the_same_rows(corpora: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    files = sorted(p for p in (corpora / "evtx-attack-samples").rglob("*") if p.is_file())
    files += sorted((corpora / "plaso" / "evtx").glob("*.evtx"))
    compared = typed = refused = 0
    for path in files:
        text, unexportable = wevtutil_layout(path)
        fields: dict[str, Any] = {"system": "corp-ad", "clock_offset": 2.5}
        evtx_rows, _ = read_all(EvtxFile(), make_item(path, **fields))
        xml_rows, problems = read_all(READER, xml_item(tmp_path, text, "utf-8", "x.xml", **fields))
        assert len(problems) == unexportable, path
        failed = {p.record for p in problems}
        expected = by_record(evtx_rows)
        got = iter(by_record(xml_rows))
        for number, group in enumerate(expected, 1):
            if f"xml:{number}" in failed:
                refused += 1
                continue
            mine = next(got)
            assert {row.values["record"] for row in mine} == {f"xml:{number}"}
            assert without_record(mine) == without_record(group), (path, number)
            compared += 1
            typed += len(group) - 1
        assert next(got, None) is None
    assert compared > 13_000 and typed > 1_500
    assert refused == 20  # dicovery_4661...: a PrivilegeList with a control character
    assert time.monotonic() - started < CORPUS_SECONDS
