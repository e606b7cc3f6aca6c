"""Fault case: request bodies a hostile client streams (chunked) at the web app, and 100k-deep JSON.

Run: `python bench/faults/http_bodies.py --paperbell /work/wt/faults-old/.venv/bin/paperbell`.
Starts `paperbell run --role web` on a free port (fresh SQLite data dir, or `--database-url`), then over
raw sockets on 127.0.0.1:
  subscribe_chunked   POST /subscribe, Transfer-Encoding: chunked, up to `--form-mb` (20) MB of `&`
  vote_chunked        POST /reader/vote (no reader cookie), the same body
  webhook_chunked     POST /webhooks/bounce with the right secret, up to `--hook-mb` (50) MB of `[`
  webhook_deep_json   POST /webhooks/bounce, 100,000 `[` then 100,000 `]` (Content-Length)
For each: the status, the bytes the client got into the socket before the answer came (an upper bound
of what the server accepted: 2-3 MB of kernel socket buffers on 127.0.0.1 are included), the seconds,
and the CPU seconds the server process spent on it (from /proc/<pid>/stat). Prints ONE JSON line.
"""

from __future__ import annotations

import base64
import select
import socket
import time
from pathlib import Path
from typing import Any

from common import Service, base_env, emit, fresh_dir, parser

SECRET = "hook-secret-0123456789"


def _status(head: bytes) -> int:
    try:
        return int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def chunked_post(port: int, path: str, headers: dict[str, str], chunk: bytes, total: int,
                 timeout: float = 120.0) -> dict[str, Any]:
    """Stream a chunked body until the server answers, closes, or `total` bytes are sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = "".join(f"{key}: {value}\r\n" for key, value in headers.items())
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n{head}\r\n".encode())
    sent, answer, started = 0, b"", time.monotonic()
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    try:
        while sent < total and not answer:
            sock.sendall(frame)
            sent += len(chunk)
            if select.select([sock], [], [], 0)[0]:
                answer = sock.recv(300) or b"(closed)"
        if not answer:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    if not answer:
        try:
            answer = sock.recv(300)
        except OSError:
            answer = b""
    sock.close()
    return {"status": _status(answer), "bytes_sent_mb": round(sent / 1e6, 2),
            "seconds": round(time.monotonic() - started, 2)}


def plain_post(port: int, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """POST `body` with a Content-Length; the status and the first bytes of the answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = "".join(f"{key}: {value}\r\n" for key, value in headers.items())
    started = time.monotonic()
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n{head}"
                 f"Connection: close\r\n\r\n".encode() + body)
    answer = b""
    while chunk := sock.recv(4096):
        answer += chunk
    sock.close()
    return {"status": _status(answer), "body": answer.split(b"\r\n\r\n", 1)[-1][:120].decode("utf-8", "replace"),
            "seconds": round(time.monotonic() - started, 2)}


def main() -> None:
    args = parser(__doc__)
    args.add_argument("--form-mb", type=float, default=20)
    args.add_argument("--hook-mb", type=float, default=50)
    opts = args.parse_args()
    work = fresh_dir("bodies")
    env = base_env(work / "data", opts.database_url, PAPERBELL_WEBHOOK_SECRET=SECRET)
    service = Service(opts.paperbell, env, ["web"], work / "web.log")
    origin = {"Origin": service.url}
    form = {**origin, "Content-Type": "application/x-www-form-urlencoded"}
    auth = {"Authorization": "Basic " + base64.b64encode(f"x:{SECRET}".encode()).decode(),
            "Content-Type": "application/json"}
    results: dict[str, Any] = {}
    with service:
        plan = [
            ("subscribe_chunked", "/subscribe", form, b"&" * 8192, int(opts.form_mb * 1e6)),
            ("vote_chunked", "/reader/vote", form, b"&" * 8192, int(opts.form_mb * 1e6)),
            ("webhook_chunked", "/webhooks/bounce", auth, b"[" * 8192, int(opts.hook_mb * 1e6)),
        ]
        for name, path, headers, chunk, total in plan:
            cpu = service.cpu_seconds()
            got = chunked_post(service.port, path, headers, chunk, total)
            time.sleep(0.5)  # let the server finish whatever it still does with the body before reading its CPU
            results[name] = {**got, "server_cpu_s": round(service.cpu_seconds() - cpu, 2)}
        cpu = service.cpu_seconds()
        deep = plain_post(service.port, "/webhooks/bounce", auth, b"[" * 100_000 + b"]" * 100_000)
        results["webhook_deep_json"] = {**deep, "server_cpu_s": round(service.cpu_seconds() - cpu, 2)}
    log = Path(service.log).read_text(errors="replace")
    results["log_tracebacks"] = log.count("Traceback")
    emit("http_bodies", opts.paperbell, results)


if __name__ == "__main__":
    main()
