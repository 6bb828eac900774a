"""mapped-csv and mapped-jsonl: logs with their own layout, read through a mapping file.

No real sample: a mapped log is by definition one no other format knows, so every input here is
built in code (a partner portal's logon CSV, a VPN session log, proxy and file listings).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import tracemalloc
from pathlib import Path, PurePath
from typing import Any

import pytest

from breachscope.formats import all_formats, get_format
from breachscope.formats.base import EvidenceItem, Mapping, Problem, Row
from breachscope.formats.mapped import MAX_UNMAPPED_WARNINGS, MappedCsv, MappedJsonLines
from breachscope.mapping import MAPPABLE_TABLES, load_mapping
from breachscope.schema import TABLES
from tests.conftest import make_item, read_all, small_case

UTC = dt.UTC

PORTAL_MAPPING = """\
table: logons
time: {column: timestamp, format: '%Y-%m-%d %H:%M:%S'}
fields:
  account: username
  src_ip: client_ip
  outcome: {column: result, map: {OK: success, FAIL: failure}}
constants: {system: partner-portal, dst_host: portal.partner.example}
"""


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def write_mapping(folder: Path, text: str, name: str = "mapping.yaml") -> Mapping:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def write_csv(folder: Path, lines: list[str], name: str = "log.csv", bom: bool = False) -> Path:
    path = folder / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "\r\n".join(lines).encode() + b"\r\n")
    return path


def write_jsonl(folder: Path, records: list[Any], name: str = "log.jsonl") -> Path:
    """One line per record: dicts become JSON, strings are written as they are."""
    path = folder / name
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mapped_item(path: Path, mapping_text: str, **fields: Any) -> EvidenceItem:
    mapping = write_mapping(path.parent, mapping_text)
    return make_item(path, mapping=mapping, **fields)


def portal_csv(folder: Path, *rows: str) -> Path:
    return write_csv(folder, ["timestamp,username,client_ip,result", *rows])


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def warnings(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "warning"]


# --- registration and sniffing ---------------------------------------------------------------


def test_both_formats_are_registered_for_every_mappable_table() -> None:
    formats = all_formats()
    assert formats["mapped-csv"] is MappedCsv
    assert formats["mapped-jsonl"] is MappedJsonLines
    for cls in (MappedCsv, MappedJsonLines):
        assert cls.tables == MAPPABLE_TABLES
        assert cls.version == "1"
        assert cls.__doc__


@pytest.mark.parametrize("name", ["mapped-csv", "mapped-jsonl"])
@pytest.mark.parametrize(
    "head",
    [b"timestamp,username,client_ip,result\r\n2011-07-06 10:12:00,a,b,OK\r\n", b'{"a": 1}\n'],
)
def test_never_sniffed(name: str, head: bytes) -> None:
    # Only the manifest can say a file is mapped: any CSV or JSON would match otherwise.
    assert get_format(name).sniff(head, PurePath("portal.csv")) is False


@pytest.mark.parametrize("reader", [MappedCsv(), MappedJsonLines()])
def test_without_a_mapping_one_error_and_nothing_read(tmp_path: Path, reader: Any) -> None:
    path = portal_csv(tmp_path, "2011-07-06 10:12:00,tyamada,198.51.100.7,OK")
    rows, problems = read_all(reader, make_item(path))
    assert rows == []
    assert len(problems) == 1
    assert problems[0].severity == "error"
    assert problems[0].record == "file"
    assert "mapping file is required" in problems[0].message


# --- the partner portal (formats.md example) -------------------------------------------------


def test_partner_portal_logons_in_chicago_time_become_utc(tmp_path: Path) -> None:
    path = portal_csv(
        tmp_path,
        "2011-07-06 10:12:00,TYamada@Partner.Example,198.51.100.7,OK",  # CDT, UTC-5
        "2011-01-06 10:12:00,tyamada@partner.example,203.0.113.9,FAIL",  # CST, UTC-6
    )
    item = mapped_item(path, PORTAL_MAPPING, timezone="America/Chicago", system="ignored")
    rows, problems = read_all(MappedCsv(), item)
    assert problems == []
    assert rows == [
        Row(
            "logons",
            {
                "time": utc(2011, 7, 6, 15, 12),
                "account": "TYamada@Partner.Example",
                "account_key": "tyamada@partner.example",
                "src_ip": "198.51.100.7",
                "outcome": "success",
                "system": "partner-portal",
                "dst_host": "portal.partner.example",
                "record": "csv:1",
            },
        ),
        Row(
            "logons",
            {
                "time": utc(2011, 1, 6, 16, 12),
                "account": "tyamada@partner.example",
                "account_key": "tyamada@partner.example",
                "src_ip": "203.0.113.9",
                "outcome": "failure",
                "system": "partner-portal",
                "dst_host": "portal.partner.example",
                "record": "csv:2",
            },
        ),
    ]
    for row in rows:
        assert set(row.values) <= set(TABLES["logons"].names)
        assert "evidence_id" not in row.values


def test_clock_offset_is_added(tmp_path: Path) -> None:
    path = portal_csv(tmp_path, "2011-07-06 10:12:00,tyamada,198.51.100.7,OK")
    item = mapped_item(path, PORTAL_MAPPING, timezone="America/Chicago", clock_offset=-42)
    rows, _ = read_all(MappedCsv(), item)
    assert rows[0].values["time"] == utc(2011, 7, 6, 15, 11, 18)


def test_account_key_uses_the_manifest_realms(tmp_path: Path) -> None:
    case = small_case(
        "subject:\n  users:\n    - name: Taro\n      accounts:\n"
        "        - {system: corp-ad, account: 'EXSPACE\\tyamada'}\n"
        "systems:\n  - name: corp-ad\n    hosts: [dc01.example-space.jp]\n"
    )
    path = portal_csv(tmp_path, "2011-07-06 10:12:00,EXSPACE\\TYamada,10.0.0.1,OK")
    item = mapped_item(path, PORTAL_MAPPING)
    item = make_item(path, case=case, mapping=item.mapping)
    rows, _ = read_all(MappedCsv(), item)
    assert rows[0].values["account_key"] == "tyamada@example-space.jp"
    assert rows[0].values["account"] == "EXSPACE\\TYamada"


def test_unmapped_value_is_kept_with_one_warning_per_distinct_value(tmp_path: Path) -> None:
    path = portal_csv(
        tmp_path,
        "2011-07-06 10:12:00,tyamada,10.0.0.1,LOCKED",
        "2011-07-06 10:13:00,tyamada,10.0.0.1,LOCKED",
        "2011-07-06 10:14:00,tyamada,10.0.0.1,EXPIRED",
        "2011-07-06 10:15:00,tyamada,10.0.0.1,Failed",  # not in the map, but a known spelling
    )
    rows, problems = read_all(MappedCsv(), mapped_item(path, PORTAL_MAPPING))
    assert [r.values["outcome"] for r in rows] == ["LOCKED", "LOCKED", "EXPIRED", "failure"]
    assert errors(problems) == []
    assert [(p.record, "LOCKED" in p.message) for p in warnings(problems)] == [
        ("csv:1", True),
        ("csv:3", False),
    ]


def test_unmapped_value_warnings_are_bounded(tmp_path: Path) -> None:
    lines = [f"2011-07-06 10:12:00,u,10.0.0.1,R{n}" for n in range(MAX_UNMAPPED_WARNINGS + 5)]
    rows, problems = read_all(
        MappedCsv(), mapped_item(portal_csv(tmp_path, *lines), PORTAL_MAPPING)
    )
    assert len(rows) == MAX_UNMAPPED_WARNINGS + 5
    assert len(problems) == MAX_UNMAPPED_WARNINGS + 1
    assert "further ones are kept without a warning" in problems[-1].message


def test_outcome_spellings_are_normalised_without_a_map(tmp_path: Path) -> None:
    mapping = PORTAL_MAPPING.replace(
        "outcome: {column: result, map: {OK: success, FAIL: failure}}", "outcome: result"
    )
    spellings = ["Success", "succeeded", "ok", "TRUE", "failure", "failed", "fail", "false",
                 "Denied", "locked out"]  # fmt: skip
    path = portal_csv(tmp_path, *(f"2011-07-06 10:12:00,u,10.0.0.1,{s}" for s in spellings))
    rows, problems = read_all(MappedCsv(), mapped_item(path, mapping))
    assert problems == []
    assert [r.values["outcome"] for r in rows] == ["success"] * 4 + ["failure"] * 5 + ["locked out"]


def test_formula_cell_is_kept_verbatim(tmp_path: Path) -> None:
    # Escaping for spreadsheets is an output rule; the stored fact is what the log said.
    path = portal_csv(tmp_path, "2011-07-06 10:12:00,\"=cmd|' /C calc'!A0\",10.0.0.1,OK")
    rows, problems = read_all(MappedCsv(), mapped_item(path, PORTAL_MAPPING))
    assert problems == []
    assert rows[0].values["account"] == "=cmd|' /C calc'!A0"


def test_bad_row_is_counted_and_the_next_still_reads(tmp_path: Path) -> None:
    path = portal_csv(
        tmp_path,
        "2011-07-06 10:12:00,tyamada,10.0.0.1,OK",
        "yesterday,mallory,10.6.6.6,OK",
        ",nobody,10.6.6.7,OK",
        "2011-07-06 10:14:00,tyamada,10.0.0.1,OK",
    )
    rows, problems = read_all(MappedCsv(), mapped_item(path, PORTAL_MAPPING))
    assert [r.values["record"] for r in rows] == ["csv:1", "csv:4"]
    assert [(p.record, p.severity) for p in problems] == [("csv:2", "error"), ("csv:3", "error")]
    assert "'yesterday'" in problems[0].message
    assert "no time" in problems[1].message


def test_a_time_skipped_by_dst_is_a_record_error(tmp_path: Path) -> None:
    path = portal_csv(tmp_path, "2011-03-13 02:30:00,u,10.0.0.1,OK")  # Chicago springs forward
    item = mapped_item(path, PORTAL_MAPPING, timezone="America/Chicago")
    rows, problems = read_all(MappedCsv(), item)
    assert rows == []
    assert len(errors(problems)) == 1
    assert "does not exist" in problems[0].message


def test_column_missing_from_header_stops_the_file(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, ["timestamp,user,client_ip,result", "2011-07-06 10:12:00,u,10.0.0.1,OK"]
    )
    rows, problems = read_all(MappedCsv(), mapped_item(path, PORTAL_MAPPING))
    assert rows == []
    assert len(problems) == 1
    assert problems[0].severity == "error"
    assert "'username'" in problems[0].message
    assert "'timestamp', 'user', 'client_ip', 'result'" in problems[0].message


def test_header_with_bom_and_blanks_still_matches(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        ["timestamp, username, client_ip, result", "2011-07-06 10:12:00,u,10.0.0.1,OK"],
        bom=True,
    )
    rows, problems = read_all(MappedCsv(), mapped_item(path, PORTAL_MAPPING))
    assert problems == []
    assert rows[0].values["account"] == "u"


def test_undecodable_bytes_are_replaced_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(
        b"timestamp,username,client_ip,result\n2011-07-06 10:12:00,m\xfcller,10.0.0.1,OK\n"
    )
    rows, problems = read_all(MappedCsv(), mapped_item(path, PORTAL_MAPPING))
    assert problems == []
    assert rows[0].values["account"] == "m\ufffdller"


def test_quoted_cell_over_two_lines_is_one_record(tmp_path: Path) -> None:
    path = portal_csv(
        tmp_path,
        '2011-07-06 10:12:00,"two\nlines",10.0.0.1,OK',
        "2011-07-06 10:13:00,u,10.0.0.1,OK",
    )
    rows, _ = read_all(MappedCsv(), mapped_item(path, PORTAL_MAPPING))
    assert [r.values["record"] for r in rows] == ["csv:1", "csv:2"]


def test_gzip_log_is_read(tmp_path: Path) -> None:
    plain = portal_csv(tmp_path, "2011-07-06 10:12:00,u,10.0.0.1,OK")
    packed = tmp_path / "log.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    rows, _ = read_all(MappedCsv(), mapped_item(packed, PORTAL_MAPPING))
    assert rows[0].values["record"] == "csv:1"


def test_fields_win_over_constants_and_empty_cells_take_them(tmp_path: Path) -> None:
    mapping = PORTAL_MAPPING.replace("dst_host: portal.partner.example", "src_ip: 0.0.0.0")
    path = portal_csv(tmp_path, "2011-07-06 10:12:00,u,10.0.0.1,OK", "2011-07-06 10:13:00,u,,OK")
    rows, _ = read_all(MappedCsv(), mapped_item(path, mapping))
    assert [r.values["src_ip"] for r in rows] == ["10.0.0.1", "0.0.0.0"]


# --- a VPN session log -----------------------------------------------------------------------

VPN_MAPPING = """\
table: logons
time: {column: start, format: iso8601}
fields:
  account: user
  src_ip: peer
  assigned_ip: framed_ip
  end_time: stop
  session_id: session
constants: {system: corp-vpn, method: vpn, outcome: success}
"""


def test_vpn_sessions_land_in_logons_with_assigned_ip_and_end_time(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            "start,stop,user,peer,framed_ip,session,bytes",
            "2011-07-20T01:02:03+09:00,2011-07-20T03:00:00+09:00,tyamada,198.51.100.7,"
            "10.99.0.5,s-1,123",
            "2011-07-20 05:00:00,-,tyamada,198.51.100.7,10.99.0.6,s-2,9",  # still open
        ],
    )
    item = mapped_item(path, VPN_MAPPING, timezone="Asia/Tokyo")
    rows, problems = read_all(MappedCsv(), item)
    assert problems == []
    first, second = (r.values for r in rows)
    assert first == {
        "time": utc(2011, 7, 19, 16, 2, 3),
        "end_time": utc(2011, 7, 19, 18, 0),
        "account": "tyamada",
        "account_key": "tyamada",
        "src_ip": "198.51.100.7",
        "assigned_ip": "10.99.0.5",
        "session_id": "s-1",
        "system": "corp-vpn",
        "method": "vpn",
        "outcome": "success",
        "record": "csv:1",
    }
    assert second["time"] == utc(2011, 7, 19, 20)  # naive: the item's zone
    assert "end_time" not in second


def test_vpn_log_as_json_lines(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path,
        [
            {"start": "2011-07-20T01:02:03Z", "stop": "2011-07-20T02:00:00Z", "user": "tyamada",
             "peer": "198.51.100.7", "framed_ip": "10.99.0.5", "session": 17},
            "",
            "{not json",
            '["an", "array"]',
            {"start": "2011-07-21T01:00:00Z", "user": "tyamada", "peer": "198.51.100.7"},
        ],
    )  # fmt: skip
    rows, problems = read_all(MappedJsonLines(), mapped_item(path, VPN_MAPPING))
    assert [r.values["record"] for r in rows] == ["jsonl:1", "jsonl:5"]
    assert rows[0].values["session_id"] == "17"  # a JSON number in a string column
    assert rows[0].values["end_time"] == utc(2011, 7, 20, 2)
    assert "assigned_ip" not in rows[1].values
    assert [(p.record, p.severity) for p in problems] == [
        ("jsonl:3", "error"),
        ("jsonl:4", "error"),
    ]
    assert "not JSON" in problems[0].message
    assert "not a JSON object" in problems[1].message


def test_json_dotted_path_reaches_nested_values(tmp_path: Path) -> None:
    mapping = """\
table: logons
time: {column: published, format: iso8601}
fields: {account: actor.alternateId, src_ip: client.ipAddress, reason: outcome.reason}
"""
    path = write_jsonl(
        tmp_path,
        [{"published": "2011-07-20T01:02:03.250Z", "actor": {"alternateId": "t@x.example"},
          "client": {"ipAddress": "198.51.100.7"}, "outcome": {"reason": {"code": 1}}}],
    )  # fmt: skip
    rows, problems = read_all(MappedJsonLines(), mapped_item(path, mapping))
    assert problems == []
    values = rows[0].values
    assert values["time"] == dt.datetime(2011, 7, 20, 1, 2, 3, 250000, tzinfo=UTC)
    assert values["account"] == "t@x.example"
    assert values["src_ip"] == "198.51.100.7"
    assert values["reason"] == '{"code":1}'


# --- epoch times, integers, lists and paths --------------------------------------------------

PROXY_MAPPING = """\
table: network
time: {column: ts, format: FORMAT}
fields:
  src_ip: client
  url: url
  dst_port: port
  bytes_out: sent
  bytes_in: received
  action: {column: verdict, map: {TCP_DENIED: denied, TCP_MISS: allowed}}
constants: {host: proxy01}
"""


@pytest.mark.parametrize(
    ("fmt", "stamp"),
    [("epoch", "1310000000.25"), ("epoch_ms", "1310000000250")],
)
def test_epoch_times_are_utc(tmp_path: Path, fmt: str, stamp: str) -> None:
    path = write_csv(
        tmp_path,
        [
            "ts,client,url,port,sent,received,verdict",
            f"{stamp},10.20.4.23,http://c2.example/a,80,512,2048,TCP_MISS",
        ],
    )
    item = mapped_item(path, PROXY_MAPPING.replace("FORMAT", fmt), timezone="Asia/Tokyo")
    rows, problems = read_all(MappedCsv(), item)
    assert problems == []
    assert rows[0].values == {
        "time": dt.datetime(2011, 7, 7, 0, 53, 20, 250000, tzinfo=UTC),
        "src_ip": "10.20.4.23",
        "url": "http://c2.example/a",
        "dst_port": 80,
        "bytes_out": 512,
        "bytes_in": 2048,
        "action": "allowed",
        "host": "proxy01",
        "record": "csv:1",
    }


@pytest.mark.parametrize(("fmt", "stamp"), [("epoch", 1310000000), ("epoch_ms", 1310000000000)])
def test_epoch_json_numbers(tmp_path: Path, fmt: str, stamp: int) -> None:
    path = write_jsonl(tmp_path, [{"ts": stamp, "client": "10.20.4.23", "port": 443.0}])
    item = mapped_item(path, PROXY_MAPPING.replace("FORMAT", fmt), clock_offset=2.5)
    rows, problems = read_all(MappedJsonLines(), item)
    assert problems == []
    assert rows[0].values["time"] == dt.datetime(2011, 7, 7, 0, 53, 22, 500000, tzinfo=UTC)
    assert rows[0].values["dst_port"] == 443


def test_bad_integer_drops_its_row_only(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            "ts,client,url,port,sent,received,verdict",
            "1310000000,10.20.4.23,http://a.example/,http,1,2,TCP_MISS",
            "1310000001,10.20.4.23,http://b.example/,80,-,,TCP_DENIED",
            "1310000002,10.20.4.23,http://c.example/,80,99999999999999999999,1,TCP_MISS",
        ],
    )
    rows, problems = read_all(
        MappedCsv(), mapped_item(path, PROXY_MAPPING.replace("FORMAT", "epoch"))
    )
    assert [r.values["record"] for r in rows] == ["csv:2"]
    assert "bytes_out" not in rows[0].values and "bytes_in" not in rows[0].values
    assert rows[0].values["action"] == "denied"
    assert [(p.record, p.severity) for p in problems] == [("csv:1", "error"), ("csv:3", "error")]
    assert "dst_port" in problems[0].message and "'http'" in problems[0].message
    assert "64 bits" in problems[1].message


def test_files_get_path_key_lists_booleans_and_typed_times(tmp_path: Path) -> None:
    mapping = """\
table: files
time: {format: '%d/%m/%Y %H:%M'}
fields:
  path: full_path
  size: bytes
  mtime: modified
  btime: created
  labels: tags
  deleted: gone
constants: {host: WS-0423}
"""
    path = write_csv(
        tmp_path,
        [
            "full_path,bytes,modified,created,tags,gone",
            "/Users/Taro/HTV Spec.DOCX,1024,06/07/2011 10:12,05/07/2011 09:00,"
            "classified; htv-operations;,yes",
        ],
    )
    item = mapped_item(path, mapping, timezone="Asia/Tokyo", mount="D:")
    rows, problems = read_all(MappedCsv(), item)
    # files has no `time` column: the time format still reads mtime and btime.
    assert problems == []
    assert rows[0].values == {
        "path": "/Users/Taro/HTV Spec.DOCX",
        "path_key": "d:\\users\\taro\\htv spec.docx",
        "size": 1024,
        "mtime": utc(2011, 7, 6, 1, 12),
        "btime": utc(2011, 7, 5, 0, 0),
        "labels": ["classified", "htv-operations"],
        "deleted": True,
        "host": "WS-0423",
        "record": "csv:1",
    }


def test_yearless_pattern_takes_the_item_year_and_rolls_over(tmp_path: Path) -> None:
    mapping = PORTAL_MAPPING.replace("%Y-%m-%d %H:%M:%S", "%b %d %H:%M:%S")
    path = portal_csv(tmp_path, "Dec 31 23:59:00,u,10.0.0.1,OK", "Feb 29 00:01:00,u,10.0.0.1,OK")
    rows, problems = read_all(MappedCsv(), mapped_item(path, mapping, year=2011))
    assert problems == []
    assert [r.values["time"] for r in rows] == [utc(2011, 12, 31, 23, 59), utc(2012, 2, 29, 0, 1)]


def test_yearless_pattern_without_a_year_is_an_error_naming_the_item(tmp_path: Path) -> None:
    mapping = PORTAL_MAPPING.replace("%Y-%m-%d %H:%M:%S", "%b %d %H:%M:%S")
    path = portal_csv(tmp_path, "Dec 31 23:59:00,u,10.0.0.1,OK")
    rows, problems = read_all(MappedCsv(), mapped_item(path, mapping))
    assert rows == []
    assert "log.csv" in problems[0].message and "year" in problems[0].message


def test_bad_constant_stops_the_file(tmp_path: Path) -> None:
    mapping = PROXY_MAPPING.replace("FORMAT", "epoch").replace("host: proxy01", "dst_port: https")
    path = write_csv(tmp_path, ["ts,client,url,port,sent,received,verdict"])
    rows, problems = read_all(MappedCsv(), mapped_item(path, mapping))
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [("file", "error")]
    assert "dst_port" in problems[0].message


def test_reading_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("timestamp,username,client_ip,result\n")
        for n in range(8_000):
            out.write(f"2011-07-06 10:12:00,user{n},10.0.{n % 250}.1,OK\n")
    item = mapped_item(path, PORTAL_MAPPING)
    tracemalloc.start()
    try:
        count = sum(1 for thing in MappedCsv().read(item) if isinstance(thing, Row))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 8_000
    assert peak < 1_000_000  # 8 000 rows kept would take several MB


def test_logons_without_a_time_column_are_read_with_one_warning(tmp_path: Path) -> None:
    mapping = "table: logons\nfields: {account: username}\n"
    path = portal_csv(tmp_path, "2011-07-06 10:12:00,tyamada,10.0.0.1,OK")
    rows, problems = read_all(MappedCsv(), mapped_item(path, mapping))
    assert [(p.record, p.severity) for p in problems] == [("file", "warning")]
    assert "no time" in problems[0].message
    assert rows[0].values == {"account": "tyamada", "account_key": "tyamada", "record": "csv:1"}


def test_mapped_account_key_is_normalised_and_only_stands_in_for_account(tmp_path: Path) -> None:
    mapping = PORTAL_MAPPING.replace("account: username", "account_key: username")
    path = portal_csv(tmp_path, "2011-07-06 10:12:00,TYamada@Partner.Example,10.0.0.1,OK")
    rows, _ = read_all(MappedCsv(), mapped_item(path, mapping))
    assert rows[0].values["account_key"] == "tyamada@partner.example"
    assert "account" not in rows[0].values
