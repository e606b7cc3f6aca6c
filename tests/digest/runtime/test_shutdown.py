"""Shutdown and shared HTTP clients: `paperbell run` stops within 5 s of SIGTERM whatever its sources are doing,
and the arXiv spacing holds across two jobs running at the same time (one client per host, built once)."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from digest.runtime import jobs
from digest.runtime.metrics import Metrics
from digest.runtime.parts import build_parts
from digest.settings import Settings
from storage.db import Database
from tests.digest.runtime.procs import Service, service_env, wait_for
from tests.digest.sources.http_server import FixtureServer, Reply

RSS_EMPTY = b'<?xml version="1.0"?><rss version="2.0"><channel><title>cs</title></channel></rss>'


@pytest.mark.parametrize(
    "paths",
    [("/hang",), ("/busy",), ("/hang", "/busy")],
    ids=["source-hangs", "source-retrying-503", "both"],
)
def test_sigterm_exits_zero_within_5s_without_traceback(database_url: str, tmp_path: Path,
                                                         paths: tuple[str, ...]) -> None:
    with FixtureServer() as server:
        server.route("/hang", Reply(delay=120, body=RSS_EMPTY))  # headers never come (until the test ends)
        server.route("/busy", Reply(status=503, body=b"busy", content_type="text/plain"))
        # two hosts (127.0.0.1 and localhost): one client per host takes one request at a time
        sources = ",".join(f"feed:{server.url(p)}".replace("127.0.0.1", "localhost") if p == "/busy"
                           else f"feed:{server.url(p)}" for p in paths)
        env = service_env(
            database_url, tmp_path / "data", PAPERBELL_SOURCES=sources, PAPERBELL_HTTP_TIMEOUT="300",
            PAPERBELL_HTTP_MAX_RETRIES="50", PAPERBELL_HTTP_BACKOFF_BASE="0.5", PAPERBELL_SHUTDOWN_TIMEOUT_SECONDS="20",
        )
        svc = Service.start(env, tmp_path / "run.log", "scheduler", "worker")
        try:
            for path in paths:  # every source is mid-fetch: hanging, or waiting out a backoff after 503s
                wait_for(lambda path=path: (svc.assert_running(), len(server.hits(path)) >= (2 if path == "/busy"
                                                                                          else 1))[1],
                         60, f"requests to {path}")
            started = time.monotonic()
            code = svc.terminate(timeout=30)
            elapsed = time.monotonic() - started
        finally:
            svc.stop_quietly()
    log = svc.text()
    assert code == 0, log[-2000:]
    assert elapsed < 5, f"took {elapsed:.1f} s to stop"
    assert "Traceback" not in log and "CancelledError" not in log, log[-3000:]
    assert "status=cancelled reason=shutdown" in log and "stopped cleanly" in log


async def test_arxiv_spacing_holds_across_two_concurrent_jobs(settings: Settings, db: Database) -> None:
    """Two arXiv ingest jobs started at the same instant share the arXiv client: request starts stay spaced."""
    with FixtureServer() as server:
        for categories in ("cs.LG", "cs.CL+math.CO", "math.CO"):
            server.route(f"/rss/{categories}", Reply(body=RSS_EMPTY))
        interval = 0.4
        spaced = settings.model_copy(update={"arxiv_rss_url": server.url("/rss"), "arxiv_min_interval": interval})
        parts = build_parts(spaced, migrate=False)
        context = jobs.JobContext(spaced, parts.db, Metrics(parts.db), http=parts.http)
        jobs.install(context)
        try:
            await asyncio.gather(jobs.ingest_job("arxiv:cs.LG"), jobs.ingest_job("arxiv:cs.CL+math.CO"),
                                 jobs.ingest_job("arxiv:math.CO"))
        finally:
            jobs.install(None)
            await parts.aclose()
        starts = sorted(seen.at for seen in server.requests)
    assert len(starts) == 3
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= interval * 0.75, gaps  # server-side arrival times: thread scheduling jitter
    assert {status for _, status in context.last_runs.values()} == {"empty"}
