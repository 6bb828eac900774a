"""Chrome / Edge (Chromium) ``History`` SQLite database. Emits `web_visits` rows.

References: Chromium ``components/history/core/browser/visit_database.cc`` and
``url_database.cc`` (tables ``visits``, ``urls``, ``keyword_search_terms``) and
``ui/base/page_transition_types.h`` (the ``transition`` bit field).

Why the reading is done the way it is:

- **One row per visit** (a ``visits`` row joined to its ``urls`` row), record
  ``sqlite:visits:<visits.id>``. ``urls`` only keeps the *last* visit of each URL, so it is not
  a timeline; ``visits`` is.
- **Time** is ``visits.visit_time``: microseconds since 1601-01-01 UTC (WebKit time), plus the
  item's ``clock_offset``. A visit without a usable time is an error.
- **transition** is the core type, ``transition & 0xFF`` (`CORE_TRANSITIONS`: ``link``,
  ``typed``, ``auto_bookmark``, ``auto_subframe``, ``manual_subframe``, ``generated``,
  ``auto_toplevel``, ``form_submit``, ``reload``, ``keyword``, ``keyword_generated``; an
  unknown core is ``core_<n>``), followed by ``|redirect`` when the visit is an
  **intermediate redirect hop**: Chrome marks the last visit of a redirect chain with
  ``CHAIN_END`` (0x20000000), so a visit that takes part in a chain (``CHAIN_START``
  0x10000000, ``CLIENT_REDIRECT`` 0x40000000 or ``SERVER_REDIRECT`` 0x80000000 set) but
  lacks ``CHAIN_END`` was left for another page before being shown (a server redirect's
  source, or a page that script-redirected onward). The chain's last visit is what was
  displayed and carries no ``|redirect``. A visit with none of the chain bits (databases
  written by other tools) is taken as displayed. For exposure (rules.md, Exposure ->
  Displayed) a visit was **not displayed** when its transition ends in ``|redirect`` or its
  core is ``auto_subframe`` / ``manual_subframe`` (`SUBFRAME_TRANSITIONS`: content of a frame
  inside a page, such as ads, not a page the user went to).
- **search_terms**: the term Chrome itself recorded for the visited URL in
  ``keyword_search_terms`` (``term``, by ``url_id``) when there is one; otherwise the ``q``,
  ``p``, ``query`` or ``wd`` parameter of a search engine URL (rules.md), see
  `url_search_terms`.
- **user** comes from the database's location in the evidence (``...\\Users\\<name>\\...``),
  see `breachscope.formats.lnk.user_from_location`.
- The database is read from a private copy with its ``-wal`` / ``-journal`` (see
  `breachscope.formats._sqlite`). A file that is not a History database, or a database
  that breaks while being read, is an error naming the file; rows read before it stand.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from breachscope.formats._sqlite import (
    head_has_tables,
    is_sqlite,
    read_visit_time,
    sqlite_copy,
    sqlite_text,
    table_columns,
    table_names,
    webkit_time,
)
from breachscope.formats.base import EvidenceItem, Problem, Row, Yielded, register
from breachscope.formats.lnk import user_from_location

CORE_MASK = 0xFF
CHAIN_START = 0x10000000
CHAIN_END = 0x20000000
CLIENT_REDIRECT = 0x40000000
SERVER_REDIRECT = 0x80000000
CHAIN_BITS = CHAIN_START | CHAIN_END | CLIENT_REDIRECT | SERVER_REDIRECT
REDIRECT_MARK = "redirect"
CORE_TRANSITIONS: dict[int, str] = {
    0: "link",
    1: "typed",
    2: "auto_bookmark",
    3: "auto_subframe",
    4: "manual_subframe",
    5: "generated",
    6: "auto_toplevel",
    7: "form_submit",
    8: "reload",
    9: "keyword",
    10: "keyword_generated",
}
SUBFRAME_TRANSITIONS = frozenset({"auto_subframe", "manual_subframe"})
# File names a Chromium history database has, for when its schema is not in the first bytes.
HISTORY_NAMES = frozenset({"history", "archived history"})

# Search engines whose search parameter is one of rules.md's ``q``, ``p``, ``query``, ``wd``
# (Yandex's ``text`` and goo's ``MT`` are not, so those engines are not listed). A host is one
# when, after leading labels of `SEARCH_HOST_PREFIXES` or two letters (regional: jp., uk.),
# it is `<engine>.<suffix>` with a suffix of one or two short labels (com, co.jp, com.au).
SEARCH_ENGINES = frozenset(
    {
        "google",
        "bing",
        "yahoo",
        "duckduckgo",
        "baidu",
        "naver",
        "ecosia",
        "ask",
        "startpage",
        "qwant",
        "brave",
        "sogou",
        "seznam",
        "aol",
    }
)
SEARCH_HOST_PREFIXES = frozenset({"www", "m", "search", "html", "lite", "encrypted"})
SEARCH_PARAMETERS = ("q", "p", "query", "wd")
ABSOLUTE_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def is_search_engine(host: str | None) -> bool:
    """True for a search engine's host (see `SEARCH_ENGINES`).

    >>> is_search_engine("www.google.co.jp"), is_search_engine("search.yahoo.co.jp")
    (True, True)
    >>> is_search_engine("maps.google.com"), is_search_engine("google.evil.example")
    (False, False)
    """
    if not host:
        return False
    labels = host.lower().rstrip(".").split(".")
    while len(labels) > 2 and (labels[0] in SEARCH_HOST_PREFIXES or len(labels[0]) == 2):
        labels = labels[1:]
    if len(labels) not in (2, 3) or labels[0] not in SEARCH_ENGINES:
        return False
    return all(0 < len(label) <= 3 for label in labels[1:])


def url_search_terms(url: str) -> str | None:
    """The search terms of a search engine URL: its ``q``, ``p``, ``query`` or ``wd``.

    The query string is read first, then the fragment (Google's instant search wrote
    ``#q=``). A value that is itself an absolute URL is not a search: Google's result links go
    through ``/url?q=<destination>``.

    >>> url_search_terms("https://www.google.com/search?q=invoice+2024&ie=UTF-8")
    'invoice 2024'
    >>> url_search_terms("https://www.baidu.com/s?wd=%E5%8F%91%E7%A5%A8")
    '发票'
    >>> url_search_terms("https://www.google.com/url?q=https://evil.example/&sa=U") is None
    True
    >>> url_search_terms("https://intranet.example/find?q=salary") is None
    True
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if not is_search_engine(host):
        return None
    for text in (parts.query, parts.fragment):
        values = dict(reversed(parse_qsl(text, errors="replace")))
        for name in SEARCH_PARAMETERS:
            value = values.get(name, "").strip()
            if value and not ABSOLUTE_URL_RE.match(value):
                return value
    return None


def transition_label(value: Any) -> str | None:
    """The ``transition`` column: core name, plus ``|redirect`` for an intermediate hop.

    >>> transition_label(0x30000000), transition_label(0x10000001), transition_label(0xA0000001)
    ('link', 'typed|redirect', 'typed')
    >>> transition_label(0x30000003), transition_label(1)
    ('auto_subframe', 'typed')
    """
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    value &= 0xFFFFFFFF  # older Chrome stored the 32-bit field sign-extended
    core = value & CORE_MASK
    label = CORE_TRANSITIONS.get(core, f"core_{core}")
    if value & CHAIN_BITS and not value & CHAIN_END:
        label = f"{label}|{REDIRECT_MARK}"
    return label


@register
class ChromeHistory:
    """Chrome / Edge ``History`` SQLite: one `web_visits` row per visit.

    Reference: Chromium ``components/history/core/browser`` and ``page_transition_types.h``.
    """

    name: ClassVar[str] = "chrome_history"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("web_visits",)
    sniff_priority: ClassVar[int] = 35

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """SQLite whose schema in ``head`` creates ``urls`` and ``visits``; or SQLite named
        ``History`` when the schema lies beyond the first bytes (see `head_has_tables`)."""
        if not is_sqlite(head):
            return False
        return head_has_tables(head, "urls", "visits") or path.name.lower() in HISTORY_NAMES

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """One `web_visits` row per ``visits`` row; errors name the visit or the file."""
        try:
            with sqlite_copy(item) as connection:
                yield from self._read(item, connection)
        except (sqlite3.Error, OSError) as error:
            yield Problem("file", f"cannot read the History database: {error}")

    def _read(self, item: EvidenceItem, connection: sqlite3.Connection) -> Iterator[Yielded]:
        tables = table_names(connection)
        if not {"urls", "visits"} <= tables:
            yield Problem("file", "no urls and visits tables: not a Chrome History database")
            return
        terms = self._keyword_terms(connection) if "keyword_search_terms" in tables else {}
        has_transition = "transition" in table_columns(connection, "visits")
        user = user_from_location(item.rel_path)
        cursor = connection.execute(
            "SELECT v.id, v.visit_time, "
            + ("v.transition" if has_transition else "NULL")
            + ", v.url, u.url, u.title FROM visits AS v LEFT JOIN urls AS u ON u.id = v.url"
            " ORDER BY v.id"
        )
        for visit_id, visit_time, transition, url_id, url, title in cursor:
            record = f"sqlite:visits:{visit_id}"
            url_text = sqlite_text(url)
            if not url_text:
                yield Problem(record, f"visit of URL id {url_id!r}, which is not in urls")
                continue
            time = read_visit_time(record, visit_time, webkit_time)
            if isinstance(time, Problem):
                yield time
                continue
            label = transition_label(transition)
            if label is None and has_transition:
                yield Problem(record, f"transition {transition!r} is not a number", "warning")
            search = terms.get(url_id) if isinstance(url_id, int) else None
            yield Row(
                "web_visits",
                {
                    "time": item.utc(time),
                    "host": item.host,
                    "user": user,
                    "url": url_text,
                    "title": sqlite_text(title),
                    "search_terms": search or url_search_terms(url_text),
                    "transition": label,
                    "system": item.system,
                    "record": record,
                },
            )

    @staticmethod
    def _keyword_terms(connection: sqlite3.Connection) -> dict[int, str]:
        """url_id -> the term as the user typed it (``term``; ``lower_term`` without it)."""
        columns = table_columns(connection, "keyword_search_terms")
        if "url_id" not in columns:
            return {}
        term = "term" if "term" in columns else "lower_term" if "lower_term" in columns else None
        if term is None:
            return {}
        terms: dict[int, str] = {}
        rows = connection.execute(f"SELECT url_id, {term} FROM keyword_search_terms ORDER BY rowid")
        for url_id, value in rows:
            text = sqlite_text(value)
            if isinstance(url_id, int) and text and text.strip():
                terms.setdefault(url_id, text.strip())
        return terms
