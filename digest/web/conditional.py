"""ETag and Cache-Control on every successful GET, and `304 Not Modified` when the browser has it.

A pure ASGI middleware under Starlette's GZipMiddleware: the tag is a hash of the uncompressed body,
so a page or feed that did not change is answered with an empty 304 however it is encoded. Pages
that set their own `Cache-Control` (private pages: `no-store`) keep it and get no tag; public ones
are marked `public, max-age=60`, short enough that a new paper shows within a minute.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC_CACHE = "public, max-age=60"
_MAX_BODY = 8 << 20  # larger bodies are passed through untagged rather than held in memory


class ConditionalGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":  # HEAD carries no body to tag
            await self.app(scope, receive, send)
            return
        wanted = Headers(scope=scope).get("if-none-match")
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []
        size = 0
        passing = False

        async def capture(message: Message) -> None:
            nonlocal start, size, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                if message["status"] != 200 or "no-store" in headers.get("cache-control", "") or "etag" in headers:
                    passing = True
                    await send(message)
                    return
                start = dict(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > _MAX_BODY:
                passing = True
                assert start is not None
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
                return
            if not message.get("more_body", False):
                assert start is not None
                await _finish(start, b"".join(chunks), wanted, send)

        await self.app(scope, receive, capture)


async def _finish(start: dict[str, Any], body: bytes, wanted: str | None, send: Send) -> None:
    tag = f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    headers = MutableHeaders(raw=list(start["headers"]))
    headers["ETag"] = tag
    headers.setdefault("Cache-Control", PUBLIC_CACHE)
    if wanted and tag in [part.strip() for part in wanted.split(",")]:
        for name in ("content-length", "content-type"):
            if name in headers:
                del headers[name]
        await send({"type": "http.response.start", "status": 304, "headers": headers.raw})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({**start, "headers": headers.raw})
    await send({"type": "http.response.body", "body": body})
