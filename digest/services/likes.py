""""More like this": seed a subscription from papers (ids, or a BibTeX/Zotero library) and preview it.

Called by `paperbell subscriptions add SUBSCRIBER --like ID… / --library FILE` and the Discord
`/more-like` command. Seeds are resolved against the stored papers (arXiv id or DOI through the
ingestion normalizer; titles through the same title hash id-less records are stored under). The
subscription's query is the one given, or one built from the terms the seeds share
(digest.feedback.similar.seed_query); the seeds are recorded as the subscriber's 👍 (channel
"seed"), so the learned ranking puts papers like them first. The preview scores the recent
papers by similarity to the seeds, with the threshold the reader chooses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import col, select

from digest.core.ids import hash_id
from digest.feedback.similar import DEFAULT_THRESHOLD
from digest.services import feedback
from digest.services import subscribers as subscriber_service
from digest.services.errors import InvalidInput
from digest.services.paper_lookup import canonical_ref
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper, Subscription
from storage.types import utcnow

if TYPE_CHECKING:  # scikit-learn and the BibTeX reader are imported where a preview or a library needs them
    from digest.feedback.library import LibraryEntry
    from digest.feedback.representation import PaperText

MAX_SEEDS = 6_000  # a whole exported library (digest.feedback.library.MAX_ENTRIES) plus typed ids
PREVIEW_WINDOW = 20_000  # newest papers scored by the preview


@dataclass
class Seeds:
    paper_ids: list[int] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # one line per seed not found, saying why


@dataclass
class LikePreview:
    query: str | None
    threshold: float
    window: int  # papers looked at
    found: list[tuple[int, str, str, float]] = field(default_factory=list)  # id, canonical id, title, similarity
    matched: int = 0  # papers at or above the threshold


def resolve_seeds(db: Database, refs: Sequence[str] = (), entries: Sequence[LibraryEntry] = ()) -> Seeds:
    """Stored paper ids for typed refs and library entries (by id first, then by title)."""
    wanted: list[tuple[str, list[str]]] = []  # (label, canonical ids to try; none: the reason is the label)
    for ref in refs:
        try:
            wanted.append((ref, [canonical_ref(ref)]))
        except InvalidInput as exc:
            wanted.append((str(exc), []))
    for entry in entries:
        tries = ([entry.ref] if entry.ref else []) + ([hash_id(entry.title)] if entry.title else [])
        wanted.append((entry.ref or entry.title[:80], tries))
    if len(wanted) > MAX_SEEDS:
        raise InvalidInput(f"at most {MAX_SEEDS} seed papers at a time")
    every = sorted({c for _, tries in wanted for c in tries})
    with db.session() as session:
        found = {
            canonical: pid
            for canonical, pid in session.exec(
                select(Paper.canonical_id, Paper.id).where(col(Paper.canonical_id).in_(every))
            ).all()
            if pid is not None
        } if every else {}
    seeds = Seeds()
    for label, tries in wanted:
        hit = next((found[c] for c in tries if c in found), None)
        if hit is None:
            seeds.missing.append(f"{label}: not stored here (yet)" if tries else label)
        elif hit not in seeds.paper_ids:
            seeds.paper_ids.append(hit)
    return seeds


def _window(db: Database, days: int, now: datetime, seed_ids: Sequence[int]) -> list[PaperText]:
    from digest.feedback.representation import PaperText

    since = now - timedelta(days=days)
    with db.session() as session:
        rows = session.exec(
            select(Paper.id, Paper.title, Paper.abstract)
            .where((col(Paper.first_seen_at) >= since) | col(Paper.id).in_(list(seed_ids)))
            .order_by(col(Paper.first_seen_at).desc(), col(Paper.id).desc())
            .limit(PREVIEW_WINDOW + len(seed_ids))
        ).all()
    return [PaperText(int(pid or 0), title or "", abstract or "") for pid, title, abstract in rows]


def preview_like(
    db: Database, seed_ids: Sequence[int], *, threshold: float = DEFAULT_THRESHOLD, days: int = 30, limit: int = 10,
    now: datetime | None = None,
) -> LikePreview:
    """The recent papers most like the seeds, and the query a seeded subscription would use."""
    if not seed_ids:
        raise InvalidInput("no seed paper is stored here: nothing to find papers like")
    if not 0.0 <= threshold <= 1.0:
        raise InvalidInput("the similarity threshold is between 0 and 1 (0.05 is a good start)")
    from digest.feedback.representation import represent
    from digest.feedback.similar import more_like, seed_query

    papers = _window(db, days, now or utcnow(), seed_ids)
    reps = represent(papers, ngrams=2)
    similar = more_like(reps, seed_ids, [p.paper_id for p in papers], threshold=threshold)
    by_id = {p.paper_id: p for p in papers}
    with db.session() as session:
        canonical = dict(session.exec(
            select(Paper.id, Paper.canonical_id).where(col(Paper.id).in_([pid for pid, _ in similar[:limit]]))
        ).all())
    preview = LikePreview(seed_query(reps, seed_ids), threshold, len(papers), matched=len(similar))
    preview.found = [(pid, canonical.get(pid, ""), " ".join(by_id[pid].title.split()), round(value, 3))
                     for pid, value in similar[:limit]]
    return preview


def subscribe_like(
    db: Database, settings: Settings, subscriber_ref: str | int, seed_ids: Sequence[int], query: str | None,
    *, created_by: str = "cli", voter: str = "", channel: str = "seed",
) -> tuple[Subscription, int]:
    """Save the subscription (the given query, else the seeds' shared terms) and 👍 every seed.

    Returns the subscription and how many seed votes were new or changed.
    """
    if not seed_ids:
        raise InvalidInput("no seed paper is stored here")
    text = query or preview_like(db, seed_ids).query
    if not text:
        raise InvalidInput("the seed papers share no terms to search for: give a query as well")
    subscription = subscriber_service.add_subscription(db, settings, subscriber_ref, text, created_by=created_by)
    changed = sum(
        feedback.record_vote(db, subscription.subscriber_id, pid, 1, voter=voter, channel=channel) != "unchanged"
        for pid in seed_ids
    )
    return subscription, changed
