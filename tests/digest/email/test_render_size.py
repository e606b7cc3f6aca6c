"""The size search behind the HTML cap finds the same count as trying every count, with few renders."""

from __future__ import annotations

import pytest

from digest.email.render import _largest_fitting


def sizes(kind: str, cap: int) -> list[int]:
    """Wire size by paper count (index 0 unused): nearly linear, lumpy, or one huge paper early."""
    out, total = [0], 4_000
    for n in range(1, cap + 1):
        total += {"linear": 1_700, "lumpy": 900 + (n * 7919) % 2_400, "huge": 60_000 if n == 3 else 1_500}[kind]
        out.append(total)
    return out


@pytest.mark.parametrize("kind", ["linear", "lumpy", "huge"])
@pytest.mark.parametrize("cap", [1, 2, 5, 55, 140, 400])
@pytest.mark.parametrize("limit", [3_000, 10_000, 100_000])
def test_the_largest_count_that_fits_whatever_the_sizes(kind: str, cap: int, limit: int) -> None:
    table = sizes(kind, cap)
    tried: list[int] = []

    def attempt(count: int) -> int:
        assert 1 <= count <= cap
        tried.append(count)
        return table[count]

    chosen = _largest_fitting(attempt, cap, limit)
    fitting = [n for n in range(1, cap + 1) if table[n] <= limit]
    assert chosen == (max(fitting) if fitting else 1)
    assert len(tried) <= 16
    if kind == "linear" and cap > 10 and table[cap] > limit:
        assert len(tried) <= 4, "a nearly linear size is found by interpolation, not a dozen renders"
