"""The Linux jump host's ``auth.log``: syslog lines without a year, in Tokyo time.

Why it is in the case: it holds two traps of the rules. Its time stamps have no year
(rules.md, Times: the item's ``year``, else known.infected_at's year, else an error), so the
manifest gives ``year: 2011`` on the item. And the employee used it from WS-0423 only *before*
the infection: a credential used from the host outside the window is not exposed, so the
jump host account must not appear among the exposed credentials. The log also carries a
password-guessing run from outside (failures of accounts that are not the employee's, one
line repeated), colleagues' logons, and the employee's password change after the incident.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from breachscope.demo.records import Logon, Ref
from breachscope.demo.scenario import (
    BRUTE_FORCE_IP,
    JUMP_HOST,
    JUMP_PASSWORD_AT,
    JUMP_SYSTEM,
    LOG_END,
    LOG_START,
    NEW_HOST_IP,
    SUBJECT_IP,
    SUBJECT_SAM,
    Scenario,
    at,
    days,
    is_workday,
    jst,
    to_jst,
)

AUTH_LOG_PATH = "evidence/logs/jump01-auth.log"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SUBJECT_VISITS = (
    jst(2011, 6, 8, 10, 14, 5),
    jst(2011, 6, 20, 15, 2, 41),
    jst(2011, 6, 28, 11, 37, 19),
    jst(2011, 7, 5, 16, 8, 52),
)
ADMINS = (("skimura", "10.20.3.41"), ("nogawa", "10.20.3.57"), ("backup", "10.20.0.30"))
SESSION_OPENED = "pam_unix(sshd:session): session opened for user {user} by (uid=0)"
SUDO = (
    "sudo:  {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; "
    "COMMAND=/usr/bin/tail /var/log/messages"
)
PASSWORD_CHANGED = "pam_unix(passwd:chauthtok): password changed for {user}"
GUESS = "Failed password for invalid user {user} from {ip} port {port} ssh2"
RSA_KEY = "RSA 3f:a2:91:0c:5e:77:1b:d4:08:6e:c2:99:41:af:13:70"
GUESSING_NIGHTS = (
    jst(2011, 6, 14, 2, 13, 44),
    jst(2011, 7, 19, 3, 41, 2),
    jst(2011, 8, 2, 1, 5, 37),
)


def _stamp(moment: dt.datetime) -> str:
    local = to_jst(moment)
    return f"{MONTHS[local.month - 1]} {local.day:2d} {local:%H:%M:%S}"


def write_auth_log(folder: Path, scenario: Scenario) -> list[Logon]:
    """Write the log; return the employee's logons on the jump host."""
    rng = scenario.rng("jumphost")
    lines: list[tuple[dt.datetime, str, bool]] = []  # (time, message, is the subject's logon)
    pid = 2000

    def sshd(moment: dt.datetime, text: str, mine: bool = False) -> None:
        nonlocal pid
        pid += rng.randrange(3, 40)
        lines.append((moment, f"sshd[{pid}]: {text}", mine))

    def other(moment: dt.datetime, text: str) -> None:
        lines.append((moment, text, False))

    for moment in SUBJECT_VISITS:
        port = rng.randrange(49152, 65535)
        sshd(
            moment, f"Accepted password for {SUBJECT_SAM} from {SUBJECT_IP} port {port} ssh2", True
        )
        other(moment, f"sshd[{pid}]: {SESSION_OPENED.format(user=SUBJECT_SAM)}")
        other(moment + dt.timedelta(seconds=rng.randrange(60, 600)), SUDO.format(user=SUBJECT_SAM))
    change_login = JUMP_PASSWORD_AT - dt.timedelta(seconds=95)
    sshd(
        change_login,
        f"Accepted password for {SUBJECT_SAM} from {NEW_HOST_IP} port 51022 ssh2",
        True,
    )
    other(JUMP_PASSWORD_AT, f"passwd[{pid + 7}]: {PASSWORD_CHANGED.format(user=SUBJECT_SAM)}")

    for day in days(LOG_START, LOG_END):
        if not is_workday(day):
            continue
        for user, ip in ADMINS:
            if rng.random() < 0.5:
                continue
            moment = at(day, 9) + dt.timedelta(seconds=rng.randrange(9 * 3600))
            port = rng.randrange(49152, 65535)
            if user == "backup":
                sshd(moment, f"Accepted publickey for {user} from {ip} port {port} ssh2 {RSA_KEY}")
            else:
                sshd(moment, f"Accepted password for {user} from {ip} port {port} ssh2")
    for night in GUESSING_NIGHTS:
        port = rng.randrange(30000, 60000)
        for offset, user in enumerate(("admin", "root", "oracle", "test")):
            moment = night + dt.timedelta(seconds=7 * offset)
            sshd(moment, GUESS.format(user=user, ip=BRUTE_FORCE_IP, port=port + offset))
        guess = GUESS.format(user="test", ip=BRUTE_FORCE_IP, port=port + 3)
        other(
            night + dt.timedelta(seconds=40), f"sshd[{pid}]: message repeated 3 times: [ {guess}]"
        )

    lines.sort(key=lambda line: line[0])
    text = "".join(f"{_stamp(moment)} {JUMP_HOST} {message}\n" for moment, message, _ in lines)
    (folder / AUTH_LOG_PATH).parent.mkdir(parents=True, exist_ok=True)
    (folder / AUTH_LOG_PATH).write_text(text, encoding="ascii")
    return [
        Logon(
            moment,
            JUMP_SYSTEM,
            SUBJECT_SAM,
            "success",
            message.split(" from ")[1].split()[0],
            Ref(AUTH_LOG_PATH, f"line:{number}"),
            JUMP_HOST,
        )
        for number, (moment, message, mine) in enumerate(lines, start=1)
        if mine
    ]
