"""Chrome / Edge ``History``: the plaso samples, and databases built in code with the tables
and columns Chromium creates (``components/history/core/browser``).

What plaso's own test asserts, and how it maps here: log2timeline/plaso
``tests/parsers/sqlite_plugins/chrome_history.py`` (read at commit
0e8fc3e5ff869585d18b6ad8a45043a05aca2c0c):

- ``GoogleChrome8HistoryPluginTest.testProcess`` on ``chrome/History``: 71 event data, 0
  warnings. Those are one ``chrome:history:page_visited`` per ``visits`` row plus one
  ``chrome:history:file_downloaded`` per ``downloads`` row (the first download is event data
  69, so 69 visits + 2 downloads). Event data 0 (visits in time order): ``url
  http://start.ubuntu.com/10.04/Google/``, ``title 'Ubuntu Start Page'``, time
  ``2011-04-07T12:03:11``, ``page_transition_type 0``. Event data 20: ``url
  http://www.google.ch/blank.html``, ``url_hidden True``.
- ``GoogleChrome27HistoryPluginTest.testProcess57`` on ``chrome/History-57.0.2987.133``: 2
  event data (1 visit + 1 download), 0 warnings; the visit is ``https://raw.githubusercontent.com/
  dfirlabs/chrome-specimens/master/generate-specimens.sh`` at ``2018-01-21T14:09:53.885478``
  with title ``''``.

breachscope reads visits only (``web_visits``; downloads have no table yet), one row per visit,
so the row counts are plaso's page-visit counts (69 and 1), zero problems for zero warnings,
and the same URL, title and time at the same position when rows are ordered by time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path, PurePath

import pytest

from breachscope.formats.base import REGISTRY, EvidenceItem, Row
from breachscope.formats.chrome_history import (
    CHAIN_END,
    CHAIN_START,
    CLIENT_REDIRECT,
    SERVER_REDIRECT,
    ChromeHistory,
    url_search_terms,
)
from tests.conftest import make_item, read_all
from tests.formats.test__sqlite import listing

FORMAT = ChromeHistory()
WEBKIT_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)
T0 = dt.datetime(2024, 3, 5, 1, 2, 3, 456789, tzinfo=dt.UTC)
LINK, TYPED, AUTO_SUBFRAME, MANUAL_SUBFRAME, FORM_SUBMIT = 0, 1, 3, 4, 7
DISPLAYED = CHAIN_START | CHAIN_END  # a visit that is a chain of one

URLS_SQL = (
    "CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT,url LONGVARCHAR,title LONGVARCHAR,"
    "visit_count INTEGER DEFAULT 0 NOT NULL,typed_count INTEGER DEFAULT 0 NOT NULL,"
    "last_visit_time INTEGER NOT NULL,hidden INTEGER DEFAULT 0 NOT NULL)"
)
VISITS_SQL = (
    "CREATE TABLE visits(id INTEGER PRIMARY KEY AUTOINCREMENT,url INTEGER NOT NULL,"
    "visit_time INTEGER NOT NULL,from_visit INTEGER,transition INTEGER DEFAULT 0 NOT NULL,"
    "segment_id INTEGER,visit_duration INTEGER DEFAULT 0 NOT NULL)"
)
TERMS_SQL = (
    "CREATE TABLE keyword_search_terms (keyword_id INTEGER NOT NULL,url_id INTEGER NOT NULL,"
    "term LONGVARCHAR NOT NULL,normalized_term LONGVARCHAR NOT NULL)"
)


def webkit(moment: dt.datetime) -> int:
    return (moment - WEBKIT_EPOCH) // dt.timedelta(microseconds=1)


def history_db(
    path: Path,
    visits: list[tuple[str, int, dt.datetime]] | None = None,
    terms: dict[str, str] | None = None,
    titles: dict[str, str] | None = None,
) -> Path:
    """A minimal Chrome History: ``visits`` as (url, transition, time), URL ids by first use;
    ``terms`` maps a URL to the term Chrome recorded for it in keyword_search_terms."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(URLS_SQL)
        connection.execute(VISITS_SQL)
        connection.execute(TERMS_SQL)
        ids: dict[str, int] = {}
        for url, transition, moment in visits or []:
            if url not in ids:
                title = (titles or {}).get(url, f"title of {url}")
                cursor = connection.execute(
                    "INSERT INTO urls (url, title, last_visit_time) VALUES (?, ?, ?)",
                    (url, title, webkit(moment)),
                )
                assert cursor.lastrowid is not None
                ids[url] = cursor.lastrowid
            connection.execute(
                "INSERT INTO visits (url, visit_time, transition) VALUES (?, ?, ?)",
                (ids[url], webkit(moment), transition),
            )
        for url, term in (terms or {}).items():
            connection.execute(
                "INSERT INTO keyword_search_terms VALUES (2, ?, ?, ?)", (ids[url], term, term)
            )
    connection.close()
    return path


def read_rows(item: EvidenceItem) -> list[dict[str, object]]:
    rows, problems = read_all(FORMAT, item)
    assert problems == []
    assert all(isinstance(row, Row) and row.table == "web_visits" for row in rows)
    return [row.values for row in rows]


def by_time(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return sorted(rows, key=lambda r: (r["time"], int(str(r["record"]).rsplit(":", 1)[1])))


def test_registered_under_its_name() -> None:
    assert REGISTRY["chrome_history"] is ChromeHistory
    assert ChromeHistory.tables == ("web_visits",)


@pytest.mark.corpus
def test_plaso_history_gives_plasos_69_page_visits(corpora: Path) -> None:
    path = corpora / "plaso" / "chrome" / "History"
    # Page 1 of this database is an interior page: its schema is not in the first 8 KiB, so
    # the file name is what recognises it (with the SQLite header).
    assert FORMAT.sniff(path.read_bytes()[:8192], PurePath("History"))
    rows = by_time(read_rows(make_item(path)))
    assert len(rows) == 69
    first = rows[0]
    assert first["url"] == "http://start.ubuntu.com/10.04/Google/"
    assert first["title"] == "Ubuntu Start Page"
    assert first["time"] == dt.datetime(2011, 4, 7, 12, 3, 11, tzinfo=dt.UTC)
    assert first["transition"] == "link"  # plaso: page_transition_type 0
    assert first["record"] == "sqlite:visits:1"
    # plaso's event data 20 is the hidden http://www.google.ch/blank.html: a subframe visit.
    assert rows[20]["url"] == "http://www.google.ch/blank.html"
    assert rows[20]["transition"] == "auto_subframe"


@pytest.mark.corpus
def test_plaso_history_labels_redirect_hops_and_finds_search_terms(corpora: Path) -> None:
    rows = {r["record"]: r for r in read_rows(make_item(corpora / "plaso" / "chrome" / "History"))}
    # Typed www.google.com (0x10000001, chain start) was redirected to www.google.ch
    # (0xa0000001, server redirect + chain end): only the latter was displayed.
    assert rows["sqlite:visits:19"]["url"] == "http://www.google.com/"
    assert rows["sqlite:visits:19"]["transition"] == "typed|redirect"
    assert rows["sqlite:visits:20"]["url"] == "http://www.google.ch/"
    assert rows["sqlite:visits:20"]["transition"] == "typed"
    assert rows["sqlite:visits:17"]["transition"] == "auto_subframe|redirect"
    # keyword_search_terms holds 'funny cats', 'really really funny cats', 'funnycats.exe'.
    terms = {r["search_terms"] for r in rows.values()} - {None}
    assert {"funny cats", "really really funny cats", "funnycats.exe"} <= terms
    # From the URL itself: a q= query parameter, and Google's old #q= fragment.
    assert rows["sqlite:visits:10"]["search_terms"] == "java plugin"
    assert rows["sqlite:visits:22"]["search_terms"] == "grr"
    assert rows["sqlite:visits:1"]["search_terms"] is None


@pytest.mark.corpus
def test_plaso_history_57_gives_plasos_one_page_visit(corpora: Path) -> None:
    path = corpora / "plaso" / "chrome" / "History-57.0.2987.133"
    assert FORMAT.sniff(path.read_bytes()[:8192], PurePath(path.name))  # by its schema
    rows = read_rows(make_item(path))
    assert len(rows) == 1
    assert rows[0]["url"] == (
        "https://raw.githubusercontent.com/dfirlabs/chrome-specimens/master/generate-specimens.sh"
    )
    assert rows[0]["time"] == dt.datetime(2018, 1, 21, 14, 9, 53, 885478, tzinfo=dt.UTC)
    assert rows[0]["title"] == ""


@pytest.mark.corpus
def test_reading_the_corpus_changes_nothing_beside_it(corpora: Path) -> None:
    folder = corpora / "plaso" / "chrome"
    before = listing(folder)
    read_rows(make_item(folder / "History"))
    assert listing(folder) == before


def test_one_row_per_visit_with_its_time_host_user_and_record(tmp_path: Path) -> None:
    profile = tmp_path / "C" / "Users" / "taro" / "AppData" / "Local" / "Google" / "Chrome"
    path = history_db(
        profile / "User Data" / "Default" / "History",
        [
            ("https://portal.example/", DISPLAYED | TYPED, T0),
            ("https://portal.example/", DISPLAYED | LINK, T0 + dt.timedelta(minutes=5)),
        ],
        titles={"https://portal.example/": "Portal"},
    )
    item = make_item(path, host="WS-0423", system="ws", clock_offset=30.0)
    item = dataclasses.replace(item, rel_path=str(path.relative_to(tmp_path)))
    rows = read_rows(item)
    assert rows == [
        {
            "time": T0 + dt.timedelta(seconds=30),
            "host": "WS-0423",
            "user": "taro",
            "url": "https://portal.example/",
            "title": "Portal",
            "search_terms": None,
            "transition": "typed",
            "system": "ws",
            "record": "sqlite:visits:1",
        },
        {
            "time": T0 + dt.timedelta(minutes=5, seconds=30),
            "host": "WS-0423",
            "user": "taro",
            "url": "https://portal.example/",
            "title": "Portal",
            "search_terms": None,
            "transition": "link",
            "system": "ws",
            "record": "sqlite:visits:2",
        },
    ]


def test_subframe_visits_and_redirect_hops_are_labelled(tmp_path: Path) -> None:
    later = [T0 + dt.timedelta(seconds=n) for n in range(7)]
    path = history_db(
        tmp_path / "History",
        [
            ("https://ads.example/frame", DISPLAYED | AUTO_SUBFRAME, later[0]),
            ("https://forum.example/frame", DISPLAYED | MANUAL_SUBFRAME, later[1]),
            # A link to a shortener that server-redirects twice to the landing page.
            ("https://short.example/x", CHAIN_START | LINK, later[2]),
            ("https://track.example/y", SERVER_REDIRECT | LINK, later[3]),
            ("https://landing.example/", SERVER_REDIRECT | CHAIN_END | LINK, later[4]),
            # A page that script-redirected onward, and where it went.
            ("https://meta.example/", CHAIN_START | FORM_SUBMIT, later[5]),
            ("https://after.example/", CLIENT_REDIRECT | CHAIN_END | LINK, later[6]),
        ],
    )
    labels = [(r["url"], r["transition"]) for r in read_rows(make_item(path))]
    assert labels == [
        ("https://ads.example/frame", "auto_subframe"),
        ("https://forum.example/frame", "manual_subframe"),
        ("https://short.example/x", "link|redirect"),
        ("https://track.example/y", "link|redirect"),
        ("https://landing.example/", "link"),
        ("https://meta.example/", "form_submit|redirect"),
        ("https://after.example/", "link"),
    ]


def test_a_visit_without_chain_bits_counts_as_displayed(tmp_path: Path) -> None:
    path = history_db(tmp_path / "History", [("https://a.example/", TYPED, T0)])
    assert read_rows(make_item(path))[0]["transition"] == "typed"


def test_keyword_search_terms_give_the_term_chrome_recorded(tmp_path: Path) -> None:
    url = "https://www.google.co.jp/search?q=%E8%AB%8B%E6%B1%82%E6%9B%B8&oq=x"
    path = history_db(
        tmp_path / "History",
        [(url, DISPLAYED | 9, T0), (url, DISPLAYED | 8, T0 + dt.timedelta(seconds=1))],
        terms={url: "請求書 Invoice"},
    )
    assert [r["search_terms"] for r in read_rows(make_item(path))] == ["請求書 Invoice"] * 2


def test_search_terms_come_from_a_search_engines_query_parameter(tmp_path: Path) -> None:
    urls = [
        "https://www.bing.com/search?q=vpn+login&form=QBLH",
        "https://search.yahoo.co.jp/search?p=%E7%B5%A6%E4%B8%8E&ei=UTF-8",
        "https://www.baidu.com/s?ie=utf-8&wd=password",
        "https://search.naver.com/search.naver?query=hello",
        "https://duckduckgo.com/?q=how+to+reset&ia=web",
        "https://www.google.com/url?q=https://evil.example/payload&sa=U",
        "https://intranet.example/search?q=salaries",
        "https://maps.google.com/?q=tokyo",
        "https://www.google.com/search?q=&tbm=isch",
    ]
    visits = [(url, DISPLAYED, T0 + dt.timedelta(seconds=n)) for n, url in enumerate(urls)]
    path = history_db(tmp_path / "History", visits)
    assert [r["search_terms"] for r in read_rows(make_item(path))] == [
        "vpn login",
        "給与",
        "password",
        "hello",
        "how to reset",
        None,
        None,
        None,
        None,
    ]


def test_url_search_terms_survives_urls_python_cannot_parse() -> None:
    assert url_search_terms("http://[::1/?q=x") is None
    assert url_search_terms("not a url") is None


def test_a_corrupt_database_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    good = history_db(tmp_path / "good" / "History", [("https://a.example/", DISPLAYED, T0)])
    data = bytearray(good.read_bytes())
    data[100:] = b"\xa5" * (len(data) - 100)
    path = tmp_path / "History"
    path.write_bytes(bytes(data))
    rows, problems = read_all(FORMAT, make_item(path))
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [("file", "error")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["History", "good"]


def test_an_unrelated_sqlite_database_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "History"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE other (id INTEGER)")
    connection.close()
    rows, problems = read_all(FORMAT, make_item(path))
    assert rows == []
    assert len(problems) == 1
    assert "not a Chrome History" in problems[0].message


def test_bad_records_are_problems_and_reading_goes_on(tmp_path: Path) -> None:
    path = history_db(tmp_path / "History", [("https://a.example/", DISPLAYED, T0)])
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO visits (id, url, visit_time, transition) VALUES (?, ?, ?, ?)",
            [
                (2, 99, webkit(T0), DISPLAYED),  # a URL id that is not in urls
                (3, 1, 0, DISPLAYED),  # no time
                (4, 1, "yesterday", DISPLAYED),  # SQLite keeps any type in any column
                (5, 1, 2**62, DISPLAYED),  # past year 9999
                (6, 1, webkit(T0), "typed"),  # a transition that is not a number
                (7, 1, webkit(T0), -0x60000000),  # sign-extended 32-bit transition
            ],
        )
    connection.close()
    rows, problems = read_all(FORMAT, make_item(path))
    assert [row.values["record"] for row in rows] == [
        "sqlite:visits:1",
        "sqlite:visits:6",
        "sqlite:visits:7",
    ]
    assert [(p.record, p.severity) for p in problems] == [
        ("sqlite:visits:2", "error"),
        ("sqlite:visits:3", "error"),
        ("sqlite:visits:4", "error"),
        ("sqlite:visits:5", "error"),
        ("sqlite:visits:6", "warning"),
    ]
    assert rows[1].values["transition"] is None
    assert rows[2].values["transition"] == "link"  # 0xa0000000: server redirect, chain end


def test_a_wal_beside_the_evidence_is_read_and_nothing_is_written(tmp_path: Path) -> None:
    work = tmp_path / "live"
    live = history_db(work / "History", [("https://old.example/", DISPLAYED, T0)])
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute(
        "INSERT INTO urls (url, title, last_visit_time) VALUES ('https://new.example/', 'n', 0)"
    )
    writer.execute(
        f"INSERT INTO visits (url, visit_time, transition) VALUES (2, {webkit(T0)}, {DISPLAYED})"
    )
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name in ("History", "History-wal"):
        (evidence / name).write_bytes((work / name).read_bytes())
    writer.close()
    before = listing(evidence)
    rows = read_rows(make_item(evidence / "History"))
    assert [r["url"] for r in rows] == ["https://old.example/", "https://new.example/"]
    assert listing(evidence) == before


def test_sniff_by_schema_and_by_name(tmp_path: Path) -> None:
    path = history_db(tmp_path / "anything.db")
    head = path.read_bytes()[:8192]
    assert FORMAT.sniff(head, PurePath("anything.db"))
    assert FORMAT.sniff(b"SQLite format 3\x00" + bytes(200), PurePath("History"))
    assert FORMAT.sniff(b"SQLite format 3\x00" + bytes(200), PurePath("Archived History"))


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"", "History"),
        (b"History of everything\n", "History"),
        (b"SQLite format 3\x00" + bytes(200), "Cookies"),
        (b"SQLite format 3\x00CREATE TABLE moz_places (id) CREATE TABLE visits2 (x)", "a.db"),
        (b"SQLite format 3\x00CREATE TABLE logins (origin_url VARCHAR)", "Login Data"),
        (bytes(range(256)), "History.bin"),
    ],
)
def test_sniff_rejects_other_files(head: bytes, name: str) -> None:
    assert not FORMAT.sniff(head, PurePath(name))
