"""Helpers for the process-level tests: a real SMTP sink (aiosmtpd), `paperbell run` subprocesses, seeding.

Waiting is done by polling a condition with a deadline (a safety net), never by fixed sleeps.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import update
from sqlmodel import select as model_select

from digest.services import outbox_counts
from storage.db import Database
from storage.models import Delivery, Paper, Subscriber
from storage.types import utcnow

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll `condition` until truthy; fail with `what` after `timeout` seconds (safety net only)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@dataclass
class Received:
    message_id: str
    to: str
    text: str


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps every message it accepted."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if body is not None else ""
        with self._lock:
            self.messages.append(Received(str(message["Message-ID"]), envelope.rcpt_tos[0], text))
        return "250 OK"

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.messages)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def service_env(database_url: str, data_dir: Path, smtp: SmtpSink | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBELL_")}
    env.update(
        PAPERBELL_DATABASE_URL=database_url,
        PAPERBELL_DATA_DIR=str(data_dir),
        PAPERBELL_SECRET_KEY="test-secret-key-0123456789-abcdefghij",
        PAPERBELL_SOURCES="",
        PAPERBELL_WEB_PORT="0",
        PAPERBELL_LEADER_RETRY_SECONDS="0.5",
        PAPERBELL_SENDER_POLL_SECONDS="0.2",
        PAPERBELL_SHUTDOWN_TIMEOUT_SECONDS="10",
        PAPERBELL_LOG_LEVEL="INFO",
    )
    if smtp is not None:
        env.update(PAPERBELL_SMTP_HOST="127.0.0.1", PAPERBELL_SMTP_PORT=str(smtp.port), PAPERBELL_SMTP_SECURITY="none")
    env.update(extra)
    return env


@dataclass
class Service:
    """One `python -m digest.cli.main run` subprocess with its log file."""

    proc: subprocess.Popen[bytes]
    log: Path
    lines: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, env: dict[str, str], log: Path, *roles: str) -> Service:
        return cls.command(env, log, "run", *(a for r in roles for a in ("--role", r)))

    @classmethod
    def command(cls, env: dict[str, str], log: Path, *cli_args: str) -> Service:
        """Any `paperbell` command as a subprocess (e.g. `digest send --now`), output appended to `log`."""
        args = [sys.executable, "-m", "digest.cli.main", *cli_args]
        handle = log.open("ab")
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        return cls(proc, log)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def web_port(self, timeout: float = 60) -> int:
        def port() -> int | None:
            self.assert_running()
            found = re.findall(r"web: listening on http://[\d.]+:(\d+)", self.text())
            return int(found[-1]) if found else None

        return int(wait_for(port, timeout, "the web server to listen"))

    def assert_running(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"paperbell run exited with {self.proc.returncode}:\n{self.text()[-3000:]}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop_quietly(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def seed_digests(db: Database, subscribers: int, papers_each: int) -> dict[str, list[str]]:
    """Confirmed daily e-mail subscribers whose digest is due, each with pending matches; {address: [tokens]}."""
    due_since = utcnow() - timedelta(days=2)
    expected: dict[str, list[str]] = {}
    with db.session() as session:
        for s in range(subscribers):
            address = f"r{s:05d}@example.org"
            subscriber = Subscriber(kind="email", address=address, confirmed_at=due_since, created_at=due_since,
                                    digest_hour=0)
            session.add(subscriber)
            session.flush()
            tokens = []
            for k in range(papers_each):
                token = f"ZQ{s:05d}X{k:03d}"
                paper = Paper(canonical_id=f"hash:{token}", title=f"Paper {token} on sparse coding",
                              abstract="An abstract.")
                session.add(paper)
                session.flush()
                assert paper.id is not None and subscriber.id is not None
                session.add(Delivery(subscriber_id=subscriber.id, paper_id=paper.id,
                                     explanation={"matched_words": ["sparse"], "clauses": []}))
                tokens.append(token)
            expected[address] = tokens
    return expected


def ledger(db: Database) -> dict[str, int]:
    """Rows per status, as the service reports them (matches not expanded yet count as pending)."""
    return outbox_counts.status_counts(db)


def make_due_again(db: Database) -> None:
    """Pretend the next digest slot has come (used by the end-to-end test)."""
    with db.session() as session:
        session.execute(update(Subscriber).values(last_digest_at=utcnow() - timedelta(days=2),
                                                  created_at=utcnow() - timedelta(days=3)))


def check_mail(expected: dict[str, list[str]], mails: list[Received], db: Database) -> tuple[int, dict[str, int]]:
    """Nothing lost, every duplicate the same Message-ID; returns (duplicates, messages per address)."""
    by_address: dict[str, list[Received]] = defaultdict(list)
    for mail in mails:
        by_address[mail.to].append(mail)
    assert set(by_address) == set(expected), "a subscriber never got their digest"
    duplicates = 0
    for address, got in by_address.items():
        assert len({m.message_id for m in got}) == 1, f"{address}: a resend had a different Message-ID"
        for token in expected[address]:
            assert token in got[0].text, f"{address}: {token} missing from the digest"
        duplicates += len(got) - 1
    with db.session() as session:
        rows = session.exec(model_select(Delivery, Subscriber).join(Subscriber)).all()  # type: ignore[call-overload]
    for delivery, subscriber in rows:
        assert delivery.status == "sent", (subscriber.address, delivery.status)
        assert delivery.message_id == by_address[subscriber.address][0].message_id
    return duplicates, {a: len(m) for a, m in by_address.items()}
