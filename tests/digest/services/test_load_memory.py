"""What loading digest items remembers between batches and passes (digest.services.load_memory) never shows
what the database no longer says: a v2 of a paper shows its new text, an edited query still drops what
it no longer matches, and every store keeps to its bound (real database; SQLite or PostgreSQL by
PAPERBELL_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlmodel import select

from digest import summaries
from digest.core.assembly import DigestItem
from digest.services import subscribers as service
from digest.services.claim_check import NO_LONGER_MATCHES
from digest.services.items import Row, load_items_many, shared_memory_of
from digest.services.load_memory import LoadMemory, sizes
from digest.services.outbox import pending_rows
from digest.services.subscribers import query_limits
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Paper
from tests.digest.email.conftest import add_papers, add_subscriber, match

PAPERS = [
    ("Diffusion models for protein design", "We propose a diffusion model for proteins."),
    ("Video diffusion at scale", "We train a diffusion model for video."),
    ("Latent diffusion with fewer steps", "We present a faster diffusion sampler."),
]


def states(db: Database, subscriber_id: int) -> dict[str, tuple[str, str | None]]:
    with db.session() as session:
        rows = session.exec(select(Paper.title, Delivery.status, Delivery.last_error).join(
            Delivery, Delivery.paper_id == Paper.id).where(Delivery.subscriber_id == subscriber_id)).all()  # type: ignore[arg-type]
    return {title: (status, error) for title, status, error in rows}


def edit_paper(db: Database, paper_id: int, **changes: object) -> None:
    with db.session() as session:
        paper = session.get(Paper, paper_id)
        assert paper is not None
        for name, value in changes.items():
            setattr(paper, name, value)
        session.add(paper)


async def items_of(settings: Settings, db: Database, memory: LoadMemory, *subscriber_ids: int
                   ) -> dict[int, list[DigestItem]]:
    loaded = await load_items_many(settings, db, {s: pending_rows(db, s) for s in subscriber_ids}, memory=memory)
    assert all(isinstance(v, list) for v in loaded.values()), loaded
    return loaded  # type: ignore[return-value]


async def test_a_v2_of_a_paper_remembered_shows_its_new_text(settings: Settings, db: Database) -> None:
    ada = add_subscriber(db, settings, "ada@example.org", ["diffusion"])
    first, *_ = add_papers(db, PAPERS)
    match(db, settings)
    memory = LoadMemory(query_limits(settings))
    before = {i.paper_id: i for i in (await items_of(settings, db, memory, ada.id or 0))[ada.id or 0]}
    assert before[first].title == PAPERS[0][0] and before[first].upvotes == 7

    edit_paper(db, first, title="Diffusion models for $\\alpha$-helix design", version=2,
               abstract="We propose a diffusion model for helices.", extras={"upvotes": 40})
    after = {i.paper_id: i for i in (await items_of(settings, db, memory, ada.id or 0))[ada.id or 0]}
    assert after[first].title == "Diffusion models for α-helix design"  # the new text, converted
    assert after[first].summary == "We propose a diffusion model for helices."
    assert after[first].upvotes == 40
    assert {p: i.title for p, i in after.items() if p != first} == {p: i.title for p, i in before.items() if p != first}
    fresh = await items_of(settings, db, LoadMemory(query_limits(settings)), ada.id or 0)
    assert list(after.values()) == fresh[ada.id or 0], "remembered or not, the same items"


async def test_a_v2_that_no_longer_matches_is_dropped_though_its_v1_was_remembered(
    settings: Settings, db: Database
) -> None:
    ada = add_subscriber(db, settings, "ada@example.org", ["ti:protein"])
    [paper] = add_papers(db, PAPERS[:1])
    match(db, settings)
    memory = LoadMemory(query_limits(settings))
    assert len((await items_of(settings, db, memory, ada.id or 0))[ada.id or 0]) == 1
    edit_paper(db, paper, title="Diffusion models for RNA design")
    assert (await items_of(settings, db, memory, ada.id or 0))[ada.id or 0] == []
    assert states(db, ada.id or 0) == {"Diffusion models for RNA design": (DeliveryStatus.DROPPED.value,
                                                                           NO_LONGER_MATCHES)}


async def test_a_query_edited_between_two_batches_of_one_pass_still_drops(settings: Settings, db: Database) -> None:
    ada = add_subscriber(db, settings, "ada@example.org", ["diffusion"])
    bob = add_subscriber(db, settings, "bob@example.org", ["diffusion"])
    add_papers(db, PAPERS)
    match(db, settings)
    memory = shared_memory_of(settings, db)  # what the e-mail pass's batches share
    assert len((await items_of(settings, db, memory, ada.id or 0))[ada.id or 0]) == 3  # batch 1: remembered
    [bobs] = service.list_subscriptions(db, subscriber_id=bob.id)
    service.edit_query(db, settings, bobs.id or 0, "ti:protein")
    assert [i.title for i in (await items_of(settings, db, memory, bob.id or 0))[bob.id or 0]] == [PAPERS[0][0]]
    assert {t: s for t, s in states(db, bob.id or 0).items() if "protein" not in t} == {
        t: (DeliveryStatus.DROPPED.value, NO_LONGER_MATCHES) for t, _ in PAPERS[1:]}
    assert DeliveryStatus.DROPPED.value not in {s for s, _ in states(db, ada.id or 0).values()}


async def test_every_store_keeps_to_its_bound_and_gives_the_same_items(settings: Settings, db: Database) -> None:
    readers = [add_subscriber(db, settings, f"r{n}@example.org", [q])
               for n, q in enumerate(["diffusion", "ti:diffusion", "diffusion AND model", "video OR protein"])]
    add_papers(db, PAPERS)
    match(db, settings)
    small = LoadMemory(query_limits(settings), papers=2, pairs=3, queries=1)
    ids = [r.id or 0 for r in readers]
    for _ in range(2):  # a second pass over what the small memory had to forget
        remembered = await items_of(settings, db, small, *ids)
        assert sizes(small) == (2, 1, 3)
    fresh = await items_of(settings, db, LoadMemory(query_limits(settings)), *ids)
    assert remembered == fresh
    assert [len(remembered[i]) for i in ids] == [3, 3, 2, 2]


async def test_a_poison_paper_fails_each_digest_it_is_in_every_time(settings: Settings, db: Database) -> None:
    good, poison = add_papers(db, PAPERS[:2])
    edit_paper(db, poison, authors=[["not", "a", "name"]])  # what a broken import could have stored
    memory = LoadMemory(query_limits(settings))
    rows: dict[int, list[Row]] = {1: [(11, good, None, {}), (12, poison, None, {})], 2: [(21, good, None, {})]}
    for _ in range(2):  # nothing of the poison paper is remembered as made
        loaded = await load_items_many(settings, db, rows, memory=memory)
        assert isinstance(loaded[1], Exception)
        assert [i.delivery_id for i in loaded[2]] == [21]  # type: ignore[union-attr]


async def test_summaries_are_made_off_the_event_loop(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add_papers(db, PAPERS)
    with db.session() as session:
        papers = list(session.exec(select(Paper).where(Paper.id.in_(ids))).all())  # type: ignore[union-attr]
    threads: list[threading.Thread] = []
    original = summaries.extractive_summary

    def recording(abstract: str, max_chars: int = 300) -> str:
        threads.append(threading.current_thread())
        return original(abstract, max_chars)

    monkeypatch.setattr(summaries, "extractive_summary", recording)
    made = await summaries.summarize_papers(settings, db, papers)
    assert made == {p.id: original(p.abstract) for p in papers}
    assert threads and threading.main_thread() not in threads
    assert asyncio.get_running_loop() is not None


def test_the_shared_memory_is_one_per_database_limits_and_papers_url(settings: Settings, db: Database) -> None:
    assert shared_memory_of(settings, db) is shared_memory_of(settings, db)
    other_url = settings.model_copy(update={"hf_papers_url": "https://papers.example/"})
    narrower = settings.model_copy(update={"query_max_clauses": settings.query_max_clauses - 1})
    assert shared_memory_of(other_url, db) is not shared_memory_of(settings, db)  # links are in item parts
    assert shared_memory_of(narrower, db).limits == query_limits(narrower)  # queries parsed under these
