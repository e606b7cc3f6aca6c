"""Ranking of matched papers: strongest matches first, ties broken stably.

Pure (plain data in, plain data out). Called by `digest.core.assembly.build_digest` (email and Discord
digests) and by `/search`. The score combines where the query matched (a title hit counts more than
an abstract hit), how many distinct clauses matched, freshness (a one-week half-life from the
publication date, else from when paperbell first saw the paper), and upvotes when a source knows them.
Every component is capped so one signal cannot drown the others.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

T = TypeVar("T")

TITLE_WEIGHT = 3.0  # per title hit (up to MAX_TITLE_HITS)
ABSTRACT_WEIGHT = 1.0  # per abstract hit (up to MAX_ABSTRACT_HITS)
CLAUSE_WEIGHT = 2.0  # per distinct matched clause (up to MAX_CLAUSES)
FRESHNESS_WEIGHT = 4.0  # a paper published now; half of it a week later
FRESHNESS_HALF_LIFE_DAYS = 7.0
UPVOTE_WEIGHT = 0.4  # per doubling of upvotes (up to MAX_UPVOTE_BONUS, reached near 75 upvotes)
MAX_TITLE_HITS = 3
MAX_ABSTRACT_HITS = 5
MAX_CLAUSES = 5
MAX_UPVOTE_BONUS = 2.5  # below one title hit: popularity never outranks relevance


@dataclass(frozen=True)
class RankInput(Generic[T]):
    """What ranking needs to know about one matched paper; `item` rides along for the caller.

    `key` breaks ties (smaller first; use one type per call, e.g. the paper id); equal keys keep
    their input order.
    """

    key: int | str
    title_hits: int = 0
    abstract_hits: int = 0
    distinct_clauses: int = 0
    published: datetime | None = None
    first_seen: datetime | None = None
    upvotes: int | None = None
    item: T | None = None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def freshness(published: datetime | None, first_seen: datetime | None, now: datetime) -> float:
    """1.0 for a paper from now, 0.5 a half-life ago, 0.0 when no date is known; never above 1."""
    moment = published or first_seen
    if moment is None:
        return 0.0
    age_days = max((_aware(now) - _aware(moment)).total_seconds() / 86400.0, 0.0)
    return float(0.5 ** (age_days / FRESHNESS_HALF_LIFE_DAYS))


def score(item: RankInput[T], now: datetime) -> float:
    """The ranking score of one item at `now` (higher is stronger)."""
    value = TITLE_WEIGHT * min(max(item.title_hits, 0), MAX_TITLE_HITS)
    value += ABSTRACT_WEIGHT * min(max(item.abstract_hits, 0), MAX_ABSTRACT_HITS)
    value += CLAUSE_WEIGHT * min(max(item.distinct_clauses, 0), MAX_CLAUSES)
    value += FRESHNESS_WEIGHT * freshness(item.published, item.first_seen, now)
    if item.upvotes:
        value += min(UPVOTE_WEIGHT * math.log2(1 + max(item.upvotes, 0)), MAX_UPVOTE_BONUS)
    # Rounded so that float noise cannot reorder items whose scores are equal on paper.
    return round(value, 9)


def rank_items(items: Iterable[RankInput[T]], now: datetime) -> list[RankInput[T]]:
    """Items strongest first; equal scores ordered by key, then by input order (sorted() is stable)."""
    return sorted(items, key=lambda item: (-score(item, now), _key_order(item.key)))


def _key_order(key: int | str) -> tuple[int, int | str]:
    # ints before strs so a mixed list never raises TypeError
    return (0, key) if isinstance(key, int) else (1, key)
