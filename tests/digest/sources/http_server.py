"""A real HTTP server on 127.0.0.1 (ephemeral port) for ingestion tests: scripted responses per path.

`FixtureServer.route(path, *responses)` queues responses for a path; each request takes the next
one and the last one repeats. Every request is recorded (path, query, headers, monotonic time),
so tests can assert on User-Agent, conditional headers and pacing. A `Reply` can delay its body
(waits on an Event, released at shutdown, so no thread outlives the test) or cut it short.
Reusable by other test packages: `with FixtureServer() as server: server.url("/x")`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/xml"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the headers are sent (a slow server)
    declared_length: int | None = None  # a Content-Length different from the body (truncation)
    # answer 304 when the request's If-None-Match equals this ETag
    etag: str | None = None


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float


class FixtureServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                seen = Seen(parts.path, parse_qs(parts.query), dict(self.headers), time.monotonic())
                reply = server._next(parts.path, seen)
                if reply.delay:
                    server.release.wait(reply.delay)
                try:
                    if reply.etag and self.headers.get("If-None-Match") == reply.etag:
                        self.send_response(304)
                        self.send_header("ETag", reply.etag)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    length = reply.declared_length if reply.declared_length is not None else len(reply.body)
                    self.send_header("Content-Length", str(length))
                    if reply.etag:
                        self.send_header("ETag", reply.etag)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                    if reply.declared_length is not None:
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self.routes[path] = list(replies)

    def hits(self, path: str) -> list[Seen]:
        with self._lock:
            return [seen for seen in self.requests if seen.path == path]

    def _next(self, path: str, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            queue = self.routes.get(path)
            if not queue:
                return Reply(status=404, body=b"not found", content_type="text/plain")
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def __enter__(self) -> FixtureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
