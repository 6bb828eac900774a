"""Attachment verdicts: samples built in code, then the real corpora read in place.

Real samples: ``corpora/oletools`` (the test files of decalage2/oletools, each with the
verdict its own tests lead to, in ``OLETOOLS_EXPECTED``) and ``corpora/phishing_pot`` (real
phishing e-mails: only parsed here, their attachments handed to the analysis as bytes).
"""

from __future__ import annotations

import binascii
import builtins
import email
import email.policy
import hashlib
import io
import json
import logging
import struct
import tarfile
import tempfile
import threading
import time
import zipfile
from email.message import EmailMessage
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from oletools import rtfobj
from pypdf import PdfWriter

from breachscope.detect import attachments
from breachscope.detect.attachments import (
    CLEAN,
    MALICIOUS,
    SUSPICIOUS,
    AttachmentVerdict,
    analyse_attachment,
)

# --- builders ------------------------------------------------------------------------------


def pe_bytes() -> bytes:
    """The smallest thing that looks like a PE: MZ, e_lfanew at 0x3C, 'PE\\0\\0' there."""
    return b"MZ" + bytes(0x3A) + struct.pack("<I", 0x40) + b"PE\x00\x00" + bytes(64)


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def set_encrypted_flag(zip_bytes: bytes) -> bytes:
    """Set bit 0 (encrypted) of the general-purpose flags in every local and central header.

    The member bytes stay as they were; readers decide from the flag that a password is
    needed, which is all the analysis may look at.
    """
    data = bytearray(zip_bytes)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (index := data.find(signature, start)) != -1:
            data[index + flag_offset] |= 0x01
            start = index + 4
    return bytes(data)


def ole_package_native(filename: str, payload: bytes) -> bytes:
    """OLE1 Package native data, as oleobj.OleNativeStream(package=True) parses it.

    uint16 type, filename\\0, source path\\0, two uint32 (oleobj: unknown; Windows writes
    0x00030000 and the temp path length), temp path\\0, uint32 size, then the file.
    """
    temp_path = f"C:\\Users\\x\\AppData\\Local\\Temp\\{filename}".encode() + b"\x00"
    return (
        struct.pack("<H", 2)
        + filename.encode() + b"\x00"
        + f"C:\\Users\\x\\Desktop\\{filename}".encode() + b"\x00"
        + struct.pack("<II", 0x00030000, len(temp_path))
        + temp_path
        + struct.pack("<I", len(payload))
        + payload
    )  # fmt: skip


def ole1_object(class_name: str, native: bytes) -> bytes:
    """OLE 1.0 embedded object (MS-OLEDS 2.2): version, format id 2, class name, data."""
    name = class_name.encode() + b"\x00"
    return (
        struct.pack("<II", 0x00000501, 2)
        + struct.pack("<I", len(name)) + name
        + struct.pack("<II", 0, 0)  # topic and item names: empty
        + struct.pack("<I", len(native))
        + native
    )  # fmt: skip


def rtf_with_object(obj: bytes, class_name: str = "Package") -> bytes:
    hexdata = binascii.hexlify(obj)
    lines = b"\n".join(hexdata[i : i + 64] for i in range(0, len(hexdata), 64))
    return (
        b"{\\rtf1\\ansi{\\object\\objemb{\\*\\objclass "
        + class_name.encode()
        + b"}{\\*\\objdata\n"
        + lines
        + b"\n}}}"
    )


def make_docx(relationships: str = "", extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal Word 2007 package; ``relationships`` are added to document.xml.rels."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>Invoice</w:t></w:r></w:p></w:body></w:document>"
    )
    document_rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + relationships
        + "</Relationships>"
    )
    members = {
        "[Content_Types].xml": content_types.encode(),
        "_rels/.rels": rels.encode(),
        "word/document.xml": document.encode(),
        "word/_rels/document.xml.rels": document_rels.encode(),
    }
    members.update(extra or {})
    return make_zip(members)


def external_relationship(kind: str, target: str) -> str:
    return (
        f'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/{kind}" Target="{target}" TargetMode="External"/>'
    )


def make_pdf(attachment: tuple[str, bytes] | None = None, javascript: str = "") -> bytes:
    from pypdf.actions import JavaScript

    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    if attachment:
        writer.add_attachment(*attachment)
    if javascript:
        writer.add_open_action(JavaScript(javascript))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


#: An SLK (SYLK) sheet with an Excel 4 macro that runs on open and executes a command.
XLM_EXEC_SLK = (
    b"ID;PWXL;N;E\r\nO;E\r\nNN;NAuto_Open;ER1C1\r\n"
    b'C;Y1;X1;KFALSE;EEXEC("cmd.exe /c calc")\r\nC;Y2;KTRUE;EHALT()\r\nE\r\n'
)


# --- names, types, hashes ------------------------------------------------------------------


def test_plain_text_is_clean() -> None:
    verdict = analyse_attachment(b"Meeting moved to 3pm.\n", "note.txt")
    assert (verdict.verdict, verdict.type, verdict.indicators, verdict.cves) == (
        CLEAN,
        "text",
        [],
        [],
    )
    assert verdict.size == 22
    assert verdict.sha256 == hashlib.sha256(b"Meeting moved to 3pm.\n").hexdigest()


def test_double_extension_executable_is_malicious() -> None:
    verdict = analyse_attachment(pe_bytes(), "invoice.pdf.exe")
    assert verdict.verdict == MALICIOUS
    assert verdict.type == "exe"
    assert verdict.indicators == ["double_extension:invoice.pdf.exe", "executable"]


def test_padded_double_extension_script() -> None:
    verdict = analyse_attachment(b"WScript.Echo('x')", "doc.docx   .js")
    assert verdict.verdict == MALICIOUS
    assert "double_extension:doc.docx   .js" in verdict.indicators
    assert "script:js" in verdict.indicators


def test_double_extension_alone_is_suspicious() -> None:
    verdict = analyse_attachment(b"<html><body>Sign in</body></html>", "invoice.pdf.html")
    assert (verdict.verdict, verdict.type) == (SUSPICIOUS, "html")
    assert verdict.indicators == ["double_extension:invoice.pdf.html"]


@pytest.mark.parametrize("name", ["report.2023.v2.pdf", "backup.tar.gz", "report.doc.zip"])
def test_ordinary_dotted_names_are_not_double_extensions(name: str) -> None:
    assert not any(
        i.startswith("double_extension") for i in analyse_attachment(b"x", name).indicators
    )


def test_rtl_override_name_is_suspicious_and_escaped() -> None:
    verdict = analyse_attachment(b"just text", "invoice\u202etxt.doc")
    assert verdict.verdict == SUSPICIOUS
    assert verdict.indicators == ["rtl_override:invoice\\u202etxt.doc"]


def test_rtl_override_hiding_an_executable_is_malicious() -> None:
    # displays as "invoice_exe.pdf"; Windows runs it as .exe
    verdict = analyse_attachment(pe_bytes(), "invoice_\u202efdp.exe")
    assert verdict.verdict == MALICIOUS
    assert {"executable", "rtl_override:invoice_\\u202efdp.exe"} <= set(verdict.indicators)


@pytest.mark.parametrize(
    ("data", "name", "file_type", "indicator"),
    [
        (b"\x7fELF" + bytes(60), "update", "elf", "executable"),
        (b"\xcf\xfa\xed\xfe" + bytes(60), "update", "macho", "executable"),
        (b"L\x00\x00\x00\x01\x14\x02\x00" + bytes(60), "photo.jpg", "lnk", "script:lnk"),
        (b"#!/bin/sh\ncurl x | sh\n", "readme", "script", "script:shebang"),
        (b"Set s = CreateObject(1)", "payment.vbs", "script", "script:vbs"),
    ],
)
def test_executables_and_scripts_by_magic_or_name(
    data: bytes, name: str, file_type: str, indicator: str
) -> None:
    verdict = analyse_attachment(data, name)
    assert (verdict.type, verdict.verdict) == (file_type, MALICIOUS)
    assert indicator in verdict.indicators


def test_ioc_hash_match_is_malicious_in_any_case_and_algorithm() -> None:
    data = b"harmless looking text"
    by_sha256 = frozenset({hashlib.sha256(data).hexdigest().upper()})
    by_md5 = frozenset({hashlib.md5(data).hexdigest()})
    assert analyse_attachment(data, "a.txt", by_sha256).indicators == ["ioc_hash"]
    assert analyse_attachment(data, "a.txt", by_md5).verdict == MALICIOUS
    assert analyse_attachment(data, "a.txt", frozenset({"00" * 32})).verdict == CLEAN


def test_ioc_hash_of_an_archive_member() -> None:
    member = b"second stage"
    iocs = frozenset({hashlib.sha256(member).hexdigest()})
    verdict = analyse_attachment(make_zip({"data.bin": member}), "a.zip", iocs)
    assert verdict.indicators == ["ioc_hash:data.bin"]
    assert verdict.verdict == MALICIOUS


def test_empty_and_unknown() -> None:
    assert analyse_attachment(b"", "x.pdf").type == "empty"
    unknown = analyse_attachment(bytes(range(256)) * 4, "blob")
    assert (unknown.type, unknown.verdict) == ("unknown", CLEAN)


# --- archives ------------------------------------------------------------------------------


def test_zip_holding_an_executable_is_suspicious() -> None:
    verdict = analyse_attachment(make_zip({"docs/a.exe": pe_bytes()}), "docs.zip")
    assert (verdict.type, verdict.verdict) == ("zip", SUSPICIOUS)
    assert verdict.indicators == ["archive_executable:docs/a.exe"]


def test_encrypted_zip_member_is_suspicious_and_its_name_still_counts() -> None:
    plain = make_zip({"scan.pdf": b"%PDF-1.4 x", "run.js": b"x"})
    verdict = analyse_attachment(set_encrypted_flag(plain), "scan.zip")
    assert zipfile.ZipFile(io.BytesIO(set_encrypted_flag(plain))).infolist()[0].flag_bits & 1
    assert verdict.verdict == SUSPICIOUS
    assert verdict.indicators == ["archive_executable:run.js", "encrypted_archive"]


def test_zip_member_document_keeps_its_own_level() -> None:
    rtf = rtf_with_object(ole1_object("Package", ole_package_native("update.exe", pe_bytes())))
    verdict = analyse_attachment(make_zip({"order.rtf": rtf}), "order.zip")
    assert verdict.verdict == MALICIOUS
    assert "ole_package:order.rtf!update.exe" in verdict.indicators


def nested_zips(levels: int, innermost: dict[str, bytes]) -> bytes:
    """zip0 holding zip1 ... holding ``innermost`` (``levels`` zips in all)."""
    data = make_zip(innermost)
    for level in range(levels - 1, 0, -1):
        data = make_zip({f"z{level}.zip": data})
    return data


def test_nested_zips_are_opened_up_to_the_depth_bound() -> None:
    # z0 (depth 0) > z1 (1) > z2 (2): every zip opened; a.exe, at depth 3, is seen by name
    verdict = analyse_attachment(nested_zips(3, {"a.exe": pe_bytes()}), "z0.zip")
    assert verdict.indicators == ["archive_executable:z1.zip!z2.zip!a.exe"]
    assert attachments.MAX_NESTING_DEPTH == 2


def test_zips_nested_deeper_than_the_bound_stay_closed() -> None:
    # z3 sits at depth 3: not opened, so a.exe inside it is never seen
    verdict = analyse_attachment(nested_zips(4, {"a.exe": pe_bytes()}), "z0.zip")
    assert verdict.indicators == ["nesting_limit:z1.zip!z2.zip!z3.zip"]
    assert verdict.verdict == SUSPICIOUS


def test_member_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachments, "MAX_ARCHIVE_MEMBERS", 3)
    members = {f"{i}.txt": b"x" for i in range(5)}
    verdict = analyse_attachment(make_zip(members), "many.zip")
    assert verdict.indicators == ["archive_limit"]


def test_decompressed_byte_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachments, "MAX_ARCHIVE_BYTES", 1000)
    bomb = make_zip({"big.txt": bytes(10_000), "b.exe": b"MZ"})
    verdict = analyse_attachment(bomb, "bomb.zip")
    # the big member is not read, its name still checked, the small one read
    assert verdict.indicators == ["archive_executable:b.exe", "archive_limit"]


def test_tar_gz_member_is_read() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("invoice.pdf.exe")
        info.size = len(pe_bytes())
        archive.addfile(info, io.BytesIO(pe_bytes()))
    verdict = analyse_attachment(buffer.getvalue(), "invoice.tar.gz")
    assert verdict.type == "gzip"
    assert verdict.indicators == [
        "archive_executable:invoice.tar!invoice.pdf.exe",
        "double_extension:invoice.tar!invoice.pdf.exe",
    ]


@pytest.mark.parametrize(
    ("data", "file_type"),
    [
        (b"7z\xbc\xaf\x27\x1c" + bytes(32), "7z"),
        (b"Rar!\x1a\x07\x01\x00" + bytes(32), "rar"),
        (bytes(0x8001) + b"CD001" + bytes(100), "iso"),
    ],
)
def test_archives_without_a_reader_are_suspicious(data: bytes, file_type: str) -> None:
    verdict = analyse_attachment(data, "parcel")
    assert (verdict.type, verdict.verdict) == (file_type, SUSPICIOUS)
    assert verdict.indicators == [f"archive_unlisted:{file_type}"]


# --- documents -----------------------------------------------------------------------------


def test_rtf_ole_package_with_executable_is_malicious() -> None:
    rtf = rtf_with_object(ole1_object("Package", ole_package_native("update.exe", pe_bytes())))
    parser = rtfobj.RtfObjParser(rtf)  # the builder produces what rtfobj calls a package
    parser.parse()
    (obj,) = parser.objects
    assert (obj.is_package, obj.filename, obj.olepkgdata) == (True, "update.exe", pe_bytes())

    verdict = analyse_attachment(rtf, "order.rtf")
    assert (verdict.type, verdict.verdict) == ("rtf", MALICIOUS)
    assert verdict.indicators == [
        "embedded_file:update.exe",
        "ole_package:update.exe",
        "rtf_embedded_object:Package",
    ]


def test_rtf_ole_package_with_text_file_is_clean() -> None:
    rtf = rtf_with_object(ole1_object("Package", ole_package_native("notes.txt", b"hello")))
    verdict = analyse_attachment(rtf, "notes.rtf")
    assert verdict.verdict == CLEAN
    assert verdict.indicators == ["embedded_file:notes.txt", "rtf_embedded_object:Package"]


@pytest.mark.parametrize(
    ("class_name", "cves"),
    [
        ("Equation.3", ["CVE-2017-11882", "CVE-2018-0802"]),
        ("OLE2Link", ["CVE-2017-0199"]),
        ("MSComctlLib.ListViewCtrl.2", ["CVE-2012-0158"]),
    ],
)
def test_rtf_exploit_class_names_give_cve_hints(class_name: str, cves: list[str]) -> None:
    rtf = rtf_with_object(ole1_object(class_name, bytes(64)), class_name)
    verdict = analyse_attachment(rtf, "x.rtf")
    assert (verdict.verdict, verdict.cves) == (MALICIOUS, cves)
    assert f"cve_hint:{cves[0]}" in verdict.indicators


def test_rtf_control_word_exploits() -> None:
    fragments = b"{\\rtf1{\\shp{\\sp{\\sn pFragments}{\\sv 1;1;" + b"a" * 300 + b"}}}}"
    listoverride = b"{\\rtf1{\\*\\listoverridetable{\\listoverride\\listoverridecount25}}}"
    ordinary = b"{\\rtf1{\\*\\listoverridetable{\\listoverride\\listoverridecount0}}}"
    assert analyse_attachment(fragments, "a.rtf").cves == ["CVE-2010-3333"]
    assert analyse_attachment(listoverride, "b.rtf").cves == ["CVE-2014-1761"]
    assert analyse_attachment(ordinary, "c.rtf").verdict == CLEAN


def test_rtf_dde_field_is_suspicious() -> None:
    rtf = b'{\\rtf1{\\field{\\*\\fldinst DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc"}}}'
    verdict = analyse_attachment(rtf, "a.rtf")
    assert verdict.verdict == SUSPICIOUS
    assert [i for i in verdict.indicators if i.startswith("dde:")] == [
        'dde:DDEAUTO c:\\windows\\system32\\cmd.exe "/k calc"'
    ]


def test_csv_dde_is_suspicious() -> None:
    verdict = analyse_attachment(b"name,total\r\nx,=cmd|' /C calc'!A0\r\n", "data.csv")
    assert (verdict.type, verdict.verdict) == ("csv", SUSPICIOUS)
    assert verdict.indicators == ["dde:cmd ' /C calc'"]


def test_docx_external_template_link_is_suspicious() -> None:
    template = external_relationship("attachedTemplate", "http://203.0.113.9/t.dotm")
    verdict = analyse_attachment(make_docx(template), "cv.docx")
    assert (verdict.type, verdict.verdict) == ("ooxml-docx", SUSPICIOUS)
    assert verdict.indicators == ["external_link:http://203.0.113.9/t.dotm"]


def test_docx_mhtml_ole_link_hints_cve_2021_40444() -> None:
    link = external_relationship("oleObject", "mhtml:http://203.0.113.9/x.html!x-usc:http://a")
    verdict = analyse_attachment(make_docx(link), "a.docx")
    assert verdict.cves == ["CVE-2021-40444"]
    assert verdict.verdict == MALICIOUS


def test_docx_hyperlink_is_not_an_external_link() -> None:
    link = external_relationship("hyperlink", "https://example.org/")
    assert analyse_attachment(make_docx(link), "a.docx").verdict == CLEAN


def test_excel4_macro_that_executes_on_open_is_malicious() -> None:
    verdict = analyse_attachment(XLM_EXEC_SLK, "book.slk")
    assert verdict.verdict == MALICIOUS
    assert verdict.indicators == [
        "autoexec_macro:Auto_Open",
        "excel4_macros",
        "macros",
        "suspicious_macro_calls:A-X",
    ]


def test_pdf_attached_executable_is_malicious() -> None:
    verdict = analyse_attachment(make_pdf(attachment=("update.exe", pe_bytes())), "doc.pdf")
    assert (verdict.type, verdict.verdict) == ("pdf", MALICIOUS)
    assert verdict.indicators == ["embedded_executable:update.exe", "embedded_file:update.exe"]


def test_pdf_javascript_is_suspicious_and_plain_pdf_clean() -> None:
    assert analyse_attachment(make_pdf(javascript="app.alert(1);"), "a.pdf").indicators == [
        "pdf_javascript"
    ]
    assert analyse_attachment(make_pdf(), "b.pdf").verdict == CLEAN


# --- bounds and robustness -----------------------------------------------------------------


def test_too_large_is_judged_by_name_and_magic_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 100)
    zipped = analyse_attachment(make_zip({"a.exe": pe_bytes()}), "a.zip")
    assert (zipped.type, zipped.indicators, zipped.verdict) == ("zip", ["too_large"], SUSPICIOUS)
    exe = analyse_attachment(pe_bytes() + bytes(200), "setup.exe")
    assert exe.indicators == ["executable", "too_large"]


def test_timeout_keeps_partial_findings_and_never_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def stuck_rtf(self: Any, data: bytes, depth: int, sink: attachments.Sink) -> None:
        sink("rtf_embedded_object")
        release.wait(10)  # a stage oletools never returns from, until the test ends

    monkeypatch.setattr(attachments._Analysis, "rtf", stuck_rtf)
    monkeypatch.setattr(attachments, "ANALYSIS_TIMEOUT_SECONDS", 0.2)
    started = time.monotonic()
    try:
        verdict = analyse_attachment(b"{\\rtf1 hello}", "a.rtf")
    finally:
        release.set()
    assert time.monotonic() - started < 5
    assert verdict.indicators == ["analysis_timeout", "rtf_embedded_object"]
    assert verdict.verdict == SUSPICIOUS


def test_stage_error_is_an_indicator_and_other_stages_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(data: bytes, sink: attachments.Sink) -> None:
        raise ValueError("parser bug")

    monkeypatch.setattr(attachments, "_rtf_control_words", broken)
    rtf = rtf_with_object(ole1_object("Package", ole_package_native("update.exe", pe_bytes())))
    verdict = analyse_attachment(rtf, "a.rtf")
    assert "analysis_error:rtf_cve" in verdict.indicators
    assert "ole_package:update.exe" in verdict.indicators


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (attachments._OLE_MAGIC + b"\x00garbage" * 100, "analysis_error:olefile"),
        (b"PK\x03\x04" + b"\xff" * 200, "analysis_error:zip"),
        (make_docx()[:300], "analysis_error:zip"),
        (b"%PDF-1.7\n/EmbeddedFile /JavaScript (\n" + bytes(100), "analysis_error:pdf"),
        (b"\x1f\x8b\x08\x00" + b"\xff" * 50, "analysis_error:gzip"),
    ],
    ids=["ole", "zip", "truncated-docx", "pdf", "gzip"],
)
def test_corrupt_input_is_suspicious_not_a_crash(data: bytes, expected: str) -> None:
    verdict = analyse_attachment(data, "broken")
    assert expected in verdict.indicators
    assert verdict.verdict == SUSPICIOUS


def test_malformed_rtf_object_only_informs() -> None:
    verdict = analyse_attachment(b"{\\rtf1{\\object{\\*\\objdata 0105000002000000zz}}", "a.rtf")
    assert (verdict.indicators, verdict.verdict) == (["rtf_embedded_object"], CLEAN)


def test_nothing_is_written_to_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = builtins.open

    def read_only_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(flag in mode for flag in "wax+"):
            raise AssertionError(f"attachment analysis opened {file!r} for writing")
        return real_open(file, mode, *args, **kwargs)

    def no_temp(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("attachment analysis created a temporary file")

    samples = [
        (make_zip({"a.exe": pe_bytes(), "b.docx": make_docx()}), "a.zip"),
        (rtf_with_object(ole1_object("Package", ole_package_native("u.exe", b"x"))), "a.rtf"),
        (make_pdf(attachment=("u.exe", pe_bytes())), "a.pdf"),
        (XLM_EXEC_SLK, "a.slk"),
    ]
    oletools_dir = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "oletools"
    standard_password = oletools_dir / "encrypted" / "dde-test-encrypt-standardpassword.xlsx"
    if standard_password.is_file():  # decrypted in memory, never via oletools' temp files
        samples.append((standard_password.read_bytes(), standard_password.name))
    monkeypatch.setattr(builtins, "open", read_only_open)
    for name in ("mkstemp", "NamedTemporaryFile", "TemporaryFile", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, no_temp)
    for data, name in samples:
        assert "analysis_error" not in " ".join(analyse_attachment(data, name).indicators)


def test_oletools_logging_is_silenced_during_the_call_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    before = {name: logging.getLogger(name).level for name in attachments.QUIET_LOGGERS}
    for data in (attachments._OLE_MAGIC + b"\x00garbage" * 100, make_docx()[:300]):
        analyse_attachment(data, "broken.doc")
    noisy = [r for r in caplog.records if r.name.split(".")[0] in attachments.QUIET_LOGGERS]
    assert noisy == []
    assert {name: logging.getLogger(name).level for name in attachments.QUIET_LOGGERS} == before


def test_as_finding_matches_the_findings_schema() -> None:
    schema = json.loads(
        resources.files("breachscope").joinpath("data/findings.schema.json").read_text()
    )
    item_schema = schema["properties"]["entry"]["properties"]["emails"]["items"]
    attachment_schema = item_schema["properties"]["attachments"]["items"]
    verdict = analyse_attachment(pe_bytes(), "invoice.pdf.exe")
    finding = verdict.as_finding()
    jsonschema.validate(finding, attachment_schema)
    assert finding == {
        "filename": "invoice.pdf.exe",
        "sha256": hashlib.sha256(pe_bytes()).hexdigest(),
        "size": len(pe_bytes()),
        "type": "exe",
        "verdict": MALICIOUS,
        "indicators": ["double_extension:invoice.pdf.exe", "executable"],
        "cves": [],
    }
    assert isinstance(verdict, AttachmentVerdict)


def test_every_indicator_level_is_a_verdict() -> None:
    assert set(attachments.INDICATOR_LEVELS.values()) == {MALICIOUS, SUSPICIOUS}


# --- real samples --------------------------------------------------------------------------


# Expected verdict of every file under corpora/oletools, with what oletools' own tests say it
# holds (decalage2/oletools, tests/<tool>/...). Our rule (spec/rules.md) decides the verdict;
# where it differs from oletools' wording the comment says why. A third column names one
# indicator that must be among ours.
def each(extensions: str) -> list[str]:
    return extensions.split()


_XLM_SOURCE = (
    "olevba test_basic.test_xlm: Auto_Open + 'XLM macro' (ALERT/HALT only, so MacroRaptor "
    "finds no write/execute: macros -> suspicious, not malicious)"
)
_XLM_OOXML = (
    "olevba test_xlm: 'cannot extract xlm macros for these types yet'; we find the "
    "xl/macrosheets part and the Auto_Open name ourselves -> suspicious"
)
_ENCRYPTED = (
    "olevba test_crypt_return (return code 9, encrypted) and msodde 'passwords could not "
    "decrypt'; the rule is silent on encrypted documents, we rate them like an encrypted "
    "archive -> suspicious"
)
_ENCRYPTED_ZIP = (
    "zip encrypted with 'infected-test' (tests/test_utils/testdata_reader.read_encrypted, "
    "hidden from antivirus); rule: encrypted archive -> suspicious"
)
_EMBEDDED_TXT = (
    "oleobj test_basic.do_test_md5: OLE package holding simple-text-file.txt; a text file is "
    "neither executable nor script -> clean"
)
_EMBEDDED_TXT_OTHER = (
    "same embedding in another container (not asserted by oleobj test_basic, parsed by "
    "ooxml test_all_rough / ppt_parser test_is_ppt) -> clean"
)
_EXTERNAL = (
    "oleobj test_external_links: RETURN_FOUND_EXTERNAL and 'Found relationship' (an external "
    "oleObject); oleid test_external_rels -> external link, suspicious"
)
_DDE_XLS = "msodde test_basic.test_excel: ['cmd /c calc.exe'] -> dde, suspicious"
_DDE_CRYPT = (
    "msodde test_crypto: 'cmd /c calc.exe' after the transparent password -> dde, suspicious"
)
_AUTOSTART = (
    "olevba test_crypto: AutoExec Auto_Open after the transparent password (MsgBox only, "
    "MacroRaptor A--) -> macros, suspicious"
)
_HARMLESS = "msodde test_no_dde / test_valid_*: harmless-clean has no DDE -> clean"

OLETOOLS_EXPECTED: dict[str, tuple[str, str, str]] = {
    "basic/encrypted.docx": (
        SUSPICIOUS, "encrypted_document", "oleid test_encrypted: encrypted; " + _ENCRYPTED),
    "basic/text": (CLEAN, "", "olevba test_text_behaviour: 'No suspicious ... found'"),
    "encrypted/autostart-encrypt-standardpassword.xls": (
        SUSPICIOUS, "autoexec_macro:Auto_Open", _AUTOSTART),
    "encrypted/autostart-encrypt-standardpassword.xlsb": (
        SUSPICIOUS, "autoexec_macro:Auto_Open", _AUTOSTART),
    "encrypted/autostart-encrypt-standardpassword.xlsm": (
        SUSPICIOUS, "autoexec_macro:Auto_Open", _AUTOSTART),
    "encrypted/dde-test-encrypt-standardpassword.xls": (
        SUSPICIOUS, "dde:cmd /c calc.exe", _DDE_CRYPT),
    "encrypted/dde-test-encrypt-standardpassword.xlsb": (
        SUSPICIOUS, "dde:cmd /c calc.exe", _DDE_CRYPT),
    "encrypted/dde-test-encrypt-standardpassword.xlsm": (
        SUSPICIOUS, "dde:cmd /c calc.exe", _DDE_CRYPT),
    "encrypted/dde-test-encrypt-standardpassword.xlsx": (
        SUSPICIOUS, "dde:cmd /c calc.exe", _DDE_CRYPT),
    **{
        f"encrypted/encrypted.{extension}": (SUSPICIOUS, "encrypted_document", _ENCRYPTED)
        for extension in each("doc docm docx ppt pptm pptx xls xlsb xlsm xlsx")
    },
    "excel4-macros/excel4_sample_macro.slk": (SUSPICIOUS, "excel4_macros", _XLM_SOURCE),
    "excel4-macros/excel4_sample_macro.xls": (SUSPICIOUS, "excel4_macros", _XLM_SOURCE),
    "excel4-macros/excel4_sample_macro.xlt": (SUSPICIOUS, "excel4_macros", _XLM_SOURCE),
    "excel4-macros/excel4_sample_macro_excel5_format.xls": (
        SUSPICIOUS, "excel4_macros", _XLM_SOURCE),
    "excel4-macros/excel4_sample_macro.xlsb": (SUSPICIOUS, "autoexec_macro:Auto_Open", _XLM_OOXML),
    "excel4-macros/excel4_sample_macro.xlsm": (SUSPICIOUS, "autoexec_macro:Auto_Open", _XLM_OOXML),
    "excel4-macros/excel4_sample_macro.xltm": (SUSPICIOUS, "autoexec_macro:Auto_Open", _XLM_OOXML),
    "msodde/RTF-Spec-1.7.rtf": (
        CLEAN, "", "msodde test_clean_rtf_ddeonly: 0 DDE links (its 1413 fields are hyperlinks)"),
    "msodde/dde-in-csv.csv": (
        SUSPICIOUS, "dde:cmd '/k \\..\\..\\..\\Windows\\System32\\calc.exe'",
        "msodde test_csv.test_file: one link cmd '/k ...calc.exe'"),
    "msodde/dde-in-excel2003.xml": (
        SUSPICIOUS, "dde:cmd '/c calc.exe'", "msodde test_xml (excel2003): 1 link, cmd + calc"),
    "msodde/dde-in-word2003.xml.zip": (SUSPICIOUS, "encrypted_archive", _ENCRYPTED_ZIP),
    "msodde/dde-in-word2007.xml.zip": (SUSPICIOUS, "encrypted_archive", _ENCRYPTED_ZIP),
    "msodde/dde-test-from-office2003.doc.zip": (SUSPICIOUS, "encrypted_archive", _ENCRYPTED_ZIP),
    "msodde/dde-test-from-office2013-utf_16le-korean.doc.zip": (
        SUSPICIOUS, "encrypted_archive", _ENCRYPTED_ZIP),
    "msodde/dde-test-from-office2016.doc.zip": (SUSPICIOUS, "encrypted_archive", _ENCRYPTED_ZIP),
    "msodde/dde-test.docm": (
        SUSPICIOUS, 'dde:DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe"',
        "msodde test_valid_docm parses it (the test asserts no link list for docx/docm; the "
        "sample, named dde-test, holds DDE and DDEAUTO fields) -> dde, suspicious"),
    "msodde/dde-test.docx": (
        SUSPICIOUS, 'dde:DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe"',
        "msodde test_valid_docx parses it; same fields as dde-test.docm -> dde, suspicious"),
    "msodde/dde-test.xlsb": (SUSPICIOUS, "dde:cmd /c calc.exe", _DDE_XLS),
    "msodde/dde-test.xlsm": (SUSPICIOUS, "dde:cmd /c calc.exe", _DDE_XLS),
    "msodde/dde-test.xlsx": (SUSPICIOUS, "dde:cmd /c calc.exe", _DDE_XLS),
    "msodde/harmless-clean-2003.xml": (CLEAN, "", _HARMLESS),
    "msodde/harmless-clean.doc": (CLEAN, "", _HARMLESS),
    "msodde/harmless-clean.docm": (CLEAN, "", _HARMLESS),
    "msodde/harmless-clean.docx": (CLEAN, "", _HARMLESS),
    "msodde/harmless-clean.xml": (CLEAN, "", _HARMLESS),
    "oleform/oleform-PR314.docm": (
        SUSPICIOUS, "macros",
        "oleform test_basic: VBA UserForms; oleid test_macros: vba Yes. Event handlers "
        "(Frame1_Click) count as auto-exec, no write/execute -> suspicious"),
    "oleobj/embedded-simple-2007-as2003.xml": (
        CLEAN, "", "oleobj test_no_output: no embedded data found"),
    "oleobj/embedded-simple-2007.xml": (
        CLEAN, "", "oleobj test_no_output: no embedded data found"),
    **{
        f"oleobj/embedded-simple-2007.{extension}": (
            CLEAN, "embedded_file:simple-text-file.txt", _EMBEDDED_TXT)
        for extension in each("doc dot docx docm dotx dotm")
    },
    **{
        f"oleobj/embedded-simple-2007.{extension}": (CLEAN, "", _EMBEDDED_TXT_OTHER)
        for extension in each(
            "odp ods odt pot potm potx pps ppsm ppsx ppt pptm pptx xla xlam xls xlsb xlsm xlsx"
            " xlt xltm xltx"
        )
    },
    "oleobj/embedded-unicode-2007.docx": (
        CLEAN, "", "oleobj test_md5: embeds a .txt (_nic_de-___________.txt) -> clean"),
    "oleobj/embedded-unicode.doc": (
        CLEAN, "", "oleobj test_md5: embeds a .txt (_nic_de-___________.txt) -> clean"),
    **{
        f"oleobj/external_link/sample_with_external_link_to_doc.{extension}": (
            SUSPICIOUS, "external_link:https://raw.githubusercontent.com/", _EXTERNAL)
        for extension in each("docm docx dotm dotx potm potx ppsm ppsx pptm pptx xlsb xlsm xlsx")
    },
    "oleobj/sample_with_calc_embedded.doc": (
        MALICIOUS, "ole_package:calc.exe",
        "oleobj test_md5: OLE package calc.exe -> package carrying an executable"),
    "oleobj/sample_with_lnk_file.doc": (
        MALICIOUS, "ole_package:calc.lnk", "oleobj test_md5: OLE package calc.lnk (a shortcut)"),
    "oleobj/sample_with_lnk_file.pps": (
        MALICIOUS, "ole_package:calc.lnk", "oleobj test_md5: OLE package calc.lnk (a shortcut)"),
    "oleobj/sample_with_lnk_file.ppt": (
        MALICIOUS, "ole_package:calc.lnk", "oleobj test_md5: OLE package calc.lnk (a shortcut)"),
    "oleobj/sample_with_lnk_to_calc.doc": (
        CLEAN, "",
        "oleobj test_no_output: nothing embedded (the object only links to calc, oleobj skips "
        "links) -> clean; rule counts embedded or attached executables only"),
    "olevba/sample_with_vba.ppt": (
        SUSPICIOUS, "autoexec_macro:Action_Click",
        "oleid test_macros (vba, results 'inconsistent'); olevba finds Action_Click with "
        "MsgBox only, MacroRaptor A-- -> suspicious"),
    "ooxml/dde-in-excel2003.xml": (
        SUSPICIOUS, "dde:cmd '/c calc.exe'", "copy of msodde/dde-in-excel2003.xml"),
    "ooxml/dde-in-word2003.xml.zip": (SUSPICIOUS, "encrypted_archive", _ENCRYPTED_ZIP),
    "ooxml/harmless-clean-2003.xml": (CLEAN, "", _HARMLESS),
    "ooxml/harmless-clean.xml": (CLEAN, "", _HARMLESS),
    "other/presentation.xps": (
        CLEAN, "", "no oletools test asserts content; ppt_parser test_is_ppt: not ppt"),
    "rtfobj/issue_185.rtf.zip": (
        SUSPICIOUS, "encrypted_archive",
        "rtfobj test_issue_185 reads it with read_encrypted (one object inside); "
        + _ENCRYPTED_ZIP),
    "rtfobj/issue_251.rtf": (
        CLEAN, "rtf_embedded_object",
        "rtfobj test_issue_251: one object (\\bin without parameter), not a well-formed OLE "
        "object, no class name -> informs only"),
}  # fmt: skip


def oletools_samples(corpora: Path) -> list[Path]:
    return sorted(p for p in (corpora / "oletools").rglob("*") if p.is_file())


@pytest.mark.corpus
def test_oletools_table_covers_every_sample(corpora: Path) -> None:
    found = {p.relative_to(corpora / "oletools").as_posix() for p in oletools_samples(corpora)}
    assert found == set(OLETOOLS_EXPECTED)


@pytest.mark.corpus
@pytest.mark.parametrize("relative", sorted(OLETOOLS_EXPECTED))
def test_oletools_sample_verdict(corpora: Path, relative: str) -> None:
    expected, indicator, _source = OLETOOLS_EXPECTED[relative]
    path = corpora / "oletools" / relative
    verdict = analyse_attachment(path.read_bytes(), path.name)
    assert verdict.verdict == expected, verdict.indicators
    if indicator:
        assert any(i.startswith(indicator) for i in verdict.indicators), verdict.indicators
    assert not any(i.startswith(("analysis_error", "analysis_timeout")) for i in verdict.indicators)


def phishing_attachments(corpora: Path) -> list[tuple[str, str, bytes]]:
    """(message file, attachment name, bytes) for every attachment in phishing_pot.

    ``iter_attachments`` plus any non-text part with a filename (inline images and the
    like, which ``iter_attachments`` skips).
    """
    found: list[tuple[str, str, bytes]] = []
    for path in sorted((corpora / "phishing_pot").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        parts = list(message.iter_attachments()) if message.is_multipart() else []
        seen = {id(part) for part in parts}
        for part in message.walk():
            named = part.get_filename() and part.get_content_maintype() != "text"
            if named and id(part) not in seen and not part.is_multipart():
                parts.append(part)
        for part in parts:
            if part.is_multipart():
                continue
            try:
                payload = part.get_payload(decode=True)
            except Exception:
                payload = b""
            data = payload if isinstance(payload, bytes) else b""
            found.append((path.name, part.get_filename() or "", data))
    return found


@pytest.mark.corpus
def test_every_phishing_pot_attachment_gets_a_verdict(corpora: Path) -> None:
    samples = phishing_attachments(corpora)
    assert len(samples) > 100
    started = time.monotonic()
    verdicts = [analyse_attachment(data, name) for _, name, data in samples]
    assert time.monotonic() - started < 60
    assert {v.verdict for v in verdicts} <= {CLEAN, SUSPICIOUS, MALICIOUS}
    assert not [v for v in verdicts if "analysis_timeout" in v.indicators]
    # the signed Apple configuration profiles this corpus carries are recognised
    assert any(v.type == "mobileconfig" for v in verdicts)
