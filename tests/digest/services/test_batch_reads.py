"""What a delivery pass reads once for a batch of subscribers keeps each subscriber's answer: the re-check
with queries parsed once per batch, the per-paper parts made once, the digests' extras and the ranking
inputs read together (real database; SQLite or PostgreSQL by PAPERBELL_DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from digest.core.assembly import DigestItem, rank_digest_items
from digest.query import parse_query
from digest.services import claim_check, feedback, lifecycle
from digest.services import subscribers as service
from digest.services.claim_check import NO_LONGER_MATCHES
from digest.services.digest_extras import load_extras, load_extras_many
from digest.services.items import REMOVED_QUERY, load_items_many
from digest.services.outbox import pending_rows
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Paper
from tests.digest.email.conftest import NOW, add_papers, add_subscriber, match

PAPERS = [
    ("Diffusion models for protein design", "A diffusion model for proteins."),
    ("Video diffusion at scale", "A diffusion model for video."),
    ("Latent diffusion with fewer steps", "A faster diffusion sampler."),
]


def states(db: Database, subscriber_id: int) -> dict[str, tuple[str, str | None]]:
    with db.session() as session:
        rows = session.exec(select(Paper.title, Delivery.status, Delivery.last_error).join(
            Delivery, Delivery.paper_id == Paper.id).where(Delivery.subscriber_id == subscriber_id)).all()
    return {title: (status, error) for title, status, error in rows}


async def test_an_edited_query_drops_its_rows_while_the_same_text_elsewhere_in_the_batch_keeps_them(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = add_subscriber(db, settings, "ada@example.org", ["diffusion"])
    bob = add_subscriber(db, settings, "bob@example.org", ["diffusion"])
    eve = add_subscriber(db, settings, "eve@example.org", ["diffusion"])
    add_papers(db, PAPERS)
    assert match(db, settings) == 9
    [bobs] = service.list_subscriptions(db, subscriber_id=bob.id)
    service.edit_query(db, settings, bobs.id or 0, "ti:protein")
    parsed: list[str] = []

    def counting(text: str, limits: object = None) -> object:
        parsed.append(text)
        return parse_query(text, limits)  # type: ignore[arg-type]

    monkeypatch.setattr(claim_check, "parse_query", counting)
    rows = {s.id or 0: pending_rows(db, s.id or 0) for s in (ada, bob, eve)}
    loaded = await load_items_many(settings, db, rows)

    assert sorted(parsed) == ["diffusion", "ti:protein"], "each query text is parsed once for the batch"
    assert len(loaded[ada.id or 0]) == len(loaded[eve.id or 0]) == 3  # type: ignore[arg-type]
    assert [i.title for i in loaded[bob.id or 0]] == [PAPERS[0][0]]  # type: ignore[union-attr]
    assert {t: s for t, s in states(db, bob.id or 0).items() if "protein" not in t} == {
        t: (DeliveryStatus.DROPPED.value, NO_LONGER_MATCHES) for t, _ in PAPERS[1:]}
    for other in (ada, eve):
        assert DeliveryStatus.DROPPED.value not in {s for s, _ in states(db, other.id or 0).values()}
    ada_items = {i.paper_id: i for i in loaded[ada.id or 0]}  # type: ignore[union-attr]
    eve_items = {i.paper_id: i for i in loaded[eve.id or 0]}  # type: ignore[union-attr]
    assert {p: i.matched_words for p, i in ada_items.items()} == {p: i.matched_words for p, i in eve_items.items()}
    assert {i.delivery_id for i in ada_items.values()}.isdisjoint(i.delivery_id for i in eve_items.values())


async def test_a_poison_paper_fails_each_digest_it_is_in_and_only_those(settings: Settings, db: Database) -> None:
    good, poison = add_papers(db, PAPERS[:2])
    with db.session() as session:
        row = session.get(Paper, poison)
        assert row is not None
        row.authors = [["not", "a", "name"]]  # what a broken import could have stored
        session.add(row)
    # rows of removed queries: delivered without a re-check, so the broken paper reaches item making
    rows = {1: [(11, good, None, {}), (12, poison, None, {})], 2: [(21, good, None, {})],
            3: [(31, poison, None, {})], 4: [(41, good, None, {})]}
    loaded = await load_items_many(settings, db, rows)
    assert isinstance(loaded[1], Exception) and isinstance(loaded[3], Exception)
    for key, delivery in ((2, 21), (4, 41)):
        [item] = loaded[key]  # type: ignore[misc]
        assert (item.delivery_id, item.paper_id, item.query) == (delivery, good, REMOVED_QUERY)


def test_ranking_inputs_read_once_spare_only_those_without_votes(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    voter = service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    quiet = service.add_subscriber(db, settings, "email", "bob@example.org", confirmed=True)
    member = service.add_subscriber(db, settings, "discord_user", "123456789012345678")
    papers = add_papers(db, [("Alpha", "alpha"), ("Beta", "beta"), ("Gamma", "gamma"), ("Delta", "delta")])
    feedback.record_vote(db, voter.id or 0, papers[3], 1)
    feedback.record_vote(db, voter.id or 0, papers[0], -1)
    items = [DigestItem(delivery_id=n, paper_id=p, subscription_id=None, query="q", title=str(p), title_hits=n)
             for n, p in enumerate(papers)]
    ids = [voter.id or 0, quiet.id or 0, member.id or 0]
    inputs = feedback.plan_inputs_many(db, ids, [])
    assert inputs.learners == {voter.id, member.id}  # a Discord member may learn from their channels' votes
    now = datetime(2026, 3, 2, tzinfo=UTC)

    batch = feedback.plan_for(db, voter.id or 0, items, inputs=inputs)
    alone = feedback.plan_for(db, voter.id or 0, items)
    assert batch.learned and batch.counts == alone.counts
    assert [i.paper_id for i in batch.rank(items, now)] == [i.paper_id for i in alone.rank(items, now)]

    def no_reads(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a subscriber without votes reads nothing more")

    monkeypatch.setattr(feedback, "votes_for", no_reads)
    spared = feedback.plan_for(db, quiet.id or 0, items, inputs=inputs)
    assert not spared.learned and spared.counts == feedback.VoteCounts(0, 0)
    assert spared.rank(items, now) == rank_digest_items(items, now)


async def test_the_batch_read_of_extras_equals_each_subscribers_own(settings: Settings, db: Database) -> None:
    ada = add_subscriber(db, settings, "ada@example.org", ["diffusion", "ti:protein"])
    bob = add_subscriber(db, settings, "bob@example.org", ["quantum"])
    eve = add_subscriber(db, settings, "eve@example.org", [])
    add_papers(db, PAPERS)
    match(db, settings)
    [bobs] = service.list_subscriptions(db, subscriber_id=bob.id)
    lifecycle.set_update_kinds(db, bobs.id or 0, "all")
    ids = [ada.id or 0, bob.id or 0, eve.id or 0]
    together = load_extras_many(db, ids, NOW)
    assert together == {sid: load_extras(db, sid, NOW) for sid in ids}
    assert [line.query for line in together[ada.id or 0].health] == ["diffusion", "ti:protein"]
    assert together[eve.id or 0].health == []
