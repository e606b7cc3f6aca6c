"""What a pending paper must still satisfy when it is about to be shown: its subscription's CURRENT query.

A ledger row is written when the match cycle matches a paper against a query. The subscriber may edit
(narrow) that query before the row is sent; the row then no longer says what the subscriber asked for.
`recheck` evaluates each row's paper against the subscription's query as it is now (parsed under the
current query limits, matched by the compiled matcher with its explanation, `match_cache.explain`) and
`close_dropped` closes the rows it no longer matches as DROPPED with the reason in `last_error`, so they
are neither sent nor retried. Called only by `digest.services.items.load_items`, the one place pending
rows become digest items (email and Discord, send and preview): what a preview shows is what is sent.
`Recheck` remembers its results (digest.services.load_memory) only by query text and stored paper
content, so an edit to either is re-checked like a new row.

Rows whose subscription was removed are not re-checked: their papers are still delivered, under
`items.REMOVED_QUERY` (nothing matched is lost because a query was deleted).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import update

from digest.query import Query, QueryError, parse_query
from digest.services.load_memory import LoadMemory
from digest.services.match_cache import explain_analysed
from digest.services.subscribers import query_limits
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Paper

NO_LONGER_MATCHES = "not sent: the subscription's query was changed and no longer matches this paper"
_D = Delivery.__table__  # type: ignore[attr-defined]
_OPEN = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)


def recheck(settings: Settings, paper: Paper, query: str) -> dict[str, object] | None:
    """The explanation of `query` (as it is now) matching `paper`, or None when it no longer matches or parses."""
    return Recheck(settings)(paper, query)


class Recheck:
    """`recheck` for many rows: each query text parsed once, each (paper, query) pair matched once (the same
    papers and the same queries come back in many subscribers' digests), remembered in `memory` for as
    long as its holder keeps it (a fresh one: these rows only). A query that no longer parses, or no
    longer matches, gives None for every row of it, as `recheck` does. A result is reused only for the
    very `Paper` object it was made for, which `memory` replaces when the paper's content changes."""

    def __init__(self, settings: Settings, memory: LoadMemory | None = None) -> None:
        self.memory = memory or LoadMemory(query_limits(settings))

    def _parsed(self, query: str) -> Query | None:
        known = self.memory.parsed.get(query)
        if known is None:
            try:
                known = (parse_query(query, self.memory.limits),)
            except QueryError:
                known = (None,)
            self.memory.parsed.put(query, known)
        return known[0]

    def __call__(self, paper: Paper, query: str) -> dict[str, object] | None:
        assert paper.id is not None
        key = (paper.id, query)
        known = self.memory.found.get(key)
        if known is not None and known[0] is paper:
            found = known[1]
        else:
            parsed = self._parsed(query)
            found = (explain_analysed(self.memory.analysed(paper), parsed) or None) if parsed else None
            self.memory.found.put(key, (paper, found))
        return dict(found) if found is not None else None  # each row its own copy


def close_dropped(db: Database, dropped: Mapping[int, str]) -> int:
    """Close pending/claimed rows as DROPPED with their reason; rows already sent or closed are left alone."""
    by_reason: dict[str, list[int]] = {}
    for delivery_id, reason in dropped.items():
        if delivery_id:  # 0: an item shown outside the ledger (a sample), nothing to close
            by_reason.setdefault(reason, []).append(delivery_id)
    closed = 0
    with db.session() as session:
        for reason, ids in by_reason.items():
            result = session.execute(
                update(_D)
                .where(_D.c.id.in_(ids), _D.c.status.in_(_OPEN))
                .values(status=DeliveryStatus.DROPPED.value, last_error=reason[:500])
            )
            closed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return closed
