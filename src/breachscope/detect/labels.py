"""Sensitivity labels: which of the case's ``sensitivity`` rules a path, text, URL or search hits.

Text is extracted from plain text, HTML, RTF, OOXML (docx/xlsx/pptx) and PDF, bounded in bytes
read, bytes decompressed and seconds spent per file, because evidence is hostile: a zip bomb or
a pathological PDF must cost a bounded amount, then the file is labelled from what was read.
Case patterns run through the `regex` module with a timeout, so a catastrophic pattern or input
cannot hang the run; a timed-out pattern counts as no match and is reported by the caller.
"""

from __future__ import annotations

import html
import io
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

import regex

from breachscope.case import Sensitivity

MAX_READ_BYTES = 8 * 1024 * 1024  # bytes of a file read for labelling
MAX_TEXT_CHARS = 2 * 1024 * 1024  # characters of text matched against the patterns
MAX_ZIP_MEMBER_BYTES = 16 * 1024 * 1024  # decompressed bytes taken from one OOXML part
MAX_EXTRACT_SECONDS = 5.0  # time spent extracting text from one file
REGEX_TIMEOUT_SECONDS = 1.0  # per pattern and text

_TAGS = regex.compile(r"<[^>]{0,2000}>")
_OOXML_PARTS = regex.compile(
    r"^(word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml"
    r"|xl/sharedStrings\.xml|xl/worksheets/sheet\d+\.xml|ppt/slides/slide\d+\.xml"
    r"|ppt/notesSlides/notesSlide\d+\.xml|docProps/core\.xml)$"
)


def _strip_tags(markup: str) -> str:
    return html.unescape(_TAGS.sub(" ", markup))


def _ooxml_text(data: bytes, deadline: float) -> str:
    parts: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if time.monotonic() > deadline:
                break
            if not _OOXML_PARTS.match(info.filename):
                continue
            with archive.open(info) as member:
                chunk = member.read(MAX_ZIP_MEMBER_BYTES)
            parts.append(_strip_tags(chunk.decode("utf-8", errors="replace")))
    return "\n".join(parts)


def _pdf_text(data: bytes, deadline: float) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    parts: list[str] = []
    for page in reader.pages:
        if time.monotonic() > deadline or sum(map(len, parts)) > MAX_TEXT_CHARS:
            break
        parts.append(page.extract_text() or "")
    return "\n".join(parts)


def _rtf_text(data: bytes) -> str:
    from striprtf.striprtf import rtf_to_text

    return str(rtf_to_text(data.decode("latin-1"), errors="ignore"))


def extract_text(data: bytes, name: str = "") -> str:
    """Text of a document for labelling, by content (the name only breaks ties).

    Unreadable or unknown binary content gives ''; extraction never raises.

    >>> " ".join(extract_text(b"<html><body>HTV <b>spec</b> &amp; ops</body></html>").split())
    'HTV spec & ops'
    >>> extract_text(b"{\\\\rtf1\\\\ansi CLASSIFIED memo}")
    'CLASSIFIED memo'
    """
    data = data[:MAX_READ_BYTES]
    deadline = time.monotonic() + MAX_EXTRACT_SECONDS
    try:
        if data.startswith(b"%PDF"):
            text = _pdf_text(data, deadline)
        elif data.startswith(b"PK\x03\x04"):
            text = _ooxml_text(data, deadline)
        elif data.lstrip()[:5].lower() == b"{\\rtf":
            text = _rtf_text(data)
        else:
            decoded = _decode_text(data)
            head = decoded[:512].lower()
            text = _strip_tags(decoded) if "<html" in head or "<!doctype html" in head else decoded
    except Exception:  # hostile documents: a parser failure means no text, not a crash
        return ""
    return text[:MAX_TEXT_CHARS]


def _decode_text(data: bytes) -> str:
    """Text files in UTF-8 (or UTF-16 with a BOM); binary data gives ''."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    sample = data[:4096]
    if b"\x00" in sample:
        return ""
    return data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class _Rule:
    label: str
    patterns: tuple[regex.Pattern[str], ...]
    targets: frozenset[str]


class Labeler:
    """The case's sensitivity rules, compiled once."""

    def __init__(self, rules: Iterable[Sensitivity]) -> None:
        self.rules = tuple(
            _Rule(r.label, tuple(regex.compile(p) for p in r.patterns), frozenset(r.match))
            for r in rules
        )
        self.timeouts = 0

    def labels(self, text: str | None, target: str) -> list[str]:
        """Sorted labels whose rule looks at ``target`` (path/content/url/search) and matches.

        >>> from breachscope.case import Sensitivity
        >>> rule = Sensitivity(label="classified", patterns=[r"(?i)\\bclassified\\b"])
        >>> Labeler([rule]).labels("This is CLASSIFIED.", "content")
        ['classified']
        """
        if not text:
            return []
        found = set()
        for rule in self.rules:
            if target not in rule.targets:
                continue
            for pattern in rule.patterns:
                try:
                    if pattern.search(text, timeout=REGEX_TIMEOUT_SECONDS):
                        found.add(rule.label)
                        break
                except TimeoutError:
                    self.timeouts += 1
        return sorted(found)
