"""Operational routes of the web app: /healthz (JSON, 503 when unhealthy) and /metrics (Prometheus).

Built by `digest.runtime.app` and passed to `digest.web.app.create_app(extra_routes=...)`.
Healthy = the database answers and a scheduler leader has beaten its heartbeat recently
(anywhere in the cluster); each source's last run and status, the outbox and next runs are shown.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from digest.runtime.metrics import CONTENT_TYPE, Metrics
from digest.runtime.state import snapshot
from digest.settings import Settings
from storage.db import Database

HEALTH_TIMEOUT = 10.0  # a hung database must still produce an answer (503), not a hung probe


def ops_routes(settings: Settings, db: Database, metrics: Metrics) -> list[Route]:
    async def healthz(request: Request) -> Response:
        try:
            snap = await asyncio.wait_for(
                asyncio.to_thread(snapshot, db, settings.leader_retry_seconds), timeout=HEALTH_TIMEOUT
            )
        except Exception as exc:
            return JSONResponse({"status": "unhealthy", "error": str(exc)[:200]}, status_code=503)
        body = {"status": "ok" if snap.healthy else "unhealthy", **snap.facts}
        return JSONResponse(body, status_code=200 if snap.healthy else 503)

    async def metrics_view(request: Request) -> Response:
        payload = await asyncio.to_thread(metrics.render)
        return Response(payload, media_type=CONTENT_TYPE)

    return [Route("/healthz", healthz, methods=["GET"]), Route("/metrics", metrics_view, methods=["GET"])]
