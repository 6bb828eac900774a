"""The manifest loads as case-manifest.md's Rules say, and each error names its key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from breachscope.case import CaseError, load_case, parse_case

FULL = r"""
case: CASE-2011-017
title: Virus infection of workstation WS-0423
timezone: Asia/Tokyo
organization:
  name: Example Space Agency
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
    owner: {name: Directory team, email: ad-admins@example-space.jp}
    hosts: [dc01.example-space.jp, dc02.example-space.jp]
  - name: partner-portal
    owner: {name: Partner Agency CSIRT, email: csirt@partner.example}
    hosts: ['https://portal.partner.example']
known:
  infected_at: 2011-07-06T10:12:00+09:00
  contained_at: 2011-08-11 09:30:00
  malicious_message_ids: ['<abc@mail.example>']
  rotations:
    - {system: partner-portal, account: tyamada@partner.example, at: 2011-08-12T10:00:00+09:00}
  attributions:
    - {system: corp-ad, account: 'EXSPACE\tyamada', src_ip: 198.51.100.7, reason: hotel}
iocs:
  - iocs/c2-domains.txt
sensitivity:
  - label: classified
    patterns: ['(?i)\bclassified\b', '極秘']
    match: [path, content, url, search]
  - label: htv-operations
    patterns: ['(?i)\bHTV\b.*(spec|operation)']
vulnerabilities:
  - vulndata/nvd-office-2010.json
evidence:
  - path: evidence/mail/t.yamada.mbox
    system: corp-mail
    owner: t.yamada@example-space.jp
  - path: evidence/logs/partner-portal.csv
    system: partner-portal
    format: mapped-csv
    mapping: mappings/partner-portal.yaml
    timezone: America/Chicago
  - path: evidence/logs/jump01-auth.log
    system: jumphost
    year: 2011
    clock_offset: -42
  - path: evidence/hosts/WS-0423/bodyfile.txt
    host: WS-0423
    mount: 'D:'
"""


def manifest_with(evidence_line: str) -> str:
    return f"case: C-1\nevidence:\n  - path: a.log\n    {evidence_line}\n"


def test_the_spec_example_loads_with_every_key() -> None:
    case = parse_case(FULL)
    assert case.case == "CASE-2011-017"
    assert case.subject.users[0].accounts[0].account == "EXSPACE\\tyamada"
    assert case.systems[1].owner is not None
    assert case.evidence[2].year == 2011
    assert case.evidence[2].clock_offset == -42
    assert case.evidence[3].mount == "D:"
    assert case.evidence[1].timezone == "America/Chicago"
    assert case.sensitivity[1].match == ["path", "content", "url", "search"]
    assert case.known.rotations[0].at == dt.datetime(2011, 8, 12, 1, 0, tzinfo=dt.UTC)
    assert case.known.attributions[0].src_ip == "198.51.100.7"


def test_naive_known_times_are_in_the_case_zone() -> None:
    case = parse_case(FULL)
    assert case.known.infected_at == dt.datetime(2011, 7, 6, 1, 12, tzinfo=dt.UTC)
    assert case.known.contained_at == dt.datetime(2011, 8, 11, 0, 30, tzinfo=dt.UTC)


def test_no_stays_a_string_and_double_quoted_backslash_t_is_a_tab() -> None:
    case = parse_case(
        "case: no\nsubject:\n  users:\n    - name: N\n      accounts:\n"
        '        - {system: s, account: "EXSPACE\\tyamada"}\nevidence:\n  - path: x\n'
    )
    assert case.case == "no"
    assert case.subject.users[0].accounts[0].account == "EXSPACE\tyamada"


def test_duplicate_keys_are_rejected_with_the_line() -> None:
    with pytest.raises(CaseError, match=r"line 3: .*duplicate key \"case\""):
        parse_case("case: A\nevidence: []\ncase: B\n")


def test_unknown_key_names_the_key_and_the_item() -> None:
    with pytest.raises(CaseError) as caught:
        parse_case(manifest_with("sytem: jumphost"))
    assert "evidence[0].sytem: unknown key" in str(caught.value)
    assert "'a.log'" in str(caught.value)


def test_each_problem_is_its_own_line() -> None:
    with pytest.raises(CaseError) as caught:
        parse_case("title: T\ntimezone: Mars/Base\nevidence:\n  - path: a\n    year: soon\n")
    lines = str(caught.value).splitlines()
    assert any("case: required key is missing" in line for line in lines)
    assert any("timezone" in line and "IANA" in line for line in lines)
    assert any("evidence[0].year" in line for line in lines)
    assert len(lines) == 3


def test_a_bad_sensitivity_pattern_is_named() -> None:
    text = "case: C\nsensitivity:\n  - label: x\n    patterns: ['(unclosed']\nevidence: []\n"
    with pytest.raises(CaseError, match=r"sensitivity\[0\]\.patterns.*unclosed"):
        parse_case(text)


def test_mount_must_be_a_drive() -> None:
    with pytest.raises(CaseError, match="mount"):
        parse_case(manifest_with("mount: /mnt/c"))


def berlin_case(infected_at: str) -> str:
    return f"case: C\ntimezone: Europe/Berlin\nknown:\n  infected_at: {infected_at}\nevidence: []\n"


def test_a_nonexistent_local_time_is_an_error() -> None:
    text = berlin_case("2011-03-27T02:30:00")
    with pytest.raises(CaseError, match="does not exist"):
        parse_case(text)


def test_an_ambiguous_local_time_takes_the_first_occurrence() -> None:
    text = berlin_case("2011-10-30T02:30:00")
    assert parse_case(text).known.infected_at == dt.datetime(2011, 10, 30, 0, 30, tzinfo=dt.UTC)


def test_load_from_folder_or_file(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").write_text("case: C\nevidence: []\n", encoding="utf-8")
    assert load_case(tmp_path)[1] == tmp_path.resolve()
    assert load_case(tmp_path / "case.yaml")[0].case == "C"
    with pytest.raises(CaseError, match="no case manifest"):
        load_case(tmp_path / "nothing")


def test_not_a_mapping_is_a_clear_error() -> None:
    with pytest.raises(CaseError, match="must be a mapping"):
        parse_case("- just\n- a list\n")
