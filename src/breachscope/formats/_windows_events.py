"""Windows events to rows: what the ``evtx`` and ``event_xml`` formats share.

Why one module: an event read from a binary EVTX file and the same event exported by
``wevtutil qe /f:xml`` must give the same rows, so both formats turn their input into the same
small element tree (`Node`: the event's XML, as the Event schema
https://learn.microsoft.com/windows/win32/wes/eventschema-schema defines it) and hand it to
`parse_event` and `event_rows` here. The formats only differ in how they get the tree: the
``evtx`` package renders a record as JSON (`node_from_json`), an XML file is parsed with
defusedxml (`node_from_element`). For speed the ``evtx`` format reads the JSON without making
the tree (`parse_event_json`, which gives exactly what `parse_event` gives on it).

What becomes a row
- Every event is one ``win_events`` row: ``time`` = ``System/TimeCreated/@SystemTime`` (UTC by
  definition, fractions beyond microseconds cut) plus the item's ``clock_offset``; ``host`` =
  the item's host, else ``System/Computer``; ``channel``, ``provider`` (``Provider/@Name``),
  ``event_id``, ``record_id`` (``EventRecordID``); ``account`` = the event's main account
  (`main_account`); ``data`` = ``EventData`` / ``UserData`` / ``ProcessingErrorData`` as a
  JSON object of name -> value with sorted keys (`flatten_data`); ``system`` = the item's.
- Typed rows in addition, from Security-Auditing (by provider, so forwarded events count too)
  and Sysmon events (Microsoft's "Audit ..." pages under
  https://learn.microsoft.com/windows/security/threat-protection/auditing/ and
  https://learn.microsoft.com/sysinternals/downloads/sysmon):

  * 4624 / 4625 (an account logged on / failed to) -> ``logons`` success / failure, account
    ``TargetDomainName\\TargetUserName``, ``src_ip`` = ``IpAddress``, ``src_host`` =
    ``WorkstationName``, ``dst_host`` = ``Computer``, ``logon_type``, ``session_id`` =
    ``TargetLogonId`` (4624), ``reason`` = the NTSTATUS of a failure (``SubStatus`` when it
    says more than ``Status``), ``method`` from the package: ``ntlm`` when
    ``AuthenticationPackageName`` or ``LmPackageName`` says NTLM or the package is MSV1_0
    (``MICROSOFT_AUTHENTICATION_PACKAGE_V1_0``, the NTLM package), ``kerberos`` for Kerberos,
    else the lower-cased package (``negotiate``) or ``LogonProcessName``.
  * 4634 / 4647 (logoff) -> ``logons`` with outcome ``logoff``, ``session_id`` =
    ``TargetLogonId`` and ``end_time`` = ``time`` = the event's time. Rows are streamed, so the
    logon row cannot be updated when its logoff comes; analyses join a session's logon and
    logoff on (``host``, ``session_id``) (logon ids are unique per boot of one computer only).
  * 4648 (a logon was attempted using explicit credentials) -> ``logons`` with method
    ``explicit_credentials``, outcome success: the credential of ``TargetDomainName\\
    TargetUserName`` was used ON this computer (``src_host`` = ``Computer``) towards
    ``TargetServerName`` (``dst_host``); ``reason`` names the subject and process that used it.
  * 4768 (Kerberos TGT), 4769 (service ticket), 4771 (Kerberos pre-authentication failed),
    4776 (NTLM credential validation) -> ``logons`` with method ``kerberos`` / ``ntlm``;
    ``Status`` 0x0 is success, anything else failure (4771 is always a failure), with the
    status named in ``reason``. ``src_ip`` = ``IpAddress`` without its ``::ffff:`` prefix;
    4776's ``src_host`` is ``Workstation``; ``dst_host`` is the KDC / validating computer, for
    4769 the service when it is a computer account. 4771 has no ``TargetDomainName``: the
    account is written ``user@REALM`` with the realm of its ``ServiceName`` ``krbtgt/REALM``,
    so the failures of a password spray meet the 4768s of the same accounts (4768's
    ``EXAMPLE.COM\\user`` and 4771's ``user@EXAMPLE.COM`` have one ``account_key``). 4769
    already writes ``TargetUserName`` as ``user@REALM``; such a name is taken as it is.
  * 4723 / 4724 / 4725 / 4740 -> ``credential_changes`` of kind ``changed`` / ``reset`` /
    ``disabled`` / ``locked_out``; ``actor`` = the subject account. 4723 and 4724 are also
    logged for attempts that failed (Audit Failure keyword): those changed nothing and give no
    row. 4740's ``TargetDomainName`` is the *caller computer*, not a domain, so its account is
    the bare ``TargetUserName`` (and the actor is left empty: the subject is the computer that
    recorded the lockout, the caller computer stays in ``data``).
  * 4688 and Sysmon 1 -> ``processes``: ``pid`` (``NewProcessId`` is hex), ``image``,
    ``command_line``, ``parent_image``, ``user`` (4688: the target account when Windows 10+
    names one, else the subject), ``sha256`` from Sysmon's ``Hashes``.
  * Sysmon 3 -> ``network``: ``src_ip``, ``dst_ip``, ``dst_host`` =
    ``DestinationHostname``, ``dst_port``, ``user``, source and destination as Sysmon names
    them (``Initiated`` stays in ``data``).
  * Security 1102 and System 104 (log cleared) give only their ``win_events`` row; analyses
    find them by ``event_id`` with ``channel`` / ``provider``.

Accounts (rules.md, Identity): ``account`` is written as seen (``DOMAIN\\user``, or the bare
name when the event has no domain); ``account_key`` is `identity.account_key` of it, with the
event's computer as the host of local accounts. Typed ``logons`` / ``credential_changes`` rows
are made only for credentials: not for machine accounts (``...$``, also ``HOST$@REALM``),
ANONYMOUS LOGON, ``-``, logon types 0 (system) and 5 (service), nor, where the rules are
silent, for the password-less built-in and virtual accounts of `SERVICE_DOMAINS` (``NT
AUTHORITY\\SYSTEM``, ``Window Manager\\DWM-1``, ``Font Driver Host\\UMFD-0`` ...).

Values, where the Event schema allows two spellings of one thing: an empty value is null;
line ends are LF, as an XML parser reports them (XML 1.0 section 2.11), so a ``\\r\\n``
inside an EVTX string reads the same as in its XML export; strings that are not valid Unicode
(lone surrogates) get U+FFFD. ``Data`` elements are keyed by their ``Name`` (unnamed ones by
their element name); nested ``UserData`` elements by their path below the wrapper element
(``Parent.Child``); a key that occurs more than once gets ``[1]``, ``[2]`` ... on every
occurrence. ``src_ip`` is an address in canonical form; ``-`` is null, loopback stays (a logon
from the computer itself, rules.md, Exposure).

References (learn.microsoft.com/previous-versions/windows/it-pro/windows-10/security/
threat-protection/auditing/event-NNNN): event-4624, event-4625 (NTSTATUS codes), event-4634,
event-4647, event-4648, event-4688, event-4723, event-4724, event-4725, event-4740 ("Caller
Computer Name" is ``TargetDomainName``), event-4768 / event-4771 (Kerberos result codes,
``::ffff:`` addresses), event-4769, event-4776, event-1102; Sysmon event 1 and 3 fields:
learn.microsoft.com/sysinternals/downloads/sysmon; the Event schema:
learn.microsoft.com/windows/win32/wes/eventschema-schema.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple
from xml.etree.ElementTree import Element

from breachscope.formats.base import EvidenceItem, Row
from breachscope.identity import account_key, is_credential_account

EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
SECURITY_PROVIDER = "microsoft-windows-security-auditing"
SYSMON_PROVIDER = "microsoft-windows-sysmon"

NOT_CREDENTIAL_LOGON_TYPES = frozenset({"0", "5"})
# Domains of built-in and virtual accounts that have no password to steal.
SERVICE_DOMAINS = frozenset(
    {"nt authority", "nt service", "window manager", "font driver host", "iis apppool"}
)
NOT_DATA_SECTIONS = frozenset({"System", "RenderingInfo"})
NOT_CHILD_KEYS = frozenset({"#attributes", "#text"})  # JSON keys that are not child elements
# Events nest a few levels (Event/UserData/wrapper/value); deeper trees are hostile input.
MAX_DEPTH = 32

# Keyword bits of the Security log (winmeta.xml: WINEVENT_KEYWORD_AUDIT_FAILURE / _SUCCESS).
AUDIT_FAILURE = 0x0010_0000_0000_0000
AUDIT_SUCCESS = 0x0020_0000_0000_0000

# NTSTATUS codes of failed logons (4625 Status / SubStatus, 4776 Status), from
# https://learn.microsoft.com/windows/security/threat-protection/auditing/event-4625
NTSTATUS_NAMES: dict[int, str] = {
    0xC0000064: "STATUS_NO_SUCH_USER",
    0xC000006A: "STATUS_WRONG_PASSWORD",
    0xC000006D: "STATUS_LOGON_FAILURE",
    0xC000006E: "STATUS_ACCOUNT_RESTRICTION",
    0xC000006F: "STATUS_INVALID_LOGON_HOURS",
    0xC0000070: "STATUS_INVALID_WORKSTATION",
    0xC0000071: "STATUS_PASSWORD_EXPIRED",
    0xC0000072: "STATUS_ACCOUNT_DISABLED",
    0xC0000133: "STATUS_TIME_DIFFERENCE_AT_DC",
    0xC000015B: "STATUS_LOGON_TYPE_NOT_GRANTED",
    0xC000018C: "STATUS_TRUSTED_DOMAIN_FAILURE",
    0xC0000192: "STATUS_NETLOGON_NOT_STARTED",
    0xC0000193: "STATUS_ACCOUNT_EXPIRED",
    0xC0000224: "STATUS_PASSWORD_MUST_CHANGE",
    0xC0000234: "STATUS_ACCOUNT_LOCKED_OUT",
    0xC0000413: "STATUS_AUTHENTICATION_FIREWALL_FAILED",
}
# Kerberos result codes (RFC 4120 section 7.5.9), as 4768 / 4769 / 4771 write them.
KERBEROS_STATUS_NAMES: dict[int, str] = {
    0x6: "KDC_ERR_C_PRINCIPAL_UNKNOWN",
    0x7: "KDC_ERR_S_PRINCIPAL_UNKNOWN",
    0xC: "KDC_ERR_POLICY",
    0xE: "KDC_ERR_ETYPE_NOSUPP",
    0x12: "KDC_ERR_CLIENT_REVOKED",
    0x17: "KDC_ERR_KEY_EXPIRED",
    0x18: "KDC_ERR_PREAUTH_FAILED",
    0x1B: "KDC_ERR_MUST_USE_USER2USER",
    0x1F: "KRB_AP_ERR_BAD_INTEGRITY",
    0x20: "KRB_AP_ERR_TKT_EXPIRED",
    0x25: "KRB_AP_ERR_SKEW",
}

SYSTEM_TIME = re.compile(
    r"\s*(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<clock>\d{2}:\d{2}:\d{2})(?:[.,](?P<fraction>\d+))?"
    r"\s*(?P<zone>Z|UTC|[+-]\d{2}:?\d{2})?\s*"
)
JSON_DUPLICATE_KEY = re.compile(r"(?P<base>.+)_\d+")
SHA256_HASH = re.compile(r"(?:^|,)\s*SHA256=(?P<hash>[0-9A-Fa-f]{64})\b")
KRBTGT = re.compile(r"krbtgt/(?P<realm>[^/@\s]+)", re.IGNORECASE)
LINE_ENDS = re.compile(r"\r\n?")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EMPTY: Mapping[str, str] = MappingProxyType({})


class EventError(ValueError):
    """The tree is not a Windows event this module can read (the record is an error)."""


class Node(NamedTuple):
    """One element of an event's XML: local tag name, attributes, text of a leaf, children.

    A named tuple, not a dataclass: events have dozens of elements, and it is made fastest.
    """

    tag: str
    attributes: Mapping[str, str] = EMPTY
    text: str | None = None
    children: tuple[Node, ...] = ()

    def child(self, tag: str) -> Node | None:
        for node in self.children:
            if node.tag == tag:
                return node
        return None


def _local(name: str) -> str:
    """An ElementTree name without its ``{namespace}``."""
    return name.rsplit("}", 1)[-1]


def _json_scalar(value: Any) -> str | None:
    """A JSON scalar of the evtx renderer as the text its XML renderer writes."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return str(value)


def node_from_json(tag: str, value: Any, depth: int = 0) -> list[Node]:
    """The elements that one key of the ``evtx`` package's JSON rendering stands for.

    The renderer (pyevtx-rs, ``records_json``) writes an element as ``"tag": value``: a
    scalar for text, an object with ``#attributes`` / ``#text`` / child keys otherwise, a
    ``#text`` list for repeated text-only elements (unnamed ``<Data>``), and ``<Data
    Name="N">`` as ``"N": value``. A second element of one name is written ``name_1``.
    """
    if depth > MAX_DEPTH:
        raise EventError(f"elements nested deeper than {MAX_DEPTH}")
    if isinstance(value, list):
        return [node for item in value for node in node_from_json(tag, item, depth + 1)]
    if not isinstance(value, dict):
        return [Node(tag, text=_json_scalar(value))]
    raw_attributes = value.get("#attributes")
    attributes = {
        name: text
        for name, raw in (raw_attributes.items() if isinstance(raw_attributes, dict) else ())
        if not name.startswith("xmlns") and (text := _json_scalar(raw)) is not None
    }
    children: list[Node] = []
    for key, item in value.items():
        if key not in NOT_CHILD_KEYS:
            children.extend(node_from_json(_child_tag(key, value), item, depth + 1))
    text = value.get("#text")
    if isinstance(text, list):
        return [Node(tag, attributes, _json_scalar(item)) for item in text]
    return [Node(tag, attributes, None if children else _json_scalar(text), tuple(children))]


def _child_tag(key: str, element: Mapping[str, Any]) -> str:
    """The tag of the elements a JSON key stands for: ``name_1`` is another ``name`` when the
    object also has ``name``."""
    if "_" not in key:  # the common case, without the regular expression
        return key
    duplicate = JSON_DUPLICATE_KEY.fullmatch(key)
    return duplicate["base"] if duplicate and duplicate["base"] in element else key


# What `parse_event_json` reads straight from the ``evtx`` package's JSON. It gives exactly
# what ``parse_event(node_from_json("Event", event)[0])`` gives (the same rows, the same
# errors) without making a `Node` per element, which was most of the time spent per record.
# The helpers below mirror `node_from_json`: a key's value stands for no element (an empty
# list), one, or several (a list, a ``#text`` list); every element of the event is checked
# against MAX_DEPTH, as building its tree would.


class _JsonNode(NamedTuple):
    """One element of the JSON rendering, as far as `parse_event_json` looks at it."""

    attributes: Any  # the object's ``#attributes`` value (a dict when it has any), else None
    text: str | None
    children: Mapping[str, Any] | None  # the object whose keys are its children, if any


def _json_attribute(attributes: Any, name: str) -> str | None:
    """``Node.attributes.get(name)`` for a (non-``xmlns``) attribute name."""
    return _json_scalar(attributes.get(name)) if isinstance(attributes, dict) else None


def _has_nodes(value: Any) -> bool:
    """Does the value stand for at least one element?"""
    if isinstance(value, dict):
        text = value.get("#text")
        return not isinstance(text, list) or bool(text)
    if isinstance(value, list):
        return any(_has_nodes(item) for item in value)
    return True


def _first_node(value: Any) -> _JsonNode | None:
    """The first element a key's value stands for (`node_from_json`'s first node)."""
    if isinstance(value, dict):
        attributes = value.get("#attributes")
        text = value.get("#text")
        if isinstance(text, list):
            return _JsonNode(attributes, _json_scalar(text[0]), None) if text else None
        for key, item in value.items():
            if key not in NOT_CHILD_KEYS and _has_nodes(item):
                return _JsonNode(attributes, None, value)
        return _JsonNode(attributes, _json_scalar(text), None)
    if isinstance(value, list):
        for item in value:
            node = _first_node(item)
            if node is not None:
                return node
        return None
    return _JsonNode(None, _json_scalar(value), None)


def _child_finder(node: _JsonNode) -> Callable[[str], _JsonNode | None]:
    """`Node.child` of one element: its first child element named ``tag``."""
    element = node.children
    if element is None:
        return lambda tag: None
    if "_" in "".join(element):  # a key may be a repeated element (``name_1``)
        return lambda tag: _json_child(element, tag)
    return lambda tag: _first_node(element[tag]) if tag in element else None


def _json_child(element: Mapping[str, Any], tag: str) -> _JsonNode | None:
    """The first child element named ``tag`` of the element with these keys."""
    for key, item in element.items():
        if key in NOT_CHILD_KEYS or (key if "_" not in key else _child_tag(key, element)) != tag:
            continue
        found = _first_node(item)
        if found is not None:
            return found
    return None


def _check_depth(value: Any, depth: int) -> None:
    """Raise as `node_from_json` does when an element below ``value`` is nested too deep."""
    if depth > MAX_DEPTH:
        raise EventError(f"elements nested deeper than {MAX_DEPTH}")
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_CHILD_KEYS and (depth >= MAX_DEPTH or isinstance(item, dict | list)):
                _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            if depth >= MAX_DEPTH or isinstance(item, dict | list):
                _check_depth(item, depth + 1)


def _walk_json(
    tag: str, value: Any, depth: int, prefix: str, pairs: list[tuple[str, str | None]]
) -> None:
    """`_walk` over the elements one key's value stands for, straight from the JSON."""
    if depth > MAX_DEPTH:
        raise EventError(f"elements nested deeper than {MAX_DEPTH}")
    if isinstance(value, dict):
        key = prefix + (_json_attribute(value.get("#attributes"), "Name") or tag)
        text = value.get("#text")
        if isinstance(text, list):  # repeated text-only elements; other keys are dropped
            _check_depth(value, depth)
            pairs.extend((key, clean(_json_scalar(item))) for item in text)
            return
        count = len(pairs)
        below = key + "."
        for child_key, item in value.items():
            if child_key in NOT_CHILD_KEYS:
                continue
            child_tag = _child_tag(child_key, value)
            if depth < MAX_DEPTH and not isinstance(item, dict | list):
                pairs.append((below + child_tag, clean(_json_scalar(item))))
            else:
                _walk_json(child_tag, item, depth + 1, below, pairs)
        if len(pairs) == count:  # no child element: a leaf (every element gives a pair)
            pairs.append((key, clean(_json_scalar(text))))
    elif isinstance(value, list):
        for item in value:
            _walk_json(tag, item, depth + 1, prefix, pairs)
    else:
        pairs.append((prefix + tag, clean(_json_scalar(value))))


def _walk_section(
    value: Any, depth: int, pairs: list[tuple[str, str | None]], unwrap: bool
) -> None:
    """`flatten_data` for the elements of one data section (``unwrap``: of ``UserData``,
    whose children are wrappers walked in turn) or of one ``UserData`` wrapper."""
    if depth > MAX_DEPTH:
        raise EventError(f"elements nested deeper than {MAX_DEPTH}")
    if isinstance(value, list):
        for item in value:
            _walk_section(item, depth + 1, pairs, unwrap)
        return
    if not isinstance(value, dict):
        return  # an element with no children holds no data
    if isinstance(value.get("#text"), list):  # text-only elements, no children
        _check_depth(value, depth)
        return
    for key, item in value.items():
        if key in NOT_CHILD_KEYS:
            continue
        if unwrap:
            _walk_section(item, depth + 1, pairs, unwrap=False)
        elif depth < MAX_DEPTH and not isinstance(item, dict | list):
            pairs.append((_child_tag(key, value), clean(_json_scalar(item))))
        else:
            _walk_json(_child_tag(key, value), item, depth + 1, "", pairs)


def parse_event_json(event: Mapping[str, Any], fallback_time: str | None = None) -> WinEvent:
    """``parse_event(node_from_json("Event", event)[0], fallback_time)``, made faster.

    ``event`` is the ``Event`` object of the ``evtx`` package's JSON rendering; the errors are
    those of the tree (`EventError`; ``ValueError`` when a ``#text`` list makes the object
    stand for no element or several).
    """
    if isinstance(event.get("#text"), list):  # not one <Event>: as the tree says (rare)
        (tree,) = node_from_json("Event", event)
        return parse_event(tree, fallback_time)
    pairs: list[tuple[str, str | None]] = []
    system_keys: list[str] = []
    for key, value in event.items():
        if key in NOT_CHILD_KEYS:
            continue
        tag = _child_tag(key, event)
        if tag in NOT_DATA_SECTIONS:
            _check_depth(value, 1)
            if tag == "System":
                system_keys.append(key)
        else:
            _walk_section(value, 1, pairs, unwrap=tag == "UserData")
    system = next(
        (node for key in system_keys if (node := _first_node(event[key])) is not None), None
    )
    if system is None:
        raise EventError("event has no <System> element")
    child = _child_finder(system)

    def text(tag: str) -> str | None:
        node = child(tag)
        return None if node is None else clean(node.text)

    event_id = _int(text("EventID"))
    if event_id is None:
        raise EventError("event has no numeric EventID")
    created = child("TimeCreated")
    stamp = _json_attribute(created.attributes, "SystemTime") if created is not None else None
    stamp = stamp or fallback_time
    if not stamp:
        raise EventError("event has no TimeCreated/@SystemTime")
    provider = child("Provider")
    return WinEvent(
        time=parse_system_time(stamp),
        computer=text("Computer"),
        channel=text("Channel"),
        provider=(
            clean(_json_attribute(provider.attributes, "Name")) if provider is not None else None
        ),
        event_id=event_id,
        record_id=_int(text("EventRecordID")),
        keywords=_number(text("Keywords")),  # an unsigned 64-bit mask
        data=_numbered(pairs),
    )


def node_from_element(element: Element, depth: int = 0) -> Node:
    """The tree of an (already safely parsed) XML element, namespaces dropped."""
    if depth > MAX_DEPTH:
        raise EventError(f"elements nested deeper than {MAX_DEPTH}")
    children = tuple(node_from_element(child, depth + 1) for child in element)
    attributes = {_local(name): value for name, value in element.attrib.items()}
    return Node(_local(element.tag), attributes, None if children else element.text, children)


@dataclass(frozen=True)
class WinEvent:
    """The parts of one event that rows are made of; ``time`` is UTC without clock offset."""

    time: dt.datetime
    computer: str | None
    channel: str | None
    provider: str | None
    event_id: int
    record_id: int | None
    keywords: int | None
    data: dict[str, str | None]


def clean(text: str | None) -> str | None:
    """A value as rows carry it: empty is null, line ends LF, valid Unicode.

    >>> clean("a\\r\\nb"), clean(""), clean("\\ud800x")
    ('a\\nb', None, '\\ufffdx')
    """
    if not text:
        return None
    if "\r" in text:
        text = LINE_ENDS.sub("\n", text)
    if text.isascii():  # a flag of the string, cheaper than encoding it
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def parse_system_time(text: str) -> dt.datetime:
    """``TimeCreated/@SystemTime`` as an aware UTC time (100 ns digits cut to microseconds).

    >>> parse_system_time("2020-07-22T20:29:27.3217694Z").isoformat()
    '2020-07-22T20:29:27.321769+00:00'
    >>> parse_system_time("2020-07-22 20:29:27.321769 UTC").isoformat()
    '2020-07-22T20:29:27.321769+00:00'
    """
    match = SYSTEM_TIME.fullmatch(text)
    if match is None:
        raise EventError(f"not a time stamp: {text[:40]!r}")
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    zone = match["zone"]
    offset = "+00:00" if zone in (None, "Z", "UTC") else zone
    try:
        moment = dt.datetime.fromisoformat(f"{match['date']}T{match['clock']}.{fraction}{offset}")
    except ValueError as error:
        raise EventError(f"not a time stamp: {text[:40]!r} ({error})") from None
    return moment.astimezone(dt.UTC)


def _number(text: str | None) -> int | None:
    """A decimal or ``0x`` hexadecimal number, else None."""
    if text is None:
        return None
    text = text.strip()
    try:
        return int(text, 16) if text[:2].lower() == "0x" else int(text)
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    """A number that fits an int64 column, else None.

    >>> _int("0x1a2c"), _int(" 443 "), _int("-"), _int("0x" + "f" * 17)
    (6700, 443, None, None)
    """
    number = _number(text)
    return number if number is not None and INT64_MIN <= number <= INT64_MAX else None


def flatten_data(event: Node) -> dict[str, str | None]:
    """The event's payload as name -> value (see the module docstring for the keys)."""
    pairs: list[tuple[str, str | None]] = []
    for section in event.children:
        if section.tag in NOT_DATA_SECTIONS:
            continue
        if section.tag == "UserData":
            for wrapper in section.children:
                _walk(wrapper.children, "", pairs)
        else:
            _walk(section.children, "", pairs)
    return _numbered(pairs)


def _numbered(pairs: list[tuple[str, str | None]]) -> dict[str, str | None]:
    """The pairs as a dict, a key that occurs more than once numbered ``[1]``, ``[2]`` ..."""
    data = dict(pairs)
    if len(data) == len(pairs):  # no key repeated
        return data
    counts = Counter(key for key, _ in pairs)
    seen: Counter[str] = Counter()
    data = {}
    for key, value in pairs:
        if counts[key] > 1:
            seen[key] += 1
            key = f"{key}[{seen[key]}]"
        data[key] = value
    return data


def _walk(nodes: tuple[Node, ...], prefix: str, pairs: list[tuple[str, str | None]]) -> None:
    for node in nodes:
        key = prefix + (node.attributes.get("Name") or node.tag)
        if node.children:
            _walk(node.children, key + ".", pairs)
        else:
            pairs.append((key, clean(node.text)))


def _system_text(system: Node, tag: str) -> str | None:
    node = system.child(tag)
    return None if node is None else clean(node.text)


def parse_event(event: Node, fallback_time: str | None = None) -> WinEvent:
    """The `WinEvent` of an ``<Event>`` tree; `EventError` when it is not one.

    ``fallback_time`` (the EVTX record header's time) is used when ``TimeCreated`` is missing.
    """
    if event.tag != "Event":
        raise EventError(f"root element is <{event.tag[:40]}>, not <Event>")
    system = event.child("System")
    if system is None:
        raise EventError("event has no <System> element")
    event_id = _int(_system_text(system, "EventID"))
    if event_id is None:
        raise EventError("event has no numeric EventID")
    created = system.child("TimeCreated")
    stamp = created.attributes.get("SystemTime") if created is not None else None
    stamp = stamp or fallback_time
    if not stamp:
        raise EventError("event has no TimeCreated/@SystemTime")
    provider = system.child("Provider")
    return WinEvent(
        time=parse_system_time(stamp),
        computer=_system_text(system, "Computer"),
        channel=_system_text(system, "Channel"),
        provider=clean(provider.attributes.get("Name")) if provider is not None else None,
        event_id=event_id,
        record_id=_int(_system_text(system, "EventRecordID")),
        keywords=_number(_system_text(system, "Keywords")),  # an unsigned 64-bit mask
        data=flatten_data(event),
    )


def _usable(text: str | None) -> str | None:
    """A name field's value, or None for Windows' placeholders (empty, ``-``)."""
    if text is None:
        return None
    text = text.strip()
    return None if text in ("", "-") else text


def _qualified(user: str | None, domain: str | None) -> str | None:
    """``DOMAIN\\user`` (or the name alone when it has no domain or already is qualified)."""
    user = _usable(user)
    if user is None:
        return None
    domain = _usable(domain)
    if domain is None or "\\" in user or "@" in user:
        return user
    return f"{domain}\\{user}"


def main_account(event: WinEvent) -> str | None:
    """The account an event is about: target, else subject, else Sysmon's ``User``."""
    data = event.data
    if event.event_id == 4740 and _is_security(event):
        return _usable(data.get("TargetUserName"))  # its TargetDomainName is a computer
    return (
        _qualified(data.get("TargetUserName"), data.get("TargetDomainName"))
        or _qualified(data.get("SubjectUserName"), data.get("SubjectDomainName"))
        or _usable(data.get("User"))
    )


def is_credential(account: str | None) -> bool:
    """`identity.is_credential_account`, also for the user part of ``DOMAIN\\user`` /
    ``user@REALM``, and not for the built-in accounts of `SERVICE_DOMAINS`.

    >>> is_credential("EXAMPLE\\\\tyamada"), is_credential("DC01$@EXAMPLE.COM")
    (True, False)
    >>> is_credential("NT AUTHORITY\\\\SYSTEM"), is_credential("Window Manager\\\\DWM-1")
    (False, False)
    """
    if account is None or not is_credential_account(account):
        return False
    domain, _, user = account.rpartition("\\")
    user = user.split("@", 1)[0]
    return is_credential_account(user) and domain.strip().casefold() not in SERVICE_DOMAINS


def source_ip(text: str | None) -> str | None:
    """``IpAddress`` as an address: ``-`` is none, ``::ffff:a.b.c.d`` is ``a.b.c.d``.

    Loopback stays loopback (a logon from the computer itself, rules.md, Exposure); text that
    is not an address is kept as written.

    >>> source_ip("::ffff:172.16.66.1"), source_ip("-"), source_ip("::1")
    ('172.16.66.1', None, '::1')
    """
    text = _usable(text)
    if text is None:
        return None
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return text
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _workstation(text: str | None) -> str | None:
    """A workstation name without the ``\\\\`` UNC prefix 4776 sometimes writes."""
    text = _usable(text)
    return None if text is None else (text.lstrip("\\") or None)


def _method(data: Mapping[str, str | None]) -> str | None:
    """``ntlm`` / ``kerberos`` / the package of a 4624 or 4625 (see the module docstring)."""
    package = (_usable(data.get("AuthenticationPackageName")) or "").casefold()
    lm_package = (_usable(data.get("LmPackageName")) or "").casefold()
    if "ntlm" in package or "ntlm" in lm_package or package.startswith("microsoft_authentica"):
        return "ntlm"
    if "kerberos" in package:
        return "kerberos"
    if package:
        return package
    process = _usable(data.get("LogonProcessName"))
    return process.casefold() if process else None


def _status_name(code: int, names: Mapping[int, str]) -> str:
    return f"0x{code:x} {names[code]}" if code in names else f"0x{code:x}"


def _failure_reason(data: Mapping[str, str | None]) -> str | None:
    """4625's NTSTATUS: the SubStatus when it is set, since Status is often only 0xC000006D."""
    for name in ("SubStatus", "Status"):
        code = _int(data.get(name))
        if code:
            return _status_name(code, NTSTATUS_NAMES)
    return None


class _Context:
    """What every typed row of one event shares."""

    def __init__(self, event: WinEvent, item: EvidenceItem, record: str) -> None:
        self.event = event
        self.item = item
        self.record = record
        try:
            self.time = item.utc(event.time)
        except OverflowError:
            raise EventError(f"time {event.time} plus the clock offset is out of range") from None
        self.host = item.host or event.computer
        self.data = event.data

    def audit_failed(self) -> bool:
        keywords = self.event.keywords
        return keywords is not None and bool(keywords & AUDIT_FAILURE)

    def key(self, account: str) -> str:
        return account_key(account, self.item.realms, host=self.event.computer or self.host)

    def logon(
        self,
        account: str | None,
        outcome: str,
        *,
        method: str | None,
        src_ip: str | None = None,
        src_host: str | None = None,
        dst_host: str | None = None,
        logon_type: str | None = None,
        session_id: str | None = None,
        end_time: dt.datetime | None = None,
        reason: str | None = None,
    ) -> Iterator[Row]:
        if account is None or not is_credential(account):
            return
        if logon_type is not None and logon_type in NOT_CREDENTIAL_LOGON_TYPES:
            return
        yield Row(
            "logons",
            {
                "time": self.time,
                "system": self.item.system,
                "host": self.host,
                "account": account,
                "account_key": self.key(account),
                "outcome": outcome,
                "src_ip": src_ip,
                "src_host": src_host,
                "dst_host": dst_host,
                "method": method,
                "logon_type": logon_type,
                "session_id": session_id,
                "end_time": end_time,
                "reason": reason,
                "record": self.record,
            },
        )

    def credential_change(self, account: str | None, kind: str, actor: str | None) -> Iterator[Row]:
        if account is None or not is_credential(account) or self.audit_failed():
            return
        yield Row(
            "credential_changes",
            {
                "time": self.time,
                "system": self.item.system,
                "host": self.host,
                "account": account,
                "account_key": self.key(account),
                "kind": kind,
                "actor": actor,
                "record": self.record,
            },
        )

    def status_outcome(self, names: Mapping[int, str]) -> tuple[str, str | None]:
        """(outcome, reason) from ``Status``; without one, from the audit keywords."""
        code = _int(self.data.get("Status"))
        if code is None:
            return ("failure", None) if self.audit_failed() else ("success", None)
        return ("success", None) if code == 0 else ("failure", _status_name(code, names))


def _target(context: _Context) -> str | None:
    return _qualified(context.data.get("TargetUserName"), context.data.get("TargetDomainName"))


def _subject(context: _Context) -> str | None:
    return _qualified(context.data.get("SubjectUserName"), context.data.get("SubjectDomainName"))


def _logon_4624(context: _Context) -> Iterator[Row]:
    data = context.data
    yield from context.logon(
        _target(context),
        "success",
        method=_method(data),
        src_ip=source_ip(data.get("IpAddress")),
        src_host=_workstation(data.get("WorkstationName")),
        dst_host=context.event.computer,
        logon_type=_usable(data.get("LogonType")),
        session_id=_usable(data.get("TargetLogonId")),
    )


def _logon_4625(context: _Context) -> Iterator[Row]:
    data = context.data
    yield from context.logon(
        _target(context),
        "failure",
        method=_method(data),
        src_ip=source_ip(data.get("IpAddress")),
        src_host=_workstation(data.get("WorkstationName")),
        dst_host=context.event.computer,
        logon_type=_usable(data.get("LogonType")),
        reason=_failure_reason(data),
    )


def _logoff(context: _Context) -> Iterator[Row]:
    data = context.data
    yield from context.logon(
        _target(context),
        "logoff",
        method=None,
        dst_host=context.event.computer,
        logon_type=_usable(data.get("LogonType")),
        session_id=_usable(data.get("TargetLogonId")),
        end_time=context.time,
    )


def _explicit_credentials(context: _Context) -> Iterator[Row]:
    data = context.data
    subject = _subject(context)
    process = _usable(data.get("ProcessName"))
    reason = " ".join(
        part
        for part in (f"by {subject}" if subject else "", f"via {process}" if process else "")
        if part
    )
    yield from context.logon(
        _target(context),
        "success",
        method="explicit_credentials",
        src_ip=source_ip(data.get("IpAddress")),
        src_host=context.event.computer,
        dst_host=_usable(data.get("TargetServerName")),
        reason=reason or None,
    )


def _kerberos_tgt(context: _Context) -> Iterator[Row]:
    data = context.data
    outcome, reason = context.status_outcome(KERBEROS_STATUS_NAMES)
    yield from context.logon(
        _target(context),
        outcome,
        method="kerberos",
        src_ip=source_ip(data.get("IpAddress")),
        dst_host=context.event.computer,
        reason=reason,
    )


def _kerberos_service_ticket(context: _Context) -> Iterator[Row]:
    data = context.data
    outcome, reason = context.status_outcome(KERBEROS_STATUS_NAMES)
    service = _usable(data.get("ServiceName"))
    dst_host = service[:-1] if service and service.endswith("$") else None
    yield from context.logon(
        _target(context),
        outcome,
        method="kerberos",
        src_ip=source_ip(data.get("IpAddress")),
        dst_host=dst_host,
        reason=reason if reason else (f"service {service}" if service else None),
    )


def _kerberos_preauth_failed(context: _Context) -> Iterator[Row]:
    data = context.data
    user = _usable(data.get("TargetUserName"))
    realm = KRBTGT.fullmatch((data.get("ServiceName") or "").strip())
    if user is not None and realm is not None and "@" not in user and "\\" not in user:
        user = f"{user}@{realm['realm']}"
    code = _int(data.get("Status"))
    yield from context.logon(
        user,
        "failure",
        method="kerberos",
        src_ip=source_ip(data.get("IpAddress")),
        dst_host=context.event.computer,
        reason=None if code is None else _status_name(code, KERBEROS_STATUS_NAMES),
    )


def _ntlm_validation(context: _Context) -> Iterator[Row]:
    data = context.data
    outcome, reason = context.status_outcome(NTSTATUS_NAMES)
    yield from context.logon(
        _usable(data.get("TargetUserName")),
        outcome,
        method="ntlm",
        src_host=_workstation(data.get("Workstation")),
        dst_host=context.event.computer,
        reason=reason,
    )


def _changed(kind: str) -> Callable[[_Context], Iterator[Row]]:
    def change(context: _Context) -> Iterator[Row]:
        yield from context.credential_change(_target(context), kind, _subject(context))

    return change


def _locked_out(context: _Context) -> Iterator[Row]:
    yield from context.credential_change(
        _usable(context.data.get("TargetUserName")), "locked_out", None
    )


def _process(
    context: _Context,
    *,
    user: str | None,
    pid: str | None,
    image: str | None,
    parent: str | None,
    hashes: str | None = None,
) -> Iterator[Row]:
    found = SHA256_HASH.search(hashes or "")
    yield Row(
        "processes",
        {
            "time": context.time,
            "host": context.host,
            "user": user,
            "pid": _int(pid),
            "image": image,
            "command_line": context.data.get("CommandLine"),
            "parent_image": parent,
            "sha256": found["hash"].lower() if found else None,
            "system": context.item.system,
            "record": context.record,
        },
    )


def _process_4688(context: _Context) -> Iterator[Row]:
    data = context.data
    yield from _process(
        context,
        user=_target(context) or _subject(context),
        pid=data.get("NewProcessId"),
        image=_usable(data.get("NewProcessName")),
        parent=_usable(data.get("ParentProcessName")),
    )


def _process_sysmon(context: _Context) -> Iterator[Row]:
    data = context.data
    yield from _process(
        context,
        user=_usable(data.get("User")),
        pid=data.get("ProcessId"),
        image=_usable(data.get("Image")),
        parent=_usable(data.get("ParentImage")),
        hashes=data.get("Hashes"),
    )


def _network_sysmon(context: _Context) -> Iterator[Row]:
    data = context.data
    yield Row(
        "network",
        {
            "time": context.time,
            "host": context.host,
            "src_ip": source_ip(data.get("SourceIp")),
            "dst_ip": source_ip(data.get("DestinationIp")),
            "dst_host": _usable(data.get("DestinationHostname")),
            "dst_port": _int(data.get("DestinationPort")),
            "user": _usable(data.get("User")),
            "system": context.item.system,
            "record": context.record,
        },
    )


Mapper = Callable[[_Context], Iterator[Row]]

SECURITY_EVENTS: dict[int, Mapper] = {
    4624: _logon_4624,
    4625: _logon_4625,
    4634: _logoff,
    4647: _logoff,
    4648: _explicit_credentials,
    4768: _kerberos_tgt,
    4769: _kerberos_service_ticket,
    4771: _kerberos_preauth_failed,
    4776: _ntlm_validation,
    4723: _changed("changed"),
    4724: _changed("reset"),
    4725: _changed("disabled"),
    4740: _locked_out,
    4688: _process_4688,
}
SYSMON_EVENTS: dict[int, Mapper] = {1: _process_sysmon, 3: _network_sysmon}

TABLES: tuple[str, ...] = ("win_events", "logons", "credential_changes", "processes", "network")


def _is_security(event: WinEvent) -> bool:
    return (event.provider or "").casefold() == SECURITY_PROVIDER


def _mapper(event: WinEvent) -> Mapper | None:
    provider = (event.provider or "").casefold()
    if provider == SECURITY_PROVIDER:
        return SECURITY_EVENTS.get(event.event_id)
    if provider == SYSMON_PROVIDER:
        return SYSMON_EVENTS.get(event.event_id)
    return None


def data_json(data: Mapping[str, str | None]) -> str:
    """The ``win_events.data`` text: a JSON object with sorted keys."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_rows(event: WinEvent, item: EvidenceItem, record: str) -> list[Row]:
    """The ``win_events`` row of an event, then its typed rows (all citing ``record``).

    A list, not a generator, so that an `EventError` (a time out of range) comes before any
    row of the event: the event is then one error and nothing else.
    """
    context = _Context(event, item, record)
    rows = [
        Row(
            "win_events",
            {
                "time": context.time,
                "host": context.host,
                "channel": event.channel,
                "provider": event.provider,
                "event_id": event.event_id,
                "record_id": event.record_id,
                "account": main_account(event),
                "data": data_json(event.data),
                "system": item.system,
                "record": record,
            },
        )
    ]
    mapper = _mapper(event)
    if mapper is not None:
        rows.extend(mapper(context))
    return rows
