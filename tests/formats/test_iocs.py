"""Indicator feeds (``ioc_text``, ``stix``, ``misp``): files built in code.

No real indicator feed is in ``../shared/corpora/`` (see PROVENANCE.md), so every input here
is written from the STIX 2.1 specification (bundle, indicator patterns, cyber-observable
objects), the MISP core format (``Event``, ``Attribute``, ``Object``) and the defanging
conventions of published text lists.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Any

import pytest

from breachscope.formats import sniff_format
from breachscope.formats.base import REGISTRY, Problem, Row
from breachscope.formats.iocs import IocText, MispEvent, StixBundle, pattern_values
from tests.conftest import make_item, read_all

TEXT, STIX, MISP = IocText(), StixBundle(), MispEvent()
MD5 = "44d88612fea8a8f36de82e1278abb02f"
SHA1 = "3395856ce81f2b7382dee72602f798b642f14140"
SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
IOC_ONLY = {"iocs"}
SYSLOG = b"Mar  5 01:02:03 ws-0423 sshd[42]: Accepted password for taro from 10.0.0.5\n"
MBOX = b"From MAILER-DAEMON Tue Mar  5 01:02:03 2024\nFrom: a@b.example\n"


def rows_of(reader: Any, path: Path) -> tuple[list[Row], list[Problem]]:
    return read_all(reader, make_item(path))


def found(rows: list[Row]) -> list[tuple[str, str, str]]:
    return [(r.values["kind"], r.values["value"], r.values["record"]) for r in rows]


# --- ioc_text ---------------------------------------------------------------------------


def ioc_text(tmp_path: Path, *lines: str, name: str = "apt-feed.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


FEED_LINES = (
    "# C2 infrastructure, TLP:AMBER",
    "",
    "update-check[.]example",
    "hxxps://login-portal(.)example/owa/auth.php   # phishing page",
    "203[.]0[.]113[.]7",
    "198.51.100.0/24",
    "   # indented comment",
    MD5,
    SHA1.upper(),
    SHA256,
    "mal[@]update-check[.]example",
    "Invoice_0305.docm",
)


def test_text_feed_with_defanged_values_comments_cidr_and_hashes(tmp_path: Path) -> None:
    rows, problems = rows_of(TEXT, ioc_text(tmp_path, *FEED_LINES))
    assert problems == []
    assert found(rows) == [
        ("domain", "update-check.example", "line:3"),
        ("url", "https://login-portal.example/owa/auth.php", "line:4"),
        ("ipv4", "203.0.113.7", "line:5"),
        ("cidr", "198.51.100.0/24", "line:6"),
        ("md5", MD5, "line:8"),
        ("sha1", SHA1, "line:9"),
        ("sha256", SHA256, "line:10"),
        ("email", "mal@update-check.example", "line:11"),
        ("filename", "Invoice_0305.docm", "line:12"),
    ]
    assert rows[0].table == "iocs"
    assert rows[0].values == {
        "kind": "domain",
        "value": "update-check.example",
        "source": "apt-feed.txt",
        "record": "line:3",
    }


def test_a_value_of_unknown_shape_is_kept_with_a_warning(tmp_path: Path) -> None:
    rows, problems = rows_of(TEXT, ioc_text(tmp_path, "evil.example", "AS64496", "two words"))
    assert found(rows) == [
        ("domain", "evil.example", "line:1"),
        ("unknown", "AS64496", "line:2"),
        ("unknown", "two words", "line:3"),
    ]
    assert [(p.record, p.severity) for p in problems] == [
        ("line:2", "warning"),
        ("line:3", "warning"),
    ]


def test_text_sniff_accepts_an_indicator_list(tmp_path: Path) -> None:
    head = ioc_text(tmp_path, *FEED_LINES).read_bytes()
    assert TEXT.sniff(head, PurePath("feed.txt"))
    sniffed = sniff_format(head, PurePath("feed.txt"), IOC_ONLY)
    assert sniffed is not None and sniffed.name == "ioc_text"


@pytest.mark.parametrize(
    "head",
    [
        SYSLOG,
        MBOX,
        b"# only comments\n\n",
        b"evil.example\nthis line is prose\n",
        b'{"type": "bundle", "objects": []}\n',
        b'10.0.0.1 - - [05/Mar/2024:01:02:03 +0000] "GET / HTTP/1.1" 200 12\n',
    ],
)
def test_text_sniff_rejects_other_files(head: bytes) -> None:
    assert not TEXT.sniff(head, PurePath("feed.txt"))


def test_text_sniff_looks_at_the_first_lines_only() -> None:
    head = b"".join(b"host%d.evil.example\n" % i for i in range(20)) + b"not an indicator\n"
    assert TEXT.sniff(head, PurePath("feed.txt"))


# --- stix -------------------------------------------------------------------------------

IDENTITY = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"


def indicator(pattern: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{len(pattern):08d}-0000-4000-8000-000000000000",
        "created": "2024-03-01T00:00:00.000Z",
        "modified": "2024-03-01T00:00:00.000Z",
        "created_by_ref": IDENTITY,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-03-01T00:00:00Z",
        **extra,
    }


def bundle(tmp_path: Path, *objects: Any, identity: str | None = "ACME CERT") -> Path:
    head = []
    if identity is not None:
        head.append(
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": IDENTITY,
                "created": "2024-03-01T00:00:00.000Z",
                "modified": "2024-03-01T00:00:00.000Z",
                "name": identity,
                "identity_class": "organization",
            }
        )
    document = {
        "type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [*head, *objects],
    }
    path = tmp_path / "acme.stix.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def test_stix_indicator_oring_a_domain_and_a_url(tmp_path: Path) -> None:
    path = bundle(
        tmp_path,
        indicator(
            "[domain-name:value = 'update-check.example'] OR "
            "[url:value = 'http://update-check.example/gate.php']"
        ),
        indicator(f"[file:hashes.'SHA-256' = '{SHA256}']"),
        {
            "type": "domain-name",
            "spec_version": "2.1",
            "id": "domain-name--1",
            "value": "C2.Example",
        },
        {
            "type": "file",
            "spec_version": "2.1",
            "id": "file--1",
            "hashes": {"MD5": MD5, "SHA-1": SHA1, "SSDEEP": "3:a:b"},
            "name": "Invoice_0305.zip",
        },
        {"type": "malware", "id": "malware--1", "name": "x", "is_family": False},
    )
    rows, problems = rows_of(STIX, path)
    assert problems == []
    assert found(rows) == [
        ("domain", "update-check.example", "json:1"),
        ("url", "http://update-check.example/gate.php", "json:1"),
        ("sha256", SHA256, "json:2"),
        ("domain", "c2.example", "json:3"),
        ("md5", MD5, "json:4"),
        ("sha1", SHA1, "json:4"),
        ("filename", "Invoice_0305.zip", "json:4"),
    ]
    assert {r.values["source"] for r in rows} == {"ACME CERT"}


def test_stix_patterns_with_and_in_subset_and_qualifiers(tmp_path: Path) -> None:
    path = bundle(
        tmp_path,
        indicator(f"[file:hashes.MD5 = '{MD5}' AND file:name = 'svchost.exe']"),
        indicator("[ipv4-addr:value IN ('203.0.113.7', '203.0.113.8')] WITHIN 300 SECONDS"),
        indicator("[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
        indicator(
            "[network-traffic:dst_ref.value = 'c2.example' AND network-traffic:dst_port = 443]"
            " FOLLOWEDBY [email-message:from_ref.value = 'Mal@Evil.example']"
        ),
        indicator("[url:value = 'http://evil.example/it\\'s']"),
        indicator("[domain-name:value NOT = 'good.example']"),
        indicator("[domain-name:value MATCHES '^evil']"),
        identity=None,
    )
    rows, problems = rows_of(STIX, path)
    assert found(rows) == [
        ("md5", MD5, "json:0"),
        ("ipv4", "203.0.113.7", "json:1"),
        ("ipv4", "203.0.113.8", "json:1"),
        ("cidr", "198.51.100.0/24", "json:2"),
        ("domain", "c2.example", "json:3"),
        ("email", "mal@evil.example", "json:3"),
        ("url", "http://evil.example/it's", "json:4"),
    ]
    assert {r.values["source"] for r in rows} == {"acme.stix.json"}
    assert [(p.record, p.severity) for p in problems] == [
        ("json:5", "warning"),
        ("json:6", "warning"),
    ]


def test_stix_bad_revoked_and_foreign_indicators(tmp_path: Path) -> None:
    path = bundle(
        tmp_path,
        indicator("[domain-name:value = 'x.example'"),
        indicator("[domain-name:value = 'revoked.example']", revoked=True),
        indicator("rule x { condition: true }", pattern_type="yara"),
        indicator("[ipv4-addr:value = 'not-an-ip']"),
        "not an object",
    )
    rows, problems = rows_of(STIX, path)
    assert [(p.record, p.severity) for p in problems] == [
        ("json:1", "error"),
        ("json:2", "warning"),
        ("json:3", "warning"),
        ("json:4", "warning"),
        ("json:5", "error"),
    ]
    assert found(rows) == [("unknown", "not-an-ip", "json:4")]


def test_pattern_values_by_the_fast_path_and_the_parser() -> None:
    assert pattern_values("[url:value = 'http://a.example/\\\\x']") == [
        (("url",), "http://a.example/\\x")
    ]
    assert pattern_values("([domain-name:value = 'a.example'])") == [(("domain",), "a.example")]
    with pytest.raises(ValueError):
        pattern_values("[domain-name:value = 'a.example' AND ipv4-addr:value = '1.2.3.4']")


def test_stix_sniff(tmp_path: Path) -> None:
    head = bundle(tmp_path, indicator("[domain-name:value = 'x.example']")).read_bytes()
    assert STIX.sniff(head, PurePath("feed.json"))
    sniffed = sniff_format(head, PurePath("feed.json"), IOC_ONLY)
    assert sniffed is not None and sniffed.name == "stix"
    for other in (SYSLOG, MBOX, b'{"Event": {"info": "x"}}', b'[{"type": "bundle"}]'):
        assert not STIX.sniff(other, PurePath("feed.json"))


def test_not_a_bundle_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"type": "indicator"}')
    rows, problems = rows_of(STIX, path)
    assert rows == [] and [p.record for p in problems] == ["file"]


# --- misp -------------------------------------------------------------------------------


def attribute(kind: str, value: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "1",
        "type": kind,
        "category": "Network activity",
        "to_ids": True,
        "value": value,
        "deleted": False,
        **extra,
    }


def misp_event(tmp_path: Path, document: Any, name: str = "misp-event.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def event(
    *attributes: Any, objects: list[Any] | None = None, info: str = "Spear phishing wave"
) -> dict[str, Any]:
    return {
        "Event": {
            "id": "1234",
            "info": info,
            "date": "2024-03-05",
            "threat_level_id": "1",
            "Orgc": {"name": "ACME CERT"},
            "Attribute": list(attributes),
            "Object": objects or [],
        }
    }


def test_misp_event_with_an_object(tmp_path: Path) -> None:
    document = event(
        attribute("domain", "update-check.example"),
        attribute("ip-dst|port", "203.0.113.7|443"),
        attribute("url", "hxxp://update-check[.]example/gate.php"),
        attribute("comment", "seen in the wild"),
        attribute("domain", "www.google.com", to_ids=False),
        attribute("email-src", "Mal@Update-Check.example", category="Payload delivery"),
        attribute("hostname", "c2.example", deleted=True),
        attribute("ip-src", "c2.example"),
        objects=[
            {
                "name": "file",
                "meta-category": "file",
                "Attribute": [
                    attribute("filename", "Invoice_0305.zip", to_ids=False),
                    attribute("sha256", SHA256),
                    attribute("filename|md5", f"payload.exe|{MD5}"),
                ],
            },
            {"name": "file", "deleted": True, "Attribute": [attribute("md5", MD5)]},
        ],
    )
    rows, problems = rows_of(MISP, misp_event(tmp_path, document))
    assert found(rows) == [
        ("domain", "update-check.example", "json:Attribute/0"),
        ("ipv4", "203.0.113.7", "json:Attribute/1"),
        ("url", "http://update-check.example/gate.php", "json:Attribute/2"),
        ("email", "mal@update-check.example", "json:Attribute/5"),
        ("domain", "c2.example", "json:Attribute/7"),
        ("sha256", SHA256, "json:Object/0/Attribute/1"),
        ("filename", "payload.exe", "json:Object/0/Attribute/2"),
        ("md5", MD5, "json:Object/0/Attribute/2"),
    ]
    assert {r.values["source"] for r in rows} == {"Spear phishing wave"}
    assert [(p.record, p.severity) for p in problems] == [
        ("json:Attribute/7", "warning"),  # an ip-src holding a name
        ("file", "warning"),  # two attributes with to_ids false
        ("file", "warning"),  # a comment attribute
    ]
    assert "2 attribute(s) with to_ids false" in problems[1].message
    assert "'comment' x1" in problems[2].message


def test_misp_search_response_with_several_events(tmp_path: Path) -> None:
    document = {
        "response": [
            event(attribute("domain", "a.example"), info="first"),
            event(attribute("sha1", SHA1), info="second"),
        ]
    }
    rows, problems = rows_of(MISP, misp_event(tmp_path, document))
    assert problems == []
    assert [(r.values["value"], r.values["source"], r.values["record"]) for r in rows] == [
        ("a.example", "first", "json:response/0/Attribute/0"),
        (SHA1, "second", "json:response/1/Attribute/0"),
    ]


def test_misp_bad_attributes(tmp_path: Path) -> None:
    document = event(
        "not an attribute",
        attribute("filename|sha256", "only-a-name.exe"),
        {"type": "domain"},
    )
    rows, problems = rows_of(MISP, misp_event(tmp_path, document))
    assert rows == []
    assert [(p.record, p.severity) for p in problems] == [
        ("json:Attribute/0", "error"),
        ("json:Attribute/1", "error"),
        ("json:Attribute/2", "error"),
    ]


def test_misp_sniff(tmp_path: Path) -> None:
    head = misp_event(tmp_path, event(attribute("domain", "a.example"))).read_bytes()
    assert MISP.sniff(head, PurePath("event.json"))
    sniffed = sniff_format(head, PurePath("event.json"), IOC_ONLY)
    assert sniffed is not None and sniffed.name == "misp"
    response = json.dumps({"response": [event()]}).encode()
    assert MISP.sniff(response, PurePath("event.json"))
    for other in (SYSLOG, MBOX, b'{"type": "bundle", "objects": []}', b'{"name": "Event"}'):
        assert not MISP.sniff(other, PurePath("event.json"))


def test_all_three_are_registered_for_iocs_only() -> None:
    for name, cls in (("ioc_text", IocText), ("stix", StixBundle), ("misp", MispEvent)):
        assert REGISTRY[name] is cls
        assert cls.tables == ("iocs",)
    assert IocText.sniff_priority == 90


def test_evidence_sniffing_never_picks_an_indicator_format() -> None:
    head = b"update-check.example\n203.0.113.7\n"
    sniffed = sniff_format(head, PurePath("notes.txt"), {"network", "logons"})
    assert sniffed is None or sniffed.name not in ("ioc_text", "stix", "misp")
