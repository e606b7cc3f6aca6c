"""`paperbell run` (the long-running service) and `paperbell status` (its facts for a terminal).

`run` hands over to the runtime's composition root (digest.runtime.app.run_service); `status`
reads the same snapshot /healthz serves: sources, pending outbox, scheduler leader, next runs.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum

import typer
from rich.console import Console
from rich.table import Table

from digest.cli.context import get_settings, open_app, print_json


class Role(StrEnum):
    ALL = "all"
    SCHEDULER = "scheduler"
    WORKER = "worker"
    WEB = "web"
    BOT = "bot"
    INBOUND = "inbound"


def run(
    role: list[Role] = typer.Option(
        [Role.ALL], "--role", help="What this process does (repeatable): scheduler, worker, web, bot, inbound or all "
        "(all = the first four; inbound is started only when named)."
    ),
) -> None:
    """Run the service: scheduler (one leader per database), senders, web app and Discord bot."""
    from digest.runtime.app import ROLES, run_service

    settings = get_settings()
    roles = set(ROLES) if Role.ALL in role else {r.value for r in role if r is not Role.ALL}
    if Role.INBOUND in role:
        roles.add(Role.INBOUND.value)
    code = asyncio.run(run_service(settings, roles))
    raise typer.Exit(code)


def status(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables.")) -> None:
    """Sources, pending outbox, scheduler leader and next runs (exit 1 when unhealthy)."""
    from digest.runtime.state import snapshot

    with open_app() as ctx:
        snap = snapshot(ctx.db, ctx.settings.leader_retry_seconds)
    if as_json:
        print_json({"status": "ok" if snap.healthy else "unhealthy", **snap.facts})
        raise typer.Exit(0 if snap.healthy else 1)
    console = Console()
    facts = snap.facts
    console.print(f"status: {'ok' if snap.healthy else 'UNHEALTHY'}   database: {facts['database']}")
    scheduler = facts.get("scheduler", {})
    console.print(
        f"scheduler: {'alive' if scheduler.get('alive') else 'not running'}"
        f" (leader pid {scheduler.get('leader_pid')}, heartbeat {scheduler.get('heartbeat_age_seconds')}s ago)"
    )
    sources = Table("source", "last run", "status", "error", title="sources")
    for row in facts.get("sources", []):
        sources.add_row(row["source"], str(row["last_run_at"]), str(row["status"]), str(row["error"] or ""))
    console.print(sources)
    box = facts.get("outbox", {})
    console.print(f"outbox pending: {box.get('pending')}  oldest: {box.get('oldest_pending_seconds')}s"
                  f"  by status: {box.get('by_status')}")
    runs = Table("job", "next run (UTC)", title="next runs")
    for job, when in scheduler.get("next_runs", {}).items():
        runs.add_row(job, str(when))
    console.print(runs)
    raise typer.Exit(0 if snap.healthy else 1)


def register(app: typer.Typer) -> None:
    """Add `run` and `status` to the main app."""
    app.command("run")(run)
    app.command("status")(status)
