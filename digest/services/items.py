"""Ledger rows → digest items: loads the papers and queries, summarizes, and fills `DigestItem`s.

Called by the email and Discord delivery services (send and preview), search, bench/email.py and the browser test.
Each row is re-checked here against its subscription's CURRENT query (`digest.services.claim_check`): a paper
an edited query no longer matches is closed as DROPPED with the reason and never becomes an item.
Links are derived here (abstract, PDF, Hugging Face page, code) and pass the URL gate, so every renderer
shows the same safe links.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlmodel import col, select

from digest.core.assembly import DigestItem, Recipient
from digest.core.links import with_safe_links
from digest.core.readable import latex_to_unicode, snippet, source_label
from digest.services import trending
from digest.services.claim_check import NO_LONGER_MATCHES, Recheck, close_dropped
from digest.services.load_memory import LoadMemory, PaperPieces, shared_memory
from digest.services.subscribers import query_limits
from digest.settings import Settings
from digest.summaries import summarize_papers
from storage.db import Database
from storage.models import Paper, Subscriber, Subscription

# Papers matched before their query was removed are still delivered (never lost), under this heading.
REMOVED_QUERY = "(a removed query)"


def _papers_and_queries(
    db: Database, paper_ids: Sequence[int], subscription_ids: Sequence[int], memory: LoadMemory
) -> tuple[dict[int, Paper], dict[int, str]]:
    """The papers (as `memory` holds them: a `Paper` made only for content it has not seen) and the
    subscriptions' current queries, in plain reads."""
    with db.session() as session:
        papers = memory.read_papers(session, paper_ids)
        queries = {int(sid): str(query) for sid, query in session.execute(
            select(col(Subscription.id), col(Subscription.query))
            .where(col(Subscription.id).in_(sorted(set(subscription_ids)))))}
    return papers, queries


def _int_or_none(value: object) -> int | None:
    try:
        return int(value) if value is not None else None  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):  # OverflowError: an Infinity stored before ingest refused it
        return None


def _distinct_words(words: object) -> tuple[str, ...]:
    """Matched surface words, one per spelling regardless of case (highlighting ignores case)."""
    if not isinstance(words, list):
        return ()
    seen: dict[str, str] = {}
    for word in words:
        seen.setdefault(str(word).lower(), str(word))
    return tuple(seen.values())


def _paper_item(settings: Settings, paper: Paper, summary: str, light: bool) -> DigestItem:
    """The subscriber-independent part of a paper's item (links gated), with no row of its own yet."""
    assert paper.id is not None
    extras = paper.extras or {}
    arxiv_like = not paper.canonical_id.startswith(("doi:", "hash:"))
    abs_url = paper.abs_url or (f"https://arxiv.org/abs/{paper.canonical_id}" if arxiv_like else None)
    hf_url = extras.get("hf_url") or (
        f"{settings.hf_papers_url.rstrip('/')}/{paper.canonical_id}"
        if any(str(s).startswith("hf:") for s in paper.sources) and arxiv_like
        else None
    )
    readable = (lambda text: text) if light else latex_to_unicode
    return with_safe_links(DigestItem(  # papers stored before the URL gate existed are gated here too
        delivery_id=0, paper_id=paper.id, subscription_id=None, query="",
        title=readable(" ".join(paper.title.split())),
        abs_url=abs_url,
        pdf_url=paper.pdf_url,
        hf_url=hf_url,
        code_url=extras.get("github_repo") or extras.get("code_url"),
        authors=tuple(map(readable, paper.authors or ())),
        categories=tuple(paper.categories or ()),
        published_at=paper.published_at or paper.first_seen_at,
        date_kind="published" if paper.published_at else "first seen",
        summary=readable(summary),
        snippet="",
        source=source_label(paper.sources[0], extras.get("feed_title")) if paper.sources else "",
        upvotes=_int_or_none(extras.get("upvotes")),
        canonical_id=paper.canonical_id,
    ))


def make_item(
    settings: Settings,
    delivery_id: int,
    paper: Paper,
    subscription_id: int | None,
    query: str,
    explanation: dict[str, object],
    summary: str,
    *,
    light: bool = False,
    pieces: PaperPieces | None = None,
) -> DigestItem:
    """One paper as readers see it; `light=True` is for ranking only: no LaTeX conversion, no snippet.
    `pieces`: shared per-paper parts of this very paper content (made here when missing)."""
    assert paper.id is not None
    pieces = pieces or PaperPieces()
    key = (paper.id, summary, light)
    base = pieces.items.get(key)  # `get`: the pieces may be shared with another thread
    if base is None:
        base = pieces.items[key] = _paper_item(settings, paper, summary, light)
    clauses = explanation.get("clauses") or []
    matched = _distinct_words(explanation.get("matched_words") or [])
    shown = ""
    if not light:
        said = (paper.id, summary, matched)
        found = pieces.snippets.get(said)
        if found is None:
            found = snippet(base.summary, paper.abstract or "", matched, title=paper.title)
            pieces.keep_snippet(said, found)
        shown = found
    return replace(
        base, delivery_id=delivery_id, subscription_id=subscription_id, query=query, snippet=shown,
        matched_words=matched,
        title_hits=_int_or_none(explanation.get("title_hits")) or 0,
        abstract_hits=_int_or_none(explanation.get("abstract_hits")) or 0,
        distinct_clauses=len(clauses) if isinstance(clauses, list) else 0,
        reason=" · ".join(filter(None, (followed_reason(explanation), trending.reason(explanation)))),
        trending_rank=_trending_rank(explanation),
    )


def followed_reason(explanation: dict[str, object]) -> str:
    """"by Y. Bengio, whom you follow": the authors an `author:` clause matched, as the paper writes them."""
    people = explanation.get("people")
    if not isinstance(people, list) or not people:
        return ""
    names = [str(name) for name in people[:3]]
    shown = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"by {shown}, whom you follow"


def _trending_rank(explanation: dict[str, object]) -> int | None:
    facts = explanation.get("trending")
    return _int_or_none(facts.get("rank")) if isinstance(facts, dict) else None


Row = tuple[int, int, int | None, dict[str, object]]  # (delivery id, paper id, subscription id, explanation)
Kept = tuple[int, Paper, int | None, str, dict[str, object]]


def _still_wanted(
    settings: Settings, db: Database, rows: Sequence[Row], papers: dict[int, Paper], queries: dict[int, str],
    memory: LoadMemory,
) -> list[tuple[int, Kept]]:
    """The rows whose paper the subscription's current query still matches (with that explanation), each
    with its position in `rows`; the others are closed as DROPPED. Blocking (parsing, matching, one
    UPDATE): run in a worker thread."""
    kept: list[tuple[int, Kept]] = []
    dropped: dict[int, str] = {}
    recheck = Recheck(settings, memory)  # each query parsed once, each (paper, query) matched once
    for position, (delivery_id, paper_id, subscription_id, explanation) in enumerate(rows):
        paper = papers.get(paper_id)
        if paper is None:
            continue
        query = queries.get(subscription_id, REMOVED_QUERY) if subscription_id is not None else REMOVED_QUERY
        if trending.is_trending(query):  # chosen by the day's ranking, not by a query: nothing to re-check
            kept.append((position, (delivery_id, paper, subscription_id, trending.TRENDING_LABEL, explanation)))
            continue
        if query != REMOVED_QUERY:  # the match cycle stores no explanation: the current query's, for shown papers
            current = recheck(paper, query)
            if current is None:
                dropped[delivery_id] = NO_LONGER_MATCHES
                continue
            explanation = current
        kept.append((position, (delivery_id, paper, subscription_id, query, explanation)))
    if dropped:
        close_dropped(db, dropped)
    return kept


def _read_and_check(settings: Settings, db: Database, rows: Sequence[Row], memory: LoadMemory
                    ) -> list[tuple[int, Kept]]:
    """The rows' papers and current queries in one read, then the re-check (blocking: one worker thread)."""
    papers, queries = _papers_and_queries(db, [r[1] for r in rows], [r[2] for r in rows if r[2] is not None],
                                          memory)
    return _still_wanted(settings, db, rows, papers, queries, memory)


async def load_items(settings: Settings, db: Database, rows: Sequence[Row]) -> list[DigestItem]:
    """(delivery id, paper id, subscription id, explanation) rows → digest items with summaries.

    Rows the subscription's current query no longer matches are closed (DROPPED) and left out. What is
    made is remembered for the process's later calls (`shared_memory_of`), as the e-mail pass does.
    """
    loaded = (await load_items_many(settings, db, {0: rows}, memory=shared_memory_of(settings, db)))[0]
    if isinstance(loaded, BaseException):
        raise loaded
    return loaded


def shared_memory_of(settings: Settings, db: Database) -> LoadMemory:
    """The process's `LoadMemory` for this database and these settings (bounded)."""
    return shared_memory(db.url, query_limits(settings), settings.hf_papers_url)


async def load_items_many(
    settings: Settings, db: Database, batches: Mapping[int, Sequence[Row]], *, memory: LoadMemory | None = None
) -> dict[int, list[DigestItem] | Exception]:
    """`load_items` for many subscribers (key: subscriber id) at once: one read of papers and queries, one
    re-check pass with one UPDATE for the dropped rows, one summary lookup for all of them. A subscriber
    whose items cannot be built gets the exception instead of items, so it fails alone.

    `memory`: what earlier batches read and made (papers by content, parsed queries, re-checks, item
    parts), kept by the caller for its later batches; None: a fresh one for this call."""
    keys = list(batches)
    rows = [row for key in keys for row in batches[key]]
    if not rows:
        return {key: [] for key in keys}
    memory = memory or LoadMemory(query_limits(settings))
    kept = await db.run(_read_and_check, settings, db, rows, memory)
    summaries = await summarize_papers(settings, db, list({k[1].id: k[1] for _, k in kept}.values()))
    owner = [key for key in keys for _ in batches[key]]  # position in `rows` -> its subscriber
    grouped: dict[int, list[Kept]] = {key: [] for key in keys}
    for position, row in kept:
        grouped[owner[position]].append(row)
    # LaTeX, snippets and link checks are CPU work: off the event loop, where sends are waiting
    return await asyncio.to_thread(_make_items, settings, grouped, summaries, memory)


def _make_items(settings: Settings, grouped: Mapping[int, list[Kept]], summaries: Mapping[int, str],
                memory: LoadMemory) -> dict[int, list[DigestItem] | Exception]:
    out: dict[int, list[DigestItem] | Exception] = {}
    shared: dict[int, PaperPieces] = {}  # each paper's parts: kept with its content in `memory`
    spare = PaperPieces()  # a paper `memory` no longer holds: its parts made once for these subscribers

    def pieces(paper: Paper) -> PaperPieces:
        found = shared.get(id(paper))
        if found is None:
            entry = memory.entry_of(paper)
            found = shared[id(paper)] = entry.pieces if entry is not None else spare
        return found

    for key, chosen in grouped.items():
        try:
            out[key] = [make_item(settings, delivery_id, paper, subscription_id, query, explanation,
                                  summaries.get(paper.id or 0, ""), pieces=pieces(paper))
                        for delivery_id, paper, subscription_id, query, explanation in chosen]
        except Exception as exc:  # isolation: one subscriber's unreadable paper data fails that digest only
            out[key] = exc
    return out


def recipient_of(subscriber: Subscriber) -> Recipient:
    """The facts about a subscriber that digest assembly needs (email and Discord alike)."""
    assert subscriber.id is not None
    return Recipient(
        subscriber_id=subscriber.id,
        address=subscriber.address,
        display_name=subscriber.display_name,
        timezone=subscriber.timezone,
        schedule=subscriber.schedule,
    )
