"""What must be done now? Rotate each exposed credential, patch each vulnerable host, block each
indicator the host called; each marked ``done`` only where evidence shows it done.

Needs: the window (its end), the exposure section (credentials, beaconing destinations), the
entry section (vulnerability matches), the window's IOC contacts, the misuse section's
``not_assessed`` credentials, and the tables ``credential_changes`` (rotations), ``software``
and ``vulns`` (patches), ``network`` (proxy denials).
Rules (rules.md, Entry, campaign, notifications, countermeasures; Misuse -> Scope): ``done``
only from evidence: `ROTATE` = a credential change after ``window.end``; `BLOCK` = a proxy
denial after the last allowed contact; `PATCH` = a non-vulnerable version seen after
``window.end``. Otherwise ``pending``. Credentials misuse could not assess get a pending rotate.
Output: findings.schema.json ``countermeasures`` (an array, sorted by action in
`ACTION_ORDER`, then target).

What is decided here where the rules are silent:

- **Rotate** targets ``<system>: <account>`` for every exposed credential. A credential change
  is a ``credential_changes`` row of kind ``changed`` or ``reset`` (or without a kind) for the
  credential's ``account_key`` strictly after ``window.end``, on the credential's system (or,
  for a row without the system, at the rotation time exposure found); the earliest is cited.
  ``known.rotations`` is the analyst's word, not evidence: it leaves the item ``pending`` with
  a ``note``. Without ``window.end`` nothing can be told apart from a change in the window.
  A credential misuse did not assess (``not_assessed``) carries a ``note`` saying so; when the
  misuse section is not available, the stored credentials whose system has no ``logons`` rows
  are taken as not assessed.
- **Patch** targets ``<host>: <product>`` for every (host, product) with a vulnerability match,
  on the entry path or not. Done when the same host (host key) has an inventory row of the same
  product name (casefolded) with ``observed_at`` or ``install_date`` after ``window.end`` whose
  version matches none of the CVEs that made the old one vulnerable; the earliest such row is
  cited. An upgrade to a product of another name (Office 2007 to 2010) is not recognised.
- **Block** targets each destination (host name or IP, lower-cased) that a subject host
  contacted matching an indicator, and each beaconing destination of exposure. Indicators never
  contacted are not listed (the indicator list itself goes to the proxy). A denial is a network
  row to the destination whose ``action`` contains ``DENIED`` (Squid ``TCP_DENIED``...), or
  whose ``status`` is 403 with an ``action`` (only proxy formats fill ``action``, so a web
  server's 403 is not a denial). "After the last allowed contact" compares with the latest
  non-denied row to that destination from any source; with no allowed row, any denial counts.
- ``evidence`` cites the record that shows an item done; a pending item cites nothing (its
  reason is cited in the section it comes from).

Not covered: containment actions outside these three (re-imaging the host, revoking sessions
or tokens); blocks at firewalls or DNS that leave no proxy record.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ibis

from breachscope.analyses import Context, Ref, fetch_rows, fetch_value, iso, refs_finding, utc
from breachscope.analyses.entry import Entry
from breachscope.analyses.exposure import ExposedCredential, Exposure
from breachscope.analyses.window import Contact, Window
from breachscope.detect.vulns import VulnMatch, match_software
from breachscope.identity import casefold, host_key

ROTATE = "rotate"
PATCH = "patch"
BLOCK = "block"
ACTION_ORDER = (ROTATE, PATCH, BLOCK)
ROTATION_KINDS = ("changed", "reset")
DENIED_MARK = "DENIED"
DENIED_STATUS = "403"
NOT_ASSESSED_NOTE = "misuse not assessed: no logs of this system in the case"


@dataclass
class Countermeasure:
    action: str
    target: str
    status: str
    refs: list[Ref]
    details: dict[str, Any]
    note: str | None = None

    def as_finding(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "action": self.action,
            "target": self.target,
            "status": self.status,
            "evidence": refs_finding(self.refs),
            **self.details,
        }
        if self.note:
            found["note"] = self.note
        return found


@dataclass
class Countermeasures:
    items: list[Countermeasure]

    def as_finding(self) -> list[dict[str, Any]]:
        return [item.as_finding() for item in self.items]


def _rows(expr: Any) -> list[dict[str, Any]]:
    return fetch_rows(expr)


# --------------------------------------------------------------------------- rotate


def stored_without_logons(ctx: Context, credentials: list[ExposedCredential]) -> set[str]:
    """Systems of stored-only credentials with no ``logons`` rows: the stand-in for misuse's
    ``not_assessed`` when that section is not available."""
    stored = sorted({c.system for c in credentials if c.how == "stored"})
    if not stored:
        return set()
    logons = ctx.table("logons")
    seen = _rows(logons.filter(logons.system.isin(stored)).select("system").distinct())
    return set(stored) - {r["system"] for r in seen}


def _rotations(
    ctx: Context, window: Window, credentials: list[ExposedCredential]
) -> dict[tuple[str, str], tuple[dt.datetime, Ref]]:
    keys = sorted({c.account_key for c in credentials if c.account_key})
    if window.end is None or not keys:
        return {}
    changes = ctx.table("credential_changes")
    after = changes.filter(
        (changes.time > window.end)
        & changes.account_key.isin(keys)
        & (changes.kind.isnull() | changes.kind.lower().isin(ROTATION_KINDS))
    ).select("time", "system", "account_key", "evidence_id", "record")
    rows = sorted(_rows(after), key=lambda r: (r["time"], r["evidence_id"], r["record"]))
    found: dict[tuple[str, str], tuple[dt.datetime, Ref]] = {}
    for credential in credentials:
        key = credential.account_key
        if key is None:
            continue
        fitting = [
            r
            for r in rows
            if r["account_key"] == key
            and (
                r["system"] == credential.system
                or (not r["system"] and r["time"] == credential.rotated_at)
            )
        ]
        if fitting:
            first = fitting[0]
            found[(credential.system, key)] = (
                first["time"],
                ctx.ref(first["evidence_id"], first["record"]),
            )
    return found


def _rotate(
    ctx: Context,
    window: Window,
    credentials: list[ExposedCredential],
    not_assessed: set[tuple[str, str]] | None,
) -> list[Countermeasure]:
    if not_assessed is None:
        unlogged = stored_without_logons(ctx, credentials)
        not_assessed = {(c.system, c.account) for c in credentials if c.system in unlogged}
    rotations = _rotations(ctx, window, credentials)
    items = []
    listed: set[tuple[str, str]] = set()
    for credential in credentials:
        pair = (credential.system, credential.account)
        if pair in listed:
            continue
        listed.add(pair)
        found = rotations.get((credential.system, credential.account_key or ""))
        note = NOT_ASSESSED_NOTE if pair in not_assessed else None
        if found is None and credential.rotated_at is not None:
            note = (
                f"known.rotations gives {iso(credential.rotated_at)}; no credential change "
                "in the evidence"
            )
        items.append(
            Countermeasure(
                ROTATE,
                f"{credential.system}: {credential.account}",
                "done" if found else "pending",
                [found[1]] if found else [],
                {"system": credential.system, "account": credential.account},
                note,
            )
        )
    for system, account in sorted(not_assessed - listed):
        items.append(
            Countermeasure(
                ROTATE,
                f"{system}: {account}",
                "pending",
                [],
                {"system": system, "account": account},
                NOT_ASSESSED_NOTE,
            )
        )
    return items


# --------------------------------------------------------------------------- patch


def _patch(ctx: Context, window: Window, found: list[VulnMatch]) -> list[Countermeasure]:
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for match in found:
        groups[(match.host or "", match.product)].add(match.cve)
    fixed: dict[tuple[str, str], Ref] = {}
    if window.end is not None and groups:
        fixed = _patched(ctx, window.end, groups)
    items = []
    for (host, product), _cves in sorted(groups.items()):
        ref = fixed.get((host, product))
        items.append(
            Countermeasure(
                PATCH,
                f"{host}: {product}",
                "done" if ref else "pending",
                [ref] if ref else [],
                {"host": host, "product": product},
            )
        )
    return items


def _patched(
    ctx: Context, end: dt.datetime, groups: dict[tuple[str, str], set[str]]
) -> dict[tuple[str, str], Ref]:
    """(host, product) -> the first inventory row after ``end`` that no longer matches."""
    software, vulns = ctx.table("software"), ctx.table("vulns")
    hosts = sorted({host_key(h) for h, _ in groups if h})
    names = sorted({casefold(p) for _, p in groups})
    seen_at = ibis.coalesce(software.observed_at, software.install_date)
    later = software.filter(
        software.host.lower().re_extract(r"^([^.]*)", 1).isin(hosts)
        & software.name.lower().isin(names)
        & (
            ibis.coalesce(software.observed_at > end, False)
            | ibis.coalesce(software.install_date > end, False)
        )
    ).mutate(_seen=seen_at)
    rows = sorted(
        _rows(later), key=lambda r: (r["_seen"], r["evidence_id"] or "", r["record"] or "")
    )
    if not rows:
        return {}
    cves = sorted({c for found in groups.values() for c in found})
    criteria = _rows(vulns.filter(vulns.cve.isin(cves)))
    result: dict[tuple[str, str], Ref] = {}
    for (host, product), group_cves in groups.items():
        for row in rows:
            if host_key(row["host"] or "") != host_key(host) or casefold(
                row["name"] or ""
            ) != casefold(product):
                continue
            still = [m for m in match_software([row], criteria) if m.cve in group_cves]
            if not still:
                result[(host, product)] = ctx.ref(row["evidence_id"], row["record"])
                break
    return result


# --------------------------------------------------------------------------- block


def _destinations(contacts: list[Contact], exposure: Exposure | None) -> dict[str, str]:
    """Destination -> why it is blocked (``ioc`` or ``beaconing``)."""
    found: dict[str, str] = {}
    for contact in contacts:
        if contact.destination:
            found.setdefault(contact.destination.lower(), "ioc")
    for item in exposure.exfiltration if exposure else []:
        if "beaconing" in item.reasons:
            found.setdefault(item.destination.lower(), "beaconing")
    return found


def _block(ctx: Context, destinations: dict[str, str]) -> list[Countermeasure]:
    network = ctx.table("network")
    denied = ibis.coalesce(
        network.action.upper().contains(DENIED_MARK)
        | ((network.status == DENIED_STATUS) & network.action.notnull()),
        False,
    )
    items = []
    for destination, why in sorted(destinations.items()):
        to = network.filter(
            ibis.coalesce(
                (network.dst_host.lower() == destination) | (network.dst_ip == destination), False
            )
            & network.time.notnull()
        )
        allowed = fetch_value(to.filter(~denied).time.max())
        denials = to.filter(denied)
        if allowed is not None:
            denials = denials.filter(denials.time > utc(allowed))
        first = _rows(
            denials.order_by(["time", "evidence_id", "record"])
            .limit(1)
            .select("evidence_id", "record")
        )
        items.append(
            Countermeasure(
                BLOCK,
                destination,
                "done" if first else "pending",
                [ctx.ref(first[0]["evidence_id"], first[0]["record"])] if first else [],
                {"indicator": destination, "reason": why},
            )
        )
    return items


# --------------------------------------------------------------------------- entry point


def analyse(
    ctx: Context,
    window: Window,
    entry: Entry,
    exposure: Exposure | None,
    contacts: list[Contact],
    not_assessed: Iterable[tuple[str, str]] | None = None,
) -> Countermeasures:
    """The countermeasures per rules.md; ``not_assessed`` are misuse's (system, account)
    pairs, None when the misuse section is not available."""
    credentials = exposure.credentials if exposure else []
    assessed_out = set(not_assessed) if not_assessed is not None else None
    items = (
        _rotate(ctx, window, credentials, assessed_out)
        + _patch(ctx, window, [*entry.vulnerable, *entry.other_vulnerable])
        + _block(ctx, _destinations(contacts, exposure))
    )
    items.sort(key=lambda i: (ACTION_ORDER.index(i.action), i.target))
    return Countermeasures(items)
