"""Re-ranking a subscriber's matches by what they liked, with top picks, caps and reasons.

The input is today's order (digest.core.ranking) as a list of `Candidate`s; the output keeps that order
exactly when there is no scorer (no votes). With a scorer, papers are ordered by the learned
score (0..1), today's position breaking ties, and each paper gets the reasons a reader sees:
"like 3 papers you 👍", "matched in title". Caps are the subscription's: at most `max_items`
papers, only papers scoring at least `min_score`; what they cut is returned as `rest`, never lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for typing only: ordering itself needs no scikit-learn
    from digest.feedback.learner import LearnedScorer

TOP_PICKS = 3


@dataclass(frozen=True)
class Candidate:
    """One matched paper in today's order, with the match facts the reasons mention."""

    paper_id: int
    title_hits: int = 0
    abstract_hits: int = 0
    distinct_clauses: int = 0


@dataclass
class Reranked:
    order: list[int]  # paper ids to show, strongest first
    rest: list[int] = field(default_factory=list)  # cut by the caps, in the same order
    top_picks: list[int] = field(default_factory=list)
    scores: dict[int, float] = field(default_factory=dict)  # learned scores (empty without votes)
    reasons: dict[int, list[str]] = field(default_factory=dict)
    learned: bool = False


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def match_reasons(candidate: Candidate) -> list[str]:
    if candidate.title_hits > 0:
        reasons = ["matched in title"]
    elif candidate.abstract_hits > 0:
        reasons = ["matched in abstract"]
    else:
        reasons = []
    if candidate.distinct_clauses > 1:
        reasons.append(f"{candidate.distinct_clauses} query clauses matched")
    return reasons


def rerank(
    candidates: Sequence[Candidate],
    scorer: LearnedScorer | None,
    *,
    max_items: int | None = None,
    min_score: float | None = None,
    top_picks: int = TOP_PICKS,
) -> Reranked:
    """Order `candidates` (given in today's order) by the learned score; see the module docstring."""
    reasons = {c.paper_id: match_reasons(c) for c in candidates}
    base = [c.paper_id for c in candidates]
    if scorer is None:
        shown = base if max_items is None else base[: max(0, max_items)]
        return Reranked(order=shown, rest=base[len(shown) :], reasons=reasons)
    scores = scorer.scores(base)
    position = {paper: n for n, paper in enumerate(base)}
    # Papers the model cannot score (not represented) keep their place behind the scored ones.
    ordered = sorted(base, key=lambda p: (-scores.get(p, -1.0), position[p]))
    liked_like: set[int] = set()
    for paper, (ups, downs) in scorer.similar_votes(base).items():
        if ups:
            liked_like.add(paper)
            reasons[paper] = [f"like {_plural(ups, 'paper')} you 👍", *reasons[paper]]
        elif downs:  # said only when it explains a low place
            reasons[paper] = [f"like {_plural(downs, 'paper')} you 👎", *reasons[paper]]
    shown = [p for p in ordered if min_score is None or scores.get(p, 0.0) >= min_score]
    if max_items is not None:
        shown = shown[: max(0, max_items)]
    kept = set(shown)
    # Top picks: the best-ranked papers that resemble something the reader liked.
    picks = [p for p in shown if p in liked_like][:top_picks]
    return Reranked(
        order=shown, rest=[p for p in ordered if p not in kept], top_picks=picks, scores=scores,
        reasons=reasons, learned=True,
    )
