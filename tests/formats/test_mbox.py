"""Tests for the ``mbox`` format (RFC 4155).

Real samples: none (``../shared/corpora`` holds no mbox file), so every mbox here is built in
code from messages made by `tests.formats.test__mail.build_message`; one test wraps the real
phishing corpus messages into an mbox to check that splitting keeps them whole.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path, PurePath

import pytest

from breachscope.formats import _mail, get_format, sniff_format
from breachscope.formats.base import Row
from breachscope.formats.eml import Eml
from breachscope.formats.mbox import Mbox, is_separator, unescape
from tests.conftest import make_item, read_all
from tests.formats.test__mail import PDF, build_message, write

FROM_LINE = b"From MAILER-DAEMON Tue Jul  5 10:12:00 2011\n"


def mbox_of(*messages: bytes, separator: bytes = FROM_LINE) -> tuple[bytes, list[int]]:
    """An mbox of ``messages`` (each followed by a blank line) and the offsets of its From lines."""
    data = b""
    offsets = []
    for message in messages:
        offsets.append(len(data))
        data += separator + message.rstrip(b"\n") + b"\n\n"
    return data, offsets


def messages(rows: list[Row]) -> list[dict[str, object]]:
    return [row.values for row in rows if row.table == "messages"]


def test_it_is_registered_before_eml() -> None:
    mbox = get_format("mbox")
    assert isinstance(mbox, Mbox)
    assert mbox.sniff_priority < Eml.sniff_priority
    assert mbox.tables == ("messages", "attachments", "addresses") and mbox.version == "1"


def test_sniff_takes_an_mbox_and_sniffing_prefers_it_over_eml() -> None:
    data, _ = mbox_of(build_message())
    assert Mbox().sniff(data, PurePath("Inbox")) is True
    sniffed = sniff_format(data, PurePath("Inbox"))
    assert sniffed is not None and sniffed.name == "mbox"


@pytest.mark.parametrize(
    "head",
    [
        build_message(),  # an eml: no From_ line
        b"From the desk of the president\nWe are pleased to announce\n",
        b"From: a@example.org\nSubject: x\n\nbody\n",
        b"Jul  5 10:12:00 ws-0423 sshd[42]: Accepted password for taro\n",
        b"From,To,Subject\na@example.org,b@example.org,x\n",
    ],
)
def test_sniff_refuses_what_is_not_an_mbox(head: bytes) -> None:
    assert Mbox().sniff(head, PurePath("mbox")) is False


def test_records_are_byte_offsets_of_the_from_lines(tmp_path: Path) -> None:
    data, offsets = mbox_of(
        build_message(message_id="<1@x.example>"),
        build_message(message_id="<2@x.example>", attachments=[("a.pdf", PDF, "application/pdf")]),
        build_message(message_id="<3@x.example>"),
    )
    assert offsets[0] == 0 and all(data[o:].startswith(b"From ") for o in offsets)
    item = make_item(write(tmp_path, data, "Inbox"), owner="tyamada")
    rows, problems = read_all(Mbox(), item)
    assert problems == []
    assert [(m["message_id"], m["record"]) for m in messages(rows)] == [
        (f"<{n}@x.example>", f"offset:{offset}")
        for n, offset in zip((1, 2, 3), offsets, strict=True)
    ]
    assert all(m["folder"] is None and m["mailbox_owner"] == "tyamada" for m in messages(rows))
    [attachment] = [r.values for r in rows if r.table == "attachments"]
    assert attachment["record"] == f"offset:{offsets[1]}"
    assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest()


def test_escaped_from_lines_do_not_split_and_are_unescaped(tmp_path: Path) -> None:
    body = "Forwarded:\n\nFrom Alice, with love\n>From the archive\nend\n"
    first = (
        build_message(message_id="<1@x.example>", body=body)
        .replace(b"\nFrom Alice", b"\n>From Alice")
        .replace(b"\n>From the archive", b"\n>>From the archive")
    )
    data, offsets = mbox_of(first, build_message(message_id="<2@x.example>"))
    rows, problems = read_all(Mbox(), make_item(write(tmp_path, data, "mbox")))
    assert problems == []
    assert [m["record"] for m in messages(rows)] == [f"offset:{o}" for o in offsets]
    assert unescape(b">From Alice\n") == b"From Alice\n"
    assert unescape(b">>From the archive\n") == b">From the archive\n"
    assert unescape(b"> From here\n") == b"> From here\n"


def test_an_unescaped_body_line_without_a_date_does_not_split(tmp_path: Path) -> None:
    body = "Dear friend,\n\nFrom the desk of the president: act now.\n"
    data, offsets = mbox_of(build_message(body=body), build_message(message_id="<2@x.example>"))
    rows, problems = read_all(Mbox(), make_item(write(tmp_path, data, "mbox")))
    assert problems == []
    assert [m["record"] for m in messages(rows)] == [f"offset:{o}" for o in offsets]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n", True),
        (b"From - Thu Jun 04 12:00:00 2020\n", True),
        (b"From 1234567890@xxx Wed Jan 01 00:00:00 +0000 2020\r\n", True),
        (b"From someone@example.org Sat, 3 Jan 2022 10:00:00 +0000\n", True),
        (b"From the desk of the president\n", False),
        (b"From: a@example.org\n", False),
        (b"from lower-case Fri Jul  8 12:08:34 2011\n", False),
    ],
)
def test_is_separator(line: bytes, expected: bool) -> None:
    assert is_separator(line) is expected


def test_a_corrupt_message_is_an_error_and_the_next_one_is_read(tmp_path: Path) -> None:
    data, offsets = mbox_of(
        build_message(message_id="<1@x.example>"),
        b"\x00\x01\x02 binary junk that is no header\n\nmore junk\n",
        build_message(message_id="<3@x.example>"),
    )
    rows, problems = read_all(Mbox(), make_item(write(tmp_path, data, "mbox")))
    assert [m["message_id"] for m in messages(rows)] == ["<1@x.example>", "<3@x.example>"]
    assert [(p.severity, p.record) for p in problems] == [("error", f"offset:{offsets[1]}")]


def test_bytes_before_the_first_from_line_are_reported(tmp_path: Path) -> None:
    data, _ = mbox_of(build_message())
    junk = b"garbage left by a broken writer\n"
    rows, problems = read_all(Mbox(), make_item(write(tmp_path, junk + data, "mbox")))
    assert [m["record"] for m in messages(rows)] == [f"offset:{len(junk)}"]
    assert [(p.severity, p.record) for p in problems] == [("error", "offset:0")]


def test_a_file_without_from_lines_is_an_error(tmp_path: Path) -> None:
    rows, problems = read_all(Mbox(), make_item(write(tmp_path, b"just text\n", "mbox")))
    assert rows == []
    assert [(p.severity, p.record) for p in problems] == [("error", "offset:0")]


def test_an_empty_file_yields_nothing(tmp_path: Path) -> None:
    assert read_all(Mbox(), make_item(write(tmp_path, b"", "mbox"))) == ([], [])


def test_crlf_mbox_offsets_and_messages(tmp_path: Path) -> None:
    crlf = [build_message(message_id=f"<{n}@x.example>").replace(b"\n", b"\r\n") for n in (1, 2)]
    data, offsets = mbox_of(*crlf, separator=FROM_LINE.replace(b"\n", b"\r\n"))
    data = data.replace(b"\n\n", b"\r\n\r\n").replace(b"\r\r", b"\r")
    offsets = [data.index(b"From MAILER"), data.index(b"From MAILER", 1)]
    rows, problems = read_all(Mbox(), make_item(write(tmp_path, data, "mbox")))
    assert problems == []
    assert [(m["message_id"], m["record"]) for m in messages(rows)] == [
        ("<1@x.example>", f"offset:{offsets[0]}"),
        ("<2@x.example>", f"offset:{offsets[1]}"),
    ]


def test_offsets_are_counted_after_decompression(tmp_path: Path) -> None:
    data, offsets = mbox_of(build_message(), build_message(message_id="<2@x.example>"))
    path = write(tmp_path, gzip.compress(data), "mbox.gz")
    rows, _ = read_all(Mbox(), make_item(path))
    assert [m["record"] for m in messages(rows)] == [f"offset:{o}" for o in offsets]


def test_long_lines_are_read_in_pieces_without_splitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_mail, "READ_CHUNK", 64)
    long_line = "x" * 300 + "\n\nFrom MAILER-DAEMON Tue Jul  5 10:12:00 2011 is not at a line start"
    data, offsets = mbox_of(
        build_message(body=long_line.replace("\n\n", " ")), build_message(message_id="<2@x>")
    )
    rows, problems = read_all(Mbox(), make_item(write(tmp_path, data, "mbox")))
    assert problems == []
    assert [m["record"] for m in messages(rows)] == [f"offset:{o}" for o in offsets]


def test_a_message_without_id_gets_the_same_synthetic_id_as_its_eml_copy(tmp_path: Path) -> None:
    raw = build_message(message_id=None)
    data, _ = mbox_of(raw, build_message(message_id="<2@x.example>"))
    from_mbox = messages(read_all(Mbox(), make_item(write(tmp_path, data, "mbox")))[0])
    from_eml = messages(read_all(Eml(), make_item(write(tmp_path, raw, "m.eml")))[0])
    assert from_mbox[0]["message_id"] == from_eml[0]["message_id"]
    assert str(from_eml[0]["message_id"]).endswith("@breachscope.invalid>")


def test_a_huge_message_keeps_its_headers_and_the_next_one_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_mail, "MAX_MESSAGE_BYTES", 4096)
    data, offsets = mbox_of(
        build_message(message_id="<1@x.example>", attachments=[("a.pdf", PDF, "application/pdf")]),
        build_message(message_id="<2@x.example>"),
    )
    rows, problems = read_all(Mbox(), make_item(write(tmp_path, data, "mbox")))
    assert [m["message_id"] for m in messages(rows)] == ["<1@x.example>", "<2@x.example>"]
    assert [r for r in rows if r.table == "attachments"] == []
    assert [(p.severity, p.record) for p in problems] == [("warning", f"offset:{offsets[0]}")]


@pytest.mark.corpus
def test_corpus_messages_survive_a_round_trip_through_an_mbox(
    corpora: Path, tmp_path: Path
) -> None:
    # mboxrd-escape 40 real phishing messages, then read them back: one message each, in order.
    files = sorted((corpora / "phishing_pot").glob("*.eml"))[:40]
    escaped = []
    for path in files:
        lines = path.read_bytes().splitlines(keepends=True)
        escaped.append(
            b"".join(
                b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in lines
            )
        )
    data, offsets = mbox_of(*escaped)
    rows, problems = read_all(Mbox(), make_item(write(tmp_path, data, "mbox")))
    assert all(p.severity == "warning" for p in problems)
    from_mbox = messages(rows)
    assert [m["record"] for m in from_mbox] == [f"offset:{o}" for o in offsets]
    for path, message in zip(files, from_mbox, strict=True):
        [alone] = messages(read_all(Eml(), make_item(path))[0])
        assert {**message, "record": "file"} == alone, path.name
