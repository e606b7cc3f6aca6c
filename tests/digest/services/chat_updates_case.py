"""The lifecycle case every chat channel's updates test shares: a reader of a chat target opted in to new
versions receives three papers on day 1 (real ingest of recorded feeds); on day 3 one of them has a v4."""

from __future__ import annotations

from sqlmodel import select

from digest.services.lifecycle import set_update_kinds
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription
from digest.settings import Settings
from storage.db import Database
from storage.lifecycle_models import UpdateNotice
from tests.digest.services.test_lifecycle import DAY1, DAY3, QUERY, ingest

V4_LINE = "v4 appeared (you received this on"


async def day1(settings: Settings, db: Database, kind: str, address: str) -> int:
    """An instant chat target subscribed to the case's query, opted in to new versions; day 1 ingested."""
    subscriber = add_subscriber(db, settings, kind, address)
    assert subscriber.id is not None
    subscription = add_subscription(db, settings, subscriber.id, QUERY)
    assert subscription.id is not None
    set_update_kinds(db, subscription.id, "new-version")
    await ingest(settings, db, DAY1)
    run_match_cycle(db, settings)
    return subscriber.id


async def day3(settings: Settings, db: Database) -> None:
    """Day 3: a v4 of a paper received on day 1 (a new-version event), and one new matching paper."""
    await ingest(settings, db, DAY3)
    run_match_cycle(db, settings)


def notices(db: Database) -> int:
    """Events recorded as told (to anyone)."""
    with db.session() as session:
        return len(session.exec(select(UpdateNotice)).all())
