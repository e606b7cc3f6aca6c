"""A per-subscriber scorer learned from 👍/👎 votes (logistic regression on TF-IDF vectors, with the
papers' categories, authors and source signals beside them when given: digest.feedback.features).

Votes are the strong labels. Warm-start labels (e.g. a channel's majority votes for a member who has
not voted yet) are weaker ones: each counts `weight` of a vote, and a reader's own vote on the same
paper replaces it. The subscription's other matches are weak context: when every vote
has the same sign, the unvoted matches stand in for the other class with a small sample weight
(arxiv-sanity's "everything else is a negative"), so one 👍 already says "more like this, fewer
of the rest". With no votes there is no scorer: `train` returns None and the caller keeps
today's ranking untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from digest.feedback.features import MetaBlocks, combine
from digest.feedback.representation import Representations

UP, DOWN = 1, -1
CONTEXT_WEIGHT = 0.15  # one unvoted match counts this much of a vote
MAX_CONTEXT = 2000  # bounds training time for very broad subscriptions
LIKE_SIMILARITY = 0.1  # cosine at which a voted paper counts as "like" another (reasons); on the seed
# corpus an unrelated pair is below it 90% of the time, a pair on one narrow topic (SAEs) half of the time
REGULARISATION = 4.0  # sklearn's C: weak regularisation, TF-IDF rows are unit length


@dataclass
class LearnedScorer:
    """Scores papers of the `Representations` it was trained on: 0..1, higher = more wanted."""

    reps: Representations
    model: LogisticRegression | None  # None: all votes in one class and no context to contrast with
    liked: list[int]
    disliked: list[int]
    sign: int = UP  # the class of a one-class scorer without a model
    meta: MetaBlocks | None = None  # the metadata columns beside the text ones, when used

    def matrix(self, paper_ids: Sequence[int]) -> sparse.csr_matrix:
        """The rows the model sees: text vectors, then the metadata blocks."""
        return combine(self.reps, self.meta, paper_ids)

    def scores(self, paper_ids: Sequence[int]) -> dict[int, float]:
        known = [p for p in paper_ids if p in self.reps.index]
        if not known:
            return {}
        if self.model is not None:
            values = self.model.predict_proba(self.matrix(known))[:, 1]
        else:  # mean similarity to the voted papers (all of one sign)
            similarity = self.reps.cosine(known, self.liked or self.disliked).mean(axis=1)
            values = similarity if self.sign == UP else 1.0 - similarity
        return {paper: float(value) for paper, value in zip(known, values, strict=True)}

    def similar_votes(self, paper_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """(liked papers like it, disliked papers like it) for each paper, for the reasons line."""
        known = [p for p in paper_ids if p in self.reps.index]
        out = {p: (0, 0) for p in known}
        if not known:
            return out
        ups = (self.reps.cosine(known, self.liked) >= LIKE_SIMILARITY).sum(axis=1) if self.liked else None
        downs = (self.reps.cosine(known, self.disliked) >= LIKE_SIMILARITY).sum(axis=1) if self.disliked else None
        for row, paper in enumerate(known):
            out[paper] = (int(ups[row]) if ups is not None else 0, int(downs[row]) if downs is not None else 0)
        return out


def train(
    reps: Representations, votes: Mapping[int, int], context: Sequence[int] = (), *,
    meta: MetaBlocks | None = None, warm: Mapping[int, tuple[int, float]] | None = None,
) -> LearnedScorer | None:
    """A scorer from `votes` (paper id → +1/-1) with `context` (unvoted matches) as weak labels.

    `meta`: metadata blocks to learn from beside the text. `warm`: paper id → (±1, weight) labels
    that count less than a vote. Papers missing from `reps` are ignored; None when no usable label
    is left.
    """
    own = {p: v for p, v in votes.items() if v and p in reps.index}
    borrowed = {p: (v, w) for p, (v, w) in (warm or {}).items() if v and w > 0 and p in reps.index and p not in own}
    sign = {**{p: v for p, (v, _) in borrowed.items()}, **own}
    weight_of = {**{p: w for p, (_, w) in borrowed.items()}, **dict.fromkeys(own, 1.0)}
    liked = sorted(p for p, v in sign.items() if v > 0)
    disliked = sorted(p for p, v in sign.items() if v < 0)
    if not liked and not disliked:
        return None
    voted = set(liked) | set(disliked)
    weak = [p for p in dict.fromkeys(context) if p in reps.index and p not in voted][:MAX_CONTEXT]
    ids = liked + disliked
    labels = [1] * len(liked) + [0] * len(disliked)
    weights = [weight_of[p] for p in ids]
    if not liked or not disliked:
        if not weak:
            return LearnedScorer(reps, None, liked, disliked, sign=UP if liked else DOWN, meta=meta)
        # One-sided votes: the rest of the subscription's matches are the (weak) other side.
        ids += weak
        labels += [0 if liked else 1] * len(weak)
        weights += [CONTEXT_WEIGHT] * len(weak)
    # liblinear: a third of lbfgs's time on a digest-sized sparse problem, the same order
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", solver="liblinear")
    model.fit(combine(reps, meta, ids), np.asarray(labels), sample_weight=np.asarray(weights))
    return LearnedScorer(reps, model, liked, disliked, meta=meta)
