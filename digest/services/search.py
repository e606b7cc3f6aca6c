"""Look up stored papers: a query's strongest matches first (/search), or one paper by id (/paper).

Every stored match is ranked with the digests' ranking (`digest.assembly.rank_digest_items`), not
just the newest few; only the papers actually shown are summarized, so a broad query costs one
matcher pass plus `shown` summaries.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from digest.assembly import DigestItem, rank_digest_items
from digest.delivery.items import make_item
from digest.services.paper_lookup import find_paper
from digest.services.preview import preview_query
from digest.settings import Settings
from digest.summaries import summarize_papers
from storage.db import Database
from storage.models import Paper
from storage.types import utcnow

SEARCH_DAYS = 36_500  # "stored papers": the whole store, not a recent window


@dataclass
class SearchResult:
    count: int  # every stored paper the query matches
    items: list[DigestItem]  # the strongest `shown` of them, summarized


async def search_stored(
    settings: Settings, db: Database, query_text: str, *, shown: int = 5, now: datetime | None = None
) -> SearchResult:
    """Rank all stored matches of `query_text`; raises `QueryError` for an invalid query."""
    now = now or utcnow()
    preview = await db.run(preview_query, db, settings, query_text, days=SEARCH_DAYS, limit=None, now=now)
    papers = {paper.id: paper for paper, _ in preview.examples}
    # Ranking needs no summary; summarize after choosing, so a broad query stays cheap.
    candidates = [
        make_item(settings, 0, paper, None, query_text, explanation.to_dict(), "")
        for paper, explanation in preview.examples
    ]
    best = rank_digest_items(candidates, now)[:shown]
    summaries = await summarize_papers(settings, db, [papers[item.paper_id] for item in best])
    return SearchResult(
        count=preview.count,
        items=[replace(item, summary=summaries.get(item.paper_id, "")) for item in best],
    )


async def describe_paper(settings: Settings, db: Database, reference: str) -> tuple[Paper, DigestItem]:
    """One stored paper by id (arXiv id, URL, DOI), as the item a post shows; raises `NotFound`."""
    paper = await db.run(find_paper, db, reference)
    summaries = await summarize_papers(settings, db, [paper])
    return paper, make_item(settings, 0, paper, None, "", {}, summaries.get(paper.id or 0, ""))
