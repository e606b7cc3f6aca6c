"""Digest assembly (pure): grouping by subscription, ranking, the cap and "and N more" accounting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.core.assembly import DigestItem, Recipient, build_digest, shorten_authors

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
WHO = Recipient(subscriber_id=1, address="a@example.org")


def item(n: int, subscription: int | None, *, age_days: float = 0, title_hits: int = 0) -> DigestItem:
    return DigestItem(
        delivery_id=n, paper_id=n, subscription_id=subscription, query=f"q{subscription}", title=f"paper {n}",
        published_at=NOW - timedelta(days=age_days), title_hits=title_hits,
    )


def test_groups_in_subscription_order_strongest_first() -> None:
    items = [item(1, 2, age_days=5), item(2, 1), item(3, 2, age_days=1), item(4, 2, age_days=1, title_hits=2)]
    digest = build_digest(WHO, items, now=NOW)
    assert [g.subscription_id for g in digest.groups] == [1, 2]
    assert [i.paper_id for i in digest.groups[1].items] == [4, 3, 1]
    assert (digest.total, digest.shown, digest.more, digest.is_empty) == (4, 4, 0, False)


@pytest.mark.parametrize(
    ("sizes", "cap", "shown_per_group"),
    [
        ([5, 1], 3, [2, 1]),
        ([5, 5], 4, [2, 2]),
        ([1, 1, 1], 2, [1, 1, 0]),
        ([3], 0, [0]),
        ([3], None, [3]),
    ],
)
def test_cap_is_shared_round_robin(sizes: list[int], cap: int | None, shown_per_group: list[int]) -> None:
    items, n = [], 0
    for subscription, size in enumerate(sizes, start=1):
        for _ in range(size):
            n += 1
            items.append(item(n, subscription))
    digest = build_digest(WHO, items, now=NOW, max_items=cap)
    assert [len(g.items) for g in digest.groups] == shown_per_group
    assert [g.more for g in digest.groups] == [s - k for s, k in zip(sizes, shown_per_group, strict=True)]


def test_removed_subscription_goes_last_and_empty_digest() -> None:
    digest = build_digest(WHO, [item(1, None), item(2, 3)], now=NOW)
    assert [g.subscription_id for g in digest.groups] == [3, None]
    assert build_digest(WHO, [], now=NOW).is_empty


@given(st.lists(st.tuples(st.integers(1, 4), st.floats(0, 30)), max_size=40), st.integers(0, 50))
def test_nothing_lost_or_duplicated(spec: list[tuple[int, float]], cap: int) -> None:
    items = [item(n, sub, age_days=age) for n, (sub, age) in enumerate(spec)]
    digest = build_digest(WHO, items, now=NOW, max_items=cap)
    shown = [i.delivery_id for i in digest.items]
    assert len(shown) == len(set(shown)) == min(cap, len(items))
    assert digest.total == len(items) and digest.more == len(items) - len(shown)


@pytest.mark.parametrize(
    ("authors", "text"),
    [
        ([], ""), (["A"], "A"), (["A", "B", "C", "D"], "A, B, C, D"),
        (["A", "B", "C", "D", "E"], "A, B, C et al. (5 authors)"),
    ],
)
def test_shorten_authors(authors: list[str], text: str) -> None:
    assert shorten_authors(authors) == text
