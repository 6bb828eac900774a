"""Windows shortcut (``.lnk``) files, read with LnkParse3. Emits `file_access` rows.

Reference: [MS-SHLLINK] Shell Link (.LNK) Binary File Format,
https://learn.microsoft.com/openspecs/windows_protocols/ms-shllink/ . A shortcut in a user's
``Recent`` (or Office ``Recent``) folder is created the first time the user opens a document and
rewritten each time it is opened again, so it is evidence of the opening (rules.md, Exposure ->
Displayed: "files opened (LNK ...)").

Why the reading is done the way it is:

- **The time is the shortcut file's own modification time**, taken from the file system
  (``os.stat`` of the evidence file), and is the last time the target was opened through it.
  The three FILETIMEs in the LNK *header* are the *target's* creation/access/write times copied
  when the shortcut was written: they say nothing about when the user opened the file, and
  ``file_access`` has no column for them, so they are not used. A collected folder keeps the
  shortcut's modification time only when it was collected with timestamps preserved (e.g.
  ``robocopy /COPY:DAT``, ``tar``, KAPE); a copy made without them carries the copy time. A
  file listing (bodyfile) of the host is the better source for the shortcut's times (its
  birth time is the first opening); this format cannot see one. The item's ``clock_offset``
  applies, as the time comes from the host's clock.
- **The path is the target's**, in this order of preference: the LinkInfo local path
  (LocalBasePath + CommonPathSuffix, the Unicode form when present), the LinkInfo network path
  (``\\\\server\\share`` + CommonPathSuffix), the environment-variable block (e.g.
  ``%windir%\\system32\\...``), the relative path. A local path is shown with `display_path`
  and keyed with `path_key` (rules.md, Identity -> Files). ``%USERPROFILE%`` is expanded to
  ``\\Users\\<user>`` when the shortcut's location names the user ("where evidence allows");
  other variables, UNC paths and relative paths are kept as written (``\\`` separators), since
  nothing in the evidence says what they expand to, and no drive letter is invented for them.
- **ANSI paths.** Windows writes the LinkInfo path in the system's ANSI code page unless it
  needs Unicode, and the LNK does not say which code page. Where the path is not plain ASCII,
  the code pages of `ANSI_CODE_PAGES` are tried in turn and the first whose decoding ends with
  the same file name as a Unicode string of the same file (the relative path or the
  environment-variable target, both Unicode) wins; when none can be confirmed, Windows-1252 is
  used and a warning says the non-ASCII characters may be wrong.
- **The user** is the ``<name>`` of a ``Users\\<name>\\`` (or ``Documents and Settings``)
  component of the shortcut's own location in the evidence, when there is one (see
  `user_from_location`); otherwise null.
- One row per shortcut, record ``file``. Any shortcut is read; in a collected host folder only
  ``Recent`` shortcuts are handed to this format (ingest's artefact paths), which is where a
  shortcut means "opened". A file that LnkParse3 cannot parse, or that yields no target path,
  is an error; LnkParse3's own warnings become warnings.
- Shortcuts used as malware droppers carry megabytes appended after the terminal block; only
  the first `MAX_LNK_BYTES` are parsed, which hold every structure read here.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, ClassVar

import LnkParse3

from breachscope.formats.base import EvidenceItem, Problem, Row, Yielded, register
from breachscope.identity import casefold, display_path, nfc, path_key

HEADER_SIZE = b"\x4c\x00\x00\x00"
LINK_CLSID = bytes.fromhex("0114020000000000C000000000000046")
MAX_LNK_BYTES = 1 << 20
# Tried in order for a non-ASCII ANSI LinkInfo path: Western, then the CJK code pages (the
# cases this tool is built for include Japanese hosts), then the other Windows code pages.
ANSI_CODE_PAGES = (
    "cp1252",
    "cp932",
    "cp936",
    "cp949",
    "cp950",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp1258",
    "cp874",
)
# Profile folders that are not a user's own.
NOT_USERS = frozenset({"public", "default", "default user", "all users", "shared"})
USER_COMPONENT_RE = re.compile(
    r"(?:^|[\\/])(?:users|documents and settings|home)[\\/](?P<user>[^\\/]+)[\\/]", re.IGNORECASE
)
DECODING_WARNING = "Error while decoding string"
USERPROFILE_RE = re.compile(r"^%userprofile%(?=\\|$)", re.IGNORECASE)


def user_from_location(location: str) -> str | None:
    """The user whose profile holds ``location`` (a path inside the evidence), if it says.

    Browser profiles and Recent shortcuts live under ``<drive>\\Users\\<name>\\`` (``Documents
    and Settings`` before Vista, ``/home/<name>/`` on Linux), so that component names the user
    who opened the file or visited the page. Shared profile folders (``Public``, ``Default``)
    name nobody.

    >>> user_from_location("hosts/WS-0423/C/Users/taro/AppData/Roaming/Microsoft/Recent/a.lnk")
    'taro'
    >>> user_from_location("C/Users/Public/Desktop/a.lnk") is None
    True
    >>> user_from_location("example.lnk") is None
    True
    """
    for match in USER_COMPONENT_RE.finditer(location):
        name = match["user"].strip()
        if name and casefold(name) not in NOT_USERS:
            return name
    return None


def _join(base: str, suffix: str | None) -> str:
    """LocalBasePath/NetName + CommonPathSuffix ([MS-SHLLINK] 2.3: the suffix is appended)."""
    if not suffix:
        return base
    if base.endswith("\\"):
        return base + suffix
    return base + "\\" + suffix


def _leaf(path: str | None) -> str | None:
    if not path:
        return None
    leaf = path.replace("/", "\\").rstrip("\\").rsplit("\\", 1)[-1]
    return casefold(nfc(leaf)) or None


def _unicode_leaves(link: Any) -> set[str]:
    """File names the shortcut stores in Unicode: what an ANSI path can be checked against."""
    leaves: set[str] = set()
    if "IsUnicode" in link.header.link_flags():
        leaf = _leaf(link.string_data.relative_path())
        if leaf:
            leaves.add(leaf)
    environment = _environment_target(link, unicode_only=True)
    leaf = _leaf(environment)
    if leaf:
        leaves.add(leaf)
    return leaves


def _environment_target(link: Any, unicode_only: bool = False) -> str | None:
    for block in link.extras:
        if block.name() == "ENVIRONMENTAL_VARIABLES_LOCATION_BLOCK":
            text = block.target_unicode()
            if not text and not unicode_only:
                text = block.target_ansi()
            return str(text) if text else None
    return None


def _local_path(link: Any) -> tuple[str | None, bool]:
    """(LocalBasePath + CommonPathSuffix, whether it is all in Unicode or ASCII)."""
    info = link.info
    unicode_base = info.local_base_path_unicode()
    if unicode_base:
        # LnkParse3 reads CommonPathSuffixUnicode 4 bytes past its offset, so the ANSI suffix
        # is used; in practice the suffix is empty when a local base path is present.
        return _join(str(unicode_base), info.common_path_suffix()), True
    base = info.local_base_path()
    if not base:
        return None, True
    path = _join(str(base), info.common_path_suffix())
    return path, path.isascii()


def _network_path(link: Any) -> str | None:
    info = link.info
    name = info.net_name_unicode() or info.net_name()
    if not name:
        return None
    return _join(str(name), info.common_path_suffix())


def _parse(data: bytes, code_page: str | None = None) -> Any:
    """The parsed shortcut. LnkParse3 reads most fields lazily, so callers catch its warnings
    around the accessors too (see `read_shortcut`)."""
    return LnkParse3.lnk_file(indata=data, cp=code_page, allow_terminal_blocks=False)


def _ansi_candidate(data: bytes, code_page: str) -> str | None:
    """The local path as ``code_page`` decodes it; None when LnkParse3 fails with it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _local_path(_parse(data, code_page))[0]
        except Exception:  # LnkParse3 raises assorted errors; this code page is out
            return None


def read_shortcut(data: bytes) -> tuple[str | None, list[str]]:
    """(the target's path, warnings) of a shortcut; see the module notes.

    LnkParse3 warns (rather than raises) on odd structures; those warnings are returned,
    except its string-decoding ones, which the code-page handling here supersedes.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        link = _parse(data)
        path, doubt = target_path(data, link)
    messages = [
        f"LnkParse3: {warning.message}"
        for warning in caught
        if not str(warning.message).startswith(DECODING_WARNING)
    ]
    if isinstance(link.size, int) and link.size > len(data):
        # LnkParse3 steps over each structure by its declared size; past the end of the data
        # means the file was cut short and the last string read may be cut too.
        messages.append(f"shortcut is truncated: its structures declare {link.size} bytes")
    return path, [*messages, *([doubt] if doubt else [])]


def target_path(data: bytes, link: Any) -> tuple[str | None, str | None]:
    """(the target's path, a warning or None) from a parsed shortcut; see the module notes."""
    if link.info is not None and link.info.location() == "Local":
        path, certain = _local_path(link)
        if path and certain:
            return path, None
        if path:
            leaves = _unicode_leaves(link)
            for code_page in ANSI_CODE_PAGES:
                candidate = _ansi_candidate(data, code_page)
                if candidate and _leaf(candidate) in leaves:
                    return candidate, None
            return path, (
                "target path is in an unknown ANSI code page (read as Windows-1252); "
                "non-ASCII characters may be wrong"
            )
    if link.info is not None and link.info.location() == "Network":
        path = _network_path(link)
        if path:
            return path, None
    environment = _environment_target(link)
    if environment:
        return environment, None
    relative = link.string_data.relative_path()
    if relative:
        return str(relative), None
    return None, None


def _shown(path: str, user: str | None, mount: str | None) -> tuple[str, str]:
    """(display form, path key) of a target path; see the module notes on what is expanded."""
    text = path.replace("/", "\\")
    if user and USERPROFILE_RE.match(text):
        text = USERPROFILE_RE.sub(lambda _: f"\\Users\\{user}", text, count=1)
    if text.startswith(("\\\\", "%", ".")):
        return text, casefold(nfc(text))
    return display_path(text, mount), path_key(text, mount)


@register
class WindowsShortcut:
    """Windows shortcut (.lnk) files: the opened target, at the shortcut's own mtime.

    Reference: [MS-SHLLINK]; parsed with LnkParse3. Emits `file_access` rows (how ``lnk``).
    """

    name: ClassVar[str] = "lnk"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("file_access",)
    sniff_priority: ClassVar[int] = 35

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """HeaderSize 0x4C and the LinkCLSID 00021401-0000-0000-C000-000000000046."""
        return head[:4] == HEADER_SIZE and head[4:20] == LINK_CLSID

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """One `file_access` row for the shortcut (record ``file``), or a problem."""
        record = "file"
        try:
            with item.open() as stream:
                data = stream.read(MAX_LNK_BYTES)
            modified = os.stat(item.path).st_mtime_ns
        except OSError as error:
            yield Problem(record, f"cannot read the shortcut: {error}")
            return
        if not self.sniff(data, PurePath(item.rel_path)):
            yield Problem(record, "not a Windows shortcut (no 0x4C header with the LinkCLSID)")
            return
        try:
            path, messages = read_shortcut(data)
        except Exception as error:  # LnkParse3 raises assorted errors on malformed input
            yield Problem(record, f"shortcut does not parse: {type(error).__name__}: {error}")
            return
        for message in messages:
            yield Problem(record, message, "warning")
        if not path:
            yield Problem(record, "shortcut names no target path")
            return
        try:
            epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
            time = item.utc(epoch + dt.timedelta(microseconds=modified // 1000))
        except (OverflowError, ValueError):
            yield Problem(record, "the shortcut's modification time is out of range")
            return
        user = user_from_location(item.rel_path)
        shown, key = _shown(path, user, item.mount)
        yield Row(
            "file_access",
            {
                "time": time,
                "host": item.host,
                "user": user,
                "path": shown,
                "path_key": key,
                "how": "lnk",
                "system": item.system,
                "record": record,
            },
        )
