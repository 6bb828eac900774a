"""Firefox ``places.sqlite`` (history). Emits `web_visits` rows.

References: Mozilla ``toolkit/components/places`` (``moz_places``, ``moz_historyvisits``) and
``nsINavHistoryService.idl`` (the ``TRANSITION_*`` visit types).

Why the reading is done the way it is:

- **One row per visit** (a ``moz_historyvisits`` row joined to its ``moz_places`` row), record
  ``sqlite:moz_historyvisits:<id>``. Bookmarks, annotations and folders in the same database
  are not visits and are not read.
- **Time** is ``visit_date``: microseconds since 1970-01-01 UTC, plus the item's
  ``clock_offset``. A visit without a usable time is an error.
- **transition** is the visit type's name (`VISIT_TYPES`: 1 ``link``, 2 ``typed``, 3
  ``bookmark``, 4 ``embed``, 5 ``redirect_permanent``, 6 ``redirect_temporary``, 7
  ``download``, 8 ``framed_link``, 9 ``reload``; an unknown number is ``type_<n>``), followed
  by ``|redirect`` when the visit is an **intermediate redirect hop**. Firefox types a visit by
  how the page was *reached*: the target of a redirect gets type 5 or 6 and points back to the
  redirecting visit through ``from_visit``. So the hop that was never displayed is the
  *source*: a visit that some type 5/6 visit names in ``from_visit``. A ``redirect_*`` visit
  that is not itself a source was displayed. For exposure (rules.md, Exposure -> Displayed) a
  visit was **not displayed** when its transition ends in ``|redirect`` or is ``embed`` /
  ``framed_link`` (`SUBFRAME_TRANSITIONS`: content loaded inside a frame of another page).
  This matches the labels of `breachscope.formats.chrome_history`.
- **search_terms**: Firefox keeps no per-visit search terms table, so they come from the ``q``,
  ``p``, ``query`` or ``wd`` parameter of search engine URLs (rules.md), see
  `breachscope.formats.chrome_history.url_search_terms`.
- **user** comes from the database's location in the evidence (``...\\Users\\<name>\\...``).
- The database is read from a private copy with its ``-wal`` / ``-journal`` (see
  `breachscope.formats._sqlite`); Firefox keeps recent history in ``places.sqlite-wal``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, ClassVar

from breachscope.formats._sqlite import (
    head_has_tables,
    is_sqlite,
    read_visit_time,
    sqlite_copy,
    sqlite_text,
    table_columns,
    table_names,
    unix_micro_time,
)
from breachscope.formats.base import EvidenceItem, Problem, Row, Yielded, register
from breachscope.formats.chrome_history import REDIRECT_MARK, url_search_terms
from breachscope.formats.lnk import user_from_location

VISIT_TYPES: dict[int, str] = {
    1: "link",
    2: "typed",
    3: "bookmark",
    4: "embed",
    5: "redirect_permanent",
    6: "redirect_temporary",
    7: "download",
    8: "framed_link",
    9: "reload",
}
REDIRECT_TYPES = (5, 6)
SUBFRAME_TRANSITIONS = frozenset({"embed", "framed_link"})
PLACES_NAMES = frozenset({"places.sqlite"})


def transition_label(visit_type: Any, redirect_source: bool) -> str | None:
    """The ``transition`` column for a visit type, plus ``|redirect`` for a redirect source.

    >>> transition_label(2, False), transition_label(1, True), transition_label(5, False)
    ('typed', 'link|redirect', 'redirect_permanent')
    """
    if isinstance(visit_type, bool) or not isinstance(visit_type, int):
        return None
    label = VISIT_TYPES.get(visit_type, f"type_{visit_type}")
    return f"{label}|{REDIRECT_MARK}" if redirect_source else label


@register
class FirefoxHistory:
    """Firefox ``places.sqlite``: one `web_visits` row per ``moz_historyvisits`` row.

    Reference: Mozilla ``toolkit/components/places`` and ``nsINavHistoryService.idl``.
    """

    name: ClassVar[str] = "firefox_history"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("web_visits",)
    sniff_priority: ClassVar[int] = 35

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """SQLite whose schema in ``head`` creates ``moz_places`` and ``moz_historyvisits``;
        or SQLite named ``places.sqlite`` when the schema lies beyond the first bytes."""
        if not is_sqlite(head):
            return False
        return (
            head_has_tables(head, "moz_places", "moz_historyvisits")
            or path.name.lower() in PLACES_NAMES
        )

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """One `web_visits` row per visit; errors name the visit or the file."""
        try:
            with sqlite_copy(item) as connection:
                yield from self._read(item, connection)
        except (sqlite3.Error, OSError) as error:
            yield Problem("file", f"cannot read the places database: {error}")

    def _read(self, item: EvidenceItem, connection: sqlite3.Connection) -> Iterator[Yielded]:
        if not {"moz_places", "moz_historyvisits"} <= table_names(connection):
            yield Problem(
                "file", "no moz_places and moz_historyvisits tables: not a Firefox places file"
            )
            return
        sources = self._redirect_sources(connection)
        user = user_from_location(item.rel_path)
        cursor = connection.execute(
            "SELECT v.id, v.visit_date, v.visit_type, v.place_id, p.url, p.title"
            " FROM moz_historyvisits AS v LEFT JOIN moz_places AS p ON p.id = v.place_id"
            " ORDER BY v.id"
        )
        for visit_id, visit_date, visit_type, place_id, url, title in cursor:
            record = f"sqlite:moz_historyvisits:{visit_id}"
            url_text = sqlite_text(url)
            if not url_text:
                yield Problem(record, f"visit of place id {place_id!r}, which is not in moz_places")
                continue
            time = read_visit_time(record, visit_date, unix_micro_time)
            if isinstance(time, Problem):
                yield time
                continue
            label = transition_label(visit_type, visit_id in sources)
            if label is None:
                yield Problem(record, f"visit type {visit_type!r} is not a number", "warning")
            yield Row(
                "web_visits",
                {
                    "time": item.utc(time),
                    "host": item.host,
                    "user": user,
                    "url": url_text,
                    "title": sqlite_text(title),
                    "search_terms": url_search_terms(url_text),
                    "transition": label,
                    "system": item.system,
                    "record": record,
                },
            )

    @staticmethod
    def _redirect_sources(connection: sqlite3.Connection) -> set[int]:
        """Ids of visits that a redirect visit (type 5/6) came from: the undisplayed hops."""
        if "from_visit" not in table_columns(connection, "moz_historyvisits"):
            return set()
        rows = connection.execute(
            "SELECT DISTINCT from_visit FROM moz_historyvisits"
            " WHERE visit_type IN (?, ?) AND from_visit > 0",
            REDIRECT_TYPES,
        )
        return {value for (value,) in rows if isinstance(value, int)}
