"""Shared helpers for the web front's tests and bench/web.py: realistic stored papers on chosen days."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import httpx
from sqlmodel import Session

from digest.runtime.web_app import web_app
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper

SEED = Path(__file__).resolve().parents[3] / "digest" / "data" / "seed_papers.jsonl"
MONDAY = date(2026, 3, 2)
ORIGIN = {"origin": "http://paperbell.test"}


def seed_records() -> list[dict[str, object]]:
    with SEED.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def store_papers(db: Database, count: int, days: Sequence[date] = (MONDAY,), *, start: int = 0) -> list[int]:
    """`count` seed papers (cycled, made unique) first seen across `days`, with arXiv-style ids."""
    records = seed_records()
    ids: list[int] = []
    with db.session() as session:
        for n in range(start, start + count):
            record = records[n % len(records)]
            day = days[n % len(days)]
            ids.append(_add(session, n, record, day))
    return ids


def _add(session: Session, n: int, record: dict[str, object], day: date) -> int:
    seen = datetime.combine(day, time(6), tzinfo=UTC) + timedelta(seconds=n)
    upvotes = record.get("upvotes")
    paper = Paper(
        canonical_id=f"2603.{n:05d}",
        title=str(record["title"]) if n < 393 else f"{record['title']} ({n})",
        abstract=str(record.get("abstract") or ""),
        authors=[f"Author {n % 7}", "Grace Hopper"],
        categories=["cs.LG", "cs.CL"] if n % 2 else ["cs.CV"],
        pdf_url=f"https://arxiv.org/pdf/2603.{n:05d}",
        published_at=seen - timedelta(hours=12),
        first_seen_at=seen,
        last_seen_at=seen,
        sources=["hf:daily"] if upvotes is not None else ["arxiv:cs.LG"],
        extras={"upvotes": int(str(upvotes))} if upvotes is not None else {},
    )
    session.add(paper)
    session.flush()
    assert paper.id is not None
    return paper.id


async def asgi_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app(settings, db), client=("203.0.113.7", 4242))
    async with httpx.AsyncClient(transport=transport, base_url="http://paperbell.test") as http:
        yield http


def mail_settings(settings: Settings, smtp_port: int, public_url: str = "http://paperbell.test") -> Settings:
    """Settings that deliver through the SMTP double and link to `public_url`."""
    from digest.settings import SmtpSecurity

    return settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_security": SmtpSecurity.NONE, "smtp_timeout": 10.0,
        "public_url": public_url, "mail_from": "paperbell <digest@paperbell.test>",
    })


def confirm_link(raw_mail: bytes, base: str) -> str:
    """The confirmation link of a received mail (from its plain-text part)."""
    import email
    import email.policy
    import re

    message = email.message_from_bytes(raw_mail, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(re.escape(base) + r"/confirm/[A-Za-z0-9_.\-]+", body.get_content())  # type: ignore[attr-defined]
    assert found is not None, "no confirmation link in the mail"
    return found.group(0)


@asynccontextmanager
async def serve_front(settings: Settings, db: Database) -> AsyncIterator[tuple[str, Settings]]:
    """The whole web app under uvicorn on an ephemeral port whose URL is `public_url`, so links in
    mail and the same-origin check see the address the browser uses. Yields (base URL, settings)."""
    import asyncio
    import socket

    import uvicorn

    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets (else Nagle adds ~40 ms to small replies)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    bound = settings.model_copy(update={"public_url": base})
    server = uvicorn.Server(uvicorn.Config(web_app(bound, db), log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):  # safety net only; startup takes milliseconds
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.002)
        yield base, bound
    finally:
        server.should_exit = True
        await task
        sock.close()
