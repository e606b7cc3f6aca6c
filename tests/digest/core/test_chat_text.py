"""Chat text limits: `clip` and `pack` never exceed the limit in the platform's own measure, lose no entry,
and keep the order; hypothesis over arbitrary Unicode (astral characters count 2 in UTF-16, 4 in UTF-8)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from digest.core.chat_text import chars, clip, pack, utf8_bytes, utf16_units

MEASURES = st.sampled_from([chars, utf8_bytes, utf16_units])


@given(st.text(max_size=300), st.integers(min_value=2, max_value=200), MEASURES)
def test_clip_fits_and_is_a_prefix(text: str, limit: int, measure: object) -> None:
    clipped = clip(text, limit, measure)  # type: ignore[arg-type]
    assert measure(clipped) <= limit  # type: ignore[operator]
    assert clipped == text or text.startswith(clipped.removesuffix("…").rstrip())


@given(st.lists(st.text(min_size=1, max_size=120), max_size=30), st.integers(min_value=8, max_value=400), MEASURES)
def test_pack_fits_keeps_every_entry_in_order(texts: list[str], limit: int, measure: object) -> None:
    posts = pack(list(enumerate(texts)), limit, measure, header="Header")  # type: ignore[arg-type]
    assert all(measure(text) <= limit for _, text in posts)  # type: ignore[operator]
    assert [key for keys, _ in posts for key in keys] == list(range(len(texts)))
