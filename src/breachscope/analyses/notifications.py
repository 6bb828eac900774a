"""Whom must we tell? The holders of the exposed addresses, the owners of the systems whose
credentials were exposed, and the other recipients of the same e-mail.

Needs: the exposure section (its addresses and credentials), the campaign section (other
recipients, and the senders of the suspect e-mails), the manifest's ``systems`` (owners), and
the ``addresses`` table (display names).
Rules (rules.md, Entry, campaign, notifications, countermeasures): one row per recipient with
``reasons[]`` from `EXPOSED_ADDRESS` (holders of exposed addresses, minus the subject users and
minus senders of malicious or suspicious messages), `SYSTEM_OWNER` (owners, from ``systems``,
of systems whose credentials were exposed) and `SAME_EMAIL_RECIPIENT` (other recipients of the
same e-mail). Output: findings.schema.json ``notifications``.

Thresholds: `MAX_EVIDENCE_REFS` (20) records cited per recipient: each reason's own evidence
in the order above (the exposure and campaign items already cite their earliest records).

What is decided here where the rules are silent:

- **Senders of malicious or suspicious messages** are the senders of ``entry.emails`` and of
  their copies found by campaign (`Campaign.senders`); they are never notified for a
  same-e-mail reason either (the attacker may copy itself).
- **Names**: a system owner's manifest name first (the analyst wrote it), else the display
  name most often seen with the address in ``addresses`` (ties: alphabetical), else null.
- **exposed** says what of the recipient's leaked: ``email_address`` for a holder of an exposed
  address, ``credential:<system>`` for the owner of a system whose credential leaked; a
  same-e-mail recipient has nothing of theirs leaked by that reason alone.
- **Owners not declared**: an exposed credential whose system has no owner e-mail in
  ``systems`` (a web site known only by its origin) gives no row; ``notes`` names the system.
- **Status**: ``not_analysed`` without the exposure section (no window start); ``partial`` when
  exposure lacks the rows for addresses or credentials, or campaign lacks mail rows for other
  recipients (their ``not_covered`` entries are carried over).

Not covered: people whose data leaked in documents (file contents are not parsed for
addresses), and holders of addresses only mentioned in bodies (``exposure.mentioned``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from breachscope.analyses import Context, Ref, fetch_rows, refs_finding
from breachscope.analyses.campaign import Campaign
from breachscope.analyses.exposure import Exposure
from breachscope.identity import normalize_address

EXPOSED_ADDRESS = "exposed_address"
SYSTEM_OWNER = "system_owner"
SAME_EMAIL_RECIPIENT = "same_email_recipient"
MAX_EVIDENCE_REFS = 20
KEY_CHUNK = 1_000
# not_covered entries of the sections read here that concern notifications.
EXPOSURE_PARTS = ("e-mail addresses", "credentials")
CAMPAIGN_PARTS = ("other recipients",)


@dataclass
class Recipient:
    address: str
    name: str | None = None
    reasons: set[str] = field(default_factory=set)
    exposed: set[str] = field(default_factory=set)
    refs: list[Ref] = field(default_factory=list)

    def as_finding(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "name": self.name,
            "reasons": sorted(self.reasons),
            "exposed": sorted(self.exposed),
            "evidence": refs_finding(self.refs[:MAX_EVIDENCE_REFS]),
        }


@dataclass
class Notifications:
    status: str
    recipients: list[Recipient] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_finding(self) -> dict[str, Any]:
        return {
            "recipients": [r.as_finding() for r in self.recipients],
            "status": self.status,
            "not_covered": self.not_covered,
            "notes": self.notes,
        }


def display_names(ctx: Context, addresses: set[str]) -> dict[str, str]:
    """The display name most often seen with each address (ties: alphabetical)."""
    table = ctx.table("addresses")
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    ordered = sorted(addresses)
    for start in range(0, len(ordered), KEY_CHUNK):
        chunk = ordered[start : start + KEY_CHUNK]
        named = table.filter(
            table.address.lower().isin(chunk)
            & table.display_name.notnull()
            & (table.display_name.strip() != "")
        )
        grouped = named.group_by(["address", "display_name"]).agg(times=named.count())
        for row in fetch_rows(grouped):
            address = normalize_address(row["address"] or "")
            if address in addresses:
                counts[address][row["display_name"].strip()] += int(row["times"])
    return {
        address: min(seen.items(), key=lambda item: (-item[1], item[0]))[0]
        for address, seen in counts.items()
    }


def analyse(ctx: Context, exposure: Exposure | None, campaign: Campaign) -> Notifications:
    """The notifications section per rules.md."""
    if exposure is None or exposure.status == "not_analysed":
        return Notifications(
            status="not_analysed",
            not_covered=["no exposure section (the window has no start): nothing is known leaked"],
        )
    subject = ctx.subject_addresses
    senders = set(campaign.senders)
    found: dict[str, Recipient] = {}
    owner_names: dict[str, str] = {}
    notes: list[str] = []

    def recipient(address: str) -> Recipient:
        return found.setdefault(address, Recipient(address))

    for detail in exposure.addresses:
        if detail.address in subject or detail.address in senders:
            continue
        row = recipient(detail.address)
        row.reasons.add(EXPOSED_ADDRESS)
        row.exposed.add("email_address")
        row.refs += detail.refs

    unowned: set[str] = set()
    for credential in exposure.credentials:
        system = ctx.case.system(credential.system)
        owner = system.owner if system is not None else None
        address = normalize_address(owner.email) if owner and owner.email else None
        if address is None:
            unowned.add(credential.system)
            continue
        row = recipient(address)
        row.reasons.add(SYSTEM_OWNER)
        row.exposed.add(f"credential:{credential.system}")
        row.refs += credential.refs
        if owner is not None and owner.name and address not in owner_names:
            owner_names[address] = owner.name
    for system_name in sorted(unowned):
        notes.append(
            f"system {system_name}: no owner e-mail in the manifest's systems, so its owner "
            "is not listed"
        )

    for other in campaign.other_recipients:
        if other.address in subject or other.address in senders:
            continue
        row = recipient(other.address)
        row.reasons.add(SAME_EMAIL_RECIPIENT)
        row.refs += other.refs

    names = display_names(ctx, set(found) - set(owner_names))
    for address, row in found.items():
        row.name = owner_names.get(address) or names.get(address)
        row.refs = list(dict.fromkeys(row.refs))

    not_covered = [
        f"exposure: {n}" for n in exposure.not_covered if n.startswith(EXPOSURE_PARTS)
    ] + [f"campaign: {n}" for n in campaign.not_covered if n.startswith(CAMPAIGN_PARTS)]
    return Notifications(
        status="partial" if not_covered else "analysed",
        recipients=[found[a] for a in sorted(found)],
        not_covered=not_covered,
        notes=notes,
    )
