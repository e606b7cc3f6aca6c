"""`paperbell demo`: run the whole cycle once on the embedded default and print what happened."""

from __future__ import annotations

import asyncio

import typer

from digest.cli.context import console as make_console
from digest.cli.context import open_app


def demo() -> None:
    """Ingest the bundled sample papers, match sample subscriptions, deliver to the outbox."""
    from rich.table import Table

    from digest.demo import run_demo  # imported late: it pulls in every stage of the cycle

    with open_app(migrate=True) as app:
        report = asyncio.run(run_demo(app.settings, app.db))
    console = make_console()
    table = Table(title="paperbell demo")
    for column in ("subscriber", "subscription", "new matches", "output"):
        table.add_column(column)
    for row in report.rows:
        table.add_row(row.subscriber, row.subscription, str(row.matched), row.output)
    console.print(table)
    console.print(
        f"sources: {len(report.ingest)}; new papers: {report.new_papers}; "
        f"new deliveries: {report.new_deliveries}; papers delivered now: {report.delivered}; "
        f"database: {app.settings.resolved_database_url()}"
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
