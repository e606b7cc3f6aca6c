"""Digest assembly: the pure step that turns a subscriber's pending papers into one ordered digest.

Shared by the email digest (digest.email.digests) and the Discord digest renderer:
items are grouped by the subscription that matched them, ordered within each group by
`digest.core.ranking.rank_items` (strongest match first), capped at
`max_items`, and everything left out is counted so renderers can say "and N more".
Plain data in, plain data out: no database, network or template code here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from digest.core.ranking import RankInput, rank_items


@dataclass(frozen=True)
class Recipient:
    """The facts about the subscriber a digest needs (no ORM object: assembly is pure)."""

    subscriber_id: int
    address: str
    display_name: str | None = None
    timezone: str = "UTC"
    schedule: str = "daily"


@dataclass(frozen=True)
class DigestItem:
    """One matched paper as a digest shows it."""

    delivery_id: int
    paper_id: int
    subscription_id: int | None
    query: str
    title: str
    abs_url: str | None = None
    pdf_url: str | None = None
    hf_url: str | None = None
    code_url: str | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    published_at: datetime | None = None
    summary: str = ""
    matched_words: tuple[str, ...] = ()
    upvotes: int | None = None
    title_hits: int = 0
    abstract_hits: int = 0
    distinct_clauses: int = 0
    canonical_id: str = ""
    # the abstract's sentence(s) holding the matched words, when the summary holds none of them
    snippet: str = ""
    date_kind: str = "published"  # what `published_at` is: "published", or "first seen" when no date is known
    source: str = ""  # readable source name ("arXiv", "Hugging Face", a feed's title, a file's name)
    # why a paper of a trending subscription is there ("#2 of the day's 37 papers · ▲ 41 …") and its rank
    reason: str = ""
    trending_rank: int | None = None


@dataclass
class DigestGroup:
    subscription_id: int | None
    query: str
    items: list[DigestItem]
    total: int  # items in this group before the cap

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass
class Digest:
    recipient: Recipient
    generated_at: datetime
    groups: list[DigestGroup] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(group.total for group in self.groups)

    @property
    def shown(self) -> int:
        return sum(len(group.items) for group in self.groups)

    @property
    def more(self) -> int:
        return self.total - self.shown

    @property
    def items(self) -> list[DigestItem]:
        return [item for group in self.groups for item in group.items]

    @property
    def is_empty(self) -> bool:
        return self.total == 0


def rank_digest_items(items: Sequence[DigestItem], now: datetime) -> list[DigestItem]:
    """Strongest first via digest.core.ranking (title/abstract hits, clauses, freshness, upvotes), ties by paper id."""
    inputs = [
        RankInput(
            key=item.paper_id,
            title_hits=item.title_hits,
            abstract_hits=item.abstract_hits,
            distinct_clauses=item.distinct_clauses,
            published=item.published_at,
            upvotes=item.upvotes,
            item=item,
        )
        for item in items
    ]
    return [entry.item for entry in rank_items(inputs, now) if entry.item is not None]


def build_digest(
    recipient: Recipient,
    items: Sequence[DigestItem],
    *,
    now: datetime,
    max_items: int | None = None,
    rank: Callable[[Sequence[DigestItem], datetime], list[DigestItem]] = rank_digest_items,
) -> Digest:
    """Group by subscription (in subscription order), rank inside groups, keep at most `max_items` overall.

    The cap is spread over the groups in turn (round robin over their ranked lists), so one busy
    subscription cannot crowd every other one out of the digest.
    """
    by_subscription: dict[int | None, list[DigestItem]] = {}
    queries: dict[int | None, str] = {}
    for item in items:
        by_subscription.setdefault(item.subscription_id, []).append(item)
        queries.setdefault(item.subscription_id, item.query)
    keys = sorted(by_subscription, key=lambda k: (k is None, k or 0))
    ranked = {key: _ranked_group(by_subscription[key], now, rank) for key in keys}
    budget = len(items) if max_items is None else max(0, max_items)
    taken = dict.fromkeys(keys, 0)
    while budget > 0:
        progressed = False
        for key in keys:
            if budget > 0 and taken[key] < len(ranked[key]):
                taken[key] += 1
                budget -= 1
                progressed = True
        if not progressed:
            break
    groups = [
        DigestGroup(subscription_id=key, query=queries[key], items=ranked[key][: taken[key]], total=len(ranked[key]))
        for key in keys
    ]
    return Digest(recipient=recipient, generated_at=now, groups=groups)


def _ranked_group(
    items: list[DigestItem], now: datetime, rank: Callable[[Sequence[DigestItem], datetime], list[DigestItem]]
) -> list[DigestItem]:
    """A trending subscription's papers keep the day's order; a query's are ranked by `rank`."""
    if items and all(item.trending_rank is not None for item in items):
        return sorted(items, key=lambda item: item.trending_rank or 0)
    return rank(items, now)


def shorten_authors(authors: Sequence[str], keep: int = 3) -> str:
    """'A, B, C et al. (12 authors)' for long lists; all names for short ones."""
    shown, rest = shown_authors(authors, keep)
    return ", ".join(shown) + rest


def shown_authors(authors: Sequence[str], keep: int = 3) -> tuple[Sequence[str], str]:
    """The names a short author list shows, and what follows them (" et al. (12 authors)" or "")."""
    if len(authors) <= keep + 1:
        return authors, ""
    return authors[:keep], f" et al. ({len(authors)} authors)"
