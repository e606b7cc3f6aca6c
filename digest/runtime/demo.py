"""`paperbell demo`: one full cycle on the embedded default, with no network and no configuration.

Ingests the real sample papers bundled in `digest/data/` through the normal ingestion path,
creates a few sample subscribers and subscriptions if there are none, matches, and delivers
through the normal senders (with no SMTP host and no Discord token they write to the outbox
directory). Running it again finds no new papers and delivers nothing new, by construction:
ingestion merges by canonical id and the ledger holds each (subscriber, paper) once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import col, select

from digest.discord.delivery import deliver_discord
from digest.discord.outbox_poster import OutboxPoster
from digest.email.digests import send_due_digests
from digest.services import subscribers as subscriber_service
from digest.services.ingest import IngestReport, ingest_sources
from digest.services.matching import MatchReport, run_match_cycle
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, Subscriber, SubscriberKind, Subscription
from storage.types import utcnow

DATA_DIR = Path(__file__).resolve().parents[1] / "data"  # digest/data
DEMO_SOURCES = [
    DATA_DIR / "seed_papers.jsonl",
    DATA_DIR / "fixtures" / "hf_daily_papers" / "2024-10-25.json",
    DATA_DIR / "fixtures" / "arxiv_rss" / "quant-ph-2025-04-28.xml",
    DATA_DIR / "fixtures" / "arxiv_api" / "query.xml",
]

# The seed corpus (393 papers without ids or links) is loaded first as the searchable archive; the
# digests are made of the recorded arXiv and Hugging Face feeds, whose papers all have links.
ARCHIVE = 1  # DEMO_SOURCES[:ARCHIVE] are matched before the sample subscribers exist

# (kind, address, guild, schedule, queries): chosen to match papers of the recorded arXiv/HF feeds.
DEMO_SUBSCRIBERS: list[tuple[str, str, str | None, str, list[str]]] = [
    ("email", "ada@example.org", None, "daily", ['hallucination* OR edit* OR "sparse autoencoder" OR interpretab*']),
    ("email", "grace@example.org", None, "weekly", ["benchmark* OR hallucination*", "cat:quant-ph AND entangle*"]),
    ("discord_channel", "100000000000000001", "900000000000000001", "instant", ["diffusion OR ti:video OR generat*"]),
    ("discord_user", "200000000000000002", "900000000000000001", "instant", ["reasoning OR math*"]),
]


@dataclass
class DemoRow:
    subscriber: str
    subscription: str
    matched: int
    output: str


@dataclass
class DemoReport:
    ingest: list[IngestReport]
    match: MatchReport
    new_papers: int
    new_deliveries: int
    delivered: int
    rows: list[DemoRow] = field(default_factory=list)


def demo_sources() -> list[str]:
    return [f"file:{path}" for path in DEMO_SOURCES]


def ensure_demo_subscribers(db: Database, settings: Settings) -> int:
    """Create the sample subscribers and their subscriptions when the database has none."""
    if subscriber_service.list_subscribers(db):
        return 0
    for kind, address, guild, schedule, queries in DEMO_SUBSCRIBERS:
        # The demo cannot click a confirmation link, so its sample addresses count as confirmed.
        subscriber_service.add_subscriber(
            db, settings, kind, address, guild_id=guild, schedule=schedule, confirmed=True,
            display_name=f"demo {kind.replace('_', ' ')}",
        )
        for query in queries:
            subscriber_service.add_subscription(db, settings, address, query, created_by="demo", backfill_days=0)
    return len(DEMO_SUBSCRIBERS)


def _max_delivery_id(db: Database) -> int:
    with db.session() as session:
        return session.exec(select(func.max(Delivery.id))).one() or 0


async def run_demo(settings: Settings, db: Database, now: datetime | None = None) -> DemoReport:
    """Ingest → match → deliver once; returns what happened for the summary table."""
    now = now or utcnow()
    settings.ensure_dirs()
    specs = demo_sources()
    ingest = await ingest_sources(settings, db, specs[:ARCHIVE])
    await db.run(run_match_cycle, db, settings, now)  # the archive: matched before the sample subscribers exist
    await db.run(ensure_demo_subscribers, db, settings)
    ingest += await ingest_sources(settings, db, specs[ARCHIVE:])
    before = await db.run(_max_delivery_id, db)
    match = await db.run(run_match_cycle, db, settings, now)
    # The demo delivers everything pending now instead of waiting for each schedule.
    mail = await send_due_digests(settings, db, now, force=True)
    posts = await deliver_discord(settings, db, OutboxPoster(settings), now)
    delivered = sum(result.papers for result in mail) + posts.papers
    rows = await db.run(_table_rows, db, settings, before)
    return DemoReport(
        ingest=ingest,
        match=match,
        new_papers=sum(report.new for report in ingest),
        new_deliveries=match.matches_recorded,
        delivered=delivered,
        rows=rows,
    )


def _table_rows(db: Database, settings: Settings, since_delivery_id: int) -> list[DemoRow]:
    outbox = settings.resolved_outbox_dir()
    with db.session() as session:
        counts = dict(
            session.exec(
                select(Delivery.subscription_id, func.count())
                .where(col(Delivery.id) > since_delivery_id)
                .group_by(col(Delivery.subscription_id))
            ).all()
        )
        rows = []
        for subscription, subscriber in session.exec(
            select(Subscription, Subscriber)
            .join(Subscriber, col(Subscription.subscriber_id) == col(Subscriber.id))
            .order_by(col(Subscriber.id), col(Subscription.id))
        ).all():
            output = str(outbox / ("email" if subscriber.kind == SubscriberKind.EMAIL else "discord"))
            rows.append(
                DemoRow(
                    subscriber=f"{subscriber.kind}:{subscriber.address}",
                    subscription=f"#{subscription.id} {subscription.query}",
                    matched=int(counts.get(subscription.id, 0)),
                    output=output,
                )
            )
        return rows
