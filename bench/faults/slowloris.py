"""Fault case: slowloris: connections that never finish their headers, then does /healthz still answer?

Run: `python bench/faults/slowloris.py --paperbell /work/wt/faults-old/.venv/bin/paperbell`.
Starts `paperbell run --role web` with `ulimit -n 1024` (RLIMIT_NOFILE, the usual default; fresh SQLite
data dir or `--database-url`), opens `--connections` (1100) connections to it that each send a request
line and half a header and then nothing, and asks GET /healthz (5 s timeout) right after, and again
after `--wait` (15) seconds; counts the attacking connections the server has closed by then. Prints ONE JSON
line.
"""

from __future__ import annotations

import resource
import socket
import sys
import time
from typing import Any

from common import Service, base_env, emit, fresh_dir, get, parser


def _healthz(url: str) -> Any:
    started = time.monotonic()
    try:
        status, _ = get(url + "/healthz", timeout=5)
        return {"status": status, "seconds": round(time.monotonic() - started, 2)}
    except OSError as exc:
        return {"status": None, "error": type(exc).__name__, "seconds": round(time.monotonic() - started, 2)}


def _closed(socks: list[socket.socket]) -> dict[str, int]:
    """What became of the attacking connections: still open, closed (EOF or reset), or answered (bytes waiting)."""
    seen = {"open": 0, "closed": 0, "answered": 0}
    for sock in socks:
        try:
            data = sock.recv(12, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            seen["answered" if data else "closed"] += 1
        except BlockingIOError:
            seen["open"] += 1
        except OSError:
            seen["closed"] += 1
    return seen


def main() -> None:
    args = parser(__doc__)
    args.add_argument("--connections", type=int, default=1100)
    args.add_argument("--wait", type=float, default=15.0)
    opts = args.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, opts.connections + 200)), hard))
    work = fresh_dir("slowloris")
    results: dict[str, Any] = {"server_nofile": 1024}
    socks: list[socket.socket] = []
    with Service(opts.paperbell, base_env(work / "data", opts.database_url), ["web"], work / "svc.log",
                 nofile=1024) as svc:
        results["healthz_before"] = _healthz(svc.url)
        refused, started = 0, time.monotonic()
        for _ in range(opts.connections):
            if time.monotonic() - started > 60:
                break  # the listen backlog is full: stop trying
            try:
                sock = socket.create_connection(("127.0.0.1", svc.port), timeout=0.5)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                sock.setblocking(False)  # so a peek at an open, silent connection says so at once
                socks.append(sock)
            except OSError:
                refused += 1
        results["opened"], results["refused"] = len(socks), refused
        results["open_seconds"] = round(time.monotonic() - started, 1)
        print(f"opened {len(socks)} in {results['open_seconds']} s", file=sys.stderr)
        time.sleep(1)
        results["closed_after_1s"] = _closed(socks)
        results["healthz_during"] = _healthz(svc.url)
        print(f"healthz during: {results['healthz_during']}", file=sys.stderr)
        time.sleep(opts.wait)
        results[f"closed_after_{int(opts.wait)}s"] = _closed(socks)
        results["healthz_after_wait"] = _healthz(svc.url)
        for sock in socks:
            sock.close()
        log = work / "svc.log"
        results["log_mb"] = round(log.stat().st_size / 1e6, 1)  # accept() errors are logged in a loop
        with log.open(errors="replace") as handle:
            results["log_too_many_open_files"] = sum("Too many open files" in line for line in handle)
        log.unlink()
    emit("slowloris", opts.paperbell, results)


if __name__ == "__main__":
    main()
