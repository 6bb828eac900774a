"""Collected host folders: every file a ``files`` row with its Windows path and labels.

No real collected folder is in the corpora; these are built in code.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePath

from breachscope.formats.host_file import HostFile
from tests.conftest import make_item, read_all, small_case

SENSITIVITY = """sensitivity:
  - label: classified
    patterns: ['(?i)\\bclassified\\b']
  - label: htv
    patterns: ['(?i)HTV']
    match: [path]
"""


def docx(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", f"<w:document><w:t>{text}</w:t></w:document>")
    return buffer.getvalue()


def collected(tmp_path: Path, inside: str, data: bytes) -> Path:
    path = tmp_path / "WS-0423" / inside
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_document_gets_its_windows_path_hash_and_content_label(tmp_path: Path) -> None:
    path = collected(tmp_path, "C/Users/Taro/Documents/HTV plan.docx", docx("CLASSIFIED draft"))
    item = make_item(
        path,
        case=small_case(SENSITIVITY),
        host="WS-0423",
        folder_path="C/Users/Taro/Documents/HTV plan.docx",
    )
    rows, problems = read_all(HostFile(), item)
    assert problems == []
    (row,) = rows
    assert row.table == "files"
    assert row.values["path"] == "C:\\Users\\Taro\\Documents\\HTV plan.docx"
    assert row.values["path_key"] == "c:\\users\\taro\\documents\\htv plan.docx"
    assert row.values["labels"] == ["classified", "htv"]
    assert row.values["sha256"] == item.evidence_id.removeprefix("sha256:")
    assert row.values["size"] == path.stat().st_size
    assert row.values["record"] == "file"


def test_drive_spellings_and_mount(tmp_path: Path) -> None:
    for inside, mount, expected in [
        ("C%3A/x/a.txt", None, "C:\\x\\a.txt"),
        ("D$/x/a.txt", None, "D:\\x\\a.txt"),
        ("Users/x/a.txt", "E:", "E:\\Users\\x\\a.txt"),
    ]:
        path = collected(tmp_path, inside, b"plain")
        item = make_item(path, host="WS-0423", folder_path=inside, mount=mount)
        rows, _ = read_all(HostFile(), item)
        assert rows[0].values["path"] == expected
        assert rows[0].values["labels"] == []


def test_never_sniffed(tmp_path: Path) -> None:
    assert not HostFile().sniff(b"anything", PurePath("a.txt"))
