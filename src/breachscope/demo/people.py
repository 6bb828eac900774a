"""The people of the demo case: colleagues, correspondents and their machines.

Why a directory of its own: the mailbox, the address book, the domain controller and the
proxy must agree on who exists (a colleague who writes mail also logs on from his own PC),
and the number of distinct addresses the mailbox and the address book hold is a fact the
truth states (about 1,000 at scale 1, growing with the scale). Names are invented from common
name parts; domains are ``example-space.jp`` (the agency), its sub-domains, and ``.example``
or ``example.com/.org/.net`` names outside.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from breachscope.demo.scenario import (
    MAIL_DOMAIN,
    SUBJECT_EMAIL,
    SUBJECT_HOST,
    SUBJECT_IP,
    SUBJECT_NAME,
    SUBJECT_SAM,
    Scenario,
)

INTERNAL_PER_SCALE = 300
EXTERNAL_PER_SCALE = 620
CONTACT_ONLY_PER_SCALE = 60
STAFF_WITH_HOSTS_PER_SCALE = 12
POST_WINDOW_ONLY = 8  # addresses seen only in mail after window.end: not exposed
MENTIONED_ONLY = 15  # addresses only written in message bodies: mentioned, not exposed

SURNAMES = (
    "sato", "suzuki", "takahashi", "tanaka", "watanabe", "ito", "yamamoto", "nakamura",
    "kobayashi", "kato", "yoshida", "yamada", "sasaki", "yamaguchi", "matsumoto", "inoue",
    "kimura", "hayashi", "shimizu", "yamazaki", "mori", "abe", "ikeda", "hashimoto",
    "yamashita", "ishikawa", "nakajima", "maeda", "fujita", "ogawa", "goto", "okada",
    "hasegawa", "murakami", "kondo", "ishii", "saito", "sakamoto", "endo", "aoki", "fujii",
    "nishimura", "fukuda", "ota", "miura", "fujiwara", "okamoto", "matsuda", "nakagawa",
    "nakano", "harada", "ono", "tamura", "takeuchi", "kaneko", "wada", "nakayama", "ishida",
    "ueda", "morita", "hara", "shibata", "sakai", "kudo", "yokoyama", "miyazaki", "miyamoto",
)  # fmt: skip
GIVEN_NAMES = (
    "hiroshi", "takashi", "makoto", "kenji", "yuki", "akira", "satoshi", "naoki", "daisuke",
    "kazuya", "tomoko", "yoko", "keiko", "naoko", "yumiko", "akiko", "junko", "kaori",
    "megumi", "ayumi", "shota", "ryo", "kenta", "yusuke", "haruka", "masato", "noriko", "emi",
    "mai", "kazuki", "takuya", "shinji", "koji", "yuji", "tetsuya", "mariko", "sachiko",
    "hitomi", "eri", "kei", "rina", "sho", "daiki", "yui", "aya", "miki", "nao", "ken", "jun",
    "ryota", "takeshi", "hideki", "masahiro",
)  # fmt: skip
WESTERN_FIRST = (
    "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "william",
    "elizabeth", "david", "barbara", "richard", "susan", "joseph", "jessica", "thomas",
    "sarah", "charles", "karen", "daniel", "nancy", "matthew", "lisa", "anthony", "betty",
    "mark", "sandra", "paul", "ashley", "steven", "kimberly", "andrew", "emily", "pierre",
    "marie", "hans", "anna", "luca", "giulia", "carlos", "sofia", "lars", "ingrid", "olga",
    "ivan", "chen", "wei",
)  # fmt: skip
WESTERN_LAST = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez",
    "martinez", "wilson", "anderson", "taylor", "thomas", "moore", "martin", "jackson",
    "thompson", "white", "harris", "clark", "lewis", "robinson", "walker", "young", "allen",
    "king", "wright", "scott", "green", "baker", "adams", "nelson", "hill", "dubois", "muller",
    "rossi", "fernandez", "larsen", "petrov", "novak", "zhang", "wang", "kowalski", "jansen",
)  # fmt: skip
DOMAIN_WORDS = (
    "orbital-lab", "aerospace-institute", "space-weekly", "stellar-systems", "rocketworks",
    "astro-university", "deep-space-net", "satellite-ops", "launch-services",
    "propulsion-tech", "mission-design", "planetary-society", "cosmic-ray-lab",
    "microgravity-center", "ground-station-network", "telemetry-solutions",
    "spacecraft-engineering", "earth-observation-center", "lunar-exploration",
    "mars-research-group", "space-policy-forum", "astro-optics", "heliophysics-lab",
    "solar-sail-project", "orbital-debris-watch", "space-medicine-institute",
    "thermal-vacuum-lab", "antenna-systems", "avionics-works", "composite-structures",
    "radiation-test-center", "flight-dynamics-group", "space-law-society",
    "small-sat-consortium", "ionosphere-research", "cryogenics-lab", "star-tracker-systems",
    "attitude-control-lab", "science-data-archive", "space-museum", "astronomy-club",
    "tokyo-tech-univ", "kyushu-space-univ", "hokkaido-aero-univ", "kansai-science-univ",
    "nagoya-engineering", "tohoku-geophysics", "euro-space-agency", "asia-pacific-space-forum",
    "iaf-secretariat", "conference-services", "travel-desk", "hotel-reservations",
    "translation-services", "publishing-house", "science-journal", "engineering-review",
    "procurement-portal",
)  # fmt: skip
INTERNAL_SUBDOMAINS = ("tksc", "isas", "kakuda")
# The same mailbox written several ways (rules.md, Identity): one exposed address each.
SPELLING_TRAP_LOCAL = "h.suzuki"
IDN_DOMAIN_UNICODE = "宇宙開発.example"


@dataclass(frozen=True)
class Person:
    """Someone with an e-mail address; colleagues with a PC also have an account and a host."""

    name: str
    address: str
    sam: str | None = None
    host: str | None = None
    ip: str | None = None
    zone: str = "+0900"  # the offset of the Date header of mail this person writes


@dataclass
class Directory:
    """Everyone in the case, in a stable order."""

    subject: Person
    internal: list[Person]
    external: list[Person]
    contact_only: list[Person]
    post_window_only: list[Person]
    mentioned_only: list[Person]
    staff: list[Person] = field(default_factory=list)
    """Colleagues with a PC: they log on to the domain and browse through the proxy."""

    def by_address(self, address: str) -> Person:
        for person in self.everyone():
            if person.address == address:
                return person
        raise KeyError(address)

    def everyone(self) -> list[Person]:
        return [
            self.subject,
            *self.internal,
            *self.external,
            *self.contact_only,
            *self.post_window_only,
            *self.mentioned_only,
        ]


# Colleagues the story needs by name: the spelling trap, the other recipients of the
# malicious e-mail (one of them on the same unpatched Office), IT security.
NAMED_COLLEAGUES = (
    Person("Hiroshi Suzuki", "h.suzuki@example-space.jp", "hsuzuki", "WS-0415", "10.20.4.15"),
    Person("Kenji Sato", "k.sato@example-space.jp", "ksato", "WS-0424", "10.20.4.24"),
    Person("Mariko Ito", "m.ito@example-space.jp", "mito", "WS-0511", "10.20.5.11"),
    Person("IT Security Office", "itsec@example-space.jp"),
    Person("General Affairs", "soumu@example-space.jp"),
    Person("Agency Announcements", "announce@example-space.jp"),
    Person("All Staff", "all-staff@example-space.jp"),
    Person("Partner Desk", "desk@partner.example", zone="-0500"),
)
SUBJECT = Person(SUBJECT_NAME, SUBJECT_EMAIL, SUBJECT_SAM, SUBJECT_HOST, SUBJECT_IP)
RESERVED_HOSTS = frozenset({423, 611})


def _domains(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(domain, Date-header offset) for ``count`` outside organisations."""
    zones = ("+0900", "+0900", "+0900", "-0500", "-0700", "+0100", "+0200", "+0000", "+0800")
    domains: list[tuple[str, str]] = []
    tlds = (".example", ".example", ".example.org", ".example.com", ".example.net")
    for index in range(count):
        word = DOMAIN_WORDS[index % len(DOMAIN_WORDS)]
        round_ = index // len(DOMAIN_WORDS)
        suffix = "" if round_ == 0 else f"-{round_ + 1}"
        tld = tlds[index % len(tlds)]
        domains.append((f"{word}{suffix}{tld}", rng.choice(zones)))
    return domains


def _japanese_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(GIVEN_NAMES), rng.choice(SURNAMES)


def _unique(address: str, taken: set[str]) -> str:
    local, _, domain = address.partition("@")
    candidate, number = address, 1
    while candidate in taken:
        number += 1
        candidate = f"{local}{number}@{domain}"
    taken.add(candidate)
    return candidate


def build_directory(scenario: Scenario) -> Directory:
    """The case's people; the counts grow with ``scenario.scale``."""
    rng = scenario.rng("people")
    scale = scenario.scale
    taken = {SUBJECT.address, *(p.address for p in NAMED_COLLEAGUES)}
    taken.add(f"{SPELLING_TRAP_LOCAL}@{MAIL_DOMAIN}")

    internal: list[Person] = list(NAMED_COLLEAGUES[:7])
    while len(internal) < INTERNAL_PER_SCALE * scale:
        given, surname = _japanese_name(rng)
        if rng.random() < 0.06:
            domain = f"{rng.choice(INTERNAL_SUBDOMAINS)}.{MAIL_DOMAIN}"
        else:
            domain = MAIL_DOMAIN
        style = rng.random()
        local = (
            f"{given[0]}.{surname}"
            if style < 0.7
            else f"{given}.{surname}"
            if style < 0.9
            else f"{surname}-{given[0]}"
        )
        address = _unique(f"{local}@{domain}", taken)
        internal.append(Person(f"{given.title()} {surname.title()}", address))

    domains = _domains(max(70, 70 * scale // 2), rng)
    external: list[Person] = [NAMED_COLLEAGUES[7]]
    external.append(Person("Uchu Kaihatsu Office", f"info@{IDN_DOMAIN_UNICODE}", zone="+0900"))
    while len(external) < EXTERNAL_PER_SCALE * scale:
        external.append(_outsider(rng, domains, taken))
    contact_only = [_outsider(rng, domains, taken) for _ in range(CONTACT_ONLY_PER_SCALE * scale)]
    post_window_only = [_outsider(rng, domains, taken) for _ in range(POST_WINDOW_ONLY)]
    mentioned_only = [_outsider(rng, domains, taken) for _ in range(MENTIONED_ONLY)]

    staff = [p for p in NAMED_COLLEAGUES if p.host]
    # Host WS-NNNN has the address 10.20.NN.NN (as WS-0423 has 10.20.4.23): NN // 100 <= 255.
    numbers = [n for n in range(300, 300 + 15 * STAFF_WITH_HOSTS_PER_SCALE * scale) if n % 100]
    numbers = [n for n in numbers if n not in RESERVED_HOSTS and f"WS-{n:04d}" not in _hosts()]
    rng.shuffle(numbers)
    candidates = [p for p in internal[7:] if p.address.endswith("@" + MAIL_DOMAIN)]
    for person, number in zip(
        candidates[: STAFF_WITH_HOSTS_PER_SCALE * scale], numbers, strict=False
    ):
        sam = person.address.split("@")[0].replace(".", "").replace("-", "")[:20]
        host = f"WS-{number:04d}"
        ip = f"10.20.{number // 100}.{number % 100}"
        staff.append(Person(person.name, person.address, sam, host, ip))
    return Directory(
        subject=SUBJECT,
        internal=internal,
        external=external,
        contact_only=contact_only,
        post_window_only=post_window_only,
        mentioned_only=mentioned_only,
        staff=staff,
    )


def _hosts() -> frozenset[str]:
    return frozenset(p.host for p in NAMED_COLLEAGUES if p.host)


def _outsider(rng: random.Random, domains: list[tuple[str, str]], taken: set[str]) -> Person:
    domain, zone = rng.choice(domains)
    if zone == "+0900":
        given, surname = _japanese_name(rng)
    else:
        given, surname = rng.choice(WESTERN_FIRST), rng.choice(WESTERN_LAST)
    style = rng.random()
    local = (
        f"{given}.{surname}"
        if style < 0.5
        else f"{given[0]}{surname}"
        if style < 0.8
        else f"{surname}"
    )
    address = _unique(f"{local}@{domain}", taken)
    return Person(f"{given.title()} {surname.title()}", address, zone=zone)
