"""``vulndata fetch``: downloads from a local HTTP server (``http.server`` on 127.0.0.1, port
0, in a thread) serving the real NVD record and KEV catalogue from ``../shared/corpora/``, and
API pages built in code from those records. No test sleeps: the pause between pages is a
parameter."""

from __future__ import annotations

import io
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from breachscope import vulndata
from breachscope.vulndata import (
    VulnDataError,
    cached_files,
    default_cache_dir,
    fetch,
)

Route = Callable[[str], tuple[int, bytes]]


class Server:
    """A local HTTP server; ``routes`` maps a path to a function of the query string."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                server.requests.append(self.path)
                route = server.routes.get(parts.path)
                status, body = route(parts.query) if route else (404, b"not found")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def serve(self, path: str, body: bytes, status: int = 200) -> str:
        self.routes[path] = lambda query: (status, body)
        return self.url(path)


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    running.thread.start()
    try:
        yield running
    finally:
        running.httpd.shutdown()
        running.httpd.server_close()
        running.thread.join()


def no_pause(seconds: float) -> None:
    assert seconds == vulndata.NVD_PAGE_PAUSE_SECONDS


@pytest.mark.corpus
def test_fetch_caches_both_feeds(corpora: Path, server: Server, tmp_path: Path) -> None:
    nvd_body = (corpora / "nvd" / "CVE-2010-3333.json").read_bytes()
    kev_body = (corpora / "kev" / "known_exploited_vulnerabilities.json").read_bytes()
    cache = tmp_path / "cache"
    written = fetch(
        server.serve("/nvd/CVE-2010-3333.json", nvd_body),
        server.serve("/kev.json", kev_body),
        cache_dir=cache,
        pause=no_pause,
    )
    assert written == [cache / "nvd.json", cache / "kev.json"]
    assert (cache / "nvd.json").read_bytes() == nvd_body
    assert (cache / "kev.json").read_bytes() == kev_body
    assert cached_files(cache) == [cache / "kev.json", cache / "nvd.json"]
    assert sorted(p.name for p in cache.iterdir()) == ["kev.json", "nvd.json"]


@pytest.mark.corpus
def test_http_404_is_a_clear_error_and_leaves_no_partial_file(
    corpora: Path, server: Server, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(VulnDataError, match=r"/missing\.json: HTTP 404"):
        fetch(server.url("/missing.json"), None, cache_dir=cache, pause=no_pause)
    assert list(cache.iterdir()) == []
    # A good cache survives a failed refresh untouched.
    kev_body = (corpora / "kev" / "known_exploited_vulnerabilities.json").read_bytes()
    fetch(None, server.serve("/kev.json", kev_body), cache_dir=cache, pause=no_pause)
    with pytest.raises(VulnDataError, match="HTTP 404"):
        fetch(None, server.url("/gone.json"), cache_dir=cache, pause=no_pause)
    assert [p.name for p in cache.iterdir()] == ["kev.json"]
    assert (cache / "kev.json").read_bytes() == kev_body


def test_server_errors_and_refused_documents(server: Server, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(VulnDataError, match="HTTP 500"):
        fetch(server.serve("/err", b"{}", status=500), None, cache_dir=cache, pause=no_pause)
    with pytest.raises(VulnDataError, match=r"not NVD CVE API 2\.0 JSON"):
        fetch(server.serve("/html", b"<html>nope</html>"), None, cache_dir=cache, pause=no_pause)
    with pytest.raises(VulnDataError, match="not KEV JSON"):
        fetch(
            None,
            server.serve("/nvd-as-kev", b'{"vulnerabilities": [{"cve": {"id": "CVE-2099-1"}}]}'),
            cache_dir=cache,
            pause=no_pause,
        )
    with pytest.raises(VulnDataError, match="not valid JSON"):
        fetch(
            None,
            server.serve("/cut", b'{"catalogVersion": "1", "vulner'),
            cache_dir=cache,
            pause=no_pause,
        )
    assert list(cache.iterdir()) == []


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    host, port = closed.server_address[:2]
    closed.server_close()
    with pytest.raises(VulnDataError, match="could not connect"):
        fetch(f"http://{host!s}:{port}/nvd.json", None, cache_dir=tmp_path, pause=no_pause)


def test_download_size_is_bounded(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vulndata, "MAX_DOWNLOAD_BYTES", 64)
    monkeypatch.setattr(vulndata, "CHUNK_BYTES", 16)
    body = json.dumps({"catalogVersion": "1", "vulnerabilities": [{"cveID": "CVE-2099-0001"}] * 9})
    url = server.serve("/kev.json", body.encode())
    with pytest.raises(VulnDataError, match="more than 64"):
        fetch(None, url, cache_dir=tmp_path, pause=no_pause)
    assert list(tmp_path.iterdir()) == []


def test_a_body_without_length_is_bounded_while_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that announces no length (chunked) is cut off at the bound, not after."""
    monkeypatch.setattr(vulndata, "MAX_DOWNLOAD_BYTES", 64)
    monkeypatch.setattr(vulndata, "CHUNK_BYTES", 16)
    taken: list[int] = []

    class Endless(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            taken.append(size or 0)
            return b" " * (size or 0)

    def opener(request: object, timeout: float) -> io.BytesIO:
        return Endless()

    with pytest.raises(VulnDataError, match="larger than 64 bytes"):
        fetch(None, "http://feeds.invalid/kev.json", cache_dir=tmp_path, opener=opener)
    assert sum(taken) <= 64 + 16
    assert list(tmp_path.iterdir()) == []


@pytest.mark.corpus
def test_api_responses_are_paged(corpora: Path, server: Server, tmp_path: Path) -> None:
    records = [
        json.loads((corpora / "nvd" / f"{cve}.json").read_text(encoding="utf-8"))
        for cve in ("CVE-2010-3333", "CVE-2010-2883", "CVE-2011-0609")
    ]

    def page(query: str) -> tuple[int, bytes]:
        start = int(dict(urllib.parse.parse_qsl(query)).get("startIndex", "0"))
        chunk = records[start : start + 2]
        response = {
            "resultsPerPage": 2,
            "startIndex": start,
            "totalResults": len(records),
            "format": "NVD_CVE",
            "version": "2.0",
            "vulnerabilities": [{"cve": record} for record in chunk],
        }
        return 200, json.dumps(response).encode()

    server.routes["/rest/json/cves/2.0"] = page
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "nvd-3.json").write_text("{}")  # left from an older, longer fetch
    pauses: list[float] = []
    written = fetch(
        server.url("/rest/json/cves/2.0?hasKev"), None, cache_dir=cache, pause=pauses.append
    )
    assert written == [cache / "nvd.json", cache / "nvd-2.json"]
    assert server.requests == [
        "/rest/json/cves/2.0?hasKev",
        "/rest/json/cves/2.0?hasKev&startIndex=2",
    ]
    assert pauses == [vulndata.NVD_PAGE_PAUSE_SECONDS]
    second = json.loads((cache / "nvd-2.json").read_text())
    assert [v["cve"]["id"] for v in second["vulnerabilities"]] == ["CVE-2011-0609"]
    assert sorted(p.name for p in cache.iterdir()) == ["nvd-2.json", "nvd.json"]


def test_a_failing_later_page_keeps_nothing(server: Server, tmp_path: Path) -> None:
    first = {
        "resultsPerPage": 1,
        "startIndex": 0,
        "totalResults": 2,
        "format": "NVD_CVE",
        "vulnerabilities": [{"cve": {"id": "CVE-2099-0001"}}],
    }
    server.routes["/api"] = lambda query: (
        (503, b"busy") if "startIndex" in query else (200, json.dumps(first).encode())
    )
    with pytest.raises(VulnDataError, match="HTTP 503"):
        fetch(server.url("/api"), None, cache_dir=tmp_path, pause=no_pause)
    assert list(tmp_path.iterdir()) == []


def test_default_cache_dir() -> None:
    assert default_cache_dir({"BREACHSCOPE_CACHE": "/srv/bs"}) == Path("/srv/bs/vulndata")
    assert default_cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/breachscope/vulndata")
    assert default_cache_dir({}) == Path.home() / ".cache" / "breachscope" / "vulndata"


def test_cached_files_of_an_empty_cache(tmp_path: Path) -> None:
    assert cached_files(tmp_path / "absent") == []
    (tmp_path / "notes.json").write_text("{}")
    (tmp_path / "nvd.json.tmp").write_text("{}")
    assert cached_files(tmp_path) == []
