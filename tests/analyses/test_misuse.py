"""Misuse (rules.md, Misuse): tables built in code, one DuckDB store per scenario.

The main scenario attributes the owner's logons by every reason code and holds one outsider;
small variants of it add a missing day, a log clear and a credential of a system without logs.
A slow test compares the section with the demo generator's truth for each variant.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import ibis
import pytest

from breachscope.analyses.exposure import ExposedCredential
from breachscope.analyses.misuse import (
    MIN_GAP,
    Coverage,
    CredentialMisuse,
    Misuse,
    _intervals,
    analyse,
    usual_silence,
)
from breachscope.analyses.window import Window
from breachscope.case import parse_case
from breachscope.identity import Realms, account_key
from tests.analyses.builders import Evidence, eid

T0 = dt.datetime(2011, 7, 6, 1, 0, tzinfo=dt.UTC)
END = T0 + dt.timedelta(days=10)
WINDOW = Window(start=T0, end=END, basis=["known"], status="analysed")
HOST = "WS-0423"
SUBJECT_IP = "10.20.4.23"
EGRESS_IP = "203.0.113.10"
OUTSIDER_IP = "192.0.2.66"
HOTEL_IP = "198.51.100.7"
HOME_IP = "10.9.9.9"
VPN_IP = "172.16.0.5"
AD_ACCOUNT = "EXSPACE\\tyamada"
PARTNER_ACCOUNT = "tyamada@partner.example"
BROWSER = "Mozilla/5.0 (Windows NT 6.1) Firefox/5.0"

WORKSTATION = eid("ws security.evtx")
DC = eid("dc01 security.evtx")
PORTAL = eid("partner-portal.csv")
VPN = eid("vpn.csv")
SQUID = eid("access.log")

CASE = r"""
case: T-MISUSE
organization:
  mail_domains: [example-space.jp]
  egress_ips: [203.0.113.10]
subject:
  hosts:
    - name: WS-0423
      ips: [10.20.4.23]
  users:
    - name: Taro Yamada
      email: t.yamada@example-space.jp
      accounts:
        - {system: corp-ad, account: 'EXSPACE\tyamada'}
        - {system: partner-portal, account: tyamada@partner.example}
systems:
  - name: corp-ad
    hosts: [dc01.example-space.jp]
  - name: partner-portal
    hosts: ['https://portal.partner.example']
known:
  attributions:
    - system: partner-portal
      account: tyamada@partner.example
      src_ip: 198.51.100.7
      reason: hotel network, confirmed by the owner
evidence:
  - path: evidence
"""
REALMS = Realms.from_case(parse_case(CASE))
AD_KEY = account_key(AD_ACCOUNT, REALMS)
PARTNER_KEY = account_key(PARTNER_ACCOUNT, REALMS)


def at(**delta: float) -> dt.datetime:
    return T0 + dt.timedelta(**delta)


AD = ExposedCredential(
    "corp-ad", AD_ACCOUNT, AD_KEY, "used", at(hours=1), END + dt.timedelta(days=1), []
)
PARTNER = ExposedCredential(
    "partner-portal",
    PARTNER_ACCOUNT,
    PARTNER_KEY,
    "used",
    at(days=1),
    END + dt.timedelta(days=2),
    [],
)
STORED = ExposedCredential(
    "https://travel.example", "t.yamada@example-space.jp", "t.yamada@example-space.jp", "stored",
    T0, None, [],
)  # fmt: skip


# -- builders -----------------------------------------------------------------------------


def logon(ev: Evidence, evidence: str, time: dt.datetime, **values: Any) -> dict[str, Any]:
    values.setdefault("outcome", "success")
    values.setdefault("account", AD_ACCOUNT)
    values.setdefault("account_key", account_key(values["account"], REALMS))
    return ev.add("logons", evidence, time=time, **values)


def ad_logon(ev: Evidence, time: dt.datetime, src_ip: str | None, **values: Any) -> dict[str, Any]:
    return logon(ev, DC, time, system="corp-ad", host="DC01", src_ip=src_ip, **values)


def portal_logon(ev: Evidence, time: dt.datetime, src_ip: str, **values: Any) -> dict[str, Any]:
    values.setdefault("user_agent", BROWSER)
    values.setdefault("account", PARTNER_ACCOUNT)
    return logon(ev, PORTAL, time, system="partner-portal", src_ip=src_ip, **values)


def heartbeat(
    ev: Evidence,
    evidence: str,
    system: str,
    skip: tuple[dt.datetime, dt.datetime] | None = None,
) -> None:
    """A record of ``system`` every 10 minutes from 35 days before the window to 3 days after."""
    moment, last = at(days=-35), END + dt.timedelta(days=3)
    while moment <= last:
        if skip is None or not skip[0] <= moment < skip[1]:
            ev.add("win_events", evidence, time=moment, system=system, event_id=4769, host="DC01")
        moment += dt.timedelta(minutes=10)


def scenario() -> Evidence:
    ev = Evidence()
    # The owner's interactive session on the workstation, 01:30 to 09:00 on day 0.
    logon(
        ev,
        WORKSTATION,
        at(minutes=30),
        host=HOST,
        logon_type="2",
        session_id="0x1",
        src_ip="127.0.0.1",
    )
    logon(
        ev,
        WORKSTATION,
        at(hours=8),
        host=HOST,
        outcome="logoff",
        session_id="0x1",
        end_time=at(hours=8),
    )
    ad_logon(ev, at(hours=1), SUBJECT_IP, record="xml:subject")  # subject_host_owner_session
    ad_logon(ev, at(hours=9), SUBJECT_IP, record="xml:after-logoff")  # session closed: not hers
    # Home address seen on three days before the window: baseline_source.
    for day in (-5, -4, -3):
        ad_logon(ev, at(days=day), HOME_IP)
    ad_logon(ev, at(days=2), HOME_IP, record="xml:home")
    # VPN session (from home, with the AD password) handing out VPN_IP: owner_vpn_session.
    logon(
        ev, VPN, at(days=3), system="vpn", src_ip=HOME_IP, assigned_ip=VPN_IP,
        end_time=at(days=3, hours=4),
    )  # fmt: skip
    ad_logon(ev, at(days=3, hours=1), VPN_IP, record="xml:vpn")
    # A success after the rotation is the new password: not counted.
    ad_logon(ev, END + dt.timedelta(days=1, hours=2), OUTSIDER_IP, record="xml:after-rotation")
    heartbeat(ev, DC, "corp-ad")

    # Partner portal, through the egress address while the workstation talks to the portal.
    portal_logon(ev, at(days=1), EGRESS_IP, record="csv:egress")
    ev.add(
        "network", SQUID, time=at(days=1, seconds=30), start_time=at(days=1, seconds=-5),
        src_ip=SUBJECT_IP, host="proxy01", dst_host="portal.partner.example", system="proxy",
    )  # fmt: skip
    portal_logon(ev, at(days=4), EGRESS_IP, record="csv:egress-uncorrelated")
    portal_logon(ev, at(days=1, hours=2), HOTEL_IP, record="csv:hotel")  # analyst_attribution
    for day in (-20, -10):
        portal_logon(ev, at(days=day), EGRESS_IP)
    portal_logon(ev, at(days=5), OUTSIDER_IP, user_agent="curl/7.1", record="csv:outsider")
    portal_logon(ev, at(days=6), OUTSIDER_IP, account="other@partner.example")  # other account
    for minute in range(6):
        portal_logon(
            ev, END + dt.timedelta(days=3, minutes=minute), OUTSIDER_IP, outcome="failure",
            user_agent="curl/7.1", record=f"csv:fail{minute}",
        )  # fmt: skip
    portal_logon(ev, END + dt.timedelta(days=2, hours=1), OUTSIDER_IP, record="csv:new-password")
    heartbeat(ev, PORTAL, "partner-portal")
    return ev


@pytest.fixture(scope="module")
def main(tmp_path_factory: pytest.TempPathFactory) -> Misuse:
    ctx = scenario().context(tmp_path_factory.mktemp("misuse"), CASE)
    return analyse(ctx, WINDOW, [AD, PARTNER])


def by_system(found: Misuse, system: str) -> CredentialMisuse:
    return next(c for c in found.by_credential if c.system == system)


# -- attribution --------------------------------------------------------------------------


def test_owner_logons_attributed_by_each_code(main: Misuse) -> None:
    ad = by_system(main, "corp-ad")
    assert ad.attributed == {
        "subject_host_owner_session": 1,
        "baseline_source": 2,
        "owner_vpn_session": 1,
    }
    assert [u.ref.record for u in ad.unexplained] == ["xml:after-logoff"]
    partner = by_system(main, "partner-portal")
    assert partner.attributed == {"egress_correlated": 1, "analyst_attribution": 1}


def test_outsider_success_is_unauthorized_access(main: Misuse) -> None:
    partner = by_system(main, "partner-portal")
    records = [u.ref.record for u in partner.unexplained]
    assert records == ["csv:egress-uncorrelated", "csv:outsider"]
    outsider = partner.unexplained[1]
    assert outsider.reasons == ("new_source", "unusual_client")
    assert outsider.as_finding()["evidence"][0]["record"] == "csv:outsider"
    assert partner.verdict == "unauthorized_access"
    assert main.verdict == "unauthorized_access"
    assert main.status == "analysed"


def test_failures_after_rotation_are_failed_attempts(main: Misuse) -> None:
    partner = by_system(main, "partner-portal")
    assert [f.ref.record for f in partner.failed_attempts] == [f"csv:fail{m}" for m in range(6)]
    assert all(f.outcome == "failure" for f in partner.failed_attempts)
    assert "spray_or_bruteforce" in partner.failed_attempts[-1].reasons
    assert "spray_or_bruteforce" not in partner.failed_attempts[0].reasons
    assert partner.period_to == PARTNER.rotated_at
    # The success after the rotation used the new password: neither counted nor listed.
    assert partner.logons == 4
    assert "csv:new-password" not in {u.ref.record for u in partner.unexplained}
    ad = by_system(main, "corp-ad")
    assert ad.logons == 5
    assert "xml:after-rotation" not in {u.ref.record for u in ad.unexplained}


def test_counts_invariant(main: Misuse) -> None:
    for credential in main.by_credential:
        assert credential.logons == credential.by_owner + len(credential.unexplained)
    with pytest.raises(AssertionError):
        CredentialMisuse(
            "s", "a", T0, END, 2, {"baseline_source": 1}, [], [], Coverage(T0, END, [])
        )


def test_complete_coverage_and_schema_shape(main: Misuse) -> None:
    found = main.as_finding()
    ad = found["by_credential"][0]
    assert ad["system"] == "corp-ad"
    assert ad["coverage"]["complete"] is True
    assert ad["coverage"]["gaps"] == []
    assert ad["from"] == "2011-07-06T02:00:00Z"
    assert ad["to"] == "2011-07-17T01:00:00Z"
    assert ad["by_owner"] == 4
    assert found["not_assessed"] == []
    json.dumps(found)


# -- coverage and scope -------------------------------------------------------------------


def ad_only(tmp_path: Path, **heartbeat_args: Any) -> Evidence:
    ev = Evidence()
    for day in (-5, -4, -3):
        ad_logon(ev, at(days=day), HOME_IP)
    ad_logon(ev, at(days=2), HOME_IP)
    heartbeat(ev, DC, "corp-ad", **heartbeat_args)
    return ev


def test_missing_day_is_a_silence_gap(tmp_path: Path) -> None:
    missing = (at(days=4), at(days=5))
    ctx = ad_only(tmp_path, skip=missing).context(tmp_path, CASE)
    found = analyse(ctx, WINDOW, [AD])
    ad = found.by_credential[0]
    silences = [g for g in ad.coverage.gaps if g.kind == "silence"]
    assert [(g.start, g.end) for g in silences] == [
        (missing[0] - dt.timedelta(minutes=10), missing[1])
    ]
    assert ad.verdict == "inconclusive"
    assert found.verdict == "inconclusive"
    assert found.status == "analysed"  # a gap does not make the section partial


def test_log_clear_is_a_gap(tmp_path: Path) -> None:
    ev = ad_only(tmp_path)
    cleared = at(days=3, minutes=5)
    ev.add("win_events", DC, time=cleared, system="corp-ad", event_id=1102, channel="Security",
           host="DC01", record="xml:clear")  # fmt: skip
    ev.add("win_events", DC, time=at(days=-20, minutes=5), system="corp-ad", event_id=1102,
           channel="Security", host="DC01")  # fmt: skip
    found = analyse(ev.context(tmp_path, CASE), WINDOW, [AD])
    gaps = found.by_credential[0].coverage.as_finding()["gaps"]
    assert gaps == [
        {
            "from": "2011-07-09T01:05:00Z",
            "to": "2011-07-09T01:05:00Z",
            "kind": "log_cleared",
            "evidence": [
                {"evidence_id": DC, "record": "xml:clear", "path": f"evidence/{DC[7:15]}"}
            ],
        }
    ]
    assert found.verdict == "inconclusive"


def test_stored_credential_without_logs_is_not_assessed(tmp_path: Path) -> None:
    found = analyse(ad_only(tmp_path).context(tmp_path, CASE), WINDOW, [STORED, AD])
    assert [n.as_finding() for n in found.not_assessed] == [
        {
            "system": "https://travel.example",
            "account": "t.yamada@example-space.jp",
            "reason": "no logs of this system in the case",
        }
    ]
    assert [c.system for c in found.by_credential] == ["corp-ad"]
    assert found.verdict == "none_found"
    assert found.status == "analysed"


def test_declared_system_without_logons_is_partial(tmp_path: Path) -> None:
    found = analyse(ad_only(tmp_path).context(tmp_path, CASE), WINDOW, [AD, PARTNER])
    partner = by_system(found, "partner-portal")
    assert [g.kind for g in partner.coverage.gaps] == ["before_first_record"]
    assert found.status == "partial"
    assert found.not_covered == ["partner-portal: no logons rows in the case"]
    assert found.verdict == "inconclusive"


def test_no_window_start_is_not_analysed(tmp_path: Path) -> None:
    ctx = ad_only(tmp_path).context(tmp_path, CASE)
    found = analyse(ctx, Window(None, None, [], "not_analysed"), [AD])
    assert found.status == "not_analysed"
    assert found.verdict == "none_found"


def test_usual_silence_per_hour_of_week() -> None:
    monday = dt.datetime(2011, 7, 4, 0, 0, tzinfo=dt.UTC)
    minutes = [0, 10, 20, 50, 70, 72, 74]  # hour 0: 600, 600, 1800, 1200 s; hour 1: 120, 120
    records = ibis.memtable(
        {
            "time": [monday + dt.timedelta(minutes=m) for m in minutes],
            "evidence_id": ["e"] * len(minutes),
            "record": [f"line:{i}" for i in range(len(minutes))],
        }
    )
    limits = usual_silence(_intervals(records))
    found = dict(ibis.duckdb.connect().execute(limits.order_by("hour_of_week")).values.tolist())
    # hour 0: 95th percentile of [600, 600, 1200, 1800] = 1200 + 0.85 * 600 = 1710 -> x3 = 5130
    assert found == {0: pytest.approx(5130.0), 1: MIN_GAP.total_seconds()}


# -- the demo case ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "variant", [None, "outsider", "missing_day", "log_cleared", "stored_no_logs"]
)
def test_demo_variants_match_truth(tmp_path: Path, variant: str | None) -> None:
    from breachscope.demo.generate import generate_case
    from breachscope.pipeline import investigate

    case = tmp_path / "case"
    truth = generate_case(case, variant=variant)
    result = investigate(case, tmp_path / "out")
    assert result.findings is not None
    found = result.findings["misuse"]
    assert found["verdict"] == truth.misuse_verdict
    assert found["not_assessed"] == [dict(n) for n in truth.misuse_not_assessed]
    assert len(found["by_credential"]) == len(truth.misuse)
    for ours, expected in zip(found["by_credential"], truth.misuse, strict=True):
        assert (ours["system"], ours["account"]) == (expected.system, expected.account)
        assert ours["from"] == _iso(expected.period_from)
        assert ours["to"] == _iso(expected.period_to)
        assert ours["logons"] == expected.logons
        assert ours["by_owner"] == expected.by_owner
        assert len(ours["failed_attempts"]) == expected.failed_attempts
        assert ours["verdict"] == expected.verdict
        assert [u["evidence"][0]["record"] for u in ours["unexplained"]] == [
            u.evidence.record for u in expected.unexplained
        ]
        for mine, theirs in zip(ours["unexplained"], expected.unexplained, strict=True):
            assert set(theirs.codes) <= set(mine["reasons"])
        assert [(g["kind"], g["from"], g["to"]) for g in ours["coverage"]["gaps"]] == [
            (g.reason, _iso(g.start), _iso(g.end)) for g in expected.gaps
        ]


def _iso(moment: dt.datetime) -> str:
    from breachscope.custody import format_time

    return format_time(moment) or ""
