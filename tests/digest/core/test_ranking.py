"""Ranking: where the query matched, how many clauses, freshness, upvotes; stable ties."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.core.ranking import (
    FRESHNESS_HALF_LIFE_DAYS,
    MAX_TITLE_HITS,
    RankInput,
    freshness,
    rank_items,
    score,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def item(key: int | str, **fields: object) -> RankInput[None]:
    fields.setdefault("published", NOW - DAY)
    return RankInput(key=key, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stronger", "weaker", "why"),
    [
        (item(2, title_hits=1), item(1, abstract_hits=1), "a title hit outweighs an abstract hit"),
        (item(2, title_hits=1, abstract_hits=2), item(1, title_hits=1), "more abstract hits help"),
        (item(2, distinct_clauses=3), item(1, distinct_clauses=1), "more distinct clauses"),
        (item(2, published=NOW - DAY), item(1, published=NOW - 10 * DAY), "fresher"),
        (item(2, upvotes=50), item(1, upvotes=None), "upvotes when known"),
        (item(2, upvotes=50), item(1, upvotes=2), "more upvotes"),
        (item(2, title_hits=1), item(1, upvotes=100_000), "upvotes are capped below a title hit"),
        (item(2, published=None, first_seen=NOW), item(1, published=None, first_seen=NOW - 30 * DAY),
         "first_seen stands in for a missing publication date"),
        (item(2, published=NOW - DAY, first_seen=NOW - 60 * DAY), item(1, published=NOW - 20 * DAY, first_seen=NOW),
         "the publication date wins over first_seen"),
        (item(2, published=NOW - 30 * DAY), item(1, published=None, first_seen=None), "some date beats none"),
        (item(1), item(2), "equal scores: smaller key first"),
        (item("a"), item("b"), "equal scores: string keys in order"),
    ],
)
def test_pairwise_order(stronger: RankInput[None], weaker: RankInput[None], why: str) -> None:
    assert rank_items([weaker, stronger], NOW) == [stronger, weaker], why
    assert rank_items([stronger, weaker], NOW) == [stronger, weaker], why


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (item(1, title_hits=MAX_TITLE_HITS), item(2, title_hits=1000)),
        (item(1, published=NOW), item(2, published=NOW + 5 * DAY)),  # future dates count as now
        (item(1, published=datetime(2026, 11, 20, 12)), item(2, published=NOW - DAY)),  # naive = UTC
        (item(1, upvotes=0), item(2, upvotes=None)),
        (item(1, title_hits=-3), item(2, title_hits=0)),
    ],
)
def test_equal_scores(a: RankInput[None], b: RankInput[None]) -> None:
    assert score(a, NOW) == score(b, NOW)


def test_freshness_halves_every_half_life() -> None:
    assert freshness(NOW, None, NOW) == 1.0
    assert freshness(NOW - FRESHNESS_HALF_LIFE_DAYS * DAY, None, NOW) == pytest.approx(0.5)
    assert freshness(None, None, NOW) == 0.0


def test_equal_keys_keep_input_order_and_items_ride_along() -> None:
    first = RankInput(key=7, item="first", published=NOW)
    second = RankInput(key=7, item="second", published=NOW)
    assert [r.item for r in rank_items([first, second], NOW)] == ["first", "second"]
    assert [r.item for r in rank_items([second, first], NOW)] == ["second", "first"]


def test_mixed_key_types_do_not_raise() -> None:
    assert [r.key for r in rank_items([item("x"), item(3)], NOW)] == [3, "x"]


inputs = st.builds(
    RankInput,
    key=st.integers(0, 10_000),
    title_hits=st.integers(0, 5),
    abstract_hits=st.integers(0, 8),
    distinct_clauses=st.integers(0, 6),
    published=st.one_of(st.none(), st.integers(0, 60).map(lambda d: NOW - d * DAY)),
    first_seen=st.one_of(st.none(), st.integers(0, 60).map(lambda d: NOW - d * DAY)),
    upvotes=st.one_of(st.none(), st.integers(0, 500)),
)


@given(st.lists(inputs, max_size=30, unique_by=lambda r: r.key), st.randoms())
def test_ranking_is_a_deterministic_sorted_permutation(items: list[RankInput[None]], rnd: random.Random) -> None:
    ranked = rank_items(items, NOW)
    assert sorted(ranked, key=lambda r: r.key) == sorted(items, key=lambda r: r.key)
    scores = [score(r, NOW) for r in ranked]
    assert scores == sorted(scores, reverse=True)
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert rank_items(shuffled, NOW) == ranked
