"""`paperbell ledger prune`: delete the delivery ledger's closed rows that can no longer refuse anything.

Registered into the main Typer app by digest.cli.main. The rule (which rows, and why "a paper at most
once" still holds) lives in digest.services.ledger_prune; this module parses options and prints.
"""

from __future__ import annotations

from typing import Annotated

import typer

from digest.cli.context import fail, open_app, print_json
from digest.core.matchable import BACKFILL_MAX_DAYS, DEFAULT_RETENTION_DAYS, MATCHABLE_DAYS

ledger_app = typer.Typer(help="The delivery ledger: keep it bounded.", no_args_is_help=True)


@ledger_app.command("prune")
def prune(
    older_than_days: Annotated[int, typer.Option(
        "--older-than-days", help="Delete sent, failed and dropped rows of papers first seen this many days ago "
        f"or more (at least {MATCHABLE_DAYS}: backfill reaches {BACKFILL_MAX_DAYS} days back).",
    )] = DEFAULT_RETENTION_DAYS,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Delete closed ledger rows of old papers; pending rows and undelivered matches are kept."""
    from digest.services.errors import ServiceError
    from digest.services.ledger_prune import prune_ledger

    with open_app() as app:
        try:
            report = prune_ledger(app.db, retention_days=older_than_days, dry_run=dry_run)
        except ServiceError as exc:
            fail(str(exc))
    if as_json:
        print_json({"horizon": report.horizon.isoformat(), "deleted": report.deleted, "remaining": report.remaining,
                    "dry_run": report.dry_run})
        return
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"ledger: {verb} {report.deleted} closed rows of papers first seen before "
               f"{report.horizon:%Y-%m-%d}; {report.remaining} rows remain. Pending deliveries are never pruned.")


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")
