"""The composition root of `paperbell run`: Settings → Database → services → scheduler/senders/web/bot.

`run_service(settings, roles)` is the one async entry point (called by `digest.cli.run_cmd`):
it builds every long-lived object once, injects them, runs the requested roles side by side in
one event loop, and on SIGTERM/SIGINT shuts down in order: stop scheduling, let senders finish
or release their in-flight sends, stop the bot and the web server, and return 0.
Roles: scheduler (leader-elected APScheduler), worker (senders), web (HTTP), bot (Discord gateway),
and, only when asked for, inbound (SMTP/LMTP server for bounces, complaints and mailto: unsubscribes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

import uvicorn

from digest.runtime import jobs
from digest.runtime.channels import chat_listeners, discord_poster, log_bot_state
from digest.runtime.leader import LeaderLock
from digest.runtime.logging import setup_logging
from digest.runtime.metrics import Metrics
from digest.runtime.parts import Parts, build_parts
from digest.runtime.state import clear_role_beat, mark_scheduler_stopped, write_heartbeat, write_role_beat
from digest.settings import Settings
from storage.db import Database

if TYPE_CHECKING:  # each role's modules are loaded when that role starts (after the web role listens)
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from digest.runtime.senders import Senders

log = logging.getLogger("paperbell.runtime")
ROLES = ("scheduler", "worker", "web", "bot")
# what the worker role loads to deliver, imported in a thread so /healthz is answered meanwhile
WORKER_MODULES = ("digest.runtime.senders", "digest.email.channel", "digest.discord.channel",
                  "digest.discord.delivery")


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the runtime owns SIGTERM/SIGINT and stops it in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Runtime:
    settings: Settings
    db: Database
    metrics: Metrics
    roles: frozenset[str]
    stop: asyncio.Event
    parts: Parts
    senders: Senders | None = None
    scheduler: AsyncIOScheduler | None = None
    web: uvicorn.Server | None = None
    web_port: int | None = None
    bot: Any = None
    inbound: Any = None  # digest.email.inbound.server.InboundServer when the inbound role runs
    job_context: jobs.JobContext | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    web_listening: asyncio.Event = field(default_factory=asyncio.Event)  # set once bound (or failed to)


async def _lead(rt: Runtime) -> None:
    """Hold (or keep trying for) the leader lock; run the scheduler exactly while holding it."""
    from digest.runtime.scheduler import build_scheduler, sync_jobs

    lock = LeaderLock(rt.db)
    try:
        while not rt.stop.is_set():
            try:
                if rt.scheduler is None:
                    if await rt.db.run(lock.try_acquire):
                        scheduler = build_scheduler(rt.db)
                        scheduler.start(paused=True)
                        outcome = sync_jobs(scheduler, rt.settings)
                        scheduler.resume()  # missed runs (downtime) fire now, once each (coalesced)
                        rt.scheduler = scheduler
                        log.info("scheduler: this process is the leader; jobs %s", outcome)
                elif not await rt.db.run(lock.still_held):
                    rt.scheduler.shutdown(wait=False)
                    rt.scheduler = None
                    log.warning("scheduler: leadership lost, scheduler stopped")
                if rt.scheduler is not None:
                    await rt.db.run(write_heartbeat, rt.db)
            except Exception:
                log.exception("scheduler: leader election step failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rt.stop.wait(), timeout=rt.settings.leader_retry_seconds)
    finally:
        if rt.scheduler is not None:
            rt.scheduler.pause()  # no new job starts
            await asyncio.sleep(0)  # jobs submitted this instant start and register, so they are cancelled below
            if rt.job_context is not None:
                # in-flight fetches and retry waits are cancelled at once (every job is transactional)
                await rt.job_context.cancel_running(rt.settings.shutdown_timeout_seconds)
            rt.scheduler.shutdown(wait=False)
            rt.scheduler = None
            with contextlib.suppress(Exception):  # the database may be the reason we stop
                await rt.db.run(mark_scheduler_stopped, rt.db)
        await rt.db.run(lock.release)


async def _beat_roles(rt: Runtime) -> None:
    """Every process says which roles it runs, on the leader's beat, so `paperbell status` finds them all."""
    try:
        while not rt.stop.is_set():
            try:
                await rt.db.run(write_role_beat, rt.db, rt.roles)
            except Exception as exc:  # the database is away: the next beat tries again
                log.warning("role heartbeat not written: %s", str(exc).splitlines()[0][:200] if str(exc) else exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rt.stop.wait(), timeout=rt.settings.leader_retry_seconds)
    finally:
        with contextlib.suppress(Exception):
            await rt.db.run(clear_role_beat, rt.db)


async def _serve_web(rt: Runtime) -> None:
    from digest.runtime.address_check import warn_about_public_url
    from digest.runtime.ops_routes import ops_routes
    from digest.runtime.web_app import web_app
    from digest.web.limits import server_config  # header/keep-alive timeouts, connection cap

    try:
        app = web_app(rt.settings, rt.db, extra_routes=ops_routes(rt.settings, rt.db, rt.metrics))
        server = _QuietServer(server_config(app, rt.settings))
        rt.web = server
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)  # poll uvicorn's start flag (it offers no event)
        if server.started and server.servers:
            rt.web_port = server.servers[0].sockets[0].getsockname()[1]
            log.info("web: listening on http://%s:%s", rt.settings.web_host, rt.web_port)
            warn_about_public_url(rt.settings, rt.web_port)
    finally:
        rt.web_listening.set()  # listening, or failed to: the other roles start either way
    await serving


async def _import_off_loop(*modules: str) -> None:
    """Import `modules` in a worker thread: the event loop keeps answering requests while they load."""
    await asyncio.to_thread(lambda: [import_module(name) for name in modules])


async def _serve_inbound(rt: Runtime) -> None:
    from digest.email.inbound.server import InboundServer  # needs the `inbound` extra (aiosmtpd, flufl.bounce)

    rt.inbound = await InboundServer(rt.settings, rt.db).start()
    await rt.stop.wait()


async def _run_bot(rt: Runtime) -> None:
    assert rt.settings.discord_token is not None
    await rt.bot.start(rt.settings.discord_token.get_secret_value())


async def run_service(settings: Settings, roles: frozenset[str] | set[str] = frozenset(ROLES),
                      *, stop: asyncio.Event | None = None) -> int:
    """Run until SIGTERM/SIGINT (or `stop` is set); returns the exit code (0 on a clean shutdown)."""
    setup_logging(settings.log_level, json_lines=settings.log_json)
    parts = await asyncio.to_thread(build_parts, settings)  # the same builder the CLI uses
    db = parts.db
    rt = Runtime(settings, db, Metrics(db), frozenset(roles), stop or asyncio.Event(), parts=parts)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, rt.stop.set)
    log.info("paperbell run: roles=%s database=%s", ",".join(sorted(rt.roles)), db.engine.dialect.name)
    log_bot_state(settings, rt.roles)
    try:
        if "web" in rt.roles:  # first: /healthz answers while the other roles load what they need
            rt.tasks.append(asyncio.create_task(_serve_web(rt), name="web"))
            await rt.web_listening.wait()
        if "bot" in rt.roles and settings.discord_token is not None:
            await _import_off_loop("bot.client")
            from bot.client import create_bot

            rt.bot = create_bot(settings, db)
            rt.tasks.append(asyncio.create_task(_run_bot(rt), name="bot"))
        if "bot" in rt.roles:  # the chat bots' commands (their listeners) when their settings are set
            for name, listen in chat_listeners(settings, db):
                rt.tasks.append(asyncio.create_task(listen(rt.stop), name=name))
        if "worker" in rt.roles:
            await _import_off_loop(*WORKER_MODULES)
            rt.senders = parts.senders(rt.metrics, discord_poster=discord_poster(settings, db, rt.bot)[0])
            rt.tasks.append(rt.senders.start())
        wake = rt.senders.wake if rt.senders else _noop
        rt.job_context = jobs.JobContext(settings, db, rt.metrics, http=parts.http, wake_senders=wake)
        jobs.install(rt.job_context)
        if "scheduler" in rt.roles:
            rt.tasks.append(asyncio.create_task(_lead(rt), name="leader"))
        if "inbound" in rt.roles:
            rt.tasks.append(asyncio.create_task(_serve_inbound(rt), name="inbound"))
        beating = asyncio.create_task(_beat_roles(rt), name="role-heartbeat")  # not a role: its end stops nothing
        stopper = asyncio.create_task(rt.stop.wait())
        # a role that dies on its own (e.g. the port is taken) stops the process instead of limping on
        done, _ = await asyncio.wait({stopper, *rt.tasks}, return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in done if t is not stopper and not t.cancelled() and t.exception() is not None]
        for task in failed:
            log.error("role %s failed: %s", task.get_name(), task.exception())
        rt.stop.set()
        await _shutdown(rt)
        await beating
        return 1 if failed else 0
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        jobs.install(None)
        await parts.aclose()


def _noop() -> None:
    return None


async def _shutdown(rt: Runtime) -> None:
    """Stop in order: scheduling, then sending (finish or release), then bot and web."""
    log.info("shutting down: no new work is taken")
    if rt.senders is not None:
        await rt.senders.stop()
    if rt.bot is not None:
        with contextlib.suppress(Exception):
            await rt.bot.close()
    if rt.web is not None:
        rt.web.should_exit = True
    if rt.inbound is not None:
        await rt.inbound.stop()
    pending = [t for t in rt.tasks if not t.done()]
    if pending:
        _, still = await asyncio.wait(pending, timeout=rt.settings.shutdown_timeout_seconds)
        for task in still:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    log.info("stopped cleanly")
