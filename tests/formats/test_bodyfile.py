"""The Sleuth Kit bodyfile: plaso's real samples, then lines built in code from the layout of
https://wiki.sleuthkit.org/index.php?title=Body_file and TSK's ``tsk_fs_name_print_mac_md5``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePath

import pytest

from breachscope.formats import bodyfile
from breachscope.formats.base import REGISTRY, Problem, Row
from breachscope.formats.bodyfile import Bodyfile
from tests.conftest import make_item, read_all

FORMAT = Bodyfile()
TIMES = ("atime", "mtime", "ctime", "btime")


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def body_line(
    name: str = "/Users/taro/Documents/report.docx",
    *,
    md5: str = "0",
    inode: str = "5123-128-1",
    mode: str = "r/rrwxrwxrwx",
    uid: str = "0",
    gid: str = "0",
    size: str = "24576",
    atime: str = "1709600523",
    mtime: str = "1709600400",
    ctime: str = "1709600401",
    crtime: str = "1709500000",
) -> str:
    """One line: ``MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime``."""
    return "|".join((md5, name, inode, mode, uid, gid, size, atime, mtime, ctime, crtime))


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "body.txt"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def read_lines(tmp_path: Path, *lines: str, **item: object) -> tuple[list[Row], list[Problem]]:
    return read_all(FORMAT, make_item(write(tmp_path, *lines), **item))


def only_row(tmp_path: Path, line: str, **item: object) -> dict[str, object]:
    rows, problems = read_lines(tmp_path, line, **item)
    assert problems == []
    assert len(rows) == 1
    assert rows[0].table == "files"
    return rows[0].values


# --- plaso's samples -------------------------------------------------------------------------
#
# Expectations from log2timeline/plaso ``tests/parsers/bodyfile.py``, which parses these same
# files (``test_data/bodyfile`` and ``test_data/bodyfile.corrupt``):
#
# - At commit 3a33174cfe37192d550c28cb4b63091c68e329cd plaso makes one ``event_data`` per entry
#   line, exactly as we make one `files` row per entry line:
#   * ``bodyfile``: 24 event data, 0 extraction and 0 recovery warnings; event data 2 is
#     ``/a_directory/another_file`` with access 2012-05-25T15:59:43, modification 15:59:44,
#     change 15:59:45 and no creation time. (The file has 25 lines; ``# Comment`` is skipped.)
#   * ``bodyfile.corrupt``: 3 event data, 0 extraction warnings and 1 recovery warning (the
#     unescaped ``\r`` in ``/passwords\r.txt``, event data 1: access and modification
#     2012-05-25T16:00:53, change 16:01:03, no creation); event data 2 is
#     ``/Windows\System32`` (a lone unescaped backslash, no warning) with access and
#     modification 2021-01-12T12:26:01, change and creation 2019-03-19T04:37:22.
#   Mapping: an event data is a row; a recovery warning (record kept) is a ``warning``
#   Problem; an extraction warning (record lost) would be an ``error``.
# - At commit 08fed3bff33c81c4fa2323ffee65556e9c26d5c3 plaso made one *event* per non-zero
#   time of a line, or a single "not a time" event for a line whose four times are all zero:
#   71 events for ``bodyfile``, 10 for ``bodyfile.corrupt``. Our rows give the same counts
#   when counted that way (`plaso_event_count`). Its asserted values map to our columns as:
#   ``/passwordz\r.txt`` change 2012-05-25 16:17:43; ``\testdir2`` access
#   2019-11-16 09:27:58.189698048 (we keep microseconds: .189698); ``/file|with|pipes``
#   change 2020-07-30 06:41:05.354067456 (.354067); ``/file_symboliclink1`` (its ``->``
#   target taken off) modification 2020-08-19 18:48:01.
# Plaso reads the epochs as local time; its time-zone test (CET) does not apply to us: an
# epoch is UTC and only the item's clock offset moves it.


def plaso_event_count(rows: list[Row]) -> int:
    return sum(max(1, sum(r.values[t] is not None for t in TIMES)) for r in rows)


def by_path(rows: list[Row]) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for row in rows:
        found.setdefault(str(row.values["path"]), row.values)
    return found


@pytest.mark.corpus
def test_plaso_bodyfile(corpora: Path) -> None:
    path = corpora / "plaso" / "bodyfile" / "bodyfile"
    item = make_item(path, host="ws-0423", system="ws-0423")
    assert FORMAT.sniff(item.head(), path)
    rows, problems = read_all(FORMAT, item)

    assert len(rows) == 24
    assert problems == []
    assert plaso_event_count(rows) == 71
    assert all(r.table == "files" and r.values["host"] == "ws-0423" for r in rows)
    assert "line:6" not in {r.values["record"] for r in rows}  # the comment line

    found = by_path(rows)
    another = found["C:\\a_directory\\another_file"]
    assert another["record"] == "line:3"
    assert another["atime"] == utc("2012-05-25T15:59:43")
    assert another["mtime"] == utc("2012-05-25T15:59:44")
    assert another["ctime"] == utc("2012-05-25T15:59:45")
    assert another["btime"] is None
    assert (another["size"], another["kind"], another["deleted"]) == (22, "file", False)
    assert another["sha256"] is None
    assert another["path_key"] == "c:\\a_directory\\another_file"

    assert found["C:\\passwordz\r.txt"]["ctime"] == utc("2012-05-25T16:17:43")
    assert found["C:\\testdir2"]["atime"] == utc("2019-11-16T09:27:58.189698")
    assert found["C:\\testdir2"]["kind"] == "dir"
    pipes = [r.values for r in rows if r.values["path"] == "C:\\file|with|pipes"]
    assert [p["kind"] for p in pipes] == ["filename_attribute", "file"]
    assert pipes[1]["ctime"] == utc("2020-07-30T06:41:05.354067")
    link = found["C:\\file_symboliclink1"]
    assert (link["kind"], link["mtime"]) == ("link", utc("2020-08-19T18:48:01"))

    deleted = sorted(str(r.values["path"]) for r in rows if r.values["deleted"])
    assert deleted == [
        "C:\\$OrphanFiles\\OrphanFile-13",
        "C:\\a_directory\\.another_file.swp",
        "C:\\a_directory\\another_file~",
        "C:\\passwords.txt~",
    ]
    assert "C:\\leyndardómarnir\\ekki skoða\\þínar skrár" in found
    assert "C:\\file\\with\\backslashes" in found
    assert found["D:\\$AttrDef"]["kind"] == "file"  # volume metadata kept; exposure drops it


@pytest.mark.corpus
def test_plaso_corrupt_bodyfile(corpora: Path) -> None:
    path = corpora / "plaso" / "bodyfile" / "bodyfile.corrupt"
    item = make_item(path)
    assert FORMAT.sniff(item.head(), path)
    rows, problems = read_all(FORMAT, item)

    assert len(rows) == 3
    assert plaso_event_count(rows) == 10
    assert [(p.record, p.severity) for p in problems] == [("line:2", "warning")]
    assert "control characters" in problems[0].message

    passwords = rows[1].values
    assert passwords["path"] == "C:\\passwords\r.txt"
    assert passwords["atime"] == passwords["mtime"] == utc("2012-05-25T16:00:53")
    assert passwords["ctime"] == utc("2012-05-25T16:01:03")
    assert passwords["btime"] is None

    system32 = rows[2].values
    assert system32["path"] == "C:\\Windows\\System32"
    assert system32["atime"] == system32["mtime"] == utc("2021-01-12T12:26:01")
    assert system32["ctime"] == system32["btime"] == utc("2019-03-19T04:37:22")
    assert system32["kind"] == "dir"


# --- lines built in code ---------------------------------------------------------------------


def test_registered_under_its_name() -> None:
    assert REGISTRY["bodyfile"] is Bodyfile
    assert Bodyfile.version == "1"
    assert Bodyfile.tables == ("files",)


@pytest.mark.parametrize(
    "lines",
    [
        [body_line()],
        [
            "# fls -r -m C: image.E01",
            body_line(),
            body_line("/x", md5="d41d8cd98f00b204e9800998ecf8427e"),
        ],
        [body_line(atime="1596091265.352146149", uid="", gid="")],
        [body_line("/a|b"), body_line(mode="drwxrwxrwx")],
    ],
)
def test_sniff_recognises_bodyfile_lines(lines: list[str]) -> None:
    assert FORMAT.sniff("\n".join(lines).encode() + b"\n", PurePath("anything"))


@pytest.mark.parametrize(
    "head",
    [
        b"Mar  5 01:02:03 ws-0423 sshd[811]: Accepted password for taro from 10.0.0.5 port 22\n",
        b"From taro@example.com Tue Mar  5 01:02:03 2024\nSubject: hi\n\nbody\n",
        b"md5,name,inode,mode,uid,gid,size,atime,mtime,ctime,crtime\n"
        b"0,/x,5,r/rrwxrwxrwx,0,0,1,1,1,1,1\n",
        b"1709600523.456   1500 10.20.4.23 TCP_MISS/200 4512 GET http://x.example/ - "
        b"HIER_DIRECT/1.2.3.4 text/html\n",
        b"a|b|c|d|e|f|g|h|i|j|k\n",
        b"0|/x|5|r/rrwxrwxrwx|0|0|1|yesterday|1|1|1\n",
        b"",
    ],
)
def test_sniff_rejects_other_formats(head: bytes) -> None:
    assert not FORMAT.sniff(head, PurePath("body.txt"))


def test_an_entry_becomes_a_files_row(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line(), host="WS-0423", system="ws-0423")
    assert row == {
        "host": "WS-0423",
        "path": "C:\\Users\\taro\\Documents\\report.docx",
        "path_key": "c:\\users\\taro\\documents\\report.docx",
        "size": 24576,
        "atime": utc("2024-03-05T01:02:03"),
        "mtime": utc("2024-03-05T01:00:00"),
        "ctime": utc("2024-03-05T01:00:01"),
        "btime": utc("2024-03-03T21:06:40"),
        "sha256": None,
        "labels": None,
        "kind": "file",
        "deleted": False,
        "system": "ws-0423",
        "record": "line:1",
    }


def test_md5_is_not_put_in_sha256(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line(md5="d41d8cd98f00b204e9800998ecf8427e"))
    assert row["sha256"] is None


@pytest.mark.parametrize("marker", [" (deleted)", " (deleted-realloc)"])
def test_deleted_entry(tmp_path: Path, marker: str) -> None:
    row = only_row(tmp_path, body_line("/Users/taro/AppData/Local/Temp/inv.exe" + marker))
    assert row["path"] == "C:\\Users\\taro\\AppData\\Local\\Temp\\inv.exe"
    assert row["deleted"] is True
    assert row["kind"] == "file"


def test_file_name_twin_is_kept_and_marked(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path,
        body_line("/Users/taro/x.docm ($FILE_NAME)", inode="77-48-3", size="112"),
        body_line("/Users/taro/x.docm", inode="77-128-2"),
    )
    assert problems == []
    assert [r.values["kind"] for r in rows] == ["filename_attribute", "file"]
    assert {r.values["path"] for r in rows} == {"C:\\Users\\taro\\x.docm"}


def test_deleted_twin(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line("/x.docm ($FILE_NAME) (deleted)", inode="77-48-3"))
    assert (row["path"], row["kind"], row["deleted"]) == ("C:\\x.docm", "filename_attribute", True)


def test_mount_gives_the_drive(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line("/Shared/plan.xlsx"), mount="D:")
    assert row["path"] == "D:\\Shared\\plan.xlsx"
    assert row["path_key"] == "d:\\shared\\plan.xlsx"


def test_drive_in_the_name_wins_over_mount(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line("e:/Shared/plan.xlsx"), mount="D:")
    assert row["path"] == "E:\\Shared\\plan.xlsx"


def test_zero_and_empty_times_are_null(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line(atime="0", mtime="", ctime="0.000", crtime="0"))
    assert [row[t] for t in TIMES] == [None, None, None, None]


def test_fractional_epochs(tmp_path: Path) -> None:
    line = body_line(atime="1596091265.352146149", mtime="1596091265.5", crtime="1596091265.0")
    row = only_row(tmp_path, line)
    assert row["atime"] == utc("2020-07-30T06:41:05.352146")
    assert row["mtime"] == utc("2020-07-30T06:41:05.500000")
    assert row["btime"] == utc("2020-07-30T06:41:05")


def test_clock_offset_applies_but_no_zone(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line(), timezone="Asia/Tokyo", clock_offset=120)
    assert row["atime"] == utc("2024-03-05T01:04:03")


def test_volume_metadata_file_is_kept(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line("/$MFT", inode="0-128-6"))
    assert (row["path"], row["kind"]) == ("C:\\$MFT", "file")


def test_alternate_data_stream(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line("/Users/taro/Downloads/inv.zip:Zone.Identifier"))
    assert row["kind"] == "stream"
    assert row["path"] == "C:\\Users\\taro\\Downloads\\inv.zip:Zone.Identifier"


def test_colon_outside_ntfs_is_a_plain_name(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line("/home/taro/a:b", inode="1234"))
    assert row["kind"] == "file"


def test_symbolic_link_loses_its_target(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line("/tmp/l -> /etc/passwd", mode="l/lrwxrwxrwx"))
    assert (row["path"], row["kind"]) == ("C:\\tmp\\l", "link")


def test_arrow_in_a_regular_name_stays(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line("/a -> b.txt"))
    assert row["path"] == "C:\\a -> b.txt"


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("r/rrwxrwxrwx", "file"),
        ("d/drwxr-xr-x", "dir"),
        ("-/rrw-------", "file"),
        ("-/drwx------", "dir"),
        ("l/lrwxrwxrwx", "link"),
        ("V/V---------", "virtual_dir"),
        ("-/----------", "unknown"),
        ("drwxrwxrwx", "dir"),
        ("-rw-r--r--", "file"),
    ],
)
def test_kind_from_mode(tmp_path: Path, mode: str, kind: str) -> None:
    assert only_row(tmp_path, body_line(mode=mode))["kind"] == kind


def test_entry_without_metadata_has_no_size(tmp_path: Path) -> None:
    line = body_line("/gone (deleted)", inode="0", mode="r/----------", size="0", atime="0")
    row = only_row(tmp_path, line.replace("|1709600400|1709600401|1709500000", "|0|0|0"))
    assert row["size"] is None
    assert row["deleted"] is True


def test_escapes_are_undone(tmp_path: Path) -> None:
    row = only_row(tmp_path, body_line(r"/a\|b\\c\x0dd\x41"))
    # \x41 is printable, so no writer escaped it: it stays as written.
    assert row["path"] == "C:\\a|b\\c\rd\\x41"


def test_short_line_is_an_error_and_reading_goes_on(tmp_path: Path) -> None:
    rows, problems = read_lines(
        tmp_path, body_line("/one"), "0|/two|5|r/r---------|0|0", "", body_line("/three")
    )
    assert [r.values["path"] for r in rows] == ["C:\\one", "C:\\three"]
    assert [r.values["record"] for r in rows] == ["line:1", "line:4"]
    assert [(p.record, p.severity) for p in problems] == [("line:2", "error")]


def test_entry_without_a_name_is_an_error(tmp_path: Path) -> None:
    rows, problems = read_lines(tmp_path, body_line(""))
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [("line:1", "error")]


def test_bad_number_is_a_warning_and_the_row_is_kept(tmp_path: Path) -> None:
    rows, problems = read_lines(tmp_path, body_line(mtime="yesterday", size="big", uid="S-1-5"))
    assert len(rows) == 1
    assert rows[0].values["mtime"] is None
    assert rows[0].values["size"] is None
    assert rows[0].values["atime"] == utc("2024-03-05T01:02:03")
    assert {p.severity for p in problems} == {"warning"}
    assert {p.record for p in problems} == {"line:1"}
    assert len(problems) == 3


def test_time_out_of_range_is_a_warning(tmp_path: Path) -> None:
    rows, problems = read_lines(tmp_path, body_line(ctime="999999999999"))
    assert rows[0].values["ctime"] is None
    assert [(p.record, p.severity) for p in problems] == [("line:1", "warning")]


def test_overlong_line_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodyfile, "MAX_LINE_BYTES", 200)
    rows, problems = read_lines(tmp_path, body_line("/" + "a" * 500), body_line("/b"))
    assert [r.values["path"] for r in rows] == ["C:\\b"]
    assert [(p.record, p.severity) for p in problems] == [("line:1", "error")]
