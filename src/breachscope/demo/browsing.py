"""The employee's web browsing: the visits Chrome kept and the proxy forwarded.

Why a plan shared by two writers: Chrome's ``History`` (what was displayed, rules.md,
Exposure -> Displayed) and the proxy's ``access.log`` (the network) describe the same visits.
The plan holds the traps of the displayed-URL rule: a redirect hop (``http://`` that the
server sent on to ``https://``: not displayed), an advertising frame inside a page (a
subframe: not displayed), searches recorded in ``keyword_search_terms``, an intranet wiki
page and a search whose words carry the ``htv-operations`` label, and the partner portal's
pages at the moments of the partner logons.

Chrome's transition values (``ui/base/page_transition_types.h``): core type in the low byte
(link 0, typed 1, auto_subframe 3, generated 5, form_submit 7), qualifiers CHAIN_START
0x10000000, CHAIN_END 0x20000000, SERVER_REDIRECT 0x80000000.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from urllib.parse import quote_plus

from breachscope.demo.scenario import ISOLATED_AT, OPENED_AT, PARTNER_ORIGIN, Scenario, to_jst
from breachscope.demo.schedule import Plan

LINK = 0x30000000
TYPED = 0x30000001
AUTO_SUBFRAME = 0x30000003
GENERATED = 0x30000005
FORM_SUBMIT = 0x30000007
REDIRECT_SOURCE = 0x10000000  # link, chain start, no chain end: left for another page
REDIRECT_TARGET = 0xA0000000  # link, server redirect, chain end: the page shown
SEARCH_URL = "https://search.example.com/search?q={}"
TRAVEL_ORIGIN = "https://travel.example-booking.com"
# The first half is searched before the infection, the second half inside the window.
SEARCHES = (
    "orbit determination least squares",
    "tokyo weather",
    "kibo experiment facility",
    "ISTS 2011 programme",
    "HTV operation schedule",
    "thermal vacuum chamber booking",
)
PAGES = (
    ("https://intranet.example-space.jp/", "Example Space Agency intranet", TYPED),
    ("https://wiki.example-space.jp/Kibo/schedule", "Kibo schedule - wiki", LINK),
    ("https://wiki.example-space.jp/HTV/operations", "HTV operations - wiki", LINK),
    ("https://www.space-news.example/articles/launch-report", "Launch report", LINK),
    ("https://www.space-news.example/articles/station-resupply", "Station resupply", LINK),
    ("https://journal.science-review.example/abstracts/2011", "Abstracts 2011", LINK),
    ("https://weather.example.net/tokyo", "Tokyo weather", LINK),
    (f"{TRAVEL_ORIGIN}/", "Example Booking: flights and hotels", TYPED),
    (f"{TRAVEL_ORIGIN}/my/trips", "My trips", LINK),
)
NEWS_HTTP = "http://www.space-news.example/"
NEWS_HTTPS = "https://www.space-news.example/"
AD_FRAME = "https://ads.adnet.example/frame?slot=news-top"


@dataclass(frozen=True)
class BrowseVisit:
    time: dt.datetime
    url: str
    title: str
    transition: int
    search_term: str | None = None


def plan_browsing(scenario: Scenario, plan: Plan) -> list[BrowseVisit]:
    """Every visit of the employee's Chrome, in time order."""
    rng = scenario.rng("browsing")
    visits: list[BrowseVisit] = []
    searches = list(SEARCHES)
    search_days = _search_days(plan, len(searches), rng)
    for number, session in enumerate(plan.sessions):
        start = session.start + dt.timedelta(minutes=3)
        end = session.end or ISOLATED_AT - dt.timedelta(minutes=5)
        visits.append(BrowseVisit(start, PAGES[0][0], PAGES[0][1], TYPED))
        for _ in range(rng.randint(3, 7)):
            url, title, transition = rng.choice(PAGES[1:])
            moment = start + dt.timedelta(seconds=rng.randrange(600, 8 * 3600))
            if moment < end:
                visits.append(BrowseVisit(moment, url, title, transition))
        moment = start + dt.timedelta(seconds=rng.randrange(3600, 5 * 3600))
        if number % 3 == 1 and moment < end:
            # The news site typed without https: a redirect hop, the page, an ad frame in it.
            visits.append(BrowseVisit(moment, NEWS_HTTP, "", REDIRECT_SOURCE))
            second = moment + dt.timedelta(seconds=1)
            visits.append(BrowseVisit(second, NEWS_HTTPS, "Space News", REDIRECT_TARGET))
            visits.append(
                BrowseVisit(second + dt.timedelta(seconds=2), AD_FRAME, "", AUTO_SUBFRAME)
            )
        if number in search_days:
            term = searches.pop(0)
            moment = start + dt.timedelta(seconds=rng.randrange(1800, 6 * 3600))
            url = SEARCH_URL.format(quote_plus(term))
            visits.append(BrowseVisit(moment, url, f"{term} - Search", GENERATED, term))
    for moment, result in plan.partner_logons:
        visits.append(
            BrowseVisit(
                moment - dt.timedelta(seconds=20),
                f"{PARTNER_ORIGIN}/login",
                "Partner portal: sign in",
                TYPED,
            )
        )
        if result == "OK":
            visits.append(
                BrowseVisit(
                    moment + dt.timedelta(seconds=4),
                    f"{PARTNER_ORIGIN}/dashboard",
                    "Partner portal",
                    FORM_SUBMIT,
                )
            )
    return sorted(visits, key=lambda v: (v.time, v.url))


def _search_days(plan: Plan, count: int, rng: random.Random) -> set[int]:
    """Session numbers for the searches: half before the infection, half inside the window."""
    infected = to_jst(OPENED_AT).date()
    before = [i for i, s in enumerate(plan.sessions) if to_jst(s.start).date() < infected]
    after = [i for i, s in enumerate(plan.sessions) if to_jst(s.start).date() > infected]
    return set(rng.sample(before, count // 2) + rng.sample(after[:-1], count - count // 2))
