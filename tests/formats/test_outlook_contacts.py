"""Outlook contacts CSV export: files built in code with Outlook's English export header.

No real Outlook contacts export is in ``../shared/corpora/`` (the ``outlook`` corpus holds PST
files only; see PROVENANCE.md), so every input here is written from the header Outlook's
"Export to a file > Comma Separated Values" writes (a UTF-8 BOM, CRLF, quoted cells).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path, PurePath

import pytest

from breachscope.formats import sniff_format
from breachscope.formats.base import REGISTRY, Problem, Row
from breachscope.formats.outlook_contacts import OutlookContactsCsv
from tests.conftest import make_item, read_all

FORMAT = OutlookContactsCsv()
# The start of Outlook's header, then its e-mail columns (the real header has ~90 columns).
OUTLOOK_HEADER = [
    "Title",
    "First Name",
    "Middle Name",
    "Last Name",
    "Suffix",
    "Company",
    "Department",
    "Job Title",
    "Business Street",
    "Business Phone",
    "Mobile Phone",
    "Notes",
    "E-mail Address",
    "E-mail Type",
    "E-mail Display Name",
    "E-mail 2 Address",
    "E-mail 2 Type",
    "E-mail 2 Display Name",
    "E-mail 3 Address",
    "E-mail 3 Type",
    "E-mail 3 Display Name",
    "Web Page",
]


def contact(**cells: str) -> dict[str, str]:
    """One contact row; keyword names are header names with spaces and hyphens as ``_``."""
    return {
        name.replace("_", " ").replace("E mail", "E-mail"): value for name, value in cells.items()
    }


def outlook_csv(
    tmp_path: Path,
    *rows: dict[str, str],
    header: list[str] = OUTLOOK_HEADER,
    bom: bool = True,
    encoding: str = "utf-8",
) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    path = tmp_path / "contacts.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode(encoding))
    return path


def read(path: Path, **item: object) -> tuple[list[Row], list[Problem]]:
    return read_all(FORMAT, make_item(path, **item))


def test_registered_under_its_name() -> None:
    assert REGISTRY["outlook_contacts"] is OutlookContactsCsv
    assert OutlookContactsCsv.tables == ("addresses",)


def test_sniff_accepts_the_export_header_with_a_bom(tmp_path: Path) -> None:
    head = outlook_csv(tmp_path, contact(First_Name="Taro")).read_bytes()
    assert head.startswith(b"\xef\xbb\xbf")
    assert FORMAT.sniff(head, PurePath("contacts.csv"))
    found = sniff_format(head, PurePath("contacts.csv"))
    assert found is not None and found.name == "outlook_contacts"


@pytest.mark.parametrize(
    "head",
    [
        b"Mar  5 01:02:03 ws-0423 sshd[42]: Accepted password for taro from 10.0.0.5\n",
        b"From MAILER-DAEMON Tue Mar  5 01:02:03 2024\nE-mail Address: x\n",
        b"host,name,version,publisher,install_date\n",
        b'Name,Notes\n"x","E-mail Address"\n',
    ],
)
def test_sniff_rejects_other_files(head: bytes) -> None:
    assert not FORMAT.sniff(head, PurePath("contacts.csv"))


def test_every_address_of_every_contact(tmp_path: Path) -> None:
    path = outlook_csv(
        tmp_path,
        contact(
            First_Name="Taro",
            Last_Name="Yamada",
            Notes='met at\r\nthe conference, "VIP"',
            E_mail_Address="T.Yamada@Example-Space.JP",
            E_mail_Type="SMTP",
            E_mail_Display_Name="Taro Yamada (T.Yamada@Example-Space.JP)",
            E_mail_2_Address="taro@home.example",
            E_mail_3_Address="t.yamada@example-space.jp",
        ),
        contact(
            E_mail_Address="info@partner.example",
            E_mail_Display_Name="Partner Info (info@partner.example)",
        ),
        contact(First_Name="No", Last_Name="Mail"),
        contact(First_Name="Hanako", E_mail_2_Address="hanako@example.org"),
    )
    rows, problems = read(path, owner="t.yamada@example-space.jp", host="WS-0423")
    assert problems == []
    assert [(r.values["address"], r.values["display_name"], r.values["record"]) for r in rows] == [
        ("t.yamada@example-space.jp", "Taro Yamada", "csv:1"),
        ("taro@home.example", "Taro Yamada", "csv:1"),
        ("info@partner.example", "Partner Info", "csv:2"),
        ("hanako@example.org", "Hanako", "csv:4"),
    ]
    assert rows[0].values == {
        "address": "t.yamada@example-space.jp",
        "display_name": "Taro Yamada",
        "where": "contact",
        "message_id": None,
        "mailbox_owner": "t.yamada@example-space.jp",
        "system": None,
        "host": "WS-0423",
        "record": "csv:1",
    }


def test_an_exchange_address_is_a_warning(tmp_path: Path) -> None:
    path = outlook_csv(
        tmp_path,
        contact(
            First_Name="Ex",
            E_mail_Address="/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=ex",
            E_mail_Type="EX",
            E_mail_2_Address="ex@example.org",
        ),
    )
    rows, problems = read(path)
    assert [r.values["address"] for r in rows] == ["ex@example.org"]
    assert [(p.record, p.severity) for p in problems] == [("csv:1", "warning")]
    assert "Exchange X.500" in problems[0].message


def test_a_header_without_a_bom_and_in_other_case(tmp_path: Path) -> None:
    header = ["first name", "last name", " e-mail address "]
    path = outlook_csv(
        tmp_path, {"first name": "A", " e-mail address ": "a@x.example"}, header=header, bom=False
    )
    rows, problems = read(path)
    assert problems == []
    assert [(r.values["address"], r.values["display_name"]) for r in rows] == [("a@x.example", "A")]


def test_ansi_bytes_are_replaced_with_one_warning(tmp_path: Path) -> None:
    path = outlook_csv(
        tmp_path,
        contact(First_Name="Jürgen", E_mail_Address="j@example.de"),
        contact(First_Name="Zoë", E_mail_Address="z@example.de"),
        bom=False,
        encoding="cp1252",
    )
    rows, problems = read(path)
    assert [r.values["display_name"] for r in rows] == ["J\ufffdrgen", "Zo\ufffd"]
    assert [(p.record, p.severity) for p in problems] == [("file", "warning")]


def test_a_csv_without_the_email_column_is_not_read(tmp_path: Path) -> None:
    path = outlook_csv(tmp_path, {"Name": "x"}, header=["Name", "Phone"])
    rows, problems = read(path)
    assert rows == []
    assert [p.record for p in problems] == ["file"]
