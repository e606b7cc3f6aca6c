"""Votes and the learned order: record/change/withdraw 👍/👎, counts, and a subscriber's ranking.

Called by the vote web routes, the Discord buttons, the CLI (`--like`) and the email digest.
Storage is `storage.feedback_models.PaperVote`; the learning is the pure digest.feedback core.
Training happens when a ranking is asked for, from the votes as they are then, so a changed or
withdrawn vote shows in the very next digest and nothing stale is kept: the TF-IDF vocabulary is
fitted on the voted papers plus the papers being ranked (see digest.feedback.representation).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select

from digest.core.assembly import DigestItem, rank_digest_items
from digest.services.channel_specs import VoteSources
from digest.services.errors import InvalidInput, NotFound
from digest.services.paper_meta import paper_metas
from digest.services.paper_terms import representations
from storage.db import Database
from storage.feedback_models import PaperVote
from storage.models import Delivery, Paper, Subscriber, SubscriberKind, Subscription
from storage.outage import is_outage
from storage.types import utcnow

if TYPE_CHECKING:  # the learner (scikit-learn, scipy) is imported where a ranking is computed
    from digest.feedback.learner import LearnedScorer
    from digest.feedback.representation import PaperText
    from digest.feedback.rerank import Reranked

log = logging.getLogger(__name__)
CHANNELS = VoteSources({"email", "discord", "web", "cli", "seed"})  # and each registered chat channel with votes
MAX_VOTER_LENGTH = 64
CHANNEL_WEIGHT = 0.5  # one channel majority vote counts this much of a member's own vote


@dataclass(frozen=True)
class VoteCounts:
    up: int
    down: int

    def describe(self) -> str:
        """'12 👍, 3 👎 — ranking learned' (or how to start)."""
        if not self.up and not self.down:
            return "no votes yet — 👍/👎 papers to rank what you like first"
        return f"{self.up} 👍, {self.down} 👎 — ranking learned"


def _check(vote: int, voter: str, channel: str) -> None:
    if vote not in (-1, 1):
        raise InvalidInput("a vote is 👍 (+1) or 👎 (-1)")
    if len(voter) > MAX_VOTER_LENGTH or not voter.isprintable():
        raise InvalidInput("voter id is too long or not printable")
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown vote channel {channel!r}")


def was_delivered(db: Database, subscriber_id: int, paper_id: int) -> bool:
    """Whether this paper has a ledger row for this subscriber: a vote button may only vote on what it showed."""
    with db.session() as session:
        return session.exec(
            select(Delivery.id).where(Delivery.subscriber_id == subscriber_id, Delivery.paper_id == paper_id)
        ).first() is not None


def record_vote(
    db: Database, subscriber_id: int, paper_id: int, vote: int, *, voter: str = "", channel: str = "web",
    now: datetime | None = None,
) -> str:
    """Record or change a vote: 'recorded', 'changed' or 'unchanged'. NotFound for an unknown paper/subscriber."""
    _check(vote, voter, channel)
    try:
        return _upsert_vote(db, subscriber_id, paper_id, vote, voter, channel, now or utcnow())
    except IntegrityError:  # the same voter's vote arrived twice at once: the winner's row exists now
        return _upsert_vote(db, subscriber_id, paper_id, vote, voter, channel, now or utcnow())


def _upsert_vote(
    db: Database, subscriber_id: int, paper_id: int, vote: int, voter: str, channel: str, moment: datetime
) -> str:
    with db.session() as session:
        if session.get(Subscriber, subscriber_id) is None:
            raise NotFound(f"no subscriber #{subscriber_id}")
        if session.get(Paper, paper_id) is None:
            raise NotFound(f"no paper #{paper_id}")
        existing = session.exec(
            select(PaperVote).where(
                PaperVote.subscriber_id == subscriber_id, PaperVote.paper_id == paper_id, PaperVote.voter == voter
            )
        ).first()
        if existing is None:
            session.add(PaperVote(subscriber_id=subscriber_id, paper_id=paper_id, voter=voter, vote=vote,
                                  channel=channel, created_at=moment, updated_at=moment))
            return "recorded"
        if existing.vote == vote:
            return "unchanged"
        existing.vote, existing.channel, existing.updated_at = vote, channel, moment
        session.add(existing)
        return "changed"


def withdraw_vote(db: Database, subscriber_id: int, paper_id: int, *, voter: str = "") -> bool:
    """Delete the vote; True when there was one."""
    with db.session() as session:
        result = session.execute(
            delete(PaperVote).where(
                col(PaperVote.subscriber_id) == subscriber_id, col(PaperVote.paper_id) == paper_id,
                col(PaperVote.voter) == voter,
            )
        )
        return bool(getattr(result, "rowcount", 0))


def vote_of(db: Database, subscriber_id: int, paper_id: int, *, voter: str = "") -> int | None:
    with db.session() as session:
        return session.exec(
            select(PaperVote.vote).where(
                PaperVote.subscriber_id == subscriber_id, PaperVote.paper_id == paper_id, PaperVote.voter == voter
            )
        ).first()


def votes_for(db: Database, subscriber_id: int) -> dict[int, int]:
    """paper id → +1/-1: the sign of the summed votes (a channel's members outvote each other; ties drop)."""
    with db.session() as session:
        rows = session.exec(
            select(PaperVote.paper_id, func.sum(PaperVote.vote))
            .where(PaperVote.subscriber_id == subscriber_id)
            .group_by(col(PaperVote.paper_id))
        ).all()
    return {int(paper): (1 if total > 0 else -1) for paper, total in rows if total}


def vote_counts(db: Database, subscriber_id: int) -> VoteCounts:
    votes = votes_for(db, subscriber_id)
    return VoteCounts(up=sum(1 for v in votes.values() if v > 0), down=sum(1 for v in votes.values() if v < 0))


def texts_of(db: Database, paper_ids: Sequence[int]) -> list[PaperText]:
    from digest.feedback.representation import PaperText

    with db.session() as session:
        rows = session.exec(
            select(Paper.id, Paper.title, Paper.abstract).where(col(Paper.id).in_(list(paper_ids)))
        ).all()
    return [PaperText(int(pid or 0), title or "", abstract or "") for pid, title, abstract in rows]


def scorer_for(
    db: Database, subscriber_id: int, candidate_ids: Sequence[int], votes: dict[int, int] | None = None,
    representation: str = "tfidf",
) -> LearnedScorer | None:
    """The subscriber's learned scorer over `candidate_ids` (None without votes: today's order stands).

    Beside the words it learns from each paper's categories, authors and source signals; a Discord
    member without votes of their own starts from their channels' majority votes (`warm_labels`).
    """
    from digest.feedback.embedding import represent_as
    from digest.feedback.features import meta_blocks
    from digest.feedback.learner import train

    votes = votes_for(db, subscriber_id) if votes is None else votes
    warm = warm_labels(db, subscriber_id)
    if not votes and not warm:
        return None
    ids = sorted(set(votes) | set(warm) | set(candidate_ids))
    texts = texts_of(db, ids)
    # TF-IDF from the counts stored at ingest; the optional embedding is computed from the texts
    reps = representations(db, texts) if representation == "tfidf" else represent_as(representation, texts)
    return train(reps, votes, context=list(candidate_ids), meta=meta_blocks(paper_metas(db, ids)), warm=warm)


def warm_labels(db: Database, subscriber_id: int) -> dict[int, tuple[int, float]]:
    """paper id → (±1, weight): the majority votes of the channels a Discord member has voted in.

    Weaker than the member's own votes (CHANNEL_WEIGHT each; their own vote on a paper replaces it),
    so a member's ranking starts from their channels' taste. ("More like this" seeds and an imported
    library are recorded as the reader's own 👍: they start the ranking already.)
    """
    with db.session() as session:
        member = session.get(Subscriber, subscriber_id)
        if member is None or member.kind != SubscriberKind.DISCORD_USER.value:
            return {}
        channels = session.exec(
            select(PaperVote.subscriber_id).distinct()
            .join(Subscriber, col(Subscriber.id) == col(PaperVote.subscriber_id))
            .where(PaperVote.voter == member.address, Subscriber.kind == SubscriberKind.DISCORD_CHANNEL.value)
        ).all()
    labels: dict[int, tuple[int, float]] = {}
    for channel in sorted(int(c) for c in channels):
        for paper, vote in votes_for(db, channel).items():
            labels.setdefault(paper, (vote, CHANNEL_WEIGHT))
    return labels


@dataclass
class FeedbackPlan:
    """What the digest renderer needs: the learned ranking per group, top picks and reasons."""

    scorer: LearnedScorer | None
    counts: VoteCounts = VoteCounts(0, 0)
    limits: dict[int, tuple[int | None, float | None]] = field(default_factory=dict)  # subscription → caps
    reranked: dict[int | None, Reranked] = field(default_factory=dict)
    folded: set[int] = field(default_factory=set)  # paper ids past their subscription's limits

    @property
    def learned(self) -> bool:
        return self.scorer is not None

    def rank(self, items: Sequence[DigestItem], now: datetime) -> list[DigestItem]:
        """A `digest.core.assembly.build_digest` rank function: today's order, then the learned one.

        Papers past the subscription's limits stay in the digest, last, and are noted in `folded`
        (the template lists them as one-line links): nothing is held back or lost by a limit.
        """
        base = rank_digest_items(items, now)
        key = base[0].subscription_id if base else None
        max_items, min_score = self.limits.get(key, (None, None)) if key is not None else (None, None)
        if self.scorer is None and max_items is None:
            return base
        from digest.feedback.rerank import Candidate, rerank

        by_paper = {item.paper_id: item for item in base}
        candidates = [Candidate(i.paper_id, i.title_hits, i.abstract_hits, i.distinct_clauses) for i in base]
        reranked = rerank(candidates, self.scorer, max_items=max_items, min_score=min_score)
        self.reranked[key] = reranked
        self.folded.update(reranked.rest)
        return [by_paper[p] for p in reranked.order + reranked.rest]

    def top_picks(self, limit: int = 3) -> list[int]:
        """The highest-scoring picks over all groups (paper ids)."""
        scored = {p: r.scores.get(p, 0.0) for r in self.reranked.values() for p in r.top_picks}
        return sorted(scored, key=lambda p: (-scored[p], p))[:limit]

    def reasons(self, paper_id: int) -> list[str]:
        for reranked in self.reranked.values():
            if paper_id in reranked.reasons:
                return reranked.reasons[paper_id]
        return []


@dataclass(frozen=True)
class PlanInputs:
    """What `plan_for` reads, read once for a batch of subscribers (`plan_inputs_many`)."""

    learners: frozenset[int]  # subscribers whose ranking may learn something (own votes, or a Discord member)
    limits: dict[int, tuple[int | None, float | None]]  # subscription -> caps, for every subscription asked about
    subscription_ids: frozenset[int]


def plan_inputs_many(db: Database, subscriber_ids: Sequence[int], subscription_ids: Sequence[int], *,
                     members_who_voted: bool = False) -> PlanInputs:
    """One read for a batch: who among these subscribers has votes (or channels' votes), and the limits of
    these subscriptions. A subscriber without any is then planned without a session of their own.
    `members_who_voted`: a Discord member counts only once they voted in a channel (`warm_labels` has
    nothing else to start from), so the many members who never voted are spared a ranking's reads too."""
    wanted, subs = sorted(set(subscriber_ids)), sorted(set(subscription_ids))
    with db.session() as session:
        voters = set(session.exec(select(PaperVote.subscriber_id).distinct()
                                  .where(col(PaperVote.subscriber_id).in_(wanted))).all()) if wanted else set()
        members_of = select(Subscriber.id).where(col(Subscriber.id).in_(wanted),
                                                 Subscriber.kind == SubscriberKind.DISCORD_USER.value)
        if members_who_voted:
            channel = aliased(Subscriber)
            members_of = members_of.where(col(Subscriber.address).in_(
                select(PaperVote.voter).join(channel, col(channel.id) == col(PaperVote.subscriber_id))
                .where(channel.kind == SubscriberKind.DISCORD_CHANNEL.value)))
        members = set(session.exec(members_of).all()) if wanted else set()
    return PlanInputs(frozenset(int(i) for i in voters | members if i is not None), _limits(db, set(subs)),
                      frozenset(subs))


def plan_for(
    db: Database, subscriber_id: int, items: Sequence[DigestItem], representation: str = "tfidf",
    inputs: PlanInputs | None = None,
) -> FeedbackPlan:
    """Train on the subscriber's votes over these items (blocking: call from a worker thread).

    With `inputs` (read for the batch) a subscriber who never voted costs no query at all."""
    subscriptions = {i.subscription_id for i in items if i.subscription_id}
    if inputs is not None and subscriptions <= inputs.subscription_ids:
        limits = {k: v for k, v in inputs.limits.items() if k in subscriptions}
        if subscriber_id not in inputs.learners:
            return FeedbackPlan(None, VoteCounts(0, 0), limits=limits)
    else:
        limits = _limits(db, subscriptions)
    votes = votes_for(db, subscriber_id)
    counts = VoteCounts(up=sum(1 for v in votes.values() if v > 0), down=sum(1 for v in votes.values() if v < 0))
    try:
        scorer = scorer_for(db, subscriber_id, [item.paper_id for item in items], votes, representation)
    except Exception as exc:
        if is_outage(exc):  # the database went away: the pass stops and is retried, not this digest alone
            raise
        # Learning is an improvement, never a condition: the digest goes out in today's order.
        log.exception("feedback: training for subscriber #%s failed; today's order is used", subscriber_id)
        scorer = None
    return FeedbackPlan(scorer, counts, limits=limits)


def _limits(db: Database, subscription_ids: set[int]) -> dict[int, tuple[int | None, float | None]]:
    if not subscription_ids:
        return {}
    with db.session() as session:
        rows = session.exec(
            select(Subscription.id, Subscription.max_items, Subscription.min_score)
            .where(col(Subscription.id).in_(sorted(subscription_ids)))
        ).all()
    return {int(sid): (most, least) for sid, most, least in rows if sid is not None and (most or least is not None)}


def set_limits(
    db: Database, subscription_id: int, *, max_items: int | None, min_score: float | None, owner_id: int | None = None
) -> Subscription:
    """Set (None: clear) a subscription's digest limits: at most `max_items` papers shown in full, and
    (once its subscriber has voted) only papers whose learned score is at least `min_score`."""
    if max_items is not None and not 1 <= max_items <= 1000:
        raise InvalidInput("at most N papers: N is between 1 and 1000")
    if min_score is not None and not 0.0 <= min_score <= 1.0:
        raise InvalidInput("the minimum score is between 0 and 1 (0.5: more likely wanted than not)")
    with db.session() as session:
        subscription = session.get(Subscription, subscription_id)
        if subscription is None or (owner_id is not None and subscription.subscriber_id != owner_id):
            raise NotFound(f"no subscription #{subscription_id}")
        subscription.max_items, subscription.min_score = max_items, min_score
        session.add(subscription)
        session.flush()
        session.refresh(subscription)
        return subscription
