"""Tests for the Windows event mapping shared by ``evtx`` and ``event_xml``.

Events are built in code as the XML ``wevtutil qe /f:xml`` prints (`build_event`, also used by
``test_event_xml``), with field names and values as Microsoft's event pages show them; the
real samples are read by the format tests.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeElementTree
import pyarrow as pa
import pytest

from breachscope.formats import _windows_events as windows
from breachscope.formats._windows_events import (
    EVENT_NS,
    EventError,
    Node,
    WinEvent,
    event_rows,
    flatten_data,
    node_from_element,
    node_from_json,
    parse_event,
)
from breachscope.formats.base import EvidenceItem, Row
from breachscope.identity import Realms
from breachscope.schema import TABLES, columns

UTC = dt.UTC
SECURITY = "Microsoft-Windows-Security-Auditing"
SYSMON = "Microsoft-Windows-Sysmon"
AUDIT_SUCCESS = "0x8020000000000000"
AUDIT_FAILURE = "0x8010000000000000"

# EventData of the events under test, after the examples on Microsoft's event pages.
LOGON_4624: dict[str, str] = {
    "SubjectUserSid": "S-1-5-18",
    "SubjectUserName": "WS-0423$",
    "SubjectDomainName": "EXSPACE",
    "SubjectLogonId": "0x3e7",
    "TargetUserSid": "S-1-5-21-1377283216-344919071-3415362939-1104",
    "TargetUserName": "TYamada",
    "TargetDomainName": "EXSPACE",
    "TargetLogonId": "0x8dcdc",
    "LogonType": "10",
    "LogonProcessName": "User32 ",
    "AuthenticationPackageName": "Negotiate",
    "WorkstationName": "WS-0423",
    "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
    "TransmittedServices": "-",
    "LmPackageName": "-",
    "KeyLength": "0",
    "ProcessId": "0x44c",
    "ProcessName": "C:\\Windows\\System32\\svchost.exe",
    "IpAddress": "10.20.4.99",
    "IpPort": "49420",
    "ImpersonationLevel": "%%1833",
}
LOGON_4625: dict[str, str] = {
    "SubjectUserSid": "S-1-0-0",
    "SubjectUserName": "-",
    "SubjectDomainName": "-",
    "SubjectLogonId": "0x0",
    "TargetUserSid": "S-1-0-0",
    "TargetUserName": "tyamada",
    "TargetDomainName": "EXSPACE",
    "Status": "0xc000006d",
    "FailureReason": "%%2313",
    "SubStatus": "0xc000006a",
    "LogonType": "3",
    "LogonProcessName": "NtLmSsp ",
    "AuthenticationPackageName": "NTLM",
    "WorkstationName": "KALI",
    "TransmittedServices": "-",
    "LmPackageName": "-",
    "KeyLength": "0",
    "ProcessId": "0x0",
    "ProcessName": "-",
    "IpAddress": "203.0.113.7",
    "IpPort": "50134",
}
PROCESS_4688: dict[str, str] = {
    "SubjectUserSid": "S-1-5-21-1377283216-344919071-3415362939-1104",
    "SubjectUserName": "tyamada",
    "SubjectDomainName": "EXSPACE",
    "SubjectLogonId": "0x8dcdc",
    "NewProcessId": "0x1a2c",
    "NewProcessName": "C:\\Windows\\System32\\cmd.exe",
    "TokenElevationType": "%%1938",
    "ProcessId": "0x1b0",
    "CommandLine": 'cmd.exe /c "whoami /all"',
    "TargetUserSid": "S-1-0-0",
    "TargetUserName": "-",
    "TargetDomainName": "-",
    "TargetLogonId": "0x0",
    "ParentProcessName": "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
    "MandatoryLabel": "S-1-16-8192",
}
SYSMON_1: dict[str, str] = {
    "RuleName": "-",
    "UtcTime": "2024-05-01 09:00:00.123",
    "ProcessGuid": "{5770385f-c22a-5c3c-0000-00104e9a0000}",
    "ProcessId": "6700",
    "Image": "C:\\Users\\tyamada\\AppData\\Local\\Temp\\invoice.exe",
    "FileVersion": "-",
    "CommandLine": "C:\\Users\\tyamada\\AppData\\Local\\Temp\\invoice.exe -k",
    "CurrentDirectory": "C:\\Users\\tyamada\\",
    "User": "EXSPACE\\tyamada",
    "LogonGuid": "{5770385f-c22a-5c3c-0000-0020e5c70000}",
    "LogonId": "0x8dcdc",
    "TerminalSessionId": "1",
    "IntegrityLevel": "Medium",
    "Hashes": "SHA1=0DF4B8A2C1E0D1C1E0D1C1E0D1C1E0D1C1E0D1C1,MD5=0123456789ABCDEF0123456789ABCDEF,"
    "SHA256=9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08,"
    "IMPHASH=00000000000000000000000000000000",
    "ParentProcessGuid": "{5770385f-c22a-5c3c-0000-00104e9a0001}",
    "ParentProcessId": "5120",
    "ParentImage": "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
    "ParentCommandLine": '"WINWORD.EXE" /n "C:\\Users\\tyamada\\Downloads\\invoice.doc"',
}
SYSMON_3: dict[str, str] = {
    "RuleName": "-",
    "UtcTime": "2024-05-01 09:00:05.000",
    "ProcessGuid": "{5770385f-c22a-5c3c-0000-00104e9a0000}",
    "ProcessId": "6700",
    "Image": "C:\\Users\\tyamada\\AppData\\Local\\Temp\\invoice.exe",
    "User": "EXSPACE\\tyamada",
    "Protocol": "tcp",
    "Initiated": "true",
    "SourceIsIpv6": "false",
    "SourceIp": "10.20.4.23",
    "SourceHostname": "WS-0423.example-space.jp",
    "SourcePort": "50001",
    "SourcePortName": "-",
    "DestinationIsIpv6": "false",
    "DestinationIp": "198.51.100.20",
    "DestinationHostname": "update-check.example.net",
    "DestinationPort": "443",
    "DestinationPortName": "https",
}
LOG_CLEARED_1102 = (
    "<UserData><LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/"
    "eventlog'><SubjectUserSid>S-1-5-21-1-2-3-500</SubjectUserSid><SubjectUserName>"
    "Administrator</SubjectUserName><SubjectDomainName>EXSPACE</SubjectDomainName>"
    "<SubjectLogonId>0x3a17a</SubjectLogonId></LogFileCleared></UserData>"
)


def build_event(
    event_id: int,
    data: Mapping[str, str | None] | None = None,
    *,
    provider: str = SECURITY,
    channel: str = "Security",
    computer: str = "WS-0423.example-space.jp",
    time: str = "2024-05-01T09:00:00.1234567Z",
    record_id: int = 1,
    keywords: str = AUDIT_SUCCESS,
    payload: str | None = None,
) -> str:
    """One ``<Event>`` as ``wevtutil qe /f:xml`` prints it (one line, single quotes).

    ``data`` becomes ``<EventData>`` of named ``<Data>``; ``payload`` replaces it verbatim
    (``<UserData>...``).
    """
    if payload is None:
        items = "".join(
            f"<Data Name={quoteattr(name)}/>"
            if value is None
            else f"<Data Name={quoteattr(name)}>{escape(value)}</Data>"
            for name, value in (data or {}).items()
        )
        payload = f"<EventData>{items}</EventData>"
    return (
        f"<Event xmlns='{EVENT_NS}'><System><Provider Name='{provider}' "
        "Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/>"
        f"<EventID>{event_id}</EventID><Version>2</Version><Level>0</Level><Task>12544</Task>"
        f"<Opcode>0</Opcode><Keywords>{keywords}</Keywords><TimeCreated SystemTime='{time}'/>"
        f"<EventRecordID>{record_id}</EventRecordID><Correlation/>"
        "<Execution ProcessID='636' ThreadID='1320'/>"
        f"<Channel>{escape(channel)}</Channel><Computer>{escape(computer)}</Computer>"
        "<Security/></System>"
        f"{payload}</Event>"
    )


def item(**fields: Any) -> EvidenceItem:
    """An evidence item that is never opened (the mapping only reads its fields)."""
    return EvidenceItem(path=Path("events"), rel_path="events", evidence_id="sha256:0", **fields)


def parsed(xml: str) -> WinEvent:
    return parse_event(node_from_element(SafeElementTree.fromstring(xml, forbid_dtd=True)))


def rows_of(xml: str, **fields: Any) -> list[Row]:
    return event_rows(parsed(xml), item(**fields), "xml:1")


def table(rows: list[Row], name: str) -> list[dict[str, Any]]:
    return [row.values for row in rows if row.table == name]


def only(rows: list[Row], name: str) -> dict[str, Any]:
    found = table(rows, name)
    assert len(found) == 1, f"expected one {name} row, got {len(found)}"
    return found[0]


T0 = dt.datetime(2024, 5, 1, 9, 0, 0, 123456, tzinfo=UTC)


# --- trees: the JSON of the evtx package and XML give the same tree ---------------------------


def test_json_and_xml_of_one_event_give_the_same_event() -> None:
    xml = (
        f'<Event xmlns="{EVENT_NS}"><System><Provider Name="Service Control Manager"/>'
        '<EventID Qualifiers="16384">7045</EventID><Keywords>0x8080000000000000</Keywords>'
        '<TimeCreated SystemTime="2019-03-19T17:06:22.908086Z"/>'
        "<EventRecordID>42</EventRecordID><Channel>System</Channel><Computer>PC01</Computer>"
        "</System><EventData><Data Name='ServiceName'>evil</Data><Data Name='Empty'></Data>"
        "<Data Name='Count'>3</Data><Data Name='Flag'>true</Data><Data>unnamed one</Data>"
        "<Data>unnamed two</Data><Binary>00FF</Binary>"
        "<ComplexData Name='IdleState'>01</ComplexData><ComplexData Name='PerfState'/>"
        "</EventData></Event>"
    )
    rendered = {
        "#attributes": {"xmlns": EVENT_NS},
        "System": {
            "Provider": {"#attributes": {"Name": "Service Control Manager"}},
            "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045},
            "Keywords": "0x8080000000000000",
            "TimeCreated": {"#attributes": {"SystemTime": "2019-03-19T17:06:22.908086Z"}},
            "EventRecordID": 42,
            "Channel": "System",
            "Computer": "PC01",
        },
        "EventData": {
            "ServiceName": "evil",
            "Empty": "",
            "Count": 3,
            "Flag": True,
            "Data": {"#text": ["unnamed one", "unnamed two"]},
            "Binary": "00FF",
            "ComplexData": {"#attributes": {"Name": "IdleState"}, "#text": "01"},
            "ComplexData_1": {"#attributes": {"Name": "PerfState"}},
        },
    }
    (tree,) = node_from_json("Event", rendered)
    from_json, from_xml = parse_event(tree), parsed(xml)
    assert from_json == from_xml
    assert from_xml.data == {
        "ServiceName": "evil",
        "Empty": None,
        "Count": "3",
        "Flag": "true",
        "Data[1]": "unnamed one",
        "Data[2]": "unnamed two",
        "Binary": "00FF",
        "IdleState": "01",
        "PerfState": None,
    }
    assert (from_xml.event_id, from_xml.record_id, from_xml.channel) == (7045, 42, "System")
    assert from_xml.provider == "Service Control Manager"
    assert from_xml.keywords == 0x8080000000000000


def test_user_data_is_keyed_below_its_wrapper_and_nested_elements_by_path() -> None:
    payload = (
        "<UserData><EventXML xmlns='Event_NS'><Param1>one</Param1>"
        "<Outer><Inner>deep</Inner><Inner>deeper</Inner></Outer></EventXML></UserData>"
    )
    event = parsed(build_event(1149, payload=payload, provider="X", channel="Y"))
    assert event.data == {"Param1": "one", "Outer.Inner[1]": "deep", "Outer.Inner[2]": "deeper"}


def test_processing_error_data_is_data_and_rendering_info_is_not() -> None:
    payload = (
        "<ProcessingErrorData><ErrorCode>15005</ErrorCode><DataItemName>shellId</DataItemName>"
        "</ProcessingErrorData><RenderingInfo Culture='en-US'><Message>Shell started"
        "</Message></RenderingInfo>"
    )
    event = parsed(build_event(91, payload=payload, provider="Microsoft-Windows-WinRM"))
    assert event.data == {"ErrorCode": "15005", "DataItemName": "shellId"}


def test_values_have_lf_line_ends_and_no_lone_surrogates() -> None:
    (tree,) = node_from_json(
        "Event",
        {
            "System": {
                "EventID": 4661,
                "TimeCreated": {"#attributes": {"SystemTime": "2019-01-01T00:00:00Z"}},
            },
            "EventData": {"AccessList": "%%1538\r\n\t%%5394\r\n", "Odd": "\ud800x"},
        },
    )
    assert flatten_data(tree) == {"AccessList": "%%1538\n\t%%5394\n", "Odd": "\ufffdx"}


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (Node("Events"), "not <Event>"),
        (Node("Event"), "no <System>"),
        (Node("Event", children=(Node("System"),)), "EventID"),
        (
            Node("Event", children=(Node("System", children=(Node("EventID", text="x"),)),)),
            "EventID",
        ),
        (
            Node("Event", children=(Node("System", children=(Node("EventID", text="1"),)),)),
            "TimeCreated",
        ),
    ],
)
def test_a_tree_that_is_not_an_event_is_an_error(tree: Node, message: str) -> None:
    with pytest.raises(EventError, match=message):
        parse_event(tree)


def test_the_record_header_time_stands_in_for_a_missing_time_created() -> None:
    tree = Node("Event", children=(Node("System", children=(Node("EventID", text="1"),)),))
    event = parse_event(tree, "2020-07-22 20:29:27.321769 UTC")
    assert event.time == dt.datetime(2020, 7, 22, 20, 29, 27, 321769, tzinfo=UTC)


def test_a_time_pushed_out_of_range_by_the_clock_offset_is_an_error() -> None:
    event = parsed(build_event(4624, LOGON_4624, time="9999-12-31T23:59:59.9Z"))
    with pytest.raises(EventError, match="out of range"):
        event_rows(event, item(clock_offset=3600), "xml:1")


def test_numbers_beyond_int64_are_not_numbers() -> None:
    rows = rows_of(build_event(4688, {**PROCESS_4688, "NewProcessId": "0x" + "f" * 17}))
    assert only(rows, "processes")["pid"] is None
    with pytest.raises(EventError, match="EventID"):
        parsed(build_event(2**64, LOGON_4624))


def test_too_deep_trees_are_refused() -> None:
    value: Any = "x"
    for _ in range(windows.MAX_DEPTH + 2):
        value = {"Child": value}
    with pytest.raises(EventError, match="nested deeper"):
        node_from_json("Event", value)


# --- win_events: every event -----------------------------------------------------------------


def test_every_event_gives_a_win_events_row() -> None:
    rows = rows_of(build_event(4624, LOGON_4624, record_id=887106), system="corp-ad")
    assert rows[0].table == "win_events"
    row = only(rows, "win_events")
    assert row == {
        "time": T0,
        "host": "WS-0423.example-space.jp",
        "channel": "Security",
        "provider": SECURITY,
        "event_id": 4624,
        "record_id": 887106,
        "account": "EXSPACE\\TYamada",
        "data": json.dumps(LOGON_4624, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
        "system": "corp-ad",
        "record": "xml:1",
    }
    assert list(json.loads(row["data"])) == sorted(LOGON_4624)


def test_the_item_host_wins_over_computer_and_the_clock_offset_is_added() -> None:
    rows = rows_of(build_event(4624, LOGON_4624), host="ws-0423", clock_offset=-90)
    for row in rows:
        assert row.values["host"] == "ws-0423"
        assert row.values["time"] == T0 - dt.timedelta(seconds=90)
    assert only(rows, "logons")["dst_host"] == "WS-0423.example-space.jp"


@pytest.mark.parametrize(
    ("event_id", "data", "account"),
    [
        (4624, LOGON_4624, "EXSPACE\\TYamada"),
        (4688, PROCESS_4688, "EXSPACE\\tyamada"),  # target "-": the subject
        (1, SYSMON_1, "EXSPACE\\tyamada"),  # Sysmon's User
        (4776, {"TargetUserName": "tyamada", "Workstation": "WS-0423"}, "tyamada"),
        (4740, {"TargetUserName": "tyamada", "TargetDomainName": "KALI"}, "tyamada"),
        (7036, {"param1": "Windows Update", "param2": "running"}, None),
    ],
)
def test_the_main_account_of_an_event(
    event_id: int, data: dict[str, str], account: str | None
) -> None:
    provider = SYSMON if event_id == 1 else SECURITY
    row = only(rows_of(build_event(event_id, data, provider=provider)), "win_events")
    assert row["account"] == account


@pytest.mark.parametrize(
    ("event_id", "provider", "channel", "payload"),
    [
        (1102, "Microsoft-Windows-Eventlog", "Security", LOG_CLEARED_1102),
        (104, "Microsoft-Windows-Eventlog", "System", LOG_CLEARED_1102),
    ],
)
def test_log_cleared_events_are_only_win_events_with_channel_and_provider(
    event_id: int, provider: str, channel: str, payload: str
) -> None:
    rows = rows_of(build_event(event_id, provider=provider, channel=channel, payload=payload))
    assert [row.table for row in rows] == ["win_events"]
    row = rows[0].values
    assert (row["event_id"], row["channel"], row["provider"]) == (event_id, channel, provider)
    assert row["account"] == "EXSPACE\\Administrator"
    assert json.loads(row["data"])["SubjectLogonId"] == "0x3a17a"


# --- logons ----------------------------------------------------------------------------------


def test_4624_is_a_successful_logon() -> None:
    realms = Realms(netbios={"exspace": "example-space.jp"})
    row = only(rows_of(build_event(4624, LOGON_4624), realms=realms, system="corp-ad"), "logons")
    assert row == {
        "time": T0,
        "system": "corp-ad",
        "host": "WS-0423.example-space.jp",
        "account": "EXSPACE\\TYamada",
        "account_key": "tyamada@example-space.jp",
        "outcome": "success",
        "src_ip": "10.20.4.99",
        "src_host": "WS-0423",
        "dst_host": "WS-0423.example-space.jp",
        "method": "negotiate",
        "logon_type": "10",
        "session_id": "0x8dcdc",
        "end_time": None,
        "reason": None,
        "record": "xml:1",
    }


def test_4625_is_a_failed_logon_with_its_status() -> None:
    row = only(rows_of(build_event(4625, LOGON_4625, keywords=AUDIT_FAILURE)), "logons")
    assert row["outcome"] == "failure"
    assert row["method"] == "ntlm"
    assert (row["src_ip"], row["src_host"], row["logon_type"]) == ("203.0.113.7", "KALI", "3")
    assert row["reason"] == "0xc000006a STATUS_WRONG_PASSWORD"
    assert row["session_id"] is None
    assert row["account_key"] == "tyamada@exspace"


def test_a_local_account_keeps_its_host() -> None:
    data = {**LOGON_4624, "TargetDomainName": "WS-0423"}
    assert only(rows_of(build_event(4624, data)), "logons")["account_key"] == "ws-0423\\tyamada"


@pytest.mark.parametrize(
    ("fields", "method"),
    [
        ({"AuthenticationPackageName": "NTLM", "LmPackageName": "NTLM V2"}, "ntlm"),
        ({"AuthenticationPackageName": "Negotiate", "LmPackageName": "NTLM V1"}, "ntlm"),
        ({"AuthenticationPackageName": "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0"}, "ntlm"),
        ({"AuthenticationPackageName": "Kerberos"}, "kerberos"),
        ({"AuthenticationPackageName": "Negotiate"}, "negotiate"),
        ({"AuthenticationPackageName": "-", "LogonProcessName": "Advapi  "}, "advapi"),
        ({"AuthenticationPackageName": "-", "LogonProcessName": "-"}, None),
    ],
)
def test_the_logon_method(fields: dict[str, str], method: str | None) -> None:
    data = {**LOGON_4624, "LmPackageName": "-", **fields}
    assert only(rows_of(build_event(4624, data)), "logons")["method"] == method


@pytest.mark.parametrize(
    ("address", "expected"),
    [("-", None), ("", None), ("::1", "::1"), ("127.0.0.1", "127.0.0.1"),
     ("::ffff:10.20.4.99", "10.20.4.99"), ("fe80::1", "fe80::1"), ("junk", "junk")],
)  # fmt: skip
def test_the_source_address(address: str, expected: str | None) -> None:
    row = only(rows_of(build_event(4624, {**LOGON_4624, "IpAddress": address})), "logons")
    assert row["src_ip"] == expected


@pytest.mark.parametrize(
    "fields",
    [
        {"TargetUserName": "WS-0423$"},  # machine account
        {"TargetUserName": "ANONYMOUS LOGON", "TargetDomainName": "NT AUTHORITY"},
        {"TargetUserName": "SYSTEM", "TargetDomainName": "NT AUTHORITY", "LogonType": "2"},
        {"TargetUserName": "DWM-1", "TargetDomainName": "Window Manager", "LogonType": "2"},
        {"TargetUserName": "UMFD-0", "TargetDomainName": "Font Driver Host"},
        {"TargetUserName": "-", "TargetDomainName": "-"},
        {"LogonType": "5"},  # service
        {"LogonType": "0"},  # system
    ],
)
def test_what_is_not_a_credential_gives_no_logon_row(fields: dict[str, str]) -> None:
    rows = rows_of(build_event(4624, {**LOGON_4624, **fields}))
    assert [row.table for row in rows] == ["win_events"]


@pytest.mark.parametrize("event_id", [4634, 4647])
def test_a_logoff_is_a_logons_row_that_carries_the_session_end(event_id: int) -> None:
    data = {
        "TargetUserSid": "S-1-5-21-1-2-3-1104",
        "TargetUserName": "tyamada",
        "TargetDomainName": "EXSPACE",
        "TargetLogonId": "0x8dcdc",
    }
    if event_id == 4634:
        data["LogonType"] = "10"
    row = only(rows_of(build_event(event_id, data)), "logons")
    assert row["outcome"] == "logoff"
    assert row["session_id"] == "0x8dcdc"
    assert row["time"] == row["end_time"] == T0
    assert row["method"] is None


def test_4648_is_the_use_of_explicit_credentials_on_the_source_host() -> None:
    data = {
        "SubjectUserSid": "S-1-5-21-1-2-3-1104",
        "SubjectUserName": "tyamada",
        "SubjectDomainName": "EXSPACE",
        "SubjectLogonId": "0x8dcdc",
        "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
        "TargetUserName": "adm-tyamada",
        "TargetDomainName": "EXSPACE",
        "TargetLogonGuid": "{00000000-0000-0000-0000-000000000000}",
        "TargetServerName": "fs01.example-space.jp",
        "TargetInfo": "fs01.example-space.jp",
        "ProcessId": "0x4",
        "ProcessName": "C:\\Windows\\System32\\runas.exe",
        "IpAddress": "-",
        "IpPort": "-",
    }
    row = only(rows_of(build_event(4648, data)), "logons")
    assert row["account"] == "EXSPACE\\adm-tyamada"
    assert (row["method"], row["outcome"]) == ("explicit_credentials", "success")
    assert row["host"] == row["src_host"] == "WS-0423.example-space.jp"
    assert row["dst_host"] == "fs01.example-space.jp"
    assert row["src_ip"] is None
    assert row["reason"] == "by EXSPACE\\tyamada via C:\\Windows\\System32\\runas.exe"


KERBEROS_4768 = {
    "TargetUserName": "tyamada",
    "TargetDomainName": "EXAMPLE-SPACE.JP",
    "TargetSid": "S-1-5-21-1-2-3-1104",
    "ServiceName": "krbtgt",
    "ServiceSid": "S-1-5-21-1-2-3-502",
    "TicketOptions": "0x40810010",
    "Status": "0x0",
    "TicketEncryptionType": "0x12",
    "PreAuthType": "2",
    "IpAddress": "::ffff:10.20.4.23",
    "IpPort": "49273",
}


@pytest.mark.parametrize(
    ("status", "outcome", "reason"),
    [
        ("0x0", "success", None),
        ("0x6", "failure", "0x6 KDC_ERR_C_PRINCIPAL_UNKNOWN"),
        ("0x12", "failure", "0x12 KDC_ERR_CLIENT_REVOKED"),
        ("0x3c", "failure", "0x3c"),
    ],
)
def test_4768_is_a_kerberos_logon_by_its_status(
    status: str, outcome: str, reason: str | None
) -> None:
    row = only(rows_of(build_event(4768, {**KERBEROS_4768, "Status": status})), "logons")
    assert (row["outcome"], row["method"], row["reason"]) == (outcome, "kerberos", reason)
    assert row["src_ip"] == "10.20.4.23"
    assert row["account"] == "EXAMPLE-SPACE.JP\\tyamada"
    assert row["account_key"] == "tyamada@example-space.jp"
    assert row["dst_host"] == "WS-0423.example-space.jp"


def test_4769_takes_a_qualified_user_as_it_is_and_the_service_computer() -> None:
    data = {
        "TargetUserName": "tyamada@EXAMPLE-SPACE.JP",
        "TargetDomainName": "EXAMPLE-SPACE.JP",
        "ServiceName": "FS01$",
        "ServiceSid": "S-1-5-21-1-2-3-1999",
        "TicketOptions": "0x40810000",
        "TicketEncryptionType": "0x12",
        "IpAddress": "::ffff:10.20.4.23",
        "IpPort": "49274",
        "Status": "0x0",
    }
    row = only(rows_of(build_event(4769, data)), "logons")
    assert row["account"] == "tyamada@EXAMPLE-SPACE.JP"
    assert row["account_key"] == "tyamada@example-space.jp"
    assert (row["outcome"], row["method"], row["dst_host"]) == ("success", "kerberos", "FS01")
    assert row["reason"] == "service FS01$"
    machine = {**data, "TargetUserName": "WS-0423$@EXAMPLE-SPACE.JP"}
    assert table(rows_of(build_event(4769, machine)), "logons") == []


def test_4771_is_a_kerberos_failure_in_the_realm_of_its_krbtgt() -> None:
    data = {
        "TargetUserName": "tyamada",
        "TargetSid": "S-1-5-21-1-2-3-1104",
        "ServiceName": "krbtgt/EXAMPLE-SPACE.JP",
        "TicketOptions": "0x10",
        "Status": "0x18",
        "PreAuthType": "2",
        "IpAddress": "::ffff:203.0.113.7",
        "IpPort": "55967",
    }
    rows = rows_of(build_event(4771, data, keywords=AUDIT_FAILURE))
    row = only(rows, "logons")
    assert (row["outcome"], row["method"]) == ("failure", "kerberos")
    assert row["account"] == "tyamada@EXAMPLE-SPACE.JP"
    assert row["account_key"] == "tyamada@example-space.jp"
    assert row["src_ip"] == "203.0.113.7"
    assert row["reason"] == "0x18 KDC_ERR_PREAUTH_FAILED"
    assert only(rows, "win_events")["account"] == "tyamada"
    bare = {**data, "ServiceName": "krbtgt"}
    assert only(rows_of(build_event(4771, bare)), "logons")["account"] == "tyamada"


@pytest.mark.parametrize(
    ("status", "outcome", "reason"),
    [("0x0", "success", None), ("0xc0000064", "failure", "0xc0000064 STATUS_NO_SUCH_USER")],
)
def test_4776_is_an_ntlm_validation(status: str, outcome: str, reason: str | None) -> None:
    data = {
        "PackageName": "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0",
        "TargetUserName": "tyamada",
        "Workstation": "\\\\KALI",
        "Status": status,
    }
    row = only(rows_of(build_event(4776, data)), "logons")
    assert (row["outcome"], row["method"], row["reason"]) == (outcome, "ntlm", reason)
    assert (row["account"], row["account_key"]) == ("tyamada", "tyamada")
    assert (row["src_host"], row["dst_host"]) == ("KALI", "WS-0423.example-space.jp")


def test_a_status_free_kerberos_event_takes_its_outcome_from_the_audit_keywords() -> None:
    data = {k: v for k, v in KERBEROS_4768.items() if k != "Status"}
    failed = only(rows_of(build_event(4768, data, keywords=AUDIT_FAILURE)), "logons")
    passed = only(rows_of(build_event(4768, data)), "logons")
    assert (failed["outcome"], passed["outcome"]) == ("failure", "success")


# --- credential changes ----------------------------------------------------------------------

CHANGE = {
    "TargetUserName": "tyamada",
    "TargetDomainName": "EXSPACE",
    "TargetSid": "S-1-5-21-1-2-3-1104",
    "SubjectUserSid": "S-1-5-21-1-2-3-500",
    "SubjectUserName": "Administrator",
    "SubjectDomainName": "EXSPACE",
    "SubjectLogonId": "0x3a17a",
}


@pytest.mark.parametrize(
    ("event_id", "kind"), [(4723, "changed"), (4724, "reset"), (4725, "disabled")]
)
def test_password_changes_resets_and_disabling(event_id: int, kind: str) -> None:
    row = only(rows_of(build_event(event_id, CHANGE), system="corp-ad"), "credential_changes")
    assert row == {
        "time": T0,
        "system": "corp-ad",
        "host": "WS-0423.example-space.jp",
        "account": "EXSPACE\\tyamada",
        "account_key": "tyamada@exspace",
        "kind": kind,
        "actor": "EXSPACE\\Administrator",
        "record": "xml:1",
    }


@pytest.mark.parametrize("event_id", [4723, 4724])
def test_a_failed_change_attempt_changed_nothing(event_id: int) -> None:
    rows = rows_of(build_event(event_id, CHANGE, keywords=AUDIT_FAILURE))
    assert table(rows, "credential_changes") == []


def test_a_lockout_names_the_bare_account_not_the_caller_computer() -> None:
    data = {**CHANGE, "TargetDomainName": "KALI", "SubjectUserName": "DC01$"}
    row = only(rows_of(build_event(4740, data)), "credential_changes")
    assert (row["account"], row["account_key"], row["kind"]) == ("tyamada", "tyamada", "locked_out")
    assert row["actor"] is None


def test_machine_account_resets_are_not_credential_changes() -> None:
    rows = rows_of(build_event(4724, {**CHANGE, "TargetUserName": "FS01$"}))
    assert table(rows, "credential_changes") == []


# --- processes and network -------------------------------------------------------------------


def test_4688_is_a_process_creation() -> None:
    row = only(rows_of(build_event(4688, PROCESS_4688), system="ws"), "processes")
    assert row == {
        "time": T0,
        "host": "WS-0423.example-space.jp",
        "user": "EXSPACE\\tyamada",
        "pid": 0x1A2C,
        "image": "C:\\Windows\\System32\\cmd.exe",
        "command_line": 'cmd.exe /c "whoami /all"',
        "parent_image": "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
        "sha256": None,
        "system": "ws",
        "record": "xml:1",
    }


def test_4688_runs_as_the_target_account_when_windows_names_one() -> None:
    data = {**PROCESS_4688, "TargetUserName": "adm-tyamada", "TargetDomainName": "EXSPACE"}
    assert only(rows_of(build_event(4688, data)), "processes")["user"] == "EXSPACE\\adm-tyamada"


def test_sysmon_1_is_a_process_creation_with_its_sha256() -> None:
    xml = build_event(1, SYSMON_1, provider=SYSMON, channel="Microsoft-Windows-Sysmon/Operational")
    row = only(rows_of(xml), "processes")
    assert row["pid"] == 6700
    assert row["user"] == "EXSPACE\\tyamada"
    assert row["image"] == "C:\\Users\\tyamada\\AppData\\Local\\Temp\\invoice.exe"
    assert row["parent_image"].endswith("WINWORD.EXE")
    assert row["command_line"].endswith("invoice.exe -k")
    assert row["sha256"] == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    without = {**SYSMON_1, "Hashes": "MD5=0123456789ABCDEF0123456789ABCDEF"}
    assert only(rows_of(build_event(1, without, provider=SYSMON)), "processes")["sha256"] is None


def test_sysmon_3_is_a_network_connection() -> None:
    row = only(rows_of(build_event(3, SYSMON_3, provider=SYSMON)), "network")
    assert row == {
        "time": T0,
        "host": "WS-0423.example-space.jp",
        "src_ip": "10.20.4.23",
        "dst_ip": "198.51.100.20",
        "dst_host": "update-check.example.net",
        "dst_port": 443,
        "user": "EXSPACE\\tyamada",
        "system": None,
        "record": "xml:1",
    }


@pytest.mark.parametrize("event_id", [1, 3, 4624])
def test_event_ids_of_other_providers_are_only_win_events(event_id: int) -> None:
    data = {**SYSMON_1, **SYSMON_3, **LOGON_4624}
    rows = rows_of(build_event(event_id, data, provider="Some-Other-Provider"))
    assert [row.table for row in rows] == ["win_events"]


def test_every_row_fits_its_table() -> None:
    events = [
        build_event(4624, LOGON_4624),
        build_event(4625, LOGON_4625),
        build_event(4634, {**LOGON_4624}),
        build_event(4768, KERBEROS_4768),
        build_event(4723, CHANGE),
        build_event(4688, PROCESS_4688),
        build_event(1, SYSMON_1, provider=SYSMON),
        build_event(3, SYSMON_3, provider=SYSMON),
    ]
    rows = [row for xml in events for row in rows_of(xml, system="corp-ad")]
    assert {row.table for row in rows} == set(windows.TABLES)
    for row in rows:
        assert "evidence_id" not in row.values and "record" in row.values
        assert set(row.values) <= set(columns(row.table))
        values = {"evidence_id": "sha256:0", **row.values}
        pa.Table.from_pylist([values], schema=TABLES[row.table])
