"""Make the binary evidence of the example case, and set the host folder's file times.

Run it from anywhere with the project's Python (it needs ``pylnk3``, in the dev venv):

    .venv/bin/python examples/ws-0423/make_evidence.py

It writes, under ``evidence/``:

- the ``programme.rtf`` attachment of the phishing message, spliced (base64) into
  ``mail/t.yamada.mbox``: an RTF with an OLE 1.0 ``Package`` object that carries
  ``svchost32.exe`` (an inert 128-byte stub that starts with ``MZ``; layout from [MS-OLEDS]
  2.2 and oletools' ``oleobj.OleNativeStream``);
- in the collected host folder ``hosts/WS-0423/C/Users/tyamada/``: ``Documents/
  docking-review.docx`` (OOXML with the marking CLASSIFIED), two ``Recent`` shortcuts
  ([MS-SHLLINK], written with pylnk3) and Chrome's ``History`` (SQLite, Chromium's tables);

and then sets the modification (and access) time of every file in the host folder to the
times in `FILE_TIMES`, as a collection that preserves times would have kept them. Git does not
keep file times: run this script after a checkout so the host folder has its intended times
(the shortcuts' times are evidence: a Recent shortcut's mtime is when its target was opened).
``make_evidence.py --times-only [CASE_DIR]`` sets only the times (of a copy, too).

Everything is deterministic: fixed times, fixed zip entry times, fixed ids. The SQLite file can
differ in its header's library-version field when another SQLite version writes it.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import os
import re
import sqlite3
import struct
import sys
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pylnk3

CASE = Path(__file__).resolve().parent
MBOX = CASE / "evidence" / "mail" / "t.yamada.mbox"
PROFILE = CASE / "evidence" / "hosts" / "WS-0423" / "C" / "Users" / "tyamada"
RECENT = PROFILE / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Recent"
HISTORY = PROFILE / "AppData" / "Local" / "Google" / "Chrome" / "User Data" / "Default" / "History"
DOCX = PROFILE / "Documents" / "docking-review.docx"
JST = ZoneInfo("Asia/Tokyo")

# Paths as WS-0423 saw them.
OUTLOOK_TEMP = (
    r"C:\Users\tyamada\AppData\Local\Microsoft\Windows\Temporary Internet Files"
    r"\Content.Outlook\K3J9QX2M"
)
RTF_ON_HOST = OUTLOOK_TEMP + r"\programme.rtf"
DOCX_ON_HOST = r"C:\Users\tyamada\Documents\docking-review.docx"


def jst(text: str) -> dt.datetime:
    """A wall-clock time in Tokyo (the case zone) as an aware datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=JST)


# Host folder file -> its modification time (Tokyo). Access time is set to the same.
FILE_TIMES: dict[Path, dt.datetime] = {
    PROFILE / "Contacts" / "address-book.vcf": jst("2011-06-20 10:00:00"),
    PROFILE / "Documents" / "lunch-menu.txt": jst("2011-07-01 12:05:00"),
    DOCX: jst("2011-07-05 18:20:00"),
    RECENT / "programme.lnk": jst("2011-07-06 10:12:03"),  # Word opened the attachment
    RECENT / "docking-review.lnk": jst("2011-07-07 09:40:00"),  # the user opened the docx
    HISTORY: jst("2011-07-08 09:15:00"),  # Chrome's last write (its last visit)
}


# --- the attachment ---------------------------------------------------------------------------


def payload() -> bytes:
    """``svchost32.exe``: a DOS header start and a note, nothing that runs."""
    head = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48)
    note = b"breachscope example payload: inert bytes, not a program.\r\n$"
    return (head + note).ljust(128, b"\x00")


def _cstring(text: str) -> bytes:
    return text.encode("ascii") + b"\x00"


def ole_package(label: str, source_path: str, temp_path: str, data: bytes) -> bytes:
    """The native data of an OLE Package (packager.exe): what oleobj.OleNativeStream reads."""
    return (
        struct.pack("<H", 2)
        + _cstring(label)
        + _cstring(source_path)
        + struct.pack("<II", 0x00030000, len(temp_path) + 1)
        + _cstring(temp_path)
        + struct.pack("<I", len(data))
        + data
    )


def ole1_embedded(class_name: str, native: bytes) -> bytes:
    """[MS-OLEDS] 2.2: ObjectHeader (version 0x0501, embedded), class, empty topic and item,
    native data; then a presentation header saying there is no presentation."""
    name = _cstring(class_name)
    return (
        struct.pack("<III", 0x0501, 2, len(name))
        + name
        + struct.pack("<III", 0, 0, len(native))
        + native
        + struct.pack("<II", 0x0501, 0)
    )


def programme_rtf() -> bytes:
    native = ole_package(
        "svchost32.exe",
        r"C:\Users\user\Desktop\svchost32.exe",
        r"C:\Users\user\AppData\Local\Temp\svchost32.exe",
        payload(),
    )
    hexdata = ole1_embedded("Package", native).hex()
    lines = [
        r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss\fcharset0 Arial;}}",
        r"{\info{\title Space Systems Symposium 2011 - Programme}{\author Conference Office}}",
        r"\viewkind4\uc1\pard\sa200\f0\fs28\b Space Systems Symposium 2011\b0\par",
        r"\fs22 Programme, 20-22 July 2011, Tsukuba\par",
        r"Day 1: opening session; propulsion; ground segment.\par",
        r"Day 2: small satellites; orbital debris; poster session.\par",
        r"Day 3: panel on international cooperation; closing.\par",
        r"Double-click the icon below for the detailed timetable.\par",
        r"{\object\objemb\objw1440\objh1440{\*\objclass Package}{\*\objdata",
        *(hexdata[i : i + 64] for i in range(0, len(hexdata), 64)),
        r"}}\par",
        "}",
    ]
    return ("\n".join(lines) + "\n").encode("ascii")


def splice_attachment(mbox: Path, filename: str, content: bytes) -> None:
    """Replace the base64 body of the part named ``filename`` in ``mbox`` with ``content``."""
    text = mbox.read_text("utf-8")
    encoded = base64.encodebytes(content).decode("ascii")
    pattern = re.compile(
        r'(filename="' + re.escape(filename) + r'"\nContent-Transfer-Encoding: base64\n\n)'
        r"[A-Za-z0-9+/=\n]*?(?=\n--)"
    )
    new, count = pattern.subn(lambda m: m.group(1) + encoded.rstrip("\n"), text)
    if count != 1:
        raise SystemExit(f"{mbox}: expected one {filename} part, found {count}")
    mbox.write_text(new, "utf-8", newline="\n")


# --- the host folder --------------------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DOCX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
        'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        "</Relationships>"
    ),
    "word/document.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:document xmlns:w="{_W}"><w:body>'
        "<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>CLASSIFIED</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>Docking review notes, 5 July 2011</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>Berthing rehearsal results and open items for the July review."
        "</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>Internal distribution only. Do not forward.</w:t></w:r></w:p>"
        "<w:sectPr/></w:body></w:document>"
    ),
    "docProps/core.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:title>Docking review notes</dc:title><dc:creator>Hiroshi Suzuki</dc:creator>"
        "<cp:lastModifiedBy>Taro Yamada</cp:lastModifiedBy>"
        '<dcterms:created xsi:type="dcterms:W3CDTF">2011-07-05T02:10:00Z</dcterms:created>'
        '<dcterms:modified xsi:type="dcterms:W3CDTF">2011-07-05T09:20:00Z</dcterms:modified>'
        "</cp:coreProperties>"
    ),
}


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in DOCX_PARTS.items():
            info = zipfile.ZipInfo(name, date_time=(2011, 7, 5, 18, 20, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def shortcut(target: str, relative: str, size: int, target_time: dt.datetime) -> bytes:
    """A Recent shortcut: LinkInfo with the local path, the relative path, the target's times
    in the header (the shortcut's own mtime, set by `FILE_TIMES`, is the opening time)."""
    link = pylnk3.create()
    link.link_flags.IsUnicode = True
    link.link_flags.HasLinkInfo = True
    link.link_flags.HasRelativePath = True
    link.file_flags.archive = True
    stamp = target_time.timestamp()  # a number: pylnk3 reads datetimes in the local zone
    link.creation_time = link.access_time = link.modification_time = stamp
    link.file_size = size
    info = pylnk3.LinkInfo()
    info.local = 1
    info.drive_type = pylnk3.DRIVE_FIXED
    info.drive_serial = 0x5A3C0F21
    info.volume_label = ""
    info.local_base_path = target
    link._link_info = info
    link.relative_path = relative
    buffer = io.BytesIO()
    link.write(buffer)
    return buffer.getvalue()


def webkit(text: str) -> int:
    """Chrome's time: microseconds since 1601-01-01 UTC, from a Tokyo wall-clock time."""
    delta = jst(text) - dt.datetime(1601, 1, 1, tzinfo=dt.UTC)
    return delta // dt.timedelta(microseconds=1)


# Chrome transition values (ui/base/page_transition_types.h): core type | qualifiers.
LINK, TYPED, AUTO_SUBFRAME, GENERATED = 0, 1, 3, 5
CHAIN_START, CHAIN_END, SERVER_REDIRECT = 0x10000000, 0x20000000, 0x80000000
WHOLE_CHAIN = CHAIN_START | CHAIN_END

SEARCH_URL = "https://www.google.co.jp/search?q=HTV+operations+spec&ie=UTF-8"
URLS = [  # id, url, title
    (1, "http://wiki.example-space.jp/", "Example Space Wiki"),
    (2, "https://portal.partner.example/", "Partner Portal - Sign in"),
    (3, SEARCH_URL, "HTV operations spec - Google Search"),
    (4, "http://wiki.example-space.jp/go/htv-operations", ""),
    (5, "http://wiki.example-space.jp/display/HTV/Operations+Specification",
     "HTV Operations Specification - Example Space Wiki"),
    (6, "http://wiki.example-space.jp/plugins/attachments/HTV-operations-spec-appendix.html",
     "Attachments"),
    (7, "http://www.spacenews.example/2011/07/htv2-launch.html",
     "HTV2 launch date set - Space News"),
]  # fmt: skip
VISITS = [  # id, url id, time (Tokyo), from_visit, transition
    (1, 1, "2011-07-05 17:10:00", 0, TYPED | WHOLE_CHAIN),
    (2, 2, "2011-07-06 15:19:48", 0, TYPED | WHOLE_CHAIN),
    (3, 3, "2011-07-07 10:02:15", 0, GENERATED | WHOLE_CHAIN),
    (4, 4, "2011-07-07 10:05:02", 0, TYPED | CHAIN_START),  # redirect hop: never shown
    (5, 5, "2011-07-07 10:05:02.250000", 4, TYPED | CHAIN_END | SERVER_REDIRECT),
    (6, 6, "2011-07-07 10:05:03.100000", 5, AUTO_SUBFRAME | WHOLE_CHAIN),  # a frame in page 5
    (7, 7, "2011-07-07 11:30:00", 0, LINK | WHOLE_CHAIN),
    (8, 1, "2011-07-08 09:15:00", 0, TYPED | WHOLE_CHAIN),
]  # fmt: skip
HISTORY_SCHEMA = """
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE urls(id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR,
  visit_count INTEGER DEFAULT 0 NOT NULL, typed_count INTEGER DEFAULT 0 NOT NULL,
  last_visit_time INTEGER NOT NULL, hidden INTEGER DEFAULT 0 NOT NULL,
  favicon_id INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE visits(id INTEGER PRIMARY KEY, url INTEGER NOT NULL, visit_time INTEGER NOT NULL,
  from_visit INTEGER, transition INTEGER DEFAULT 0 NOT NULL, segment_id INTEGER,
  is_indexed BOOLEAN);
CREATE TABLE keyword_search_terms(keyword_id INTEGER NOT NULL, url_id INTEGER NOT NULL,
  lower_term LONGVARCHAR NOT NULL, term LONGVARCHAR NOT NULL);
CREATE INDEX visits_url_index ON visits (url);
CREATE INDEX visits_time_index ON visits (visit_time);
CREATE INDEX keyword_search_terms_index2 ON keyword_search_terms (url_id);
"""


def chrome_history(path: Path) -> None:
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript("PRAGMA page_size=1024; PRAGMA journal_mode=DELETE;")
        connection.executescript(HISTORY_SCHEMA)
        connection.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("version", "20"), ("last_compatible_version", "16")],
        )
        for url_id, url, title in URLS:
            visits = [v for v in VISITS if v[1] == url_id]
            typed = sum(1 for v in visits if v[4] & 0xFF == TYPED)
            last = max(webkit(v[2]) for v in visits)
            connection.execute(
                "INSERT INTO urls VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (url_id, url, title, len(visits), typed, last, int(url_id in (4, 6))),
            )
        connection.executemany(
            "INSERT INTO visits VALUES (?, ?, ?, ?, ?, 0, 1)",
            [(v, u, webkit(t), f, tr) for v, u, t, f, tr in VISITS],
        )
        connection.execute(
            "INSERT INTO keyword_search_terms VALUES (2, 3, 'htv operations spec', "
            "'HTV operations spec')"
        )
        connection.commit()
        connection.execute("VACUUM")
    finally:
        connection.close()


def main() -> None:
    splice_attachment(MBOX, "programme.rtf", programme_rtf())
    DOCX.parent.mkdir(parents=True, exist_ok=True)
    document = docx()
    DOCX.write_bytes(document)
    RECENT.mkdir(parents=True, exist_ok=True)
    (RECENT / "programme.lnk").write_bytes(
        shortcut(
            RTF_ON_HOST,
            r"..\..\..\..\Local\Microsoft\Windows\Temporary Internet Files"
            r"\Content.Outlook\K3J9QX2M\programme.rtf",
            len(programme_rtf()),
            jst("2011-07-06 10:11:58"),  # Outlook saved the attachment to open it
        )
    )
    (RECENT / "docking-review.lnk").write_bytes(
        shortcut(
            DOCX_ON_HOST,
            r"..\..\..\..\..\Documents\docking-review.docx",
            len(document),
            FILE_TIMES[DOCX],
        )
    )
    HISTORY.parent.mkdir(parents=True, exist_ok=True)
    chrome_history(HISTORY)
    set_file_times(CASE)


def set_file_times(case_dir: Path) -> None:
    """Give the host folder of the case at ``case_dir`` (this one or a copy) its file times."""
    for path, moment in FILE_TIMES.items():
        stamp = moment.timestamp()
        os.utime(case_dir / path.relative_to(CASE), (stamp, stamp))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--times-only"]:  # after a checkout or copy: times, not bytes
        set_file_times(Path(sys.argv[2]) if len(sys.argv) > 2 else CASE)
    else:
        main()
