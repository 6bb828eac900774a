"""Indicator shapes and matching (`breachscope.detect.iocs`): pure functions over strings.

The values are written by hand after the defanging conventions of common feeds and the
matching rules of rules.md (Exposure -> IOC matching); no corpus is needed.
"""

from __future__ import annotations

import pytest

from breachscope.detect.iocs import KINDS, classify, matches, normalize, refang

SHA256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hxxp://evil[.]example/a", "http://evil.example/a"),
        ("hXXps://evil(.)example", "https://evil.example"),
        ("evil{.}example[dot]net", "evil.example.net"),
        ("10[.]0[.]0[.]1", "10.0.0.1"),
        ("http[:]//evil.example", "http://evil.example"),
        ("hxxp[://]evil.example", "http://evil.example"),
        ("mal[@]evil.example", "mal@evil.example"),
        ("fxp://files.example/x", "ftp://files.example/x"),
        ("'quoted.example'", "quoted.example"),
        ("  plain.example  ", "plain.example"),
    ],
)
def test_refang_undoes_the_usual_defanging(raw: str, expected: str) -> None:
    assert refang(raw) == expected


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("Evil.Example", "domain", "evil.example"),
        ("evil[.]example.", "domain", "evil.example"),
        ("*.c2.example", "domain", "c2.example"),
        ("bücher.example", "domain", "xn--bcher-kva.example"),
        ("bad_host.example", "domain", "bad_host.example"),
        ("c2.example:8443", "domain", "c2.example"),
        ("203.0.113.7", "ipv4", "203.0.113.7"),
        ("203[.]0[.]113[.]7:443", "ipv4", "203.0.113.7"),
        ("2001:DB8:0::1", "ipv6", "2001:db8::1"),
        ("[2001:db8::1]:443", "ipv6", "2001:db8::1"),
        ("198.51.100.0/24", "cidr", "198.51.100.0/24"),
        ("198.51.100.77/24", "cidr", "198.51.100.0/24"),
        ("2001:db8::/32", "cidr", "2001:db8::/32"),
        ("HXXP://Evil.Example:80/Path/A.php?Q=1#frag", "url", "http://evil.example/Path/A.php?Q=1"),
        ("https://evil.example:8443", "url", "https://evil.example:8443/"),
        ("http://[2001:db8::1]/x", "url", "http://[2001:db8::1]/x"),
        ("evil.example/gate.php", "url", "evil.example/gate.php"),
        ("Mal.Actor+x@Evil.Example", "email", "mal.actor+x@evil.example"),
        ("d41d8cd98f00b204e9800998ecf8427e", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
        (
            "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
            "sha1",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        (SHA256, "sha256", SHA256.lower()),
        ("ab" * 64, "sha512", "ab" * 64),
        ("Invoice_March.docm", "filename", "Invoice_March.docm"),
        ("update.exe", "filename", "update.exe"),
        ("AS64496", "unknown", "AS64496"),
        ("two words", "unknown", "two words"),
        ("localhost", "unknown", "localhost"),
        ("1.2.3", "unknown", "1.2.3"),
        ("abc123", "unknown", "abc123"),
        ("http://", "unknown", "http://"),
        ("http://evil.example:99999/", "unknown", "http://evil.example:99999/"),
        ("", "unknown", ""),
    ],
)
def test_classify_by_shape(raw: str, kind: str, value: str) -> None:
    assert classify(raw) == (kind, value)
    assert kind in KINDS


def test_a_top_level_domain_that_is_also_an_extension_stays_a_domain() -> None:
    # .zip is a TLD: the shape cannot tell, so only a typed source says "filename".
    assert classify("invoice.zip") == ("domain", "invoice.zip")
    assert normalize("filename", "invoice.zip") == "invoice.zip"


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("domain", "Evil.Example", "evil.example"),
        ("domain", "localhost", None),
        ("ipv4", "203.0.113.7", "203.0.113.7"),
        ("ipv4", "evil.example", None),
        ("cidr", "203.0.113.7", "203.0.113.7/32"),
        ("url", "hxxp://evil.example", "http://evil.example/"),
        ("md5", SHA256, None),
        ("sha256", SHA256, SHA256.lower()),
        ("filename", "  a b.pdf ", "a b.pdf"),
        ("email", "x@evil.example", "x@evil.example"),
    ],
)
def test_normalize_as_a_declared_kind(kind: str, raw: str, expected: str | None) -> None:
    assert normalize(kind, raw) == expected


@pytest.mark.parametrize(
    ("kind", "value", "observed"),
    [
        ("domain", "evil.example", "evil.example"),
        ("domain", "evil.example", "EVIL.example."),
        ("domain", "evil.example", "cdn.evil.example"),
        ("domain", "evil.example", "http://a.b.evil.example:8080/x?y"),
        ("domain", "evil.example", "CONNECT login.evil.example:443"),
        ("domain", "evil.example", "login.evil.example:443"),
        ("domain", "evil.example", "phisher@evil.example"),
        ("domain", "xn--bcher-kva.example", "https://bücher.example/"),
        ("ipv4", "203.0.113.7", "203.0.113.7"),
        ("ipv4", "203.0.113.7", "CONNECT 203.0.113.7:443"),
        ("ipv4", "203.0.113.7", "http://203.0.113.7/a"),
        ("ipv6", "2001:db8::1", "[2001:db8:0::1]:443"),
        ("cidr", "203.0.113.0/24", "203.0.113.250"),
        ("cidr", "203.0.113.0/24", "CONNECT 203.0.113.9:8443"),
        ("url", "http://evil.example/gate", "http://evil.example/gate.php?id=1"),
        ("url", "http://evil.example/gate", "HTTPS://Evil.Example:443/gate"),
        ("url", "http://evil.example/", "http://evil.example/anything"),
        ("url", "evil.example/dl/", "https://evil.example/dl/a.bin"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e", "D41D8CD98F00B204E9800998ECF8427E"),
        ("email", "mal@evil.example", "Mal@EVIL.example"),
        ("filename", "Invoice.docm", "C:\\Users\\t\\Downloads\\invoice.DOCM"),
        ("filename", "Invoice.docm", "/home/t/invoice.docm"),
        ("unknown", "AS64496", "as64496"),
    ],
)
def test_matches(kind: str, value: str, observed: str) -> None:
    assert matches(kind, value, observed)


@pytest.mark.parametrize(
    ("kind", "value", "observed"),
    [
        ("domain", "evil.example", "notevil.example"),
        ("domain", "evil.example", "evil.example.net"),
        ("domain", "evil.example", "http://good.example/?u=evil.example"),
        ("domain", "evil.example", ""),
        ("ipv4", "203.0.113.7", "203.0.113.70"),
        ("ipv4", "203.0.113.7", "evil.example"),
        ("cidr", "203.0.113.0/24", "203.0.114.1"),
        ("cidr", "203.0.113.0/24", "2001:db8::1"),
        ("url", "http://evil.example/gate", "http://evil.example/other"),
        ("url", "http://evil.example/gate", "http://evil.example.net/gate"),
        ("url", "http://evil.example/gate", "http://evil.example:8080/gate"),
        ("url", "http://evil.example/", "CONNECT evil.example:443"),
        ("url", "http://evil.example/", "evil.example"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427f"),
        ("filename", "Invoice.docm", "C:\\Users\\t\\Invoice.docm.lnk"),
    ],
)
def test_does_not_match(kind: str, value: str, observed: str) -> None:
    assert not matches(kind, value, observed)


@pytest.mark.parametrize(
    "observed",
    ["http://[::1", "http://x:99999/", "\x00\x01", "[" * 10_000, "a" * 20_000, "CONNECT :"],
)
def test_hostile_observations_never_raise(observed: str) -> None:
    for kind in ("domain", "ipv4", "cidr", "url", "email", "filename", "md5"):
        value = {"cidr": "10.0.0.0/8", "ipv4": "10.0.0.1", "url": "http://x.example/"}.get(
            kind, "x.example"
        )
        assert matches(kind, value, observed) in (True, False)
