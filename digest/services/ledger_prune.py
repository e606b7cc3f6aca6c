"""Keeping the delivery ledger bounded without weakening "a paper reaches a subscriber at most once".

Called by `paperbell ledger prune` (digest.cli.ledger_cmd). The ledger's unique (subscriber, paper)
row is what refuses a second delivery, so a row may only go once nothing can try to create it again.
Three paths create rows: the match cycle (only papers stored after its cursor: new rows of `papers`,
minutes old), backfill (papers first seen within `subscription_backfill_days`, at most `BACKFILL_MAX_DAYS`) and the
trending pick (papers first seen in the last 24 hours). A new version of a paper, a cross-list or
the same paper from another source updates the SAME `papers` row (canonical id and aliases,
digest.services.paper_aliases) and is never matched again. So once a paper was first seen more than
`MATCHABLE_DAYS` ago no path can give it a new row, and its CLOSED rows (sent, failed, dropped) can
be deleted: what they refused can no longer be asked. Open rows (pending, sending) are never touched,
nor are the compact match sets (digest.services.match_sets), which only hold matches not delivered
yet and are deleted when they are expanded.

Deletes run in batches (one short transaction each), so senders and the match cycle are not held up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select

from digest.core.matchable import BACKFILL_MAX_DAYS, DEFAULT_RETENTION_DAYS, MATCHABLE_DAYS
from digest.services.errors import InvalidInput
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Paper
from storage.types import utcnow

CLOSED = (DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value, DeliveryStatus.DROPPED.value)
BATCH = 20_000  # rows per delete transaction

_D = Delivery.__table__  # type: ignore[attr-defined]
_P = Paper.__table__  # type: ignore[attr-defined]


@dataclass
class PruneReport:
    horizon: datetime  # rows of papers first seen before this were considered
    deleted: int  # closed rows deleted (or, on a dry run, that would be)
    remaining: int  # ledger rows left
    dry_run: bool = False


def check_retention(days: int) -> None:
    """A retention shorter than the matchable window could let a paper be delivered twice: refused."""
    if days < MATCHABLE_DAYS:
        raise InvalidInput(
            f"retention of {days} days is shorter than the {MATCHABLE_DAYS} days in which a paper can still be "
            f"matched (backfill reaches {BACKFILL_MAX_DAYS} days back): use --older-than-days {MATCHABLE_DAYS} or more"
        )


def _prunable(horizon: datetime) -> Select[Any]:
    old_papers = select(_P.c.id).where(_P.c.first_seen_at < horizon)
    return select(_D.c.id).where(_D.c.status.in_(CLOSED), _D.c.paper_id.in_(old_papers))


def prune_ledger(db: Database, *, retention_days: int = DEFAULT_RETENTION_DAYS, now: datetime | None = None,
                 dry_run: bool = False, batch: int = BATCH) -> PruneReport:
    """Delete closed ledger rows of papers first seen more than `retention_days` ago; see the module docstring."""
    check_retention(retention_days)
    horizon = (now or utcnow()) - timedelta(days=retention_days)
    deleted = 0
    if dry_run:
        with db.session() as session:
            deleted = int(session.execute(select(func.count()).select_from(_prunable(horizon).subquery())).scalar_one())
    else:
        while True:
            with db.session() as session:  # one statement per batch: no id list travels to the client
                result = session.execute(delete(_D).where(_D.c.id.in_(_prunable(horizon).limit(batch))))
                done = int(result.rowcount or 0)  # type: ignore[attr-defined]
            deleted += done
            if done < batch:
                break
    with db.session() as session:
        remaining = int(session.execute(select(func.count()).select_from(_D)).scalar_one())
    return PruneReport(horizon=horizon, deleted=deleted, remaining=remaining, dry_run=dry_run)
