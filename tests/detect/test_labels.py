"""Text extraction per document type, bounded; labels from the case's patterns, with timeouts.

No real documents are used here: each is built in code from its format's documentation.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from breachscope.case import Sensitivity
from breachscope.detect import labels
from breachscope.detect.labels import MAX_ZIP_MEMBER_BYTES, Labeler, extract_text

CLASSIFIED = Sensitivity(label="classified", patterns=[r"(?i)\bclassified\b", "極秘"])
HTV = Sensitivity(
    label="htv-operations", patterns=[r"(?i)\bHTV\b.*(spec|operation)"], match=["content"]
)


def ooxml(part: str, xml: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, xml)
    return buffer.getvalue()


def pdf_with_text(text: str) -> bytes:
    """A one-page PDF whose content stream shows ``text`` (PDF 1.4, Helvetica)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def test_docx_xlsx_pptx_text_is_extracted() -> None:
    docx = ooxml("word/document.xml", "<w:document><w:t>HTV</w:t> <w:t>spec v2</w:t></w:document>")
    xlsx = ooxml("xl/sharedStrings.xml", "<sst><si><t>極秘 budget</t></si></sst>")
    pptx = ooxml("ppt/slides/slide1.xml", "<p:sld><a:t>Classified briefing</a:t></p:sld>")
    assert "HTV" in extract_text(docx) and "spec v2" in extract_text(docx)
    assert "極秘" in extract_text(xlsx)
    assert "Classified briefing" in extract_text(pptx)


def test_pdf_and_rtf_text_is_extracted() -> None:
    assert "HTV operation plan" in extract_text(pdf_with_text("HTV operation plan"))
    assert "secret" in extract_text(b"{\\rtf1\\ansi{\\fonttbl\\f0 Arial;}\\f0 secret\\par}")


def test_binary_and_broken_documents_give_no_text_and_never_raise() -> None:
    assert extract_text(b"\x00\x01\x02MZ\x90\x00" * 100) == ""
    assert extract_text(b"PK\x03\x04 not really a zip") == ""
    assert extract_text(b"%PDF-1.7 broken") == ""


def test_a_zip_bomb_part_is_read_only_up_to_the_bound() -> None:
    bomb = ooxml("word/document.xml", "<w:t>" + "A" * (MAX_ZIP_MEMBER_BYTES * 2) + "</w:t>")
    assert len(extract_text(bomb)) <= MAX_ZIP_MEMBER_BYTES


def test_labels_respect_each_rules_targets() -> None:
    labeler = Labeler([CLASSIFIED, HTV])
    assert labeler.labels("HTV spec for CLASSIFIED review", "content") == [
        "classified",
        "htv-operations",
    ]
    assert labeler.labels("C:\\Users\\t\\HTV spec.docx", "path") == []
    assert labeler.labels("C:\\Users\\t\\極秘.docx", "path") == ["classified"]
    assert labeler.labels(None, "content") == []


def test_a_catastrophic_pattern_times_out_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(labels, "REGEX_TIMEOUT_SECONDS", 0.05)
    evil = Sensitivity(label="evil", patterns=[r"(a|aa)+$"])
    labeler = Labeler([evil])
    assert labeler.labels("a" * 60 + "!", "content") == []
    assert labeler.timeouts == 1
