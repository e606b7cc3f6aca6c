"""Look up stored papers: a query's strongest matches first (/search), or one paper by id (/paper).

Shared by every channel with a search command (Discord's /search, a chat platform's search command);
each renders the result its own way.

Bounded: the newest `candidates` stored matches are ranked with the digests' ranking
(`digest.core.assembly.rank_digest_items`), so a broad query on a large store costs at most one scan that
stops early plus a rank over `candidates` items. `rank_stored` is blocking (database + CPU): callers run
it in a worker thread (the bot uses its own bounded executor). Only the papers actually shown are
summarized.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from digest.core.assembly import DigestItem, rank_digest_items
from digest.services.items import make_item
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
    count: int  # stored papers the query matches (a floor when `complete` is False)
    items: list[DigestItem]  # the strongest `shown` of them, summarized
    complete: bool = True
    warnings: list[str] = field(default_factory=list)  # the parser's, about parts that look unintended


def rank_stored(
    settings: Settings, db: Database, query_text: str, *, shown: int = 5, candidates: int = 2000,
    now: datetime | None = None,
) -> tuple[SearchResult, dict[int, Paper]]:
    """Rank the newest `candidates` stored matches of `query_text` (blocking); raises `QueryError`."""
    now = now or utcnow()
    preview = preview_query(db, settings, query_text, days=SEARCH_DAYS, limit=None, now=now, stop_after=candidates)
    papers = {paper.id or 0: paper for paper, _ in preview.examples}
    items = [
        make_item(settings, 0, paper, None, query_text, explanation.to_dict(), "")
        for paper, explanation in preview.examples
    ]
    best = rank_digest_items(items, now)[:shown]
    result = SearchResult(preview.count, best, preview.complete, preview.warnings)
    return result, {i.paper_id: papers[i.paper_id] for i in best}


async def summarized(settings: Settings, db: Database, result: SearchResult, papers: dict[int, Paper]
                     ) -> SearchResult:
    """The result with each shown paper's summary filled in (summarize after ranking keeps search cheap)."""
    summaries = await summarize_papers(settings, db, list(papers.values()))
    return replace(result, items=[replace(item, summary=summaries.get(item.paper_id, "")) for item in result.items])


async def describe_paper(settings: Settings, db: Database, reference: str) -> tuple[Paper, DigestItem]:
    """One stored paper by id (arXiv id, URL, DOI), as the item a post shows; raises `NotFound`."""
    paper = await db.run(find_paper, db, reference)
    summaries = await summarize_papers(settings, db, [paper])
    return paper, make_item(settings, 0, paper, None, "", {}, summaries.get(paper.id or 0, ""))
