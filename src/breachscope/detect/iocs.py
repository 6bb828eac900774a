"""Indicators of compromise: what shape a value has, and whether an observation matches one.

Pure functions over strings (stdlib ``ipaddress`` and ``urllib.parse``, and ``idna``). The
indicator formats call `classify` at ingest so the ``iocs`` table holds one normalised value
per row with its ``kind``; exposure calls `matches` to compare an observed destination, URL,
address, hash or file name with an indicator. Rules: rules.md, Exposure -> IOC matching.

Why the shapes are decided the way they are:

- Feeds defang values so nobody clicks them: `refang` undoes ``[.]``, ``(.)``, ``{.}``,
  ``[dot]``, ``[:]``, ``[://]``, ``[@]``/``[at]`` and ``hxxp``/``hxxps``/``fxp`` schemes
  before anything else. A value with white space inside is not one value (``unknown``).
- Hashes go by length of an all-hex token: 32 ``md5``, 40 ``sha1``, 64 ``sha256``, 128
  ``sha512``; lower-cased.
- ``scheme://`` makes a ``url``; ``host/path`` without a scheme is a ``url`` too (feeds often
  drop the scheme), kept without one. The scheme and host are lower-cased (the host IDNA
  encoded), a default port (80/443/21) and the fragment (never sent to a server) are dropped,
  an empty path becomes ``/``; the path and query are kept as written.
- ``a/b`` that parses as a network is ``cidr`` (host bits are masked: ``10.1.2.3/8`` is
  ``10.0.0.0/8``). An IP (with or without ``:port`` or ``[...]``) is ``ipv4``/``ipv6`` in
  compressed form; the port is dropped because matching is on the address.
- ``local@domain`` is ``email`` (local part and domain lower-cased, domain IDNA encoded).
- A dotted name whose last label is a common file extension that is no top-level domain
  (`FILE_EXTENSIONS`: ``invoice.docm``, ``update.exe``) is a ``filename``, kept as written.
  Extensions that *are* top-level domains (``.zip``, ``.mov``) cannot be told apart by shape:
  such a value is a ``domain``, and a typed source (STIX ``file:name``, MISP ``filename``)
  says ``filename`` itself.
- Any other dotted name whose last label holds a letter is a ``domain``: IDNA (UTS 46)
  encoded and lower-cased, a trailing dot and a leading ``*.`` wildcard dropped (a domain
  indicator covers its sub-domains anyway). An all-ASCII name that IDNA 2008 refuses only for
  ``_`` or hyphen placement is kept lower-cased, as for e-mail domains (identity.py).
- Everything else is ``unknown``; the readers keep it with a warning, and it matches only an
  observation equal to it (case-insensitively).

How `matches` compares (the observation is evidence, never defanged, never trusted to parse):

- ``domain``: the observation's host (of a URL, ``host:port``, ``CONNECT host:port``, an
  e-mail address or a bare name) is the domain or one of its sub-domains.
- ``ipv4``/``ipv6``: the observation's host is that address; ``cidr``: it lies in the range.
- ``url``: the observation is a URL with the same host and port whose path and query start
  with the indicator's (plain string prefix). The scheme is not compared: the same resource
  fetched over ``http`` and ``https`` is the same contact. A bare host or ``CONNECT host:port``
  never matches a URL: the path is not seen.
- hashes: equal, case-insensitively. ``email``: equal after normalisation. ``filename``: the
  observation's last path component (``/`` or ``\\``) equals it, case-insensitively.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import idna

KINDS: tuple[str, ...] = (
    "ipv4",
    "ipv6",
    "cidr",
    "domain",
    "url",
    "email",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "filename",
    "unknown",
)
UNKNOWN = "unknown"
HASH_KINDS: dict[int, str] = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
IP_KINDS = frozenset({"ipv4", "ipv6", "cidr"})
HOST_KINDS = frozenset({"domain", *IP_KINDS})
DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
MAX_VALUE_CHARS = 8192  # a longer "indicator" is not one value
# File extensions that are not IANA top-level domains, so a name ending in one is a file.
FILE_EXTENSIONS = frozenset(
    {
        "exe", "dll", "scr", "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js", "jse", "wsf",
        "wsh", "hta", "lnk", "cpl", "msi", "msp", "jar", "doc", "docx", "docm", "dotm", "xls",
        "xlsx", "xlsm", "xlsb", "xlam", "ppt", "pptx", "pptm", "ppsx", "rtf", "pdf", "iso",
        "img", "vhd", "vhdx", "rar", "7z", "tgz", "gz", "bz2", "xz", "txt", "sys", "tmp", "dat",
        "bin", "elf", "dylib", "apk", "dmg", "pyc", "aspx", "asp", "jsp", "chm", "reg", "inf",
        "htm", "html", "csv", "eml", "msg", "onepkg", "pif", "ace", "arj", "ocx", "drv",
    }
)  # fmt: skip

_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_LENIENT_LABEL_RE = re.compile(r"[a-z0-9_-]{1,63}")
_TLD_RE = re.compile(r"(?=.*[a-z])[a-z0-9-]{2,63}")
_PORT_RE = re.compile(r"\d{1,5}")
_DEFANG_RE = re.compile(
    r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}|\[://\]|\[:\]|\[@\]|\(@\)|\[at\]|\(at\)",
    re.IGNORECASE,
)
_DEFANGED: dict[str, str] = {".": ".", "dot": ".", "://": "://", ":": ":", "@": "@", "at": "@"}
_SCHEME_RE = re.compile(r"^(?:h(?:xx|XX|\*\*)p(?P<tls>s?)|(?P<ftp>fxp))(?=://)", re.IGNORECASE)
_CONNECT_RE = re.compile(r"^CONNECT\s+", re.IGNORECASE)
_QUOTES = "\"'`"


def refang(value: str) -> str:
    """Undo the usual defanging of an indicator, and surrounding blanks and quotes.

    >>> refang(" hxxps://evil[.]example(.)com[:]8443/a ")
    'https://evil.example.com:8443/a'
    >>> refang("c2[dot]example[.]net")
    'c2.example.net'
    >>> refang('"user[at]evil[.]example"')
    'user@evil.example'
    """
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in _QUOTES:
        text = text[1:-1].strip()
    text = _DEFANG_RE.sub(lambda m: _DEFANGED[m[0][1:-1].lower()], text)
    return _SCHEME_RE.sub(lambda m: "ftp" if m["ftp"] else "http" + m["tls"].lower(), text)


def classify(value: str) -> tuple[str, str]:
    """(kind, normalised value) of one indicator value, by its shape once re-fanged.

    >>> classify("Evil[.]Example")
    ('domain', 'evil.example')
    >>> classify("hxxp://EVIL.example:80/Gate.php?id=1#x")
    ('url', 'http://evil.example/Gate.php?id=1')
    >>> classify("evil.example/dl/a.bin")
    ('url', 'evil.example/dl/a.bin')
    >>> classify("10.1.2.3/8")
    ('cidr', '10.0.0.0/8')
    >>> classify("203.0.113.7:443")
    ('ipv4', '203.0.113.7')
    >>> classify("2001:DB8::0:1")
    ('ipv6', '2001:db8::1')
    >>> classify("D41D8CD98F00B204E9800998ECF8427E")
    ('md5', 'd41d8cd98f00b204e9800998ecf8427e')
    >>> classify("Invoice_2024.docm")
    ('filename', 'Invoice_2024.docm')
    >>> classify("Boss@Bücher.example")
    ('email', 'boss@xn--bcher-kva.example')
    >>> classify("*.c2.example")
    ('domain', 'c2.example')
    >>> classify("AS64496")
    ('unknown', 'AS64496')
    """
    text = refang(value)
    if not text or len(text) > MAX_VALUE_CHARS or any(c.isspace() for c in text):
        return UNKNOWN, text
    if text.isascii() and _HEX_RE.fullmatch(text) and len(text) in HASH_KINDS:
        return HASH_KINDS[len(text)], text.lower()
    if "://" in text:
        url = _normalize_url(text)
        return ("url", url) if url else (UNKNOWN, text)
    if "@" in text and "/" not in text:
        email = _normalize_email(text)
        return ("email", email) if email else (UNKNOWN, text)
    if "/" in text:
        network = _normalize_network(text)
        if network is not None:
            return "cidr", network
        url = _normalize_url(text)
        return ("url", url) if url else (UNKNOWN, text)
    ip = _ip_of_host_port(text)
    if ip is not None:
        return f"ipv{ip.version}", ip.compressed
    host = _strip_port(text)
    if host is None:
        return UNKNOWN, text
    if _is_filename(host):
        return "filename", host
    domain = _normalize_domain(host.removeprefix("*."))
    return ("domain", domain) if domain else (UNKNOWN, text)


def normalize(kind: str, value: str) -> str | None:
    """``value`` normalised as an indicator of ``kind`` (a typed source says the kind), or
    None when the value does not have that shape.

    >>> normalize("filename", " report.zip ")
    'report.zip'
    >>> normalize("domain", "report.zip")
    'report.zip'
    >>> normalize("sha256", "d41d8cd98f00b204e9800998ecf8427e") is None
    True
    >>> normalize("cidr", "192.0.2.9")
    '192.0.2.9/32'
    """
    text = refang(value)
    if not text or len(text) > MAX_VALUE_CHARS:
        return None
    if kind == "filename":
        return text
    if kind == "domain":
        host = _strip_port(text)
        return _normalize_domain(host.removeprefix("*.")) if host else None
    if kind == "cidr":
        return _normalize_network(text)
    shape, normalised = classify(text)
    if shape == kind:
        return normalised
    return None


def matches(indicator_kind: str, indicator_value: str, observed: str) -> bool:
    """Does ``observed`` (from evidence) match the indicator (a normalised ``iocs`` row)?

    >>> matches("domain", "evil.example", "https://cdn.EVIL.example/x")
    True
    >>> matches("domain", "evil.example", "notevil.example")
    False
    >>> matches("domain", "evil.example", "CONNECT c2.evil.example:443")
    True
    >>> matches("ipv4", "203.0.113.7", "203.0.113.7:443")
    True
    >>> matches("cidr", "203.0.113.0/24", "http://203.0.113.99/a")
    True
    >>> matches("url", "http://evil.example/gate", "https://EVIL.example/gate.php?id=1")
    True
    >>> matches("url", "http://evil.example/gate", "http://evil.example.net/gate")
    False
    >>> matches("url", "http://evil.example/", "evil.example:443")
    False
    >>> matches("filename", "Invoice.docm", r"C:\\Users\\t\\Downloads\\invoice.DOCM")
    True
    """
    text = observed.strip()
    if not text or len(text) > MAX_VALUE_CHARS:
        return False
    try:
        return _matches(indicator_kind, indicator_value, text)
    except ValueError:  # an observation Python cannot parse matches nothing
        return False


def _matches(kind: str, value: str, text: str) -> bool:
    if kind in HASH_KINDS.values():
        return text.lower() == value.lower()
    if kind == "email":
        return _normalize_email(text) == value
    if kind == "filename":
        return re.split(r"[/\\]", text)[-1].casefold() == value.casefold()
    if kind == "url":
        indicator, seen = _url_key(value), _url_key(text)
        return (
            indicator is not None
            and seen is not None
            and seen[0] == indicator[0]
            and seen[1].startswith(indicator[1])
        )
    if kind in HOST_KINDS:
        host = _observed_host(text)
        if host is None:
            return False
        if kind == "domain":
            return host == value or host.endswith("." + value)
        ip = _ip(host)
        if ip is None:
            return False
        if kind == "cidr":
            network = ipaddress.ip_network(value, strict=False)
            return ip.version == network.version and ip in network
        return ip == _ip(value)
    return text.casefold() == value.casefold()


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _ip_of_host_port(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address of ``ip``, ``ip:port``, ``[ipv6]`` or ``[ipv6]:port``."""
    ip = _ip(text)
    if ip is not None and not (text.startswith("[") ^ text.endswith("]")):
        return ip
    host = _strip_port(text)
    if host is None or host == text:
        return None
    return _ip(host)


def _strip_port(text: str) -> str | None:
    """``host`` of ``host:port`` (and of ``[v6]:port``); None when the port is not a port."""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not (rest[:1] == ":" and _PORT_RE.fullmatch(rest[1:]))):
            return None
        return host
    if text.count(":") != 1:
        return text if ":" not in text else None
    host, _, port = text.partition(":")
    return host if _PORT_RE.fullmatch(port) and int(port) < 65536 else None


def _is_filename(text: str) -> bool:
    head, dot, extension = text.rpartition(".")
    return bool(head and dot) and extension.lower() in FILE_EXTENSIONS


def _normalize_domain(text: str, *, dotted: bool = True) -> str | None:
    """IDNA (UTS 46) ASCII form, lower-cased, of a host name; None when it is not one.

    ``dotted`` asks for at least two labels and a top-level label with a letter (an
    indicator); a URL's host may be a single label (``http://intranet/``).
    """
    name = text.rstrip(".") if text.endswith(".") and not text.endswith("..") else text
    labels = name.split(".")
    if not name or not all(labels) or (dotted and len(labels) < 2):
        return None
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        lowered = name.lower()
        lenient = lowered.isascii() and all(
            _LENIENT_LABEL_RE.fullmatch(label) and not label.startswith("xn--")
            for label in lowered.split(".")
        )
        if not lenient:
            return None
        ascii_name = lowered
    if len(ascii_name) > 253:
        return None
    if dotted and not _TLD_RE.fullmatch(ascii_name.rsplit(".", 1)[-1]):
        return None
    return ascii_name


def _normalize_network(text: str) -> str | None:
    try:
        return ipaddress.ip_network(text.strip("[]"), strict=False).compressed
    except ValueError:
        return None


def _normalize_email(text: str) -> str | None:
    address = text.strip().strip("<>").removeprefix("mailto:")
    if address.count("@") != 1:
        return None
    local, domain = address.split("@")
    if not local or any(c.isspace() or c in '()<>[]\\,;:"' for c in local):
        return None
    ascii_domain = _normalize_domain(domain)
    return f"{local.lower()}@{ascii_domain}" if ascii_domain else None


def _host_key(host: str) -> str | None:
    """A URL's or an observation's host in comparison form (IPs compressed)."""
    ip = _ip(host)
    if ip is not None:
        return ip.compressed
    return _normalize_domain(host, dotted=False)


def _split_url(text: str) -> tuple[str, str, int | None, str] | None:
    """(scheme, host key, explicit non-default port, path?query) of a URL with or without a
    scheme; None when it has no usable host. ValueError for a bad port."""
    has_scheme = "://" in text
    parts = urlsplit(text if has_scheme else "//" + text)
    scheme = parts.scheme.lower()
    if has_scheme and not scheme:
        return None
    netloc_host = parts.netloc.rpartition("@")[2]
    if netloc_host.startswith("["):
        raw_host = netloc_host[1:].partition("]")[0]
    else:
        raw_host = netloc_host.rpartition(":")[0] if ":" in netloc_host else netloc_host
    host = _host_key(raw_host) if raw_host else None
    if host is None:
        return None
    port = parts.port
    if port is not None and port == DEFAULT_PORTS.get(scheme):
        port = None
    rest = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port, rest


def _normalize_url(text: str) -> str | None:
    try:
        split = _split_url(text)
    except ValueError:
        return None
    if split is None:
        return None
    scheme, host, port, rest = split
    shown = f"[{host}]" if ":" in host else host
    if port is not None:
        shown += f":{port}"
    return f"{scheme}://{shown}{rest}" if scheme else f"{shown}{rest}"


def _url_key(text: str) -> tuple[str, str] | None:
    """(host[:port], path?query) of a URL, the scheme left out; None for a bare host."""
    if "://" not in text and "/" not in text:
        return None
    split = _split_url(text)
    if split is None:
        return None
    _, host, port, rest = split
    return (host if port is None else f"{host}:{port}"), rest


def _observed_host(text: str) -> str | None:
    """The host an observation names: of a URL, ``[CONNECT ]host:port``, an e-mail address,
    ``host/path`` or a bare host or address."""
    text = _CONNECT_RE.sub("", text)
    if "://" in text or "/" in text:
        split = _split_url(text)
        return split[1] if split else None
    if "@" in text:
        text = text.rpartition("@")[2]
    ip = _ip_of_host_port(text)
    if ip is not None:
        return ip.compressed
    host = _strip_port(text)
    return _host_key(host) if host else None
