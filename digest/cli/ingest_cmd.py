"""`paperbell ingest SOURCE…` and `paperbell sources`: run ingestion by hand and show source status.

Thin: parses options, calls digest.services.ingest.ingest_sources, prints per-source counts
(a table, or JSON with --json). A backfill shows a rich progress bar on a terminal and plain
progress lines otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from digest.cli.context import open_app, parse_timestamp, print_json

if TYPE_CHECKING:  # imported when a command runs, not for `--help`
    from digest.cli.context import AppContext
    from digest.services.ingest import IngestReport
    from digest.sources.base import ProgressCallback


@contextmanager
def _progress(enabled: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on a terminal, plain 'source: n/total' lines on stderr otherwise."""
    if not enabled:
        yield None
        return
    if not sys.stderr.isatty():
        def plain(spec: str, done: int, total: int | None) -> None:
            typer.echo(f"{spec}: {done}/{total if total is not None else '?'}", err=True)

        yield plain
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    tasks: dict[str, TaskID] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        def update(spec: str, done: int, total: int | None) -> None:
            if spec not in tasks:
                tasks[spec] = bar.add_task(spec, total=total)
            bar.update(tasks[spec], completed=done, total=total)

        yield update


def _print_table(reports: list[IngestReport], dry_run: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="ingest (dry run: nothing stored)" if dry_run else "ingest")
    for column in ("source", "status", "fetched", "new", "updated", "skipped", "error"):
        table.add_column(column)
    for r in reports:
        skipped = str(r.skipped)
        if r.skipped_reasons:
            skipped += " (" + ", ".join(f"{k} {v}" for k, v in sorted(r.skipped_reasons.items())) + ")"
        table.add_row(r.source, r.status, str(r.fetched), str(r.new), str(r.updated), skipped, r.error or "")
    Console().print(table)


async def _ingest(app: AppContext, specs: list[str], since: Any, dry_run: bool, progress: Any) -> list[IngestReport]:
    from digest.services.ingest import ingest_sources

    try:
        return await ingest_sources(app.settings, app.db, specs, since=since, dry_run=dry_run, progress=progress,
                                    http=app.http)
    finally:
        await app.http.aclose()  # inside the loop that used the clients


def ingest(
    sources: list[str] = typer.Argument(None, help="Source specs; default: the configured PAPERBELL_SOURCES."),
    since: str | None = typer.Option(None, "--since", help="Backfill from this date (YYYY-MM-DD)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Fetch and count, store nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the reports as JSON."),
) -> None:
    """Fetch papers from sources and store them (one row per paper); print per-source counts."""
    import asyncio

    since_at = parse_timestamp(since, "--since")
    with open_app() as app:
        specs = sources or app.settings.sources
        with _progress(since_at is not None and not as_json) as progress:
            reports = asyncio.run(_ingest(app, specs, since_at, dry_run, progress))
    if as_json:
        print_json([r.to_dict() for r in reports])
    else:
        _print_table(reports, dry_run)
    if reports and all(r.status == "error" for r in reports):
        raise typer.Exit(1)


def list_sources(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List configured sources (and any others ingested before) with their last run's status."""
    from rich.console import Console
    from rich.table import Table
    from sqlmodel import select

    from storage.models import SourceState

    with open_app() as app:
        with app.db.session() as session:
            states = {s.source: s for s in session.exec(select(SourceState)).all()}
        specs = list(app.settings.sources) + sorted(set(states) - set(app.settings.sources))
    rows: list[dict[str, Any]] = []
    for spec in specs:
        state = states.get(spec)
        rows.append({
            "source": spec,
            "configured": spec in app.settings.sources,
            "last_run_at": state.last_run_at.isoformat() if state and state.last_run_at else None,
            "last_status": state.last_status if state else None,
            "last_error": state.last_error if state else None,
            "last_counts": state.last_counts if state else {},
            "watermark": state.watermark if state else None,
        })
    if as_json:
        print_json(rows)
        return
    table = Table(title="sources")
    for column in ("source", "configured", "last run", "status", "fetched", "new", "skipped", "error"):
        table.add_column(column)
    for row in rows:
        counts = row["last_counts"] or {}
        reasons = counts.get("skipped_reasons") or {}
        skipped = str(counts.get("skipped", "-"))
        if reasons:
            skipped += " (" + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) + ")"
        table.add_row(
            str(row["source"]), "yes" if row["configured"] else "no", str(row["last_run_at"] or "never"),
            str(row["last_status"] or "-"), str(counts.get("fetched", "-")), str(counts.get("new", "-")), skipped,
            str(row["last_error"] or ""),
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add `ingest` and `sources` to the main app."""
    app.command("ingest")(ingest)
    app.command("sources")(list_sources)
