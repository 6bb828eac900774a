"""Tests for the ``eml`` format (one RFC 5322 message file).

Real samples: ``../shared/corpora/phishing_pot/`` (988 real phishing messages, read in place,
never copied): every one must parse, and the odd address headers found there by surveying the
corpus are listed below with what each must yield. Messages built in code come from
`tests.formats.test__mail.build_message`.
"""

from __future__ import annotations

import email
import email.policy
import gzip
import hashlib
from pathlib import Path, PurePath

import pyarrow as pa
import pytest

from breachscope.formats import get_format, sniff_format
from breachscope.formats.base import Row
from breachscope.formats.eml import Eml
from breachscope.schema import TABLES
from tests.conftest import make_item, read_all
from tests.formats.test__mail import PDF, build_message, write

CORPUS = "phishing_pot"
CORPUS_SIZE = 988


def rows_by_table(rows: list[Row], table: str) -> list[dict[str, object]]:
    return [row.values for row in rows if row.table == table]


def header_addresses(rows: list[Row]) -> dict[str, set[str]]:
    """where -> addresses, for header addresses only (mentions left out)."""
    found: dict[str, set[str]] = {}
    for values in rows_by_table(rows, "addresses"):
        if values["where"] != "mention":
            found.setdefault(str(values["where"]), set()).add(str(values["address"]))
    return found


def test_it_is_registered_with_its_tables() -> None:
    eml = get_format("eml")
    assert isinstance(eml, Eml)
    assert (eml.version, eml.tables, eml.sniff_priority) == (
        "1",
        ("messages", "attachments", "addresses"),
        60,
    )


@pytest.mark.parametrize(
    "head",
    [
        build_message(),
        b"Received: from mx.example.org by mx.example-space.jp\r\n\tfor <t@example-space.jp>\r\n"
        b"Subject: hi\r\n\r\nbody",
        b"Return-Path: <bounce@example.org>\nDelivered-To: t@example-space.jp\nX-Long: "
        + b"x" * 9000,
    ],
)
def test_sniff_takes_mail_headers(head: bytes) -> None:
    assert Eml().sniff(head[:8192], PurePath("no-extension")) is True


@pytest.mark.parametrize(
    "head",
    [
        b"Jul  5 10:12:00 ws-0423 sshd[4242]: Accepted password for taro from 10.0.0.5\n" * 3,
        b"2011-07-05T10:12:00Z,taro,login,from: 10.0.0.5\n",
        b"date,from,to,subject\n2011-07-05,a@example.org,b@example.org,Invoice\n",
        b"Date: Tue, 05 Jul 2011 10:12:00 GMT\nServer: Apache\nContent-Type: text/html\n\n<html>",
        b"#Software: Microsoft Exchange Server\n#Date: 2011-07-05\n#Fields: date-time,sender\n",
        b'{"from": "a@example.org", "subject": "Invoice"}\n',
        b"",
    ],
)
def test_sniff_refuses_logs_csv_and_other_text(head: bytes) -> None:
    assert Eml().sniff(head, PurePath("message.eml")) is False


def test_a_file_is_one_message_with_record_file(tmp_path: Path) -> None:
    path = write(tmp_path, build_message(attachments=[("a.pdf", PDF, "application/pdf")]))
    item = make_item(path, owner="tyamada", system="mail", host="ws-0423")
    rows, problems = read_all(Eml(), item)
    assert problems == []
    assert {row.values["record"] for row in rows} == {"file"}
    [message] = rows_by_table(rows, "messages")
    assert message["sender"] == "t.yamada@example-space.jp"
    assert (message["mailbox_owner"], message["system"], message["host"]) == (
        "tyamada",
        "mail",
        "ws-0423",
    )
    [attachment] = rows_by_table(rows, "attachments")
    assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest()


def test_a_gzipped_file_is_read_through_item_open(tmp_path: Path) -> None:
    path = write(tmp_path, gzip.compress(build_message()), "message.eml.gz")
    rows, problems = read_all(Eml(), make_item(path))
    assert problems == []
    assert len(rows_by_table(rows, "messages")) == 1


def test_an_mbox_style_envelope_line_is_not_part_of_the_message(tmp_path: Path) -> None:
    raw = build_message(message_id=None)
    plain = read_all(Eml(), make_item(write(tmp_path, raw, "a.eml")))[0]
    enveloped = b"From MAILER-DAEMON Tue Jul  5 10:12:00 2011\n" + raw
    other = read_all(Eml(), make_item(write(tmp_path, enveloped, "b.eml")))[0]
    assert rows_by_table(plain, "messages") == rows_by_table(other, "messages")


def test_a_file_that_is_not_a_message_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, b"\x00\x01\x02 binary junk\n")
    rows, problems = read_all(Eml(), make_item(path))
    assert rows == []
    assert [(p.severity, p.record) for p in problems] == [("error", "file")]


@pytest.mark.corpus
def test_every_corpus_message_parses_into_exactly_one_message(corpora: Path) -> None:
    files = sorted((corpora / CORPUS).glob("*.eml"))
    assert len(files) == CORPUS_SIZE
    collected: dict[str, list[dict[str, object]]] = {table: [] for table in Eml.tables}
    for path in files:
        item = make_item(path)
        sniffed = sniff_format(item.head(), PurePath(path.name))
        assert sniffed is not None and sniffed.name == "eml", path.name
        rows, problems = read_all(Eml(), item)
        assert len(rows_by_table(rows, "messages")) == 1, path.name
        # The only problems in the corpus are ten Date headers like "11-06-2023".
        assert all(p.severity == "warning" and "Date" in p.message for p in problems), path.name
        for row in rows:
            collected[row.table].append({**row.values, "evidence_id": item.evidence_id})
    for table, values in collected.items():
        assert pa.Table.from_pylist(values, schema=TABLES[table]).num_rows == len(values)
    assert len(collected["attachments"]) > 100
    assert all(a["sha256"] for a in collected["attachments"])


# Odd address headers found by surveying the corpus, and what each must yield: where -> the
# set of normalised header addresses (mentions left out). "phishing@pot" is how the corpus
# anonymised the victim: its domain has no dot, so it is never an address.
ODD_CASES: list[tuple[str, dict[str, set[str]]]] = [
    # Empty group "To: undisclosed-recipients:;" and "Bcc: phishing@pot".
    (
        "sample-107.eml",
        {"from": {"edmondasiimwe0@gmail.com"}, "reply-to": {"mrjeffreyprestonbezos07@gmail.com"}},
    ),
    # Empty group whose name has a space: "To: Undisclosed recipients:;".
    (
        "sample-1004.eml",
        {"from": {"ghulammustafa@cyber.net.pk"}, "reply-to": {"philipffredrick3690@gmail.com"}},
    ),
    # Bare word without @: "To: kollelbeisaharon.co.uk".
    ("sample-2928.eml", {"from": {"infonetoizlvio@knitville.com"}}),
    # Bare quoted word as the whole From: 'From: "Welkomstpakket"'.
    ("sample-4152.eml", {}),
    # Template placeholder "To: [to]"; QP encoded-word name; Message-ID that crashes the stdlib.
    ("sample-187.eml", {"from": {"newstvtune@iptesetxkeys.com"}}),
    # 8-bit UTF-8 display name with an unquoted comma before the real name.
    ("sample-1422.eml", {"from": {"service@stayfriends.de"}}),
    # 8-bit UTF-8 emoji in the local part: kept, lower-cased.
    ("sample-5744.eml", {"from": {"department-✅-n63592@mail.viralgrowthlab.us"}}),
    # 8-bit Sender without a space: "Herzlichen Glückwunsch!,<service@stayfriends.de>".
    ("sample-2250.eml", {"from": {"service@stayfriends.de"}, "sender": {"service@stayfriends.de"}}),
    # Look-alike domain in mathematical sans-serif bold: UTS 46 folds it to ASCII.
    ("sample-6990.eml", {"from": {"noreply@adac-germany.de"}}),
    ("sample-7241.eml", {"from": {"no-reply@kinder.de"}}),
    (
        "sample-7263.eml",
        {
            "from": {"no-reply-sprayx-team@sprayx.mt"},
            "sender": {"noreply@sprayx.nl"},
            "reply-to": {"no-reply@team-sprayx.nl"},
        },
    ),
    # Negative-circled letters in the From domain (IDNA-disallowed: no address); the Sender
    # "<,news@arqingsao.com>" loses its stray comma.
    ("sample-6161.eml", {"sender": {"news@arqingsao.com"}}),
    # Emoji domain without a dot: "<info@✔️Kommer-Bitcoin✔️>".
    ("sample-6075.eml", {}),
    # Encoded-word display name with an empty "<>".
    ("sample-3475.eml", {}),
    # Underscores in the domain: kept (UTS 46 without STD3 rules allows them).
    (
        "sample-3200.eml",
        {
            "from": {"pontos4997netlivelo__bradesco@pontos4997inlivelo__bradesco.com"},
            "to": {"wbks4@protonmail.ch"},
        },
    ),
    (
        "sample-3071.eml",
        {
            "from": {"new_offre_8_21864@iesfranch58.aba.beauty"},
            "cc": {"health__n0bdieq@neck_serum.com"},
        },
    ),
    # "%" in the domain: not an address.
    ("sample-4167.eml", {}),
    # Unbalanced quote: 'Edeka gift card",<angebote@newsletter.baur.de>'.
    (
        "sample-2265.eml",
        {"from": {"angebote@newsletter.baur.de"}, "sender": {"angebote@newsletter.baur.de"}},
    ),
    # Semicolon-separated list: "phishing@pot; admin@xahs.An8qNPUE.U9T".
    (
        "sample-5917.eml",
        {"from": {"newsletters.tzicr@executive-solution.com"}, "to": {"admin@xahs.an8qnpue.u9t"}},
    ),
    # Two @: '"phishing@pot" <phishing@pot@hotmail.com>' is not an address.
    (
        "sample-3237.eml",
        {
            "from": {"monadxyznewsletter@mail.beehiiv.com"},
            "reply-to": {"stonemessiah232@gmail.com"},
        },
    ),
    # Quoted address inside the angle brackets: '"Cadeaukaart "<"noreply@bol.com">'.
    ("sample-6341.eml", {"from": {"noreply@bol.com"}}),
    ("sample-6413.eml", {"from": {"noreply@kaufland-marktplatz.de"}}),
    # A display name that is itself an address is a name, never an address.
    (
        "sample-1624.eml",
        {
            "from": {"jlima@clig.com.br"},
            "to": {"jlima@clig.com.br"},
            "reply-to": {"bell.invest1962@gmail.com"},
        },
    ),
    # Name, stray comma, then "_<addr>": the bare words are skipped, the address kept.
    (
        "sample-1026.eml",
        {
            "from": {"no-reply@access-accsecurity.com"},
            "reply-to": {"solutionteamrecognizd03@gmail.com"},
        },
    ),
    # Unclosed quote before the angle-addr in Sender: '"[*CloudStorageSecurity*] <info...>'.
    ("sample-5492.eml", {"from": {"info.fxnqxc@2014.info"}, "sender": {"info.yyiyur@2014.info"}}),
]

# Display names of the From address: encoded words decoded, 8-bit read as UTF-8.
DISPLAY_NAMES: list[tuple[str, str | None]] = [
    # Quoted-printable encoded word.
    ("sample-187.eml", "Holiday Romance"),
    # Base64 encoded word hiding Greek and Cyrillic look-alikes of "MetaMask".
    ("sample-259.eml", "\u039cet\u0430\u041c\u0430\u0455k Help's First Site"),
    # Raw 8-bit UTF-8 in a quoted name.
    ("sample-7263.eml", "DIE Lösung! Endlich!"),
    # After a stray comma the last phrase is the name.
    ("sample-1422.eml", "jehd"),
    # An encoded word inside a quoted string is not decoded (RFC 2047 section 5).
    ("sample-5744.eml", "✅=?UTF-8?B?VHVuZHJhRnJlZXpl?="),
    # The address was recovered from a malformed header, so no name is claimed.
    ("sample-6341.eml", None),
]


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "expected"), ODD_CASES, ids=[c[0] for c in ODD_CASES])
def test_odd_corpus_headers_yield_rule_conform_addresses(
    corpora: Path, name: str, expected: dict[str, set[str]]
) -> None:
    rows, _ = read_all(Eml(), make_item(corpora / CORPUS / name))
    assert header_addresses(rows) == expected


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "expected"), DISPLAY_NAMES, ids=[c[0] for c in DISPLAY_NAMES])
def test_corpus_display_names(corpora: Path, name: str, expected: str | None) -> None:
    rows, _ = read_all(Eml(), make_item(corpora / CORPUS / name))
    assert rows_by_table(rows, "messages")[0]["display_name"] == expected


@pytest.mark.corpus
def test_a_corpus_recipient_list_drops_entries_with_empty_local_parts(corpora: Path) -> None:
    # sample-5399's To has 600+ entries, some of them "@hotmail.com" without a local part.
    rows, _ = read_all(Eml(), make_item(corpora / CORPUS / "sample-5399.eml"))
    [message] = rows_by_table(rows, "messages")
    recipients = message["recipients"]
    assert isinstance(recipients, list) and len(recipients) > 500
    assert all(not address.startswith("@") for address in recipients)
    assert len(recipients) == len(set(recipients))


@pytest.mark.corpus
def test_a_corpus_pdf_attachment_hash_matches_an_independent_decoding(corpora: Path) -> None:
    path = corpora / CORPUS / "sample-1134.eml"
    reference = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
    [pdf] = [p for p in reference.walk() if p.get_content_type() == "application/pdf"]
    content = pdf.get_payload(decode=True)
    assert isinstance(content, bytes) and content.startswith(b"%PDF")
    rows, _ = read_all(Eml(), make_item(path))
    [attachment] = rows_by_table(rows, "attachments")
    assert (attachment["filename"], attachment["size"], attachment["sha256"]) == (
        "URQpae5egR7PmZ.pdf",
        len(content),
        hashlib.sha256(content).hexdigest(),
    )


@pytest.mark.corpus
def test_a_corpus_message_without_message_id_gets_a_synthetic_one(corpora: Path) -> None:
    rows, _ = read_all(Eml(), make_item(corpora / CORPUS / "sample-390.eml"))
    [message] = rows_by_table(rows, "messages")
    assert str(message["message_id"]).endswith("@breachscope.invalid>")
