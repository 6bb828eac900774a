"""Chrome's ``History`` and ``Login Data`` SQLite databases, with Chrome's own tables.

Why: the browser history is the evidence of what was on screen (URLs and searches,
rules.md, Displayed), and the saved logins of what credentials were stored on the PC. The
tables are those of Chrome 12 (2011) with the columns breachscope and other tools read:
``urls``, ``visits`` (WebKit microseconds since 1601, the transition bit field),
``keyword_search_terms``, ``meta``; ``logins`` with ``password_value`` holding an opaque blob
(never read by breachscope). The saved login is for a travel booking site that has no logs in
the case, so its misuse cannot be assessed; a "never save" entry holds no credential.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from pathlib import Path

from breachscope.demo.browsing import AUTO_SUBFRAME, TRAVEL_ORIGIN, BrowseVisit
from breachscope.demo.records import Ref, StoredLogin, Visit
from breachscope.demo.scenario import SUBJECT_EMAIL, SUBJECT_HOST, jst

WEBKIT_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)
HISTORY_TABLES = (
    "CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR)",
    "CREATE TABLE urls(id INTEGER PRIMARY KEY,url LONGVARCHAR,title LONGVARCHAR,"
    "visit_count INTEGER DEFAULT 0 NOT NULL,typed_count INTEGER DEFAULT 0 NOT NULL,"
    "last_visit_time INTEGER NOT NULL,hidden INTEGER DEFAULT 0 NOT NULL,"
    "favicon_id INTEGER DEFAULT 0 NOT NULL)",
    "CREATE TABLE visits(id INTEGER PRIMARY KEY,url INTEGER NOT NULL,"
    "visit_time INTEGER NOT NULL,from_visit INTEGER,transition INTEGER DEFAULT 0 NOT NULL,"
    "segment_id INTEGER,is_indexed BOOLEAN,visit_duration INTEGER DEFAULT 0 NOT NULL)",
    "CREATE TABLE visit_source(id INTEGER PRIMARY KEY,source INTEGER NOT NULL)",
    "CREATE TABLE keyword_search_terms (keyword_id INTEGER NOT NULL,url_id INTEGER NOT NULL,"
    "lower_term LONGVARCHAR NOT NULL,term LONGVARCHAR NOT NULL)",
    "CREATE TABLE segments (id INTEGER PRIMARY KEY,name VARCHAR,url_id INTEGER NON NULL,"
    "pres_index INTEGER DEFAULT -1 NOT NULL)",
    "CREATE TABLE segment_usage (id INTEGER PRIMARY KEY,segment_id INTEGER NOT NULL,"
    "time_slot INTEGER NOT NULL,visit_count INTEGER DEFAULT 0 NOT NULL)",
    "CREATE INDEX visits_url_index ON visits (url)",
    "CREATE INDEX visits_time_index ON visits (visit_time)",
    "CREATE INDEX urls_url_index ON urls (url)",
    "CREATE INDEX keyword_search_terms_index2 ON keyword_search_terms (url_id)",
)
LOGINS_TABLE = (
    "CREATE TABLE logins (origin_url VARCHAR NOT NULL, action_url VARCHAR, "
    "username_element VARCHAR, username_value VARCHAR, password_element VARCHAR, "
    "password_value BLOB, submit_element VARCHAR, signon_realm VARCHAR NOT NULL,"
    "ssl_valid INTEGER NOT NULL,preferred INTEGER NOT NULL,date_created INTEGER NOT NULL,"
    "blacklisted_by_user INTEGER NOT NULL,scheme INTEGER NOT NULL,"
    "UNIQUE (origin_url, username_element, username_value, password_element, "
    "submit_element, signon_realm))"
)
SEARCH_KEYWORD_ID = 2
TRAVEL_SAVED_AT = jst(2011, 6, 15, 11, 2, 37)
NEVER_SAVE_AT = jst(2011, 6, 1, 9, 12, 5)


def webkit(moment: dt.datetime) -> int:
    """Microseconds since 1601-01-01 UTC.

    >>> webkit(dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    11644473600000000
    """
    delta = moment.astimezone(dt.UTC) - WEBKIT_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _fresh(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=DELETE")
    return connection


def write_history(
    path: Path, rel: str, visits: list[BrowseVisit], rng: random.Random
) -> list[Visit]:
    """Write ``History``; return each visit with its record reference."""
    connection = _fresh(path)
    try:
        connection.execute("BEGIN")
        for statement in HISTORY_TABLES:
            connection.execute(statement)
        connection.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("version", "20"), ("last_compatible_version", "16"), ("mmap_status", "-1")],
        )
        url_ids: dict[str, int] = {}
        for visit in visits:
            url_ids.setdefault(visit.url, len(url_ids) + 1)
        for url, url_id in url_ids.items():
            mine = [v for v in visits if v.url == url]
            typed = sum(1 for v in mine if v.transition & 0xFF == 1)
            hidden = int(all(v.transition == AUTO_SUBFRAME for v in mine))
            connection.execute(
                "INSERT INTO urls VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (url_id, url, mine[-1].title, len(mine), typed, webkit(mine[-1].time), hidden),
            )
        facts: list[Visit] = []
        previous = 0
        for visit_id, visit in enumerate(visits, start=1):
            from_visit = previous if visit.transition & 0x80000000 else 0
            connection.execute(
                "INSERT INTO visits VALUES (?, ?, ?, ?, ?, 0, 1, ?)",
                (
                    visit_id,
                    url_ids[visit.url],
                    webkit(visit.time),
                    from_visit,
                    visit.transition,
                    rng.randrange(1_000_000, 600_000_000),
                ),
            )
            facts.append(
                Visit(
                    visit.time,
                    visit.url,
                    visit.transition,
                    visit.search_term,
                    Ref(rel, f"sqlite:visits:{visit_id}"),
                )
            )
            previous = visit_id
        terms = {(url_ids[v.url], v.search_term) for v in visits if v.search_term}
        for url_id, term in sorted(terms):
            connection.execute(
                "INSERT INTO keyword_search_terms VALUES (?, ?, ?, ?)",
                (SEARCH_KEYWORD_ID, url_id, term.lower(), term),
            )
        connection.execute("COMMIT")
    finally:
        connection.close()
    return facts


def write_login_data(path: Path, rel: str, rng: random.Random) -> list[StoredLogin]:
    """Write ``Login Data``: one saved credential and one "never save" marker."""
    connection = _fresh(path)
    try:
        connection.execute("BEGIN")
        connection.execute(LOGINS_TABLE)
        rows = [
            (
                f"{TRAVEL_ORIGIN}/login",
                f"{TRAVEL_ORIGIN}/session",
                "email",
                SUBJECT_EMAIL,
                "password",
                b"\x01\x00\x00\x00\xd0\x8c\x9d\xdf\x01\x15\xd1\x11" + rng.randbytes(150),
                "",
                f"{TRAVEL_ORIGIN}/",
                1,
                1,
                webkit(TRAVEL_SAVED_AT),
                0,
                0,
            ),
            (
                "https://webmail.example-provider.example/",
                "",
                "",
                "",
                "",
                b"",
                "",
                "https://webmail.example-provider.example/",
                1,
                0,
                webkit(NEVER_SAVE_AT),
                1,
                0,
            ),
        ]
        connection.executemany("INSERT INTO logins VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        connection.execute("COMMIT")
    finally:
        connection.close()
    return [
        StoredLogin(
            SUBJECT_HOST,
            f"{TRAVEL_ORIGIN}/login",
            SUBJECT_EMAIL,
            TRAVEL_SAVED_AT,
            False,
            Ref(rel, "sqlite:logins:1"),
        ),
        StoredLogin(
            SUBJECT_HOST,
            "https://webmail.example-provider.example/",
            "",
            NEVER_SAVE_AT,
            True,
            Ref(rel, "sqlite:logins:2"),
        ),
    ]
