"""Squid native access.log: lines built in code from the field list of
https://wiki.squid-cache.org/Features/LogFormat (``squid`` format).

No real Squid sample is in ``../shared/corpora/`` (see PROVENANCE.md), so every input here is
written from the format's documentation and Squid's writer (``Log::Format::SquidNative``).
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path, PurePath

import pytest

from breachscope.formats import squid
from breachscope.formats.base import REGISTRY, Problem, Row
from breachscope.formats.squid import SquidAccessLog
from tests.conftest import make_item, read_all

FORMAT = SquidAccessLog()
END = dt.datetime(2024, 3, 5, 1, 2, 3, 456000, tzinfo=dt.UTC)
HOSTILE_URL = "http://evil.example/a\"b\x07c?x==cmd|' /C calc'!A0"


def squid_line(
    *,
    time: dt.datetime = END,
    elapsed: int | str = 1500,
    client: str = "10.20.4.23",
    action: str = "TCP_MISS",
    code: str = "200",
    size: int | str = 4512,
    method: str = "GET",
    url: str = "http://www.example.com:8080/index.html?q=1",
    ident: str = "-",
    hierarchy: str = "HIER_DIRECT",
    peer: str = "93.184.216.34",
    mime: str = "text/html",
    tail: str = "",
) -> str:
    """One access.log line as Squid writes it (``%9ld.%03d %6d ...``)."""
    epoch = (time - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) / dt.timedelta(milliseconds=1)
    seconds, millis = divmod(round(epoch), 1000)
    return (
        f"{seconds:9d}.{millis:03d} {elapsed:>6} {client} {action}/{code} {size} {method} "
        f"{url} {ident} {hierarchy}/{peer} {mime}{tail}"
    )


def write(tmp_path: Path, *lines: str, name: str = "access.log") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def read_lines(tmp_path: Path, *lines: str, **item: object) -> tuple[list[Row], list[Problem]]:
    return read_all(FORMAT, make_item(write(tmp_path, *lines), **item))


def only_row(tmp_path: Path, line: str, **item: object) -> dict[str, object]:
    rows, problems = read_lines(tmp_path, line, **item)
    assert problems == []
    assert len(rows) == 1
    assert rows[0].table == "network"
    return rows[0].values


def test_registered_under_its_name() -> None:
    assert REGISTRY["squid"] is SquidAccessLog
    assert SquidAccessLog.version == "1"
    assert SquidAccessLog.tables == ("network",)


@pytest.mark.parametrize(
    "lines",
    [
        [squid_line()],
        [squid_line(), squid_line(method="CONNECT", url="www.example.com:443")],
        [squid_line(time=dt.datetime(1999, 1, 1, tzinfo=dt.UTC), elapsed=0)],
        [squid_line(action="TCP_DENIED", code="403", hierarchy="HIER_NONE", peer="-")],
        ["", squid_line(), squid_line()],
    ],
)
def test_sniff_recognises_squid_lines(lines: list[str]) -> None:
    assert FORMAT.sniff("\n".join(lines).encode() + b"\n", PurePath("anything"))


def test_sniff_ignores_a_last_line_cut_short() -> None:
    head = (squid_line() + "\n" + squid_line())[:-12].encode()
    assert FORMAT.sniff(head, PurePath("access.log"))


@pytest.mark.parametrize(
    "head",
    [
        b"Mar  5 01:02:03 ws-0423 sshd[811]: Accepted password for taro from 10.0.0.5 port 22\n",
        b"From taro@example.com Tue Mar  5 01:02:03 2024\nSubject: hi\n\nbody\n",
        b"time,elapsed,client,action,size\n1709600523.456,1500,10.20.4.23,TCP_MISS/200,4512\n",
        b"0|/Windows/notepad.exe|64-128-2|r/rrwxrwxrwx|0|0|10|1596093118|1596093118|0|0\n",
        b'10.1.1.1 - - [05/Mar/2024:01:02:03 +0000] "GET / HTTP/1.1" 200 12 "-" "curl"\n',
        b"#separator \\x09\n#fields\tts\tuid\n",
        b"",
        b"\n\n",
    ],
)
def test_sniff_rejects_other_formats(head: bytes) -> None:
    assert not FORMAT.sniff(head, PurePath("access.log"))


def test_a_request_line_becomes_a_network_row(tmp_path: Path) -> None:
    row = only_row(tmp_path, squid_line(), host="proxy-01", system="proxy")
    assert row == {
        "time": END,
        "start_time": END - dt.timedelta(milliseconds=1500),
        "host": "proxy-01",
        "src_ip": "10.20.4.23",
        "dst_ip": "93.184.216.34",
        "dst_host": "www.example.com",
        "dst_port": 8080,
        "url": "http://www.example.com:8080/index.html?q=1",
        "method": "GET",
        "status": "200",
        "action": "TCP_MISS",
        "bytes_out": None,
        "bytes_in": 4512,
        "user_agent": None,
        "user": None,
        "system": "proxy",
        "record": "line:1",
    }


def test_connect_gives_host_and_port(tmp_path: Path) -> None:
    row = only_row(
        tmp_path,
        squid_line(method="CONNECT", url="Login.Evil-Example.com:443", action="TCP_TUNNEL"),
    )
    assert (row["dst_host"], row["dst_port"]) == ("login.evil-example.com", 443)
    assert row["url"] == "Login.Evil-Example.com:443"
    assert row["action"] == "TCP_TUNNEL"


def test_connect_to_an_ipv6_address(tmp_path: Path) -> None:
    row = only_row(tmp_path, squid_line(method="CONNECT", url="[2001:db8::7]:8443"))
    assert (row["dst_host"], row["dst_port"]) == ("2001:db8::7", 8443)


def test_denied_request(tmp_path: Path) -> None:
    line = squid_line(
        action="TCP_DENIED", code="403", size=3900, hierarchy="HIER_NONE", peer="-", elapsed=0
    )
    row = only_row(tmp_path, line)
    assert (row["action"], row["status"], row["bytes_in"]) == ("TCP_DENIED", "403", 3900)
    assert row["dst_ip"] is None
    assert row["start_time"] == row["time"] == END


def test_elapsed_makes_the_start_time(tmp_path: Path) -> None:
    row = only_row(tmp_path, squid_line(elapsed=3_600_250))
    assert row["time"] == END
    assert row["start_time"] == END - dt.timedelta(hours=1, milliseconds=250)


def test_clock_offset_applies_but_no_zone(tmp_path: Path) -> None:
    # An epoch is UTC whatever the item's zone; the manifest's clock offset still corrects it.
    row = only_row(tmp_path, squid_line(elapsed=1000), timezone="Asia/Tokyo", clock_offset=-90.5)
    assert row["time"] == END - dt.timedelta(seconds=90.5)
    assert row["start_time"] == END - dt.timedelta(seconds=91.5)
    assert row["time"].tzinfo is not None  # type: ignore[attr-defined]


def test_default_port_from_the_scheme(tmp_path: Path) -> None:
    row = only_row(tmp_path, squid_line(url="https://Files.Example.org/upload"))
    assert (row["dst_host"], row["dst_port"]) == ("files.example.org", 443)


def test_parent_cache_is_not_the_destination(tmp_path: Path) -> None:
    row = only_row(tmp_path, squid_line(hierarchy="FIRSTUP_PARENT", peer="10.9.9.9"))
    assert row["dst_ip"] is None
    assert row["dst_host"] == "www.example.com"


def test_direct_by_name_is_not_an_ip(tmp_path: Path) -> None:
    row = only_row(tmp_path, squid_line(hierarchy="DIRECT", peer="www.example.com"))
    assert row["dst_ip"] is None


def test_timeout_prefixed_direct_gives_the_ip(tmp_path: Path) -> None:
    row = only_row(tmp_path, squid_line(hierarchy="TIMEOUT_HIER_DIRECT", peer="2001:db8::1"))
    assert row["dst_ip"] == "2001:db8::1"


def test_user_name_is_url_decoded(tmp_path: Path) -> None:
    row = only_row(tmp_path, squid_line(ident="EXSPACE%5Ctyamada"))
    assert row["user"] == "EXSPACE\\tyamada"


def test_hostile_url_is_kept_as_is(tmp_path: Path) -> None:
    row = only_row(tmp_path, squid_line(url=HOSTILE_URL))
    assert row["url"] == HOSTILE_URL
    assert row["user"] is None
    assert row["dst_ip"] == "93.184.216.34"


def test_url_python_cannot_parse_still_gives_a_row(tmp_path: Path) -> None:
    row = only_row(tmp_path, squid_line(url="http://[::1/broken"))
    assert row["url"] == "http://[::1/broken"
    assert (row["dst_host"], row["dst_port"]) == (None, None)


def test_error_url_has_no_host(tmp_path: Path) -> None:
    line = squid_line(
        action="NONE_NONE", code="400", method="NONE", url="error:invalid-request", peer="-"
    )
    row = only_row(tmp_path, line)
    assert (row["status"], row["dst_host"]) == ("400", None)


def test_garbage_line_is_an_error_and_reading_goes_on(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path,
        squid_line(size=1),
        "this is not a squid line \x00\xff",
        "",
        squid_line(size=3),
    )
    assert [r.values["record"] for r in rows] == ["line:1", "line:4"]
    assert [r.values["bytes_in"] for r in rows] == [1, 3]
    assert len(problems) == 1
    assert (problems[0].record, problems[0].severity) == ("line:2", "error")


def test_negative_elapsed_keeps_the_row_with_a_warning(tmp_path: Path) -> None:
    rows, problems = read_lines(tmp_path, squid_line(elapsed=-1))
    assert len(rows) == 1
    assert rows[0].values["start_time"] is None
    assert rows[0].values["time"] == END
    assert [(p.record, p.severity) for p in problems] == [("line:1", "warning")]


def test_mime_headers_give_the_user_agent(tmp_path: Path) -> None:
    tail = (
        " [Host: www.example.com%0D%0AUser-Agent: Mozilla/5.0 (Windows NT 10.0)%0D%0A]"
        " [HTTP/1.1 200 OK%0D%0A]"
    )
    row = only_row(tmp_path, squid_line(tail=tail))
    assert row["user_agent"] == "Mozilla/5.0 (Windows NT 10.0)"
    assert row["url"] == "http://www.example.com:8080/index.html?q=1"


def test_carriage_return_inside_a_url_does_not_split_the_record(tmp_path: Path) -> None:
    rows, problems = read_lines(tmp_path, squid_line(url="http://x.example/a\rb"), squid_line())
    assert problems == []
    assert rows[0].values["url"] == "http://x.example/a\rb"
    assert [r.values["record"] for r in rows] == ["line:1", "line:2"]


def test_overlong_line_is_skipped_without_holding_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(squid, "MAX_LINE_BYTES", 200)
    long_line = squid_line(url="http://x.example/" + "a" * 1000)
    rows, problems = read_lines(tmp_path, long_line, squid_line())
    assert [r.values["record"] for r in rows] == ["line:2"]
    assert [(p.record, p.severity) for p in problems] == [("line:1", "error")]


def test_invalid_utf8_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_bytes(squid_line(url="http://x.example/\udcff").encode("utf-8", "surrogateescape"))
    rows, problems = read_all(FORMAT, make_item(path))
    assert problems == []
    assert rows[0].values["url"] == "http://x.example/\ufffd"


def test_gzip_log_is_read(tmp_path: Path) -> None:
    path = tmp_path / "access.log.1.gz"
    path.write_bytes(gzip.compress((squid_line() + "\n").encode()))
    item = make_item(path)
    assert FORMAT.sniff(item.head(), path)
    rows, problems = read_all(FORMAT, item)
    assert (len(rows), problems) == (1, [])
