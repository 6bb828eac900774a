"""The command line. Thin: parses arguments and calls the rooms that do the work.

Exit status: 0 done, 1 verification failed, 2 bad input (manifest, missing evidence, mapping).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from breachscope import __version__
from breachscope.case import CaseError
from breachscope.custody import CustodyError
from breachscope.ingest import IngestError, Progress
from breachscope.mapping import MappingError
from breachscope.schema import TIMELINE_TABLES
from breachscope.terminal import strip_controls

INPUT_ERRORS = (CaseError, IngestError, MappingError, CustodyError)


def _fail(error: Exception) -> None:
    for line in str(error).splitlines() or [type(error).__name__]:
        click.echo(f"breachscope: error: {strip_controls(line)}", err=True)
    sys.exit(2)


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    """A progress bar per evidence item on a terminal; nothing when piped."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("[bold]ingest[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("", total=None)

    def update(name: str, number: int, total: int) -> None:
        bar.update(task, completed=number - 1, total=total, description=strip_controls(name))

    with bar:
        yield update


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="breachscope")
def main() -> None:
    """Investigate a computer compromise from its evidence.

    Give it a case folder (case.yaml plus the evidence it names); it answers how the
    attacker got in, what leaked, whether anyone misused it and whom to tell, each answer
    citing the raw records behind it.

    \b
    Start with the demo:   breachscope demo
    Then your own case:    breachscope investigate cases/CASE-2011-017 -o out/
    """


@main.command()
@click.argument("case", type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="Output folder (default: CASE/out/).",
)
@click.option(
    "--keep-going",
    is_flag=True,
    help="Record missing or unreadable evidence in "
    "findings.json and carry on, instead of stopping.",
)
@click.option("--progress/--no-progress", default=True, help="Progress bar on a terminal.")
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="Where the analyses run: embedded DuckDB, or Spark in local mode (needs Java 17 and "
    "the breachscope[spark] extra) over the same Parquet files.",
)
def investigate(
    case: Path, out: Path | None, keep_going: bool, progress: bool, engine: str
) -> None:
    """Investigate CASE (a folder with case.yaml, or a .yaml file) and write findings.json.

    \b
    Example:
      breachscope investigate cases/ws-0423/ -o /tmp/ws-0423-out
      breachscope investigate cases/ws-0423/case.yaml --keep-going
    """
    from breachscope.pipeline import investigate as run

    try:
        with _progress(progress) as report:
            result = run(case, out, keep_going=keep_going, progress=report, engine=engine)
    except INPUT_ERRORS as error:
        _fail(error)
        return
    ok = sum(1 for i in result.ingest.inputs if i.status == "ok")
    records = sum(i.records for i in result.ingest.inputs)
    errors = sum(i.errors for i in result.ingest.inputs)
    click.echo(f"findings:     {result.findings_path}")
    click.echo(
        f"inputs:       {ok} of {len(result.ingest.inputs)} read, {records} records, "
        f"{errors} bad records skipped"
    )
    for record in result.ingest.inputs:
        if record.status != "ok":
            click.echo(f"  {record.status:<14} {strip_controls(record.path)}")
    click.echo(f"custody head: {result.custody_head}")


@main.command()
@click.argument("case", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--out", "out", type=click.Path(path_type=Path), help="Output folder.")
@click.option("--keep-going", is_flag=True, help="Record missing evidence and carry on.")
@click.option("--progress/--no-progress", default=True, help="Progress bar on a terminal.")
def ingest(case: Path, out: Path | None, keep_going: bool, progress: bool) -> None:
    """Read CASE's evidence into the store only (no analysis), for exploring with `timeline`.

    \b
    Example:
      breachscope ingest cases/ws-0423/ -o /tmp/ws-0423-out
      breachscope timeline /tmp/ws-0423-out --limit 50
    """
    from breachscope.pipeline import ingest_case
    from breachscope.store import Store

    try:
        with _progress(progress) as report:
            _, _, out_dir, custody, result = ingest_case(case, out, keep_going, progress=report)
    except INPUT_ERRORS as error:
        _fail(error)
        return
    Store(out_dir).duckdb().close()
    records = sum(i.records for i in result.inputs)
    click.echo(f"store: {out_dir}  ({len(result.inputs)} inputs, {records} records)")
    click.echo(f"custody head: {custody.head}")


def _utc(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO time such as 2011-07-06T01:12Z"
        ) from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


@main.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--from", "start", help="Events at or after this UTC time (ISO 8601).")
@click.option("--to", "end", help="Events before this UTC time (ISO 8601).")
@click.option("--host", help="Only events whose host contains this (case-insensitive).")
@click.option("--account", help="Only events whose account contains this (case-insensitive).")
@click.option(
    "--table",
    "tables",
    multiple=True,
    type=click.Choice(TIMELINE_TABLES),
    help="Only these tables (repeatable).",
)
@click.option("--grep", help="Only events whose summary matches this regular expression.")
@click.option(
    "--limit",
    type=int,
    default=200,
    show_default=True,
    help="At most this many rows; 0 for all (streamed page by page).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "jsonl"]),
    default="table",
    show_default=True,
    help="table for reading, csv for a spreadsheet, jsonl for tools.",
)
def timeline(
    out: Path,
    start: str | None,
    end: str | None,
    host: str | None,
    account: str | None,
    tables: tuple[str, ...],
    grep: str | None,
    limit: int,
    fmt: str,
) -> None:
    """Print the events of an output folder in time order (times in UTC).

    Every row ends with the evidence id and record it comes from. CSV cells that a
    spreadsheet would run as a formula are prefixed with ', and control characters in
    evidence never reach your terminal.

    \b
    Examples:
      breachscope timeline out/ --limit 20
      breachscope timeline out/ --from 2011-07-06T00:00Z --to 2011-07-07 --table logons
      breachscope timeline out/ --account tyamada --format csv --limit 0 > tyamada.csv
    """
    from breachscope.timeline import TimelineFilter, print_timeline

    flt = TimelineFilter(
        start=_utc(start),
        end=_utc(end),
        host=host,
        account=account,
        tables=tables,
        grep=grep,
        limit=limit or None,
    )
    print_timeline(out, flt, fmt)


@main.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--case",
    "case_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Case folder holding the evidence (default: the one recorded in OUT).",
)
def verify(out: Path, case_dir: Path | None) -> None:
    """Check OUT's chain of custody, its head in findings.json, and every evidence hash.

    \b
    Example:
      breachscope verify out/ --case cases/ws-0423/
    """
    from breachscope.verify import verify_output

    problems = verify_output(out, case_dir)
    if problems:
        for problem in problems:
            click.echo(f"FAIL {strip_controls(problem)}", err=True)
        sys.exit(1)
    click.echo("custody chain intact; findings.json head matches; evidence unchanged")


@main.group()
def vulndata() -> None:
    """Vulnerability data (NVD CVE records, CISA KEV) used when case.yaml names none."""


@vulndata.command("fetch")
@click.option("--nvd-url", default=None, help="NVD CVE API 2.0 URL (default: KEV-listed CVEs).")
@click.option("--kev-url", default=None, help="CISA KEV catalogue JSON URL.")
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to keep the feeds (default: $BREACHSCOPE_CACHE/vulndata or ~/.cache).",
)
def vulndata_fetch(nvd_url: str | None, kev_url: str | None, cache_dir: Path | None) -> None:
    """Download the NVD and KEV feeds and cache them for later investigations.

    \b
    Example:
      breachscope vulndata fetch
      breachscope vulndata fetch --nvd-url http://mirror.local/nvd.json --kev-url http://mirror.local/kev.json
    """
    from breachscope import vulndata as feeds

    try:
        written = feeds.fetch(
            nvd_url or feeds.DEFAULT_NVD_URL, kev_url or feeds.DEFAULT_KEV_URL, cache_dir
        )
    except feeds.VulnDataError as error:
        _fail(error)
        return
    for path in written:
        click.echo(f"cached {path}")


@main.command()
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/demo"),
    show_default=True,
    help="Folder for the generated case (OUT/case) and the findings (OUT/out).",
)
@click.option("--seed", type=int, default=2011, show_default=True, help="Generator seed.")
@click.option(
    "--scale",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Multiply the ordinary volume (messages, browsing, logons).",
)
@click.option("--with-known", is_flag=True, help="Give the manifest a `known` section.")
@click.option("--progress/--no-progress", default=True, help="Progress bar on a terminal.")
def demo(out: Path, seed: int, scale: int, with_known: bool, progress: bool) -> None:
    """Generate a realistic infected-workstation case and investigate it, end to end.

    The case follows the 2011 space-agency incident with fictional names: a phishing
    e-mail with an RTF exploit, an unpatched Office, beacons through the proxy, logons to
    the directory and a partner's portal. Its planted answers are in OUT/case/truth.json.

    \b
    Example:
      breachscope demo
      breachscope demo -o /tmp/demo --scale 10
    """
    from breachscope.demo_run import run_demo, summary

    try:
        with _progress(progress) as report:
            result = run_demo(out, seed, scale, with_known, progress=report)
    except INPUT_ERRORS as error:
        _fail(error)
        return
    findings = result.investigation.findings or {}
    click.echo(f"case:         {result.case_dir}")
    click.echo(f"findings:     {result.investigation.findings_path}")
    for line in summary(findings):
        click.echo(strip_controls(line))
    click.echo(f"custody head: {result.investigation.custody_head}")
