"""The agency's web proxy: a Squid native ``access.log`` for every internal PC.

What it must show (rules.md, The window and Exposure):

- WS-0423 (10.20.4.23) beaconing to the C2 domain from a minute after the attachment was
  opened until isolation, every `BEACON_INTERVAL_SECONDS` with a small uniform jitter (a
  coefficient of variation near 0.05, well under ``BEACON_MAX_JITTER`` 0.2): plain GETs,
  some POSTs, and some ``CONNECT update-check.example-cdn.net:443`` tunnels;
- the block: from `BLOCK_AT` the proxy answers the C2 with ``TCP_DENIED/403`` (block
  evidence). The PC keeps trying until its cable is pulled, so the last C2 contact is a
  denied one and window.end = that contact + ``BEACON_GRACE``;
- WS-0423's HTTPS tunnels to the partner portal, each open from a minute before to four
  minutes after a partner logon (``egress_correlated``: the portal sees the agency's NAT
  address; the proxy shows which PC was behind it);
- ordinary browsing of the other PCs, whose volume grows with the scale.

Intranet pages (``*.example-space.jp``) do not go through the proxy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from breachscope.demo.browsing import BrowseVisit
from breachscope.demo.people import Directory
from breachscope.demo.records import Ref, Request
from breachscope.demo.scenario import (
    BEACON_INTERVAL_SECONDS,
    BEACON_JITTER_SECONDS,
    BLOCK_AT,
    C2_DOMAIN,
    C2_IP,
    FIRST_BEACON_AT,
    ISOLATED_AT,
    LOG_END,
    LOG_START,
    MAIL_DOMAIN,
    PARTNER_HOST,
    PARTNER_IP,
    SUBJECT_IP,
    Scenario,
    at,
    days,
    is_workday,
)
from breachscope.demo.schedule import Plan

PROXY_PATH = "evidence/logs/proxy-access.log"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
PORTAL_BEFORE = dt.timedelta(seconds=60)
PORTAL_AFTER = dt.timedelta(seconds=240)
BEACON_ID = "WS0423-7f3a91"
ORDINARY_SITES = (
    ("http://www.space-news.example/", "203.0.113.41", "text/html"),
    ("http://www.space-news.example/img/logo.png", "203.0.113.41", "image/png"),
    ("https://journal.science-review.example/", "198.51.100.61", None),
    ("https://weather.example.net/", "192.0.2.31", None),
    ("http://downloads.example.com/update/manifest.xml", "192.0.2.87", "text/xml"),
    ("https://search.example.com/", "198.51.100.90", None),
    ("http://www.example.org/standards/ccsds.html", "192.0.2.15", "text/html"),
    ("https://travel.example-booking.com/", "203.0.113.75", None),
)
SITE_IPS = {
    "www.space-news.example": "203.0.113.41",
    "journal.science-review.example": "198.51.100.61",
    "weather.example.net": "192.0.2.31",
    "search.example.com": "198.51.100.90",
    "travel.example-booking.com": "203.0.113.75",
    "ads.adnet.example": "198.51.100.140",
}


@dataclass(frozen=True)
class _Line:
    time: dt.datetime
    elapsed_ms: int
    client: str
    action: str
    code: int
    size: int
    method: str
    url: str
    hierarchy: str
    mime: str
    dst_host: str
    dst_ip: str | None

    def text(self) -> str:
        seconds = int((self.time - EPOCH).total_seconds())
        millis = self.time.microsecond // 1000
        return (
            f"{seconds}.{millis:03d} {self.elapsed_ms:6d} {self.client} {self.action}/{self.code} "
            f"{self.size} {self.method} {self.url} - {self.hierarchy} {self.mime}"
        )


def _direct(ip: str | None) -> str:
    return f"DIRECT/{ip}" if ip else "HIER_NONE/-"


def _https(time: dt.datetime, client: str, host: str, ip: str, elapsed_ms: int, size: int) -> _Line:
    return _Line(
        time,
        elapsed_ms,
        client,
        "TCP_MISS",
        200,
        size,
        "CONNECT",
        f"{host}:443",
        _direct(ip),
        "-",
        host,
        ip,
    )


def _beacons(scenario: Scenario) -> list[_Line]:
    rng = scenario.rng("beacons")
    lines: list[_Line] = []
    moment = FIRST_BEACON_AT
    number = 0
    while moment < ISOLATED_AT:
        number += 1
        elapsed = rng.randrange(140, 900)
        end = moment + dt.timedelta(milliseconds=elapsed)
        url = f"http://{C2_DOMAIN}/index.php?id={BEACON_ID}&r={number}"
        if moment >= BLOCK_AT:
            lines.append(
                _Line(
                    end,
                    0,
                    SUBJECT_IP,
                    "TCP_DENIED",
                    403,
                    3823,
                    "GET",
                    url,
                    "HIER_NONE/-",
                    "text/html",
                    C2_DOMAIN,
                    None,
                )
            )
        elif number % 6 == 0:
            lines.append(
                _https(end, SUBJECT_IP, C2_DOMAIN, C2_IP, elapsed + 1200, rng.randrange(2500, 9000))
            )
        elif number % 11 == 0:
            post = f"http://{C2_DOMAIN}/upload.php?id={BEACON_ID}"
            lines.append(
                _Line(
                    end,
                    elapsed,
                    SUBJECT_IP,
                    "TCP_MISS",
                    200,
                    rng.randrange(180, 260),
                    "POST",
                    post,
                    _direct(C2_IP),
                    "text/html",
                    C2_DOMAIN,
                    C2_IP,
                )
            )
        else:
            lines.append(
                _Line(
                    end,
                    elapsed,
                    SUBJECT_IP,
                    "TCP_MISS",
                    200,
                    rng.randrange(180, 620),
                    "GET",
                    url,
                    _direct(C2_IP),
                    "text/html",
                    C2_DOMAIN,
                    C2_IP,
                )
            )
        moment += dt.timedelta(
            seconds=BEACON_INTERVAL_SECONDS
            + rng.uniform(-BEACON_JITTER_SECONDS, BEACON_JITTER_SECONDS)
        )
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return lines


def _subject_browsing(scenario: Scenario, visits: list[BrowseVisit], plan: Plan) -> list[_Line]:
    rng = scenario.rng("proxy-subject")
    lines: list[_Line] = []
    for visit in visits:
        host = visit.url.split("/")[2]
        if host.endswith(MAIL_DOMAIN) or host == PARTNER_HOST:
            continue
        elapsed = rng.randrange(200, 40_000)
        end = visit.time + dt.timedelta(milliseconds=elapsed)
        ip = SITE_IPS.get(host)
        if visit.url.startswith("https://"):
            lines.append(
                _https(
                    end, SUBJECT_IP, host, ip or "192.0.2.200", elapsed, rng.randrange(3000, 90_000)
                )
            )
        else:
            lines.append(
                _Line(
                    end,
                    elapsed % 2000,
                    SUBJECT_IP,
                    "TCP_MISS",
                    301,
                    412,
                    "GET",
                    visit.url,
                    _direct(ip),
                    "text/html",
                    host,
                    ip,
                )
            )
    for moment, _ in plan.partner_logons:
        opened = moment - PORTAL_BEFORE
        end = moment + PORTAL_AFTER
        elapsed = int((end - opened).total_seconds() * 1000)
        lines.append(
            _https(
                end, SUBJECT_IP, PARTNER_HOST, PARTNER_IP, elapsed, rng.randrange(20_000, 160_000)
            )
        )
    return lines


def _ordinary(scenario: Scenario, people: Directory) -> list[_Line]:
    rng = scenario.rng("proxy-ordinary")
    lines: list[_Line] = []
    for day in days(LOG_START, LOG_END):
        if not is_workday(day):
            continue
        for person in people.staff:
            assert person.ip is not None
            for _ in range(rng.randint(8, 20)):
                url, ip, mime = rng.choice(ORDINARY_SITES)
                host = url.split("/")[2]
                moment = at(day, 8, 30) + dt.timedelta(
                    seconds=rng.randrange(10 * 3600), milliseconds=rng.randrange(1000)
                )
                elapsed = rng.randrange(30, 5000)
                if mime is None:
                    lines.append(
                        _https(
                            moment, person.ip, host, ip, elapsed * 10, rng.randrange(2000, 200_000)
                        )
                    )
                else:
                    lines.append(
                        _Line(
                            moment,
                            elapsed,
                            person.ip,
                            rng.choice(
                                ("TCP_MISS", "TCP_MISS", "TCP_HIT", "TCP_REFRESH_UNMODIFIED")
                            ),
                            200,
                            rng.randrange(300, 60_000),
                            "GET",
                            url,
                            _direct(ip),
                            mime,
                            host,
                            ip,
                        )
                    )
    return lines


def write_proxy_log(
    folder: Path, scenario: Scenario, people: Directory, plan: Plan, visits: list[BrowseVisit]
) -> list[Request]:
    """Write the access log in time order; return the records of WS-0423's requests."""
    lines = (
        _beacons(scenario) + _subject_browsing(scenario, visits, plan) + _ordinary(scenario, people)
    )
    lines.sort(key=lambda line: (line.time, line.client, line.url))
    path = folder / PROXY_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line.text() + "\n" for line in lines), encoding="ascii")
    requests = []
    for number, line in enumerate(lines, start=1):
        if line.client != SUBJECT_IP:
            continue
        start = line.time - dt.timedelta(milliseconds=line.elapsed_ms)
        requests.append(
            Request(
                line.time,
                start,
                line.client,
                line.method,
                line.url,
                line.dst_host,
                line.dst_ip,
                line.action,
                Ref(PROXY_PATH, f"line:{number}"),
            )
        )
    return requests
