"""Windows shortcut (.lnk) files: the two plaso samples, and shortcuts built in code from
[MS-SHLLINK] (https://learn.microsoft.com/openspecs/windows_protocols/ms-shllink/) for what
the samples do not show (a Recent folder's user, network and code-page paths, %USERPROFILE%).

What plaso's own test asserts, and how it maps here: log2timeline/plaso
``tests/parsers/winlnk.py`` (read at commit c1a8699de8eb7c4a1dda597426f7359d4a510b78):

- ``testParse`` on ``example.lnk``: 3 event data (the ``windows:lnk:link`` data, a distributed
  link tracking creation, and the shell items), 0 warnings; the link data has
  ``env_var_location == '%windir%\\\\system32\\\\migwiz\\\\migwiz.exe'``,
  ``relative_path == '.\\\\migwiz\\\\migwiz.exe'`` and header times creation/access
  ``2009-07-13T23:29:02.849131`` and modification ``2009-07-14T01:39:18.220000``.
- ``testParseLinkTargetIdentifier`` on ``NeroInfoTool.lnk``: 8 event data, 0 warnings; the
  link data has ``local_path == 'C:\\\\Program Files (x86)\\\\Nero\\\\Nero 9\\\\Nero InfoTool\\\\
  InfoTool.exe'`` and creation time ``2009-06-05T20:13:20``.

breachscope emits one ``file_access`` row per shortcut (the link data), not plaso's event per
time stamp: the row's path is plaso's ``local_path`` when the LNK has one and its
``env_var_location`` otherwise (example.lnk has no LinkInfo); zero problems matches plaso's
zero warnings. The header times are the *target's*, so unlike plaso they are not the row's
time: the row's time is the shortcut file's own modification time, asserted below.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import struct
from pathlib import Path, PurePath

import pytest

from breachscope.formats.base import REGISTRY, EvidenceItem
from breachscope.formats.lnk import (
    LINK_CLSID,
    MAX_LNK_BYTES,
    WindowsShortcut,
    user_from_location,
)
from tests.conftest import make_item, read_all

FORMAT = WindowsShortcut()
OPENED = dt.datetime(2024, 3, 5, 1, 2, 3, 456789, tzinfo=dt.UTC)
RECENT = "evidence/hosts/WS-0423/C/Users/taro/AppData/Roaming/Microsoft/Windows/Recent"

HAS_LINK_INFO = 0x02
HAS_RELATIVE_PATH = 0x08
IS_UNICODE = 0x80
HAS_EXP_STRING = 0x200
TARGET_TIME = 128_000_000_000_000_000  # a FILETIME in 2006: the target's, never the row's


def build_lnk(
    *,
    local_base_path: bytes | None = None,
    unicode_base_path: str | None = None,
    net_name: bytes | None = None,
    suffix: bytes = b"",
    relative_path: str | None = None,
    environment: str | None = None,
    unicode: bool = True,
) -> bytes:
    """A shortcut laid out as [MS-SHLLINK] 2.1-2.5 describe (header, LinkInfo, StringData,
    ExtraData), with only the structures a test needs."""
    flags = IS_UNICODE if unicode else 0
    body = b""
    if local_base_path is not None or net_name is not None:
        flags |= HAS_LINK_INFO
        body += _link_info(local_base_path, unicode_base_path, net_name, suffix)
    if relative_path is not None:
        flags |= HAS_RELATIVE_PATH
        text = relative_path.encode("utf-16-le" if unicode else "cp1252")
        body += struct.pack("<H", len(relative_path)) + text
    extra = b""
    if environment is not None:
        flags |= HAS_EXP_STRING
        ansi = environment.encode("ascii", errors="replace").ljust(260, b"\0")
        wide = environment.encode("utf-16-le").ljust(520, b"\0")
        extra += struct.pack("<II", 0x314, 0xA0000001) + ansi + wide
    header = (
        struct.pack("<I", 0x4C)
        + LINK_CLSID
        + struct.pack("<II", flags, 0x20)
        + struct.pack("<QQQ", TARGET_TIME, TARGET_TIME, TARGET_TIME)
        + struct.pack("<IiIHHII", 1234, 0, 1, 0, 0, 0, 0)
    )
    assert len(header) == 0x4C
    return header + body + extra + b"\0\0\0\0"


def _link_info(
    local: bytes | None, unicode_base: str | None, net_name: bytes | None, suffix: bytes
) -> bytes:
    header_size = 0x24 if unicode_base is not None else 0x1C
    volume = struct.pack("<IIII", 0x11, 3, 0x1234ABCD, 0x10) + b"\0"
    parts: list[bytes] = []
    offsets = {}
    cursor = header_size
    if local is not None:
        offsets["volume"] = cursor
        parts.append(volume)
        cursor += len(volume)
        offsets["local"] = cursor
        parts.append(local + b"\0")
        cursor += len(local) + 1
    if net_name is not None:
        link = struct.pack("<IIIII", 0x14 + len(net_name) + 1, 0, 0x14, 0, 0) + net_name + b"\0"
        offsets["network"] = cursor
        parts.append(link)
        cursor += len(link)
    offsets["suffix"] = cursor
    parts.append(suffix + b"\0")
    cursor += len(suffix) + 1
    if unicode_base is not None:
        offsets["unicode"] = cursor
        wide = unicode_base.encode("utf-16-le") + b"\0\0"
        parts.append(wide)
        cursor += len(wide)
    flags = (1 if local is not None else 0) | (2 if net_name is not None else 0)
    fields = [
        cursor,
        header_size,
        flags,
        offsets.get("volume", 0),
        offsets.get("local", 0),
        offsets.get("network", 0),
        offsets["suffix"],
    ]
    if unicode_base is not None:
        fields += [offsets["unicode"], 0]
    return struct.pack(f"<{len(fields)}I", *fields) + b"".join(parts)


def shortcut(
    tmp_path: Path,
    data: bytes,
    *,
    name: str = "plan.docx.lnk",
    location: str | None = None,
    mtime: dt.datetime = OPENED,
    **fields: object,
) -> EvidenceItem:
    """A shortcut file whose own mtime is ``mtime``, as an evidence item found at
    ``location`` (its path inside the case) when given."""
    path = tmp_path / name
    path.write_bytes(data)
    stamp = int(mtime.timestamp()) * 1_000_000_000 + mtime.microsecond * 1000
    os.utime(path, ns=(stamp, stamp))
    item = make_item(path, **fields)
    if location is not None:
        item = dataclasses.replace(item, rel_path=f"{location}/{name}")
    return item


def only_row(item: EvidenceItem) -> dict[str, object]:
    rows, problems = read_all(FORMAT, item)
    assert problems == []
    assert len(rows) == 1
    assert rows[0].table == "file_access"
    return rows[0].values


def mtime_of(path: Path) -> dt.datetime:
    nanos = os.stat(path).st_mtime_ns
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=nanos // 1000)


def test_registered_under_its_name() -> None:
    assert REGISTRY["lnk"] is WindowsShortcut
    assert WindowsShortcut.tables == ("file_access",)
    assert WindowsShortcut.version == "1"


@pytest.mark.corpus
def test_example_lnk_gives_plasos_environment_path_at_the_shortcuts_own_mtime(
    corpora: Path,
) -> None:
    path = corpora / "plaso" / "example.lnk"
    assert FORMAT.sniff(path.read_bytes()[:8192], PurePath(path.name))
    values = only_row(make_item(path, host="WS-0423"))
    # plaso: env_var_location '%windir%\system32\migwiz\migwiz.exe' (no LinkInfo in this LNK).
    assert values["path"] == "%windir%\\system32\\migwiz\\migwiz.exe"
    assert values["path_key"] == "%windir%\\system32\\migwiz\\migwiz.exe"
    assert values["how"] == "lnk"
    assert values["host"] == "WS-0423"
    assert values["user"] is None
    assert values["record"] == "file"
    # Not plaso's header times (the target's 2009-07-13/14 times): the shortcut's own mtime.
    assert values["time"] == mtime_of(path)
    assert values["time"].year != 2009


@pytest.mark.corpus
def test_nero_lnk_gives_plasos_local_path(corpora: Path) -> None:
    path = corpora / "plaso" / "NeroInfoTool.lnk"
    assert FORMAT.sniff(path.read_bytes()[:8192], PurePath(path.name))
    values = only_row(make_item(path))
    # plaso: local_path 'C:\Program Files (x86)\Nero\Nero 9\Nero InfoTool\InfoTool.exe'.
    assert values["path"] == "C:\\Program Files (x86)\\Nero\\Nero 9\\Nero InfoTool\\InfoTool.exe"
    assert (
        values["path_key"] == "c:\\program files (x86)\\nero\\nero 9\\nero infotool\\infotool.exe"
    )
    assert values["time"] == mtime_of(path)
    assert values["time"] != dt.datetime(2009, 6, 5, 20, 13, 20, tzinfo=dt.UTC)


def test_a_recent_shortcut_names_its_user_and_target_at_its_own_mtime(tmp_path: Path) -> None:
    data = build_lnk(local_base_path=b"c:\\Users\\taro\\Documents\\plan.docx")
    item = shortcut(tmp_path, data, location=RECENT, host="WS-0423", system="ws")
    values = only_row(item)
    assert values == {
        "time": OPENED,
        "host": "WS-0423",
        "user": "taro",
        "path": "C:\\Users\\taro\\Documents\\plan.docx",
        "path_key": "c:\\users\\taro\\documents\\plan.docx",
        "how": "lnk",
        "system": "ws",
        "record": "file",
    }


def test_the_clock_offset_applies_to_the_shortcuts_time(tmp_path: Path) -> None:
    data = build_lnk(local_base_path=b"C:\\x.txt")
    values = only_row(shortcut(tmp_path, data, clock_offset=-90.0))
    assert values["time"] == OPENED - dt.timedelta(seconds=90)


def test_common_path_suffix_is_appended(tmp_path: Path) -> None:
    data = build_lnk(local_base_path=b"C:\\", suffix=b"Users\\taro\\a.pdf")
    assert only_row(shortcut(tmp_path, data))["path"] == "C:\\Users\\taro\\a.pdf"


def test_a_unicode_local_base_path_is_preferred(tmp_path: Path) -> None:
    data = build_lnk(
        local_base_path=b"C:\\Users\\taro\\????.docx",
        unicode_base_path="C:\\Users\\taro\\請求書.docx",
    )
    assert only_row(shortcut(tmp_path, data))["path"] == "C:\\Users\\taro\\請求書.docx"


def test_an_ansi_path_in_a_cjk_code_page_is_confirmed_by_the_unicode_relative_path(
    tmp_path: Path,
) -> None:
    data = build_lnk(
        local_base_path="C:\\Users\\taro\\Documents\\請求書.docx".encode("cp932"),
        relative_path="..\\..\\..\\..\\..\\Documents\\請求書.docx",
    )
    values = only_row(shortcut(tmp_path, data, location=RECENT))
    assert values["path"] == "C:\\Users\\taro\\Documents\\請求書.docx"
    assert values["path_key"] == "c:\\users\\taro\\documents\\請求書.docx"


def test_an_unconfirmed_ansi_path_is_kept_with_a_warning(tmp_path: Path) -> None:
    data = build_lnk(local_base_path="C:\\Temp\\請求書.docx".encode("cp932"))
    rows, problems = read_all(FORMAT, shortcut(tmp_path, data))
    assert len(rows) == 1
    assert [p.severity for p in problems] == ["warning"]
    assert "code page" in problems[0].message


def test_a_network_target_keeps_its_unc_path(tmp_path: Path) -> None:
    data = build_lnk(net_name=b"\\\\FS01\\share", suffix=b"Finance\\salaries.xlsx")
    values = only_row(shortcut(tmp_path, data))
    assert values["path"] == "\\\\FS01\\share\\Finance\\salaries.xlsx"
    assert values["path_key"] == "\\\\fs01\\share\\finance\\salaries.xlsx"


def test_userprofile_expands_when_the_location_names_the_user(tmp_path: Path) -> None:
    data = build_lnk(environment="%USERPROFILE%\\Downloads\\invoice.zip")
    values = only_row(shortcut(tmp_path, data, location=RECENT))
    assert values["path"] == "C:\\Users\\taro\\Downloads\\invoice.zip"
    assert values["path_key"] == "c:\\users\\taro\\downloads\\invoice.zip"
    elsewhere = only_row(shortcut(tmp_path, data, name="other.lnk"))
    assert elsewhere["path"] == "%USERPROFILE%\\Downloads\\invoice.zip"
    assert elsewhere["user"] is None


def test_the_mount_gives_the_drive_of_an_expanded_profile_path(tmp_path: Path) -> None:
    data = build_lnk(environment="%userprofile%\\a.txt")
    values = only_row(shortcut(tmp_path, data, location=RECENT, mount="D:"))
    assert values["path"] == "D:\\Users\\taro\\a.txt"


def test_a_relative_path_is_the_last_resort_and_kept_as_written(tmp_path: Path) -> None:
    data = build_lnk(relative_path=".\\migwiz\\migwiz.exe")
    values = only_row(shortcut(tmp_path, data))
    assert values["path"] == ".\\migwiz\\migwiz.exe"


def test_a_shortcut_without_any_target_path_is_an_error(tmp_path: Path) -> None:
    rows, problems = read_all(FORMAT, shortcut(tmp_path, build_lnk()))
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [("file", "error")]


@pytest.mark.parametrize("cut", [20, 0x4C, 0x4C + 2, 0x4C + 6, 0x4C + 30, 0x4C + 60])
def test_a_truncated_shortcut_is_a_problem_not_a_crash(tmp_path: Path, cut: int) -> None:
    data = build_lnk(local_base_path=b"C:\\Users\\taro\\Documents\\plan.docx")
    rows, problems = read_all(FORMAT, shortcut(tmp_path, data[:cut]))
    assert problems, "a truncated shortcut must say so"
    assert all(p.record == "file" for p in problems)
    if rows:  # the path was cut short: the row stands, with a warning that says so
        assert any("truncated" in p.message for p in problems)


def test_a_payload_appended_to_a_dropper_shortcut_is_not_parsed(tmp_path: Path) -> None:
    data = build_lnk(local_base_path=b"C:\\Windows\\System32\\cmd.exe")
    big = data + os.urandom(MAX_LNK_BYTES)
    assert only_row(shortcut(tmp_path, big))["path"] == "C:\\Windows\\System32\\cmd.exe"


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\x4c\x00\x00\x00" + bytes(16),
        b"\x4c\x00\x00\x00" + LINK_CLSID[:-1] + b"\x47",
        b"SQLite format 3\x00" + bytes(100),
        bytes(range(256)),
    ],
)
def test_sniff_rejects_what_is_not_a_shortcut(head: bytes) -> None:
    assert not FORMAT.sniff(head, PurePath("x.lnk"))


def test_sniff_accepts_the_header_and_clsid() -> None:
    assert FORMAT.sniff(build_lnk(relative_path="a"), PurePath("anything.bin"))


def test_a_file_that_is_not_a_shortcut_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.lnk"
    path.write_bytes(b"not a shortcut at all")
    rows, problems = read_all(FORMAT, make_item(path))
    assert rows == []
    assert len(problems) == 1


@pytest.mark.parametrize(
    ("location", "user"),
    [
        ("C/Users/taro/AppData/Roaming/Microsoft/Windows/Recent/a.lnk", "taro"),
        ("C%3A/Documents and Settings/hanako/Recent/a.lnk", "hanako"),
        ("C\\Users\\Taro.Yamada\\Recent\\a.lnk", "Taro.Yamada"),
        ("C/Users/Public/Desktop/a.lnk", None),
        ("C/Users/Default/a.lnk", None),
        ("C/Users/a.lnk", None),
        ("home/john/.config/google-chrome/Default/History", "john"),
        ("a.lnk", None),
    ],
)
def test_user_from_location(location: str, user: str | None) -> None:
    assert user_from_location(location) == user
