"""Shared helpers for the fault benchmarks: spawn a `paperbell` install and measure it from outside.

Each case script drives the console script given by `--paperbell PATH` (an install of any commit: the
old layout has other module paths, so nothing here imports paperbell), on a fresh data directory, and
reports what an operator would see: exit status, seconds, CPU seconds, peak RSS, bytes the process
read (`rchar` from /proc, polled while it runs) and the last line it printed.
"""

from __future__ import annotations

import argparse
import email
import email.message
import http.client
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

KEEP_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The arguments every case takes: which install to drive, and an optional PostgreSQL URL."""
    args = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    args.add_argument("--paperbell", required=True, help="path of the `paperbell` console script to drive")
    args.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite in the data dir)")
    return args


def base_env(data_dir: Path, database_url: str = "", **extra: str) -> dict[str, str]:
    """A clean environment: no PAPERBELL_* from the caller, a private data dir, optional database URL."""
    env = {key: os.environ[key] for key in KEEP_ENV if key in os.environ}
    env["COLUMNS"] = "400"  # rich tables on one line each, so the reason is one line too
    env["PAPERBELL_DATA_DIR"] = str(data_dir)
    env["PAPERBELL_SECRET_KEY"] = "fault-bench-secret-key-0123456789abcdef"
    if database_url:
        env["PAPERBELL_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def fresh_dir(prefix: str) -> Path:
    """A new temporary directory under /tmp (left behind for inspection)."""
    return Path(tempfile.mkdtemp(prefix=f"pbfault-{prefix}-"))


def _rchar(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(cmd: list[str], env: dict[str, str], timeout: float, mem_bytes: int | None = None,
            stdin: Any = subprocess.DEVNULL) -> dict[str, Any]:
    """Run `cmd`, kill it after `timeout` s; the figures come from wait4() and /proc, not from the program."""
    def limits() -> None:
        if mem_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))

    with tempfile.TemporaryFile() as out:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdin=stdin, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=limits, start_new_session=True)
        read, timed_out = 0, False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            read = max(read, _rchar(proc.pid))
            if time.monotonic() - start > timeout and not timed_out:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    lines = [line for line in text.splitlines() if line.strip()]
    return {
        "rc": proc.returncode, "timed_out": timed_out, "seconds": round(time.monotonic() - start, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "bytes_read_mb": round(read / 1e6, 1), "lines": len(lines),
        "traceback": any(line.startswith("Traceback") for line in lines),
        "last": lines[-1][:200] if lines else "", "reason": reason(text), "output": text,
    }


def reason(text: str) -> str:
    """The first line that names an error, with table borders squeezed out (rich tables wrap cells)."""
    for line in text.splitlines():
        if any(word in line.lower() for word in ("error", "failed", "refused", "not a regular")):
            cells = [cell.strip() for cell in line.replace("│", "|").split("|")]
            return " ".join(cell for cell in cells if cell)[:200]
    return ""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 90.0) -> int:
    """Poll `url` until it answers (any status); return the status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


class Service:
    """`paperbell run --role …` in the background, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, paperbell: str, env: dict[str, str], roles: list[str], log: Path,
                 nofile: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {"PAPERBELL_PUBLIC_URL": self.url, **env, "PAPERBELL_WEB_HOST": "127.0.0.1",
               "PAPERBELL_WEB_PORT": str(self.port)}
        self.roles = roles
        cmd = [paperbell, "run", *[piece for role in roles for piece in ("--role", role)]]
        self.log = log

        def limits() -> None:
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=limits)

    def __enter__(self) -> Service:
        if "web" in self.roles:
            try:
                wait_http(self.url + "/healthz")
            except TimeoutError:
                self.__exit__()  # a service that never answered is stopped, not left behind
                raise
        return self

    def cpu_seconds(self) -> float:
        """User+system CPU seconds of the service so far (from /proc/<pid>/stat)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def form_post(url: str, path: str, fields: dict[str, str], source_ip: str = "127.0.0.1",
              headers: dict[str, str] | None = None) -> tuple[int, str]:
    """POST a urlencoded form from `source_ip` (any 127.x address works on Linux) with our Origin."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60,
                                      source_address=(source_ip, 0))
    body = urllib.parse.urlencode(fields)
    conn.request("POST", path, body=body, headers={"Origin": url, **(headers or {}),
                                                   "Content-Type": "application/x-www-form-urlencoded"})
    answer = conn.getresponse()
    text = answer.read().decode("utf-8", "replace")
    conn.close()
    return answer.status, text


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, str]:
    """GET `url`; (status, body) whatever the status."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as answer:
            return int(answer.status), answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode("utf-8", "replace")


def outbox_mails(data_dir: Path) -> list[email.message.Message]:
    """The e-mails written to the file outbox (no SMTP host configured), oldest first."""
    files = sorted((data_dir / "outbox" / "email").glob("*.eml"), key=lambda path: path.stat().st_mtime)
    return [email.message_from_bytes(path.read_bytes()) for path in files]


class SmtpSink:
    """A local aiosmtpd server that keeps every message it accepts (what reached the mailboxes)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.Message] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        for rcpt in envelope.rcpt_tos:
            del message["X-Envelope-To"]
            message["X-Envelope-To"] = rcpt
            self.messages.append(message)
        return "250 OK"

    def env(self) -> dict[str, str]:
        """The settings that send paperbell's mail here."""
        return {"PAPERBELL_SMTP_HOST": "127.0.0.1", "PAPERBELL_SMTP_PORT": str(self.port),
                "PAPERBELL_SMTP_SECURITY": "none"}

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def wait_for(check: Any, timeout: float, step: float = 0.25) -> bool:
    """Poll `check()` until it is true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return bool(check())


def emit(case: str, paperbell: str, results: dict[str, Any]) -> None:
    """Print the case's ONE JSON line (with the load average, since the machine is shared)."""
    line = {"case": case, "paperbell": paperbell, "loadavg": os.getloadavg()[0], **results}
    print(json.dumps(line, sort_keys=False))
    sys.stdout.flush()
