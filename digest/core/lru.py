"""A bounded mapping, least recently used out first, safe to share between threads.

Used where a process remembers derived work across batches and passes within a fixed bound
(digest.services.load_memory, digest.services.match_cache): memory does not grow with subscribers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A bounded mapping, least recently used out first; safe to share between threads."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
            return found

    def get_many(self, keys: Collection[K]) -> list[V | None]:
        with self._lock:
            found = [self._data.get(key) for key in keys]
            for key, value in zip(keys, found, strict=True):
                if value is not None:
                    self._data.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.bound:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)
