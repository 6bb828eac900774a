"""Engine parity: every findings section is the same on Spark as on DuckDB over the same Parquet.

The demo case (and its ``outsider`` variant, where misuse finds unauthorised access) is ingested
once with DuckDB; the analyses then run on a DuckDB and on a Spark Ibis backend over that one
output folder, and each section of `run_analyses` must be equal. One SparkSession serves the
module (`spark_connection` only re-registers its temporary views). About a minute per variant
on Spark, most of it the exposure and misuse queries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from breachscope.analyses import Context
from breachscope.analyses.run import run_analyses
from breachscope.case import load_case
from breachscope.demo.generate import generate_case
from breachscope.pipeline import ingest_case
from breachscope.store import Store, ibis_connection
from tests.test_spark import require_java

pytestmark = [pytest.mark.spark, pytest.mark.slow]

VARIANTS = ("plain", "outsider")
SECTIONS = (
    "window",
    "entry",
    "exposure",
    "misuse",
    "campaign",
    "notifications",
    "countermeasures",
)


def _sections(case_dir: Path, out: Path, engine: str) -> dict[str, Any]:
    case, _ = load_case(case_dir)
    ctx = Context.open(case, ibis_connection(out, engine), blob=Store(out).blob)
    return run_analyses(ctx)


@pytest.fixture(scope="module")
def results(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per variant: the sections on each engine (computed lazily, once)."""
    require_java()

    class Lazy(dict[str, dict[str, dict[str, Any]]]):
        # computed inside the first test that asks, so its isolated_cache fixture applies
        def __missing__(self, variant: str) -> dict[str, dict[str, Any]]:
            base = tmp_path_factory.mktemp(variant)
            generate_case(base / "case", variant=None if variant == "plain" else variant)
            ingest_case(base / "case", base / "out")
            found = {
                engine: _sections(base / "case", base / "out", engine)
                for engine in ("duckdb", "spark")
            }
            self[variant] = found
            return found

    return Lazy()


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_section_is_the_same_on_spark_and_duckdb(
    results: dict[str, dict[str, dict[str, Any]]], variant: str, section: str
) -> None:
    found = results[variant]
    assert section in found["duckdb"], f"{section} not computed for {variant}"
    assert found["spark"][section] == found["duckdb"][section]


def test_outsider_misuse_is_found_on_spark(
    results: dict[str, dict[str, dict[str, Any]]],
) -> None:
    """The parity is not vacuous: Spark reaches the planted unauthorised access."""
    assert results["outsider"]["spark"]["misuse"]["verdict"] == "unauthorized_access"
