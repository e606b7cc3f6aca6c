"""Text within a chat platform's size limit: clip one text, pack entries into as few posts as fit.

Pure. Platforms count differently (UTF-8 bytes, UTF-16 code units, characters), so each takes a
`measure`; the chat renderers (in each chat channel package) call these
instead of cutting strings themselves, so no post is ever built over its limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Measure = Callable[[str], int]
ELLIPSIS = "…"


def chars(text: str) -> int:
    return len(text)


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int, measure: Measure = chars) -> str:
    """`text` if it fits, else its longest prefix that fits with an ellipsis (never a split character)."""
    if measure(text) <= limit:
        return text
    budget = limit - measure(ELLIPSIS)
    if budget <= 0:
        return ""
    low, high = 0, len(text)
    while low < high:  # the longest prefix within the budget (measure is monotonic in the prefix length)
        middle = (low + high + 1) // 2
        if measure(text[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS


def pack(entries: Sequence[tuple[int, str]], limit: int, measure: Measure = chars, *, header: str = "",
         separator: str = "\n\n") -> list[tuple[list[int], str]]:
    """Entries (key, text) → posts (keys, text), each within `limit`, in order, `header` atop the first.

    An entry too long for an empty post alone is clipped to fit one.
    """
    posts: list[tuple[list[int], str]] = []
    keys: list[int] = []
    text = header
    for key, entry in entries:
        candidate = f"{text}{separator}{entry}" if text else entry
        if measure(candidate) <= limit:
            keys.append(key)
            text = candidate
            continue
        if keys:
            posts.append((keys, text))
        keys, text = [key], clip(entry, limit, measure)
    if keys:
        posts.append((keys, text))
    return posts
