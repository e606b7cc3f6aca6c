"""Searching the store ranks every match, not only the newest few, and summarizes what it shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digest.services.errors import InvalidInput
from digest.services.paper_lookup import canonical_ref
from digest.services.search import describe_paper, rank_stored, summarized
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
PUBLISHED = NOW - timedelta(days=1)  # one date for all: freshness ties, where the words matched decides


async def test_the_strongest_match_wins_even_when_it_is_the_oldest(db: Database, settings: Settings) -> None:
    with db.session() as session:
        # stored first (oldest), matched in the title: the strongest match
        session.add(Paper(canonical_id="2601.00001", title="Diffusion transformers at scale",
                          abstract="We propose a model. It outperforms baselines by 3%.",
                          published_at=PUBLISHED, first_seen_at=NOW - timedelta(days=30)))
        for index in range(60):  # many newer, weaker matches (abstract only)
            session.add(Paper(canonical_id=f"2602.{index:05d}", title=f"Unrelated title {index}",
                              abstract="A note that mentions diffusion once.",
                              published_at=PUBLISHED, first_seen_at=NOW - timedelta(hours=index)))

    result, papers = await db.run(rank_stored, settings, db, "diffusion", shown=3,
                                  candidates=settings.discord_search_candidates, now=NOW)
    result = await summarized(settings, db, result, papers)

    assert result.count == 61
    assert len(result.items) == 3
    assert result.items[0].canonical_id == "2601.00001"
    assert result.items[0].summary == "We propose a model. It outperforms baselines by 3%."


async def test_describe_paper_by_id(db: Database, settings: Settings) -> None:
    with db.session() as session:
        session.add(Paper(canonical_id="2410.17243", title="A paper", abstract="We introduce a thing."))
    paper, item = await describe_paper(settings, db, "https://arxiv.org/abs/2410.17243v2")
    assert paper.canonical_id == "2410.17243" and item.title == "A paper"
    assert item.summary == "We introduce a thing."


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("2410.17243", "2410.17243"),
        ("arXiv:2410.17243v2", "2410.17243"),
        ("https://arxiv.org/pdf/2410.17243v1", "2410.17243"),
        ("hep-ph/9411242", "hep-ph/9411242"),
        ("doi:10.1000/ABC.7", "doi:10.1000/abc.7"),  # DOIs are stored case-folded, as ingestion writes them
        ("https://doi.org/10.1000/abc.7", "doi:10.1000/abc.7"),
    ],
)
def test_typed_ids_resolve_like_ingested_ones(typed: str, canonical: str) -> None:
    assert canonical_ref(typed) == canonical


def test_a_typed_id_that_names_nothing_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not an arXiv id or DOI"):
        canonical_ref("my favourite paper")
