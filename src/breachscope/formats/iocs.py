"""Indicator feeds: text lists, STIX 2.1 bundles and MISP events. Emit `iocs` rows.

The files the manifest lists under ``iocs:`` are read with these formats (the ingest tries
only formats that write `iocs` on them, and these never on evidence). Every row has ``kind``
and a normalised ``value`` from `breachscope.detect.iocs` (``ipv4``, ``ipv6``, ``cidr``,
``domain``, ``url``, ``email``, ``md5``, ``sha1``, ``sha256``, ``sha512``, ``filename``,
``unknown``; the shape rules are in that module) and ``source``, the feed's name.

``ioc_text`` (one value a line; rules.md, Exposure -> IOC matching):

- Blank lines and lines starting with ``#`` are skipped; a `` #`` after the value (white
  space, then ``#``) starts a comment. Defanged values are re-fanged and the kind comes from
  the shape. A value whose shape is none of the kinds (``AS64496``, two words) is kept with
  kind ``unknown`` and a warning: dropping a line of the analyst's list silently would hide
  it, and ``unknown`` only matches an equal observation. Record ``line:N``; source = the file
  name.
- Recognised from content only when every value line among the first `SNIFF_LINES` is one
  token of a known shape; otherwise the manifest can still name ``format: ioc_text``.

``stix`` (STIX 2.1 ``bundle``; https://docs.oasis-open.org/cti/stix/v2.1/stix-v2.1.html):

- Indicators with ``pattern_type`` ``stix``: every ``=`` / ``IN`` comparison (``ISSUBSET``
  for address ranges) on ``domain-name:value``, ``ipv4-addr:value``, ``ipv6-addr:value``,
  ``url:value``, ``email-addr:value``, ``file:hashes.<MD5|SHA-1|SHA-256|SHA-512>``,
  ``file:name``, ``network-traffic:(dst|src)_ref.value`` and
  ``email-message:(from|sender)_ref.value`` is an indicator, whatever ``OR``, ``AND``,
  ``FOLLOWEDBY`` or qualifiers join them: matching works on single values, so a conjunction
  is widened to its parts. The exception: inside one ``AND``, a ``file:name`` next to a
  stronger value (a hash) is left out, because a name alone (``svchost.exe``) would match
  far more than the pattern meant. Negated comparisons, ``LIKE``, ``MATCHES`` and ranges
  give nothing.
- A pattern that is one ``[type:path = 'value']`` is read with a bounded regular expression;
  any other is parsed with the ``stix2`` package's pattern visitor (ANTLR grammar), which
  also rejects invalid patterns (an error for that indicator). Patterns longer than
  `MAX_PATTERN_CHARS` are not parsed.
- Cyber-observable objects in the bundle (``domain-name``, ``ipv4-addr``, ``ipv6-addr``,
  ``url``, ``email-addr``, ``file`` hashes and name) are indicators too: a bundle listed
  under ``iocs:`` is an indicator feed.
- Revoked indicators are skipped with a warning; other ``pattern_type`` values (``yara``,
  ``snort``, ``sigma``) are a warning. Record ``json:<index in objects>``; source = the
  ``name`` of the identity in ``created_by_ref``, else of the bundle's only identity, else the
  file name.

``misp`` (MISP event JSON; https://www.misp-project.org/datamodels/):

- ``{"Event": {...}}``, a search ``{"response": [{"Event": ...}]}`` or a list of events.
  The event's own ``Attribute`` list and each ``Object``'s are read; record
  ``json:Attribute/<i>`` or ``json:Object/<j>/Attribute/<i>`` (prefixed ``response/<k>/`` or
  ``<k>/`` when the file holds several events); source = the event's ``info``.
- Types read (`MISP_TYPES`): domain, hostname, ip-src, ip-dst, url, email and its variants,
  md5, sha1, sha256, sha512, filename, and their ``|`` composites (``filename|sha256``,
  ``ip-dst|port``, ``domain|ip``; a port part is dropped). Other types (text, comment,
  regkey, mutex, yara ...) are skipped, counted in one warning per event.
- Attributes with ``to_ids`` false are skipped, counted in one warning per event: MISP marks
  them as context unfit for detection (``google.com`` a sample checks connectivity with), and
  matching them would start the window at an innocent contact. Deleted attributes and
  objects are skipped.

Typed values (STIX, MISP) are normalised as their declared kind; a value that does not have
that shape is kept with the kind its shape gives and a warning. JSON documents are loaded
whole, bounded by `MAX_DOCUMENT_BYTES` (a larger file is one error and is not read).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import PurePath
from typing import IO, Any, ClassVar

from stix2 import patterns as stix_patterns
from stix2.pattern_visitor import create_pattern_object

from breachscope.detect.iocs import IP_KINDS, UNKNOWN, classify, normalize
from breachscope.formats.base import EvidenceItem, Problem, Row, Yielded, register

MAX_LINE_BYTES = 1 << 20
MAX_DOCUMENT_BYTES = 200 << 20
MAX_PATTERN_CHARS = 64 << 10
SNIFF_LINES = 20
SHOWN_CHARS = 80  # how much of a hostile value a problem message quotes
MAX_LISTED = 20  # attribute types named in one problem message

INLINE_COMMENT_RE = re.compile(r"\s+#.*$")
STIX_SNIFF_RE = re.compile(r'"type"\s*:\s*"bundle"')
MISP_SNIFF_RE = re.compile(r'^\s*(?:\[\s*)?\{\s*(?:"response"\s*:\s*\[\s*\{\s*)?"Event"\s*:\s*\{')
SIMPLE_PATTERN_RE = re.compile(
    r"^\s*\[\s*(?P<type>[a-z0-9-]{1,64}):(?P<path>[A-Za-z0-9_.'-]{1,256})\s*=\s*"
    r"'(?P<value>(?:[^'\\]|\\.){0,8192})'\s*\]\s*$"
)
PATH_PART_RE = re.compile(r"'([^']*)'|([^.]+)")
ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)

HOST_VALUE_KINDS = ("ipv4", "ipv6", "cidr", "domain")
HASH_KEYS: dict[str, str] = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}
# STIX (object type, property path) -> the kinds its value may be, in preference order.
STIX_PATHS: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {
    ("domain-name", ("value",)): ("domain",),
    ("ipv4-addr", ("value",)): ("ipv4", "cidr"),
    ("ipv6-addr", ("value",)): ("ipv6", "cidr"),
    ("url", ("value",)): ("url",),
    ("email-addr", ("value",)): ("email",),
    ("file", ("name",)): ("filename",),
    ("network-traffic", ("dst_ref", "value")): HOST_VALUE_KINDS,
    ("network-traffic", ("src_ref", "value")): HOST_VALUE_KINDS,
    ("email-message", ("from_ref", "value")): ("email",),
    ("email-message", ("sender_ref", "value")): ("email",),
}
STIX_SCO_TYPES = frozenset({"domain-name", "ipv4-addr", "ipv6-addr", "url", "email-addr"})
EMAIL_KINDS = ("email",)
# MISP attribute type -> the kinds its value may be; None: a part that is not an indicator.
MISP_TYPES: dict[str, tuple[str, ...] | None] = {
    "domain": ("domain",),
    "hostname": ("domain",),
    "ip-src": ("ipv4", "ipv6", "cidr"),
    "ip-dst": ("ipv4", "ipv6", "cidr"),
    "ip": ("ipv4", "ipv6", "cidr"),
    "url": ("url",),
    "email": EMAIL_KINDS,
    "email-src": EMAIL_KINDS,
    "email-dst": EMAIL_KINDS,
    "email-reply-to": EMAIL_KINDS,
    "md5": ("md5",),
    "sha1": ("sha1",),
    "sha256": ("sha256",),
    "sha512": ("sha512",),
    "filename": ("filename",),
    "port": None,
}

Indicator = tuple[str, str]  # (kind, normalised value)


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "...")


def _row(kind: str, value: str, source: str, record: str) -> Row:
    return Row("iocs", {"kind": kind, "value": value, "source": source, "record": record})


def typed(expected: tuple[str, ...], raw: str) -> tuple[Indicator, bool]:
    """((kind, value), fits) of a value a feed declares to be one of ``expected`` kinds.

    A value that fits none of them gets the kind its shape gives (``fits`` False).

    >>> typed(("ipv4", "cidr"), "10.0.0.0/8")
    (('cidr', '10.0.0.0/8'), True)
    >>> typed(("sha256",), "d41d8cd98f00b204e9800998ecf8427e")
    (('md5', 'd41d8cd98f00b204e9800998ecf8427e'), False)
    """
    for kind in expected:
        value = normalize(kind, raw)
        if value is not None:
            return (kind, value), True
    return classify(raw), False


def _line_value(line: str) -> str:
    """The value of a text-list line without its trailing `` # comment``."""
    return INLINE_COMMENT_RE.sub("", line).strip()


def _numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, str | None]]:
    """(1-based line number, text) with ``None`` for a line over `MAX_LINE_BYTES`."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(MAX_LINE_BYTES)
            yield number, None
            continue
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        yield number, text.removeprefix("\ufeff") if number == 1 else text


def _load_json(item: EvidenceItem) -> tuple[Any, Problem | None]:
    """The item's JSON document, or a file-level problem saying why there is none."""
    with item.open() as stream:
        data = stream.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        return None, Problem("file", f"JSON document larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        return json.loads(data.decode("utf-8", errors="replace").removeprefix("\ufeff")), None
    except (ValueError, RecursionError) as error:
        return None, Problem("file", f"not JSON: {_show(str(error))}")


def _json_head(head: bytes) -> str:
    return head.decode("utf-8", errors="replace").removeprefix("\ufeff")


@register
class IocText:
    """Indicator list as text, one value a line (``#`` comments, defanged values accepted).
    Emits `iocs` rows; the kind of each value comes from its shape."""

    name: ClassVar[str] = "ioc_text"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("iocs",)
    sniff_priority: ClassVar[int] = 90

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """True when every value line among the first `SNIFF_LINES` is one token of a known
        indicator shape (and there is at least one). A cut-off last line is not looked at."""
        pieces = head.removeprefix(b"\xef\xbb\xbf").split(b"\n")
        if len(pieces) > 1:
            pieces = pieces[:-1]
        values: list[str] = []
        for piece in pieces:
            line = piece.decode("utf-8", errors="replace").strip()
            if line and not line.startswith("#"):
                values.append(_line_value(line))
            if len(values) == SNIFF_LINES:
                break
        return bool(values) and all(classify(value)[0] != UNKNOWN for value in values)

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """One `iocs` row per value line; a value of unknown shape is kept with a warning."""
        source = item.path.name
        with item.open() as stream:
            for number, line in _numbered_lines(stream):
                record = f"line:{number}"
                if line is None:
                    yield Problem(record, f"line longer than {MAX_LINE_BYTES} bytes")
                    continue
                stripped = line.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                kind, value = classify(_line_value(stripped))
                if kind == UNKNOWN:
                    message = f"{_show(value)} has no known indicator shape; kept as unknown"
                    yield Problem(record, message, "warning")
                yield _row(kind, value, source, record)


def _unquote(constant: Any) -> str | None:
    """The text of a STIX pattern string constant (escapes ``\\'`` and ``\\\\`` undone)."""
    if not isinstance(constant, stix_patterns.StringConstant):
        return None
    return ESCAPE_RE.sub(r"\1", str(constant.value))


def _kinds_for(object_type: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
    if object_type == "file" and len(path) == 2 and path[0] == "hashes":
        kind = HASH_KEYS.get(path[1].upper().replace("-", "").replace("_", ""))
        return (kind,) if kind else None
    return STIX_PATHS.get((object_type, path))


def _comparison(node: Any) -> list[tuple[tuple[str, ...], str]]:
    """(expected kinds, raw value) of one comparison that can name an indicator."""
    if getattr(node, "negated", False):
        return []
    lhs = node.lhs
    path = tuple(str(part.property_name) for part in lhs.property_path)
    kinds = _kinds_for(str(lhs.object_type_name), path)
    if kinds is None:
        return []
    if isinstance(node, stix_patterns.EqualityComparisonExpression):
        constants = [node.rhs]
    elif isinstance(node, stix_patterns.InComparisonExpression):
        constants = list(getattr(node.rhs, "value", []))
    elif isinstance(node, stix_patterns.IsSubsetComparisonExpression) and set(kinds) & IP_KINDS:
        constants, kinds = [node.rhs], ("cidr",)
    else:
        return []
    values = [_unquote(constant) for constant in constants]
    return [(kinds, value) for value in values if value]


def _walk(node: Any) -> list[tuple[tuple[str, ...], str]]:
    """The indicator values of a parsed pattern, OR/AND/FOLLOWEDBY widened (see module)."""
    if isinstance(node, stix_patterns._ComparisonExpression):
        return _comparison(node)
    if isinstance(node, stix_patterns.QualifiedObservationExpression):
        return _walk(node.observation_expression)
    if isinstance(node, stix_patterns.ParentheticalExpression):
        return _walk(node.expression)
    if isinstance(node, stix_patterns.ObservationExpression):
        return _walk(node.operand)
    found: list[tuple[tuple[str, ...], str]] = []
    for operand in getattr(node, "operands", []):
        found.extend(_walk(operand))
    if isinstance(node, stix_patterns.AndBooleanExpression):
        stronger = [entry for entry in found if entry[0] != ("filename",)]
        if stronger:
            return stronger
    return found


def pattern_values(pattern: str) -> list[tuple[tuple[str, ...], str]]:
    """(expected kinds, raw value) of each indicator a STIX pattern names.

    Raises ValueError for a pattern that does not parse.

    >>> pattern_values("[domain-name:value = 'evil.example']")
    [(('domain',), 'evil.example')]
    >>> pattern_values("[file:hashes.'SHA-256' = 'ab' AND file:name = 'svchost.exe']")
    [(('sha256',), 'ab')]
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"pattern longer than {MAX_PATTERN_CHARS} characters")
    simple = SIMPLE_PATTERN_RE.match(pattern)
    if simple:
        path = tuple(a or b for a, b in PATH_PART_RE.findall(simple["path"]))
        kinds = _kinds_for(simple["type"], path)
        value = ESCAPE_RE.sub(r"\1", simple["value"])
        return [(kinds, value)] if kinds and value else []
    try:
        parsed = create_pattern_object(pattern, version="2.1")
    except RecursionError:
        raise ValueError("pattern nested too deeply") from None
    except Exception as error:  # the ANTLR parser and the visitor raise assorted errors
        raise ValueError(str(error)) from None
    return _walk(parsed)


@register
class StixBundle:
    """STIX 2.1 bundle: indicator patterns and observable objects. Emits `iocs` rows.

    Reference: https://docs.oasis-open.org/cti/stix/v2.1/stix-v2.1.html
    """

    name: ClassVar[str] = "stix"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("iocs",)
    sniff_priority: ClassVar[int] = 40

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """True when ``head`` is a JSON object with ``"type": "bundle"``."""
        text = _json_head(head).lstrip()
        return text.startswith("{") and STIX_SNIFF_RE.search(text) is not None

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """`iocs` rows of every indicator and observable object, in bundle order."""
        document, problem = _load_json(item)
        if problem is not None:
            yield problem
            return
        if not isinstance(document, dict) or document.get("type") != "bundle":
            yield Problem("file", 'not a STIX bundle (no "type": "bundle")')
            return
        objects = document.get("objects")
        if not isinstance(objects, list):
            yield Problem("file", "bundle has no objects list")
            return
        identities = {
            obj["id"]: obj["name"]
            for obj in objects
            if isinstance(obj, dict)
            and obj.get("type") == "identity"
            and isinstance(obj.get("id"), str)
            and isinstance(obj.get("name"), str)
        }
        names = set(identities.values())
        default = names.pop() if len(names) == 1 else item.path.name
        for index, obj in enumerate(objects):
            record = f"json:{index}"
            if not isinstance(obj, dict):
                yield Problem(record, f"bundle object is not a JSON object: {_show(obj)}")
                continue
            creator = obj.get("created_by_ref")
            source = identities.get(creator, default) if isinstance(creator, str) else default
            kind = obj.get("type")
            if kind == "indicator":
                yield from self._indicator(obj, source, record)
            elif kind in STIX_SCO_TYPES or kind == "file":
                yield from self._observable(obj, source, record)

    def _indicator(self, obj: dict[str, Any], source: str, record: str) -> Iterator[Yielded]:
        if obj.get("revoked") is True:
            yield Problem(record, "revoked indicator; not read", "warning")
            return
        pattern_type = obj.get("pattern_type", "stix")
        if pattern_type != "stix":
            yield Problem(record, f"pattern_type {_show(pattern_type)} not read", "warning")
            return
        pattern = obj.get("pattern")
        if not isinstance(pattern, str):
            yield Problem(record, "indicator without a pattern")
            return
        try:
            values = pattern_values(pattern)
        except ValueError as error:
            yield Problem(record, f"pattern does not parse: {_show(str(error))}")
            return
        if not values:
            message = f"pattern names no value that can be matched: {_show(pattern)}"
            yield Problem(record, message, "warning")
            return
        yield from _typed_rows(values, source, record)

    def _observable(self, obj: dict[str, Any], source: str, record: str) -> Iterator[Yielded]:
        values: list[tuple[tuple[str, ...], str]] = []
        if obj.get("type") == "file":
            hashes = obj.get("hashes")
            if isinstance(hashes, dict):
                for key, value in hashes.items():
                    kinds = _kinds_for("file", ("hashes", str(key)))
                    if kinds and isinstance(value, str):
                        values.append((kinds, value))
            if isinstance(obj.get("name"), str):
                values.append((("filename",), obj["name"]))
        elif isinstance(obj.get("value"), str):
            kinds = STIX_PATHS[(str(obj["type"]), ("value",))]
            values.append((kinds, obj["value"]))
        yield from _typed_rows(values, source, record)


def _typed_rows(
    values: list[tuple[tuple[str, ...], str]], source: str, record: str
) -> Iterator[Yielded]:
    """Rows for typed values, each distinct (kind, value) once; a misfit is a warning."""
    seen: set[Indicator] = set()
    for expected, raw in values:
        (kind, value), fits = typed(expected, raw)
        if not fits:
            message = f"{_show(raw)} is not a {'/'.join(expected)}; kept as {kind}"
            yield Problem(record, message, "warning")
        if (kind, value) not in seen:
            seen.add((kind, value))
            yield _row(kind, value, source, record)


def _truthy(value: Any) -> bool:
    """MISP booleans: true/false, or "1"/"0" in older exports."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return bool(value)


@register
class MispEvent:
    """MISP event JSON (``{"Event": {"Attribute": [...], "Object": [...]}}``). Emits `iocs`.

    Reference: https://www.misp-project.org/datamodels/ (attribute types)
    """

    name: ClassVar[str] = "misp"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("iocs",)
    sniff_priority: ClassVar[int] = 40

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """True when ``head`` opens a MISP event (``{"Event": {``, or a list or search
        response of them)."""
        return MISP_SNIFF_RE.match(_json_head(head)) is not None

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """`iocs` rows of the attributes of every event, event by event."""
        document, problem = _load_json(item)
        if problem is not None:
            yield problem
            return
        events: list[tuple[str, Any]]
        if isinstance(document, dict) and "Event" in document:
            events = [("", document["Event"])]
        elif isinstance(document, dict) and isinstance(document.get("response"), list):
            events = [
                (f"response/{i}/", e.get("Event") if isinstance(e, dict) else e)
                for i, e in enumerate(document["response"])
            ]
        elif isinstance(document, list):
            events = [
                (f"{i}/", e.get("Event", e) if isinstance(e, dict) else e)
                for i, e in enumerate(document)
            ]
        else:
            yield Problem("file", 'not a MISP event (no "Event" object)')
            return
        for prefix, event in events:
            if not isinstance(event, dict):
                yield Problem(f"json:{prefix}".rstrip("/"), "event is not a JSON object")
                continue
            yield from self._event(item, prefix, event)

    def _event(self, item: EvidenceItem, prefix: str, event: dict[str, Any]) -> Iterator[Yielded]:
        info = event.get("info")
        source = info.strip() if isinstance(info, str) and info.strip() else item.path.name
        not_for_ids = 0
        other_types: Counter[str] = Counter()
        places: list[tuple[str, Any]] = []
        attributes = event.get("Attribute")
        if isinstance(attributes, list):
            places += [(f"{prefix}Attribute/{i}", a) for i, a in enumerate(attributes)]
        objects = event.get("Object")
        if isinstance(objects, list):
            for j, obj in enumerate(objects):
                if not isinstance(obj, dict) or _truthy(obj.get("deleted", False)):
                    continue
                inner = obj.get("Attribute")
                if isinstance(inner, list):
                    places += [
                        (f"{prefix}Object/{j}/Attribute/{i}", a) for i, a in enumerate(inner)
                    ]
        for where, attribute in places:
            record = f"json:{where}"
            if not isinstance(attribute, dict):
                yield Problem(record, f"attribute is not a JSON object: {_show(attribute)}")
                continue
            if _truthy(attribute.get("deleted", False)):
                continue
            kind = attribute.get("type")
            value = attribute.get("value")
            if not isinstance(kind, str) or not isinstance(value, str):
                yield Problem(record, "attribute without a type and a text value")
                continue
            parts = kind.split("|")
            if any(part not in MISP_TYPES for part in parts):
                other_types[kind] += 1
                continue
            if not _truthy(attribute.get("to_ids", True)):
                not_for_ids += 1
                continue
            pieces = value.split("|")
            if len(pieces) != len(parts):
                message = f"{kind} value {_show(value)} does not have {len(parts)} parts"
                yield Problem(record, message)
                continue
            values = [
                (expected, piece.strip())
                for part, piece in zip(parts, pieces, strict=True)
                if (expected := MISP_TYPES[part]) is not None and piece.strip()
            ]
            yield from _typed_rows(values, source, record)
        problem_record = f"json:{prefix}".rstrip("/") if prefix else "file"
        if not_for_ids:
            message = f"{not_for_ids} attribute(s) with to_ids false skipped (context, not IDS)"
            yield Problem(problem_record, message, "warning")
        if other_types:
            counted = sorted(other_types.items())
            listed = ", ".join(f"{_show(name)} x{count}" for name, count in counted[:MAX_LISTED])
            listed += ", ..." if len(counted) > MAX_LISTED else ""
            yield Problem(problem_record, f"attribute types not read: {listed}", "warning")
