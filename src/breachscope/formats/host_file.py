"""A file of a collected host folder, as a ``files`` row with content labels.

rules.md (Exposure -> Collected host folder): in a folder item with ``host:``, every regular
file is a ``files`` row; a first path component ``C``, ``C%3A`` or ``C$`` is the drive, else the
item's ``mount`` (default ``C:``). The ingest also hands files at known artefact paths to their
own formats. Never sniffed: only the ingest chooses it, for collected folders.

Times come from the collected copy's file system: ``mtime``/``atime`` are the original's when
the collection preserved them (robocopy /COPY:DAT, KAPE, 7-Zip with times); ``ctime`` on Linux is
the copy's inode change time, so it is not stored; birth time is not available here (a bodyfile
listing of the original volume gives all four). ``sha256`` is the file's evidence hash.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import PurePath
from typing import ClassVar
from urllib.parse import unquote

from breachscope.detect.labels import MAX_READ_BYTES, Labeler, extract_text
from breachscope.formats.base import EvidenceItem, Problem, Row, Yielded, open_raw, register
from breachscope.identity import display_path, path_key

DRIVE_COMPONENTS = ("c", "c:", "c$")


def windows_path(folder_path: str, mount: str | None = None) -> str:
    """The path the host saw, from the path inside a collected folder.

    >>> windows_path("C/Users/taro/Documents/plan.docx")
    'C:\\\\Users\\\\taro\\\\Documents\\\\plan.docx'
    >>> windows_path("D%3A/data/x.txt")
    'D:\\\\data\\\\x.txt'
    >>> windows_path("Users/taro/x.txt", mount="E:")
    'E:\\\\Users\\\\taro\\\\x.txt'
    """
    first, _, rest = folder_path.partition("/")
    drive = unquote(first).rstrip("$").rstrip(":")
    if len(drive) == 1 and drive.isalpha() and rest:
        return display_path(f"{drive.upper()}:/{rest}")
    return display_path(folder_path, mount)


def _utc(seconds: float) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) if seconds > 0 else None


@register
class HostFile:
    """Any regular file of a collected host folder -> one ``files`` row, with labels."""

    name: ClassVar[str] = "host_file"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("files",)
    sniff_priority: ClassVar[int] = 99

    def sniff(self, head: bytes, path: PurePath) -> bool:
        return False

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        status = os.lstat(item.path)
        inside = item.folder_path or item.path.name
        path = windows_path(inside, item.mount)
        labeler = Labeler(item.case.sensitivity if item.case else [])
        labels = set(labeler.labels(path, "path"))
        if any("content" in rule.targets for rule in labeler.rules):
            with open_raw(item.path) as stream:
                data = stream.read(MAX_READ_BYTES)
            labels.update(labeler.labels(extract_text(data, item.path.name), "content"))
            if status.st_size > MAX_READ_BYTES:
                yield Problem("file", f"labelled from the first {MAX_READ_BYTES} bytes", "warning")
        if labeler.timeouts:
            yield Problem("file", "a sensitivity pattern timed out on this file", "warning")
        yield Row(
            "files",
            {
                "record": "file",
                "host": item.host,
                "path": path,
                "path_key": path_key(path),
                "size": status.st_size,
                "mtime": _utc(status.st_mtime),
                "atime": _utc(status.st_atime),
                "sha256": item.evidence_id.removeprefix("sha256:"),
                "labels": sorted(labels),
                "kind": "file",
                "deleted": False,
            },
        )
