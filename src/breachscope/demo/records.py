"""What the evidence writers tell the truth: one small record type per kind of fact.

Why: the truth is computed from what was written, not from what was meant, so every writer
returns, next to its file, a record of each fact it put there, with the evidence path and
the record reference breachscope will cite (``xml:N``, ``line:N``, ``csv:N``,
``sqlite:<table>:<rowid>``, ``file``). `breachscope.demo.truth` applies rules.md to these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Ref:
    """Where a fact is: the evidence path (relative to the case folder) and the record."""

    path: str
    record: str


@dataclass(frozen=True)
class Logon:
    """One authentication by an account (success, failure or logoff)."""

    time: dt.datetime
    system: str
    account: str
    outcome: str
    src_ip: str | None
    ref: Ref
    host: str | None = None
    logon_type: str | None = None
    session_id: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class CredentialChange:
    time: dt.datetime
    system: str
    account: str
    kind: str
    ref: Ref


@dataclass(frozen=True)
class Process:
    time: dt.datetime
    host: str
    image: str
    command_line: str
    user: str
    ref: Ref


@dataclass(frozen=True)
class Request:
    """One proxy record: ``time`` is its end, ``start`` = time - elapsed (rules.md)."""

    time: dt.datetime
    start: dt.datetime
    src_ip: str
    method: str
    url: str
    dst_host: str
    dst_ip: str | None
    action: str
    ref: Ref


@dataclass(frozen=True)
class Opened:
    """A document the user opened: from a shortcut (lnk) or an application's command line."""

    time: dt.datetime
    host: str
    path: str
    how: str
    ref: Ref


@dataclass(frozen=True)
class Visit:
    time: dt.datetime
    url: str
    transition: int
    search_term: str | None
    ref: Ref


@dataclass(frozen=True)
class StoredLogin:
    host: str
    origin: str
    account: str
    created: dt.datetime
    blacklisted: bool
    ref: Ref


@dataclass(frozen=True)
class HostFile:
    """A file of the collected host folder, with the text breachscope's labeller reads."""

    host: str
    path: str
    text: str
    mtime: dt.datetime
    ref: Ref
