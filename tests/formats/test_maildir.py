"""maildir: one message file in ``<box>/cur`` or ``<box>/new``, with the box as its folder.

No real sample in ``../shared/corpora``: the Maildir trees here are built in code from the
layout in https://cr.yp.to/proto/maildir.html and the Courier Maildir++ notes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePath

import pytest

from breachscope.formats import sniff_format
from breachscope.formats.base import Row
from breachscope.formats.eml import Eml
from breachscope.formats.maildir import Maildir, decode_mutf7, folder_name
from breachscope.formats.mbox import Mbox
from tests.conftest import make_item, read_all

OWNER = "t.yamada@example-space.jp"


def message(subject: str = "HTV schedule", message_id: str = "<abc@mail.example>") -> bytes:
    return (
        "Return-Path: <attacker@mail.example>\r\n"
        "Received: from mail.example by mx.example-space.jp; Wed, 6 Jul 2011 10:00:00 +0900\r\n"
        'From: "JAXA Office" <attacker@mail.example>\r\n'
        f"To: {OWNER}\r\n"
        f"Subject: {subject}\r\n"
        "Date: Wed, 6 Jul 2011 10:05:00 +0900\r\n"
        f"Message-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Please see the schedule; questions to ops@example-space.jp.\r\n"
    ).encode()


def make_box(root: Path, name: str) -> Path:
    box = root / name
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    return box


def deliver(
    box: Path, data: bytes, where: str = "cur", name: str = "1310000000.M1P2.mx:2,S"
) -> Path:
    path = box / where / name
    path.write_bytes(data)
    return path


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    """A Maildir++ tree: the top box with ``.Sent`` and ``.Archive.2011`` sub-folders."""
    top = make_box(tmp_path, "Maildir")
    make_box(top, ".Sent")
    make_box(top, ".Archive.2011")
    return top


# --- sniffing --------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["cur", "new"])
def test_sniffs_a_message_in_cur_or_new(maildir: Path, where: str) -> None:
    path = deliver(maildir, message(), where)
    assert Maildir().sniff(message(), path) is True


def test_does_not_sniff_a_delivery_still_in_tmp(maildir: Path) -> None:
    path = deliver(maildir, message(), "tmp")
    assert Maildir().sniff(message(), path) is False


def test_does_not_sniff_outside_a_maildir(tmp_path: Path) -> None:
    (tmp_path / "cur").mkdir()  # a folder called cur, but no new beside it
    path = tmp_path / "cur" / "mail.eml"
    path.write_bytes(message())
    assert Maildir().sniff(message(), path) is False
    assert Maildir().sniff(message(), tmp_path / "mail.eml") is False


def test_does_not_sniff_other_content_in_a_maildir(maildir: Path) -> None:
    data = b"timestamp,username\n2011-07-06 10:12:00,tyamada\n"
    path = deliver(maildir, data)
    assert Maildir().sniff(data, path) is False


def test_does_not_sniff_a_path_that_does_not_exist() -> None:
    assert Maildir().sniff(message(), PurePath("/nowhere/box/cur/1.mx")) is False


def test_sniffs_before_eml_and_mbox(maildir: Path) -> None:
    assert Maildir.sniff_priority < Mbox.sniff_priority < Eml.sniff_priority
    path = deliver(maildir, message())
    assert isinstance(sniff_format(message(), path), Maildir)
    loose = maildir.parent / "loose.eml"
    loose.write_bytes(message())
    assert isinstance(sniff_format(message(), loose), Eml)


# --- folders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("box", "folder"),
    [
        ("Maildir", "INBOX"),
        ("Maildir/.Sent", "Sent"),
        ("Maildir/.Archive.2011", "Archive/2011"),
        ("Maildir/.&ZeVnLIqe-", "日本語"),
        ("work", "work"),
    ],
)
def test_folder_names(tmp_path: Path, box: str, folder: str) -> None:
    assert folder_name(make_box(tmp_path, box)) == folder


def test_a_top_box_with_another_name_is_inbox_when_it_holds_subfolders(tmp_path: Path) -> None:
    top = make_box(tmp_path, "t.yamada")
    make_box(top, ".Drafts")
    assert folder_name(top) == "INBOX"


@pytest.mark.parametrize("name", ["&ZeVnLIqe", "&!!!-", "plain"])
def test_undecodable_utf7_names_are_kept(name: str) -> None:
    assert decode_mutf7(name) == name


# --- reading ---------------------------------------------------------------------------------


def test_reads_a_message_with_its_folder(maildir: Path) -> None:
    path = deliver(maildir / ".Sent", message())
    rows, problems = read_all(Maildir(), make_item(path, owner=OWNER, system="corp-mail"))
    assert problems == []
    messages = [r.values for r in rows if r.table == "messages"]
    assert len(messages) == 1
    row = messages[0]
    assert row["folder"] == "Sent"
    assert row["record"] == "file"
    assert row["message_id"] == "<abc@mail.example>"
    assert row["sender"] == "attacker@mail.example"
    assert row["display_name"] == "JAXA Office"
    assert row["recipients"] == [OWNER]
    assert row["subject"] == "HTV schedule"
    assert row["mailbox_owner"] == OWNER
    assert row["time"] == dt.datetime(2011, 7, 6, 1, 5, tzinfo=dt.UTC)
    addresses = {(r.values["address"], r.values["where"]) for r in rows if r.table == "addresses"}
    assert ("ops@example-space.jp", "mention") in addresses
    assert ("attacker@mail.example", "from") in addresses
    assert all(r.values["record"] == "file" for r in rows)
    assert all("evidence_id" not in r.values for r in rows)


def test_inbox_message_in_new(maildir: Path) -> None:
    path = deliver(maildir, message(subject="unread"), "new", "1310000001.M2P2.mx")
    rows, _ = read_all(Maildir(), make_item(path))
    (row,) = (r.values for r in rows if r.table == "messages")
    assert (row["folder"], row["subject"]) == ("INBOX", "unread")


def test_a_leading_envelope_from_line_is_not_a_header(maildir: Path) -> None:
    data = b"From attacker@mail.example Wed Jul  6 10:05:00 2011\n" + message()
    path = deliver(maildir, data)
    assert Maildir().sniff(data, path) is True
    rows, problems = read_all(Maildir(), make_item(path))
    assert problems == []
    (row,) = (r for r in rows if r.table == "messages")
    assert isinstance(row, Row)
    assert row.values["subject"] == "HTV schedule"
    assert row.values["message_id"] == "<abc@mail.example>"


def test_an_empty_file_is_one_error(maildir: Path) -> None:
    path = deliver(maildir, b"")
    rows, problems = read_all(Maildir(), make_item(path))
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [("file", "error")]
