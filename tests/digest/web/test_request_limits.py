"""What a hostile client can make the server hold, over real sockets on 127.0.0.1 against the real server config.

Chunked bodies past the limit (forms, the vote endpoint, the bounce webhook) are answered 413 without
being read to the end; deeply nested JSON is a 400, not a 500; connections that never finish their
headers are closed after the header timeout, and connections past the cap at once, so the server
keeps answering. Loops are bounded in count and time.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from digest.core.bounded import json_too_deep
from digest.runtime.web_app import web_app
from digest.settings import Settings
from digest.web.limits import server_config
from storage.db import Database

ORIGIN = {"Origin": "http://paperbell.test"}
SECRET = "hook-secret-0123456789"


@pytest.fixture
async def server(settings: Settings, db: Database) -> AsyncIterator[tuple[str, int]]:
    configured = settings.model_copy(update={
        "web_host": "127.0.0.1", "web_port": 0, "web_header_timeout_seconds": 1.0, "web_max_connections": 40,
        "webhook_secret": SecretStr(SECRET),
    })
    served = uvicorn.Server(server_config(web_app(configured, db), configured))
    task = asyncio.create_task(served.serve())
    async with asyncio.timeout(10):
        while not served.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    yield "127.0.0.1", served.servers[0].sockets[0].getsockname()[1]
    served.should_exit = True
    await task


async def _chunked(host: str, port: int, path: str, headers: dict[str, str], chunk: bytes, total: int) -> tuple[
        bytes, int]:
    """POST a chunked body of up to `total` bytes; returns (the response head, bytes sent before it came)."""
    reader, writer = await asyncio.open_connection(host, port)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(f"POST {path} HTTP/1.1\r\nHost: paperbell.test\r\nTransfer-Encoding: chunked\r\n{head}\r\n".encode())
    sent = 0
    try:
        while sent < total:
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
            sent += len(chunk)
            try:
                answer = await asyncio.wait_for(reader.read(200), timeout=0.001)
                if answer:
                    return answer, sent
            except TimeoutError:
                continue
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    answer = await asyncio.wait_for(reader.read(200), timeout=10)
    writer.close()
    return answer, sent


@pytest.mark.parametrize(("path", "headers", "codes"), [
    ("/subscribe", {**ORIGIN, "Content-Type": "application/x-www-form-urlencoded"}, (413,)),
    ("/reader/vote", {**ORIGIN, "Content-Type": "application/x-www-form-urlencoded"}, (403, 413)),
    ("/webhooks/bounce", {"Authorization": "Basic " + base64.b64encode(f"x:{SECRET}".encode()).decode(),
                          "Content-Type": "application/json"}, (413,)),
])
async def test_chunked_bodies_past_the_limit_are_cut_short(server: tuple[str, int], path: str,
                                                           headers: dict[str, str], codes: tuple[int, ...]) -> None:
    started = time.monotonic()
    answer, sent = await _chunked(*server, path, headers, b"&" * 8192, 50_000_000)
    status = int(answer.split(b" ", 2)[1])
    assert status in codes, answer
    assert sent < 5_000_000  # answered long before the 50 MB were sent
    assert time.monotonic() - started < 10


async def test_deep_json_in_the_bounce_webhook_is_a_400(server: tuple[str, int]) -> None:
    host, port = server
    auth = ("x", SECRET)
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", auth=auth) as client:
        deep = await client.post("/webhooks/bounce", content=b"[" * 100_000 + b"]" * 100_000)
        nested = await client.post("/webhooks/bounce", content=b'{"a":' * 100 + b"1" + b"}" * 100)
    assert deep.status_code == 400 and "deeper than" in deep.text  # 100k levels: refused before parsing
    assert nested.status_code == 400 and "deeper than" in nested.text


def test_json_depth_scan_ignores_brackets_inside_strings() -> None:
    assert not json_too_deep(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 64)
    assert json_too_deep(b"[" * 65 + b"]" * 65, 64)
    assert not json_too_deep(b'{"a\\"[": [[1]]}', 3)


async def test_slow_headers_are_dropped_and_the_server_keeps_answering(server: tuple[str, int]) -> None:
    host, port = server
    attackers = []
    for _ in range(60):  # past the cap of 40: the extra ones are closed at once
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET / HTTP/1.1\r\nHost: paperbell.test\r\nX-Slow: ")  # never finished
        attackers.append((reader, writer))
    started = time.monotonic()
    closed = await asyncio.gather(*(asyncio.wait_for(r.read(), timeout=10) for r, _ in attackers))
    assert all(data == b"" for data in closed)  # every one closed by the server, none answered
    assert time.monotonic() - started < 5  # the 1 s header timeout, not never
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
        assert (await client.get("/subscribe")).status_code == 200
    for _, writer in attackers:
        writer.close()
