"""The employee's mailbox as an mbox file, with the malicious e-mail among ordinary mail.

Why it looks the way it does: the exposure rule counts every address in the From, Sender,
Reply-To, To, Cc and Bcc headers of the messages up to window.end (rules.md, Exposure ->
Addresses), so the mailbox is where most of the ~1,000 exposed addresses come from, and where
the traps of that rule live:

- one mailbox written several ways (``H.Suzuki@Example-Space.JP``, ``"Suzuki, Hiroshi"
  <h.suzuki@example-space.jp>``, bare), and an internationalised domain in Unicode (raw UTF-8,
  as 8-bit headers are read) and in punycode: one address each;
- a plus-tag (``t.yamada+ists@...``) kept as its own address;
- ``undisclosed-recipients:;`` and a named group: groups are not addresses, members are;
- Received ``for <...>``, Return-Path and Delivered-To: not address headers, not exposed;
- addresses only in a text/plain body: ``mentioned``, not exposed;
- mail after window.end with addresses seen nowhere else: not exposed.

Bcc appears only on the employee's own sent copies, as in a real mailbox. Every message is
written by hand (headers as text, MIME parts as text) so that the bytes are exactly what the
truth was computed from; the `MessageFact` of each records what it holds.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random
import re
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

import idna

from breachscope.demo.documents import docx, pdf
from breachscope.demo.payload import malicious_rtf
from breachscope.demo.people import (
    IDN_DOMAIN_UNICODE,
    SPELLING_TRAP_LOCAL,
    Directory,
    Person,
)
from breachscope.demo.scenario import (
    ATTACHMENT_NAME,
    MAIL_DOMAIN,
    MAIL_END,
    MAIL_START,
    MALICIOUS_AT,
    QUIET_FROM,
    QUIET_TO,
    SUBJECT_EMAIL,
    Scenario,
    is_workday,
    to_jst,
)

MAILBOX_PATH = "evidence/mail/t.yamada.mbox"
ORDINARY_PER_SCALE = 388  # ordinary messages up to window.end, per unit of scale
AFTER_PER_SCALE = 12  # ordinary messages after window.end
MALICIOUS_SENDER = "secretariat@examp1e-space.jp"  # a digit one for the letter l
MALICIOUS_REPLY_TO = "ists2011-office@conference-services.example"
MALICIOUS_MESSAGE_ID = "<20110706005512.7F3A2C01@mail.examp1e-space.jp>"
MALICIOUS_SUBJECT = "[ISTS 2011] Revised programme of the International Symposium"
MALICIOUS_RECIPIENTS = (SUBJECT_EMAIL, "k.sato@example-space.jp", "m.ito@example-space.jp")
ATTACKER_MAIL_IP = "192.0.2.45"
RECEIVED_ONLY = "archive-bot@example-space.jp"  # only ever in a Received line: not exposed
RETURN_PATH_ONLY = "bounces+x7q2@mailer.space-weekly.example"  # only in Return-Path
PLUS_TAGGED = "t.yamada+ists@example-space.jp"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FROM_LINE = re.compile(r">*From ")
SPECIALS = frozenset('()<>[]:;@\\,."')
KINDS = (
    ("internal", 34),
    ("external", 24),
    ("sent", 14),
    ("newsletter", 8),
    ("distribution", 8),
    ("announcement", 5),
    ("bcc", 4),
    ("group", 3),
)
FRESH_WEIGHT = {
    "distribution": 40,
    "group": 14,
    "bcc": 10,
    "sent": 2,
    "internal": 2,
    "external": 2,
    "newsletter": 1,
    "announcement": 0,
}
SUBJECTS = {
    "internal": [
        "Weekly progress meeting",
        "Re: review of the thermal test report",
        "Budget request for FY2012",
        "Ground segment schedule",
        "Visitor badge request",
        "Fwd: travel approval",
        "Draft minutes of the design review",
        "Lab access during maintenance",
    ],
    "external": [
        "Abstract submission confirmation",
        "Re: joint experiment proposal",
        "Quotation for antenna components",
        "Invitation to the workshop",
        "Data sharing agreement",
        "Re: paper review comments",
        "Meeting request during the conference",
    ],
    "sent": [
        "Re: schedule for next week",
        "Documents for the review",
        "Re: your question about the data",
        "Thank you for the meeting",
    ],
    "newsletter": ["Space Weekly digest", "Monthly bulletin", "Call for papers"],
    "distribution": [
        "Working group meeting: agenda",
        "Conference committee: logistics",
        "Joint study kickoff",
    ],
    "announcement": [
        "Office closure notice",
        "Network maintenance on Saturday",
        "Summer energy saving measures",
    ],
    "bcc": ["Seminar announcement", "Change of my contact details"],
    "group": ["Programme committee: session chairs", "Task force update"],
}
LINES = [
    "Thank you for your message.",
    "Please find the details below.",
    "Could you check the schedule and let me know by Friday?",
    "The meeting room has been changed to B-301.",
    "I will be out of the office until Monday.",
    "The draft is attached for your comments.",
    "We appreciate your cooperation.",
    "See you at the meeting.",
    "The numbers in the second table need to be updated.",
    "Regarding the test campaign, the chamber is booked for two weeks.",
]
MENTION_LINES = [
    "For registration questions, please write to {address}.",
    "You can also reach our coordinator at {address}.",
    "Hotel bookings are handled by {address}.",
]


@dataclass(frozen=True)
class MessageFact:
    """What one message of the mailbox holds, as written."""

    offset: int
    message_id: str
    time: dt.datetime
    headers: tuple[tuple[str, str], ...]
    """(header name in lower case, address as written) for every mailbox in an address
    header; group names are not included (they are not addresses)."""
    mentions: tuple[str, ...]
    """Addresses written in a text/plain body."""
    sender: str
    subject: str
    attachments: tuple[str, ...] = ()


@dataclass
class MailFacts:
    path: str
    messages: list[MessageFact]
    malicious: MessageFact
    attachment: bytes
    attachment_sha256: str
    other_recipients: list[str] = field(default_factory=list)


@dataclass
class _Draft:
    """A message being planned: who it is from and to, before it is written."""

    kind: str
    time: dt.datetime
    sender: Person
    to: list[tuple[str | None, str]] = field(default_factory=list)
    cc: list[tuple[str | None, str]] = field(default_factory=list)
    bcc: list[tuple[str | None, str]] = field(default_factory=list)
    reply_to: str | None = None
    sender_header: str | None = None
    mentions: list[str] = field(default_factory=list)
    attachment: str | None = None


def _mailbox(name: str | None, address: str) -> str:
    """One mailbox as a header writes it: ``Name <addr>``, quoted or encoded when needed."""
    if not name:
        return address
    if not name.isascii():
        encoded = base64.b64encode(name.encode("utf-8")).decode("ascii")
        return f"=?UTF-8?B?{encoded}?= <{address}>"
    if any(char in SPECIALS for char in name):
        return f'"{name}" <{address}>'
    return f"{name} <{address}>"


def _address_list(mailboxes: list[tuple[str | None, str]]) -> str:
    shown = [_mailbox(name, address) for name, address in mailboxes]
    return ",\n ".join(shown) if len(shown) > 3 else ", ".join(shown)


def _date(moment: dt.datetime, zone: str) -> str:
    """An RFC 5322 date in the writer's zone (names spelt here, not by the C locale).

    >>> _date(dt.datetime(2011, 7, 6, 0, 55, tzinfo=dt.UTC), "+0900")
    'Wed, 06 Jul 2011 09:55:00 +0900'
    """
    sign = 1 if zone[0] == "+" else -1
    offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign
    local = moment.astimezone(dt.timezone(offset))
    day, month = WEEKDAYS[local.weekday()], MONTHS[local.month - 1]
    return f"{day}, {local.day:02d} {month} {local.year} {local:%H:%M:%S} {zone}"


def _from_line(envelope: str, moment: dt.datetime) -> str:
    """The mbox separator: ``From sender asctime`` in UTC.

    >>> _from_line("a@b.example", dt.datetime(2011, 7, 4, 0, 12, tzinfo=dt.UTC))
    'From a@b.example Mon Jul  4 00:12:00 2011'
    """
    utc = moment.astimezone(dt.UTC)
    day, month = WEEKDAYS[utc.weekday()], MONTHS[utc.month - 1]
    return f"From {envelope} {day} {month} {utc.day:2d} {utc:%H:%M:%S} {utc.year}"


def _escape_body(text: str) -> str:
    """mboxrd: a body line starting with ``From `` after any ``>`` gets one more ``>``.

    >>> _escape_body("From here\\n>From there\\nok")
    '>From here\\n>>From there\\nok'
    """
    return "\n".join(">" + line if FROM_LINE.match(line) else line for line in text.split("\n"))


def _b64(data: bytes) -> str:
    text = base64.b64encode(data).decode("ascii")
    return "\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def _message_times(
    rng: random.Random, count: int, start: dt.datetime, end: dt.datetime
) -> list[dt.datetime]:
    """``count`` times between ``start`` and ``end``, mostly in Tokyo office hours."""
    span = int((end - start).total_seconds())
    times: list[dt.datetime] = []
    while len(times) < count:
        moment = start + dt.timedelta(seconds=rng.randrange(span))
        local = to_jst(moment)
        office = is_workday(local.date()) and 8 <= local.hour < 21
        if QUIET_FROM <= moment <= QUIET_TO:
            continue
        if office or rng.random() < 0.08:
            times.append(moment)
    return sorted(times)


def _pick_kind(rng: random.Random) -> str:
    names = [name for name, _ in KINDS]
    weights = [weight for _, weight in KINDS]
    return rng.choices(names, weights)[0]


def _named(person: Person, rng: random.Random) -> tuple[str | None, str]:
    return (person.name if rng.random() < 0.7 else None), person.address


def _subject_mailbox(rng: random.Random) -> tuple[str | None, str]:
    """The employee as others write him: four spellings of one address."""
    roll = rng.random()
    if roll < 0.55:
        return "Taro Yamada", SUBJECT_EMAIL
    if roll < 0.75:
        return None, SUBJECT_EMAIL
    if roll < 0.9:
        return "山田 太郎", SUBJECT_EMAIL
    return None, "T.Yamada@Example-Space.JP"


def _suzuki(rng: random.Random) -> tuple[str | None, str]:
    """Hiroshi Suzuki's address in its three spellings (one exposed address)."""
    roll = rng.random()
    if roll < 0.4:
        return "Suzuki, Hiroshi", f"{SPELLING_TRAP_LOCAL}@{MAIL_DOMAIN}"
    if roll < 0.7:
        return None, f"{SPELLING_TRAP_LOCAL}@{MAIL_DOMAIN}"
    return None, "H.Suzuki@Example-Space.JP"


def _plan(scenario: Scenario, people: Directory) -> list[_Draft]:
    """Ordinary messages, with every pool address placed in at least one header."""
    rng = scenario.rng("mail-plan")
    scale = scenario.scale
    internal = [p for p in people.internal if p.address != people.subject.address]
    frequent_internal = internal[:40]
    frequent_external = people.external[:20]
    announcers = {p.address: p for p in people.internal[:7]}
    times = _message_times(rng, ORDINARY_PER_SCALE * scale, MAIL_START, QUIET_FROM)
    drafts: list[_Draft] = []
    for moment in times:
        kind = _pick_kind(rng)
        if kind == "internal":
            sender = rng.choice(frequent_internal)
            draft = _Draft(kind, moment, sender, to=[_subject_mailbox(rng)])
            draft.cc = [_named(p, rng) for p in rng.sample(frequent_internal, rng.randint(0, 3))]
        elif kind == "external":
            sender = rng.choice(people.external)
            draft = _Draft(kind, moment, sender, to=[_subject_mailbox(rng)])
            draft.cc = [_named(p, rng) for p in rng.sample(frequent_external, rng.randint(0, 2))]
        elif kind in ("sent", "bcc"):
            draft = _Draft(kind, moment, people.subject)
            pool = frequent_internal + frequent_external
            targets = [_named(p, rng) for p in rng.sample(pool, rng.randint(1, 3))]
            if kind == "sent":
                draft.to = targets
            else:
                draft.bcc = targets
        elif kind == "newsletter":
            sender = rng.choice(people.external[2:7])
            draft = _Draft(kind, moment, sender, to=[_subject_mailbox(rng)])
        elif kind == "announcement":
            draft = _Draft(kind, moment, announcers["announce@example-space.jp"])
            draft.to = [("All Staff", "all-staff@example-space.jp")]
            draft.sender_header = "owner-announce@lists.example-space.jp"
            draft.reply_to = "soumu@example-space.jp"
        elif kind == "distribution":
            sender = rng.choice(frequent_internal + frequent_external)
            draft = _Draft(kind, moment, sender, to=[_subject_mailbox(rng)])
        else:  # group
            sender = rng.choice(frequent_internal)
            draft = _Draft(kind, moment, sender)
        drafts.append(draft)

    # Every correspondent of the pool appears at least once before window.end.
    placed = {d.sender.address for d in drafts}
    for draft in drafts:
        placed.update(address for _, address in draft.to + draft.cc + draft.bcc)
    fresh = [p for p in internal + people.external if p.address not in placed]
    rng.shuffle(fresh)
    cumulative = list(accumulate(FRESH_WEIGHT[d.kind] for d in drafts))
    for person in fresh:
        draft = rng.choices(drafts, cum_weights=cumulative)[0]
        mailbox = _named(person, rng)
        if draft.kind == "bcc":
            draft.bcc.append(mailbox)
        elif draft.kind == "group" or rng.random() < 0.5:
            draft.to.append(mailbox)
        else:
            draft.cc.append(mailbox)

    _add_traps(rng, drafts, people)
    for index, person in enumerate(people.mentioned_only):
        draft = drafts[(index * 37 + 11) % len(drafts)]
        draft.mentions.append(person.address)

    after = _message_times(rng, AFTER_PER_SCALE * scale, QUIET_TO, MAIL_END)
    late = list(people.post_window_only)
    for moment in after:
        if late:
            draft = _Draft("external", moment, late.pop(0), to=[_subject_mailbox(rng)])
        else:
            draft = _Draft("internal", moment, rng.choice(frequent_internal))
            draft.to = [_subject_mailbox(rng)]
        drafts.append(draft)
    return sorted(drafts, key=lambda d: d.time)


def _add_traps(rng: random.Random, drafts: list[_Draft], people: Directory) -> None:
    """The address spellings that must each count once (see the module docstring)."""
    internal_drafts = [d for d in drafts if d.kind == "internal"]
    for draft in internal_drafts[::5]:
        draft.cc.append(_suzuki(rng))
    # The same address twice in one header, in two cases.
    distribution = [d for d in drafts if d.kind == "distribution"]
    distribution[0].to += [(None, "K.Sato@example-space.jp"), (None, "k.sato@example-space.jp")]
    # An internationalised domain in Unicode, then in punycode.
    idn_person = people.by_address(f"info@{IDN_DOMAIN_UNICODE}")
    externals = [d for d in drafts if d.kind == "external"]
    externals[3].cc.append(_named(externals[3].sender, rng))
    externals[3].sender = idn_person
    punycode = idna.encode(IDN_DOMAIN_UNICODE).decode("ascii")
    externals[9].cc.append(("Uchu Kaihatsu Office", f"INFO@{punycode.upper()}"))
    newsletters = [d for d in drafts if d.kind == "newsletter"]
    newsletters[1].to.append((None, PLUS_TAGGED))


def _text_body(rng: random.Random, draft: _Draft) -> str:
    lines = ["Dear colleagues," if draft.kind in ("distribution", "group") else "Hello,", ""]
    lines += rng.sample(LINES, rng.randint(2, 4))
    for address in draft.mentions:
        lines.append(rng.choice(MENTION_LINES).format(address=address))
    if rng.random() < 0.02:
        lines.append("From the desk of the programme office: thank you.")
    lines += ["", "Best regards,", draft.sender.name]
    return "\n".join(lines) + "\n"


def _html(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    paragraphs = "".join(f"<p>{line}</p>" for line in escaped.split("\n") if line)
    return f"<html><body>{paragraphs}</body></html>\n"


def _render(
    draft: _Draft, message_id: str, body: str, rng: random.Random, number: int
) -> tuple[bytes, tuple[tuple[str, str], ...], tuple[str, ...], str]:
    """(message bytes without the From line, address headers, attachments, subject)."""
    headers: list[str] = []
    written: list[tuple[str, str]] = []
    # Newsletters bounce to their mailer's address: in Return-Path only, so not exposed.
    envelope = RETURN_PATH_ONLY if draft.kind == "newsletter" else draft.sender.address
    headers.append(f"Return-Path: <{envelope}>")
    recipient = RECEIVED_ONLY if number % 53 == 0 else SUBJECT_EMAIL
    headers.append(
        "Received: from mx1.example-space.jp (mx1.example-space.jp [10.20.0.25])\n"
        f" by exch01.example-space.jp with ESMTP id {rng.getrandbits(40):010X}\n"
        f" for <{recipient}>; {_date(draft.time, '+0900')}"
    )
    if draft.kind not in ("sent", "bcc"):
        headers.append(f"Delivered-To: {SUBJECT_EMAIL}")
    sender_box = _named(draft.sender, rng)
    if draft.sender.address == SUBJECT_EMAIL:
        sender_box = ("Taro Yamada", SUBJECT_EMAIL)
    headers.append(f"From: {_mailbox(*sender_box)}")
    written.append(("from", sender_box[1]))
    if draft.sender_header:
        headers.append(f"Sender: {draft.sender_header}")
        written.append(("sender", draft.sender_header))
    if draft.reply_to:
        headers.append(f"Reply-To: {draft.reply_to}")
        written.append(("reply-to", draft.reply_to))
    if draft.kind == "group":
        members = _address_list(draft.to)
        headers.append(f"To: Programme Committee: {members};")
        written += [("to", address) for _, address in draft.to]
    elif draft.kind == "bcc":
        headers.append("To: undisclosed-recipients:;")
    elif draft.to:
        headers.append(f"To: {_address_list(draft.to)}")
        written += [("to", address) for _, address in draft.to]
    if draft.cc:
        headers.append(f"Cc: {_address_list(draft.cc)}")
        written += [("cc", address) for _, address in draft.cc]
    if draft.bcc:
        headers.append(f"Bcc: {_address_list(draft.bcc)}")
        written += [("bcc", address) for _, address in draft.bcc]
    subject = rng.choice(SUBJECTS[draft.kind])
    headers.append(f"Subject: {subject}")
    headers.append(f"Date: {_date(draft.time, draft.sender.zone)}")
    headers.append(f"Message-ID: {message_id}")
    headers.append("MIME-Version: 1.0")
    if rng.random() < 0.4:
        headers.append("X-Mailer: Microsoft Office Outlook 12.0")
    attachments: tuple[str, ...] = ()
    boundary = f"=_part_{number:06d}_{rng.getrandbits(32):08x}"
    text_part = (
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + body
    )
    style = rng.random()
    if draft.kind in ("internal", "distribution") and style < 0.12:
        name, data, mime = _benign_attachment(rng, draft.time, number)
        attachments = (name,)
        headers.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
        content = (
            f"This is a multi-part message in MIME format.\n\n--{boundary}\n{text_part}\n"
            f'--{boundary}\nContent-Type: {mime}; name="{name}"\n'
            f'Content-Disposition: attachment; filename="{name}"\n'
            f"Content-Transfer-Encoding: base64\n\n{_b64(data)}\n--{boundary}--\n"
        )
    elif draft.kind in ("newsletter", "announcement") or style < 0.3:
        headers.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
        html = "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        content = f"--{boundary}\n{text_part}\n--{boundary}\n{html}{_html(body)}\n--{boundary}--\n"
    else:
        headers.append("Content-Type: text/plain; charset=utf-8")
        headers.append("Content-Transfer-Encoding: 8bit")
        content = body
    message = "\n".join(headers) + "\n\n" + _escape_body(content)
    return message.encode("utf-8"), tuple(written), attachments, subject


def _benign_attachment(
    rng: random.Random, when: dt.datetime, number: int
) -> tuple[str, bytes, str]:
    if rng.random() < 0.5:
        lines = ["Agenda", "1. Opening", "2. Status of the work packages", "3. Next steps"]
        return f"agenda-{number:04d}.pdf", pdf("Agenda", lines), "application/pdf"
    paragraphs = ["Minutes of the meeting", "Attendees: see the invitation.", "Actions: none."]
    data = docx("Minutes", "Secretariat", paragraphs, when)
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return f"minutes-{number:04d}.docx", data, mime


def _malicious(attachment: bytes) -> tuple[bytes, tuple[tuple[str, str], ...]]:
    boundary = "----=_NextPart_000_0012_01CC3BB8.5C4A2E30"
    to = ", ".join(MALICIOUS_RECIPIENTS)
    body = (
        "Dear colleagues,\n\nPlease find attached the revised programme of ISTS 2011.\n"
        "Kindly check your session and confirm your attendance by 8 July.\n\n"
        "Best regards,\nSymposium Secretariat\n"
    )
    headers = [
        f"Return-Path: <{MALICIOUS_SENDER}>",
        f"Received: from mail.examp1e-space.jp ([{ATTACKER_MAIL_IP}])\n"
        " by mx1.example-space.jp with ESMTP id 4F2A9C3B01\n"
        f" for <{SUBJECT_EMAIL}>; {_date(MALICIOUS_AT, '+0900')}",
        f"Delivered-To: {SUBJECT_EMAIL}",
        f'From: "ISTS 2011 Secretariat" <{MALICIOUS_SENDER}>',
        f"Reply-To: {MALICIOUS_REPLY_TO}",
        f"To: {to}",
        f"Subject: {MALICIOUS_SUBJECT}",
        f"Date: {_date(MALICIOUS_AT - dt.timedelta(seconds=41), '+0900')}",
        f"Message-ID: {MALICIOUS_MESSAGE_ID}",
        "MIME-Version: 1.0",
        "X-Mailer: Microsoft Office Outlook 12.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
    ]
    content = (
        f"This is a multi-part message in MIME format.\n\n--{boundary}\n"
        "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n"
        f"{body}\n--{boundary}\n"
        f'Content-Type: application/rtf; name="{ATTACHMENT_NAME}"\n'
        f'Content-Disposition: attachment; filename="{ATTACHMENT_NAME}"\n'
        f"Content-Transfer-Encoding: base64\n\n{_b64(attachment)}\n--{boundary}--\n"
    )
    written = (
        ("from", MALICIOUS_SENDER),
        ("reply-to", MALICIOUS_REPLY_TO),
        *(("to", address) for address in MALICIOUS_RECIPIENTS),
    )
    return ("\n".join(headers) + "\n\n" + content).encode("utf-8"), written


def write_mailbox(
    folder: Path, scenario: Scenario, people: Directory, executable: bytes
) -> MailFacts:
    """Write the mbox; return what each message holds."""
    rng = scenario.rng("mail-render")
    drafts = _plan(scenario, people)
    attachment = malicious_rtf(executable)
    chunks: list[bytes] = []
    offset = 0
    facts: list[MessageFact] = []
    malicious: MessageFact | None = None
    entries: list[tuple[dt.datetime, _Draft | None]] = [(d.time, d) for d in drafts]
    entries.append((MALICIOUS_AT, None))
    entries.sort(key=lambda entry: entry[0])
    for number, (moment, draft) in enumerate(entries, start=1):
        if draft is None:
            raw, written = _malicious(attachment)
            message_id, sender, subject = MALICIOUS_MESSAGE_ID, MALICIOUS_SENDER, MALICIOUS_SUBJECT
            mentions: tuple[str, ...] = ()
            attachments: tuple[str, ...] = (ATTACHMENT_NAME,)
            date_time = MALICIOUS_AT - dt.timedelta(seconds=41)
        else:
            domain = draft.sender.address.split("@")[1]
            if not domain.isascii():
                domain = idna.encode(domain).decode("ascii")
            stamp = to_jst(moment).strftime("%Y%m%d%H%M%S")
            message_id = f"<{stamp}.{rng.getrandbits(32):08X}.{number}@{domain}>"
            body = _text_body(rng, draft)
            raw, written, attachments, subject = _render(draft, message_id, body, rng, number)
            sender = draft.sender.address
            mentions = tuple(draft.mentions)
            date_time = moment
        envelope = sender if sender.isascii() else "MAILER-DAEMON"
        block = (_from_line(envelope, moment) + "\n").encode("ascii") + raw
        fact = MessageFact(
            offset, message_id, date_time, written, mentions, sender, subject, attachments
        )
        facts.append(fact)
        if draft is None:
            malicious = fact
        block += b"\n"
        chunks.append(block)
        offset += len(block)
    path = folder / MAILBOX_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(chunks))
    assert malicious is not None
    return MailFacts(
        path=MAILBOX_PATH,
        messages=facts,
        malicious=malicious,
        attachment=attachment,
        attachment_sha256=hashlib.sha256(attachment).hexdigest(),
        other_recipients=[a for a in MALICIOUS_RECIPIENTS if a != SUBJECT_EMAIL],
    )
