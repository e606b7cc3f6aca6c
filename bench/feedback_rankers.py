"""The orders the listings evaluation compares: paperbell's learned order and a reader's own SVM.

`learned` runs the re-rank as a digest does: each paper's term counts come through the storage
encoding (what ingest stores in `paper_terms`), IDF is applied over the day's papers plus the voted
ones, the learner trains on the votes with the day's papers as context, and `digest.feedback.rerank`
orders them. `svm` is what a reader could run themselves, as arxiv-sanity-lite does it: one TF-IDF
(words and word pairs, 20,000 features, min_df 5, max_df 0.1, sublinear tf) over every paper, and per
reader a `LinearSVC(C=0.01, class_weight="balanced")` with their 👍 as positives and every other
paper of their digests so far as negatives; without a 👍 it keeps today's order.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import sparse

from bench.feedback_listings import TRAIN_DAYS, Digests, Listings, Reader
from digest.feedback import Candidate, PaperText, rerank, train
from digest.feedback.features import BLOCKS, meta_blocks
from digest.feedback.meta import PaperMeta
from digest.feedback.representation import Representations
from digest.feedback.term_counts import counts_matrix, decode, encode, stack, tfidf_from_counts

_STORED: dict[int, list[Any]] = {}


def stored_counts(records: list[dict[str, Any]]) -> list[Any]:
    """Every paper's term counts through the storage encoding (what ingest stores), computed once per corpus."""
    if id(records) not in _STORED:
        matrix = counts_matrix([PaperText(n, r["title"], r["abstract"]) for n, r in enumerate(records)])
        _STORED[id(records)] = [decode(encode(matrix[row])) for row in range(matrix.shape[0])]
    return _STORED[id(records)]


class LearnedRanker:
    """paperbell's re-rank of one day's digest, from stored counts and the papers' metadata.

    `blocks`: the metadata block weights (digest.feedback.features.BLOCKS; all zero = words only).
    """

    def __init__(self, data: Listings, subs: dict[str, Digests], blocks: Mapping[str, float] = BLOCKS) -> None:
        self.subs, self.blocks = subs, blocks
        self.stored = stored_counts(data.records)
        self.metas = [PaperMeta(n, tuple(r["categories"]), tuple(r["authors"]), data.upvotes.get(n), n in data.code)
                      for n, r in enumerate(data.records)]

    def text(self, ids: list[int]) -> Representations:
        return tfidf_from_counts(ids, stack([self.stored[n] for n in ids]))

    def __call__(self, reader: Reader, votes: dict[int, int], day: str, today: list[int]) -> list[int]:
        facts = self.subs[reader.subscription].facts
        ids = list(dict.fromkeys([*votes, *today]))
        reps = self.text(ids)
        meta = meta_blocks([self.metas[n] for n in ids], self.blocks) if any(self.blocks.values()) else None
        scorer = train(reps, votes, context=today, meta=meta)
        return rerank([Candidate(n, *facts[n]) for n in today], scorer).order


class WordLlamaRanker(LearnedRanker):
    """The learned order with WordLlama static embeddings for the words (the `embeddings` extra).

    Every paper is embedded once up front (as ingest would have to); `embed_ms_per_paper` is that cost.
    """

    def __init__(self, data: Listings, subs: dict[str, Digests]) -> None:
        from digest.feedback.embedding import embed

        super().__init__(data, subs)
        started = time.perf_counter()
        vectors = embed([PaperText(n, r["title"], r["abstract"]) for n, r in enumerate(data.records)])
        self.embed_ms_per_paper = (time.perf_counter() - started) * 1000 / max(1, len(data.records))
        self.vectors = vectors

    def text(self, ids: list[int]) -> Representations:
        return Representations({p: n for n, p in enumerate(ids)}, sparse.csr_matrix(self.vectors.rows(ids)))


class SvmRanker:
    """arxiv-sanity-lite's per-user SVM over one corpus-wide TF-IDF (see the module docstring)."""

    def __init__(self, data: Listings, subs: dict[str, Digests]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.subs = subs
        vectorizer = TfidfVectorizer(
            strip_accents="unicode", lowercase=True, analyzer="word", stop_words="english",
            token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2), max_features=20_000,
            norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True, max_df=0.1, min_df=5,
        )
        self.matrix = sparse.csr_matrix(vectorizer.fit_transform(
            [f"{r['title']} | {r['abstract']}" for r in data.records]))
        train_days = data.days[:TRAIN_DAYS]
        self.seen = {sub: [n for day in train_days for n in digest.by_day.get(day, [])]
                     for sub, digest in subs.items()}
        self._model = lru_cache(maxsize=256)(self._fit)

    def _fit(self, subscription: str, liked: tuple[int, ...]) -> Any:
        from sklearn.svm import LinearSVC

        rows = list(dict.fromkeys([*self.seen[subscription], *liked]))
        labels = np.isin(np.asarray(rows), np.asarray(liked)).astype(int)
        model = LinearSVC(class_weight="balanced", max_iter=10_000, tol=1e-6, C=0.01)
        return model.fit(self.matrix[rows], labels)

    def __call__(self, reader: Reader, votes: dict[int, int], day: str, today: list[int]) -> list[int]:
        liked = tuple(sorted(n for n, v in votes.items() if v > 0))
        if not liked:
            return today
        scores = self._model(reader.subscription, liked).decision_function(self.matrix[today])
        position = {n: i for i, n in enumerate(today)}
        return sorted(today, key=lambda n: (-scores[position[n]], position[n]))


WORDS_ONLY = {block: 0.0 for block in BLOCKS}
# What each signal adds: the learner with words only, then each metadata block alone beside them.
ABLATIONS = {"words_only": WORDS_ONLY, **{f"words+{block}": {**WORDS_ONLY, block: weight}
                                         for block, weight in BLOCKS.items()}}


def rankers(data: Listings, subs: dict[str, Digests], names: Sequence[str]) -> dict[str, Any]:
    made: dict[str, Any] = {}
    for name in names:
        if name == "learned":
            made[name] = LearnedRanker(data, subs)
        elif name == "svm":
            made[name] = SvmRanker(data, subs)
        elif name in ABLATIONS:
            made[name] = LearnedRanker(data, subs, ABLATIONS[name])
        elif name == "wordllama":
            made[name] = WordLlamaRanker(data, subs)
    return made
