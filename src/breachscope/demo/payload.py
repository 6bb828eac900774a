"""The malicious attachment: an RTF programme carrying an OLE Package with an executable.

Why this shape: the 2011 attacks on space agencies used RTF documents for MS Office 2007 SP2
(CVE-2010-3333); the file dropped an executable. breachscope's attachment verdict calls an
OLE Package carrying an executable ``malicious`` (rules.md, Entry), so the RTF holds an
``\\object\\objemb`` whose ``\\objdata`` is an OLE 1.0 embedded object of class ``Package``
(MS-OLEDS 2.2.4/2.2.5) whose native data is the Package layout oletools'
``oleobj.OleNativeStream`` reads: a 2-byte header, the file name, the source path, two
reserved words, the temp path and the data, each string NUL-terminated.

Nothing here runs: the "executable" is a 2-byte ``MZ`` header, the DOS stub text and padding,
not a program; and the ``pFragments`` shape property is only the name of the field the real
exploit overflowed, with a harmless three-number value, so a CVE hint can be found without
any exploit bytes.
"""

from __future__ import annotations

import binascii
import struct

from breachscope.demo.scenario import DROPPED_NAME, DROPPED_PATH

OLE_VERSION = 0x00000501
OLE_EMBEDDED = 2
PACKAGE_CLASS = b"Package\x00"
PACKAGE_HEADER = 2
PACKAGE_EMBEDDED_TYPE = 3
HEX_LINE = 128
ORIGINAL_SOURCE = f"C:\\Documents and Settings\\admin\\Desktop\\{DROPPED_NAME}"


def fake_executable() -> bytes:
    """A tiny inert file that only looks like a Windows executable (``MZ`` + DOS stub).

    >>> fake_executable()[:2]
    b'MZ'
    """
    header = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44
    header += struct.pack("<I", 0x80)  # e_lfanew: where a real PE header would start
    stub = b"This program cannot be run in DOS mode.\r\r\n$"
    body = header + stub
    body += b"\x00" * (0x80 - len(body))
    return body + b"PE\x00\x00" + b"breachscope demo: not a program\x00" * 4


def package_native_data(filename: str, source: str, temp: str, data: bytes) -> bytes:
    """OLE Package native data, as ``oleobj.OleNativeStream(package=True)`` parses it."""

    def text(value: str) -> bytes:
        return value.encode("cp1252") + b"\x00"

    return (
        struct.pack("<H", PACKAGE_HEADER)
        + text(filename)
        + text(source)
        + struct.pack("<HH", 0, PACKAGE_EMBEDDED_TYPE)
        + struct.pack("<I", len(text(temp)))
        + text(temp)
        + struct.pack("<I", len(data))
        + data
    )


def ole1_embedded(class_name: bytes, native: bytes) -> bytes:
    """An OLE 1.0 embedded object (ObjectHeader + EmbeddedObject), MS-OLEDS 2.2."""
    return (
        struct.pack("<II", OLE_VERSION, OLE_EMBEDDED)
        + struct.pack("<I", len(class_name))
        + class_name
        + struct.pack("<I", 0)  # topic name: empty
        + struct.pack("<I", 0)  # item name: empty
        + struct.pack("<I", len(native))
        + native
    )


def malicious_rtf(executable: bytes) -> bytes:
    """The conference programme with the embedded package."""
    native = package_native_data(DROPPED_NAME, ORIGINAL_SOURCE, DROPPED_PATH, executable)
    hexdata = binascii.hexlify(ole1_embedded(PACKAGE_CLASS, native)).decode("ascii")
    lines = "\n".join(hexdata[i : i + HEX_LINE] for i in range(0, len(hexdata), HEX_LINE))
    programme = [
        "International Symposium on Space Technology and Science (ISTS 2011)",
        "Revised programme, 11-17 July 2011",
        "Session A-1: Launch vehicles and propulsion",
        "Session B-2: Spacecraft systems and operations",
        "Session C-3: Space science and exploration",
        "Please confirm your session by 8 July.",
    ]
    paragraphs = "".join(f"{{\\pard\\sa120 {line}\\par}}\n" for line in programme)
    return (
        "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}}\n"
        "{\\info{\\title ISTS 2011 programme}{\\author Secretariat}}\n"
        + paragraphs
        + "{\\shp{\\*\\shpinst{\\sp{\\sn pFragments}{\\sv 1;1;0}}}}\n"
        "{\\object\\objemb{\\*\\objclass Package}\\objw1440\\objh720{\\*\\objdata\n"
        + lines
        + "\n}}\n}\n"
    ).encode("ascii")
