"""Chain of custody: evidence ids, read-only hashing, and the append-only custody log.

Every evidence, IOC, vulnerability and mapping file is hashed (SHA-256) before use; its
``evidence_id`` is ``sha256:<hex>``. ``custody.jsonl`` in the output folder gets one JSON line
per act (hashed, parsed, run started/finished). Each line carries ``prev``, the SHA-256 of the
previous line's bytes, so editing, removing or reordering a line breaks the chain; the hash of
the last line is the *head*, written into ``findings.json`` as ``custody_head`` and printed. A
truncated tail shows as a last line without its newline or a head that no longer matches.

The log is never rewritten: a re-run into the same folder appends (an interrupted run's acts
stay on record, which is what custody is for).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from breachscope.formats.base import open_raw

CUSTODY_NAME = "custody.jsonl"
GENESIS = "0" * 64
HASH_CHUNK = 1 << 20

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """Now, in UTC; ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) pins it."""
    pinned = os.environ.get("SOURCE_DATE_EPOCH")
    if pinned:
        return dt.datetime.fromtimestamp(int(pinned), tz=dt.UTC)
    return dt.datetime.now(tz=dt.UTC).replace(microsecond=0)


def format_time(moment: dt.datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``, the fraction only when non-zero (rules.md, Times)."""
    if moment is None:
        return None
    utc = moment.astimezone(dt.UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


@dataclass(frozen=True)
class Hashed:
    """A file's identity: its evidence id, hex digest and size."""

    evidence_id: str
    sha256: str
    size: int


def hash_file(path: Path) -> Hashed:
    """SHA-256 of a file's bytes as received (no decompression), read-only."""
    digest = hashlib.sha256()
    size = 0
    with open_raw(path) as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    hexdigest = digest.hexdigest()
    return Hashed(evidence_id=f"sha256:{hexdigest}", sha256=hexdigest, size=size)


def _line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


class CustodyError(Exception):
    """The custody log is damaged; the message says where."""


class CustodyLog:
    """Append-only, hash-chained log in ``OUT/custody.jsonl``."""

    def __init__(self, out_dir: Path, clock: Clock = system_clock) -> None:
        self.path = out_dir / CUSTODY_NAME
        self.clock = clock
        self.head = GENESIS
        self.seq = 0
        if self.path.exists():
            data = self.path.read_bytes()
            if data and not data.endswith(b"\n"):
                raise CustodyError(
                    f"{self.path}: last line is incomplete (truncated); "
                    "keep this folder for review and write to a new output folder"
                )
            lines = data.splitlines()
            if lines:
                self.head = _line_hash(lines[-1])
                self.seq = len(lines)

    def append(self, action: str, **fields: Any) -> str:
        """Write one entry and return the new head."""
        self.seq += 1
        entry = {"seq": self.seq, "time": format_time(self.clock()), "action": action}
        entry.update({k: v for k, v in fields.items() if v is not None})
        entry["prev"] = self.head
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True).encode("utf-8")
        with open(self.path, "ab") as stream:
            stream.write(line + b"\n")
            stream.flush()
            os.fsync(stream.fileno())
        self.head = _line_hash(line)
        return self.head


def read_entries(path: Path) -> Iterator[tuple[int, bytes, dict[str, Any]]]:
    """(line number, raw line, parsed entry) of each custody line."""
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            yield number, line, json.loads(line)
        except json.JSONDecodeError:
            yield number, line, {}


def verify_chain(path: Path) -> tuple[str, list[str]]:
    """Check the hash chain; return (head, problems)."""
    problems: list[str] = []
    if not path.is_file():
        return GENESIS, [f"{path}: no custody log"]
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        problems.append(f"{path}: the last line is incomplete (the log was truncated)")
    head = GENESIS
    for number, line, entry in read_entries(path):
        if not entry:
            problems.append(f"{path}:{number}: not a JSON custody entry")
        elif entry.get("prev") != head:
            problems.append(
                f"{path}:{number}: chain broken (prev does not match line {number - 1})"
            )
        elif entry.get("seq") != number:
            problems.append(f"{path}:{number}: sequence number {entry.get('seq')} out of order")
        head = _line_hash(line)
    return head, problems
