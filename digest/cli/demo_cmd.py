"""`paperbell demo`: run the whole cycle once on the embedded default and say what happened, in plain lines.

No table: whatever the terminal width, every path and command is printed whole on its own line,
and the output ends with where the results are and what to try next.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from digest.cli.context import open_app

if TYPE_CHECKING:
    from digest.runtime.demo import DemoReport, DemoRow

_KINDS = {"email": "email", "discord_channel": "Discord channel", "discord_user": "Discord user"}


def _who(row: DemoRow) -> str:
    kind, _, address = row.subscriber.partition(":")
    return f"{_KINDS.get(kind, kind)} {address}"


def command_name() -> str:
    """How to call paperbell again: `.venv/bin/paperbell` when that is how it was run and it is not on PATH."""
    invoked = sys.argv[0] if sys.argv else ""
    if Path(invoked).name == "paperbell" and os.sep in invoked and shutil.which("paperbell") is None:
        return invoked
    return "paperbell"


def summary_lines(report: DemoReport, database: str, outbox: str, command: str = "paperbell") -> list[str]:
    """The demo's report: counts, matches per subscriber and query, then paths and next commands, each whole."""
    lines = [
        "paperbell demo: one full cycle on the bundled sample (no network, no configuration)",
        f"sources: {len(report.ingest)}; new papers: {report.new_papers}; new deliveries: {report.new_deliveries}; "
        f"papers delivered now: {report.delivered}",
        "",
        "new matches per subscriber and saved query:",
    ]
    lines += [f"  {row.matched:>3}  {_who(row)}  {row.subscription}" for row in report.rows]
    lines += [
        "",
        "Email digests (.eml for a mail client, .html for a browser):",
        f"{outbox}/email",
        "Discord messages (.json, as the bot would post them):",
        f"{outbox}/discord",
        "Database:",
        database,
        "",
        "Next, try:",
        # the demo has just sent every digest, so a digest preview would be empty: start with the web front
        f"  {command} run    (then open http://127.0.0.1:8080: the day's papers; subscribe with only an e-mail)",
        f'  {command} match -q "diffusion OR ti:video" --days 30',
        f"  {command} status",
        f"  {command} run --once",
    ]
    return lines


def demo() -> None:
    """Ingest the bundled sample papers, match sample subscriptions, deliver to the outbox."""
    import asyncio

    from digest.runtime.demo import run_demo  # imported late: it pulls in every stage of the cycle

    with open_app(migrate=True) as app:
        report = asyncio.run(run_demo(app.settings, app.db))
    outbox = str(app.settings.resolved_outbox_dir())
    for line in summary_lines(report, app.settings.resolved_database_url(), outbox, command_name()):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
