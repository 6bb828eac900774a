"""The employee's address book: one vCard 3.0 file in his Contacts folder.

Why: contacts on the host are exposed addresses too (rules.md, Exposure -> Addresses). The
book holds people he also mails (written here in other spellings: upper-case letters, the
internationalised domain in Unicode), people he never mailed (addresses only the address book
exposes), a card with a work and a home address, a card whose ``EMAIL`` is not an address
(``suzuki at ...``: no address, a warning), Japanese names, and CRLF line ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from breachscope.demo.people import IDN_DOMAIN_UNICODE, SPELLING_TRAP_LOCAL, Directory, Person
from breachscope.demo.records import Ref
from breachscope.demo.scenario import MAIL_DOMAIN, ORGANIZATION, Scenario

KANJI_NAMES = {
    "h.suzuki@example-space.jp": ("鈴木", "博"),
    "k.sato@example-space.jp": ("佐藤", "健二"),
}


@dataclass(frozen=True)
class ContactFact:
    address: str
    """As written in the card."""
    ref: Ref


def _card(person: Person, emails: list[tuple[str, str]], organization: str | None) -> list[str]:
    given, _, family = person.name.partition(" ")
    kanji = KANJI_NAMES.get(person.address)
    full_name = f"{kanji[0]} {kanji[1]}" if kanji else person.name
    family_name, given_name = (kanji[0], kanji[1]) if kanji else (family, given)
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"N:{family_name};{given_name};;;", f"FN:{full_name}"]
    if organization:
        lines.append(f"ORG:{organization}")
    lines += [f"EMAIL;TYPE=INTERNET,{kind}:{address}" for kind, address in emails]
    lines.append("END:VCARD")
    return lines


def contacts_vcf(
    scenario: Scenario, people: Directory, rel: str
) -> tuple[bytes, list[ContactFact]]:
    """The ``.vcf`` bytes and the address of each EMAIL line (with its card's record)."""
    rng = scenario.rng("contacts")
    cards: list[tuple[Person, list[tuple[str, str]], str | None]] = []
    known = people.internal[:45] + people.external[:25]
    for person in known:
        address = person.address
        if address == f"{SPELLING_TRAP_LOCAL}@{MAIL_DOMAIN}":
            address = "H.Suzuki@Example-Space.jp"
        elif rng.random() < 0.15:
            local, _, domain = address.partition("@")
            address = f"{local.title()}@{domain.upper()}"
        internal = person.address.endswith(MAIL_DOMAIN)
        cards.append((person, [("WORK", address)], ORGANIZATION if internal else None))
    idn = people.by_address(f"info@{IDN_DOMAIN_UNICODE}")
    cards.append((idn, [("WORK", idn.address)], "Uchu Kaihatsu"))
    only = list(people.contact_only)
    home = only.pop()
    colleague = people.internal[8]
    cards.append((colleague, [("WORK", colleague.address), ("HOME", home.address)], ORGANIZATION))
    for person in only:
        cards.append((person, [("WORK", person.address)], None))
    broken = Person("Ichiro Suzuki", "suzuki at example-space.jp")
    cards.append((broken, [("WORK", broken.address)], ORGANIZATION))
    rng.shuffle(cards)

    lines: list[str] = []
    facts: list[ContactFact] = []
    for person, emails, organization in cards:
        begin = len(lines) + 1
        lines += _card(person, emails, organization)
        facts += [ContactFact(address, Ref(rel, f"line:{begin}")) for _, address in emails]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8"), facts
