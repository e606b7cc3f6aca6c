"""Paper summaries for digests: source summary → optional LLM → extractive TL;DR.

Callers: the email and Discord digest builders and `paperbell summarize` call `summarize_papers`
(async, may use the LLM and its database cache); pure rendering paths that cannot await call
`summary_for(paper)` (source summary, else extractive). Every path ends in a non-empty summary of
at most `SUMMARY_MAX_CHARS` characters for a paper with an abstract; the LLM never blocks a digest:
any error, timeout, rate limit, malformed or overlong answer falls back to the extractive summary
and is counted in `digest.summaries.llm.SUMMARY_FALLBACKS`. `summarize_papers` makes the source and
extractive summaries in a worker thread: a delivery pass's event loop only waits for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Protocol

import httpx
from sqlmodel import col, select

from digest.settings import Settings
from digest.summaries.extractive import extractive_summary
from digest.summaries.llm import SUMMARIES, SUMMARY_FALLBACKS, LLMError, LLMSummarizer
from digest.summaries.source import source_summary
from storage.db import Database
from storage.models import Paper, SummaryCache

__all__ = ["SUMMARY_MAX_CHARS", "Summarizer", "extractive_summary", "llm_enabled", "summarize_papers", "summary_for"]

log = logging.getLogger(__name__)

SUMMARY_MAX_CHARS = 300
# After this many failures that say "the endpoint is down or overloaded", stop asking it for this batch.
CIRCUIT_BREAK_AFTER = 3
_OUTAGE_REASONS = frozenset({"timeout", "transport", "http_429"})


class Summarizer(Protocol):
    """Anything that turns a title and abstract into a TL;DR (raising to mean "fall back")."""

    name: str

    async def summarize(self, title: str, abstract: str) -> str: ...


class ExtractiveSummarizer:
    """The no-model summarizer behind the same interface (used for the last link of the chain)."""

    name = "extractive"

    def __init__(self, max_chars: int = SUMMARY_MAX_CHARS) -> None:
        self.max_chars = max_chars

    async def summarize(self, title: str, abstract: str) -> str:
        return _extractive_or_title(title, abstract, self.max_chars)


def _extractive_or_title(title: str, abstract: str, max_chars: int) -> str:
    return extractive_summary(abstract, max_chars) or title[:max_chars]


def summary_for(paper: Paper, max_chars: int = SUMMARY_MAX_CHARS) -> str:
    """Synchronous summary for rendering: the source's own summary, else the extractive TL;DR."""
    return source_summary(paper.extras, max_chars) or extractive_summary(paper.abstract or "", max_chars)


def llm_enabled(settings: Settings) -> bool:
    return settings.summarizer == "llm" and bool(settings.llm_base_url)


def _load_cache(db: Database, paper_ids: list[int], model: str) -> dict[int, str]:
    with db.session() as session:
        rows = session.exec(
            select(SummaryCache).where(col(SummaryCache.paper_id).in_(paper_ids), SummaryCache.model == model)
        ).all()
        return {row.paper_id: row.summary for row in rows}


def _store_cache(db: Database, model: str, summaries: dict[int, str]) -> None:
    # ON CONFLICT DO NOTHING: two workers summarizing the same paper both succeed; the first row stays.
    rows = [{"paper_id": pid, "model": model, "summary": text} for pid, text in summaries.items()]
    statement = db.insert(SummaryCache).values(rows).on_conflict_do_nothing()
    with db.session() as session:
        session.execute(statement)


async def _llm_summaries(settings: Settings, papers: Sequence[Paper]) -> dict[int, str]:
    """Ask the endpoint for each paper (bounded concurrency); failures are counted and left out."""
    assert settings.llm_base_url
    api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    semaphore = asyncio.Semaphore(settings.llm_max_concurrency)
    outages = 0
    results: dict[int, str] = {}

    async with httpx.AsyncClient() as client:
        summarizer: Summarizer = LLMSummarizer(
            client, base_url=settings.llm_base_url, model=settings.llm_model, api_key=api_key,
            timeout=settings.llm_timeout, max_chars=SUMMARY_MAX_CHARS,
        )

        async def one(paper: Paper) -> None:
            nonlocal outages
            async with semaphore:
                try:
                    if outages >= CIRCUIT_BREAK_AFTER:
                        raise LLMError("skipped", "endpoint failing in this batch")
                    text = await summarizer.summarize(paper.title, paper.abstract or "")
                except LLMError as exc:
                    if exc.reason in _OUTAGE_REASONS or exc.reason.startswith("http_5"):
                        outages += 1
                    SUMMARY_FALLBACKS.labels(reason=exc.reason).inc()
                    log.info("LLM summary for paper %s fell back to extractive: %s", paper.id, exc)
                    return
                assert paper.id is not None
                results[paper.id] = text

        await asyncio.gather(*(one(p) for p in papers))
    return results


def _unique(papers: Iterable[Paper]) -> list[Paper]:
    seen: set[int] = set()
    unique = []
    for paper in papers:
        if paper.id is not None and paper.id not in seen:
            seen.add(paper.id)
            unique.append(paper)
    return unique


def _local_summaries(papers: Sequence[Paper], *, extractive: bool) -> tuple[dict[int, str], list[Paper]]:
    """(summary per paper id, the papers still without one): the source's own summary, and with
    `extractive` the extractive TL;DR for the others. Pure CPU (sentence splitting and scoring): callers
    run it in a worker thread, off the event loop where sends are waiting."""
    summaries: dict[int, str] = {}
    pending: list[Paper] = []
    for paper in papers:
        assert paper.id is not None
        text = source_summary(paper.extras, SUMMARY_MAX_CHARS)
        if text:
            summaries[paper.id] = text
        else:
            pending.append(paper)
    SUMMARIES.labels(method="source").inc(len(summaries))
    if not extractive:
        return summaries, pending
    for paper in pending:
        assert paper.id is not None
        summaries[paper.id] = _extractive_or_title(paper.title, paper.abstract or "", SUMMARY_MAX_CHARS)
    SUMMARIES.labels(method="extractive").inc(len(pending))
    return summaries, []


async def summarize_papers(settings: Settings, db: Database | None, papers: list[Paper]) -> dict[int, str]:
    """Summary per paper id, via source summary → LLM (if configured, cached in the DB) → extractive.

    `db=None` skips the cache (papers read from a file, not stored). Papers without an id are skipped.
    """
    unique = _unique(papers)
    if not unique:
        return {}
    llm = llm_enabled(settings)
    summaries, pending = await asyncio.to_thread(_local_summaries, unique, extractive=not llm)
    if pending:  # the LLM is configured: its cache, then the endpoint, then the extractive fallback
        model = settings.llm_model
        ids = [p.id for p in pending if p.id is not None]
        cached = await db.run(_load_cache, db, ids, model) if db is not None else {}
        summaries.update(cached)
        SUMMARIES.labels(method="cache").inc(len(cached))
        fresh = await _llm_summaries(settings, [p for p in pending if p.id not in cached])
        summaries.update(fresh)
        SUMMARIES.labels(method="llm").inc(len(fresh))
        if fresh and db is not None:
            try:
                await db.run(_store_cache, db, model, fresh)
            except Exception:  # a cache write must never cost the digest its summaries
                log.exception("could not cache %d LLM summaries", len(fresh))
        rest = [p for p in pending if p.id not in summaries]
        if rest:
            summaries.update((await asyncio.to_thread(_local_summaries, rest, extractive=True))[0])
    return summaries
