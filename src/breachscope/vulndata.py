"""Downloading and caching the vulnerability feeds (``breachscope vulndata fetch``).

A case that lists no ``vulnerabilities:`` uses the data of the last fetch (case-manifest.md),
so the fetch keeps exactly one current copy of each feed in a cache folder:

- The folder is `default_cache_dir`: ``$BREACHSCOPE_CACHE/vulndata`` when that variable is
  set, else ``$XDG_CACHE_HOME/breachscope/vulndata``, else ``~/.cache/breachscope/vulndata``.
- ``kev.json`` is the CISA KEV catalogue (`DEFAULT_KEV_URL`). ``nvd.json`` is NVD CVE API 2.0
  data (`DEFAULT_NVD_URL`: the CVEs that are in KEV, ``hasKev``: the document-borne exploits
  this tool looks for are there, and it is a handful of requests where the whole NVD is
  hundreds under the API's rate limit). Any URL that returns NVD CVE JSON works, including a
  mirror's single-record file. An API response that says more results remain is paged
  (``startIndex``), the further pages kept as ``nvd-2.json``, ``nvd-3.json`` ..., with
  `NVD_PAGE_PAUSE_SECONDS` between requests as NVD's best practices ask.
- Every download is bounded by `MAX_DOWNLOAD_BYTES`, must parse as JSON and be recognised
  by the ``nvd`` / ``kev`` format before it is kept. It is written to ``<name>.tmp`` and
  renamed into place only when every page of that feed arrived, so a failed or partial
  download leaves the previous cache untouched and no partial file. Pages left from an older,
  longer fetch are removed.
- An HTTP error, an unreachable server or a refused document raises `VulnDataError` naming
  the URL and the reason.

The opener is a parameter (``urllib.request.urlopen`` by default) so tests use a local
server and nothing else; so is the pause between pages.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import Any

from breachscope.formats.kev import KevCatalog
from breachscope.formats.nvd import NvdCveJson

DEFAULT_NVD_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0?hasKev"
DEFAULT_KEV_URL = (
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
)
MAX_DOWNLOAD_BYTES = 512 << 20
MAX_NVD_PAGES = 200
NVD_PAGE_PAUSE_SECONDS = 6.0
TIMEOUT_SECONDS = 120.0
CHUNK_BYTES = 1 << 20
SNIFF_BYTES = 8192
NVD_FILE = "nvd"
KEV_FILE = "kev"
USER_AGENT = "breachscope-vulndata"

Opener = Callable[..., Any]


class VulnDataError(RuntimeError):
    """A feed could not be fetched or is not what it claims to be; nothing was cached."""


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where fetched feeds are kept (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    if env.get("BREACHSCOPE_CACHE"):
        return Path(env["BREACHSCOPE_CACHE"]).expanduser() / "vulndata"
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base.expanduser() / "breachscope" / "vulndata"


def cached_files(cache_dir: Path | None = None) -> list[Path]:
    """The feed files of the last fetch, sorted (empty when nothing was fetched)."""
    folder = default_cache_dir() if cache_dir is None else cache_dir
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file()
        and path.suffix == ".json"
        and path.stem.split("-")[0]
        in (
            NVD_FILE,
            KEV_FILE,
        )
    )


def _page_name(stem: str, page: int) -> str:
    return f"{stem}.json" if page == 1 else f"{stem}-{page}.json"


def _download(url: str, opener: Opener) -> bytes:
    """The body of ``url``, at most `MAX_DOWNLOAD_BYTES`; `VulnDataError` otherwise."""
    request = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"}
    )
    try:
        with opener(request, timeout=TIMEOUT_SECONDS) as response:
            length = getattr(response, "headers", {}).get("Content-Length")
            if length and length.isdigit() and int(length) > MAX_DOWNLOAD_BYTES:
                raise VulnDataError(
                    f"{url}: {int(length)} bytes announced, more than {MAX_DOWNLOAD_BYTES}"
                )
            chunks: list[bytes] = []
            size = 0
            while chunk := response.read(CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise VulnDataError(f"{url}: larger than {MAX_DOWNLOAD_BYTES} bytes")
                chunks.append(chunk)
    except urllib.error.HTTPError as error:
        raise VulnDataError(f"{url}: HTTP {error.code} {error.reason}") from error
    except urllib.error.URLError as error:
        raise VulnDataError(f"{url}: could not connect ({error.reason})") from error
    except (TimeoutError, OSError) as error:
        raise VulnDataError(f"{url}: download failed ({error})") from error
    return b"".join(chunks)


def _checked(url: str, body: bytes, kind: str) -> Any:
    """The parsed document, when it is JSON of the feed ``kind`` (``nvd`` or ``kev``)."""
    sniffer = NvdCveJson() if kind == NVD_FILE else KevCatalog()
    if not sniffer.sniff(body[:SNIFF_BYTES], PurePath(f"{kind}.json")):
        raise VulnDataError(f"{url}: not {'NVD CVE API 2.0' if kind == NVD_FILE else 'KEV'} JSON")
    try:
        return json.loads(body.decode("utf-8").removeprefix("\ufeff"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise VulnDataError(f"{url}: not valid JSON ({error})") from error


def _next_page_url(url: str, document: Any) -> str | None:
    """The URL of the next API page when the response says results remain, else None."""
    if not isinstance(document, dict):
        return None
    numbers: list[Any] = [
        document.get(key) for key in ("totalResults", "startIndex", "resultsPerPage")
    ]
    if not all(type(number) is int for number in numbers):
        return None
    total, start, per_page = numbers
    following = start + per_page
    if per_page <= 0 or following >= total:
        return None
    parts = urllib.parse.urlsplit(url)
    query = [
        (key, value)
        for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if key != "startIndex"
    ]
    query.append(("startIndex", str(following)))
    # NVD documents ``hasKev`` and similar flags without a value: keep them that way.
    encoded = "&".join(
        urllib.parse.quote(key, safe="")
        + (f"={urllib.parse.quote(value, safe='')}" if value else "")
        for key, value in query
    )
    return urllib.parse.urlunsplit(parts._replace(query=encoded))


def _fetch_feed(
    url: str, kind: str, cache_dir: Path, opener: Opener, pause: Callable[[float], None]
) -> list[Path]:
    """Download every page of one feed to ``.tmp`` files, then rename them into place."""
    temporary: list[tuple[Path, Path]] = []
    try:
        page_url: str | None = url
        page = 0
        while page_url is not None:
            page += 1
            if page > MAX_NVD_PAGES:
                raise VulnDataError(f"{url}: more than {MAX_NVD_PAGES} pages")
            if page > 1:
                pause(NVD_PAGE_PAUSE_SECONDS)
            body = _download(page_url, opener)
            document = _checked(page_url, body, kind)
            final = cache_dir / _page_name(kind, page)
            partial = final.with_name(final.name + ".tmp")
            partial.write_bytes(body)
            temporary.append((partial, final))
            page_url = _next_page_url(page_url, document) if kind == NVD_FILE else None
    except BaseException:
        for partial, _ in temporary:
            partial.unlink(missing_ok=True)
        raise
    written = []
    for partial, final in temporary:
        os.replace(partial, final)
        written.append(final)
    for stale in cache_dir.glob(f"{kind}-*.json"):
        if stale not in written:
            stale.unlink(missing_ok=True)
    return written


def fetch(
    nvd_url: str | None = DEFAULT_NVD_URL,
    kev_url: str | None = DEFAULT_KEV_URL,
    cache_dir: Path | None = None,
    opener: Opener = urllib.request.urlopen,
    pause: Callable[[float], None] = time.sleep,
) -> list[Path]:
    """Download the NVD and KEV feeds into ``cache_dir`` and return the files written.

    A URL of None skips that feed. Raises `VulnDataError` for a feed that cannot be fetched
    or is not the JSON it should be; a feed fetched before the failing one stays written.
    """
    folder = default_cache_dir() if cache_dir is None else cache_dir
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for url, kind in ((nvd_url, NVD_FILE), (kev_url, KEV_FILE)):
        if url:
            written += _fetch_feed(url, kind, folder, opener, pause)
    return written
