"""vCard contacts: cards built in code after RFC 2426 (3.0) and RFC 6350 (4.0).

No real vCard sample is in ``../shared/corpora/`` (see PROVENANCE.md), so every input here is
written from the RFCs and from the shape Outlook, Apple Contacts and Android exports take
(grouped ``item1.EMAIL``, ``TYPE=INTERNET``, folded base64 ``PHOTO``).
"""

from __future__ import annotations

from pathlib import Path, PurePath

import pytest

from breachscope.formats import sniff_format
from breachscope.formats.base import REGISTRY, Problem, Row
from breachscope.formats.vcard import VCard
from tests.conftest import make_item, read_all

FORMAT = VCard()


def card(
    *emails: str,
    version: str = "3.0",
    fn: str | None = "Taro Yamada",
    extra: tuple[str, ...] = (),
    end: bool = True,
) -> list[str]:
    """The lines of one card: BEGIN, VERSION, FN, N, one EMAIL line per address, extras."""
    lines = ["BEGIN:VCARD", f"VERSION:{version}"]
    if fn is not None:
        lines.append(f"FN:{fn}")
    lines.append("N:Yamada;Taro;;;")
    for index, address in enumerate(emails):
        kind = "INTERNET,WORK" if version == "3.0" else "work"
        lines.append(f"EMAIL;TYPE={kind}{';PREF=1' if index == 0 else ''}:{address}")
    lines.extend(extra)
    if end:
        lines.append("END:VCARD")
    return lines


def write(tmp_path: Path, *cards: list[str], name: str = "contacts.vcf", bom: bool = False) -> Path:
    path = tmp_path / name
    text = "\r\n".join(line for lines in cards for line in lines) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def read(path: Path, **item: object) -> tuple[list[Row], list[Problem]]:
    return read_all(FORMAT, make_item(path, **item))


def test_registered_under_its_name() -> None:
    assert REGISTRY["vcard"] is VCard
    assert VCard.tables == ("addresses",)
    assert VCard.version == "1"


@pytest.mark.parametrize(
    "head",
    [
        b"BEGIN:VCARD\r\nVERSION:3.0\r\n",
        b"\xef\xbb\xbf\r\n\r\nbegin:vcard\nVERSION:4.0\n",
        b"BEGIN:VCARD",
    ],
)
def test_sniff_accepts_a_vcard(head: bytes) -> None:
    assert FORMAT.sniff(head, PurePath("x.vcf"))


@pytest.mark.parametrize(
    "head",
    [
        b"Mar  5 01:02:03 ws-0423 sshd[42]: Accepted password for taro from 10.0.0.5\n",
        b"From MAILER-DAEMON Tue Mar  5 01:02:03 2024\nFrom: a@b.example\n",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",
        b"NOTE:BEGIN:VCARD\r\n",
    ],
)
def test_sniff_rejects_other_files(head: bytes) -> None:
    assert not FORMAT.sniff(head, PurePath("contacts.vcf"))


def test_vcard_30_and_40_with_a_broken_card_between(tmp_path: Path) -> None:
    first = card("T.Yamada@Example-Space.JP", "taro@home.example")
    broken = ["BEGIN:VCARD", "VERSION:3.0", "FN:Broken", "this line has no colon", "END:VCARD"]
    third = card(
        "hanako@example.org",
        "Hanako+News@Example.org",
        version="4.0",
        fn="Hanako Sato",
    )
    path = write(tmp_path, first, broken, third)
    rows, problems = read(path, owner="t.yamada@example-space.jp", host="WS-0423", system="m365")

    assert [p.record for p in problems] == ["line:8"]
    assert problems[0].severity == "error"
    assert "this line has no colon" in problems[0].message
    assert "At line" not in problems[0].message
    assert [(r.values["address"], r.values["record"]) for r in rows] == [
        ("t.yamada@example-space.jp", "line:1"),
        ("taro@home.example", "line:1"),
        ("hanako@example.org", "line:13"),
        ("hanako+news@example.org", "line:13"),
    ]
    assert rows[0].table == "addresses"
    assert rows[0].values == {
        "address": "t.yamada@example-space.jp",
        "display_name": "Taro Yamada",
        "where": "contact",
        "message_id": None,
        "mailbox_owner": "t.yamada@example-space.jp",
        "system": "m365",
        "host": "WS-0423",
        "record": "line:1",
    }
    assert rows[2].values["display_name"] == "Hanako Sato"


def test_grouped_emails_mailto_and_duplicates(tmp_path: Path) -> None:
    extra = (
        "item1.EMAIL;type=INTERNET;type=HOME:home@example.net",
        "item1.X-ABLabel:_$!<Home>!$_",
        "EMAIL:mailto:Other@Example.net",
        "EMAIL;TYPE=INTERNET:HOME@example.net",
    )
    rows, problems = read(write(tmp_path, card(extra=extra)))
    assert problems == []
    assert [r.values["address"] for r in rows] == ["home@example.net", "other@example.net"]


def test_an_email_that_is_not_an_address_is_a_warning(tmp_path: Path) -> None:
    rows, problems = read(write(tmp_path, card("undisclosed", "ok@example.org")))
    assert [r.values["address"] for r in rows] == ["ok@example.org"]
    assert [(p.record, p.severity) for p in problems] == [("line:1", "warning")]
    assert "'undisclosed'" in problems[0].message


def test_without_fn_the_name_comes_from_n(tmp_path: Path) -> None:
    rows, _ = read(write(tmp_path, card("t@example.org", fn=None)))
    assert rows[0].values["display_name"] == "Taro Yamada"


def test_a_broken_photo_does_not_lose_the_card(tmp_path: Path) -> None:
    photo = ("PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ!!!not-base64", " ===broken===", " more")
    rows, problems = read(write(tmp_path, card("t@example.org", extra=photo)))
    assert problems == []
    assert [r.values["address"] for r in rows] == ["t@example.org"]


def test_an_unclosed_card_is_read_with_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        card("a@example.org", end=False),
        card("b@example.org"),
        card("c@example.org", end=False),
    )
    rows, problems = read(path)
    assert [(r.values["address"], r.values["record"]) for r in rows] == [
        ("a@example.org", "line:1"),
        ("b@example.org", "line:6"),
        ("c@example.org", "line:12"),
    ]
    assert [(p.record, p.severity) for p in problems] == [
        ("line:1", "warning"),
        ("line:12", "warning"),
    ]


def test_lines_outside_cards_are_passed_over_and_a_bom_is_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, ["", "junk between"], card("a@example.org"), [""], bom=True)
    rows, problems = read(path)
    assert problems == []
    assert [r.values["record"] for r in rows] == ["line:3"]


def test_undecodable_bytes_are_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "latin.vcf"
    path.write_bytes(b"BEGIN:VCARD\nVERSION:3.0\nFN:J\xfcrgen\nEMAIL:j@example.de\nEND:VCARD\n")
    rows, problems = read(path)
    assert rows[0].values["display_name"] == "J\ufffdrgen"
    assert [p.severity for p in problems] == ["warning"]


def test_vcard_21_quoted_printable_is_read(tmp_path: Path) -> None:
    path = tmp_path / "outlook21.vcf"
    path.write_bytes(
        b"BEGIN:VCARD\r\nVERSION:2.1\r\n"
        b"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=B1=B1=E7=94=B0=\r\n=E5=A4=AA=E9=83=8E\r\n"
        b"EMAIL;PREF;INTERNET:taro@example.jp\r\nEND:VCARD\r\n"
    )
    rows, problems = read(path)
    assert problems == []
    assert rows[0].values["display_name"] == "山田太郎"


def test_sniffed_among_all_formats(tmp_path: Path) -> None:
    head = write(tmp_path, card("a@example.org")).read_bytes()
    found = sniff_format(head, PurePath("contacts.vcf"))
    assert found is not None and found.name == "vcard"
