"""digest.discord.render: papers render within limits, cut cleanly, pack into few messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.core.assembly import DigestItem, Recipient, build_digest
from digest.discord.render import (
    DESCRIPTION_MAX,
    EMBEDS_PER_MESSAGE,
    MESSAGE_TOTAL_MAX,
    TITLE_MAX,
    clip,
    digest_messages,
    embed_length,
    highlight,
    pack,
    paper_embed,
)


def item(
    n: int = 1, title: str = "Diffusion models", summary: str = "A diffusion model.", **extra: object
) -> DigestItem:
    return DigestItem(
        delivery_id=n, paper_id=n, subscription_id=1, query="diffusion", title=title,
        abs_url=f"https://arxiv.org/abs/2501.{n:05d}", pdf_url=None, authors=("A", "B"), categories=("cs.LG",),
        published_at=datetime(2025, 1, 2, tzinfo=UTC), summary=summary, matched_words=("diffusion",),
        canonical_id=f"2501.{n:05d}", **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("one two three four", 10, "one two…"),
        ("abcdefghijklmnop", 8, "abcdefg…"),
        ("**bold words** and more text", 12, "bold…"),
        ("a **bold** b c d e f g h", 16, "a **bold** b c…"),
        ("keep \\", 5, "keep…"),
    ],
)
def test_clip_cuts_at_words_and_never_mid_markup(text: str, limit: int, expected: str) -> None:
    clipped = clip(text, limit)
    assert len(clipped) <= limit
    assert clipped == expected


def test_highlight_bolds_matched_words_and_escapes_markdown() -> None:
    assert highlight("Diffusion *rocks* [x](y)", ["diffusion"]) == "**Diffusion** \\*rocks\\* \\[x\\]\\(y\\)"


def test_paper_embed_has_link_authors_categories_and_footer() -> None:
    embed = paper_embed(item(upvotes=7, hf_url="https://huggingface.co/papers/2501.00001"))
    assert embed["url"] == "https://arxiv.org/abs/2501.00001"
    assert embed["author"]["name"] == "A, B"
    assert embed["fields"][0] == {"name": "Categories", "value": "cs.LG", "inline": True}
    assert "A **diffusion** model." in embed["description"]
    assert "[Hugging Face](<https://huggingface.co/papers/2501.00001>)" in embed["description"]
    assert embed["footer"]["text"] == "2501.00001 · arXiv, Hugging Face · ▲ 7 upvotes"


@settings(max_examples=40, deadline=None)
@given(title=st.text(min_size=1, max_size=600), summary=st.text(max_size=9000), count=st.integers(1, 30))
def test_messages_always_fit_discord_limits(title: str, summary: str, count: int) -> None:
    embeds = [paper_embed(item(n, title=title, summary=summary)) for n in range(1, count + 1)]
    messages = pack(embeds)
    assert sum(len(m["embeds"]) for m in messages) == count
    for message in messages:
        assert 1 <= len(message["embeds"]) <= EMBEDS_PER_MESSAGE
        assert sum(embed_length(e) for e in message["embeds"]) <= MESSAGE_TOTAL_MAX
        for embed in message["embeds"]:
            assert len(embed["title"]) <= TITLE_MAX and len(embed["description"]) <= DESCRIPTION_MAX


def test_digest_batches_embeds_with_a_header_per_message() -> None:
    items = [item(n) for n in range(1, 24)]
    digest = build_digest(Recipient(subscriber_id=1, address="123"), items, now=datetime(2025, 1, 3, tzinfo=UTC))
    messages = digest_messages(digest, "daily")
    assert [len(m["embeds"]) for _, m in messages] == [10, 10, 3]
    assert sorted(i for ids, _ in messages for i in ids) == list(range(1, 24))
    assert messages[0][1]["content"].startswith("**daily digest** — 23 new papers for 1 query (part 1/3)")
    assert "`diffusion`: 23" in messages[0][1]["content"]
    assert "`diffusion`" not in messages[1][1]["content"]
