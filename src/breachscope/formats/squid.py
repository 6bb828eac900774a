"""Squid native ``access.log``: one proxied request a line. Emits `network` rows.

Reference: https://wiki.squid-cache.org/Features/LogFormat (the ``squid`` format,
``%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt``), and Squid's own writer
``Log::Format::SquidNative`` (src/log/FormatSquidNative.cc). The ten fields are::

    time.millis elapsed_ms client action/code size method URL ident hierarchy/from type

Why the reading is done the way it is:

- The epoch is the *end* of the request and is UTC by definition, so no zone applies; the
  item's ``clock_offset`` does (rules.md, Times). ``elapsed`` is the request's duration, so a
  record covers ``[time - elapsed, time]`` (rules.md, Exposure -> Exfiltration), which is
  ``start_time``.
- ``size`` is the reply size sent to the client: it is ``bytes_in``. Squid logs no upload
  size, so ``bytes_out`` stays null (the exfiltration analysis reports ``bytes_basis:
  unknown``).
- The URL is split off by anchoring the six leading and three trailing fields, not by
  splitting on spaces: with ``uri_whitespace allow`` a URL holds spaces, and an attacker picks
  the URL. It is kept byte for byte (output layers escape it); only the host and port are
  read from it, and a URL Python cannot parse still gives a row, without ``dst_host``.
- ``CONNECT`` requests log ``host:port`` as the URL; that is the destination.
- The ``hierarchy/from`` field names the server Squid forwarded to. It is the destination
  only when Squid went direct (``DIRECT``, ``ORIGINAL_DST``, ``PINNED`` ... with or without
  ``HIER_``/``TIMEOUT_``); for a parent or sibling it is that cache, so ``dst_ip`` stays null.
  A name instead of an address (``log_ip_on_direct off``) is not an IP either.
- The user name is URL-encoded by Squid (``QuoteUrlEncodeUsername``), so it is decoded;
  ``-`` means none.
- With ``log_mime_hdrs on`` Squid appends ``[request headers] [reply headers]``, URL-escaped;
  the line is still read and ``User-Agent`` taken from the request headers.
- Lines are read as bytes split on ``\\n`` only (a stray ``\\r`` inside a URL must not split a
  record) and decoded as UTF-8 with replacement; a line longer than `MAX_LINE_BYTES` is
  skipped as an error without being held in memory.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from breachscope.formats.base import EvidenceItem, Problem, Row, Yielded, numbered_lines, register

MAX_LINE_BYTES = 1 << 20
SNIFF_LINES = 5
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443, "ftp": 21, "wss": 443, "ws": 80}
# Hierarchy codes under which Squid talked to the origin server itself.
DIRECT_CODES = frozenset(
    {"DIRECT", "CLOSEST_DIRECT", "NO_CACHE_DIGEST_DIRECT", "ORIGINAL_DST", "PINNED"}
)
HIERARCHY_PREFIXES = ("TIMEOUT_", "HIER_")

_SEP = r"[ \t]+"
LINE_RE = re.compile(
    r"^[ \t]*(?P<seconds>\d{1,12})\.(?P<millis>\d{3})"
    + _SEP
    + r"(?P<elapsed>-?\d{1,12})"
    + _SEP
    + r"(?P<client>[^ \t]+)"
    + _SEP
    + r"(?P<action>[A-Za-z_]+)/(?P<code>\d{1,3})"
    + _SEP
    + r"(?P<size>\d{1,18})"
    + _SEP
    + r"(?P<method>[^ \t]+)"
    + _SEP
    + r"(?P<url>.+?)"
    + _SEP
    + r"(?P<ident>[^ \t]+)"
    + _SEP
    + r"(?P<hierarchy>[A-Za-z_]+)/(?P<peer>[^ \t]*)"
    + _SEP
    + r"(?P<type>[^ \t]+)"
    + r"(?:"
    + _SEP
    + r"\[(?P<request_headers>[^\]]*)\]"
    + _SEP
    + r"\[(?P<reply_headers>[^\]]*)\])?"
    + r"[ \t]*$"
)
CONNECT_TARGET_RE = re.compile(r"^\[?(?P<host>[^\[\]/]+?)\]?:(?P<port>\d{1,5})$")
USER_AGENT_RE = re.compile(r"(?:^|\r?\n)user-agent:[ \t]*(?P<agent>[^\r\n]*)", re.IGNORECASE)


def _epoch(seconds: str, millis: str) -> dt.datetime:
    return EPOCH + dt.timedelta(seconds=int(seconds), milliseconds=int(millis))


def _destination(method: str, url: str) -> tuple[str | None, int | None]:
    """(host, port) the request went to, from the URL; (None, None) when it has none."""
    if method.upper() == "CONNECT":
        match = CONNECT_TARGET_RE.match(url)
        if match is None:
            return None, None
        number = int(match["port"])
        return match["host"].lower(), number if 0 < number < 65536 else None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None, None
    if not host:
        return None, None
    try:
        port = parts.port
    except ValueError:  # a port out of range or not a number: the host still stands
        return host, None
    return host, port if port is not None else DEFAULT_PORTS.get(parts.scheme.lower())


def _direct_peer_ip(hierarchy: str, peer: str) -> str | None:
    """The origin server's IP when Squid went direct and logged an address."""
    code = hierarchy.upper()
    for prefix in HIERARCHY_PREFIXES:
        code = code.removeprefix(prefix)
    if code not in DIRECT_CODES:
        return None
    try:
        return str(ipaddress.ip_address(peer.strip("[]")))
    except ValueError:
        return None


def _user_agent(request_headers: str | None) -> str | None:
    if not request_headers:
        return None
    match = USER_AGENT_RE.search(unquote(request_headers))
    if match is None:
        return None
    return match["agent"].strip() or None


@register
class SquidAccessLog:
    """Squid native access.log (10 fields, epoch first). Emits `network` rows.

    Reference: https://wiki.squid-cache.org/Features/LogFormat
    """

    name: ClassVar[str] = "squid"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("network",)
    sniff_priority: ClassVar[int] = 40

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """True when the first lines of ``head`` have the ten-field layout, epoch.millis first.

        The last line of a full ``head`` may be cut short, so it is only looked at when it is
        the only one. The first line must match and most of the first `SNIFF_LINES` too.
        """
        pieces = head.split(b"\n")
        if len(pieces) > 1:
            pieces = pieces[:-1]
        lines = [p.decode("utf-8", errors="replace").rstrip("\r") for p in pieces]
        lines = [line for line in lines if line.strip()][:SNIFF_LINES]
        if not lines or LINE_RE.match(lines[0]) is None:
            return False
        matching = sum(1 for line in lines if LINE_RE.match(line))
        return matching * 2 > len(lines)

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """One `network` row per request line; a line that does not parse is an error."""
        with item.open() as stream:
            for number, line in numbered_lines(stream, MAX_LINE_BYTES):
                record = f"line:{number}"
                if line is None:
                    yield Problem(record, f"line longer than {MAX_LINE_BYTES} bytes")
                    continue
                if not line.strip():
                    continue
                yield from self._parse(item, record, line)

    def _parse(self, item: EvidenceItem, record: str, line: str) -> Iterator[Yielded]:
        match = LINE_RE.match(line)
        if match is None:
            yield Problem(record, "not a Squid native access.log line (10 fields expected)")
            return
        try:
            time = item.utc(_epoch(match["seconds"], match["millis"]))
        except (OverflowError, ValueError):
            yield Problem(record, "time out of range")
            return
        elapsed = int(match["elapsed"])
        start_time: dt.datetime | None = None
        if elapsed >= 0:
            try:
                start_time = time - dt.timedelta(milliseconds=elapsed)
            except OverflowError:
                start_time = None
        if start_time is None:
            yield Problem(record, f"elapsed time {elapsed} ms is not usable", "warning")
        method = match["method"]
        url = match["url"]
        dst_host, dst_port = _destination(method, url)
        ident = match["ident"]
        values: dict[str, Any] = {
            "time": time,
            "start_time": start_time,
            "host": item.host,
            "src_ip": match["client"],
            "dst_ip": _direct_peer_ip(match["hierarchy"], match["peer"]),
            "dst_host": dst_host,
            "dst_port": dst_port,
            "url": url,
            "method": method,
            "status": match["code"],
            "action": match["action"],
            "bytes_out": None,
            "bytes_in": int(match["size"]),
            "user_agent": _user_agent(match["request_headers"]),
            "user": None if ident == "-" else unquote(ident),
            "system": item.system,
            "record": record,
        }
        yield Row("network", values)
