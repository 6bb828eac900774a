"""Saved browser logins: Chrome / Edge ``Login Data`` and Firefox ``logins.json``.

Emits `stored_credentials` rows: a password for ``account`` at ``origin`` is saved in the
browser of ``host`` (rules.md, Exposure -> Credentials: ``stored`` = in a browser's saved
logins on a subject host). **The secret itself is never read**: Chrome's ``password_value``
is never selected (the query names its columns from `CHROME_COLUMNS`, which leaves it out),
and Firefox's ``encryptedPassword`` is dropped while the JSON is parsed, before any of our
code sees the entry, so it cannot reach a row, a problem message or a log.

References: Chromium ``components/password_manager/core/browser/password_store/login_database.cc``
(table ``logins``); Firefox ``toolkit/components/passwordmgr/LoginStore.sys.mjs``
(``logins.json``).

Why the reading is done the way it is:

- **Chrome**: one row per ``logins`` row, record ``sqlite:logins:<rowid>``. ``origin`` is
  ``origin_url`` (``signon_realm`` when that is empty); ``account`` is ``username_value`` (null
  when empty: a password saved without a user name). Rows with ``blacklisted_by_user`` set are
  the "never save for this site" markers, which hold no credential, and are skipped. ``time``
  is ``date_created`` (WebKit microseconds since 1601), the moment the credential came to be
  stored on the host, so an analysis can tell whether it was there during the window; 0 or a
  missing column gives null. ``date_last_used`` has no column in ``stored_credentials``.
- **Firefox**: one row per element of ``logins``, record ``json:<index>`` (0-based position in
  the array). ``origin`` is ``hostname`` (``formSubmitURL`` when that is empty). Firefox
  stores the user name encrypted (``encryptedUsername``, with the key in ``key4.db``, possibly
  behind a primary password); breachscope does not decrypt saved credentials, so ``account``
  (and ``account_key``) is **null**: the row still says a password for that origin was saved
  on the host. ``time`` is ``timeCreated`` (milliseconds since 1970). A ``logins.json`` larger
  than `MAX_LOGINS_JSON_BYTES` is refused as an error rather than held in memory.
- ``account_key`` is `breachscope.identity.account_key` of the account (with the manifest's
  realms and the host), when there is an account. ``user`` is the profile's owner, from the
  file's location in the evidence (``...\\Users\\<name>\\...``).
- The SQLite database is read from a private copy with its ``-wal`` / ``-journal`` (see
  `breachscope.formats._sqlite`).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, ClassVar

from breachscope.formats._sqlite import (
    head_has_tables,
    is_sqlite,
    sqlite_copy,
    sqlite_text,
    table_columns,
    table_names,
    unix_milli_time,
    webkit_time,
)
from breachscope.formats.base import EvidenceItem, Problem, Row, Yielded, register
from breachscope.formats.lnk import user_from_location
from breachscope.identity import account_key

# The only columns of Chrome's `logins` table that are ever selected (never password_value).
CHROME_COLUMNS = (
    "origin_url",
    "signon_realm",
    "username_value",
    "date_created",
    "blacklisted_by_user",
)
LOGIN_DATA_NAMES = frozenset({"login data", "login data for account"})
# Keys dropped while logins.json is parsed: the secret never reaches our objects.
SECRET_KEYS = frozenset({"encryptedPassword", "password"})
MAX_LOGINS_JSON_BYTES = 64 << 20
LOGINS_JSON_RE = re.compile(rb'^\s*\{.*"logins"\s*:\s*\[', re.DOTALL)
LOGINS_JSON_KEYS = (b'"nextId"', b'"hostname"', b'"encryptedUsername"', b'"encType"')


def _credential(
    item: EvidenceItem, user: str | None, origin: str, account: str | None, record: str
) -> dict[str, Any]:
    return {
        "host": item.host,
        "user": user,
        "origin": origin,
        "account": account,
        "account_key": account_key(account, item.realms, item.host) if account else None,
        "system": item.system,
        "record": record,
    }


@register
class ChromeLogins:
    """Chrome / Edge ``Login Data`` SQLite: saved origins and user names, never passwords.

    Reference: Chromium ``password_manager`` ``login_database.cc``.
    """

    name: ClassVar[str] = "chrome_logins"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("stored_credentials",)
    sniff_priority: ClassVar[int] = 35

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """SQLite whose schema in ``head`` creates ``logins``; or SQLite named ``Login Data``
        when the schema lies beyond the first bytes."""
        if not is_sqlite(head):
            return False
        return head_has_tables(head, "logins") or path.name.lower() in LOGIN_DATA_NAMES

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """One `stored_credentials` row per saved login; errors name the row or the file."""
        try:
            with sqlite_copy(item) as connection:
                yield from self._read(item, connection)
        except (sqlite3.Error, OSError) as error:
            yield Problem("file", f"cannot read the Login Data database: {error}")

    def _read(self, item: EvidenceItem, connection: sqlite3.Connection) -> Iterator[Yielded]:
        if "logins" not in table_names(connection):
            yield Problem("file", "no logins table: not a Chrome Login Data database")
            return
        present = table_columns(connection, "logins")
        selected = [column for column in CHROME_COLUMNS if column in present]
        if "origin_url" not in selected and "signon_realm" not in selected:
            yield Problem("file", "the logins table has neither origin_url nor signon_realm")
            return
        user = user_from_location(item.rel_path)
        cursor = connection.execute(
            "SELECT rowid, " + ", ".join(selected) + " FROM logins ORDER BY rowid"
        )
        for rowid, *values in cursor:
            row = dict(zip(selected, values, strict=True))
            record = f"sqlite:logins:{rowid}"
            if row.get("blacklisted_by_user"):
                continue
            origin = sqlite_text(row.get("origin_url")) or sqlite_text(row.get("signon_realm"))
            if not origin:
                yield Problem(record, "saved login without an origin")
                continue
            values_out = _credential(
                item, user, origin, sqlite_text(row.get("username_value")) or None, record
            )
            try:
                created = webkit_time(row.get("date_created"))
            except ValueError as error:
                yield Problem(record, f"date_created: {error}", "warning")
                created = None
            values_out["time"] = item.utc(created) if created else None
            yield Row("stored_credentials", values_out)


def _without_secrets(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json object hook: every object, as it is built, loses its secret keys."""
    return {key: value for key, value in pairs if key not in SECRET_KEYS}


@register
class FirefoxLogins:
    """Firefox ``logins.json``: saved origins (the user names are encrypted), never passwords.

    Reference: Firefox ``toolkit/components/passwordmgr`` ``LoginStore``.
    """

    name: ClassVar[str] = "firefox_logins"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("stored_credentials",)
    sniff_priority: ClassVar[int] = 35

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """A JSON object with a ``"logins": [`` array and a key only Firefox's store has
        (``nextId``, ``hostname``, ``encryptedUsername``, ``encType``)."""
        if LOGINS_JSON_RE.match(head) is None:
            return False
        return any(key in head for key in LOGINS_JSON_KEYS)

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """One `stored_credentials` row per element of ``logins``."""
        try:
            with item.open() as stream:
                data = stream.read(MAX_LOGINS_JSON_BYTES + 1)
        except OSError as error:
            yield Problem("file", f"cannot read logins.json: {error}")
            return
        if len(data) > MAX_LOGINS_JSON_BYTES:
            yield Problem("file", f"logins.json is larger than {MAX_LOGINS_JSON_BYTES} bytes")
            return
        try:
            document = json.loads(data, object_pairs_hook=_without_secrets)
        except json.JSONDecodeError as error:
            # msg and position only: the parser's own text could quote the file.
            where = f"line {error.lineno} column {error.colno}"
            yield Problem("file", f"logins.json is not JSON: {error.msg} at {where}")
            return
        except (ValueError, RecursionError) as error:
            yield Problem("file", f"logins.json is not JSON: {type(error).__name__}")
            return
        logins = document.get("logins") if isinstance(document, dict) else None
        if not isinstance(logins, list):
            yield Problem("file", "logins.json has no logins array")
            return
        user = user_from_location(item.rel_path)
        for index, entry in enumerate(logins):
            record = f"json:{index}"
            if not isinstance(entry, dict):
                yield Problem(record, "login entry is not an object")
                continue
            origin = sqlite_text(entry.get("hostname")) or sqlite_text(entry.get("formSubmitURL"))
            if not origin:
                yield Problem(record, "saved login without a hostname")
                continue
            values = _credential(item, user, origin, None, record)
            try:
                created = unix_milli_time(entry.get("timeCreated"))
            except ValueError as error:
                yield Problem(record, f"timeCreated: {error}", "warning")
                created = None
            values["time"] = item.utc(created) if created else None
            yield Row("stored_credentials", values)
