"""The report: self-contained HTML (no network resource, CSP), escaping, sections, citations."""

from __future__ import annotations

import copy
import datetime as dt
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pytest

from breachscope.report import write_report
from breachscope.report.render import CSP, md_code, md_text
from breachscope.store import DATABASE_NAME

HOSTILE_SUBJECT = "<script>alert(1)</script>"
EVIL_URL = "https://evil.example/steal?x=<b>"
MBOX = "sha256:" + "a" * 64
PROXY = "sha256:" + "b" * 64
NETWORK_PREFIXES = ("http:", "https:", "ftp:", "//")


def ref(evidence_id: str, record: str, path: str) -> dict[str, str]:
    return {"evidence_id": evidence_id, "record": record, "path": path}


def findings() -> dict[str, Any]:
    mail = ref(MBOX, "offset:0", "evidence/mail/<img src=x onerror=alert(1)>.mbox")
    proxy = ref(PROXY, "line:7", "evidence/logs/proxy.log")
    return {
        "case": "TEST-1",
        "generated_at": "2011-08-20T00:00:00Z",
        "tool_version": "0.1.0",
        "inputs": [
            {
                "evidence_id": MBOX,
                "path": "evidence/mail/x.mbox",
                "format": "mbox",
                "records": 2,
                "errors": 1,
                "warnings": 0,
                "status": "ok",
            }
        ],
        "entry": {
            "emails": [
                {
                    "message_id": "<1@evil.example>",
                    "sender": "attacker@evil.example",
                    "recipients": ["victim@example.org"],
                    "subject": HOSTILE_SUBJECT,
                    "received": "2011-07-06T00:54:31Z",
                    "verdict": "malicious",
                    "reasons": ["attachment_malicious"],
                    "attachments": [
                        {
                            "filename": "a|b`c.rtf",
                            "sha256": "c" * 64,
                            "verdict": "malicious",
                            "indicators": ["embedded_file:x.exe"],
                            "cves": ["CVE-2010-3333"],
                        }
                    ],
                    "evidence": [mail],
                    "opened_at": "2011-07-06T01:12:03Z",
                }
            ],
            "vulnerable_software": [
                {
                    "host": "WS-1",
                    "product": "Office",
                    "version": "12.0",
                    "cves": ["CVE-2010-3333"],
                    "fixed_version": None,
                    "known_exploited": True,
                    "match": "edition_sp",
                    "confidence": "confirmed",
                    "evidence": [proxy],
                }
            ],
            "status": "analysed",
            "not_covered": [],
        },
        "window": {
            "start": "2011-07-06T01:12:03Z",
            "end": "2011-07-08T00:00:00Z",
            "basis": ["process_creation"],
            "status": "analysed",
            "not_covered": [],
            "start_evidence": [proxy],
            "end_evidence": [],
            "by_host": [
                {"host": "WS-1", "start": "2011-07-06T01:12:03Z", "end": "2011-07-08T00:00:00Z"}
            ],
        },
        "exposure": {
            "files": {"stored": 3, "by_label": {"classified": 1}, "items": []},
            "displayed": [
                {
                    "time": "2011-07-06T02:00:00Z",
                    "kind": "url",
                    "what": EVIL_URL,
                    "labels": [],
                    "evidence": [proxy],
                }
            ],
            "credentials": [],
            "email_addresses": {"count": 1, "internal": 0, "external": 1, "details": []},
            "exfiltration": [
                {
                    "destination": "http://c2.evil.example/",
                    "bytes_out": None,
                    "bytes_in": 10,
                    "first": "2011-07-06T02:00:00Z",
                    "last": "2011-07-07T02:00:00Z",
                    "reasons": ["ioc"],
                    "evidence": [proxy],
                }
            ],
            "status": "analysed",
            "not_covered": [],
        },
        "misuse": {
            "verdict": "none_found",
            "by_credential": [],
            "status": "not_analysed",
            "not_covered": ["logons: no logs of any assessed system"],
        },
        "campaign": {
            "other_recipients": [],
            "other_hosts_contacting_iocs": [],
            "vulnerable_hosts": [],
            "status": "partial",
            "not_covered": ["other recipients: no deliveries rows"],
        },
        "notifications": {
            "recipients": [
                {
                    "address": "someone@example.org",
                    "name": HOSTILE_SUBJECT,
                    "reasons": ["exposed_address"],
                    "exposed": ["email_address"],
                    "evidence": [mail],
                }
            ],
            "status": "analysed",
            "not_covered": [],
        },
        "countermeasures": [
            {"action": "block", "target": EVIL_URL, "status": "pending", "evidence": []}
        ],
        "custody_head": "0" * 64,
    }


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attributes: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.styles: list[str] = []
        self.metas: list[dict[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        if tag == "meta":
            self.metas.append({name: value or "" for name, value in attrs})
        for name, value in attrs:
            self.attributes.append((tag, name, value or ""))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def assert_self_contained(html: str) -> None:
    page = parse(html)
    assert "script" not in page.tags
    assert not {"iframe", "object", "embed", "link", "base", "form"} & set(page.tags)
    for tag, name, value in page.attributes:
        lowered = value.strip().lower()
        if name in ("src", "href", "action", "srcset", "data", "poster", "xlink:href"):
            assert not lowered.startswith(NETWORK_PREFIXES), (tag, name, value)
            assert name != "href" or lowered.startswith("#"), (tag, name, value)
        if name == "style":
            assert "url(" not in lowered, (tag, value)
        assert not name.startswith("on"), (tag, name, value)
    assert all("url(" not in style and "@import" not in style for style in page.styles)
    assert csp_values(html) == [CSP]


def csp_values(html: str) -> list[str]:
    return [
        meta.get("content", "")
        for meta in parse(html).metas
        if meta.get("http-equiv", "").lower() == "content-security-policy"
    ]


def anchors(html: str) -> tuple[set[str], set[str]]:
    page = parse(html)
    targets = {value for _, name, value in page.attributes if name == "id"}
    links = {value[1:] for _, name, value in page.attributes if name == "href"}
    return links, targets


def test_html_loads_nothing_and_carries_the_csp(tmp_path: Path) -> None:
    md_path, html_path = write_report(tmp_path, findings(), tmp_path)
    assert (md_path.name, html_path.name) == ("report.md", "report.html")
    html = html_path.read_text("utf-8")
    assert_self_contained(html)
    assert csp_values(html) == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]
    assert "https://evil.example" in html  # shown as text ...
    assert 'href="https://evil.example' not in html  # ... never as a link


def test_hostile_subject_is_escaped_in_html_and_markdown(tmp_path: Path) -> None:
    md_path, html_path = write_report(tmp_path, findings(), tmp_path)
    html = html_path.read_text("utf-8")
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = md_path.read_text("utf-8")
    # in Markdown a subject is a code span (shown literally) or backslash-escaped text
    assert f"`{HOSTILE_SUBJECT}`" in markdown
    assert HOSTILE_SUBJECT not in markdown.replace(f"`{HOSTILE_SUBJECT}`", "")
    assert "<img src=x onerror=alert(1)>" not in markdown.replace(
        "`evidence/mail/<img src=x onerror=alert(1)>.mbox`", ""
    )


def test_every_footnote_leads_to_the_appendix(tmp_path: Path) -> None:
    md_path, html_path = write_report(tmp_path, findings(), tmp_path)
    links, targets = anchors(html_path.read_text("utf-8"))
    assert any(link.startswith("ev-") for link in links)
    assert links <= targets
    markdown = md_path.read_text("utf-8")
    cited = {part.split("]")[0] for part in markdown.split("[^")[1:]}
    for number in cited:
        assert f"[^{number}]: " in markdown
    assert f"`{MBOX[:19]}`" in markdown  # short evidence id in the appendix


def test_markdown_has_the_sections_and_the_method_notes(tmp_path: Path) -> None:
    md_path, _ = write_report(tmp_path, findings(), tmp_path)
    markdown = md_path.read_text("utf-8")
    for heading in (
        "## Summary",
        "### What leaked",
        "### Did anyone else get in?",
        "### Whom to notify",
        "### How it got in",
        "### Countermeasures",
        "How did it get in?",
        "What leaked?",
        "Whom must we tell?",
        "## Method notes",
        "## Inputs",
        "## Evidence",
    ):
        assert heading in markdown, heading
    for constant, value in (
        ("BEACON_GRACE", "1 h"),
        ("BEACON_MIN_CONTACTS", "10"),
        ("BEACON_MAX_JITTER", "0.2"),
        ("CORRELATION_TOLERANCE", "120 s"),
        ("BASELINE_DAYS", "30"),
        ("BASELINE_MIN_DAYS", "3"),
        ("MIN_GAP", "1 h"),
        ("SAME_EMAIL_WINDOW", "72 h"),
    ):
        assert f"| `{constant}` | {value} |" in markdown, constant
    assert "| `evidence/mail/x.mbox` | mbox |" in markdown


def test_sections_not_analysed_name_what_was_not_covered(tmp_path: Path) -> None:
    md_path, html_path = write_report(tmp_path, findings(), tmp_path)
    markdown = md_path.read_text("utf-8")
    assert "**Status: not analysed" in markdown
    assert "logons: no logs of any assessed system" in markdown
    assert "other recipients: no deliveries rows" in markdown
    html = html_path.read_text("utf-8")
    assert '<span class="badge not_analysed">' in html
    assert '<span class="badge partial">' in html


def test_a_missing_section_does_not_stop_the_report(tmp_path: Path) -> None:
    document = copy.deepcopy(findings())
    for key in ("entry", "misuse", "notifications"):
        document[key] = {"status": "not_analysed", "not_covered": [f"{key}: nothing"]}
    md_path, html_path = write_report(tmp_path, document, tmp_path)
    assert "entry: nothing" in md_path.read_text("utf-8")
    assert_self_contained(html_path.read_text("utf-8"))


def test_events_chart_is_read_from_the_store(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / DATABASE_NAME))
    con.execute(
        "CREATE VIEW events AS SELECT * FROM (VALUES "
        "(TIMESTAMPTZ '2011-07-05 10:00:00+00', 'logons'), "
        "(TIMESTAMPTZ '2011-07-06 10:00:00+00', 'network'), "
        "(TIMESTAMPTZ '2011-07-06 11:00:00+00', '<b>x</b>')) AS t(time, \"table\")"
    )
    con.close()
    md_path, html_path = write_report(tmp_path, findings(), tmp_path)
    html = html_path.read_text("utf-8")
    assert '<svg class="chart"' in html
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert_self_contained(html)
    assert "week of 2011-07-04" in md_path.read_text("utf-8")


def test_markdown_escaping_helpers() -> None:
    assert md_text("a*b_[c](d)<e>|") == r"a\*b\_\[c\](d)\<e\>\|"
    assert md_code("x|y", in_table=True) == r"`x\|y`"
    assert md_code("``") == "``` `` ```"
    assert md_text("line\nbreak\x1b[31m") == "line break [31m".replace("[", "\\[")


def test_the_report_is_deterministic(tmp_path: Path) -> None:
    first = write_report(tmp_path / "a", findings(), tmp_path)
    second = write_report(tmp_path / "b", findings(), tmp_path)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


@pytest.mark.slow
def test_the_demo_case_renders_with_every_anchor(tmp_path: Path) -> None:
    from breachscope.demo_run import run_demo

    def clock() -> dt.datetime:
        return dt.datetime(2011, 8, 20, tzinfo=dt.UTC)

    run = run_demo(tmp_path, clock=clock)
    out = run.investigation.out_dir
    html = (out / "report.html").read_text("utf-8")
    assert_self_contained(html)
    links, targets = anchors(html)
    assert links <= targets
    assert '<svg class="chart"' in html
    document = json.loads((out / "findings.json").read_text("utf-8"))
    markdown = (out / "report.md").read_text("utf-8")
    assert f"**{document['exposure']['files']['stored']}** files were stored" in markdown
    assert "CVE-2010-3333" in markdown
    assert "partner-portal" in markdown
    assert f"**{document['exposure']['email_addresses']['count']}** e-mail addresses" in markdown
