"""`paperbell run` (the long-running service) and `paperbell status` (its facts for a terminal).

`run` hands over to the runtime's composition root (digest.runtime.app.run_service), `run --once` to
digest.runtime.once; `status` reads the same snapshot /healthz serves and says it in plain words
(digest.runtime.status_words), or as JSON with the same advice under `next_steps`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer

from digest.cli.context import fail, get_settings, open_app, print_json

if TYPE_CHECKING:
    from digest.cli.context import AppContext


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
    once: bool = typer.Option(
        False, "--once", help="Run one cycle (ingest every source, match, deliver what is due) and exit: for cron."
    ),
    as_json: bool = typer.Option(False, "--json", help="With --once: print the cycle report as JSON."),
) -> None:
    """Run the service: scheduler (one leader per database), senders, web app and Discord bot."""
    import asyncio

    if once:
        _run_once(as_json)
    from digest.runtime.app import ROLES, run_service

    settings = get_settings()
    roles = set(ROLES) if Role.ALL in role else {r.value for r in role if r is not Role.ALL}
    if Role.INBOUND in role:
        roles.add(Role.INBOUND.value)
    try:
        code = asyncio.run(run_service(settings, roles))
    except Exception as exc:  # a database or data directory that cannot be used: one line, not a traceback
        from digest.runtime.startup_problems import startup_problem

        problem = startup_problem(exc, settings)
        if problem is None:
            raise
        fail(problem)
    raise typer.Exit(code)


def _run_once(as_json: bool) -> None:
    import asyncio

    from digest.email.smtp_probe import probe
    from digest.runtime.logging import setup_logging
    from digest.runtime.once import run_cycle
    from digest.runtime.state import write_once_mark

    with open_app() as app:
        setup_logging(app.settings.log_level, json_lines=app.settings.log_json)
        # a mail server that cannot be used is the operator's setting: one line before anything runs,
        # not a failed digest (and a back-off) per subscriber
        problem = asyncio.run(probe(app.settings)) if app.settings.smtp_host else None
        if problem is not None:
            fail(problem)
        report = asyncio.run(_cycle(app, run_cycle))
        write_once_mark(app.db, report.ok)
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


def status(as_json: bool = typer.Option(False, "--json", help="Print JSON for machines instead of text.")) -> None:
    """What runs, what is due, what failed and why, what to do next (exit 1 when something needs attention)."""
    from digest.runtime.channels import CHAT
    from digest.runtime.state import snapshot
    from digest.runtime.status_words import advice, describe
    from storage.types import utcnow

    with open_app() as ctx:
        snap = snapshot(ctx.db, ctx.settings.leader_retry_seconds)
        configured = list(ctx.settings.sources)
        for kind, missing in CHAT.missing_settings(ctx.settings).items():
            if kind in snap.facts.get("chat", {}):
                snap.facts["chat"][kind]["missing_setting"] = missing
    if as_json:
        print_json({"status": "ok" if snap.healthy else "unhealthy", **snap.facts,
                    "configured_sources": configured, "next_steps": advice(snap.facts, configured)})
    else:
        for line in describe(snap.facts, configured, snap.healthy, utcnow()):
            typer.echo(line)
        mail = snap.facts.get("email", {})
        if mail.get("paused") or mail.get("backing_off"):
            typer.echo(f"Email: {mail.get('paused', 0)} subscriber(s) paused, {mail.get('backing_off', 0)} "
                       "backing off after failed sends.")
            for row in mail.get("paused_list", []):
                typer.echo(f"  paused #{row['id']} {row['address']}: {row['reason']}")
    raise typer.Exit(0 if snap.healthy else 1)


def register(app: typer.Typer) -> None:
    """Add `run` and `status` to the main app."""
    app.command("run")(run)
    app.command("status")(status)
