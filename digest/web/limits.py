"""Limits on what a client can make the web server hold: body bytes, JSON depth, slow headers, connections.

- `BodyLimit`: an ASGI middleware counting request body bytes while they stream (chunked bodies too,
  whatever Content-Length says); past the route's limit the request is answered 413 and its handler
  sees no more body. Webhook routes get `WEBHOOK_MAX_BODY`, every other route `web_max_body_bytes`.
- `json_too_deep`: a linear scan that refuses deeply nested JSON before the parser recurses.
- `GuardedH11Protocol` + `server_config`: uvicorn with a header timeout (a connection that has not sent
  a complete request line and headers within `web_header_timeout_seconds`, on a new or a kept-alive
  connection, is closed: slowloris), the keep-alive timeout, and a connection cap (connections past
  `web_max_connections` are closed at once, so file descriptors never run out).
Used by digest.runtime.app (the server) and digest.web.app (the middleware).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from digest.core.bounded import WEBHOOK_MAX_BODY
from digest.settings import Settings

WEBHOOK_PREFIX = "/webhooks/"


class BodyTooLarge(Exception):
    """Raised inside the app when the body grows past the route's limit."""


class BodyLimit:
    """413 for a body over the route's limit, counted while streaming (never trusting Content-Length)."""

    def __init__(self, app: ASGIApp, *, default_max: int, webhook_max: int = WEBHOOK_MAX_BODY) -> None:
        self.app, self.default_max, self.webhook_max = app, default_max, webhook_max

    def limit_for(self, path: str) -> int:
        return self.webhook_max if path.startswith(WEBHOOK_PREFIX) else self.default_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> PlainTextResponse:
    return PlainTextResponse(f"Request body larger than {limit} bytes.", status_code=413,
                             headers={"Connection": "close"})


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout and a hard connection cap."""

    header_timeout = 10.0
    max_connections = 500

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.close()  # over the cap: the descriptor is freed at once
            return
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self.loop.call_later(self.header_timeout, self._drop_if_no_request, self.cycle)

    def _drop_if_no_request(self, cycle_then: Any) -> None:
        """No complete request since the timer was armed (same cycle, or none): close the connection."""
        if self.transport.is_closing():
            return
        if self.cycle is cycle_then and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()


def server_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """The uvicorn configuration `paperbell run` serves the web role with (documented for reverse proxies)."""

    class Protocol(GuardedH11Protocol):
        header_timeout = settings.web_header_timeout_seconds
        max_connections = settings.web_max_connections

    return uvicorn.Config(
        app, host=settings.web_host, port=settings.web_port, log_level="warning", lifespan="off", access_log=False,
        http=Protocol, timeout_keep_alive=int(settings.web_keep_alive_seconds),
        limit_concurrency=settings.web_max_connections, h11_max_incomplete_event_size=16_384,
        backlog=accept_backlog(settings.web_max_connections),
    )


def accept_backlog(max_connections: int) -> int:
    """The listen backlog: the kernel's queue of waiting connections, and how many asyncio accepts at once.

    asyncio accepts up to `backlog` connections in one go before the connection cap can close the
    extra ones, so `max_connections + backlog` descriptors may be open together. uvicorn's 2048 lets
    one burst of half-open connections pass a 1,024 limit ("Too many open files" in a loop); a
    quarter of what the cap leaves free keeps that sum under the limit, and at least 16 keeps short
    bursts of real visitors queued.
    """
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    free = (soft if soft != resource.RLIM_INFINITY else 65_536) - max_connections
    return max(16, min(1024, free // 4))
