"""osquery software inventory: rows and result logs built in code.

No real osquery output is in ``../shared/corpora/`` (see PROVENANCE.md), so every input here
is written from the table schema at https://osquery.io/schema/ (``programs``,
``deb_packages``, ``rpm_packages``, ``apps``) and the result-log layouts of osqueryd's
filesystem logger (event, snapshot and batch formats).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path, PurePath
from typing import Any

import pytest

from breachscope.formats import osquery, sniff_format
from breachscope.formats.base import REGISTRY, Problem, Row
from breachscope.formats.osquery import OsqueryInventory
from tests.conftest import make_item, read_all

FORMAT = OsqueryInventory()
UNIX_TIME = 1709600523  # 2024-03-05T01:02:03Z
SEEN = dt.datetime(2024, 3, 5, 1, 2, 3, tzinfo=dt.UTC)
HOST_UUID = "4C4C4544-0042-3510-8051-B4C04F4D3732"


def program(
    name: str = "7-Zip 23.01 (x64)", version: str = "23.01", **extra: str
) -> dict[str, str]:
    """A ``programs`` row as osqueryi prints it (every value a string)."""
    return {
        "name": name,
        "version": version,
        "install_location": "C:\\Program Files\\7-Zip\\",
        "install_source": "",
        "language": "",
        "publisher": "Igor Pavlov",
        "uninstall_string": '"C:\\Program Files\\7-Zip\\Uninstall.exe"',
        "install_date": "20240304",
        "identifying_number": "",
        **extra,
    }


def deb(name: str = "openssh-server", version: str = "1:8.9p1-3ubuntu0.6") -> dict[str, str]:
    return {
        "name": name,
        "version": version,
        "source": "openssh",
        "size": "1512",
        "arch": "amd64",
        "revision": "3ubuntu0.6",
        "status": "install ok installed",
        "maintainer": "Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>",
        "section": "net",
        "priority": "optional",
    }


def rpm(
    name: str = "openssl", version: str = "3.0.7", install_time: str = "1709600523"
) -> dict[str, str]:
    return {
        "name": name,
        "version": version,
        "release": "27.el9",
        "source": "openssl-3.0.7-27.el9.src.rpm",
        "size": "1907221",
        "sha1": "",
        "arch": "x86_64",
        "epoch": "1",
        "install_time": install_time,
        "vendor": "Red Hat, Inc.",
        "package_group": "Unspecified",
    }


def app() -> dict[str, str]:
    return {
        "name": "Microsoft Word.app",
        "path": "/Applications/Microsoft Word.app",
        "bundle_executable": "Microsoft Word",
        "bundle_identifier": "com.microsoft.Word",
        "bundle_name": "Microsoft Word",
        "bundle_short_version": "16.78",
        "bundle_version": "16.78.23100802",
        "display_name": "Microsoft Word",
    }


def result_log(body: dict[str, Any], *, host: str = "ws-0423", **extra: Any) -> dict[str, Any]:
    """One osqueryd result-log line with ``body`` (``columns``, ``snapshot``, ``diffResults``)."""
    return {
        "name": "pack_inventory_programs",
        "hostIdentifier": host,
        "calendarTime": "Tue Mar  5 01:02:03 2024 UTC",
        "unixTime": UNIX_TIME,
        "epoch": 0,
        "counter": 0,
        "numerics": False,
        **extra,
        **body,
    }


def write_array(tmp_path: Path, rows: list[Any], *, indent: int | None = 2) -> Path:
    path = tmp_path / "programs.json"
    path.write_text(json.dumps(rows, indent=indent), encoding="utf-8")
    return path


def write_lines(tmp_path: Path, *objects: Any, name: str = "results.log") -> Path:
    path = tmp_path / name
    lines = [o if isinstance(o, str) else json.dumps(o) for o in objects]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read(path: Path, **item: object) -> tuple[list[Row], list[Problem]]:
    return read_all(FORMAT, make_item(path, **item))


def test_registered_under_its_name() -> None:
    assert REGISTRY["osquery"] is OsqueryInventory
    assert OsqueryInventory.tables == ("software",)


@pytest.mark.parametrize(
    "content",
    [
        json.dumps([program(), program()], indent=2),
        json.dumps([deb()]),
        "\n".join(json.dumps(rpm()) for _ in range(3)),
        json.dumps([app()]),
        json.dumps(result_log({"snapshot": [program() for _ in range(200)]})),
        json.dumps(result_log({"columns": {"pid": "4", "name": "System"}, "action": "added"})),
        json.dumps([program(uninstall_string="x" * 9000)]),
    ],
)
def test_sniff_accepts_osquery_output(content: str) -> None:
    head = content.encode("utf-8")[:8192]
    assert FORMAT.sniff(head, PurePath("x.json"))


@pytest.mark.parametrize(
    "head",
    [
        b"Mar  5 01:02:03 ws-0423 sshd[42]: Accepted password for taro from 10.0.0.5\n",
        b"From MAILER-DAEMON Tue Mar  5 01:02:03 2024\nFrom: a@b.example\n",
        b'{"name": "left-pad", "version": "1.3.0", "description": "String left pad"}\n',
        b'{"type": "bundle", "id": "bundle--1", "objects": []}',
        b'[{"time": "2024-03-05T01:02:03Z", "user": "taro", "name": "x"}]',
    ],
)
def test_sniff_rejects_other_files(head: bytes) -> None:
    assert not FORMAT.sniff(head, PurePath("x.json"))


def test_programs_json_array(tmp_path: Path) -> None:
    path = write_array(
        tmp_path,
        [program(), program("Mozilla Firefox (x64 ja)", "123.0", install_date=""), "oops"],
    )
    rows, problems = read(path, host="WS-0423", system="ws-0423", timezone="Asia/Tokyo")
    assert [(p.record, p.severity) for p in problems] == [("json:2", "error")]
    assert [r.values["record"] for r in rows] == ["json:0", "json:1"]
    assert rows[0].table == "software"
    assert rows[0].values == {
        "host": "WS-0423",
        "name": "7-Zip 23.01 (x64)",
        "version": "23.01",
        "publisher": "Igor Pavlov",
        # 2024-03-04 is a local date of the host: midnight in Tokyo.
        "install_date": dt.datetime(2024, 3, 3, 15, 0, tzinfo=dt.UTC),
        "observed_at": None,
        "system": "ws-0423",
        "record": "json:0",
    }
    assert rows[1].values["install_date"] is None


def test_json_lines_of_deb_and_rpm_packages(tmp_path: Path) -> None:
    path = write_lines(tmp_path, deb(), "", "{not json", rpm(), rpm(install_time="soon"))
    rows, problems = read(path, host="srv-01", clock_offset=60)
    assert [(p.record, p.severity) for p in problems] == [
        ("jsonl:3", "error"),
        ("jsonl:5", "warning"),
    ]
    assert [
        (r.values["record"], r.values["name"], r.values["version"], r.values["publisher"])
        for r in rows
    ] == [
        (
            "jsonl:1",
            "openssh-server",
            "1:8.9p1-3ubuntu0.6",
            "Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>",
        ),
        ("jsonl:4", "openssl", "3.0.7", "Red Hat, Inc."),
        ("jsonl:5", "openssl", "3.0.7", "Red Hat, Inc."),
    ]
    assert rows[0].values["install_date"] is None
    assert rows[1].values["install_date"] == SEEN + dt.timedelta(seconds=60)
    assert rows[2].values["install_date"] is None
    assert all(r.values["host"] == "srv-01" for r in rows)


def test_apps_take_bundle_name_and_short_version(tmp_path: Path) -> None:
    rows, problems = read(write_array(tmp_path, [app()]))
    assert problems == []
    values = rows[0].values
    assert (values["name"], values["version"], values["publisher"]) == (
        "Microsoft Word",
        "16.78",
        None,
    )


def test_result_log_snapshot_event_and_batch_formats(tmp_path: Path) -> None:
    other_query = result_log({"columns": {"pid": "4", "name": "System", "path": ""}})
    path = write_lines(
        tmp_path,
        result_log({"snapshot": [program(), program("Notepad++ (64-bit x64)", "8.6.2")]}),
        result_log({"columns": program("Zoom", "5.17.5"), "action": "added"}),
        result_log({"columns": program("Old", "1.0"), "action": "removed"}),
        result_log(
            {
                "diffResults": {
                    "added": [program("PuTTY", "0.80")],
                    "removed": [program("PuTTY", "0.79")],
                }
            },
            host=HOST_UUID,
        ),
        result_log(
            {"snapshot": [program("AnyDesk", "8.0.8")]},
            host=HOST_UUID,
            decorations={"hostname": "ws-0999", "host_uuid": HOST_UUID},
        ),
        other_query,
    )
    rows, problems = read(path, host="WS-0423-item")
    assert problems == []
    assert [
        (r.values["record"], r.values["name"], r.values["host"], r.values["observed_at"])
        for r in rows
    ] == [
        ("jsonl:1", "7-Zip 23.01 (x64)", "ws-0423", SEEN),
        ("jsonl:1", "Notepad++ (64-bit x64)", "ws-0423", SEEN),
        ("jsonl:2", "Zoom", "ws-0423", SEEN),
        ("jsonl:4", "PuTTY", "WS-0423-item", SEEN),
        ("jsonl:5", "AnyDesk", "ws-0999", SEEN),
    ]


def test_a_uuid_host_identifier_stays_when_the_item_names_no_host(tmp_path: Path) -> None:
    path = write_lines(tmp_path, result_log({"snapshot": [program()]}, host=HOST_UUID))
    rows, _ = read(path)
    assert rows[0].values["host"] == HOST_UUID


def test_calendar_time_when_unix_time_is_missing(tmp_path: Path) -> None:
    line = result_log({"snapshot": [program()]})
    del line["unixTime"]
    rows, problems = read(write_lines(tmp_path, line))
    assert problems == []
    assert rows[0].values["observed_at"] == SEEN


def test_an_array_of_result_logs_and_a_pretty_printed_single_log(tmp_path: Path) -> None:
    logs = [result_log({"snapshot": [program()]}), result_log({"columns": program("Zoom", "5")})]
    rows, problems = read(write_array(tmp_path, logs))
    assert problems == []
    assert [r.values["record"] for r in rows] == ["json:0", "json:1"]

    single = tmp_path / "one.json"
    single.write_text(json.dumps(result_log({"snapshot": [program()]}), indent=2))
    rows, problems = read(single)
    assert problems == []
    assert [r.values["record"] for r in rows] == ["file"]


def test_a_compressed_one_line_array(tmp_path: Path) -> None:
    path = tmp_path / "programs.json.gz"
    path.write_bytes(gzip.compress(json.dumps([program()]).encode()))
    rows, problems = read(path)
    assert problems == []
    assert [r.values["record"] for r in rows] == ["json:0"]


def test_an_array_over_the_size_bound_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(osquery, "MAX_DOCUMENT_BYTES", 100)
    rows, problems = read(write_array(tmp_path, [program(), program()]))
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [("file", "error")]
    assert "JSON lines" in problems[0].message


def test_an_unreadable_install_date_is_a_warning(tmp_path: Path) -> None:
    rows, problems = read(write_array(tmp_path, [program(install_date="last tuesday")]))
    assert [(p.record, p.severity) for p in problems] == [("json:0", "warning")]
    assert rows[0].values["install_date"] is None


def test_sniffed_among_all_formats(tmp_path: Path) -> None:
    head = write_array(tmp_path, [program()]).read_bytes()
    found = sniff_format(head, PurePath("programs.json"))
    assert found is not None and found.name == "osquery"
