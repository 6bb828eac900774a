"""Shared test helpers: where the corpora are, and builders for evidence items."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from breachscope.case import Case, parse_case
from breachscope.formats.base import EvidenceItem, Problem, Row
from breachscope.identity import Realms

PROJECT = Path(__file__).resolve().parent.parent
CORPORA = (PROJECT.parent / "shared" / "corpora").resolve()


@pytest.fixture(autouse=True)
def isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads the machine's cached vulnerability feeds (``vulndata fetch``)."""
    monkeypatch.setenv("BREACHSCOPE_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def corpora() -> Path:
    """The real-world samples (read in place, never copied into the repository)."""
    if not CORPORA.is_dir():
        pytest.fail(f"corpora not found at {CORPORA}")
    return CORPORA


def make_item(path: Path, case: Case | None = None, **fields: Any) -> EvidenceItem:
    """An evidence item for ``path`` as the ingest would build it (id from its bytes)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return EvidenceItem(
        path=path,
        rel_path=path.name,
        evidence_id=f"sha256:{digest}",
        case=case,
        realms=Realms.from_case(case),
        **fields,
    )


def read_all(reader: Any, item: EvidenceItem) -> tuple[list[Row], list[Problem]]:
    """Everything a format yields for ``item``, split into rows and problems (blobs left out)."""
    rows: list[Row] = []
    problems: list[Problem] = []
    for thing in reader.read(item):
        if isinstance(thing, Row):
            rows.append(thing)
        elif isinstance(thing, Problem):
            problems.append(thing)
    return rows, problems


def small_case(extra: str = "") -> Case:
    """A minimal valid manifest, with optional extra YAML appended."""
    return parse_case("case: TEST-1\nevidence:\n  - path: x\n" + extra)
