"""Firefox ``places.sqlite``: the plaso sample, and databases built in code with the columns
Firefox creates (``toolkit/components/places``).

What plaso's own test asserts, and how it maps here: log2timeline/plaso
``tests/parsers/sqlite_plugins/firefox_history.py`` (read at commit
d4b07c087a4c0ece7880bf0aed5dee40a4f737dd), ``testProcessPriorTo24`` on ``places.sqlite``: 103
event data and 0 warnings. Those are 1 ``firefox:places:page_visited`` (event data 0) plus the
bookmarks, bookmark annotations (event data 93 on) and bookmark folders (to event data 102);
an older revision of the same test (commit 077c6a5ab7b932d7e6e506271ea778e41d28f982) spells it
out: "1 page visit, 2 x 91 bookmark records, 2 x 3 bookmark annotations, 2 x 8 bookmark
folders". The page visit: ``url http://news.google.com/``, ``title 'Google News'``, ``host
news.google.com``, ``last_visited_time 2011-07-01T11:16:21.371935``, ``visit_type 2``.

breachscope reads visits only (``web_visits``), one row per ``moz_historyvisits`` row, so the
sample gives plaso's one page visit, with zero problems, and visit type 2 is ``typed``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path, PurePath

import pytest

from breachscope.formats.base import REGISTRY, EvidenceItem
from breachscope.formats.firefox_history import FirefoxHistory
from tests.conftest import make_item, read_all
from tests.formats.test__sqlite import listing

FORMAT = FirefoxHistory()
UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
T0 = dt.datetime(2024, 3, 5, 1, 2, 3, 456789, tzinfo=dt.UTC)
LINK, TYPED, BOOKMARK, EMBED, PERMANENT, TEMPORARY, DOWNLOAD, FRAMED_LINK, RELOAD = range(1, 10)

PLACES_SQL = (
    "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR, "
    "rev_host LONGVARCHAR, visit_count INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0 NOT NULL, "
    "typed INTEGER DEFAULT 0 NOT NULL, frecency INTEGER DEFAULT -1 NOT NULL, "
    "last_visit_date INTEGER, guid TEXT, url_hash INTEGER DEFAULT 0 NOT NULL)"
)
VISITS_SQL = (
    "CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, from_visit INTEGER, "
    "place_id INTEGER, visit_date INTEGER, visit_type INTEGER, session INTEGER, "
    "source INTEGER DEFAULT 0 NOT NULL, triggeringPlaceId INTEGER)"
)


def micros(moment: dt.datetime) -> int:
    return (moment - UNIX_EPOCH) // dt.timedelta(microseconds=1)


def places_db(path: Path, visits: list[tuple[str, int, int]]) -> Path:
    """A minimal places.sqlite: ``visits`` as (url, visit_type, from_visit), one second
    apart from `T0`, place ids by first use of the URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(PLACES_SQL)
        connection.execute(VISITS_SQL)
        ids: dict[str, int] = {}
        for number, (url, visit_type, from_visit) in enumerate(visits):
            if url not in ids:
                cursor = connection.execute(
                    "INSERT INTO moz_places (url, title) VALUES (?, ?)", (url, f"title of {url}")
                )
                assert cursor.lastrowid is not None
                ids[url] = cursor.lastrowid
            connection.execute(
                "INSERT INTO moz_historyvisits (from_visit, place_id, visit_date, visit_type)"
                " VALUES (?, ?, ?, ?)",
                (from_visit, ids[url], micros(T0 + dt.timedelta(seconds=number)), visit_type),
            )
    connection.close()
    return path


def read_rows(item: EvidenceItem) -> list[dict[str, object]]:
    rows, problems = read_all(FORMAT, item)
    assert problems == []
    assert all(row.table == "web_visits" for row in rows)
    return [row.values for row in rows]


def test_registered_under_its_name() -> None:
    assert REGISTRY["firefox_history"] is FirefoxHistory
    assert FirefoxHistory.tables == ("web_visits",)


@pytest.mark.corpus
def test_plaso_places_gives_plasos_one_page_visit(corpora: Path) -> None:
    path = corpora / "plaso" / "firefox" / "places.sqlite"
    # Page 1 is an interior page here too: recognised by its name and the SQLite header.
    assert FORMAT.sniff(path.read_bytes()[:8192], PurePath(path.name))
    before = listing(path.parent)
    rows = read_rows(make_item(path))
    assert listing(path.parent) == before
    assert rows == [
        {
            "time": dt.datetime(2011, 7, 1, 11, 16, 21, 371935, tzinfo=dt.UTC),
            "host": None,
            "user": None,
            "url": "http://news.google.com/",
            "title": "Google News",
            "search_terms": None,
            "transition": "typed",
            "system": None,
            "record": "sqlite:moz_historyvisits:1",
        }
    ]


def test_visit_types_and_redirect_sources_are_labelled(tmp_path: Path) -> None:
    path = places_db(
        tmp_path / "places.sqlite",
        [
            ("https://portal.example/", TYPED, 0),  # 1
            ("https://short.example/x", LINK, 1),  # 2: redirected (permanently) to 3
            ("https://track.example/y", PERMANENT, 2),  # 3: redirected (temporarily) to 4
            ("https://landing.example/", TEMPORARY, 3),  # 4: displayed
            ("https://ads.example/frame", EMBED, 4),  # 5
            ("https://forum.example/frame", FRAMED_LINK, 4),  # 6
            ("https://bookmarked.example/", BOOKMARK, 0),  # 7
            ("https://files.example/a.zip", DOWNLOAD, 7),  # 8
            ("https://bookmarked.example/", RELOAD, 0),  # 9
            ("https://odd.example/", 42, 0),  # 10
        ],
    )
    labels = [(r["record"], r["transition"]) for r in read_rows(make_item(path))]
    assert labels == [
        ("sqlite:moz_historyvisits:1", "typed"),
        ("sqlite:moz_historyvisits:2", "link|redirect"),
        ("sqlite:moz_historyvisits:3", "redirect_permanent|redirect"),
        ("sqlite:moz_historyvisits:4", "redirect_temporary"),
        ("sqlite:moz_historyvisits:5", "embed"),
        ("sqlite:moz_historyvisits:6", "framed_link"),
        ("sqlite:moz_historyvisits:7", "bookmark"),
        ("sqlite:moz_historyvisits:8", "download"),
        ("sqlite:moz_historyvisits:9", "reload"),
        ("sqlite:moz_historyvisits:10", "type_42"),
    ]


def test_a_link_that_is_only_followed_is_not_a_redirect_hop(tmp_path: Path) -> None:
    path = places_db(
        tmp_path / "places.sqlite",
        [("https://a.example/", TYPED, 0), ("https://b.example/", LINK, 1)],
    )
    assert [r["transition"] for r in read_rows(make_item(path))] == ["typed", "link"]


def test_search_terms_from_search_engine_urls_time_and_user(tmp_path: Path) -> None:
    profile = tmp_path / "C" / "Users" / "hanako" / "AppData" / "Roaming" / "Mozilla"
    path = places_db(
        profile / "Firefox" / "Profiles" / "x1.default-release" / "places.sqlite",
        [
            ("https://www.google.com/search?client=firefox-b-d&q=wire+transfer", TYPED, 0),
            ("https://intranet.example/?q=secret", LINK, 0),
        ],
    )
    item = make_item(path, host="WS-0424", clock_offset=-2.0)
    item = dataclasses.replace(item, rel_path=str(path.relative_to(tmp_path)))
    rows = read_rows(item)
    assert [r["search_terms"] for r in rows] == ["wire transfer", None]
    assert rows[0]["time"] == T0 - dt.timedelta(seconds=2)
    assert {r["user"] for r in rows} == {"hanako"}
    assert {r["host"] for r in rows} == {"WS-0424"}


def test_bad_records_are_problems_and_reading_goes_on(tmp_path: Path) -> None:
    path = places_db(tmp_path / "places.sqlite", [("https://a.example/", LINK, 0)])
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO moz_historyvisits (id, place_id, visit_date, visit_type)"
            " VALUES (?, ?, ?, ?)",
            [
                (2, 99, micros(T0), LINK),  # a place that is not in moz_places
                (3, 1, None, LINK),  # no time
                (4, 1, -5, LINK),  # before 1970: not a Firefox time
                (5, 1, micros(T0), None),  # no visit type
            ],
        )
    connection.close()
    rows, problems = read_all(FORMAT, make_item(path))
    assert [row.values["record"] for row in rows] == [
        "sqlite:moz_historyvisits:1",
        "sqlite:moz_historyvisits:5",
    ]
    assert [(p.record, p.severity) for p in problems] == [
        ("sqlite:moz_historyvisits:2", "error"),
        ("sqlite:moz_historyvisits:3", "error"),
        ("sqlite:moz_historyvisits:4", "error"),
        ("sqlite:moz_historyvisits:5", "warning"),
    ]


def test_a_corrupt_or_foreign_database_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "places.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 90 + b"\xff" * 4000)
    rows, problems = read_all(FORMAT, make_item(path))
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [("file", "error")]
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE moz_places (id INTEGER)")
    connection.close()
    rows, problems = read_all(FORMAT, make_item(other))
    assert rows == []
    assert "not a Firefox places" in problems[0].message


def test_a_wal_beside_the_evidence_is_read_and_nothing_is_written(tmp_path: Path) -> None:
    work = tmp_path / "live"
    live = places_db(work / "places.sqlite", [("https://old.example/", LINK, 0)])
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("INSERT INTO moz_places (url) VALUES ('https://new.example/')")
    writer.execute(
        "INSERT INTO moz_historyvisits (place_id, visit_date, visit_type)"
        f" VALUES (2, {micros(T0)}, {LINK})"
    )
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name in ("places.sqlite", "places.sqlite-wal"):
        (evidence / name).write_bytes((work / name).read_bytes())
    writer.close()
    before = listing(evidence)
    rows = read_rows(make_item(evidence / "places.sqlite"))
    assert [r["url"] for r in rows] == ["https://old.example/", "https://new.example/"]
    assert listing(evidence) == before


def test_sniff_by_schema_and_by_name(tmp_path: Path) -> None:
    path = places_db(tmp_path / "renamed.db", [])
    assert FORMAT.sniff(path.read_bytes()[:8192], PurePath("renamed.db"))
    assert FORMAT.sniff(b"SQLite format 3\x00" + bytes(200), PurePath("places.sqlite"))


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"", "places.sqlite"),
        (b"not sqlite at all", "places.sqlite"),
        (b"SQLite format 3\x00" + bytes(200), "favicons.sqlite"),
        (b"SQLite format 3\x00CREATE TABLE urls (id) CREATE TABLE visits (id)", "History"),
        (b"SQLite format 3\x00CREATE TABLE moz_places (id)", "a.db"),
        (bytes(range(256)), "x.bin"),
    ],
)
def test_sniff_rejects_other_files(head: bytes, name: str) -> None:
    assert not FORMAT.sniff(head, PurePath(name))
