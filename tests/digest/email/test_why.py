"""A digest that says why: LaTeX rendered, a highlighted snippet when the TL;DR lacks the matched words,
labelled dates, no stray separators, an "at a glance" list in long digests."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from digest.core.assembly import Recipient, build_digest
from digest.email.render import GLANCE_MIN, Links, render_digest
from digest.services.items import make_item
from digest.settings import Settings
from storage.models import Paper

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WHO = Recipient(subscriber_id=1, address="ada@example.org")
LINKS = Links("https://p.test/manage", "https://p.test/unsubscribe")


def _paper(n: int, *, published: datetime | None, authors: list[str] | None = None) -> Paper:
    return Paper(id=n, canonical_id=f"2503.{n:05d}", title=r"Learning with $\alpha$-divergences",
                 abstract="These agents, proficient in many tasks, stall. We add retrieval to planning. Done.",
                 authors=authors if authors is not None else [r"Jan Hajdu\v{s}ek"], published_at=published,
                 first_seen_at=NOW, sources=["arxiv:cs.LG"])


def test_item_shows_latex_as_unicode_snippet_and_labelled_dates(settings: Settings) -> None:
    explanation = {"matched_words": ["retrieval"], "clauses": [{"clause": "retrieval", "fields": ["abstract"]}]}
    known = make_item(settings, 1, _paper(1, published=datetime(2025, 4, 28, tzinfo=UTC)), 1, "retrieval",
                      explanation, "These agents, proficient in many tasks, stall.")
    assert known.title == "Learning with α-divergences" and known.authors == ("Jan Hajdušek",)
    assert known.snippet == "We add retrieval to planning."
    unknown = make_item(settings, 2, _paper(2, published=None, authors=[]), 1, "retrieval", explanation, "x")
    mail = render_digest(build_digest(WHO, [known, unknown], now=NOW), LINKS)
    assert re.search(r"Why it matched: “We add <mark[^>]*>retrieval</mark> to planning.”", mail.html)
    assert 'Why it matched: "We add retrieval to planning."' in mail.text
    assert "published 28 Apr 2025" in mail.text and "first seen 02 Mar 2026" in mail.text
    assert '<p class="meta"> ·' not in mail.html and "\n   · " not in mail.text and "\n  · " not in mail.text
    assert "\\v{s}" not in mail.html and "Hajdušek" in mail.html


def test_long_digests_open_with_titles_at_a_glance(settings: Settings) -> None:
    explanation = {"matched_words": ["retrieval"], "clauses": []}
    items = [make_item(settings, n, _paper(n, published=NOW), 1, "retrieval", explanation, "We add retrieval.")
             for n in range(1, GLANCE_MIN + 1)]
    mail = render_digest(build_digest(WHO, items, now=NOW), LINKS)
    assert "At a glance" in mail.html and f'href="#p{GLANCE_MIN}"' in mail.html and f'id="p{GLANCE_MIN}"' in mail.html
    assert "At a glance:" in mail.text and f"  {GLANCE_MIN}. Learning with α-divergences" in mail.text
    short = render_digest(build_digest(WHO, items[: GLANCE_MIN - 1], now=NOW), LINKS)
    assert "At a glance" not in short.html and "At a glance" not in short.text


def test_discord_footer_never_shows_internal_ids_and_names_sources_readably(settings: Settings) -> None:
    from digest.discord.render import paper_embed

    paper = Paper(id=9, canonical_id="hash:0cc86a6e95746ea6", title="A paper", abstract="Retrieval.",
                  first_seen_at=NOW, sources=["file:/srv/data/seed_papers.jsonl"])
    item = make_item(settings, 9, paper, 1, "retrieval", {"matched_words": ["retrieval"]}, "Retrieval.")
    embed = paper_embed(item)
    assert embed["footer"]["text"] == "seed_papers.jsonl" and "timestamp" not in embed  # first seen ≠ published
    assert paper_embed(item, sources=["arxiv:cs.LG", "hf:daily", "feed:https://lab.example.org/rss"])[
        "footer"]["text"] == "arXiv, Hugging Face, lab.example.org"
