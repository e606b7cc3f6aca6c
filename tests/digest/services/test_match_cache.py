"""The matcher kept between cycles: the same ledger as a fresh compile, whatever changed in between."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlmodel import select

from digest.query import Matcher, PaperDoc, QueryLimits, analyze_doc, match_query, parse_query
from digest.services import match_sets
from digest.services import subscribers as service
from digest.services.match_cache import MatcherCache, explain, forget_caches
from digest.services.matching import run_match_cycle
from digest.settings import Settings
from storage.db import Database
from storage.models import Cursor, Delivery, Paper, Subscription

LIMITS = QueryLimits()
TEXTS = [
    "diffusion", "llm", "reasoning", '"language model"', "ti:diffusion", "sparse autoencoder",
    "diffusion -video", "cat:cs.LG", "robot*", "llm OR reasoning", '"chain of thought" reasoning', "video",
    "au:smith", "(graph OR graphs) neural", "this-query-never-parses (",
]
DOCS = [
    PaperDoc("a", "Diffusion models for video", "We train a language model.", ["J. Smith"], ["cs.CV"]),
    PaperDoc("b", "LLM reasoning with chain of thought", "Reasoning in a large language model.", [], ["cs.CL"]),
    PaperDoc("c", "Sparse autoencoders", "Robotics and robots; graph neural networks.", ["A. Lee"], ["cs.LG"]),
    PaperDoc("d", "Nothing related", "Plain abstract about soil.", [], ["q-bio.NC"]),
]


def pairs(matcher: Matcher) -> list[tuple[int, int]]:
    sids, docs = matcher.match_pairs([analyze_doc(d) for d in DOCS])
    return list(zip(sids.tolist(), docs.tolist(), strict=True))


def oracle_pairs(rows: dict[int, str]) -> list[tuple[int, int]]:
    out = []
    for sid in sorted(rows):
        try:
            query = parse_query(rows[sid], LIMITS)
        except Exception:
            continue
        out.extend((sid, i) for i, doc in enumerate(DOCS) if match_query(query, doc) is not None)
    return out


# one step: set subscription `sid` to a query text (add or edit), or remove it (None)
steps = st.lists(st.tuples(st.integers(1, 12), st.none() | st.sampled_from(TEXTS)), max_size=40)


@hsettings(max_examples=60, deadline=None)
@given(steps)
def test_incremental_matcher_equals_a_fresh_compile(changes: list[tuple[int, str | None]]) -> None:
    cache = MatcherCache(LIMITS)
    rows: dict[int, str] = {}
    for sid, text in changes:
        if text is None:
            rows.pop(sid, None)
        else:
            rows[sid] = text
        cache.sync([(s, 100 + s % 3, t) for s, t in rows.items()])
        fresh = MatcherCache(LIMITS)
        fresh.sync([(s, 100 + s % 3, t) for s, t in rows.items()])
        assert pairs(cache.matcher) == pairs(fresh.matcher) == oracle_pairs(rows)
        assert cache.owners == fresh.owners
        assert cache.invalid == sorted(s for s, t in rows.items() if t.endswith("("))


def add_papers(db: Database, prefix: str, docs: list[PaperDoc]) -> list[int]:
    with db.session() as session:
        papers = [
            Paper(canonical_id=f"{prefix}.{i}", title=d.title, abstract=d.abstract, authors=list(d.authors),
                  categories=list(d.categories))
            for i, d in enumerate(docs)
        ]
        session.add_all(papers)
        session.flush()
        return [p.id or 0 for p in papers]


def ledger(db: Database) -> list[tuple[int, int, int | None, str, dict[str, Any]]]:
    """The ledger as delivery reads it: recorded matches expanded into rows first."""
    match_sets.expand_now(db)
    with db.session() as session:
        rows = session.exec(select(Delivery).order_by(Delivery.subscriber_id, Delivery.paper_id)).all()  # type: ignore[arg-type]
        return [(d.subscriber_id, d.paper_id, d.subscription_id, d.status, d.explanation) for d in rows]


def test_cached_cycle_writes_the_ledger_of_a_fresh_compile(db: Database, settings: Settings) -> None:
    ids = {}
    for name in ("ada", "grace", "alan"):
        ids[name] = service.add_subscriber(db, settings, "email", f"{name}@example.org").id
    subs = {
        (name, text): service.add_subscription(db, settings, f"{name}@example.org", text).id
        for name, text in [("ada", "diffusion"), ("ada", "llm"), ("grace", "reasoning"), ("grace", "video"),
                           ("alan", "robot*"), ("alan", "cat:cs.LG")]
    }
    add_papers(db, "first", DOCS)
    forget_caches()
    run_match_cycle(db, settings)  # warms the cache
    before = ledger(db)

    # every kind of change between two cycles
    service.add_subscription(db, settings, "alan@example.org", '"language model"')  # added
    with db.session() as session:  # edited in place (the web form's edit)
        edited = session.get(Subscription, subs[("ada", "diffusion")])
        assert edited is not None
        edited.query = "sparse autoencoder"
        session.add(edited)
    service.set_subscription_paused(db, subs[("grace", "reasoning")] or 0, True)  # paused
    service.remove_subscription(db, subs[("alan", "robot*")] or 0)  # removed
    service.set_subscriber_paused(db, "grace@example.org", True, "holiday")  # a whole subscriber paused
    paper_ids = add_papers(db, "second", DOCS)
    with db.session() as session:
        cursor = session.get(Cursor, "match")
        assert cursor is not None
        start = cursor.value

    report = run_match_cycle(db, settings)
    cached = ledger(db)
    assert report.papers == len(DOCS)

    # the same cycle again from a cold process: delete its rows, rewind the cursor, forget the cache
    match_sets.expand_now(db)
    with db.session() as session:
        for row in session.exec(select(Delivery).where(Delivery.paper_id.in_(paper_ids))).all():  # type: ignore[attr-defined]
            session.delete(row)
        cursor = session.get(Cursor, "match")
        assert cursor is not None
        cursor.value = start
        session.add(cursor)
    forget_caches()
    run_match_cycle(db, settings)
    assert ledger(db) == cached
    new = [row for row in cached if row[1] in paper_ids]
    assert [row for row in cached if row[1] not in paper_ids] == [
        (*row[:2], None if row[2] == subs[("alan", "robot*")] else row[2], *row[3:]) for row in before
    ]  # the first cycle's rows are untouched (a removed query's rows lose their subscription id)
    # and what the reference evaluator says: Ada's edited query and llm, Alan's category and phrase
    expected = set()
    active = [(ids["ada"], "sparse autoencoder"), (ids["ada"], "llm"), (ids["alan"], "cat:cs.LG"),
              (ids["alan"], '"language model"')]
    for subscriber, text in active:
        for paper_id, doc in zip(paper_ids, DOCS, strict=True):
            if match_query(parse_query(text, LIMITS), doc) is not None:
                expected.add((subscriber, paper_id))
    assert {(row[0], row[1]) for row in new} == expected
    assert all(row[3] == "pending" and row[4] == {} for row in new)


def test_explanations_are_built_at_delivery_time() -> None:
    doc = DOCS[1]
    shown = explain(7, doc, '"chain of thought"', LIMITS)
    assert shown["matched_words"] == ["chain", "of", "thought"]
    assert shown["clauses"] == [{"clause": '"chain of thought"', "fields": ["title"]}]
    # a query edited after the match, or no longer valid, explains nothing rather than failing
    assert explain(7, doc, "soil", LIMITS) == {}
    assert explain(7, doc, "(", LIMITS) == {}


def test_ledger_rows_dedupe_per_subscriber_keeping_the_lowest_subscription() -> None:
    from digest.services.matching import ledger_rows

    pair_sids = np.array([1, 1, 2, 3, 3], np.int64)
    pair_docs = np.array([0, 1, 1, 0, 1], np.int32)
    sids = np.array([1, 2, 3], np.int64)
    owners = np.array([10, 10, 20], np.int64)
    subscribers, papers, subscriptions = ledger_rows(pair_sids, pair_docs, sids, owners, np.array([500, 501]))
    assert list(zip(subscribers.tolist(), papers.tolist(), subscriptions.tolist(), strict=True)) == [
        (10, 500, 1), (10, 501, 1), (20, 500, 3), (20, 501, 3),
    ]


def test_delivery_shows_the_explanation_built_on_demand(db: Database, settings: Settings) -> None:
    import asyncio

    from digest.services.items import load_items

    service.add_subscriber(db, settings, "email", "ada@example.org")
    kept = service.add_subscription(db, settings, "ada@example.org", '"chain of thought"')
    add_papers(db, "shown", DOCS)
    run_match_cycle(db, settings)
    match_sets.expand_now(db)
    with db.session() as session:
        row = session.exec(select(Delivery)).one()
    items = asyncio.run(load_items(settings, db, [(row.id or 0, row.paper_id, row.subscription_id, row.explanation)]))
    # what the email highlights and Discord's "matched" line show
    assert items[0].matched_words == ("chain", "of", "thought") and items[0].title_hits == 1
    assert items[0].query == '"chain of thought"' and row.subscription_id == kept.id
