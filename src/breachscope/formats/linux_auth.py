"""Linux authentication logs (``auth.log``, ``secure``, old ``messages``): logons, password changes.

Why: on a Linux server the syslog lines of sshd, sudo, su, passwd and chpasswd are often the
only record of who logged on from where and whose password changed. This format turns them into
``logons`` and ``credential_changes`` rows, one per event, each citing its line.

What becomes a row
- sshd (also ``sshd-session`` / ``sshd-auth``, which log authentication since OpenSSH 9.8):
  ``Accepted <method> for USER from SRC port N ...`` is a successful logon and
  ``Failed <method> for [invalid user ]USER from SRC port N ...`` a failed one, ``method`` being
  sshd's own word (``password``, ``publickey``, ``keyboard-interactive/pam`` ...). ``Failed none``
  is not a logon: it is the protocol's probe for the allowed methods. PAM's lines
  (``pam_unix(sshd:auth): authentication failure``, ``PAM 2 more authentication failures``,
  session lines) and ``Invalid user X from IP`` are not logons either: they repeat what the
  Accepted/Failed line already says, and counting them would count one attempt twice.
- sudo: ``USER : TTY=... ; PWD=... ; USER=root ; COMMAND=...`` is a successful logon with
  method ``sudo`` for the invoking user (whose password sudo checks). ``N incorrect password
  attempt(s) ; TTY=...`` is one failed logon (``reason`` says how many attempts; sudo writes one
  line for them, we do not invent N records), and so are sudo's policy denials (``user NOT in
  sudoers``, ``command not allowed``, ``user NOT authorized on host``): the credential was
  presented, the request refused. sudo's own PAM lines are not logons.
- su: ``Successful su for X by Y`` / ``FAILED su for X by Y`` (shadow), ``(to X) Y on TTY`` /
  ``FAILED SU (to X) Y on TTY`` (util-linux, coreutils) are logons with method ``su`` for the
  target account X (whose password su checks). Old Red Hat su logged only through PAM
  (``su(pam_unix)[pid]: session opened for user X by Y(uid=N)``), so a PAM *session opened*
  line of su is a successful su as well, but only once per su process: when su's own line and
  its PAM line share host and pid (within `SU_SAME_EVENT_SECONDS`), the second is dropped.
  shadow's sulog duplicates (``+ pts/0 Y:X`` / ``- pts/0 Y:X``) are skipped.
- passwd / chpasswd: ``password changed for USER`` (pam_unix ``chauthtok``, also when sshd makes
  a user change an expired password) and shadow's ``password for 'USER' changed by 'ACTOR'``
  are ``credential_changes`` of kind ``changed``; ``actor`` is set only when the line names it.
  (shadow also writes the latter for ``passwd -l/-e/-d``: the line cannot tell them apart.)

``account`` is the name as logged; ``account_key`` is `identity.account_key` of it (a bare name
stays bare). ``host`` and ``dst_host`` are the syslog host field; ``src_ip`` is the source when it
is an address (IPv4-mapped IPv6 written as IPv4), else the name goes to ``src_host``. ``reason``
carries what the line says beyond the columns (``invalid user``, ``by alice on pts/0``,
``to root: /bin/bash``).

Format quirks
- RFC 3164 time stamps (``Jun  5 10:00:00``) have no year and no zone. The year is the item's
  ``year`` (the year of its first line), else ``fallback_year`` (the ingest fills it from
  ``known.infected_at``), else one error naming the item and reading stops; a month going
  backwards (Dec -> Jan) advances the year. Times are in the item's zone, plus its clock offset.
- RFC 3339 time stamps (rsyslog's high-precision file format, the Ubuntu 24.04 default:
  ``2025-03-04T10:20:33.000001+09:00 host sshd[1]: ...``) carry year and zone.
- rsyslog's repeated-message reduction writes ``message repeated N times: [ <message>]``; it
  stands for N events, read as records ``line:L#1`` .. ``line:L#N`` (N capped at `MAX_REPEAT`,
  with a warning, because attackers can write log lines). sysklogd's bare ``last message
  repeated N times`` repeats the previous line's event the same way.
- Lines end in LF or CRLF; bytes that are not UTF-8 are replaced; a line longer than
  `MAX_LINE_BYTES` is an error and skipped without holding it in memory.
- A line that is not syslog at all is an error and reading goes on; syslog lines of other
  programs, or of these programs but about something else, are skipped silently.

Not covered: ``login``, ``gdm``, cron and systemd-logind lines; sshd's PAM-only traces in an old
``messages`` file whose ``Accepted`` lines went to ``secure``.

References: RFC 3164 (https://www.rfc-editor.org/rfc/rfc3164); rsyslog repeated-message reduction
(https://www.rsyslog.com/doc/configuration/action/rsconf1_repeatedmsgreduction.html); OpenSSH
``auth_log`` (https://github.com/openssh/openssh-portable/blob/master/auth.c); sudoers logging
(https://www.sudo.ws/docs/man/sudoers.man/); util-linux su
(https://github.com/util-linux/util-linux/blob/master/login-utils/su-common.c); shadow su,
sulog and passwd (https://github.com/shadow-maint/shadow/tree/master/src).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any, ClassVar

from breachscope.formats.base import EvidenceItem, Problem, Row, Yielded, register
from breachscope.identity import account_key

MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
MAX_LINE_BYTES = 65536  # rsyslog's default maximum message size is 8 KiB; far beyond is not syslog
MAX_REPEAT = 100_000  # a "message repeated" count beyond this is capped (and warned about)
SU_SAME_EVENT_SECONDS = 60  # su's own line and its PAM session line are one su within this
SU_PIDS_REMEMBERED = 4096  # bound on the su processes remembered for that de-duplication

SSHD_PROGRAMS = frozenset({"sshd", "sshd-session", "sshd-auth"})
PASSWORD_PROGRAMS = frozenset({"passwd", "chpasswd"})
PROGRAMS = SSHD_PROGRAMS | PASSWORD_PROGRAMS | {"sudo", "su"}
SUDO_DENIALS = frozenset(
    {"user NOT in sudoers", "command not allowed", "user NOT authorized on host"}
)

BSD_LINE = re.compile(
    r"(?P<month>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) "
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?"
    r" +(?P<host>\S+)(?: (?P<rest>.*))?"
)
ISO_LINE = re.compile(
    r"(?P<stamp>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)"
    r" +(?P<host>\S+)(?: (?P<rest>.*))?"
)
TAG = re.compile(
    r"\s*(?P<program>[^\s\[\]():]+)(?:\((?P<module>[^\s()]*)\))?(?:\[(?P<pid>\d+)\])?"
    r": ?(?P<message>.*)"
)
REPEATED = re.compile(r"message repeated (?P<count>\d+) times: \[ ?(?P<message>.*?)\]?")
LAST_REPEATED = re.compile(r"\s*last message repeated (?P<count>\d+) times?\s*")

SSHD_ACCEPTED = re.compile(
    r"Accepted (?P<method>\S+) for (?P<user>.*) from (?P<source>\S+) port \d+(?: ssh\d?)?(?:: .*)?"
)
SSHD_FAILED = re.compile(
    r"Failed (?P<method>\S+) for (?P<invalid>invalid user )?(?P<user>.*) from (?P<source>\S+)"
    r" port \d+(?: ssh\d?)?(?:: .*)?"
)
SUDO_LINE = re.compile(r"(?P<user>\S+) : (?P<fields>.+)")
SUDO_INCORRECT = re.compile(r"\d+ incorrect password attempts?")
SU_SHADOW = re.compile(r"(?P<verdict>Successful|FAILED) su for (?P<user>\S+) by (?P<caller>\S+)")
SU_UTIL_LINUX = re.compile(
    r"(?P<failed>FAILED SU )?\(to (?P<user>[^\s)]+)\) (?P<caller>\S*) on (?P<tty>\S+)"
)
SU_PAM_SESSION = re.compile(
    r"(?:pam_unix\(su(?:-l)?:session\): )?session opened for user (?P<user>[^\s(]+)"
    r"(?:\(uid=\d+\))? by (?P<caller>[^\s(]*)\(uid=(?P<uid>\d+)\)"
)
PASSWORD_CHANGED = re.compile(
    r"(?:pam_unix\([\w-]+:chauthtok\): )?password changed for (?P<user>\S+)"
)
SHADOW_PASSWORD_CHANGED = re.compile(
    r"password for '(?P<user>[^']*)' changed by '(?P<actor>[^']*)'"
)

SUDO_FIELD = re.compile(r"[A-Z_]+=.*")


@dataclass(frozen=True)
class _Event:
    """What one message says: a table and its values, without time and record yet."""

    table: str
    values: dict[str, Any]
    su_key: tuple[str | None, str, str] | None = None  # (host, pid, outcome): once per su


@register
class LinuxAuthLog:
    """Syslog ``auth.log`` / ``secure`` lines of sshd, sudo, su, passwd and chpasswd."""

    name: ClassVar[str] = "linux_auth"
    version: ClassVar[str] = "1"
    tables: ClassVar[tuple[str, ...]] = ("logons", "credential_changes")
    sniff_priority: ClassVar[int] = 40

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """The first line and most lines of ``head`` are syslog, and one has our tags."""
        lines = head.decode("utf-8", errors="replace").split("\n")
        if len(lines) > 1:
            lines = lines[:-1]  # the last piece may be cut short by the head's size
        lines = [line.rstrip("\r") for line in lines if line.strip()]
        if not lines:
            return False
        parsed = [_split_line(line) for line in lines]
        if parsed[0] is None or 2 * sum(p is not None for p in parsed) < len(parsed):
            return False
        return any(p is not None and _program(p[2]) is not None for p in parsed)

    def read(self, item: EvidenceItem) -> Iterator[Yielded]:
        """Stream the item's lines into ``logons`` and ``credential_changes`` rows."""
        yield from _Reading(item).rows()


def _split_line(line: str) -> tuple[re.Match[str], str | None, str] | None:
    """(time stamp match, host, rest) of a syslog line, or None when it is not one."""
    match = BSD_LINE.fullmatch(line)
    if match is None or match["month"] not in MONTHS:
        match = ISO_LINE.fullmatch(line)
    if match is None:
        return None
    host: str | None = match["host"]
    rest = match["rest"] or ""
    if host is not None and host.endswith(":"):  # no host field: this is already the tag
        rest, host = f"{host} {rest}", None
    return match, host, rest


def _program(rest: str) -> tuple[str, str | None, str] | None:
    """(program, pid, message) when the line's tag is one of `PROGRAMS`."""
    tag = TAG.fullmatch(rest)
    if tag is None:
        return None
    program = tag["program"].rsplit("/", 1)[-1]
    if program not in PROGRAMS:
        return None
    return program, tag["pid"], tag["message"]


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, str | None]]:
    """(1-based number, text without its line end) per line; None for an over-long line."""
    number = 0
    while True:
        chunk = stream.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):  # skip the rest without keeping it
                chunk = stream.readline(MAX_LINE_BYTES)
            yield number, None
            continue
        yield number, chunk.decode("utf-8", errors="replace").rstrip("\r\n")


def _source(text: str) -> tuple[str | None, str | None]:
    """(src_ip, src_host): an address in canonical form, else the name sshd logged."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None, text
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped), None
    return str(address), None


def _sudo_fields(text: str) -> tuple[str, dict[str, str]]:
    """sudo's ``first ; KEY=value ; ... ; COMMAND=...`` (the command may itself hold `` ; ``)."""
    parts = text.split(" ; ")
    fields: dict[str, str] = {}
    for index, part in enumerate(parts):
        if part.startswith("COMMAND="):
            fields["COMMAND"] = " ; ".join(parts[index:])[len("COMMAND=") :]
            break
        key, equals, value = part.partition("=")
        if equals:
            fields.setdefault(key, value)
    return parts[0], fields


class _Reading:
    """One pass over one item: the running year and the little it must remember."""

    def __init__(self, item: EvidenceItem) -> None:
        self.item = item
        self.year = item.year if item.year is not None else item.fallback_year
        self.month: int | None = None
        self.previous: _Event | None = None  # for sysklogd's "last message repeated"
        self.su_seen: OrderedDict[tuple[str | None, str, str], dt.datetime] = OrderedDict()

    def rows(self) -> Iterator[Yielded]:
        with self.item.open() as stream:
            for number, line in _lines(stream):
                record = f"line:{number}"
                if line is None:
                    self.previous = None
                    yield Problem(record, f"line longer than {MAX_LINE_BYTES} bytes; skipped")
                    continue
                if not line.strip():
                    continue
                parts = _split_line(line)
                if parts is None:
                    self.previous = None
                    yield Problem(record, f"not a syslog line: {line[:80]!r}")
                    continue
                stamp, host, rest = parts
                if not self._advance(stamp):
                    yield Problem(
                        record,
                        f"{self.item.rel_path}: syslog time stamps have no year, and neither the "
                        "item's `year` nor known.infected_at gives one; set `year:` on this "
                        "evidence item in the manifest",
                    )
                    return
                yield from self._line(record, stamp, host, rest)

    def _advance(self, stamp: re.Match[str]) -> bool:
        """Track the running year and month; False when a yearless line has no year to take."""
        if "stamp" in stamp.re.groupindex:
            self.year, self.month = int(stamp["stamp"][:4]), int(stamp["stamp"][5:7])
            return True
        if self.year is None:
            return False
        month = MONTHS[stamp["month"]]
        if self.month is not None and month < self.month:
            self.year += 1
        self.month = month
        return True

    def _time(self, stamp: re.Match[str]) -> dt.datetime:
        """The line's time in UTC; ValueError for an impossible or DST-skipped time."""
        if "stamp" in stamp.re.groupindex:
            return self.item.utc(dt.datetime.fromisoformat(stamp["stamp"]))
        assert self.year is not None  # _advance has set it
        moment = dt.datetime(
            self.year,
            MONTHS[stamp["month"]],
            int(stamp["day"]),
            int(stamp["hour"]),
            int(stamp["minute"]),
            int(stamp["second"]),
            int((stamp["fraction"] or "").ljust(6, "0")[:6]),
        )
        return self.item.utc(moment)

    def _line(
        self, record: str, stamp: re.Match[str], host: str | None, rest: str
    ) -> Iterator[Yielded]:
        last = LAST_REPEATED.fullmatch(rest)
        count: int | None
        if last is not None:
            event, count = self.previous, int(last["count"])
        else:
            event, count = self._parse(host, rest)
            self.previous = event
        if event is None:
            return
        try:
            time = self._time(stamp)
        except ValueError as error:
            yield Problem(record, f"bad time stamp: {error}")
            return
        if count is None:
            if event.su_key is None or not self._su_duplicate(event.su_key, time):
                yield Row(event.table, {"time": time, **event.values, "record": record})
            return
        if count > MAX_REPEAT:
            yield Problem(
                record, f"message repeated {count} times; read as {MAX_REPEAT}", "warning"
            )
            count = MAX_REPEAT
        for index in range(1, count + 1):
            yield Row(event.table, {"time": time, **event.values, "record": f"{record}#{index}"})

    def _parse(self, host: str | None, rest: str) -> tuple[_Event | None, int | None]:
        """The event of a line's message, and its repeat count for ``message repeated``."""
        tagged = _program(rest)
        if tagged is None:
            return None, None
        program, pid, message = tagged
        count = None
        text = message.strip()  # sudo pads its message; rsyslog may keep the message's space
        repeated = REPEATED.fullmatch(text)
        if repeated is not None:
            text, count = repeated["message"].strip(), int(repeated["count"])
        event: _Event | None = None
        if program in SSHD_PROGRAMS:
            event = self._sshd(host, text)
        elif program == "sudo":
            event = self._sudo(host, text)
        elif program == "su":
            event = self._su(host, pid, text)
        return event or self._password(host, text), count

    def _sshd(self, host: str | None, text: str) -> _Event | None:
        accepted = SSHD_ACCEPTED.fullmatch(text)
        if accepted is not None:
            return self._logon(
                host, accepted["user"], "success", accepted["method"], source=accepted["source"]
            )
        failed = SSHD_FAILED.fullmatch(text)
        if failed is None or failed["method"] == "none":  # "none" probes the allowed methods
            return None
        reason = "invalid user" if failed["invalid"] else None
        return self._logon(
            host,
            failed["user"],
            "failure",
            failed["method"],
            source=failed["source"],
            reason=reason,
        )

    def _sudo(self, host: str | None, text: str) -> _Event | None:
        line = SUDO_LINE.fullmatch(text)
        if line is None:
            return None
        first, fields = _sudo_fields(line["fields"])
        if SUDO_FIELD.fullmatch(first) and "COMMAND" in fields:
            reason = f"to {fields.get('USER', 'root')}: {fields['COMMAND']}"
            return self._logon(host, line["user"], "success", "sudo", reason=reason)
        if SUDO_INCORRECT.fullmatch(first) or first in SUDO_DENIALS:
            return self._logon(host, line["user"], "failure", "sudo", reason=first)
        return None

    def _su(self, host: str | None, pid: str | None, text: str) -> _Event | None:
        shadow = SU_SHADOW.fullmatch(text)
        if shadow is not None:
            outcome = "success" if shadow["verdict"] == "Successful" else "failure"
            user, reason = shadow["user"], f"by {shadow['caller']}"
        elif (util := SU_UTIL_LINUX.fullmatch(text)) is not None:
            outcome = "failure" if util["failed"] else "success"
            user, reason = util["user"], f"by {util['caller']} on {util['tty']}"
        elif (session := SU_PAM_SESSION.fullmatch(text)) is not None:
            outcome, user = "success", session["user"]
            reason = f"by {session['caller'] or 'uid=' + session['uid']}"
        else:
            return None
        su_key = (host, pid, outcome) if pid is not None else None
        return self._logon(host, user, outcome, "su", reason=reason, su_key=su_key)

    def _password(self, host: str | None, text: str) -> _Event | None:
        actor = None
        changed = PASSWORD_CHANGED.fullmatch(text)
        if changed is None:
            changed = SHADOW_PASSWORD_CHANGED.fullmatch(text)
            if changed is None:
                return None
            actor = changed["actor"]
        values = self._who(host, changed["user"])
        return _Event("credential_changes", {**values, "kind": "changed", "actor": actor})

    def _logon(
        self,
        host: str | None,
        user: str,
        outcome: str,
        method: str,
        *,
        source: str | None = None,
        reason: str | None = None,
        su_key: tuple[str | None, str, str] | None = None,
    ) -> _Event:
        src_ip, src_host = _source(source) if source is not None else (None, None)
        values = {
            **self._who(host, user),
            "outcome": outcome,
            "src_ip": src_ip,
            "src_host": src_host,
            "dst_host": host,
            "method": method,
            "reason": reason,
        }
        return _Event("logons", values, su_key)

    def _who(self, host: str | None, user: str) -> dict[str, Any]:
        return {
            "system": self.item.system,
            "host": host,
            "account": user,
            "account_key": account_key(user, self.item.realms, host=None),
        }

    def _su_duplicate(self, key: tuple[str | None, str, str], time: dt.datetime) -> bool:
        """True when the same su process already gave this outcome (its own line vs PAM's)."""
        seen = self.su_seen.get(key)
        if seen is not None and abs((time - seen).total_seconds()) <= SU_SAME_EVENT_SECONDS:
            return True
        self.su_seen[key] = time
        self.su_seen.move_to_end(key)
        if len(self.su_seen) > SU_PIDS_REMEMBERED:
            self.su_seen.popitem(last=False)
        return False


@register
class Syslog(LinuxAuthLog):
    """Any other syslog file: read like an auth log, so whatever auth lines it holds become
    rows; a file with none is reported as read, holding no supported records (0 rows, status
    ok), rather than as an unknown format. Tried after every specific syslog format."""

    name: ClassVar[str] = "syslog"
    sniff_priority: ClassVar[int] = 85

    def sniff(self, head: bytes, path: PurePath) -> bool:
        """The first line and most lines of ``head`` are syslog lines (any program)."""
        lines = head.decode("utf-8", errors="replace").split("\n")
        if len(lines) > 1:
            lines = lines[:-1]
        lines = [line.rstrip("\r") for line in lines if line.strip()]
        if not lines:
            return False
        parsed = [_split_line(line) for line in lines]
        return parsed[0] is not None and 2 * sum(p is not None for p in parsed) >= len(parsed)
