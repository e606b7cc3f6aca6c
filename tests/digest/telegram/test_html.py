"""Telegram HTML: hostile text stays text, every text within 4,096 (captions 1,024) as Telegram counts it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.core.assembly import Digest, DigestGroup, Recipient
from digest.telegram.html import CAPTION_MAX, MESSAGE_MAX, balanced, clip_html, escape, visible_length
from digest.telegram.keyboard import CALLBACK_MAX_BYTES, parse_callback, vote_keyboard
from digest.telegram.render import digest_messages, instant_messages, paper_html
from tests.digest.chat_items import item

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6000)


@pytest.mark.parametrize(("raw", "escaped"), [
    ("<script>", "&lt;script&gt;"), ("a & b", "a &amp; b"), ('"q"', "&quot;q&quot;"), ("it's", "it's"),
])
def test_escape_table(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


@settings(max_examples=150, deadline=None)
@given(text=texts, limit=st.sampled_from([MESSAGE_MAX, CAPTION_MAX, 10]))
def test_clip_keeps_any_text_within_the_limit_and_balanced(text: str, limit: int) -> None:
    markup = f"<b>{escape(text[:50])}</b>\n<i>{escape(text)}</i> <a href=\"https://x.org/?a=1&amp;b=2\">{escape(text)}</a>"
    clipped = clip_html(markup, limit)
    assert visible_length(clipped) <= limit
    assert balanced(clipped)


@settings(max_examples=60, deadline=None)
@given(title=texts, summary=texts, query=st.text(max_size=300), url=st.text(max_size=100))
def test_hostile_paper_fields_render_balanced_and_within_limits(title: str, summary: str, query: str, url: str) -> None:
    paper = item(title=title, summary=summary, query=query, abs_url=url, pdf_url=url, authors=(title[:80],))
    [(_, _, body)] = instant_messages([paper])
    assert balanced(body["text"]) and 0 < visible_length(body["text"]) <= MESSAGE_MAX
    assert body["parse_mode"] == "HTML"


def test_unsafe_links_are_dropped_and_safe_ones_kept() -> None:
    html = paper_html(item(abs_url="javascript:alert(1)", pdf_url='https://x.org/"><b>', code_url="https://github.com/a/b"))
    assert "javascript" not in html and "href=\"https://x.org/\"" not in html
    assert '<a href="https://github.com/a/b">Code</a>' in html


def test_astral_characters_count_twice_as_telegram_counts_utf16() -> None:
    assert visible_length("😀") == 2 and visible_length("&lt;b&gt;") == 3
    assert visible_length(clip_html("😀" * 3000)) <= MESSAGE_MAX


def test_digest_parts_hold_at_most_ten_papers_each_within_the_limit() -> None:
    items = [item(n, summary="long words " * 400) for n in range(1, 24)]
    digest = Digest(Recipient(1, "1"), datetime(2026, 1, 5, tzinfo=UTC), [DigestGroup(1, "diffusion", items, 30)])
    parts = digest_messages(digest, "daily")
    assert sum(len(ids) for ids, _, _ in parts) == 23
    for delivery_ids, paper_ids, body in parts:
        assert len(paper_ids) <= 10 and delivery_ids == paper_ids
        assert visible_length(body["text"]) <= MESSAGE_MAX and balanced(body["text"])
        buttons = [b for row in body["reply_markup"]["inline_keyboard"] for b in row]
        assert len(buttons) == 2 * len(paper_ids)
    assert "part 1/" in parts[0][2]["text"] and "+7 more" in parts[0][2]["text"]


@given(st.lists(st.integers(1, 10**18 - 1), min_size=1, max_size=10, unique=True))
def test_every_button_fits_callback_data_and_reads_back(papers: list[int]) -> None:
    keyboard = vote_keyboard(papers)
    assert keyboard is not None
    for row in keyboard["inline_keyboard"]:
        for button in row:
            assert len(button["callback_data"].encode()) <= CALLBACK_MAX_BYTES
            paper, vote = parse_callback(button["callback_data"]) or (0, 0)
            assert paper in papers and vote in (1, -1)


@pytest.mark.parametrize("data", [None, "", "pb:v:1:x", "pb:v:abc:u", "x" * 65, "pb:v:1:u;drop", 5])
def test_foreign_callback_data_is_ignored(data: object) -> None:
    assert parse_callback(data) is None
