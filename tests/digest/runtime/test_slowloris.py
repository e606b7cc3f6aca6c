"""A flood of connections that never finish their headers cannot exhaust the service's file descriptors.

`paperbell run --role web` runs with a low descriptor limit (256) and a connection cap of 100; the
test opens 400 connections that send half a request and stop. The server must close them (cap, then
header timeout) without ever hitting "Too many open files", and answer /healthz afterwards.
"""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.digest.runtime.procs import REPO, free_port, service_env, wait_for

NOFILE = 256
FLOOD = 400


def _healthz(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)  # 503 without a scheduler anywhere: answering is what counts here
    except OSError:
        return None


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset


@pytest.fixture
def flood_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if min(hard, 4096) < FLOOD + 200:
        pytest.skip(f"this test opens {FLOOD} sockets; the descriptor limit here is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, FLOOD + 200), hard))


def test_half_sent_requests_never_exhaust_descriptors(flood_limit: None, tmp_path: Path) -> None:
    port = free_port()
    env = service_env(f"sqlite:///{tmp_path / 'paperbell.db'}", tmp_path / "data", PAPERBELL_WEB_PORT=str(port),
                      PAPERBELL_WEB_MAX_CONNECTIONS="100", PAPERBELL_WEB_HEADER_TIMEOUT_SECONDS="1")
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "digest.cli.main", "run", "--role", "web"], cwd=REPO, env=env,
                                stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE)))
    attackers: list[socket.socket] = []
    try:
        wait_for(lambda: _healthz(port), 60, "the web front to answer")
        for _ in range(FLOOD):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: paperbell.test\r\nX-Slow: ")  # never finished
            attackers.append(sock)
        wait_for(lambda: all(_closed_by_server(s) for s in attackers), 30, "the server to close every half request")
        assert wait_for(lambda: _healthz(port), 30, "/healthz after the flood")
    finally:
        for sock in attackers:
            sock.close()
        proc.terminate()
        proc.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert "Too many open files" not in text, text[-2000:]
