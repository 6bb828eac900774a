"""One RFC 5322 message to rows: what the ``mbox`` and ``eml`` formats share.

A message becomes one ``messages`` row, one ``attachments`` row per attached part and one
``addresses`` row per (address, where) pair: every mailbox in From, Sender, Reply-To, To, Cc and
Bcc (``where`` = the header name, lower-case) and every address mentioned in a text/plain body
(``where = "mention"``). Addresses are normalised by `breachscope.identity.normalize_address`
(rules.md, Identity, E-mail addresses): group names and bare words are not addresses and are
skipped silently, because they are everywhere in real mail (``undisclosed-recipients:;``).

Evidence is hostile, so parsing never trusts the message:

* headers are parsed with `email.policy.default` semantics through `EVIDENCE_POLICY`, which
  decodes 8-bit header bytes as UTF-8 (rules.md) and, when the standard library's structured
  header parser crashes (Python 3.11 raises ``IndexError`` on some Message-IDs in the
  phishing corpus), keeps the header as unstructured text instead of failing the message;
* an angle-bracketed ``<local@domain>`` that the structured parser lost in a malformed address
  header (``EDEKA-Gutschein;<service@stayfriends.de>``) is still taken, but never from inside a
  quoted display name or a comment, where a forger puts the address he wants to be seen;
* memory is bounded: a message above `MAX_MESSAGE_BYTES` keeps only its header section (its
  message and address rows still appear, with a warning); attachments above
  `MAX_ATTACHMENT_BYTES` get a row with size and SHA-256 (hashing is cheap and lets IOC and
  campaign matching work) but neither a `Blob` nor `attachment_payloads` hands their bytes on,
  with a warning; body mentions are scanned in at most `MAX_MENTION_SCAN_CHARS` characters per
  message with a regex whose repetitions are bounded, so no input makes it backtrack for long;
* time is bounded: the standard library parses some long header values in quadratic time, so
  structured parsing stops at `MAX_HEADER_CHARS` per value (long recipient lists are cut into
  mailboxes by a linear tokenizer first, see `_mailboxes`); MIME parts nested so deeply that the
  recursive parser gives up leave the message with its headers and a warning.

Each attachment's decoded bytes follow its row as a `Blob`, which the ingest keeps once by
SHA-256 (this module never stores anything). Attachments are leaf parts with a file name or a
non-text type (a nameless inline image counts; a text or HTML body does not), found anywhere in
the MIME tree, including inside an attached message/rfc822. Every problem is reported against
the message's record; a message is an error only when it has no header fields at all (or its
parsing fails outright), otherwise it keeps its rows and gets warnings.

A message without a Message-ID gets ``<sha256-hex@breachscope.invalid>``, the SHA-256 of its raw
bytes with line endings made LF and trailing blank lines dropped, so the same message read from
an mbox, a CRLF ``.eml`` or a second copy gets the same id (``.invalid`` is reserved by RFC 2606,
so it can never meet a real one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from typing import IO, Any

from breachscope.formats.base import Blob, EvidenceItem, Problem, Row, Yielded
from breachscope.identity import normalize_address

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
MAX_HEADER_BYTES = 4 * 1024 * 1024
MAX_HEADER_CHARS = 4096
MAX_PARSED_MAILBOXES = 2000
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
MAX_MENTION_SCAN_CHARS = 1024 * 1024
MAX_MENTIONS_PER_MESSAGE = 1000
SYNTHETIC_ID_DOMAIN = "breachscope.invalid"
ADDRESS_HEADERS = ("from", "sender", "reply-to", "to", "cc", "bcc")
RECIPIENT_HEADERS = ("to", "cc", "bcc")
MENTION = "mention"
READ_CHUNK = 1 << 20
MAIL_HEADERS = frozenset(
    {
        b"received", b"from", b"to", b"cc", b"bcc", b"subject", b"date", b"message-id",
        b"return-path", b"delivered-to", b"mime-version", b"reply-to", b"sender",
        b"content-type", b"content-transfer-encoding", b"x-mailer", b"dkim-signature",
        b"authentication-results", b"x-original-to", b"envelope-to", b"x-received",
        b"arc-seal", b"arc-message-signature", b"arc-authentication-results",
        b"references", b"in-reply-to", b"thread-index", b"thread-topic", b"x-sender",
    }
)  # fmt: skip
# Header names only a mail message has (an HTTP dump has Date and Content-Type too).
MAIL_ONLY_HEADERS = frozenset(
    {b"received", b"from", b"message-id", b"subject", b"return-path", b"delivered-to",
     b"mime-version"}
)  # fmt: skip

# Bounded repetitions and a look-behind anchor: each start position costs at most ~64 steps.
MENTION_PATTERN = re.compile(
    r"(?<![\w.+\-])[\w.+\-]{1,64}@(?:[\w\-]{1,63}\.){1,8}[\w\-]{2,63}(?![\w\-])"
)
# Angle brackets, quoted strings and comments, left to right: an angle-addr inside a quoted
# display name is consumed with the quoted string, so it is never taken for the address.
_ADDRESS_TOKENS = re.compile(r'<([^<>]{1,512})>|"(?:[^"\\]|\\.){0,2048}"|\([^()]{0,2048}\)')
_ANGLE_JUNK = " \t,;:\"'"
# Linear: quoted strings and comments (unclosed ones run to the end), angle brackets,
# separators, and runs of anything else.
_TOP_LEVEL_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"?|\((?:[^()\\]|\\.)*\)?|<[^<>]*>?|[,;:]|[^",;:(<]+|.', re.DOTALL
)
_HEADER_LINE = re.compile(rb"([!-9;-~]{1,200})[ \t]*:")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_UTC_UNKNOWN_ZONE = re.compile(r"(?<![\w+\-])-0000\s*(?:\(.*\))?\s*$")


def utf8_text(text: str) -> str:
    """``text`` with 8-bit bytes (kept as surrogate escapes by the parser) decoded as UTF-8.

    Bytes that are not UTF-8 become U+FFFD: rules.md says 8-bit headers are UTF-8, and a lone
    surrogate cannot be written to Parquet at all.

    >>> utf8_text("Gl\\udcc3\\udcbcck")
    'Glück'
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes, bool]]:
    """(byte offset, line, starts a line) over a binary stream, in pieces of `READ_CHUNK`.

    A line longer than `READ_CHUNK` comes in several pieces; only the first starts a line. So
    a file with no line breaks never has to fit in memory at once.
    """
    offset = 0
    line_start = True
    while line := stream.readline(READ_CHUNK):
        yield offset, line, line_start
        offset += len(line)
        line_start = line.endswith(b"\n")


def looks_like_headers(head: bytes) -> bool:
    """Whether ``head`` begins with an RFC 5322 header section of a mail message.

    Header lines (``Name: value`` with a printable name, or folded continuations) are read from
    the top until a blank or a non-header line; the first line must be one. Among their names
    at least two must be common mail headers and one of them a header only mail has, so a
    syslog file (names with spaces), a CSV (no colon) or an HTTP header dump is not taken. The
    last line may be cut off by the sniff window and is not required to be whole.
    """
    names: set[bytes] = set()
    for index, line in enumerate(head.split(b"\n")):
        if line.rstrip(b"\r") == b"":
            break
        if line[:1] in (b" ", b"\t"):
            if index == 0:
                return False
            continue
        match = _HEADER_LINE.match(line)
        if match is None:
            if index == 0:
                return False
            break
        names.add(match.group(1).lower())
    known = names & MAIL_HEADERS
    return len(known) >= 2 and bool(known & MAIL_ONLY_HEADERS)


HEADERS = HeaderRegistry()


class _EvidencePolicy(EmailPolicy):
    """`email.policy.default`, but headers are UTF-8 and a header parser crash is not fatal.

    A header value longer than `MAX_HEADER_CHARS` is cut there and kept as plain text: the
    standard library parses some long values in quadratic time (an 80 KB Content-Type of
    quotes takes minutes), and no legitimate Date, Message-ID, Subject or Content-* header is
    that long. Address headers are read in full from the raw items (see `_mailboxes`).
    """

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if hasattr(value, "name"):
            return value
        text = _LINE_BREAK.sub("", utf8_text(str(value)))
        if len(text) > MAX_HEADER_CHARS:
            return HEADERS["x-breachscope-unparsed"](name, text[:MAX_HEADER_CHARS])
        try:
            return super().header_fetch_parse(name, text)
        except Exception:  # the stdlib parser raises assorted errors on hostile headers
            return HEADERS["x-breachscope-unparsed"](name, text)


EVIDENCE_POLICY = _EvidencePolicy(header_factory=HEADERS)


def parse_message(raw: bytes, headers_only: bool = False) -> EmailMessage:
    """Parse raw message bytes with `EVIDENCE_POLICY`."""
    parser = BytesParser(_class=EmailMessage, policy=EVIDENCE_POLICY)
    return parser.parsebytes(raw, headersonly=headers_only)  # type: ignore[return-value]


def _clean(text: object) -> str | None:
    """A string fit for a column: UTF-8-clean, stripped, None when empty."""
    if text is None:
        return None
    cleaned = utf8_text(str(text)).strip()
    return cleaned or None


class RawMessage:
    """The bytes of one message, collected line by line with bounded memory.

    Trailing blank lines are held back until a non-blank line follows, so a message never ends
    with the blank line that separates mbox messages. Past `MAX_MESSAGE_BYTES` only the header
    section is kept (``truncated``), while ``size`` and the digest still cover every byte.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_MESSAGE_BYTES if limit is None else limit
        self.size = 0
        self.truncated = False
        self._lines: list[bytes] = []
        self._pending: list[bytes] = []
        self._kept = 0
        self._digest = hashlib.sha256()
        self._digest_pending = 0

    def add(self, line: bytes, line_start: bool = True) -> None:
        """Append ``line`` (a whole line, or a piece of a long one when ``line_start`` is False)."""
        blank = line_start and line.rstrip(b"\r\n") == b""
        if blank:
            self._pending.append(line)
            self._digest_pending += 1
            return
        if self._pending:
            for held in self._pending:
                self._keep(held)
            self._digest.update(b"\n" * self._digest_pending)
            self._pending.clear()
            self._digest_pending = 0
        self._keep(line)
        body = line[:-2] + b"\n" if line.endswith(b"\r\n") else line
        self._digest.update(body)

    def _keep(self, line: bytes) -> None:
        self.size += len(line)
        if self.truncated:
            return
        if self._kept + len(line) > self.limit:
            self._truncate()
            return
        self._lines.append(line)
        self._kept += len(line)

    def _truncate(self) -> None:
        head: list[bytes] = []
        kept = 0
        for line in self._lines:
            if line.rstrip(b"\r\n") == b"" or kept + len(line) > min(MAX_HEADER_BYTES, self.limit):
                break
            head.append(line)
            kept += len(line)
        self._lines = head
        self._kept = kept
        self.truncated = True

    @property
    def data(self) -> bytes:
        """The kept bytes: the whole message, or its header section when truncated."""
        return b"".join(self._lines)

    @property
    def digest(self) -> str:
        """SHA-256 hex of every byte with LF line endings and no trailing blank lines."""
        return self._digest.hexdigest()

    @classmethod
    def from_bytes(cls, raw: bytes, limit: int | None = None) -> RawMessage:
        """The message of ``raw``, split into lines exactly as `read_lines` splits a stream."""
        message = cls(limit)
        for _, line, line_start in read_lines(io.BytesIO(raw)):
            message.add(line, line_start)
        return message


def synthetic_message_id(raw: bytes | RawMessage) -> str:
    """``<sha256@breachscope.invalid>`` for a message without a Message-ID.

    >>> synthetic_message_id(b"Subject: x\\r\\n\\r\\nbody\\r\\n\\r\\n") == synthetic_message_id(
    ...     b"Subject: x\\n\\nbody\\n")
    True
    """
    message = raw if isinstance(raw, RawMessage) else RawMessage.from_bytes(raw)
    return f"<{message.digest}@{SYNTHETIC_ID_DOMAIN}>"


def _header(message: Message, name: str) -> BaseHeader | str | None:
    try:
        return message.get(name)
    except Exception:
        return None


def _header_texts(message: Message, name: str) -> list[str]:
    texts = []
    for key, value in message.raw_items():
        if key.strip().lower() == name:
            header = EVIDENCE_POLICY.header_fetch_parse(key, value)
            text = _clean(header)
            if text is not None:
                texts.append(text)
    return texts


def parse_date(value: str, item: EvidenceItem) -> tuple[dt.datetime | None, str | None]:
    """(UTC time, None) for a Date header value, or (None, why) when it cannot be read.

    A zone of ``-0000`` means UTC with the sender's zone unknown (RFC 5322 3.3); a date without
    any zone, or with a zone name the standard library does not know, is in the item's zone.
    A leap second (``:60``) is read as ``:59``.
    """
    try:
        moment = _parse_rfc5322_date(value)
    except Exception:  # ValueError, TypeError, OverflowError, depending on the input
        return None, f"unreadable Date header {value[:80]!r}"
    if moment.tzinfo is None and _UTC_UNKNOWN_ZONE.search(value):
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return item.utc(moment), None
    except (ValueError, OverflowError) as error:
        return None, f"impossible Date header {value[:80]!r}: {error}"


def _parse_rfc5322_date(value: str) -> dt.datetime:
    try:
        return parsedate_to_datetime(value)
    except ValueError:
        if ":60" not in value:
            raise
        return parsedate_to_datetime(value.replace(":60", ":59", 1))


def _mailboxes(name: str, raw_value: str) -> Iterator[tuple[str | None, str]]:
    """(display name, normalised address) of each mailbox in one address header value.

    Groups are flattened into their members; a group name is never an address. When the
    structured parser reports defects (a malformed header, common in phishing), two lenient
    readings add what it lost: `email.utils.getaddresses` (``a@x.org; b@y.org``) and every
    ``<...>`` outside quoted strings and comments, stripped of stray ``,;:"'`` (a forger puts
    the address he wants seen inside the quoted display name, so that is never read).

    The standard library's parsers take quadratic time on some inputs (a 32 KB header of
    quotes takes seconds), so a value longer than `MAX_HEADER_CHARS` is first cut at its
    top-level ``,``, ``;`` and ``:`` by a linear tokenizer and each piece read on its own.
    Pieces without ``@`` are skipped; a piece still too long, or past the first
    `MAX_PARSED_MAILBOXES` of the header, gets a cheap reading (its ``<...>``, else the piece
    itself) so time stays linear at a few microseconds per address.
    """
    text = _LINE_BREAK.sub("", utf8_text(raw_value))
    pieces = [text] if len(text) <= MAX_HEADER_CHARS else _top_level_pieces(text)
    found: dict[str, str | None] = {}
    for index, piece in enumerate(pieces):
        if "@" not in piece:
            continue  # no address without an @, and no parser time spent on junk
        cheap = index >= MAX_PARSED_MAILBOXES or len(piece) > MAX_HEADER_CHARS
        for display_name, spec in _cheap_candidates(piece) if cheap else _candidates(name, piece):
            address = normalize_address(utf8_text(spec))
            if address is not None and found.get(address) is None:
                found[address] = _clean(display_name)
    for address, display_name in found.items():
        yield display_name, address


def _candidates(name: str, text: str) -> Iterator[tuple[str | None, str]]:
    """(display name, address as written) of each mailbox in ``text``, parsed."""
    try:
        header = HEADERS(name, text)
        groups, lenient = getattr(header, "groups", ()), bool(header.defects)
    except Exception:  # the stdlib parser raises assorted errors on hostile headers
        groups, lenient = (), True
    for group in groups:
        for mailbox in group.addresses:
            yield mailbox.display_name, f"{mailbox.username}@{mailbox.domain}"
    if lenient:
        try:
            loose = getaddresses([text])
        except Exception:  # RecursionError on deeply nested comments
            loose = []
        for loose_name, spec in loose:
            yield _decoded(loose_name), spec
        yield from _angle_candidates(text)


def _angle_candidates(text: str) -> Iterator[tuple[str | None, str]]:
    """Each ``<...>`` outside quoted strings and comments, without stray punctuation."""
    for match in _ADDRESS_TOKENS.finditer(text):
        if match.group(1) is not None:
            yield None, match.group(1).strip(_ANGLE_JUNK)


def _cheap_candidates(piece: str) -> Iterator[tuple[str | None, str]]:
    """The ``<...>`` of one mailbox piece, else the piece itself: linear, no parser."""
    angles = list(_angle_candidates(piece))
    yield from angles if angles else [(None, piece.strip().strip(_ANGLE_JUNK))]


def _top_level_pieces(text: str) -> list[str]:
    """``text`` cut at ``,``, ``;`` and ``:`` outside quotes, comments and angle brackets."""
    pieces: list[str] = []
    piece: list[str] = []
    for match in _TOP_LEVEL_TOKEN.finditer(text):
        token = match.group(0)
        if token in (",", ";", ":"):
            pieces.append("".join(piece))
            piece = []
        else:
            piece.append(token)
    pieces.append("".join(piece))
    return [p for p in pieces if p.strip()]


def _decoded(text: str) -> str | None:
    """``text`` with RFC 2047 encoded words decoded (as the structured parser does)."""
    try:
        return str(HEADERS["x-breachscope-name"]("x-breachscope-name", text))
    except Exception:
        return text


def header_addresses(message: Message) -> list[tuple[str, str | None, str]]:
    """(where, display name, address) for every mailbox in the address headers, in order."""
    result = []
    for key, value in message.raw_items():
        where = key.strip().lower()
        if where in ADDRESS_HEADERS:
            for display_name, address in _mailboxes(where, str(value)):
                result.append((where, display_name, address))
    return result


def _is_attachment(part: Message, filename: str | None) -> bool:
    maintype = part.get_content_maintype()
    return bool(filename) or maintype not in ("text", "multipart")


def _filename(part: Message) -> str | None:
    try:
        return _clean(part.get_filename())
    except Exception:
        return None


def _attachment_parts(
    message: Message,
) -> Iterator[tuple[str | None, str, bytes | None, str | None]]:
    """(filename, mime, decoded content or None, problem or None) of each attached part.

    A leaf part is attached when it has a file name or is not text; text parts without a name
    are the message body. Containers (multipart, message/rfc822) are walked into, so the parts
    of a forwarded message count too; a broken multipart without boundary is not an attachment.
    """
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = _filename(part)
        if not _is_attachment(part, filename):
            continue
        mime = part.get_content_type()
        try:
            content = part.get_payload(decode=True)
        except Exception as error:
            yield filename, mime, None, f"attachment {filename!r} could not be decoded: {error}"
            continue
        if not isinstance(content, bytes):
            yield filename, mime, None, f"attachment {filename!r} has no content"
            continue
        yield filename, mime, content, None


def attachment_payloads(message: Message) -> Iterator[tuple[str | None, str, bytes]]:
    """(filename, mime, decoded bytes) of each attachment the store may keep by hash.

    Attachments larger than `MAX_ATTACHMENT_BYTES` are left out (their rows still carry size
    and SHA-256, and reading them warned).
    """
    for filename, mime, content, _ in _attachment_parts(message):
        if content is not None and len(content) <= MAX_ATTACHMENT_BYTES:
            yield filename, mime, content


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = str(part.get_content_charset() or "utf-8")
    try:
        return payload.decode(charset, "replace")
    except (LookupError, ValueError):
        return payload.decode("utf-8", "replace")


def body_mentions(message: Message) -> list[str]:
    """Normalised addresses mentioned in text/plain bodies (not attachments), first seen first.

    At most `MAX_MENTION_SCAN_CHARS` characters are scanned per message and at most
    `MAX_MENTIONS_PER_MESSAGE` addresses kept; HTML bodies are not scanned.
    """
    found: dict[str, None] = {}
    budget = MAX_MENTION_SCAN_CHARS
    for part in message.walk():
        if budget <= 0 or len(found) >= MAX_MENTIONS_PER_MESSAGE:
            break
        if part.is_multipart() or part.get_content_type() != "text/plain" or _filename(part):
            continue
        try:
            text = _text_of(part)[:budget]
        except Exception:
            continue
        budget -= len(text)
        for match in MENTION_PATTERN.finditer(text):
            address = normalize_address(match.group(0))
            if address is not None:
                found.setdefault(address)
                if len(found) >= MAX_MENTIONS_PER_MESSAGE:
                    break
    return list(found)


def message_rows(
    raw: bytes | RawMessage, item: EvidenceItem, record: str, folder: str | None = None
) -> Iterator[Yielded]:
    """The rows of one message, or one error `Problem` when it is not a message at all.

    Rows are built completely before any is yielded, so a message that fails half way yields
    its error and nothing else; the caller reads on.
    """
    message = raw if isinstance(raw, RawMessage) else RawMessage.from_bytes(raw)
    try:
        yielded = list(_rows(message, item, record, folder))
    except Exception as error:  # hostile input can break the parser in ways we cannot list
        yield Problem(record, f"message could not be read: {type(error).__name__}: {error}")
        return
    yield from yielded


_TOO_DEEP = "MIME parts nested too deeply: only the headers were read"


def _rows(
    raw: RawMessage, item: EvidenceItem, record: str, folder: str | None
) -> Iterator[Yielded]:
    if raw.size == 0:
        yield Problem(record, "empty message")
        return
    body_skipped = None
    if raw.truncated:
        body_skipped = (
            f"message of {raw.size} bytes is above MAX_MESSAGE_BYTES ({raw.limit}): "
            "only its headers were read, no attachments or body mentions"
        )
    try:
        message = parse_message(raw.data, headers_only=raw.truncated)
    except RecursionError:  # the parser recurses into nested multiparts
        message, body_skipped = parse_message(raw.data, headers_only=True), _TOO_DEEP
    if not message.keys():
        yield Problem(record, "no header fields: not an RFC 5322 message")
        return
    where_item = {"system": item.system, "host": item.host, "record": record}
    message_id = _clean(_header(message, "message-id")) or synthetic_message_id(raw)

    time = None
    date = _clean(_header(message, "date"))
    if date is not None:
        time, problem = parse_date(date, item)
        if problem is not None:
            yield Problem(record, problem, "warning")

    found = header_addresses(message)
    sender = next(((name, a) for where, name, a in found if where == "from"), (None, None))
    reply_to = next((a for where, _, a in found if where == "reply-to"), None)
    recipients = list(dict.fromkeys(a for where, _, a in found if where in RECIPIENT_HEADERS))
    auth_results = _header_texts(message, "authentication-results")
    yield Row(
        "messages",
        {
            "message_id": message_id,
            "time": time,
            "sender": sender[1],
            "display_name": sender[0],
            "reply_to": reply_to,
            "recipients": recipients,
            "subject": _clean(_header(message, "subject")),
            "auth_results": "\n".join(auth_results) or None,
            "mailbox_owner": item.owner,
            "folder": folder,
            **where_item,
        },
    )

    seen: dict[tuple[str, str], str | None] = {}
    for where, display_name, address in found:
        if seen.get((address, where)) is None:
            seen[(address, where)] = display_name
    if body_skipped is None:
        try:  # the MIME tree is walked recursively too
            attachments = list(_attachment_rows(message, message_id, record, where_item))
            mentions = body_mentions(message)
        except RecursionError:
            body_skipped = _TOO_DEEP
        else:
            yield from attachments
            for address in mentions:
                seen.setdefault((address, MENTION), None)
    if body_skipped is not None:
        yield Problem(record, body_skipped, "warning")
    for (address, where), display_name in seen.items():
        yield Row(
            "addresses",
            {
                "address": address,
                "display_name": display_name,
                "where": where,
                "message_id": message_id,
                "mailbox_owner": item.owner,
                **where_item,
            },
        )


def _attachment_rows(
    message: Message, message_id: str, record: str, where_item: dict[str, Any]
) -> Iterable[Yielded]:
    """An ``attachments`` row per attachment, then its content as a `Blob` for the store."""
    for filename, mime, content, problem in _attachment_parts(message):
        if problem is not None:
            yield Problem(record, problem, "warning")
        digest = hashlib.sha256(content).hexdigest() if content is not None else None
        yield Row(
            "attachments",
            {
                "message_id": message_id,
                "filename": filename,
                "sha256": digest,
                "size": len(content) if content is not None else None,
                "mime": mime,
                **where_item,
            },
        )
        if content is None or digest is None:
            continue
        if len(content) > MAX_ATTACHMENT_BYTES:
            yield Problem(
                record,
                f"attachment {filename!r} of {len(content)} bytes is above "
                f"MAX_ATTACHMENT_BYTES ({MAX_ATTACHMENT_BYTES}): its content is not kept",
                "warning",
            )
        else:
            yield Blob(digest, content)
