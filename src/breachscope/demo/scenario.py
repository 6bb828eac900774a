"""The story of the demo case: who, which machines, and when each thing happened.

The demo follows the real case behind breachscope (July 2011): an employee of a space agency
opened a conference programme attached to an e-mail; the RTF carried a new virus and his
unpatched Office 2007 SP2 opened it; the PC beaconed to its server for five weeks until it
was isolated; the passwords were changed afterwards. Every name, domain and address here is
fictional (``.example`` / ``example-*`` domains, documentation IP ranges 192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24 and 10.x inside).

Why the times are constants: the truth a test compares findings with must not move when the
seed or the scale changes; the seed only changes the ordinary noise around these facts (who
wrote which ordinary mail, when a colleague logged on), and the scale only its volume.
All times are UTC; `jst` writes them the way the case's people lived them (Asia/Tokyo).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

CASE_ID = "DEMO-2011-017"
CASE_ZONE = ZoneInfo("Asia/Tokyo")
PARTNER_ZONE = ZoneInfo("America/Chicago")

ORGANIZATION = "Example Space Agency"
MAIL_DOMAIN = "example-space.jp"
AD_DOMAIN = "EXSPACE"
AD_REALM = "EXAMPLE-SPACE.JP"
EGRESS_IP = "203.0.113.10"
DC_NAME = "dc01.example-space.jp"
FILE_SERVER = "FS01"
MAIL_SERVER = "EXCH01"

SUBJECT_HOST = "WS-0423"
SUBJECT_IP = "10.20.4.23"
SUBJECT_NAME = "Taro Yamada"
SUBJECT_EMAIL = "t.yamada@example-space.jp"
SUBJECT_SAM = "tyamada"
SUBJECT_AD_ACCOUNT = f"{AD_DOMAIN}\\{SUBJECT_SAM}"
SUBJECT_PROFILE = f"C:\\Users\\{SUBJECT_SAM}"
SUBJECT_SID = "S-1-5-21-3623811015-3361044348-30300820-1423"
NEW_HOST_IP = "10.20.6.11"  # WS-0611, the PC the employee got after his was isolated

PARTNER_SYSTEM = "partner-portal"
PARTNER_ACCOUNT = "tyamada@partner.example"
PARTNER_HOST = "portal.partner.example"
PARTNER_ORIGIN = "https://portal.partner.example"
PARTNER_IP = "192.0.2.80"
AD_SYSTEM = "corp-ad"
JUMP_SYSTEM = "jumphost"
JUMP_HOST = "jump01"

C2_DOMAIN = "update-check.example-cdn.net"
C2_IP = "198.51.100.23"
OUTSIDER_IP = "192.0.2.66"
BRUTE_FORCE_IP = "198.51.100.77"

ATTACHMENT_NAME = "programme.rtf"
OUTLOOK_TEMP = (
    f"{SUBJECT_PROFILE}\\AppData\\Local\\Microsoft\\Windows\\Temporary Internet Files"
    "\\Content.Outlook\\AB12CD34"
)
ATTACHMENT_PATH = f"{OUTLOOK_TEMP}\\{ATTACHMENT_NAME}"
DROPPED_NAME = "svchost32.exe"
DROPPED_PATH = f"{SUBJECT_PROFILE}\\AppData\\Local\\Temp\\{DROPPED_NAME}"
WINWORD = "C:\\Program Files\\Microsoft Office\\Office12\\WINWORD.EXE"

OFFICE_NAME = "Microsoft Office Professional 2007"
OFFICE_SP2 = "12.0.6425.1000"
OFFICE_SP3 = "12.0.6612.1000"
CVE = "CVE-2010-3333"
OFFICE_CPE = "cpe:2.3:a:microsoft:office:2007:sp2:*:*:*:*:*:*"

VARIANTS = ("outsider", "missing_day", "log_cleared", "stored_no_logs")
BEACON_GRACE = dt.timedelta(hours=1)  # rules.md, The window
BEACON_INTERVAL_SECONDS = 1800
BEACON_JITTER_SECONDS = 150  # uniform +-: a coefficient of variation near 0.05


def jst(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    """A Tokyo wall-clock time as the UTC instant it was.

    >>> jst(2011, 7, 6, 10, 12, 3).isoformat()
    '2011-07-06T01:12:03+00:00'
    """
    local = dt.datetime(year, month, day, hour, minute, second, tzinfo=CASE_ZONE)
    return local.astimezone(dt.UTC)


LOG_START = jst(2011, 5, 30)  # the logs the case holds begin 37 days before the infection
LOG_END = jst(2011, 8, 15, 23, 59, 59)
MAIL_START = jst(2011, 5, 23, 8)
MAIL_END = jst(2011, 8, 14, 20)
MALICIOUS_AT = jst(2011, 7, 6, 9, 55, 12)  # the e-mail arrives
OPENED_AT = jst(2011, 7, 6, 10, 12, 3)  # WINWORD.EXE opens the attachment: window.start
FIRST_BEACON_AT = jst(2011, 7, 6, 10, 13, 41)
BLOCK_AT = jst(2011, 8, 11, 9, 0)  # the proxy denies the C2 from here on
ISOLATED_AT = jst(2011, 8, 11, 9, 40)  # the network cable is pulled: known.contained_at
AD_ROTATION_AT = jst(2011, 8, 11, 15, 20, 41)
PARTNER_ROTATION_AT = jst(2011, 8, 12, 10, 5, 17)
JUMP_PASSWORD_AT = jst(2011, 8, 12, 10, 31, 2)
HOLIDAYS = frozenset({dt.date(2011, 7, 18)})  # Marine Day
# Kept free of mail and logons, so that window.end (known or inferred) cuts nothing.
QUIET_FROM = jst(2011, 8, 11, 8, 0)
QUIET_TO = jst(2011, 8, 11, 13, 0)

OUTSIDER_LOGON_AT = jst(2011, 7, 23, 3, 12, 40)
OUTSIDER_FAILURES_AT = (jst(2011, 8, 13, 2, 0, 11), jst(2011, 8, 13, 2, 0, 49))
MISSING_PARTNER_DAY = dt.date(2011, 7, 20)  # a Chicago date inside the window
LOG_CLEARED_AT = jst(2011, 7, 25, 3, 12, 44)


@dataclass(frozen=True)
class Scenario:
    """The parameters of one generation; `rng` gives an independent stream per topic.

    Separate streams keep the subject's facts (drawn from topics that do not depend on the
    scale) identical at every scale, while the ordinary volume grows with it.
    """

    seed: int = 2011
    scale: int = 1
    variant: str | None = None
    with_known: bool = False

    def rng(self, topic: str) -> random.Random:
        return random.Random(f"{self.seed}/{topic}")


def to_jst(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(CASE_ZONE)


def days(start: dt.datetime, end: dt.datetime) -> Iterator[dt.date]:
    """Every Tokyo calendar date from ``start`` to ``end``."""
    day = to_jst(start).date()
    last = to_jst(end).date()
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def is_workday(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """UTC instant of a Tokyo wall-clock time on ``day``."""
    return jst(day.year, day.month, day.day, hour, minute, second)


def quiet(moment: dt.datetime) -> bool:
    """Inside the hours around isolation that are kept free of ordinary activity."""
    return QUIET_FROM <= moment <= QUIET_TO


def iso_utc(moment: dt.datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``, the fraction only when non-zero (rules.md, Times).

    >>> iso_utc(jst(2011, 7, 6, 10, 12, 3))
    '2011-07-06T01:12:03Z'
    """
    if moment is None:
        return None
    utc = moment.astimezone(dt.UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"
