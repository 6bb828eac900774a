"""Verdict on one e-mail attachment: ``malicious``, ``suspicious`` or ``clean``, and why.

The rule is in ``spec/rules.md`` (Attachment verdicts). Every finding is an *indicator*, a
short code with an optional detail after ``:`` (``ole_package:update.exe``), and each code has a
level in ``INDICATOR_LEVELS``; the verdict is the highest level found. So the verdict can always
be explained by the indicators that caused it.

- ``malicious``: an attached executable or script (``executable``, ``script:js``), an embedded
  one (``ole_package:<name>`` for an OLE Package carrying it, ``embedded_executable:<name>``
  for a PDF attachment), an exploit CVE hint (``cve_hint:CVE-...``), auto-executing macros
  with write or execute calls (``suspicious_macro_calls``, MacroRaptor's verdict, run over the
  VBA and any Excel 4 macro text), a hash in the IOCs (``ioc_hash``).
- ``suspicious``: macros MacroRaptor does not flag, with or without auto-exec (``macros``,
  ``autoexec_macro``, ``excel4_macros``; the rule names only macros without auto-exec, and
  auto-exec alone, e.g. ``Auto_Open`` showing a message box, is no more than that), ``dde``,
  ``external_link``, ``archive_executable``, ``double_extension``, ``rtl_override``,
  ``encrypted_archive``. The rule is silent on what could not be looked into; we rate it
  suspicious, as the rule does for an encrypted archive: ``encrypted_document``,
  ``archive_unlisted`` (7z, rar, iso, cab... with no reader here), ``nesting_limit``,
  ``archive_limit``, ``too_large``, ``analysis_timeout``, ``analysis_error:<stage>``.
  PDF JavaScript and ``/Launch`` (``pdf_javascript``, ``pdf_launch``) are rated as macros are.
- Everything else (``embedded_file``, ``rtf_embedded_object``, ``transparent_encryption``)
  only informs.

Archives are members-first: an executable *in an archive* is ``archive_executable``
(suspicious: the rule's "archive holding an executable"), but what a member document is found
to carry keeps its own level (a zip holding an RTF exploit is malicious). Indicators found
inside a member carry its path: ``autoexec_macro:a.zip!b.docm!AutoOpen`` reads "in b.docm,
inside a.zip".

Evidence is hostile, so the analysis is bounded. Nothing is written to disk: every oletools
entry point used takes bytes or a file-like object (``VBA_Parser(data=)``, ``RtfObjParser``,
``oleobj.find_ole(data=)``, ``olefile.OleFileIO(bytes)``, ooxml's ``XmlParser`` over
``BytesIO``), and oletools' own ``crypto.decrypt``/``process_file`` helpers, which write
temporary files, are not used. Bounds:

- ``MAX_ATTACHMENT_BYTES``: larger input is judged by name and magic only (``too_large``).
- ``MAX_ARCHIVE_MEMBERS`` and ``MAX_ARCHIVE_BYTES``: members examined and bytes decompressed,
  shared by all nesting levels of one attachment (``archive_limit`` when reached).
- ``MAX_NESTING_DEPTH``: containers nested deeper are not opened (``nesting_limit``).
- ``ANALYSIS_TIMEOUT_SECONDS``: the content analysis runs in a daemon worker thread and the
  caller waits at most this long (``analysis_timeout``, verdict at least suspicious, with what
  was found so far). oletools cannot be cancelled, so the worker also checks the deadline
  between stages and stops itself there. A daemon thread is used instead of a
  ``ThreadPoolExecutor`` because the executor's workers are joined at interpreter exit, so one
  runaway oletools call would hang the end of the run. At most ``MAX_ABANDONED_WORKERS``
  timed-out workers may still be running; beyond that new attachments skip the content
  analysis (``analysis_timeout:skipped``) rather than pile up CPU-bound threads.
- Any exception in a stage becomes ``analysis_error:<stage>`` and the other stages go on.
- oletools' loggers (``QUIET_LOGGERS``) are set to CRITICAL while analyses run and restored
  after the last one; pypdf caps each decompressed PDF stream itself (75 MB).

Encrypted Office files are tried only with the passwords Office itself applies without asking
(``TRANSPARENT_PASSWORDS``: Excel's "VelvetSweatshop" and PowerPoint's), in memory with
msoffcrypto-tool (an oletools dependency); the decrypted content is then analysed as usual and
``transparent_encryption`` noted. Any other encrypted document is ``encrypted_document``.

CVE hints (``cve_hint:<id>``) come from small tables below, taken from oletools' descriptions
(``oletools.common.clsid`` and rtfobj's messages) and public advisories:

- ``EXPLOIT_CLASS_NAMES``: OLE 1.0 class names of objects embedded in RTF (``Equation.3``
  -> CVE-2017-11882/CVE-2018-0802, ``OLE2Link`` -> CVE-2017-0199, MSComctlLib ListView /
  TreeView -> CVE-2012-0158).
- ``EXPLOIT_CLSIDS``: CLSIDs of OLE storages anywhere in a compound file, an RTF object or an
  OOXML embedding (Equation Editor, StdOleLink, script/SOAP monikers, HTA, MSCOMCTL).
- RTF control words found by bounded regexes: a ``pFragments`` shape property with a long hex
  value (CVE-2010-3333) and ``\\listoverridecount`` other than 0, 1 or 9 (CVE-2014-1761; the
  two are sometimes grouped, but they are distinct Word RTF bugs).
- OOXML external relationships: a target starting ``mhtml:`` (CVE-2021-40444, as oleobj
  reports it) and an external ``oleObject`` target ending in ``!`` (CVE-2022-30190, Follina;
  a heuristic from public write-ups).

Not covered (first version): embedded objects in single-file Word 2003 XML / Flat OPC (oleobj
does not extract them either), raw (non-OLE) OOXML documents embedded in OOXML, VBA stomping,
OneNote embedded files, HTML smuggling, e-mails attached to e-mails, obfuscated RTF control
words, and PDF keywords hidden in compressed object streams. Apple configuration profiles
(``mobileconfig``, signed or not), HTML and SVG pages are typed but not judged: the rule has no
clause for them. ``hyperlink`` relationships are not counted as external links: a clickable
link loads nothing when the document opens.
"""

from __future__ import annotations

import bz2
import csv
import functools
import hashlib
import io
import logging
import lzma
import re
import struct
import tarfile
import threading
import time
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024  # larger input: verdict by name and magic only
MAX_ARCHIVE_MEMBERS = 1000  # members examined per attachment, all nesting levels together
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024  # bytes decompressed per attachment, all levels together
MAX_NESTING_DEPTH = 2  # containers nested deeper than this inside the attachment stay closed
ANALYSIS_TIMEOUT_SECONDS = 30.0  # content analysis of one attachment
MAX_ABANDONED_WORKERS = 4  # timed-out workers still running before analysis is skipped
MAX_DETAIL_CHARS = 200  # characters of a name or link kept in an indicator
TRANSPARENT_PASSWORDS = ("VelvetSweatshop", "/01Hannes Ruescher/01")  # Office opens silently


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MALICIOUS = "malicious"
SUSPICIOUS = "suspicious"
CLEAN = "clean"
_RANK = {CLEAN: 0, SUSPICIOUS: 1, MALICIOUS: 2}

#: Level of each indicator code; a code not listed only informs.
INDICATOR_LEVELS: dict[str, str] = {
    "executable": MALICIOUS,
    "script": MALICIOUS,
    "ole_package": MALICIOUS,
    "embedded_executable": MALICIOUS,
    "cve_hint": MALICIOUS,
    "suspicious_macro_calls": MALICIOUS,
    "ioc_hash": MALICIOUS,
    "macros": SUSPICIOUS,
    "autoexec_macro": SUSPICIOUS,
    "excel4_macros": SUSPICIOUS,
    "dde": SUSPICIOUS,
    "external_link": SUSPICIOUS,
    "archive_executable": SUSPICIOUS,
    "double_extension": SUSPICIOUS,
    "rtl_override": SUSPICIOUS,
    "encrypted_archive": SUSPICIOUS,
    "encrypted_document": SUSPICIOUS,
    "archive_unlisted": SUSPICIOUS,
    "archive_limit": SUSPICIOUS,
    "nesting_limit": SUSPICIOUS,
    "too_large": SUSPICIOUS,
    "analysis_timeout": SUSPICIOUS,
    "analysis_error": SUSPICIOUS,
    "pdf_javascript": SUSPICIOUS,
    "pdf_launch": SUSPICIOUS,
}

#: Binaries Windows runs or installs on a double click.
EXECUTABLE_EXTENSIONS = _words(
    "exe scr com pif cpl dll ocx sys msi msp msix msixbundle appx appxbundle jar xll apk"
)
#: Scripts and shortcuts the shell hands to an interpreter on a double click.
SCRIPT_EXTENSIONS = _words(
    "js jse vbs vbe vb wsf wsh wsc hta ps1 psm1 bat cmd lnk sct chm reg msc scf inf sh command"
    " application appref-ms settingcontent-ms"
)
ARCHIVE_EXTENSIONS = _words(
    "zip rar 7z gz tgz bz2 xz tar cab ace arj lzh z iso img vhd vhdx dmg r00"
)
#: What a name pretends to be in ``invoice.pdf.exe`` (the second-to-last extension).
DECOY_EXTENSIONS = _words(
    "pdf doc docx docm xls xlsx xlsm ppt pptx rtf txt csv odt ods jpg jpeg png gif bmp tif tiff"
    " mp3 mp4 wav avi mov zip rar 7z htm html eml msg ics xml json"
)
#: Final extensions that make a decoy name a double extension.
#: Archives are left out: ``report.doc.zip`` is how many tools name a zipped file, and what
#: an archive holds is judged on its own.
RISKY_FINAL_EXTENSIONS = (
    EXECUTABLE_EXTENSIONS | SCRIPT_EXTENSIONS | _words("htm html shtml xhtml svg mht mhtml one")
)
#: Bidirectional controls that reorder how a name is displayed (U+202E is the classic one).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

_EQUATION = ("CVE-2017-11882", "CVE-2018-0802")
#: OLE 1.0 class-name prefixes (lower case) of exploit objects in RTF; rtfobj reports the
#: first two, MSComctlLib is from CVE-2012-0158 advisories.
EXPLOIT_CLASS_NAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("equation.3", _EQUATION),
    ("ole2link", ("CVE-2017-0199",)),
    ("mscomctllib.listviewctrl", ("CVE-2012-0158",)),
    ("mscomctllib.treectrl", ("CVE-2012-0158",)),
)
#: CLSIDs of exploit objects, from oletools.common.clsid's descriptions.
EXPLOIT_CLSIDS: dict[str, tuple[str, ...]] = {
    "0002CE02-0000-0000-C000-000000000046": _EQUATION,  # Microsoft Equation 3.0
    "00021700-0000-0000-C000-000000000046": _EQUATION,  # Microsoft Equation 2.0
    "0003000B-0000-0000-C000-000000000046": _EQUATION,  # Microsoft Equation
    "00000300-0000-0000-C000-000000000046": ("CVE-2017-0199",),  # StdOleLink
    "3050F4D8-98B5-11CF-BB82-00AA00BDCE0B": ("CVE-2017-0199",),  # HTML Application
    "06290BD3-48AA-11D2-8432-006008C3FBFC": ("CVE-2017-0199",),  # Script Moniker
    "ECABB0C7-7F19-11D2-978E-0000F8757E2A": ("CVE-2017-8759",),  # SOAP Moniker
    "BDD1F04B-858B-11D1-B16A-00C0F0283628": ("CVE-2012-0158",),  # MSCOMCTL.ListViewCtrl
    "996BF5E0-8044-4650-ADEB-0B013914E99C": ("CVE-2012-0158",),  # MSCOMCTL.ListViewCtrl
    "C74190B6-8589-11D1-B16A-00C0F0283628": ("CVE-2012-0158",),  # MSCOMCTL.TreeCtrl
    "9181DC5F-E07D-418A-ACA6-8EEA1ECB8E9E": ("CVE-2012-0158",),  # MSCOMCTL.TreeCtrl
}
#: Root CLSIDs of Windows Installer packages and patches (compound files that install).
INSTALLER_CLSIDS = frozenset(
    {"000C1084-0000-0000-C000-000000000046", "000C1086-0000-0000-C000-000000000046"}
)

#: Logger names of oletools and the parsers it drives, silenced during an analysis.
QUIET_LOGGERS = (
    "olevba", "oleobj", "rtfobj", "msodde", "oleid", "ooxml", "crypto", "ftguess", "mraptor",
    "ppt", "record_base", "xls_parser", "olefile", "msoffcrypto", "pypdf",
)  # fmt: skip

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CMS_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")  # OID 1.2.840.113549.1.7.2
_PFRAGMENTS = re.compile(
    rb"\\sn\s{0,16}pFragments\s{0,16}\}\s{0,16}\{\s{0,16}\\sv\b[^}]{0,64}?[0-9a-fA-F]{256}"
)
_LISTOVERRIDECOUNT = re.compile(rb"\\listoverridecount(\d{1,9})")
#: A PDF name token: preceded and followed by PDF delimiters, so that ``/JS`` inside
#: ASCII85 stream data (seen in the phishing corpus) is not taken for a keyword.
_PDF_NAME = re.compile(
    rb"(?<=[\s()<>\[\]{}/%])/(?:[A-Za-z]|#[0-9A-Fa-f]{2}){2,32}(?=[\s()<>\[\]{}/%])"
)
_PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_PADDING = re.compile(r"\s{3,}\.[^.]+$")
_ODF_MACRO = re.compile(r"^(?:Basic/[^/]+/(?!script-lb\.xml$)[^/]+\.xml|Scripts/.+)$")
_AUTO_OPEN = re.compile(rb"auto_(?:open|activate|close)", re.IGNORECASE)
_AUTO_OPEN_UTF16 = re.compile(
    b"|".join(
        b"".join(re.escape(bytes([c])) + b"\\x00" for c in word)
        for word in (b"auto_open", b"auto_activate", b"auto_close")
    ),
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AttachmentVerdict:
    """What ``analyse_attachment`` found; ``as_finding`` is the findings-schema object."""

    filename: str
    sha256: str
    size: int
    type: str
    verdict: str
    indicators: list[str]
    cves: list[str]

    def as_finding(self) -> dict[str, Any]:
        """The ``entry.emails[].attachments[]`` object of findings.schema.json."""
        return {
            "filename": self.filename,
            "sha256": self.sha256,
            "size": self.size,
            "type": self.type,
            "verdict": self.verdict,
            "indicators": list(self.indicators),
            "cves": list(self.cves),
        }


def analyse_attachment(
    data: bytes, filename: str, ioc_hashes: frozenset[str] = frozenset()
) -> AttachmentVerdict:
    """Judge one attachment from its bytes and the name it was sent under; never raises.

    ``ioc_hashes`` holds hex digests (MD5, SHA-1 or SHA-256, any case) from the case's IOCs;
    members of archives and embedded files are checked against them too.

    >>> analyse_attachment(b"hello", "notes.txt").verdict
    'clean'
    >>> analyse_attachment(b"MZ", "invoice.pdf.exe").indicators
    ['double_extension:invoice.pdf.exe', 'executable']
    """
    iocs = frozenset(h.strip().lower() for h in ioc_hashes)
    sha256 = hashlib.sha256(data).hexdigest()
    found: set[str] = set()
    file_type = "unknown"
    if _ioc_match(data, iocs, sha256):
        found.add("ioc_hash")
    try:
        file_type = sniff_type(data, filename)
        found.update(_name_indicators(filename, detail=True))
        if len(data) > MAX_ATTACHMENT_BYTES:
            found.add("too_large")
            found.update(_magic_indicators(file_type, filename))
        else:
            found.update(_analyse_bounded(data, filename, iocs))
    except Exception:  # a bug here must not cost the run; the verdict says it
        found.add("analysis_error:attachment")
    indicators = sorted(found)
    cves = sorted({i.partition(":")[2] for i in indicators if i.startswith("cve_hint:")})
    return AttachmentVerdict(
        filename=filename,
        sha256=sha256,
        size=len(data),
        type=file_type,
        verdict=verdict_of(indicators),
        indicators=indicators,
        cves=cves,
    )


def verdict_of(indicators: list[str] | set[str]) -> str:
    """The highest level among the indicators' codes (``INDICATOR_LEVELS``).

    >>> verdict_of(["embedded_file:a.txt", "dde:DDEAUTO c:\\\\windows"])
    'suspicious'
    """
    best = CLEAN
    for indicator in indicators:
        level = INDICATOR_LEVELS.get(indicator.partition(":")[0], CLEAN)
        if _RANK[level] > _RANK[best]:
            best = level
    return best


# --- type and name -------------------------------------------------------------------------


def sniff_type(data: bytes, filename: str = "") -> str:
    """A short content type from magic bytes (the name only refines text and zip kinds).

    >>> sniff_type(b"{\\\\rtf1 x}"), sniff_type(b"MZ" + bytes(100)), sniff_type(b"a,b\\n", "x.csv")
    ('rtf', 'exe', 'csv')
    """
    head = data[:4096]
    extension = _extension(filename)
    if not data:
        return "empty"
    if head.startswith(b"{\\rt"):
        return "rtf"
    if head.startswith(_OLE_MAGIC):
        return "msi" if extension in ("msi", "msp") else "ole"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    if b"%PDF" in data[:1024]:
        return "pdf"
    if head.startswith(b"MZ") and (_is_pe(data) or not _looks_text(head)):
        return "exe"
    if head.startswith(b"\x7fELF"):
        return "elf"
    if head[:4] in (
        b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ):  # fmt: skip
        return "macho"
    if head.startswith(b"L\x00\x00\x00\x01\x14\x02\x00"):
        return "lnk"
    for magic, kind in _ARCHIVE_MAGIC:
        if head.startswith(magic):
            return kind
    if data[0x8001:0x8006] == b"CD001" or data[0x8801:0x8806] == b"CD001":
        return "iso"
    if data[257:262] == b"ustar":
        return "tar"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")):
        return "image"
    if head[:1] == b"\x30" and _CMS_SIGNED_DATA in head[:32]:
        return "mobileconfig" if b"<plist" in data[:65536] else "pkcs7"
    if head.startswith(b"\xe4\x52\x5c\x7b\x8c\xd8\xa7\x4d\xae\xb1\x53\x78\xd0\x29\x96\xd3"):
        return "onenote"
    if not _looks_text(head):
        return "unknown"
    return _text_kind(head, extension)


_ARCHIVE_MAGIC = (
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"MSCF", "cab"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"vhdxfile", "vhdx"),
    (b"conectix", "vhd"),
)
_UNLISTED_ARCHIVES = frozenset({"7z", "rar", "cab", "iso", "vhd", "vhdx"})
_COMPRESSED = frozenset({"gzip", "bzip2", "xz"})
_MEDIA = _words("png jpg jpeg gif bmp tif tiff emf wmf svg mp3 mp4 wav avi mov odttf ttf")
_DOCUMENT_TYPES = frozenset({"ooxml-docx", "ooxml-xlsx", "ooxml-pptx", "ooxml-macro", "odf", "xps"})
_CONTAINER_TYPES = (
    _DOCUMENT_TYPES
    | _UNLISTED_ARCHIVES
    | frozenset({"zip", "tar", "gzip", "bzip2", "xz", "ole", "msi", "rtf", "pdf", "office-xml"})
)


def _text_kind(head: bytes, extension: str) -> str:
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"ID;") or extension == "slk":
        return "slk"
    if lowered.startswith(b"#!"):
        return "script"
    if extension in SCRIPT_EXTENSIONS:
        return "script"
    if extension == "mobileconfig" or (b"<plist" in lowered and b"payloadtype" in lowered):
        return "mobileconfig"
    if b"<?mso-application" in lowered or (
        b"schemas.microsoft.com/office/" in lowered
        and (b"wordml" in lowered or b"xmlpackage" in lowered)
    ):
        return "office-xml"
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")) or (
        extension in ("htm", "html", "xhtml", "shtml") and b"<" in lowered
    ):
        return "html"
    if lowered.startswith(b"<svg") or (lowered.startswith(b"<?xml") and b"<svg" in lowered):
        return "svg"
    if lowered.startswith(b"<?xml"):
        return "xml"
    if b"mime-version" in lowered[:1024]:
        return (
            "mhtml" if b"multipart/related" in lowered or extension in ("mht", "mhtml") else "eml"
        )
    if extension == "csv":
        return "csv"
    return "text"


def _zip_kind(data: bytes) -> str:
    """Tell OOXML (and which), ODF, XPS, JAR and APK from a plain zip by their member names."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()[:MAX_ARCHIVE_MEMBERS]
            lowered = {n.lower() for n in names}
            content_types = b""
            if "[Content_Types].xml" in names:
                info = archive.getinfo("[Content_Types].xml")
                if not info.flag_bits & 1:
                    with archive.open(info) as handle:
                        content_types = handle.read(256 * 1024).lower()
            mimetype = b""
            if "mimetype" in names and not archive.getinfo("mimetype").flag_bits & 1:
                with archive.open("mimetype") as handle:
                    mimetype = handle.read(200)
    except Exception:
        return "zip"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return "odf"
    if content_types:
        if b"macroenabled" in content_types or any(n.endswith("vbaproject.bin") for n in lowered):
            return "ooxml-macro"
        for prefix, kind in (
            ("word/", "ooxml-docx"),
            ("xl/", "ooxml-xlsx"),
            ("ppt/", "ooxml-pptx"),
        ):
            if any(n.startswith(prefix) for n in lowered):
                return kind
        if b"xps" in content_types or "fixeddocseq.fdseq" in lowered:
            return "xps"
        return "ooxml-docx" if b"wordprocessingml" in content_types else "zip"
    if "androidmanifest.xml" in lowered and "classes.dex" in lowered:
        return "apk"
    if "meta-inf/manifest.mf" in lowered and any(n.endswith(".class") for n in lowered):
        return "jar"
    return "zip"


def _is_pe(data: bytes) -> bool:
    if len(data) < 0x40:
        return False
    offset = struct.unpack_from("<I", data, 0x3C)[0]
    return data[offset : offset + 4] == b"PE\x00\x00"


def _looks_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls <= len(head) // 50


def _extension(name: str) -> str:
    base = _basename(name).rstrip(" .")
    return base.rpartition(".")[2].strip().lower() if "." in base else ""


def _basename(name: str) -> str:
    name = "".join(c for c in name if c not in BIDI_CONTROLS)
    return re.split(r"[\\/]", name)[-1]


def _name_indicators(name: str, detail: bool = False) -> list[str]:
    """``double_extension``, ``rtl_override``, ``executable``/``script:<ext>`` from a name.

    With ``detail`` the name-based codes carry the (escaped) name; nested members get their
    path from the container instead.

    >>> _name_indicators("doc.docx   .js")
    ['double_extension', 'script:js']
    >>> _name_indicators("report.2023.v2.pdf")
    []
    """
    found: list[str] = []
    suffix = f":{_clean(name)}" if detail else ""
    base = _basename(name).rstrip(" .")
    parts = base.split(".")
    if len(parts) >= 3 or _PADDING.search(base):
        final, decoy = parts[-1].strip().lower(), parts[-2].strip().lower()
        if (decoy in DECOY_EXTENSIONS and final != decoy and final in RISKY_FINAL_EXTENSIONS) or (
            _PADDING.search(base)
        ):
            found.append("double_extension" + suffix)
    if any(c in BIDI_CONTROLS for c in name):
        found.append("rtl_override" + suffix)
    extension = _extension(name)
    if extension in EXECUTABLE_EXTENSIONS:
        found.append("executable")
    elif extension in SCRIPT_EXTENSIONS:
        found.append(f"script:{extension}")
    return found


def _magic_indicators(file_type: str, name: str) -> list[str]:
    """What the content type alone says (executables, archives nobody here can list)."""
    if file_type in ("exe", "elf", "macho", "msi", "jar", "apk"):
        return ["executable"]
    if file_type == "lnk":
        return ["script:lnk"]
    if file_type == "script":
        return [f"script:{_extension(name) or 'shebang'}"]
    if file_type in _UNLISTED_ARCHIVES:
        return [f"archive_unlisted:{file_type}"]
    return []


def _clean(text: str) -> str:
    """Escape control and format characters (bidi included) and cut to ``MAX_DETAIL_CHARS``.

    >>> _clean("invoice\\u202egpj.exe")
    'invoice\\\\u202egpj.exe'
    """
    out = []
    for char in text[: MAX_DETAIL_CHARS * 2]:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)[:MAX_DETAIL_CHARS]


def _ioc_match(data: bytes, iocs: frozenset[str], sha256: str | None = None) -> bool:
    if not iocs:
        return False
    digests = {sha256 or hashlib.sha256(data).hexdigest()}
    if iocs - digests != iocs:
        return True
    digests = {hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest()}
    return bool(iocs & digests)


# --- bounded analysis ----------------------------------------------------------------------


class _Deadline(Exception):
    """Raised in the worker between stages once the time is up or the caller gave up."""


class _Collector:
    """Indicators gathered by the worker; closed when the caller stops waiting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: set[str] = set()
        self._closed = False

    def add(self, indicator: str) -> None:
        with self._lock:
            if not self._closed:
                self._items.add(indicator)

    def close(self) -> set[str]:
        with self._lock:
            self._closed = True
            return set(self._items)


_ABANDONED: list[threading.Thread] = []
_ABANDONED_LOCK = threading.Lock()
_QUIET_LOCK = threading.Lock()
_QUIET_USERS = 0
_QUIET_SAVED: dict[str, int] = {}


@contextmanager
def _quiet_oletools() -> Iterator[None]:
    """Set oletools' loggers to CRITICAL while any analysis runs (reference counted)."""
    global _QUIET_USERS
    with _QUIET_LOCK:
        if _QUIET_USERS == 0:
            for name in QUIET_LOGGERS:
                logger = logging.getLogger(name)
                _QUIET_SAVED[name] = logger.level
                logger.setLevel(logging.CRITICAL)
        _QUIET_USERS += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _QUIET_USERS -= 1
            if _QUIET_USERS == 0:
                for name, level in _QUIET_SAVED.items():
                    logging.getLogger(name).setLevel(level)
                _QUIET_SAVED.clear()


@functools.cache
def _import_parsers() -> None:
    """Import oletools and pypdf once, in the caller's thread, without their import noise.

    olevba builds pyparsing grammars with deprecated names at import time; those warnings are
    about oletools' code, not ours, and are muted here once rather than in every worker.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import pypdf  # noqa: F401
        from oletools import mraptor, msodde, oleobj, olevba, ooxml, rtfobj  # noqa: F401


def _analyse_bounded(data: bytes, filename: str, iocs: frozenset[str]) -> set[str]:
    """Run the content analysis in a daemon worker and wait at most the timeout."""
    with _ABANDONED_LOCK:
        _ABANDONED[:] = [t for t in _ABANDONED if t.is_alive()]
        if len(_ABANDONED) >= MAX_ABANDONED_WORKERS:
            skipped = {"analysis_timeout:skipped"}
            return skipped | set(_magic_indicators(sniff_type(data, filename), filename))
    collector = _Collector()
    analysis = _Analysis(time.monotonic() + ANALYSIS_TIMEOUT_SECONDS, iocs)

    def work() -> None:
        try:
            analysis.inspect(data, filename, 0, collector.add)
        except _Deadline:
            collector.add("analysis_timeout")
        except Exception:
            collector.add("analysis_error:inspect")

    _import_parsers()
    with _quiet_oletools():
        worker = threading.Thread(target=work, name="breachscope-attachment", daemon=True)
        worker.start()
        worker.join(ANALYSIS_TIMEOUT_SECONDS)
        if worker.is_alive():
            analysis.cancelled.set()
            collector.add("analysis_timeout")
            with _ABANDONED_LOCK:
                _ABANDONED.append(worker)
    return collector.close()


Sink = Callable[[str], None]


class _Analysis:
    """One attachment's content analysis: a deadline and the budgets its containers share."""

    def __init__(self, deadline: float, iocs: frozenset[str]) -> None:
        self.deadline = deadline
        self.iocs = iocs
        self.cancelled = threading.Event()
        self.members_left = MAX_ARCHIVE_MEMBERS
        self.bytes_left = MAX_ARCHIVE_BYTES

    def check(self) -> None:
        if self.cancelled.is_set() or time.monotonic() > self.deadline:
            raise _Deadline

    def stage(self, name: str, sink: Sink, function: Callable[..., None], *args: Any) -> None:
        """Run one stage; its failure is an indicator, never the end of the analysis."""
        self.check()
        try:
            function(*args)
        except _Deadline:
            raise
        except Exception:
            sink(f"analysis_error:{name}")

    def inspect(self, data: bytes, name: str, depth: int, sink: Sink) -> None:
        """Content checks on one object: the attachment, an archive member, an embedded file."""
        file_type = sniff_type(data, name)
        for indicator in _magic_indicators(file_type, name):
            sink(indicator)
        if file_type not in _CONTAINER_TYPES:
            if file_type == "csv":
                self.stage("msodde", sink, _csv_dde, data, sink)
            elif file_type in ("slk", "mhtml"):
                self.stage("olevba", sink, _macros, data, name, sink)
            return
        if depth > MAX_NESTING_DEPTH:
            sink("nesting_limit")
            return
        if file_type == "rtf":
            self.rtf(data, depth, sink)
        elif file_type in ("ole", "msi"):
            self.ole(data, name, depth, sink)
        elif file_type in _DOCUMENT_TYPES:
            self.ooxml(data, name, file_type, depth, sink)
        elif file_type == "office-xml":
            self.stage("olevba", sink, _macros, data, name, sink)
            self.stage("msodde", sink, _xml_dde, data, sink)
        elif file_type == "zip":
            self.stage("zip", sink, self.zip, data, depth, sink)
        elif file_type == "tar":
            self.stage("tar", sink, self.tar, data, depth, sink)
        elif file_type in _COMPRESSED:
            self.stage(file_type, sink, self.compressed, data, name, file_type, depth, sink)
        elif file_type == "pdf":
            self.stage("pdf", sink, self.pdf, data, depth, sink)

    def child(self, data: bytes | None, name: str, depth: int, sink: Sink, kind: str) -> None:
        """Analyse a member or embedded file, reporting into the parent with its path.

        ``kind`` says what an executable found there means: ``archive`` (suspicious, the user
        still has to extract and run it), ``package`` (an OLE Package: malicious) or
        ``embedded`` (a file embedded in a document: malicious). ``data`` None means only the
        name is known (encrypted member, over budget).
        """
        self.check()
        if self.members_left <= 0:
            sink("archive_limit")
            return
        self.members_left -= 1
        member = _clean(name) or "?"

        def nested(indicator: str) -> None:
            sink(_nest(indicator, member, kind))

        for indicator in _name_indicators(name):
            nested(indicator)
        if data is None:
            return
        if _ioc_match(data, self.iocs):
            nested("ioc_hash")
        self.inspect(data, name, depth, nested)

    # --- containers ---------------------------------------------------------------------------

    def zip(self, data: bytes, depth: int, sink: Sink) -> None:
        """Members of a zip, read in memory within the member and byte budgets."""
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                self.check()
                if info.is_dir():
                    continue
                if self.members_left <= 0:
                    sink("archive_limit")
                    return
                if info.flag_bits & 0x1:  # traditional PKWARE or AES encryption
                    sink("encrypted_archive")
                    self.child(None, info.filename, depth + 1, sink, "archive")
                    continue
                if info.file_size > self.bytes_left:
                    sink("archive_limit")
                    self.child(None, info.filename, depth + 1, sink, "archive")
                    continue
                try:
                    with archive.open(info) as handle:
                        content = handle.read(info.file_size)
                except Exception:
                    sink(f"analysis_error:{_clean(info.filename)}!read")
                    continue
                self.bytes_left -= len(content)
                self.child(content, info.filename, depth + 1, sink, "archive")

    def tar(self, data: bytes, depth: int, sink: Sink) -> None:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for info in archive:
                self.check()
                if not info.isfile():
                    continue
                if self.members_left <= 0:
                    sink("archive_limit")
                    return
                if info.size > self.bytes_left:
                    sink("archive_limit")
                    self.child(None, info.name, depth + 1, sink, "archive")
                    continue
                handle = archive.extractfile(info)
                content = handle.read(info.size) if handle else b""
                self.bytes_left -= len(content)
                self.child(content, info.name, depth + 1, sink, "archive")

    def compressed(self, data: bytes, name: str, kind: str, depth: int, sink: Sink) -> None:
        """A gzip/bzip2/xz stream holds one file; decompress it within the byte budget."""
        content = _bounded_decompress(kind, data, self.bytes_left)
        if content is None:
            sink("archive_limit")
            return
        self.bytes_left -= len(content)
        inner = re.sub(r"\.(gz|tgz|bz2|xz)$", "", _basename(name), flags=re.IGNORECASE)
        self.child(content, inner or "content", depth + 1, sink, "archive")

    # --- documents ----------------------------------------------------------------------------

    def rtf(self, data: bytes, depth: int, sink: Sink) -> None:
        self.stage("rtfobj", sink, self.rtf_objects, data, depth, sink)
        self.stage("rtf_cve", sink, _rtf_control_words, data, sink)
        self.stage("msodde", sink, _rtf_dde, data, sink)

    def rtf_objects(self, data: bytes, depth: int, sink: Sink) -> None:
        """OLE objects in RTF via rtfobj: class names, CLSIDs, OLE Package payloads."""
        from oletools import rtfobj

        parser = rtfobj.RtfObjParser(data)
        parser.parse()
        for obj in parser.objects:
            self.check()
            class_name = _decode(obj.class_name or b"").rstrip("\x00")
            sink("rtf_embedded_object" + (f":{_clean(class_name)}" if class_name else ""))
            for cve in _class_name_cves(class_name):
                sink(f"cve_hint:{cve}")
            if obj.clsid:
                for cve in EXPLOIT_CLSIDS.get(str(obj.clsid).upper(), ()):
                    sink(f"cve_hint:{cve}")
            if obj.is_package:
                self.package(obj.olepkgdata or b"", _decode(obj.filename or ""), depth, sink)
            elif obj.is_ole and obj.oledata and bytes(obj.oledata[:8]) == _OLE_MAGIC:
                self.child(bytes(obj.oledata), class_name or "object", depth + 1, sink, "embedded")

    def package(self, payload: bytes, name: str, depth: int, sink: Sink) -> None:
        """An OLE Package: note the file, and analyse it as a possibly executable payload."""
        sink(f"embedded_file:{_clean(name) or '?'}")
        self.child(payload, name or "package", depth + 1, sink, "package")

    def ole(self, data: bytes, name: str, depth: int, sink: Sink) -> None:
        self.stage("olefile", sink, self.ole_structure, data, depth, sink)
        self.stage("oleobj", sink, self.embedded_objects, data, name, None, depth, sink)
        self.stage("olevba", sink, _macros, data, name, sink)
        self.stage("msodde", sink, _ole_dde, data, sink)

    def ole_structure(self, data: bytes, depth: int, sink: Sink) -> None:
        """Encryption (as oleid checks it), installer and exploit CLSIDs of a compound file."""
        import olefile
        from oletools import crypto

        with olefile.OleFileIO(data) as ole:
            _clsid_cves(ole, sink)
            if str(ole.root.clsid).upper() in INSTALLER_CLSIDS:
                sink("executable")
            encrypted = crypto.is_encrypted(ole)
        if encrypted:
            decrypted = _transparent_decrypt(data)
            if decrypted is None:
                sink("encrypted_document")
            else:
                sink("transparent_encryption")
                self.check()
                self.inspect(decrypted, "decrypted", depth + 1, sink)

    def embedded_objects(
        self, data: bytes, name: str, xml_parser: Any, depth: int, sink: Sink
    ) -> None:
        """OLE Package streams (``\\x01Ole10Native``) in the file or its OLE embeddings."""
        from oletools import oleobj

        for ole in oleobj.find_ole(name or "attachment", data, xml_parser):
            self.check()
            if ole is None:
                continue
            _clsid_cves(ole, sink)
            for path in ole.listdir():
                if path[-1].lower() != "\x01ole10native":
                    continue
                size = ole.get_size(path)
                if size > self.bytes_left:
                    sink("archive_limit")
                    continue
                self.bytes_left -= size
                stream = ole.openstream(path).read()
                native = oleobj.OleNativeStream(stream)
                if native.is_link or native.data is None:
                    continue
                filename = _decode(native.filename or native.src_path or "")
                self.package(bytes(native.data), filename, depth, sink)

    def ooxml(self, data: bytes, name: str, file_type: str, depth: int, sink: Sink) -> None:
        """Zip-based documents: relationships, embeddings, macros (VBA, Excel 4, ODF), DDE."""
        declared = _zip_parsed_bytes(data)
        if declared > self.bytes_left:
            sink("archive_limit")
            return
        self.bytes_left -= declared
        self.stage("oleobj", sink, self.ooxml_objects, data, name, depth, sink)
        self.stage("olevba", sink, _macros, data, name, sink)
        self.stage("xlm", sink, _ooxml_macro_parts, data, sink)
        if file_type in ("ooxml-docx", "ooxml-xlsx", "ooxml-macro"):
            self.stage("msodde", sink, _ooxml_dde, data, sink)

    def ooxml_objects(self, data: bytes, name: str, depth: int, sink: Sink) -> None:
        from oletools import ooxml

        parser = ooxml.XmlParser(io.BytesIO(data))
        _external_links(parser, sink)
        self.embedded_objects(data, name, parser, depth, sink)

    def pdf(self, data: bytes, depth: int, sink: Sink) -> None:
        """PDF keywords (as pdfid counts them, ``#xx`` escapes decoded) and attached files."""
        names = {_PDF_HEX.sub(lambda m: bytes([int(m[1], 16)]), n) for n in _PDF_NAME.findall(data)}
        if names & {b"/JavaScript", b"/JS"}:
            sink("pdf_javascript")
        if b"/Launch" in names:
            sink("pdf_launch")
        if b"/EmbeddedFile" not in names and b"/EmbeddedFiles" not in names:
            return
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data), strict=False)
        for attached, contents in reader.attachments.items():
            for content in contents:
                self.check()
                sink(f"embedded_file:{_clean(attached) or '?'}")
                self.child(content, attached, depth + 1, sink, "embedded")


def _nest(indicator: str, member: str, kind: str) -> str:
    """Rewrite a member's indicator for its container (see ``_Analysis.child``).

    >>> _nest("script:js", "a.js", "archive"), _nest("autoexec_macro:AutoOpen", "b.docm", "archive")
    ('archive_executable:a.js', 'autoexec_macro:b.docm!AutoOpen')
    """
    code, _, detail = indicator.partition(":")
    if code in ("executable", "script"):
        code = {"archive": "archive_executable", "package": "ole_package"}.get(
            kind, "embedded_executable"
        )
        return f"{code}:{member}"
    if code == "cve_hint":
        return indicator
    return f"{code}:{member}!{detail}" if detail else f"{code}:{member}"


# --- stages (pure functions over bytes) ----------------------------------------------------


def _decode(value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    return value.decode("latin-1")


def _class_name_cves(class_name: str) -> tuple[str, ...]:
    lowered = class_name.lower()
    for prefix, cves in EXPLOIT_CLASS_NAMES:
        if lowered.startswith(prefix):
            return cves
    return ()


def _clsid_cves(ole: Any, sink: Sink) -> None:
    for entry in ole.direntries:
        if entry is not None and entry.clsid:
            for cve in EXPLOIT_CLSIDS.get(str(entry.clsid).upper(), ()):
                sink(f"cve_hint:{cve}")


def _rtf_control_words(data: bytes, sink: Sink) -> None:
    """Bounded regexes for RTF exploits that leave no OLE object (see module docstring)."""
    if _PFRAGMENTS.search(data):
        sink("cve_hint:CVE-2010-3333")
    for match in _LISTOVERRIDECOUNT.finditer(data):
        if int(match[1]) not in (0, 1, 9):
            sink("cve_hint:CVE-2014-1761")
            break


def _rtf_dde(data: bytes, sink: Sink) -> None:
    from oletools import msodde

    parser = msodde.RtfFieldParser(data)
    parser.parse()
    for field in parser.fields:
        text = _decode(field)
        if msodde.FIELD_DDE_REGEX.match(text):
            sink(f"dde:{_clean(text.strip())}")


def _ole_dde(data: bytes, sink: Sink) -> None:
    """DDE in Excel 97 (SUPBOOK records) or Word 97 (field codes); PowerPoint has none."""
    import olefile
    from oletools import msodde, xls_parser

    if xls_parser.is_xls(data):
        links = msodde.process_xls(data)
    else:
        with olefile.OleFileIO(data) as ole:
            if not ole.exists("WordDocument"):
                return
            links = msodde.process_doc(ole)
    for link in str(links).splitlines():
        if link.strip():
            sink(f"dde:{_clean(link.strip())}")


def _ooxml_dde(data: bytes, sink: Sink) -> None:
    from oletools import msodde, ooxml

    doctype = ooxml.get_type(io.BytesIO(data))
    if doctype == ooxml.DOCTYPE_EXCEL:
        links = msodde.process_xlsx(io.BytesIO(data))
    elif doctype == ooxml.DOCTYPE_WORD:
        links = msodde.process_docx(io.BytesIO(data), msodde.FIELD_FILTER_DDE)
    else:
        return
    for link in str(links).splitlines():
        if link.strip():
            sink(f"dde:{_clean(link.strip())}")


def _xml_dde(data: bytes, sink: Sink) -> None:
    """DDE in single-file Office XML (Word 2003, Flat OPC, Excel 2003).

    msodde's readers open these by file name only, so its logic is repeated here over bytes:
    Word field codes (``fldSimple``/``instrText`` between ``fldChar`` begin and end) matched
    with ``FIELD_DDE_REGEX``, Excel cell formulas with ``XML_DDE_FORMAT``.
    """
    from defusedxml.ElementTree import iterparse
    from oletools import msodde

    fields: list[str] = []
    stack: list[str] = []
    for _, element in iterparse(io.BytesIO(data), events=("end",)):
        local = element.tag.rpartition("}")[2]
        attributes = {k.rpartition("}")[2]: v for k, v in element.attrib.items()}
        if local == "fldSimple" and attributes.get("instr"):
            fields.append(attributes["instr"])
        elif local == "fldChar":
            kind = attributes.get("fldCharType")
            if kind == "begin":
                stack.append("")
            elif kind == "end" and stack:
                fields.append(stack.pop())
        elif local == "instrText" and stack and element.text:
            stack[-1] += element.text
        elif local == "Cell" and "Formula" in attributes:
            match = msodde.XML_DDE_FORMAT.match(attributes["Formula"])
            if match:
                sink(f"dde:{_clean(' '.join(match.groups()[:2]))}")
        element.clear()
    for field in fields:
        text = msodde.unquote(field)
        if msodde.FIELD_DDE_REGEX.match(text):
            sink(f"dde:{_clean(text.strip())}")


def _csv_dde(data: bytes, sink: Sink) -> None:
    """DDE formulas in CSV, as msodde's ``process_csv`` finds them, over a string buffer."""
    from oletools import msodde

    text = data.decode("utf-8", errors="replace")
    handle = io.StringIO(text, newline="")
    results: list[str] = []
    try:
        results, dialect = msodde.process_csv_dialect(handle, msodde.CSV_DELIMITERS)
        delimiters = msodde.CSV_DELIMITERS.replace(dialect.delimiter, "")
    except csv.Error:
        delimiters = msodde.CSV_DELIMITERS
    if not results and len(text) < msodde.CSV_SMALL_THRESH:
        for delimiter in delimiters:
            try:
                handle.seek(0)
                results, _ = msodde.process_csv_dialect(handle, delimiter)
            except csv.Error:
                continue
            if results:
                break
        if not results:
            match = msodde.CSV_DDE_FORMAT.match(text[: msodde.CSV_SMALL_THRESH])
            if match:
                results = [" ".join(match.groups()[:2])]
    for link in results:
        sink(f"dde:{_clean(link)}")


def _macros(data: bytes, name: str, sink: Sink) -> None:
    """VBA and Excel 4 macros via olevba; MacroRaptor judges the code (VBA and XLM text)."""
    from oletools import mraptor, olevba

    try:
        parser = olevba.VBA_Parser(name or "attachment", data=data, disable_pcode=True)
    except olevba.FileOpenError:
        return  # not a format olevba reads (e.g. an RTF): nothing to say about macros
    try:
        vba = bool(parser.detect_vba_macros())
        xlm = bool(parser.detect_xlm_macros())
        if parser.type == olevba.TYPE_TEXT or not (vba or xlm):
            return  # olevba reads any text as VBA source; only containers count here
        sink("macros")
        if xlm:
            sink("excel4_macros")
        for kind, keyword, _ in parser.analyze_macros() or []:
            if kind == "AutoExec":
                sink(f"autoexec_macro:{_clean(str(keyword))}")
        code = str(parser.get_vba_code_all_modules()) if vba else ""
        code += "\n" + "\n".join(str(line) for line in parser.xlm_macros or [])
        raptor = mraptor.MacroRaptor(code)
        raptor.scan()
        if raptor.suspicious:
            sink(f"suspicious_macro_calls:{raptor.get_flags()}")
    finally:
        parser.close()


def _ooxml_macro_parts(data: bytes, sink: Sink) -> None:
    """Excel 4 macro sheets and ODF Basic/Scripts in zip-based documents.

    olevba does not extract XLM from xlsm/xlsb (its own test says so), so the macro-sheet
    parts and an ``Auto_Open``-style defined name in the workbook are looked for directly.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()[:MAX_ARCHIVE_MEMBERS]
        if any(_ODF_MACRO.match(n) for n in names):
            sink("macros")
        if not any(n.lower().startswith("xl/macrosheets/") for n in names):
            return
        sink("macros")
        sink("excel4_macros")
        for part in ("xl/workbook.xml", "xl/workbook.bin"):
            if part in names and not archive.getinfo(part).flag_bits & 1:
                with archive.open(part) as handle:
                    workbook = handle.read(16 * 1024 * 1024)
                match = _AUTO_OPEN.search(workbook) or _AUTO_OPEN_UTF16.search(workbook)
                if match:
                    keyword = match.group().replace(b"\x00", b"").decode("ascii", "replace")
                    sink(f"autoexec_macro:{keyword}")


def _external_links(parser: Any, sink: Sink) -> None:
    """External relationships as oleobj finds them, minus plain hyperlinks."""
    from oletools import oleobj

    for relationship, target in oleobj.find_external_relationships(parser):
        if relationship == "hyperlink":
            continue
        target = str(target)
        sink(f"external_link:{_clean(target)}")
        if target.lower().startswith("mhtml:"):
            sink("cve_hint:CVE-2021-40444")
        if relationship == "oleObject" and target.rstrip().endswith("!"):
            sink("cve_hint:CVE-2022-30190")
    for onload in oleobj.find_customUI(parser):
        if "://" in str(onload):
            sink(f"external_link:{_clean(str(onload))}")


def _zip_parsed_bytes(data: bytes) -> int:
    """Declared uncompressed bytes of the parts oletools will read (media is only sniffed).

    The declared sizes can be trusted as a bound: zipfile stops each member at its size.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(i.file_size for i in archive.infolist() if _extension(i.filename) not in _MEDIA)


def _bounded_decompress(kind: str, data: bytes, limit: int) -> bytes | None:
    """Decompress (first gzip member, bzip2 or xz stream) at most ``limit`` bytes.

    None when the content is larger: a compression bomb costs ``limit`` bytes, no more.
    """
    if kind == "gzip":
        out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, limit + 1)
    elif kind == "bzip2":
        out = bz2.BZ2Decompressor().decompress(data, max_length=limit + 1)
    else:
        out = lzma.LZMADecompressor().decompress(data, max_length=limit + 1)
    return None if len(out) > limit else out


def _transparent_decrypt(data: bytes) -> bytes | None:
    """Decrypt in memory with a password Office applies silently; None if none works."""
    try:
        import msoffcrypto
    except ImportError:
        return None
    for password in TRANSPARENT_PASSWORDS:
        try:
            office = msoffcrypto.OfficeFile(io.BytesIO(data))
            office.load_key(password=password)
            out = io.BytesIO()
            office.decrypt(out)
        except Exception:
            continue
        return out.getvalue()
    return None
