"""Countermeasures (rules.md): rotate, patch, block; done only from evidence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from breachscope.analyses import countermeasures, entry
from breachscope.analyses.entry import Entry
from breachscope.analyses.exposure import ExfiltrationItem, ExposedCredential, Exposure
from breachscope.analyses.window import Window, ioc_contacts
from tests.analyses.builders import Evidence, eid

T0 = dt.datetime(2011, 7, 6, 1, 12, tzinfo=dt.UTC)
DC, PORTAL, PROXY, INVENTORY, NVD, IOCS = (
    eid("dc.evtx"),
    eid("portal.csv"),
    eid("proxy.log"),
    eid("software.csv"),
    eid("nvd.json"),
    eid("iocs.txt"),
)
OFFICE = "Microsoft Office Professional 2007"
OFFICE_2007_SP2 = "cpe:2.3:a:microsoft:office:2007:sp2:*:*:*:*:*:*"
CASE = """
case: T-COUNTER
subject:
  hosts:
    - name: WS-0423
      ips: [10.20.4.23]
  users:
    - name: Taro Yamada
      email: t.yamada@example-space.jp
evidence:
  - path: evidence
"""
WINDOW = Window(start=T0, end=T0 + dt.timedelta(hours=6), basis=[], status="analysed")


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def credential(system: str, account: str, how: str = "used", **values: Any) -> ExposedCredential:
    return ExposedCredential(
        system,
        account,
        values.pop("key", account.lower()),
        how,
        T0,
        values.pop("rotated", None),
        [],
    )


def proxy(ev: Evidence, host: str, hours: float, action: str = "TCP_MISS", status: str = "200"):
    ev.add("network", PROXY, time=at(hours), src_ip="10.20.4.23", dst_host=host,
           url=f"http://{host}/gate", action=action, status=status, system="proxy")  # fmt: skip


def scenario() -> Evidence:
    ev = Evidence()
    # corp-ad: a change inside the window (recaptured), then one after window.end.
    for hours, record in ((2, "evtx:1"), (8, "evtx:2"), (9, "evtx:3")):
        ev.add("credential_changes", DC, time=at(hours), system="corp-ad",
               account="EXSPACE\\tyamada", account_key="tyamada@example-space.jp",
               kind="reset", record=record)  # fmt: skip
    # portal: only a change inside the window, and a disable after it (not a rotation).
    ev.add("credential_changes", PORTAL, time=at(1), system="portal", account="ty",
           account_key="ty", kind="changed")  # fmt: skip
    ev.add("credential_changes", PORTAL, time=at(7), system="portal", account="ty",
           account_key="ty", kind="disabled")  # fmt: skip
    ev.add("logons", PORTAL, time=at(1), system="portal", account="ty", outcome="success")
    # WS-0423 patched after the window; WS-0511 updated, but still to a vulnerable build.
    for host, version, observed, record in (
        ("WS-0423", "12.0.6425.1000", at(-100), "csv:1"),
        ("WS-0511", "12.0.6425.1000", at(-100), "csv:2"),
        ("WS-0423", "12.0.6612.1000", at(30), "csv:3"),
        ("WS-0511", "12.0.6425.1000", at(30), "csv:4"),
    ):
        ev.add("software", INVENTORY, host=host, name=OFFICE, version=version,
               publisher="Microsoft Corporation", observed_at=observed, record=record)  # fmt: skip
    ev.add("vulns", NVD, cve="CVE-2010-3333", cpe=OFFICE_2007_SP2, known_exploited=True)
    # Indicators: c2 contacted, then denied; c3 denied once and allowed again later.
    ev.add("iocs", IOCS, kind="domain", value="evil.example")
    for hours in (1, 2, 3):
        proxy(ev, "c2.evil.example", hours)
    proxy(ev, "c2.evil.example", 4, action="TCP_DENIED", status="403")
    proxy(ev, "c2.evil.example", 5, action="TCP_DENIED", status="403")
    proxy(ev, "c3.evil.example", 2, action="TCP_DENIED", status="403")
    proxy(ev, "c3.evil.example", 3)
    # A web server's own 403 seen by Zeek (no action) is not a denial.
    ev.add("network", eid("zeek"), time=at(4), src_ip="10.20.4.23", dst_host="beacon.example",
           status="403")  # fmt: skip
    return ev


def found(
    tmp_path: Path, not_assessed: list[tuple[str, str]] | None = None
) -> list[dict[str, Any]]:
    ctx = scenario().context(tmp_path, CASE)
    exposure = Exposure(
        status="analysed",
        credentials=[
            credential("corp-ad", "EXSPACE\\tyamada", key="tyamada@example-space.jp"),
            credential("portal", "ty"),
            credential("https://travel.example", "t.yamada", how="stored"),
            credential("vpn", "tyamada", rotated=at(10)),  # known.rotations only
        ],
        exfiltration=[
            ExfiltrationItem(
                "beacon.example", None, 100, at(1), at(4), ["beaconing"], "unknown", []
            )
        ],
    )
    matches = entry.vulnerable_software(ctx)
    found_entry = Entry([], matches[:1], matches[1:], WINDOW, "analysed", [])
    result = countermeasures.analyse(
        ctx, WINDOW, found_entry, exposure, ioc_contacts(ctx), not_assessed
    )
    return result.as_finding()


def by_target(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["target"]: i for i in items}


def test_rotate_is_done_only_from_a_change_after_the_window(tmp_path: Path) -> None:
    items = by_target(found(tmp_path))
    ad = items["corp-ad: EXSPACE\\tyamada"]
    assert (ad["action"], ad["status"]) == ("rotate", "done")
    assert [(e["evidence_id"], e["record"]) for e in ad["evidence"]] == [(DC, "evtx:2")]
    portal = items["portal: ty"]
    assert (portal["status"], portal["evidence"]) == ("pending", [])
    vpn = items["vpn: tyamada"]
    assert vpn["status"] == "pending"
    assert "known.rotations" in vpn["note"]


def test_not_assessed_credentials_get_a_pending_rotate(tmp_path: Path) -> None:
    # Without misuse's list: stored credentials of systems without logons are not assessed.
    travel = by_target(found(tmp_path / "a"))["https://travel.example: t.yamada"]
    assert travel["status"] == "pending"
    assert travel["note"].startswith("misuse not assessed")
    # Misuse's list, with a credential exposure did not list, is followed.
    items = by_target(found(tmp_path / "b", [("portal", "ty"), ("intranet", "tyamada")]))
    assert items["portal: ty"]["note"].startswith("misuse not assessed")
    assert items["intranet: tyamada"]["status"] == "pending"
    assert "note" not in items["https://travel.example: t.yamada"]


def test_patch_is_done_only_when_a_fixed_version_is_seen_after_the_window(
    tmp_path: Path,
) -> None:
    items = by_target(found(tmp_path))
    patched = items[f"WS-0423: {OFFICE}"]
    assert (patched["action"], patched["status"]) == ("patch", "done")
    assert [e["record"] for e in patched["evidence"]] == ["csv:3"]
    still = items[f"WS-0511: {OFFICE}"]
    assert (still["status"], still["evidence"]) == ("pending", [])


def test_block_is_done_only_from_a_proxy_denial_after_the_last_allowed_contact(
    tmp_path: Path,
) -> None:
    items = by_target(found(tmp_path))
    c2 = items["c2.evil.example"]
    assert (c2["action"], c2["status"], c2["reason"]) == ("block", "done", "ioc")
    assert [e["evidence_id"] for e in c2["evidence"]] == [PROXY]
    assert items["c3.evil.example"]["status"] == "pending"
    beacon = items["beacon.example"]
    assert (beacon["status"], beacon["reason"]) == ("pending", "beaconing")


def test_sorted_by_action_then_target(tmp_path: Path) -> None:
    items = found(tmp_path)
    order = countermeasures.ACTION_ORDER
    keys = [(order.index(i["action"]), i["target"]) for i in items]
    assert keys == sorted(keys)
    assert [i["action"] for i in items].count("patch") == 2


def test_without_window_end_nothing_is_done(tmp_path: Path) -> None:
    ctx = scenario().context(tmp_path, CASE)
    open_window = Window(start=T0, end=None, basis=[], status="partial")
    exposure = Exposure(
        status="analysed",
        credentials=[credential("corp-ad", "EXSPACE\\tyamada", key="tyamada@example-space.jp")],
    )
    found_entry = Entry([], entry.vulnerable_software(ctx), [], open_window, "analysed", [])
    items = countermeasures.analyse(ctx, open_window, found_entry, exposure, [], []).as_finding()
    assert {(i["action"], i["status"]) for i in items} == {
        ("rotate", "pending"),
        ("patch", "pending"),
    }
