"""Tests for `breachscope.formats._mail`, the message-to-rows logic shared by mbox and eml.

Messages are built in code (`build_message` with `email.message.EmailMessage`, or literal bytes
where a header must be malformed on purpose). The real phishing corpus is read by the ``eml``
tests, which also list the odd address headers found there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterable
from email.message import EmailMessage
from pathlib import Path

import pytest

from breachscope.formats import _mail
from breachscope.formats.base import Blob, EvidenceItem, Problem, Row
from tests.conftest import make_item

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


def build_message(
    *,
    sender: str | None = '"Taro Yamada" <T.Yamada@Example-Space.JP>',
    to: str | None = "hanako@example-space.jp",
    cc: str | None = None,
    bcc: str | None = None,
    reply_to: str | None = None,
    subject: str = "Invoice 4711",
    date: str | None = "Tue, 05 Jul 2011 10:12:00 +0900",
    message_id: str | None = "<m1@mail.example-space.jp>",
    body: str = "Please see the attached invoice.\n",
    attachments: Iterable[tuple[str, bytes, str]] = (),
    extra: Iterable[tuple[str, str]] = (),
) -> bytes:
    """The bytes of one message (LF line ends) built with the standard library."""
    message = EmailMessage()
    for name, value in (
        ("From", sender),
        ("To", to),
        ("Cc", cc),
        ("Bcc", bcc),
        ("Reply-To", reply_to),
        ("Subject", subject),
        ("Date", date),
        ("Message-ID", message_id),
        *extra,
    ):
        if value is not None:
            message[name] = value
    message.set_content(body)
    for filename, content, mime in attachments:
        maintype, subtype = mime.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def write(tmp_path: Path, data: bytes, name: str = "message.eml") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows_of(
    raw: bytes, item: EvidenceItem, record: str = "file"
) -> tuple[list[Row], list[Problem]]:
    rows: list[Row] = []
    problems: list[Problem] = []
    for thing in _mail.message_rows(raw, item, record):
        if isinstance(thing, Row):
            rows.append(thing)
        elif isinstance(thing, Problem):
            problems.append(thing)
    return rows, problems


def blobs_of(raw: bytes, item: EvidenceItem) -> list[Blob]:
    return [thing for thing in _mail.message_rows(raw, item, "file") if isinstance(thing, Blob)]


def table(rows: list[Row], name: str) -> list[dict[str, object]]:
    return [row.values for row in rows if row.table == name]


def addresses(rows: list[Row]) -> set[tuple[str, str]]:
    return {(str(r["where"]), str(r["address"])) for r in table(rows, "addresses")}


@pytest.fixture
def item(tmp_path: Path) -> EvidenceItem:
    return make_item(
        write(tmp_path, b"x", "placeholder"),
        owner="tyamada",
        system="mail",
        host="ws-0423",
        timezone="Asia/Tokyo",
    )


def test_a_message_becomes_one_messages_row_with_normalised_addresses(
    item: EvidenceItem,
) -> None:
    raw = build_message(
        to='"Hanako" <Hanako@Example-Space.jp>, jiro+news@example-space.jp',
        cc="saburo@partner.example",
        bcc="Audit <audit@Example-Space.jp>",
        reply_to="collect@evil.example",
        extra=[("Authentication-Results", "mx.example-space.jp; spf=fail smtp.mailfrom=x")],
    )
    rows, problems = rows_of(raw, item)
    assert problems == []
    [message] = table(rows, "messages")
    assert message == {
        "message_id": "<m1@mail.example-space.jp>",
        "time": dt.datetime(2011, 7, 5, 1, 12, tzinfo=dt.UTC),
        "sender": "t.yamada@example-space.jp",
        "display_name": "Taro Yamada",
        "reply_to": "collect@evil.example",
        "recipients": [
            "hanako@example-space.jp",
            "jiro+news@example-space.jp",
            "saburo@partner.example",
            "audit@example-space.jp",
        ],
        "subject": "Invoice 4711",
        "auth_results": "mx.example-space.jp; spf=fail smtp.mailfrom=x",
        "mailbox_owner": "tyamada",
        "folder": None,
        "system": "mail",
        "host": "ws-0423",
        "record": "file",
    }
    assert addresses(rows) == {
        ("from", "t.yamada@example-space.jp"),
        ("to", "hanako@example-space.jp"),
        ("to", "jiro+news@example-space.jp"),
        ("cc", "saburo@partner.example"),
        ("bcc", "audit@example-space.jp"),
        ("reply-to", "collect@evil.example"),
    }
    bcc = next(r for r in table(rows, "addresses") if r["where"] == "bcc")
    assert bcc["display_name"] == "Audit"
    assert bcc["message_id"] == "<m1@mail.example-space.jp>"
    assert bcc["mailbox_owner"] == "tyamada"
    assert "evidence_id" not in bcc


def test_group_members_are_addresses_and_group_names_are_not(item: EvidenceItem) -> None:
    raw = (
        b"From: a@example.org\n"
        b"To: Project Team: Ann <ann@Example.org>, bob@example.org;, carol@example.org\n"
        b"Cc: undisclosed-recipients:;\n"
        b"Subject: groups\n\nbody\n"
    )
    rows, _ = rows_of(raw, item)
    assert addresses(rows) == {
        ("from", "a@example.org"),
        ("to", "ann@example.org"),
        ("to", "bob@example.org"),
        ("to", "carol@example.org"),
    }
    [message] = table(rows, "messages")
    assert message["recipients"] == ["ann@example.org", "bob@example.org", "carol@example.org"]


def test_idna_domains_are_encoded_and_8bit_headers_read_as_utf8(item: EvidenceItem) -> None:
    raw = (
        "From: Jürgen Müller <Jürgen@Bücher.Example>\n"
        "To: =?utf-8?b?5bGx55Sw5aSq6YOO?= <t@xn--bcher-kva.example>\n"
        "Subject: Grüße\n\nbody\n"
    ).encode()
    rows, _ = rows_of(raw, item)
    [message] = table(rows, "messages")
    assert message["sender"] == "jürgen@xn--bcher-kva.example"
    assert message["display_name"] == "Jürgen Müller"
    assert message["subject"] == "Grüße"
    to = next(r for r in table(rows, "addresses") if r["where"] == "to")
    assert (to["address"], to["display_name"]) == ("t@xn--bcher-kva.example", "山田太郎")


def test_bare_words_and_undotted_domains_are_skipped(item: EvidenceItem) -> None:
    raw = b"From: Welcome\nTo: phishing@pot, [to], example.com, x@@y.com\nSubject: s\n\nb\n"
    rows, problems = rows_of(raw, item)
    assert problems == []
    assert addresses(rows) == set()
    [message] = table(rows, "messages")
    assert (message["sender"], message["recipients"]) == (None, [])


def test_an_address_inside_a_quoted_display_name_is_never_taken(item: EvidenceItem) -> None:
    raw = (
        b'From: "<security@paypal.com>" <collect@evil.example>, junk;\n'
        b'Sender: Gift card",<angebote@newsletter.example>\n'
        b"To: a@example.org; b@example.org\n\nbody\n"
    )
    rows, _ = rows_of(raw, item)
    assert addresses(rows) == {
        ("from", "collect@evil.example"),
        ("sender", "angebote@newsletter.example"),
        ("to", "a@example.org"),
        ("to", "b@example.org"),
    }


def test_body_mentions_come_from_text_plain_only_and_are_bounded(
    item: EvidenceItem, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = build_message(
        body="Write to Payments@Evil.Example or help@evil.example.\nNot me: x@localhost\n",
        attachments=[("notes.txt", b"hidden@attachment.example", "text/plain")],
    )
    rows, _ = rows_of(raw, item)
    mentions = {a for where, a in addresses(rows) if where == "mention"}
    assert mentions == {"payments@evil.example", "help@evil.example"}
    monkeypatch.setattr(_mail, "MAX_MENTIONS_PER_MESSAGE", 1)
    assert _mail.body_mentions(_mail.parse_message(raw)) == ["payments@evil.example"]


def test_the_mention_pattern_does_not_backtrack_on_long_runs() -> None:
    text = "a" * 200_000 + "@" + "b" * 200_000
    assert list(_mail.MENTION_PATTERN.finditer(text)) == []


def test_attachments_get_sha256_size_and_mime(item: EvidenceItem) -> None:
    raw = build_message(
        attachments=[
            ("Invoice 4711.pdf", PDF, "application/pdf"),
            ("readme.txt", b"plain text attachment\n", "text/plain"),
        ]
    )
    rows, problems = rows_of(raw, item)
    assert problems == []
    found = table(rows, "attachments")
    assert [(a["filename"], a["mime"], a["size"], a["sha256"]) for a in found] == [
        ("Invoice 4711.pdf", "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest()),
        (
            "readme.txt",
            "text/plain",
            len(b"plain text attachment\n"),
            hashlib.sha256(b"plain text attachment\n").hexdigest(),
        ),
    ]
    assert all(a["message_id"] == "<m1@mail.example-space.jp>" for a in found)
    payloads = list(_mail.attachment_payloads(_mail.parse_message(raw)))
    assert payloads[0] == ("Invoice 4711.pdf", "application/pdf", PDF)
    assert blobs_of(raw, item) == [
        Blob(hashlib.sha256(PDF).hexdigest(), PDF),
        Blob(hashlib.sha256(b"plain text attachment\n").hexdigest(), b"plain text attachment\n"),
    ]


def test_inline_images_without_name_are_attachments_and_bodies_are_not(
    item: EvidenceItem,
) -> None:
    message = EmailMessage()
    message["From"] = "a@example.org"
    message.set_content("text body")
    message.add_alternative("<p>html body</p>", subtype="html")
    html = message.get_body(preferencelist=("html",))
    assert isinstance(html, EmailMessage)
    html.add_related(b"\x89PNG fake", "image", "png", cid="<logo>")
    rows, _ = rows_of(message.as_bytes(), item)
    assert [(a["filename"], a["mime"]) for a in table(rows, "attachments")] == [(None, "image/png")]


def test_an_attachment_above_the_limit_keeps_its_row_but_not_its_content(
    item: EvidenceItem, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_mail, "MAX_ATTACHMENT_BYTES", 1000)
    raw = build_message(attachments=[("big.pdf", PDF, "application/pdf")])
    rows, problems = rows_of(raw, item)
    [attachment] = table(rows, "attachments")
    assert (attachment["size"], attachment["sha256"]) == (
        len(PDF),
        hashlib.sha256(PDF).hexdigest(),
    )
    assert [p.severity for p in problems] == ["warning"]
    assert "MAX_ATTACHMENT_BYTES" in problems[0].message
    assert list(_mail.attachment_payloads(_mail.parse_message(raw))) == []
    assert blobs_of(raw, item) == []


def test_a_message_above_the_size_limit_keeps_its_headers(
    item: EvidenceItem, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_mail, "MAX_MESSAGE_BYTES", 2000)
    raw = build_message(attachments=[("big.pdf", PDF, "application/pdf")])
    whole = _mail.RawMessage.from_bytes(raw, limit=10**9)
    cut = _mail.RawMessage.from_bytes(raw)
    assert cut.truncated and len(cut.data) < 2000 and cut.size == whole.size
    assert cut.digest == whole.digest
    rows, problems = rows_of(raw, item)
    assert [r["sender"] for r in table(rows, "messages")] == ["t.yamada@example-space.jp"]
    assert table(rows, "attachments") == []
    assert ("from", "t.yamada@example-space.jp") in addresses(rows)
    assert [p.severity for p in problems] == ["warning"]


def test_a_missing_message_id_is_a_stable_synthetic_one(item: EvidenceItem) -> None:
    raw = build_message(message_id=None)
    rows, _ = rows_of(raw, item)
    crlf = raw.replace(b"\n", b"\r\n") + b"\r\n\r\n"
    again, _ = rows_of(crlf, item)
    digest = hashlib.sha256(raw.rstrip(b"\n") + b"\n").hexdigest()
    expected = f"<{digest}@breachscope.invalid>"
    assert table(rows, "messages")[0]["message_id"] == expected
    assert table(again, "messages")[0]["message_id"] == expected
    assert {r["message_id"] for r in table(rows, "addresses")} == {expected}


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Tue, 05 Jul 2011 10:12:00 +0900", dt.datetime(2011, 7, 5, 1, 12, tzinfo=dt.UTC)),
        ("5 Jul 2011 01:12:00 GMT", dt.datetime(2011, 7, 5, 1, 12, tzinfo=dt.UTC)),
        # RFC 5322 3.3: -0000 is UTC with the sender's zone unknown, not the item's zone.
        ("Tue, 05 Jul 2011 01:12:00 -0000", dt.datetime(2011, 7, 5, 1, 12, tzinfo=dt.UTC)),
        # No zone at all: the item's zone (Asia/Tokyo here).
        ("Tue, 05 Jul 2011 10:12:00", dt.datetime(2011, 7, 5, 1, 12, tzinfo=dt.UTC)),
        ("Tue, 05 Jul 2011 10:12:60 +0900", dt.datetime(2011, 7, 5, 1, 12, 59, tzinfo=dt.UTC)),
    ],
)
def test_dates_become_aware_utc(item: EvidenceItem, date: str, expected: dt.datetime) -> None:
    assert _mail.parse_date(date, item) == (expected, None)


@pytest.mark.parametrize("date", ["11-06-2023", "someday", "Tue, 45 Jul 2011 10:12:00 +0900"])
def test_an_unreadable_date_is_null_with_a_warning(item: EvidenceItem, date: str) -> None:
    raw = b"Date: " + date.encode() + b"\n" + build_message(date=None)
    rows, problems = rows_of(raw, item)
    assert table(rows, "messages")[0]["time"] is None
    assert [(p.severity, p.record) for p in problems] == [("warning", "file")]


def test_the_clock_offset_of_the_item_is_added(tmp_path: Path) -> None:
    item = make_item(write(tmp_path, b"x"), clock_offset=-60.0)
    assert _mail.parse_date("Tue, 05 Jul 2011 01:12:00 +0000", item)[0] == dt.datetime(
        2011, 7, 5, 1, 11, tzinfo=dt.UTC
    )


def test_a_header_that_crashes_the_stdlib_parser_is_kept_as_text(item: EvidenceItem) -> None:
    # From phishing_pot sample-187: Python 3.11's Message-ID parser raises IndexError on it.
    raw = b"From: a@example.org\nMessage-ID: < [an10]. [an6].[anl12] [an11]@cpfl.com.br>\n\nb\n"
    rows, problems = rows_of(raw, item)
    assert problems == []
    assert table(rows, "messages")[0]["message_id"] == "< [an10]. [an6].[anl12] [an11]@cpfl.com.br>"


def test_non_utf8_bytes_never_reach_a_column(item: EvidenceItem) -> None:
    raw = b"From: M\xfcller <m@example.org>\nSubject: caf\xe9\n\nb\n"
    rows, _ = rows_of(raw, item)
    [message] = table(rows, "messages")
    assert message["display_name"] == "M\ufffdller"
    assert message["subject"] == "caf\ufffd"


@pytest.mark.parametrize("raw", [b"", b"\x00\x01\x02 not a header\n\nbody\n"])
def test_something_that_is_not_a_message_is_one_error(item: EvidenceItem, raw: bytes) -> None:
    rows, problems = rows_of(raw, item, record="offset:42")
    assert rows == []
    assert [(p.severity, p.record) for p in problems] == [("error", "offset:42")]


def test_an_unexpected_failure_is_an_error_for_that_message_only(
    item: EvidenceItem, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(message: object) -> list[str]:
        raise LookupError("something nobody foresaw")

    monkeypatch.setattr(_mail, "header_addresses", explode)
    rows, problems = rows_of(build_message(), item)
    assert rows == []
    assert len(problems) == 1 and "LookupError" in problems[0].message


def test_absurdly_nested_parts_keep_the_message_and_its_addresses(item: EvidenceItem) -> None:
    raw = b"From: a@example.org\nTo: b@example.org\n"
    for depth in range(3000):
        raw += b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (depth, depth)
    raw += b"Content-Type: application/pdf\n\n%PDF\n"
    rows, problems = rows_of(raw, item)
    assert len(table(rows, "messages")) == 1
    assert addresses(rows) == {("from", "a@example.org"), ("to", "b@example.org")}
    assert [p.severity for p in problems] == ["warning"]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"Received: from x\n\tby y\nFrom: a@b.c\nSubject: s\n\nbody", True),
        (b"Return-Path: <a@b.c>\r\nDelivered-To: x@y.z\r\n", True),
        (b"MIME-Version: 1.0\nContent-Type: text/plain\nFrom: a@b.c\n", True),
        (b"Jan  5 10:12:00 host sshd[42]: Accepted password for x from 1.2.3.4\n", False),
        (b"time,user,from,subject\n2011-07-05,x,a@b.c,hello\n", False),
        (b"Date: Tue, 05 Jul 2011\nContent-Type: text/html\nServer: nginx\n", False),
        (b"HTTP/1.1 200 OK\nDate: x\nFrom: y\n", False),
        (b"Subject: only one\n\nbody", False),
        (b'{"From": "a@b.c", "Subject": "x"}\n', False),
        (b"\n\nFrom: a@b.c\nSubject: s\n", False),
    ],
)
def test_looks_like_headers(head: bytes, expected: bool) -> None:
    assert _mail.looks_like_headers(head) is expected


def test_a_long_recipient_list_is_read_in_full(item: EvidenceItem) -> None:
    names = [f'"User {n}, Sales" <User{n}@Example{n % 7}.org>' for n in range(3000)]
    raw = b"From: a@example.org\nTo: Staff: " + ", ".join(names).encode() + b";\n\nbody\n"
    rows, problems = rows_of(raw, item)
    assert problems == []
    [message] = table(rows, "messages")
    recipients = message["recipients"]
    assert isinstance(recipients, list) and len(recipients) == 3000
    assert recipients[0] == "user0@example0.org" and recipients[-1] == "user2999@example3.org"
    to = [r for r in table(rows, "addresses") if r["where"] == "to"]
    assert to[0]["display_name"] == "User 0, Sales"


def test_top_level_pieces_respect_quotes_comments_and_angles() -> None:
    text = '"Doe, John" <j@x.org>, (a, comment) k@y.org; Team: <l@z.org>, "open, quote'
    assert _mail._top_level_pieces(text) == [
        '"Doe, John" <j@x.org>',
        " (a, comment) k@y.org",
        " Team",
        " <l@z.org>",
        ' "open, quote',
    ]


@pytest.mark.parametrize("header", ["To", "Content-Type", "Subject", "Message-ID", "Date"])
def test_hostile_long_headers_are_read_in_linear_time(item: EvidenceItem, header: str) -> None:
    # The stdlib parsers are quadratic on these; unguarded, one of them takes minutes.
    size = 400_000
    values = ['"' * size, ';"' * (size // 2), "(" * size, "\\" * size, ";@" * (size // 2)]
    started = time.monotonic()
    for value in values:
        raw = f"From: a@example.org\n{header}: {value}\nMIME-Version: 1.0\n\nbody\n".encode()
        rows, problems = rows_of(raw, item)
        assert len(table(rows, "messages")) == 1
        assert all(p.severity == "warning" for p in problems)
    assert time.monotonic() - started < 30
