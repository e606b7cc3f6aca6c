"""Fixtures for email tests: a live SMTP double, SMTP-configured settings, and matched papers in the ledger."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from digest.services import subscribers as subscriber_service
from digest.services.matching import run_match_cycle
from digest.settings import Settings, SmtpSecurity
from storage.db import Database
from storage.models import Paper, Subscriber
from tests.digest.email.smtp_double import SmtpDouble, SmtpRecorder

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, after the 08:00 default slot


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpDouble]:
    double = await SmtpDouble().start()
    yield double
    await double.stop()


@pytest.fixture
def recorder(smtp: SmtpDouble) -> SmtpRecorder:
    return smtp.recorder


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpDouble) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": SmtpSecurity.NONE,
            "smtp_timeout": 10.0,
            "public_url": "https://paperbell.test",
            "mail_from": "paperbell <digest@paperbell.test>",
        }
    )


def add_papers(
    db: Database, papers: Sequence[tuple[str, str]], *, authors: Sequence[str] = ("A. Author",)
) -> list[int]:
    ids = []
    with db.session() as session:
        for index, (title, abstract) in enumerate(papers):
            paper = Paper(
                canonical_id=f"2603.{uuid.uuid4().hex[:10]}",
                title=title,
                abstract=abstract,
                authors=list(authors),
                categories=["cs.LG"],
                pdf_url="https://arxiv.org/pdf/x",
                published_at=NOW - timedelta(days=1, minutes=index),
                sources=["test"],
                extras={"upvotes": 7},
            )
            session.add(paper)
            session.flush()
            assert paper.id is not None
            ids.append(paper.id)
    return ids


def add_subscriber(
    db: Database, settings: Settings, address: str, queries: Sequence[str], *, confirmed: bool = True,
    created_at: datetime | None = None,
) -> Subscriber:
    subscriber = subscriber_service.add_subscriber(db, settings, "email", address, confirmed=confirmed)
    for query in queries:
        subscriber_service.add_subscription(db, settings, address, query)
    with db.session() as session:
        row = session.get(Subscriber, subscriber.id)
        assert row is not None
        row.created_at = created_at or NOW - timedelta(days=2)
        session.add(row)
        return row


def match(db: Database, settings: Settings) -> int:
    return run_match_cycle(db, settings, NOW).matches_recorded
