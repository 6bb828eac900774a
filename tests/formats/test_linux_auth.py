"""Tests for the ``linux_auth`` format (sshd, sudo, su, passwd, chpasswd syslog lines).

Real samples: loghub's ``OpenSSH_2k.log`` (an Ubuntu sshd under brute force, rsyslog
traditional format, CRLF line ends) and ``Linux_2k.log`` (a 2005 Red Hat ``messages`` file whose
su lines come only from PAM), read in place and checked against loghub's per-line labels in
the ``*_structured.csv`` files. Everything else is built in code with `syslog`, plus one
hand-written ``auth.log`` pair under ``tests/data/formats/linux_auth/``.
"""

from __future__ import annotations

import bz2
import csv
import datetime as dt
import gzip
import inspect
import json
import lzma
import re
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

import pytest

from breachscope.formats import linux_auth
from breachscope.formats.base import REGISTRY, EvidenceItem, Problem, Row
from breachscope.formats.linux_auth import LinuxAuthLog
from tests.conftest import make_item, read_all

READER = LinuxAuthLog()
DATA = Path(__file__).resolve().parent.parent / "data" / "formats" / "linux_auth"
UTC = dt.UTC


def syslog(
    message: str, *, when: str = "Mar  4 10:00:00", host: str = "web01", tag: str = "sshd[100]"
) -> str:
    """One traditional (RFC 3164 style) syslog line as rsyslog writes it to a file."""
    return f"{when} {host} {tag}: {message}"


def log_item(
    tmp_path: Path, lines: list[str], name: str = "auth.log", **fields: Any
) -> EvidenceItem:
    """An evidence item for ``lines`` (year 2015 unless the test says otherwise)."""
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    fields.setdefault("year", 2015)
    return make_item(path, **fields)


def read_lines(tmp_path: Path, lines: list[str], **fields: Any) -> tuple[list[Row], list[Problem]]:
    return read_all(READER, log_item(tmp_path, lines, **fields))


def logons(rows: list[Row]) -> list[dict[str, Any]]:
    return [row.values for row in rows if row.table == "logons"]


def at(
    year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int = 0
) -> dt.datetime:
    """An aware UTC time, as rows carry them."""
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# --- the format's declaration and sniffing ---------------------------------------------------


def test_registered_with_its_declaration() -> None:
    assert REGISTRY["linux_auth"] is LinuxAuthLog
    assert (LinuxAuthLog.name, LinuxAuthLog.version) == ("linux_auth", "1")
    assert LinuxAuthLog.tables == ("logons", "credential_changes")
    assert LinuxAuthLog.sniff_priority == 40
    assert linux_auth.__doc__ and "message repeated" in linux_auth.__doc__


@pytest.mark.parametrize(
    "head",
    [
        syslog("Accepted password for alice from 203.0.113.7 port 22 ssh2").encode(),
        (
            syslog("New session 5 of user alice.", tag="systemd-logind[1]")
            + "\n"
            + syslog("alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls", tag="sudo")
            + "\n"
        ).encode(),
        b"2025-03-04T10:20:00.000001+09:00 web01 passwd[1]: password changed for alice\r\n",
        (syslog("(to root) alice on pts/0", tag="su[7]") + "\n" + "x" * 50).encode(),
    ],
    ids=["sshd", "sudo-after-logind", "iso-passwd", "su-cut-short"],
)
def test_sniff_positive(head: bytes) -> None:
    assert READER.sniff(head, PurePath("auth.log"))


@pytest.mark.parametrize(
    "head",
    [
        b"From alice@example.com Thu Mar  4 10:00:00 2025\nSubject: Accepted password\n\nhi\n",
        b"time,user,src_ip\n2025-03-04 10:00:00,alice,203.0.113.7\n",
        syslog("eth0: link up", tag="kernel").encode() + b"\n",
        syslog("3F2A1: to=<bob@example.com>, status=sent", tag="postfix/smtp[9]").encode(),
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(range(256)),
        b"",
        (
            "garbage first line\n"
            + syslog("Accepted password for a from 192.0.2.1 port 22 ssh2")
            + "\n"
        ).encode(),
    ],
    ids=["mbox", "csv", "kernel-only", "postfix", "binary", "empty", "not-syslog-first"],
)
def test_sniff_negative(head: bytes) -> None:
    assert not READER.sniff(head, PurePath("auth.log"))


# --- sshd -----------------------------------------------------------------------------------


def test_sshd_accepted_and_failed(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path,
        [
            syslog("Accepted password for Alice from 203.0.113.7 port 51514 ssh2"),
            syslog("Accepted publickey for deploy from ::ffff:192.0.2.5 port 2 ssh2: RSA SHA256:x"),
            syslog("Accepted keyboard-interactive/pam for bob from gw.example.net port 3 ssh2"),
            syslog("Failed password for root from 198.51.100.9 port 4 ssh2"),
            syslog("Failed password for invalid user  from 198.51.100.9 port 5 ssh2"),
            syslog("Failed password for tyamada@EXAMPLE.JP from 2001:db8::9 port 6 ssh2"),
        ],
        system="web-servers",
    )
    assert problems == []
    found = logons(rows)
    assert [(v["account"], v["account_key"], v["outcome"], v["method"]) for v in found] == [
        ("Alice", "alice", "success", "password"),
        ("deploy", "deploy", "success", "publickey"),
        ("bob", "bob", "success", "keyboard-interactive/pam"),
        ("root", "root", "failure", "password"),
        ("", "", "failure", "password"),
        ("tyamada@EXAMPLE.JP", "tyamada@example.jp", "failure", "password"),
    ]
    assert [(v["src_ip"], v["src_host"]) for v in found] == [
        ("203.0.113.7", None),
        ("192.0.2.5", None),
        (None, "gw.example.net"),
        ("198.51.100.9", None),
        ("198.51.100.9", None),
        ("2001:db8::9", None),
    ]
    assert [v["reason"] for v in found][3:5] == [None, "invalid user"]
    first = found[0]
    assert (first["host"], first["dst_host"], first["system"]) == ("web01", "web01", "web-servers")
    assert first["time"] == at(2015, 3, 4, 10, 0, 0)
    assert [row.values["record"] for row in rows] == [f"line:{n}" for n in range(1, 7)]
    assert "evidence_id" not in first


def test_failed_none_is_not_a_logon(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path, [syslog("Failed none for invalid user admin from 5.188.10.180 port 52631 ssh2")]
    )
    assert (rows, problems) == ([], [])


@pytest.mark.parametrize(
    "message",
    [
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
        "rhost=5.36.59.76  user=root",
        "pam_unix(sshd:auth): check pass; user unknown",
        "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4",
        "PAM service(sshd) ignoring max retries; 6 > 3",
        "pam_unix(sshd:session): session opened for user fztu by (uid=0)",
        "Invalid user webmaster from 173.234.31.186",
        "input_userauth_request: invalid user webmaster [preauth]",
        "Disconnecting: Too many authentication failures for root [preauth]",
        "Received disconnect from 1.2.3.4: 11: Bye Bye [preauth]",
    ],
)
def test_pam_and_other_sshd_lines_are_not_logons(tmp_path: Path, message: str) -> None:
    rows, problems = read_lines(tmp_path, [syslog(message)])
    assert (rows, problems) == ([], [])


def test_sshd_pam_lines_of_old_red_hat_are_not_logons(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path,
        [
            syslog("session opened for user test by (uid=509)", tag="sshd(pam_unix)[30631]"),
            syslog(
                "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=1.2.3.4",
                tag="sshd(pam_unix)[19939]",
            ),
        ],
    )
    assert (rows, problems) == ([], [])


def test_openssh_98_logs_as_sshd_session(tmp_path: Path) -> None:
    rows, _ = read_lines(
        tmp_path,
        [syslog("Accepted publickey for a from 192.0.2.1 port 22 ssh2", tag="sshd-session[9]")],
    )
    assert [v["outcome"] for v in logons(rows)] == ["success"]


# --- repeated messages ----------------------------------------------------------------------


def test_message_repeated_expands_to_numbered_records(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path,
        [
            syslog("Failed password for root from 5.36.59.76 port 42393 ssh2"),
            syslog(
                "message repeated 3 times: [ Failed password for root from 5.36.59.76 port 42393 "
                "ssh2]",
                when="Mar  4 10:00:09",
            ),
        ],
    )
    assert problems == []
    assert [row.values["record"] for row in rows] == ["line:1", "line:2#1", "line:2#2", "line:2#3"]
    assert {(v["outcome"], v["account"], v["src_ip"]) for v in logons(rows)} == {
        ("failure", "root", "5.36.59.76")
    }
    assert rows[-1].values["time"] == at(2015, 3, 4, 10, 0, 9)


def test_message_repeated_with_the_message_s_own_leading_space(tmp_path: Path) -> None:
    # rsyslog keeps the space that followed the tag, as in "rsyslogd:  message repeated ..."
    rows, _ = read_lines(
        tmp_path,
        [syslog(" message repeated 2 times: [Failed password for x from 192.0.2.1 port 1 ssh2]")],
    )
    assert [row.values["record"] for row in rows] == ["line:1#1", "line:1#2"]


def test_message_repeated_of_an_uninteresting_message_is_nothing(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path, [syslog("message repeated 4 times: [ Connection closed by 1.2.3.4 [preauth]]")]
    )
    assert (rows, problems) == ([], [])


def test_sysklogd_last_message_repeated_repeats_the_previous_line(tmp_path: Path) -> None:
    rows, _ = read_lines(
        tmp_path,
        [
            syslog("FAILED su for root by alice", tag="su[300]"),
            "Mar  4 10:00:05 web01 last message repeated 2 times",
            syslog("eth0: link up", tag="kernel"),
            "Mar  4 10:00:07 web01 last message repeated 5 times",
        ],
    )
    assert [row.values["record"] for row in rows] == ["line:1", "line:2#1", "line:2#2"]


def test_absurd_repeat_count_is_capped_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linux_auth, "MAX_REPEAT", 3)
    rows, problems = read_lines(
        tmp_path,
        [syslog("message repeated 999999999 times: [ Failed password for x from 1.2.3.4 port 1]")],
    )
    assert len(rows) == 3
    assert [(p.record, p.severity) for p in problems] == [("line:1", "warning")]


# --- sudo, su, passwd -----------------------------------------------------------------------


def test_sudo(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path,
        [
            syslog(
                "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh -c a ; b",
                tag="sudo",
            ),
            syslog(
                "alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/ ; USER=root ; "
                "COMMAND=/usr/bin/id",
                tag="sudo[41]",
            ),
            syslog(
                "bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/bash",
                tag="sudo",
            ),
            syslog(
                "pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 "
                "tty=/dev/pts/0 ruser=alice rhost=  user=alice",
                tag="sudo",
            ),
            syslog(
                "pam_unix(sudo:session): session opened for user root by alice(uid=0)", tag="sudo"
            ),
            syslog("alice : a password is required ; TTY=pts/0 ; PWD=/ ; USER=root", tag="sudo"),
        ],
    )
    assert problems == []
    assert [
        (v["account"], v["outcome"], v["method"], v["reason"], v["record"]) for v in logons(rows)
    ] == [
        ("alice", "success", "sudo", "to root: /bin/sh -c a ; b", "line:1"),
        ("alice", "failure", "sudo", "3 incorrect password attempts", "line:2"),
        ("bob", "failure", "sudo", "user NOT in sudoers", "line:3"),
    ]


def test_su_forms(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path,
        [
            syslog("Successful su for root by alice", tag="su[10]"),
            syslog("+ /dev/pts/0 alice:root", tag="su[10]"),
            syslog(
                "pam_unix(su:session): session opened for user root by alice(uid=1000)",
                tag="su[10]",
            ),
            syslog("FAILED su for root by mallory", tag="su[11]"),
            syslog("- /dev/pts/1 mallory:root", tag="su[11]"),
            syslog("(to root) alice on pts/0", tag="su[12]"),
            syslog(
                "pam_unix(su-l:session): session opened for user root(uid=0) by alice(uid=1000)",
                tag="su[12]",
            ),
            syslog("FAILED SU (to root) alice on pts/0", tag="su[13]"),
            syslog(
                "pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 "
                "tty=/dev/pts/0 ruser=alice rhost=  user=root",
                tag="su[13]",
            ),
            syslog("session opened for user cyrus by (uid=0)", tag="su(pam_unix)[14]"),
            syslog("session closed for user cyrus", tag="su(pam_unix)[14]"),
        ],
    )
    assert problems == []
    assert [
        (v["account"], v["outcome"], v["method"], v["reason"], v["record"]) for v in logons(rows)
    ] == [
        ("root", "success", "su", "by alice", "line:1"),
        ("root", "failure", "su", "by mallory", "line:4"),
        ("root", "success", "su", "by alice on pts/0", "line:6"),
        ("root", "failure", "su", "by alice on pts/0", "line:8"),
        ("cyrus", "success", "su", "by uid=0", "line:10"),
    ]


def test_su_pid_reused_later_is_a_new_su(tmp_path: Path) -> None:
    rows, _ = read_lines(
        tmp_path,
        [
            syslog("(to root) alice on pts/0", tag="su[12]", when="Mar  4 10:00:00"),
            syslog("(to root) alice on pts/0", tag="su[12]", when="Mar  4 12:00:00"),
            syslog("(to root) alice on pts/0", tag="su", when="Mar  4 12:00:00"),
            syslog("(to root) alice on pts/0", tag="su", when="Mar  4 12:00:00"),
        ],
    )
    assert len(logons(rows)) == 4


def test_password_changes(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path,
        [
            syslog("pam_unix(passwd:chauthtok): password changed for alice", tag="passwd[20]"),
            syslog("password changed for bob", tag="passwd(pam_unix)[21]"),
            syslog("password for 'carol' changed by 'root'", tag="passwd[22]"),
            syslog("pam_unix(chpasswd:chauthtok): password changed for Dave", tag="chpasswd[23]"),
            syslog("pam_unix(sshd:chauthtok): password changed for erin", tag="sshd[24]"),
            syslog(
                "pam_unix(passwd:chauthtok): authentication failure; user=alice", tag="passwd[25]"
            ),
        ],
        system="web-servers",
    )
    assert problems == []
    assert {row.table for row in rows} == {"credential_changes"}
    assert [
        (r.values["account"], r.values["account_key"], r.values["kind"], r.values["actor"])
        for r in rows
    ] == [
        ("alice", "alice", "changed", None),
        ("bob", "bob", "changed", None),
        ("carol", "carol", "changed", "root"),
        ("Dave", "dave", "changed", None),
        ("erin", "erin", "changed", None),
    ]
    assert rows[0].values["system"] == "web-servers"
    assert rows[0].values["host"] == "web01"
    assert rows[0].values["record"] == "line:1"


# --- years, zones, clocks -------------------------------------------------------------------


def test_december_to_january_advances_the_year(tmp_path: Path) -> None:
    line = "Accepted password for a from 192.0.2.1 port 22 ssh2"
    rows, _ = read_lines(
        tmp_path,
        [
            syslog(line, when="Dec 31 23:59:59"),
            syslog(line, when="Jan  1 00:00:01"),
            syslog(line, when="Jan  1 00:00:01"),
            syslog(line, when="Dec 31 23:59:58"),
        ],
        year=2014,
    )
    assert [v["time"] for v in logons(rows)] == [
        at(2014, 12, 31, 23, 59, 59),
        at(2015, 1, 1, 0, 0, 1),
        at(2015, 1, 1, 0, 0, 1),
        at(2015, 12, 31, 23, 59, 58),
    ]


def test_fallback_year_when_the_item_has_none(tmp_path: Path) -> None:
    rows, _ = read_lines(
        tmp_path,
        [syslog("Accepted password for a from 192.0.2.1 port 22 ssh2")],
        year=None,
        fallback_year=2011,
    )
    assert logons(rows)[0]["time"].year == 2011


def test_no_year_at_all_is_one_error_naming_the_item(tmp_path: Path) -> None:
    lines = [
        "not syslog",
        syslog("eth0: link up", tag="kernel"),
        syslog("Accepted password for a from 192.0.2.1 port 22 ssh2"),
    ]
    rows, problems = read_lines(tmp_path, lines, name="secure-20250304", year=None)
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [("line:1", "error"), ("line:2", "error")]
    assert "secure-20250304" in problems[1].message
    assert "year" in problems[1].message


def test_iso_time_stamps_carry_year_and_zone(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path,
        [
            "2011-07-06T10:12:00.123456+09:00 web01 sshd[1]: "
            "Accepted password for a from 192.0.2.1 port 22 ssh2",
            "2011-07-06T10:12:01Z web01 sshd[1]: Failed password for a from 192.0.2.1 port 22 ssh2",
            "2011-07-06T10:12:02 web01 sshd[1]: Failed password for a from 192.0.2.1 port 22 ssh2",
        ],
        year=None,
        timezone="Asia/Tokyo",
    )
    assert problems == []
    assert [v["time"] for v in logons(rows)] == [
        at(2011, 7, 6, 1, 12, 0, 123456),
        at(2011, 7, 6, 10, 12, 1),
        at(2011, 7, 6, 1, 12, 2),
    ]


def test_item_zone_applies(tmp_path: Path) -> None:
    rows, _ = read_lines(
        tmp_path,
        [syslog("Accepted password for a from 192.0.2.1 port 22 ssh2", when="Jul  6 10:00:00")],
        year=2011,
        timezone="Asia/Tokyo",
    )
    assert logons(rows)[0]["time"] == at(2011, 7, 6, 1, 0, 0)


def test_clock_offset_applies(tmp_path: Path) -> None:
    rows, _ = read_lines(
        tmp_path,
        [syslog("Accepted password for a from 192.0.2.1 port 22 ssh2", when="Jul  6 10:00:00")],
        year=2011,
        clock_offset=-90.5,
    )
    assert logons(rows)[0]["time"] == at(2011, 7, 6, 9, 58, 29, 500000)


def test_time_skipped_by_dst_is_a_record_error(tmp_path: Path) -> None:
    line = "Accepted password for a from 192.0.2.1 port 22 ssh2"
    rows, problems = read_lines(
        tmp_path,
        [syslog(line, when="Mar  8 02:30:00"), syslog(line, when="Mar  8 03:30:00")],
        year=2015,
        timezone="America/New_York",
    )
    assert [p.record for p in problems] == ["line:1"]
    assert [v["time"] for v in logons(rows)] == [at(2015, 3, 8, 7, 30, 0)]


def test_impossible_date_is_a_record_error(tmp_path: Path) -> None:
    line = "Accepted password for a from 192.0.2.1 port 22 ssh2"
    rows, problems = read_lines(
        tmp_path, [syslog(line, when="Feb 29 10:00:00"), syslog(line, when="Mar  1 10:00:00")]
    )
    assert [p.record for p in problems] == ["line:1"]
    assert len(rows) == 1


# --- damaged and hostile input --------------------------------------------------------------


def test_garbage_is_a_problem_and_reading_goes_on(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path,
        [
            syslog("Accepted password for a from 192.0.2.1 port 22 ssh2"),
            "\x00\x00\x00\x00 this is not syslog",
            "",
            "Foo 12 10:00:00 web01 sshd[1]: Accepted password for b from 192.0.2.1 port 22 ssh2",
            syslog("Accepted password for c from 192.0.2.1 port 22 ssh2"),
        ],
    )
    assert [(p.record, p.severity) for p in problems] == [("line:2", "error"), ("line:4", "error")]
    assert [v["account"] for v in logons(rows)] == ["a", "c"]
    assert rows[-1].values["record"] == "line:5"


def test_valid_syslog_of_other_programs_is_skipped_silently(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path,
        [
            syslog(
                "pam_unix(cron:session): session opened for user root by (uid=0)", tag="CRON[5]"
            ),
            "Jul  7 08:06:15 combo  -- root[2421]: ROOT LOGIN ON tty2",
            "Jul  7 08:06:16 combo -- MARK --",
            syslog("Accepted password for a from 192.0.2.1 port 22 ssh2", tag="not-sshd[1]"),
        ],
    )
    assert (rows, problems) == ([], [])


def test_crlf_invalid_utf8_and_overlong_lines(tmp_path: Path) -> None:
    path = tmp_path / "auth.log"
    line = syslog("Accepted password for caf\udce9 from 192.0.2.1 port 22 ssh2")
    raw = line.encode("utf-8", errors="surrogateescape")
    path.write_bytes(
        raw + b"\r\n" + b"A" * (linux_auth.MAX_LINE_BYTES * 3) + b"\r\n" + raw + b"\r\n" + raw
    )
    rows, problems = read_all(READER, make_item(path, year=2015))
    assert [(p.record, p.severity) for p in problems] == [("line:2", "error")]
    assert [row.values["record"] for row in rows] == ["line:1", "line:3", "line:4"]
    assert rows[0].values["account"] == "caf\ufffd"
    assert rows[0].values["src_ip"] == "192.0.2.1"


def test_attacker_user_name_cannot_move_the_source(tmp_path: Path) -> None:
    user = "x from 6.6.6.6 port 1 ssh2"
    rows, _ = read_lines(
        tmp_path, [syslog(f"Failed password for invalid user {user} from 192.0.2.1 port 22 ssh2")]
    )
    assert (logons(rows)[0]["account"], logons(rows)[0]["src_ip"]) == (user, "192.0.2.1")


def test_read_streams(tmp_path: Path) -> None:
    item = log_item(tmp_path, [syslog("Accepted password for a from 192.0.2.1 port 22 ssh2")])
    assert inspect.isgenerator(READER.read(item))


def test_hand_written_auth_log_gives_the_expected_rows() -> None:
    rows, problems = read_all(READER, make_item(DATA / "ubuntu.input.log"))
    assert problems == []
    expected = [
        json.loads(line) for line in (DATA / "ubuntu.expected.jsonl").read_text().splitlines()
    ]
    got = [
        {
            "table": row.table,
            **{
                k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in row.values.items()
            },
        }
        for row in rows
    ]
    assert got == expected


# --- real samples ---------------------------------------------------------------------------


def structured(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.corpus
def test_openssh_2k_matches_loghub_labels(corpora: Path) -> None:
    folder = corpora / "loghub" / "OpenSSH"
    labels = structured(folder / "OpenSSH_2k.log_structured.csv")
    templates = {row["EventId"]: row["EventTemplate"] for row in labels}
    assert templates["E1"] == "Accepted password for <*> from <*> port <*> ssh2"
    assert templates["E9"] == "Failed password for <*> from <*> port <*> ssh2"
    assert templates["E10"] == "Failed password for invalid user <*> from <*> port <*> ssh2"
    assert templates["E14"].startswith("message repeated <*> times: [ Failed password for ")
    assert templates["E8"].startswith("Failed none for ")  # probes, not logons

    accepted = {f"line:{row['LineId']}" for row in labels if row["EventId"] == "E1"}
    failed: set[str] = set()
    for row in labels:
        if row["EventId"] in ("E9", "E10"):
            failed.add(f"line:{row['LineId']}")
        elif row["EventId"] == "E14":
            count = re.match(r"message repeated (\d+) times", row["Content"])
            assert count is not None
            failed |= {f"line:{row['LineId']}#{i}" for i in range(1, int(count[1]) + 1)}

    rows, problems = read_all(READER, make_item(folder / "OpenSSH_2k.log", year=2015))
    assert problems == []
    found = logons(rows)
    assert len(found) == len(rows)
    success = {v["record"] for v in found if v["outcome"] == "success"}
    failure = [v["record"] for v in found if v["outcome"] == "failure"]
    assert success == accepted
    assert sorted(failure) == sorted(failed)
    assert (len(success), len(failure)) == (len(accepted), len(failed))
    assert found[0]["time"] == at(2015, 12, 10, 6, 55, 48)
    assert {v["dst_host"] for v in found} == {"LabSZ"}


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
}


@pytest.mark.corpus
@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_compressed_log_gives_identical_rows(
    corpora: Path, tmp_path: Path, compression: str
) -> None:
    plain = corpora / "loghub" / "OpenSSH" / "OpenSSH_2k.log"
    packed = tmp_path / f"auth.log.{compression}"
    packed.write_bytes(COMPRESSORS[compression](plain.read_bytes()))
    expected = read_all(READER, make_item(plain, year=2015))
    got = read_all(READER, make_item(packed, year=2015))
    assert got == expected
    assert READER.sniff(make_item(packed).head(), packed)


@pytest.mark.corpus
def test_linux_2k_su_from_pam_and_no_sshd_logons(corpora: Path) -> None:
    folder = corpora / "loghub" / "Linux"
    labels = structured(folder / "Linux_2k.log_structured.csv")
    opened = re.compile(r"session opened for user (\S+) by")
    su_sessions = {
        f"line:{row['LineId']}": opened.match(row["Content"])[1]  # type: ignore[index]
        for row in labels
        if row["Component"] == "su(pam_unix)" and opened.match(row["Content"])
    }
    sshd_verdicts = [
        row
        for row in labels
        if row["Component"].startswith("sshd")
        and re.match(r"(Accepted|Failed) (?!none )", row["Content"])
    ]
    password_changes = [row for row in labels if "password changed" in row["Content"]]

    item = make_item(folder / "Linux_2k.log", year=2005)
    assert READER.sniff(item.head(), item.path)
    rows, problems = read_all(READER, item)
    assert problems == []
    found = logons(rows)
    assert {v["record"]: v["account"] for v in found if v["method"] == "su"} == su_sessions
    assert len([v for v in found if v["method"] != "su"]) == len(sshd_verdicts)
    assert len([r for r in rows if r.table == "credential_changes"]) == len(password_changes)
    assert {v["outcome"] for v in found} == {"success"}
    assert found[0]["time"] == at(2005, 6, 15, 4, 6, 18)
    assert found[-1]["time"].year == 2005


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["syslog/syslog_rsyslog", "syslog.xz", "security.log"])
def test_other_real_syslog_is_not_claimed(corpora: Path, name: str) -> None:
    path = corpora / "plaso" / name
    assert not READER.sniff(make_item(path).head(), path)


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["syslog.gz", "syslog.bz2", "syslog.xz"])
def test_compressed_plaso_syslog_is_read_and_holds_no_supported_records(
    corpora: Path, name: str, tmp_path: Path
) -> None:
    """rules: plaso's syslog.{gz,bz2,xz} decompress and hold no auth records: 0 rows, ok."""
    from breachscope.formats import sniff_format
    from breachscope.pipeline import investigate

    path = corpora / "plaso" / name
    found = sniff_format(make_item(path).head(), path)
    assert found is not None and found.name == "syslog"
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    (case_dir / "case.yaml").write_text(
        f"case: C\nevidence:\n  - path: {path}\n    year: 2012\n", encoding="utf-8"
    )
    result = investigate(case_dir, tmp_path / "out")
    assert result.findings is not None
    (entry,) = result.findings["inputs"]
    assert (entry["status"], entry["format"], entry["records"]) == ("ok", "syslog", 0)
    # plaso's sample is deliberately broken in 4 lines (7 `MMM 22`, 11 `Wrong line`, 14 a
    # continuation line, 15 `Nov 18 01:15:43: --- last message repeated`): counted, skipped.
    assert entry["errors"] == 4
