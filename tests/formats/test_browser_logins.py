"""Saved browser logins: Chrome ``Login Data`` and Firefox ``logins.json``.

No real ``Login Data`` or ``logins.json`` is in ``../shared/corpora/`` (see PROVENANCE.md: the
plaso selection has browser history only), so both are built here from the browsers' own
definitions: the ``logins`` table of Chromium's ``login_database.cc`` and the ``logins.json``
layout that Firefox's ``LoginStore`` writes. Each test plants a recognisable secret and checks
it never reaches a row or a problem.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from pathlib import Path, PurePath
from typing import Any

import pytest

from breachscope.formats.base import REGISTRY, EvidenceItem, Problem, Row
from breachscope.formats.browser_logins import (
    MAX_LOGINS_JSON_BYTES,
    ChromeLogins,
    FirefoxLogins,
    _without_secrets,
)
from tests.conftest import make_item, read_all, small_case
from tests.formats.test__sqlite import listing

CHROME = ChromeLogins()
FIREFOX = FirefoxLogins()
SECRET = "S3cr3t-Pa55w0rd!"
WEBKIT_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)
CREATED = dt.datetime(2024, 2, 1, 9, 30, 0, 123456, tzinfo=dt.UTC)
PROFILE = "evidence/hosts/WS-0423/C/Users/taro/AppData/Local/Google/Chrome/User Data/Default"

# Chromium's logins table (login_database.cc), the columns that matter and a few others.
LOGINS_SQL = (
    "CREATE TABLE logins (origin_url VARCHAR NOT NULL, action_url VARCHAR, "
    "username_element VARCHAR, username_value VARCHAR, password_element VARCHAR, "
    "password_value BLOB, submit_element VARCHAR, signon_realm VARCHAR NOT NULL, "
    "date_created INTEGER NOT NULL, blacklisted_by_user INTEGER NOT NULL, scheme INTEGER NOT "
    "NULL, times_used INTEGER, date_last_used INTEGER NOT NULL DEFAULT 0, "
    "id INTEGER PRIMARY KEY AUTOINCREMENT)"
)


def webkit(moment: dt.datetime) -> int:
    return (moment - WEBKIT_EPOCH) // dt.timedelta(microseconds=1)


def login_data(path: Path, logins: list[dict[str, Any]]) -> Path:
    """A minimal Login Data; every login's password_value is `SECRET` (as Chrome's encrypted
    blob would be) unless the login says otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(LOGINS_SQL)
        for login in logins:
            values = {
                "origin_url": "https://mail.example-space.jp/login",
                "signon_realm": "https://mail.example-space.jp/",
                "username_value": "t.yamada@example-space.jp",
                "password_value": b"v10" + SECRET.encode(),
                "date_created": webkit(CREATED),
                "blacklisted_by_user": 0,
                "scheme": 0,
                "date_last_used": webkit(CREATED + dt.timedelta(days=3)),
                **login,
            }
            names = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            connection.execute(
                f"INSERT INTO logins ({names}) VALUES ({marks})", list(values.values())
            )
    connection.close()
    return path


def firefox_entry(index: int, **fields: Any) -> dict[str, Any]:
    """One logins.json entry as Firefox's LoginStore writes it."""
    return {
        "id": index + 1,
        "hostname": "https://portal.partner.example",
        "httpRealm": None,
        "formSubmitURL": "https://portal.partner.example",
        "usernameField": "user",
        "passwordField": "pass",
        "encryptedUsername": "MDoEEPgAAAAAAAAAAAAAAAAAAAEwFAYIKoZIhvcNAwcECNd1",
        "encryptedPassword": SECRET,
        "guid": "{8d3c4b9e-0000-4000-8000-000000000001}",
        "encType": 1,
        "timeCreated": 1706779800123,
        "timeLastUsed": 1706779800123,
        "timePasswordChanged": 1706779800123,
        "timesUsed": 1,
        **fields,
    }


def logins_json(path: Path, entries: list[Any], **top: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"nextId": len(entries) + 1, "logins": entries, "version": 3, **top}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def located(item: EvidenceItem, location: str) -> EvidenceItem:
    return dataclasses.replace(item, rel_path=f"{location}/{item.path.name}")


def assert_no_secret(rows: list[Row], problems: list[Problem]) -> None:
    text = repr(rows) + repr(problems)
    assert SECRET not in text
    assert "v10" not in text
    assert all("password" not in key for row in rows for key in row.values)


def test_both_are_registered() -> None:
    assert REGISTRY["chrome_logins"] is ChromeLogins
    assert REGISTRY["firefox_logins"] is FirefoxLogins
    assert ChromeLogins.tables == FirefoxLogins.tables == ("stored_credentials",)


def test_chrome_login_data_gives_origin_account_and_creation_time(tmp_path: Path) -> None:
    path = login_data(tmp_path / "Login Data", [{}])
    item = located(make_item(path, host="WS-0423", system="ws"), PROFILE)
    rows, problems = read_all(CHROME, item)
    assert problems == []
    assert [row.table for row in rows] == ["stored_credentials"]
    assert rows[0].values == {
        "host": "WS-0423",
        "user": "taro",
        "origin": "https://mail.example-space.jp/login",
        "account": "t.yamada@example-space.jp",
        "account_key": "t.yamada@example-space.jp",
        "time": CREATED,
        "system": "ws",
        "record": "sqlite:logins:1",
    }
    assert_no_secret(rows, problems)


def test_chrome_never_exposes_password_value_whatever_the_rows_hold(tmp_path: Path) -> None:
    path = login_data(
        tmp_path / "Login Data",
        [
            {},
            {"username_value": "", "origin_url": "https://vpn.example-space.jp/"},
            {"password_value": SECRET},  # even stored as text
            {"username_value": SECRET + "?", "password_value": SECRET},  # hostile, not secret
            {"date_created": "not a time", "username_value": "x"},
        ],
    )
    rows, problems = read_all(CHROME, make_item(path))
    assert len(rows) == 5
    secretless = [row for row in rows if row.values["account"] != SECRET + "?"]
    assert_no_secret(secretless, problems)
    assert all("password" not in key for row in rows for key in row.values)
    assert rows[1].values["account"] is None  # a password saved without a user name
    assert rows[1].values["account_key"] is None
    assert rows[4].values["time"] is None
    assert [(p.record, p.severity) for p in problems] == [("sqlite:logins:5", "warning")]


def test_chrome_never_save_markers_are_not_credentials(tmp_path: Path) -> None:
    path = login_data(
        tmp_path / "Login Data",
        [{"blacklisted_by_user": 1, "username_value": "", "password_value": b""}, {}],
    )
    rows, problems = read_all(CHROME, make_item(path))
    assert problems == []
    assert [row.values["record"] for row in rows] == ["sqlite:logins:2"]


def test_chrome_account_key_uses_the_manifests_realms(tmp_path: Path) -> None:
    case = small_case(
        "systems:\n  - name: corp-ad\n    hosts: [dc01.example-space.jp]\n"
        "subject:\n  users:\n    - name: Taro\n      accounts:\n"
        "        - {system: corp-ad, account: 'EXSPACE\\TYamada'}\n"
    )
    path = login_data(tmp_path / "Login Data", [{"username_value": "EXSPACE\\TYamada"}])
    rows, _ = read_all(CHROME, make_item(path, case=case))
    assert rows[0].values["account"] == "EXSPACE\\TYamada"
    assert rows[0].values["account_key"] == "tyamada@example-space.jp"


def test_chrome_older_schemas_without_optional_columns(tmp_path: Path) -> None:
    path = tmp_path / "Login Data"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE logins (origin_url VARCHAR NOT NULL, username_value VARCHAR, "
            "password_value BLOB)"
        )
        connection.execute(
            "INSERT INTO logins VALUES ('https://a.example/', 'bob', ?)", (SECRET.encode(),)
        )
    connection.close()
    rows, problems = read_all(CHROME, make_item(path))
    assert problems == []
    assert rows[0].values["origin"] == "https://a.example/"
    assert rows[0].values["time"] is None
    assert_no_secret(rows, problems)


def test_chrome_a_login_without_origin_is_an_error(tmp_path: Path) -> None:
    path = login_data(tmp_path / "Login Data", [{"origin_url": "", "signon_realm": ""}, {}])
    rows, problems = read_all(CHROME, make_item(path))
    assert [(p.record, p.severity) for p in problems] == [("sqlite:logins:1", "error")]
    assert len(rows) == 1


def test_chrome_corrupt_or_foreign_databases_are_problems(tmp_path: Path) -> None:
    broken = tmp_path / "Login Data"
    broken.write_bytes(b"SQLite format 3\x00" + b"\x00" * 90 + b"\xff" * 4000)
    rows, problems = read_all(CHROME, make_item(broken))
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [("file", "error")]
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE stats (id INTEGER)")
    connection.close()
    rows, problems = read_all(CHROME, make_item(other))
    assert rows == []
    assert "not a Chrome Login Data" in problems[0].message


def test_chrome_a_wal_beside_the_evidence_is_read_and_nothing_is_written(tmp_path: Path) -> None:
    work = tmp_path / "live"
    live = login_data(work / "Login Data", [{}])
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute(
        "INSERT INTO logins (origin_url, signon_realm, username_value, password_value, "
        "date_created, blacklisted_by_user, scheme) VALUES ('https://new.example/', "
        f"'https://new.example/', 'new', '{SECRET}', 0, 0, 0)"
    )
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name in ("Login Data", "Login Data-wal"):
        (evidence / name).write_bytes((work / name).read_bytes())
    writer.close()
    before = listing(evidence)
    rows, problems = read_all(CHROME, make_item(evidence / "Login Data"))
    assert [row.values["account"] for row in rows] == ["t.yamada@example-space.jp", "new"]
    assert listing(evidence) == before
    assert_no_secret(rows, problems)


def test_firefox_logins_json_gives_origins_without_accounts(tmp_path: Path) -> None:
    path = logins_json(
        tmp_path / "logins.json",
        [firefox_entry(0), firefox_entry(1, hostname="https://crm.example", timeCreated=0)],
    )
    location = "evidence/hosts/WS-0423/C/Users/taro/AppData/Roaming/Mozilla/Firefox/Profiles/a"
    item = located(make_item(path, host="WS-0423"), location)
    rows, problems = read_all(FIREFOX, item)
    assert problems == []
    assert [row.values for row in rows] == [
        {
            "host": "WS-0423",
            "user": "taro",
            "origin": "https://portal.partner.example",
            "account": None,  # encrypted by Firefox; not decrypted
            "account_key": None,
            "time": dt.datetime(2024, 2, 1, 9, 30, 0, 123000, tzinfo=dt.UTC),
            "system": None,
            "record": "json:0",
        },
        {
            "host": "WS-0423",
            "user": "taro",
            "origin": "https://crm.example",
            "account": None,
            "account_key": None,
            "time": None,
            "system": None,
            "record": "json:1",
        },
    ]
    assert_no_secret(rows, problems)


def test_firefox_secrets_are_dropped_while_parsing() -> None:
    document = json.loads(
        json.dumps({"logins": [firefox_entry(0)]}), object_pairs_hook=_without_secrets
    )
    assert SECRET not in repr(document)
    assert "encryptedPassword" not in document["logins"][0]


def test_firefox_bad_entries_are_problems_and_reading_goes_on(tmp_path: Path) -> None:
    path = logins_json(
        tmp_path / "logins.json",
        [
            "not an object",
            firefox_entry(1, hostname=None, formSubmitURL=None),
            firefox_entry(2, hostname="", formSubmitURL="https://form.example/post"),
            firefox_entry(3, timeCreated="yesterday"),
        ],
    )
    rows, problems = read_all(FIREFOX, make_item(path))
    assert [row.values["record"] for row in rows] == ["json:2", "json:3"]
    assert rows[0].values["origin"] == "https://form.example/post"
    assert rows[1].values["time"] is None
    assert [(p.record, p.severity) for p in problems] == [
        ("json:0", "error"),
        ("json:1", "error"),
        ("json:3", "warning"),
    ]
    assert_no_secret(rows, problems)


@pytest.mark.parametrize(
    "content",
    [b'{"nextId": 1, "logins": [', b"[1, 2]", b'{"nextId": 1, "logins": {}}', b"\xff\xfe"],
)
def test_firefox_a_broken_file_is_one_problem(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "logins.json"
    path.write_bytes(content + SECRET.encode())
    rows, problems = read_all(FIREFOX, make_item(path))
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [("file", "error")]
    assert_no_secret(rows, problems)


def test_firefox_an_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "logins.json"
    path.write_bytes(b'{"nextId": 1, "logins": [' + b" " * MAX_LOGINS_JSON_BYTES + b"]}")
    rows, problems = read_all(FIREFOX, make_item(path))
    assert rows == []
    assert "larger than" in problems[0].message


def test_sniff_positives(tmp_path: Path) -> None:
    chrome = login_data(tmp_path / "renamed.db", [])
    assert CHROME.sniff(chrome.read_bytes()[:8192], PurePath("renamed.db"))
    assert CHROME.sniff(b"SQLite format 3\x00" + bytes(200), PurePath("Login Data"))
    firefox = logins_json(tmp_path / "x.json", [firefox_entry(0)])
    assert FIREFOX.sniff(firefox.read_bytes()[:8192], PurePath("x.json"))
    empty = logins_json(tmp_path / "empty.json", [])
    assert FIREFOX.sniff(empty.read_bytes(), PurePath("logins.json"))


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"", "Login Data"),
        (b"Login Data\n", "Login Data"),
        (b"SQLite format 3\x00" + bytes(200), "Web Data"),
        (b"SQLite format 3\x00CREATE TABLE moz_logins (id)", "signons.sqlite"),
        (b"SQLite format 3\x00CREATE TABLE urls (id) CREATE TABLE visits (id)", "History"),
        (b'{"logins": [1]}', "Login Data"),
        (bytes(range(256)), "x.bin"),
    ],
)
def test_chrome_sniff_negatives(head: bytes, name: str) -> None:
    assert not CHROME.sniff(head, PurePath(name))


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b'{"Records": [{"eventVersion": "1.08"}]}',
        b'{"logins": "none", "nextId": 1}',
        b'[{"hostname": "a", "logins": []}]',
        b'{"logins": [{"user": "x"}]}',
        b"SQLite format 3\x00CREATE TABLE logins (origin_url VARCHAR)",
    ],
)
def test_firefox_sniff_negatives(head: bytes) -> None:
    assert not FIREFOX.sniff(head, PurePath("logins.json"))
