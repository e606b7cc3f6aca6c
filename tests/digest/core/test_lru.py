"""The bounded memory keeps at most its bound and drops the least recently used first."""

from __future__ import annotations

from digest.core.lru import Lru


def test_the_least_recently_used_goes_first_and_the_bound_holds() -> None:
    memory: Lru[str, int] = Lru(2)
    memory.put("a", 1)
    memory.put("b", 2)
    assert memory.get("a") == 1  # "a" is now the most recent
    memory.put("c", 3)
    assert len(memory) == 2
    assert memory.get("b") is None and memory.get_many(["a", "c"]) == [1, 3]
    memory.put("d", 4)  # get_many touched "a" then "c": "a" is the oldest now
    assert memory.get_many(["a", "c", "d"]) == [None, 3, 4]
