"""`paperbell run` (the long-running service) and `paperbell status` (its facts for a terminal).

`run` hands over to the runtime's composition root (digest.runtime.app.run_service); `status`
reads the same snapshot /healthz serves: sources, pending outbox, scheduler leader, next runs.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from digest.cli.context import AppContext, get_settings, open_app, print_json


class Role(StrEnum):
    ALL = "all"
    SCHEDULER = "scheduler"
    WORKER = "worker"
    WEB = "web"
    BOT = "bot"


def run(
    role: list[Role] = typer.Option(
        [Role.ALL], "--role", help="What this process does (repeatable): scheduler, worker, web, bot or all."
    ),
    once: bool = typer.Option(
        False, "--once", help="Run one cycle (ingest every source, match, deliver what is due) and exit: for cron."
    ),
    as_json: bool = typer.Option(False, "--json", help="With --once: print the cycle report as JSON."),
) -> None:
    """Run the service: scheduler (one leader per database), senders, web app and Discord bot."""
    if once:
        _run_once(as_json)
    from digest.runtime.app import ROLES, run_service

    settings = get_settings()
    roles = set(ROLES) if Role.ALL in role else {r.value for r in role}
    code = asyncio.run(run_service(settings, roles))
    raise typer.Exit(code)


def _run_once(as_json: bool) -> None:
    from digest.runtime.logging import setup_logging
    from digest.runtime.once import run_cycle

    with open_app() as app:
        setup_logging(app.settings.log_level, json_lines=app.settings.log_json)
        report = asyncio.run(_cycle(app, run_cycle))
    if as_json:
        print_json(report.to_dict())
    else:
        for line in once_summary(report):
            typer.echo(line)
    raise typer.Exit(0 if report.ok else 1)


async def _cycle(app: AppContext, run_cycle: Any) -> Any:
    try:
        return await run_cycle(app)
    finally:
        await app.http.aclose()


def once_summary(report: Any) -> list[str]:
    """The cycle in a few plain lines: per source, matching, delivery, then what failed and why."""
    lines = []
    for r in report.ingest:
        detail = f"{r.new} new, {r.updated} updated" if r.status != "error" else r.error
        lines.append(f"source {r.source}: {r.status} ({detail})")
    lines.append(f"match: {report.matched_papers} papers checked, {report.new_deliveries} new matches")
    email = ", ".join(f"{n} {status}" for status, n in sorted(report.email.items())) or "nothing due"
    lines.append(f"email digests: {email}; Discord messages: {report.discord_messages}")
    lines += [f"note: {note}" for note in report.notes]
    if report.ok:
        lines.append("cycle ok")
    else:
        lines += [f"FAILED {reason}" for reason in report.failures]
    return lines


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
