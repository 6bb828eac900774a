"""Software inventory CSV (``host,name,version,publisher,install_date``): files built in code.

No real SCCM / WSUS inventory export is in ``../shared/corpora/`` (see PROVENANCE.md), so
every input here is written from formats.md's column list and the column names of SCCM's
``v_Add_Remove_Programs`` view (``DisplayName0``, ``Version0``, ``Publisher0``,
``InstallDate0``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path, PurePath

import pytest

from breachscope.formats import sniff_format
from breachscope.formats.base import REGISTRY, Problem, Row
from breachscope.formats.inventory_csv import InventoryCsv, header_key
from tests.conftest import make_item, read_all

FORMAT = InventoryCsv()
HEADER = ["host", "name", "version", "publisher", "install_date"]


def software(
    name: str = "Adobe Acrobat Reader DC",
    version: str = "23.008.20470",
    *,
    host: str = "WS-0423",
    publisher: str = "Adobe Systems Incorporated",
    install_date: str = "2024-03-04",
) -> list[str]:
    """One data row in `HEADER` order."""
    return [host, name, version, publisher, install_date]


def inventory(
    tmp_path: Path, *rows: list[str], header: list[str] = HEADER, bom: bool = False
) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / "inventory.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))
    return path


def read(path: Path, **item: object) -> tuple[list[Row], list[Problem]]:
    return read_all(FORMAT, make_item(path, **item))


def test_registered_under_its_name() -> None:
    assert REGISTRY["inventory_csv"] is InventoryCsv
    assert InventoryCsv.tables == ("software",)


@pytest.mark.parametrize(
    "head",
    [
        b"host,name,version,publisher,install_date\r\nWS-0423,7-Zip,23.01,Igor Pavlov,20240304\r\n",
        b"\xef\xbb\xbfHOST,Name,Version\n",
        b"Netbios_Name0,DisplayName0,Version0,Publisher0,InstallDate0\n",
        b'"Computer Name","Product Name","Product Version","Install Date"\n',
    ],
)
def test_sniff_accepts_inventory_headers(head: bytes) -> None:
    assert FORMAT.sniff(head, PurePath("inventory.csv"))


@pytest.mark.parametrize(
    "head",
    [
        b"Mar  5 01:02:03 ws-0423 sshd[42]: Accepted password for taro from 10.0.0.5\n",
        b"From MAILER-DAEMON Tue Mar  5 01:02:03 2024\nFrom: a@b.example\n",
        b"name,version\nx,1\n",
        b'"First Name","Last Name","E-mail Address"\n',
        b"time,user,src_ip,outcome\n",
    ],
)
def test_sniff_rejects_other_files(head: bytes) -> None:
    assert not FORMAT.sniff(head, PurePath("inventory.csv"))


def test_three_date_styles_in_the_item_zone(tmp_path: Path) -> None:
    path = inventory(
        tmp_path,
        software(install_date="2024-03-04"),
        software("7-Zip 23.01 (x64)", "23.01", publisher="Igor Pavlov", install_date="20240304"),
        software("Zoom", "5.17.5", publisher="Zoom Video Communications", install_date="3/4/2024"),
        software("PuTTY", "0.80", install_date="03/04/2024 2:30:15 PM"),
        software("AnyDesk", "8.0.8", install_date="2024-03-04T09:00:00Z"),
    )
    rows, problems = read(path, system="sccm", timezone="Asia/Tokyo")
    assert problems == []
    midnight_tokyo = dt.datetime(2024, 3, 3, 15, 0, tzinfo=dt.UTC)
    assert [r.values["install_date"] for r in rows] == [
        midnight_tokyo,
        midnight_tokyo,
        midnight_tokyo,
        dt.datetime(2024, 3, 4, 5, 30, 15, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 4, 9, 0, tzinfo=dt.UTC),
    ]
    assert [r.values["record"] for r in rows] == ["csv:1", "csv:2", "csv:3", "csv:4", "csv:5"]
    assert rows[0].table == "software"
    assert rows[0].values == {
        "host": "WS-0423",
        "name": "Adobe Acrobat Reader DC",
        "version": "23.008.20470",
        "publisher": "Adobe Systems Incorporated",
        "install_date": midnight_tokyo,
        "observed_at": None,
        "system": "sccm",
        "record": "csv:1",
    }


def test_sccm_header_extra_columns_and_host_fallback(tmp_path: Path) -> None:
    header = ["ResourceID", "Name0", "DisplayName0", "Version0", "Publisher0", "InstallDate0"]
    path = inventory(
        tmp_path,
        [
            "16777220",
            "WS-0423",
            "Microsoft Office Professional Plus 2016",
            "16.0.4266.1001",
            "Microsoft Corporation",
            "20230115",
        ],
        ["16777220", "WS-0423", "Skype", "", "", ""],
        header=header,
        bom=True,
    )
    rows, problems = read(path, host="ws-0423.example-space.jp")
    assert problems == []
    assert [(r.values["name"], r.values["version"], r.values["publisher"]) for r in rows] == [
        ("Microsoft Office Professional Plus 2016", "16.0.4266.1001", "Microsoft Corporation"),
        ("Skype", None, None),
    ]
    assert [r.values["host"] for r in rows] == ["ws-0423.example-space.jp"] * 2
    assert rows[1].values["install_date"] is None


def test_bad_dates_are_warnings_and_nameless_rows_errors(tmp_path: Path) -> None:
    path = inventory(
        tmp_path,
        software(install_date="31/12/2023"),
        software(install_date="yesterday"),
        software(name=""),
        ["", "", "", "", ""],
        software(host="", install_date="2024-03-31T02:30:00"),
    )
    rows, problems = read(path, host="WS-9", timezone="Europe/Berlin")
    assert [(p.record, p.severity) for p in problems] == [
        ("csv:1", "warning"),
        ("csv:2", "warning"),
        ("csv:3", "error"),
        ("csv:5", "warning"),  # skipped by the DST jump in Berlin
    ]
    assert [(r.values["record"], r.values["install_date"]) for r in rows] == [
        ("csv:1", None),
        ("csv:2", None),
        ("csv:5", None),
    ]
    assert rows[2].values["host"] == "WS-9"


def test_a_header_without_a_name_column_is_not_read(tmp_path: Path) -> None:
    rows, problems = read(inventory(tmp_path, ["a", "b"], header=["host", "version"]))
    assert rows == []
    assert [p.record for p in problems] == ["file"]


@pytest.mark.parametrize(
    ("name", "key"),
    [("Install Date", "installdate"), ("INSTALL_DATE", "installdate"), ("Version0", "version")],
)
def test_header_key(name: str, key: str) -> None:
    assert header_key(name) == key


def test_sniffed_among_all_formats(tmp_path: Path) -> None:
    head = inventory(tmp_path, software()).read_bytes()
    found = sniff_format(head, PurePath("inventory.csv"))
    assert found is not None and found.name == "inventory_csv"
