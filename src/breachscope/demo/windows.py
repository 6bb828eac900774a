"""Windows event logs as ``wevtutil qe <log> /f:xml`` prints them: one ``<Event>`` a line.

Three files, as a responder exports them:

- ``WS-0423-sysmon.xml`` (Sysmon/Operational, event 1): the processes of the workstation,
  among them WINWORD.EXE opening the attachment from Outlook's temporary folder (the start of
  the window, rules.md: "a process creation whose command line names the opened attachment"),
  the dropped ``svchost32.exe`` and its service, and documents opened in Word, Reader and
  Notepad (displayed files).
- ``WS-0423-security.xml`` (Security): the employee's interactive logons (type 2, loopback
  source) and logoffs, which make his sessions (``subject_host_owner_session``), plus the
  malware's service install and a service logon (type 5: not a credential).
- ``dc01-security.xml`` (Security of the domain controller, system corp-ad): Kerberos
  tickets (4768/4769) and network logons (4624 type 3) of every user from his own PC, machine
  accounts (``WS-0423$``: not a credential) around the clock so the log has no silence longer
  than its usual one, and the employee's password change (4723) after isolation. The
  ``log_cleared`` variant adds a Security 1102.

Times are whole seconds written with seven fraction digits, as Windows 7 did. Event Record
IDs grow with time; the record breachscope cites is ``xml:N``, the N-th event of the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from breachscope.demo.people import Directory, Person
from breachscope.demo.records import CredentialChange, Logon, Process, Ref
from breachscope.demo.scenario import (
    AD_DOMAIN,
    AD_REALM,
    AD_ROTATION_AT,
    AD_SYSTEM,
    ATTACHMENT_PATH,
    DC_NAME,
    DROPPED_PATH,
    FILE_SERVER,
    ISOLATED_AT,
    LOG_CLEARED_AT,
    LOG_END,
    LOG_START,
    MAIL_SERVER,
    NEW_HOST_IP,
    OPENED_AT,
    SUBJECT_HOST,
    SUBJECT_IP,
    SUBJECT_SAM,
    SUBJECT_SID,
    WINWORD,
    Scenario,
    at,
    days,
    is_workday,
)
from breachscope.demo.schedule import Plan, application

SYSMON_PATH = "evidence/hosts/WS-0423-sysmon.xml"
WORKSTATION_PATH = "evidence/hosts/WS-0423-security.xml"
DC_PATH = "evidence/logs/dc01-security.xml"
EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
SECURITY = ("Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-A5BA-3E3B0328C30D}")
SYSMON = ("Microsoft-Windows-Sysmon", "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}")
EVENTLOG = ("Microsoft-Windows-Eventlog", "{FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148}")
AUDIT_SUCCESS = "0x8020000000000000"
WORKSTATION_FQDN = f"{SUBJECT_HOST}.example-space.jp"
HEARTBEAT_MINUTES = (12, 24)  # machine-account tickets: never silent for longer than this
STAFF_TICKET_MINUTES = (100, 200)  # a colleague's file-server tickets during his day
SUBJECT_TICKET_MINUTES = (50, 110)
OUTLOOK = "C:\\Program Files\\Microsoft Office\\Office12\\OUTLOOK.EXE"
CHROME = "C:\\Users\\tyamada\\AppData\\Local\\Google\\Chrome\\Application\\chrome.exe"
EXPLORER = "C:\\Windows\\explorer.exe"
SERVICES = "C:\\Windows\\system32\\services.exe"
CMD = "C:\\Windows\\system32\\cmd.exe"
SERVICE_NAME = "WmiUpdateSvc"
MALWARE_COMMANDS = (
    "cmd.exe /c systeminfo",
    "cmd.exe /c ipconfig /all",
    "cmd.exe /c net use",
    "cmd.exe /c tasklist /v",
)


@dataclass(frozen=True)
class _Event:
    """The parts of an event that are not its time, record id, channel or computer."""

    provider: tuple[str, str]
    event_id: int
    data: tuple[tuple[str, str], ...] = ()
    version: int = 0
    task: int = 0
    keywords: str = AUDIT_SUCCESS
    user_sid: str | None = None
    user_data: str | None = None

    def xml(self, time: dt.datetime, record_id: int, channel: str, computer: str) -> str:
        """One ``<Event>`` element on one line, in the layout wevtutil writes."""
        name, guid = self.provider
        user = f"<Security UserID={_attr(self.user_sid)}/>" if self.user_sid else "<Security/>"
        system = (
            f"<System><Provider Name={_attr(name)} Guid={_attr(guid)}/>"
            f"<EventID>{self.event_id}</EventID><Version>{self.version}</Version>"
            f"<Level>0</Level><Task>{self.task}</Task><Opcode>0</Opcode>"
            f"<Keywords>{self.keywords}</Keywords>"
            f"<TimeCreated SystemTime='{_system_time(time)}'/>"
            f"<EventRecordID>{record_id}</EventRecordID><Correlation/>"
            "<Execution ProcessID='572' ThreadID='1480'/>"
            f"<Channel>{escape(channel)}</Channel><Computer>{escape(computer)}</Computer>"
            f"{user}</System>"
        )
        if self.user_data is not None:
            payload = f"<UserData>{self.user_data}</UserData>"
        else:
            fields = "".join(f"<Data Name='{k}'>{_text(v)}</Data>" for k, v in self.data)
            payload = f"<EventData>{fields}</EventData>"
        return f"<Event xmlns='{EVENT_NS}'>{system}{payload}</Event>"


@dataclass
class _Log:
    """Events of one file; written sorted by time (ties in the order they were added)."""

    channel: str
    computer: str
    entries: list[tuple[dt.datetime, int, _Event]] = field(default_factory=list)

    def add(self, time: dt.datetime, event: _Event) -> int:
        """Add an event; return its index (the order it was added in)."""
        self.entries.append((time, len(self.entries), event))
        return len(self.entries) - 1

    def write(self, path: Path, first_record: int) -> tuple[dict[int, int], list[dt.datetime]]:
        """Write the file; return (index -> N of its ``xml:N`` record, every time in order)."""
        ordered = sorted(self.entries, key=lambda entry: (entry[0], entry[1]))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="\n") as stream:
            for number, (time, _, event) in enumerate(ordered):
                record_id = first_record + number
                stream.write(event.xml(time, record_id, self.channel, self.computer) + "\n")
        numbers = {index: number for number, (_, index, _) in enumerate(ordered, start=1)}
        return numbers, [time for time, _, _ in ordered]


@dataclass
class WindowsFacts:
    logons: list[Logon]
    changes: list[CredentialChange]
    dc_times: list[dt.datetime]
    """The time of every record of the domain controller's log (its coverage)."""
    log_clears: list[tuple[dt.datetime, Ref]]


def _attr(value: str) -> str:
    """An attribute value in single quotes, as wevtutil writes them."""
    return "'" + _text(value).replace("'", "&apos;") + "'"


def _text(value: str) -> str:
    """XML character data (most values need no escaping: skip the work for them)."""
    return escape(value) if "&" in value or "<" in value or ">" in value else value


def _system_time(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{utc.microsecond:06d}0Z"


def _guid(rng: random.Random) -> str:
    value = f"{rng.getrandbits(128):032X}"
    return f"{{{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}}}"


def _sha256(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064X}"


# ---- Sysmon ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Started:
    """A process start as the plan has it."""

    time: dt.datetime
    image: str
    command_line: str
    parent: str
    user: str = f"{AD_DOMAIN}\\{SUBJECT_SAM}"
    integrity: str = "Medium"
    directory: str = f"C:\\Users\\{SUBJECT_SAM}\\"
    sha256: str | None = None


def _sysmon_event(rng: random.Random, started: _Started, logon_id: str) -> _Event:
    data = (
        ("RuleName", "-"),
        ("UtcTime", started.time.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.000")),
        ("ProcessGuid", _guid(rng)),
        ("ProcessId", str(rng.randrange(1000, 9000, 4))),
        ("Image", started.image),
        ("CommandLine", started.command_line),
        ("CurrentDirectory", started.directory),
        ("User", started.user),
        ("LogonGuid", _guid(rng)),
        ("LogonId", logon_id),
        ("TerminalSessionId", "0" if started.integrity == "System" else "1"),
        ("IntegrityLevel", started.integrity),
        ("Hashes", f"SHA256={started.sha256 or _sha256(rng)}"),
        ("ParentProcessGuid", _guid(rng)),
        ("ParentProcessId", str(rng.randrange(400, 4000, 4))),
        ("ParentImage", started.parent),
        ("ParentCommandLine", f'"{started.parent}"'),
    )
    return _Event(
        SYSMON,
        1,
        data,
        version=5,
        task=1,
        keywords="0x8000000000000000",
        user_sid="S-1-5-18",
    )


def _document_command(path: str) -> str:
    """How Explorer starts the application of a document (Word with ``/n``)."""
    app = application(path)
    if app.endswith("WINWORD.EXE"):
        return f'"{app}" /n "{path}"'
    if app.endswith("NOTEPAD.EXE"):
        return f'"{app}" {path}'
    return f'"{app}" "{path}"'


def _started(scenario: Scenario, plan: Plan, dropped_sha256: str) -> list[_Started]:
    rng = scenario.rng("sysmon-plan")
    system = {
        "user": "NT AUTHORITY\\SYSTEM",
        "integrity": "System",
        "directory": "C:\\Windows\\system32\\",
    }
    started: list[_Started] = []
    for session in plan.sessions:
        start = session.start
        userinit = "C:\\Windows\\system32\\userinit.exe"
        started.append(_Started(start + dt.timedelta(seconds=9), EXPLORER, EXPLORER, userinit))
        started.append(
            _Started(start + dt.timedelta(seconds=74), OUTLOOK, f'"{OUTLOOK}" ', EXPLORER)
        )
        if rng.random() < 0.8:
            moment = start + dt.timedelta(seconds=rng.randrange(300, 5400))
            started.append(_Started(moment, CHROME, f'"{CHROME}" ', EXPLORER))
    for opened in plan.opens:
        app = application(opened.path)
        started.append(_Started(opened.time, app, _document_command(opened.path), EXPLORER))
    # The infection: Word opens the attachment from Outlook's temporary folder.
    started.append(_Started(OPENED_AT, WINWORD, f'"{WINWORD}" /n "{ATTACHMENT_PATH}"', OUTLOOK))
    dropped = dropped_sha256.upper()
    six = OPENED_AT + dt.timedelta(seconds=6)
    started.append(_Started(six, DROPPED_PATH, f'"{DROPPED_PATH}"', WINWORD, sha256=dropped))
    service = OPENED_AT + dt.timedelta(seconds=31)
    command = f'"{DROPPED_PATH}" -k netsvcs'
    started.append(_Started(service, DROPPED_PATH, command, SERVICES, sha256=dropped, **system))
    for minutes, command in zip((4, 5, 7, 12), MALWARE_COMMANDS, strict=True):
        moment = OPENED_AT + dt.timedelta(minutes=minutes, seconds=rng.randrange(60))
        started.append(_Started(moment, CMD, command, DROPPED_PATH, **system))
    return started


def write_sysmon(
    folder: Path, scenario: Scenario, plan: Plan, dropped_sha256: str
) -> list[Process]:
    """Write the Sysmon log; return every process start with its record."""
    rng = scenario.rng("sysmon")
    log = _Log("Microsoft-Windows-Sysmon/Operational", WORKSTATION_FQDN)
    started = _started(scenario, plan, dropped_sha256)
    indexes = []
    for item in started:
        session = plan.session_at(item.time)
        mine = session is not None and item.user.endswith("\\" + SUBJECT_SAM)
        logon_id = session.logon_id if session is not None and mine else "0x3e7"
        indexes.append(log.add(item.time, _sysmon_event(rng, item, logon_id)))
    numbers, _ = log.write(folder / SYSMON_PATH, 10_000)
    processes = [
        Process(
            item.time,
            SUBJECT_HOST,
            item.image,
            item.command_line,
            item.user,
            Ref(SYSMON_PATH, f"xml:{numbers[index]}"),
        )
        for item, index in zip(started, indexes, strict=True)
    ]
    return sorted(processes, key=lambda p: (p.time, p.ref.record))


# ---- Workstation Security ----------------------------------------------------------------


def _logon_data(
    user: str,
    domain: str,
    logon_type: str,
    logon_id: str,
    ip: str,
    *,
    sid: str,
    process: str,
    package: str,
    workstation: str,
    subject: tuple[str, str, str] = ("S-1-5-18", "WS-0423$", "0x3e7"),
) -> tuple[tuple[str, str], ...]:
    interactive = logon_type == "2"
    return (
        ("SubjectUserSid", subject[0]),
        ("SubjectUserName", subject[1]),
        ("SubjectDomainName", AD_DOMAIN),
        ("SubjectLogonId", subject[2]),
        ("TargetUserSid", sid),
        ("TargetUserName", user),
        ("TargetDomainName", domain),
        ("TargetLogonId", logon_id),
        ("LogonType", logon_type),
        ("LogonProcessName", process),
        ("AuthenticationPackageName", package),
        ("WorkstationName", workstation),
        ("LogonGuid", "{00000000-0000-0000-0000-000000000000}"),
        ("TransmittedServices", "-"),
        ("LmPackageName", "-"),
        ("KeyLength", "0"),
        ("ProcessId", "0x1f4" if interactive else "0x0"),
        ("ProcessName", "C:\\Windows\\System32\\winlogon.exe" if interactive else "-"),
        ("IpAddress", ip),
        (
            "IpPort",
            "0" if ip in ("127.0.0.1", "-") else str(49152 + sum(map(ord, logon_id)) % 9000),
        ),
    )


def write_workstation_security(folder: Path, plan: Plan) -> list[Logon]:
    """Write the workstation's Security log; return the employee's logons and logoffs."""
    log = _Log("Security", WORKSTATION_FQDN)
    made: list[tuple[int, Logon]] = []
    account = f"{AD_DOMAIN}\\{SUBJECT_SAM}"
    pending = Ref(WORKSTATION_PATH, "")
    for session in plan.sessions:
        data = _logon_data(
            SUBJECT_SAM,
            AD_DOMAIN,
            "2",
            session.logon_id,
            "127.0.0.1",
            sid=SUBJECT_SID,
            process="User32 ",
            package="Negotiate",
            workstation=SUBJECT_HOST,
        )
        index = log.add(session.start, _Event(SECURITY, 4624, data, task=12544))
        logon = Logon(
            session.start,
            AD_SYSTEM,
            account,
            "success",
            "127.0.0.1",
            pending,
            SUBJECT_HOST,
            "2",
            session.logon_id,
        )
        made.append((index, logon))
        if session.end is not None:
            logoff = (
                ("TargetUserSid", SUBJECT_SID),
                ("TargetUserName", SUBJECT_SAM),
                ("TargetDomainName", AD_DOMAIN),
                ("TargetLogonId", session.logon_id),
            )
            index = log.add(session.end, _Event(SECURITY, 4647, logoff, task=12545))
            ended = Logon(
                session.end,
                AD_SYSTEM,
                account,
                "logoff",
                None,
                pending,
                SUBJECT_HOST,
                None,
                session.logon_id,
            )
            made.append((index, ended))
    installed = OPENED_AT + dt.timedelta(seconds=28)
    service = (
        ("SubjectUserSid", SUBJECT_SID),
        ("SubjectUserName", SUBJECT_SAM),
        ("SubjectDomainName", AD_DOMAIN),
        ("SubjectLogonId", "0x3e7"),
        ("ServiceName", SERVICE_NAME),
        ("ServiceFileName", f'"{DROPPED_PATH}" -k netsvcs'),
        ("ServiceType", "0x10"),
        ("ServiceStartType", "2"),
        ("ServiceAccount", "LocalSystem"),
    )
    log.add(installed, _Event(SECURITY, 4697, service, task=12289))
    system_logon = _logon_data(
        "SYSTEM",
        "NT AUTHORITY",
        "5",
        "0x3e7",
        "-",
        sid="S-1-5-18",
        process="Advapi  ",
        package="Negotiate",
        workstation="-",
    )
    log.add(installed + dt.timedelta(seconds=3), _Event(SECURITY, 4624, system_logon, task=12544))
    numbers, _ = log.write(folder / WORKSTATION_PATH, 200_000)
    logons = [
        dataclasses.replace(logon, ref=Ref(WORKSTATION_PATH, f"xml:{numbers[index]}"))
        for index, logon in made
    ]
    return sorted(logons, key=lambda logon: (logon.time, logon.ref.record))


# ---- Domain controller -------------------------------------------------------------------

DOMAIN_SID = "S-1-5-21-3623811015-3361044348-30300820"


def _tgt(user: str, sid: str, ip: str) -> _Event:
    data = (
        ("TargetUserName", user),
        ("TargetDomainName", AD_REALM),
        ("TargetSid", sid),
        ("ServiceName", "krbtgt"),
        ("ServiceSid", f"{DOMAIN_SID}-502"),
        ("TicketOptions", "0x40810010"),
        ("Status", "0x0"),
        ("TicketEncryptionType", "0x12"),
        ("PreAuthType", "2"),
        ("IpAddress", f"::ffff:{ip}"),
        ("IpPort", "49201"),
        ("CertIssuerName", ""),
        ("CertSerialNumber", ""),
        ("CertThumbprint", ""),
    )
    return _Event(SECURITY, 4768, data, task=14339)


def _service_ticket(user: str, service: str, ip: str) -> _Event:
    data = (
        ("TargetUserName", f"{user}@{AD_REALM}"),
        ("TargetDomainName", AD_REALM),
        ("ServiceName", service),
        ("ServiceSid", f"{DOMAIN_SID}-1105"),
        ("TicketOptions", "0x40810000"),
        ("TicketEncryptionType", "0x12"),
        ("IpAddress", f"::ffff:{ip}"),
        ("IpPort", "49210"),
        ("Status", "0x0"),
        ("LogonGuid", "{00000000-0000-0000-0000-000000000000}"),
        ("TransmittedServices", "-"),
    )
    return _Event(SECURITY, 4769, data, task=14337)


def _network_logon(user: str, sid: str, ip: str, logon_id: str) -> _Event:
    data = _logon_data(
        user,
        AD_DOMAIN,
        "3",
        logon_id,
        ip,
        sid=sid,
        process="Kerberos",
        package="Kerberos",
        workstation="-",
        subject=("S-1-0-0", "-", "0x0"),
    )
    return _Event(SECURITY, 4624, data, task=12544)


def _sid(person: Person) -> str:
    return f"{DOMAIN_SID}-{1000 + sum(map(ord, person.address)) % 8000}"


def _logon_id(rng: random.Random) -> str:
    return f"0x{rng.randrange(0x100000, 0xFFFFFF):x}"


def _user_day(
    log: _Log,
    rng: random.Random,
    person: Person,
    span: tuple[dt.datetime, dt.datetime],
    ip: str,
    minutes: tuple[int, int],
) -> list[tuple[int, str, dt.datetime]]:
    """A user's tickets for one day at his PC; (entry index, event id, time) of each."""
    assert person.sam is not None
    sam, sid = person.sam, SUBJECT_SID if person.sam == SUBJECT_SAM else _sid(person)
    start, end = span
    made: list[tuple[int, str, dt.datetime]] = []

    def add(seconds: float, kind: str, event: _Event) -> None:
        moment = start + dt.timedelta(seconds=seconds)
        made.append((log.add(moment, event), kind, moment))

    add(1, "4768", _tgt(sam, sid, ip))
    add(3, "4624", _network_logon(sam, sid, ip, _logon_id(rng)))
    add(21, "4769", _service_ticket(sam, f"{FILE_SERVER}$", ip))
    low, high = minutes
    offset = 60.0 * rng.randrange(low, high)
    while start + dt.timedelta(seconds=offset) < end:
        service = rng.choice((f"{FILE_SERVER}$", f"{MAIL_SERVER}$", "DC01$"))
        add(offset, "4769", _service_ticket(sam, service, ip))
        if rng.random() < 0.25:
            add(offset + 1, "4624", _network_logon(sam, sid, ip, _logon_id(rng)))
        offset += 60.0 * rng.randrange(low, high) + rng.randrange(60)
    return made


def _password_change() -> _Event:
    data = (
        ("TargetUserName", SUBJECT_SAM),
        ("TargetDomainName", AD_DOMAIN),
        ("TargetSid", SUBJECT_SID),
        ("SubjectUserSid", SUBJECT_SID),
        ("SubjectUserName", SUBJECT_SAM),
        ("SubjectDomainName", AD_DOMAIN),
        ("SubjectLogonId", "0x0"),
        ("PrivilegeList", "-"),
    )
    return _Event(SECURITY, 4723, data, task=13824)


def _log_cleared() -> _Event:
    user_data = (
        "<LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/eventlog'>"
        f"<SubjectUserSid>{DOMAIN_SID}-1107</SubjectUserSid>"
        f"<SubjectUserName>it-admin</SubjectUserName><SubjectDomainName>{AD_DOMAIN}"
        "</SubjectDomainName><SubjectLogonId>0x4a2f1c</SubjectLogonId></LogFileCleared>"
    )
    return _Event(EVENTLOG, 1102, task=104, keywords="0x4020000000000000", user_data=user_data)


def write_dc_security(
    folder: Path, scenario: Scenario, people: Directory, plan: Plan
) -> WindowsFacts:
    """The domain controller's Security log; returns the employee's logons and every time."""
    log = _Log("Security", DC_NAME)
    subject = people.subject
    mine: list[tuple[int, str, dt.datetime, str]] = []

    # The employee, at WS-0423 until isolation, then at his new PC with the new password.
    rng = scenario.rng("dc-subject")
    for session in plan.sessions:
        span = (session.start, session.end or ISOLATED_AT)
        for index, kind, time in _user_day(
            log, rng, subject, span, SUBJECT_IP, SUBJECT_TICKET_MINUTES
        ):
            mine.append((index, kind, time, SUBJECT_IP))
    change_index = log.add(AD_ROTATION_AT, _password_change())
    after = AD_ROTATION_AT + dt.timedelta(minutes=9, seconds=14)
    for day in days(after, LOG_END):
        if is_workday(day):
            span = (max(after, at(day, 8, 47)), at(day, 18, 30))
            for index, kind, time in _user_day(
                log, rng, subject, span, NEW_HOST_IP, SUBJECT_TICKET_MINUTES
            ):
                mine.append((index, kind, time, NEW_HOST_IP))

    # Colleagues at their own PCs (their number grows with the scale).
    rng_staff = scenario.rng("dc-staff")
    for day in days(LOG_START, LOG_END):
        if not is_workday(day):
            continue
        for person in people.staff:
            if rng_staff.random() < 0.08:
                continue  # a day off
            start = at(day, 8, 15) + dt.timedelta(seconds=rng_staff.randrange(75 * 60))
            end = at(day, 17, 45) + dt.timedelta(seconds=rng_staff.randrange(150 * 60))
            assert person.ip is not None
            _user_day(log, rng_staff, person, (start, end), person.ip, STAFF_TICKET_MINUTES)

    # Machine accounts renew their tickets around the clock: the log is never silent long.
    rng_machines = scenario.rng("dc-machines")
    machines = [(SUBJECT_HOST, SUBJECT_IP)] + [
        (p.host or "", p.ip or "") for p in people.staff[:30]
    ]
    low, high = HEARTBEAT_MINUTES
    moment = LOG_START + dt.timedelta(seconds=rng_machines.randrange(600))
    while moment < LOG_END:
        host, ip = rng_machines.choice(machines)
        if host == SUBJECT_HOST and moment > ISOLATED_AT:
            host, ip = machines[1]
        log.add(
            moment,
            _service_ticket(f"{host}$", rng_machines.choice(("DC01$", f"{FILE_SERVER}$")), ip),
        )
        moment += dt.timedelta(seconds=rng_machines.randrange(low * 60, high * 60))

    clears: list[tuple[dt.datetime, int]] = []
    if scenario.variant == "log_cleared":
        clears.append((LOG_CLEARED_AT, log.add(LOG_CLEARED_AT, _log_cleared())))

    numbers, times = log.write(folder / DC_PATH, 4_700_000)
    account = f"{AD_DOMAIN}\\{SUBJECT_SAM}"
    logons = [
        Logon(
            time,
            AD_SYSTEM,
            account if kind == "4624" else _kerberos_spelling(kind),
            "success",
            ip,
            Ref(DC_PATH, f"xml:{numbers[index]}"),
            DC_NAME,
            "3" if kind == "4624" else None,
        )
        for index, kind, time, ip in mine
    ]
    change = Ref(DC_PATH, f"xml:{numbers[change_index]}")
    return WindowsFacts(
        logons=sorted(logons, key=lambda logon: (logon.time, logon.ref.record)),
        changes=[CredentialChange(AD_ROTATION_AT, AD_SYSTEM, account, "changed", change)],
        dc_times=times,
        log_clears=[(time, Ref(DC_PATH, f"xml:{numbers[index]}")) for time, index in clears],
    )


def _kerberos_spelling(kind: str) -> str:
    """How a Kerberos event spells the employee (the same credential, another spelling)."""
    return f"{AD_REALM}\\{SUBJECT_SAM}" if kind == "4768" else f"{SUBJECT_SAM}@{AD_REALM}"
