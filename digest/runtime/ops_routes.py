"""Operational routes of the web app: /healthz (liveness), /ops/status (operator details), /metrics.

Built by `digest.runtime.app` and passed to `digest.web.app.create_app(extra_routes=...)`.
Healthy = the database answers and a scheduler leader has beaten its heartbeat recently (anywhere in
the cluster). /healthz sits on the public port, so it says only that: status and two booleans, never
an error text, a subscriber or an address. The details (sources, outbox, next runs, paused
subscribers with reasons) are at /ops/status for an operator sending `Authorization: Bearer
<PAPERBELL_OPS_TOKEN>` (404 while no token is configured), and in `paperbell status`.
"""

from __future__ import annotations

import asyncio
import hmac

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
        except Exception:
            return JSONResponse({"status": "unhealthy", "database": {"ok": False}}, status_code=503)
        body = {
            "status": "ok" if snap.healthy else "unhealthy",
            "database": {"ok": bool(snap.facts["database"]["ok"])},
            "scheduler": {"alive": bool(snap.facts.get("scheduler", {}).get("alive"))},
        }
        return JSONResponse(body, status_code=200 if snap.healthy else 503)

    async def ops_status(request: Request) -> Response:
        refusal = operator_refusal(settings, request)
        if refusal is not None:
            return refusal
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

    return [Route("/healthz", healthz, methods=["GET"]), Route("/ops/status", ops_status, methods=["GET"]),
            Route("/metrics", metrics_view, methods=["GET"])]


def operator_refusal(settings: Settings, request: Request) -> Response | None:
    """None when the request carries the operator token; else 404 (no token configured) or 401."""
    if settings.ops_token is None:
        return JSONResponse({"error": "the operator endpoint is off: set PAPERBELL_OPS_TOKEN to enable it "
                                      "(or run `paperbell status`)"}, status_code=404)
    given = request.headers.get("authorization", "")
    expected = f"Bearer {settings.ops_token.get_secret_value()}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return JSONResponse({"error": "operator token required: Authorization: Bearer <PAPERBELL_OPS_TOKEN>"},
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return None
