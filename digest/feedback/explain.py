"""What the learned ranking learned, in plain words: "cross-listed to cs.RO", "by authors you liked".

Pure: a trained `LearnedScorer` and the texts of the papers the reader liked in, a few short phrases
out. A feature counts by what it adds to the liked papers' scores (its weight in the model times its
mean value over those papers), so a word the model weighs but no liked paper has says nothing.
Words are named from the liked papers' own texts (the model sees hashed columns only), as written
there ("mentions LIBERO"); authors are one phrase naming up to two of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from digest.feedback.learner import LearnedScorer
from digest.feedback.representation import PaperText
from digest.feedback.term_counts import term_columns, words_of

LIMIT = 5
SIGNALS = {"on Hugging Face": "picked on Hugging Face", "Hugging Face upvotes": "popular on Hugging Face",
           "with code": "with a code link"}


def _word_names(scorer: LearnedScorer, liked: Sequence[PaperText]) -> dict[int, str]:
    """text column → the word it counts, as the liked papers write it most often."""
    if scorer.reps.hashed is None:
        return {}
    spellings: Counter[str] = Counter(w for paper in liked for w in words_of(paper.text()))
    by_hash: dict[int, str] = {}
    for word, column in term_columns(sorted(spellings, key=lambda w: -spellings[w])).items():
        by_hash.setdefault(column, word)
    return {int(n): by_hash[int(h)] for n, h in enumerate(scorer.reps.hashed) if int(h) in by_hash}


def _phrase(name: str, block: str, said: list[str]) -> str | None:
    """The phrase for a metadata feature; None when its category was named already."""
    if block == "category":
        kind, category = name.split(" ", 1)
        if any(p.endswith(f" {category}") for p in said):
            return None
        return f"filed under {category}" if kind == "primary" else f"cross-listed to {category}"
    return SIGNALS.get(name, name)


def learned_features(scorer: LearnedScorer | None, liked: Sequence[PaperText], *, limit: int = LIMIT) -> list[str]:
    """Up to `limit` phrases for what lifts a paper in this reader's order, strongest first.

    Empty when nothing was learned yet (no scorer, or only one kind of vote and nothing to contrast).
    """
    if scorer is None or scorer.model is None or not scorer.liked:
        return []
    weights = np.asarray(scorer.model.coef_).ravel()
    mean = np.asarray(scorer.matrix(scorer.liked).mean(axis=0)).ravel()
    lift = weights * mean
    texts = scorer.reps.matrix.shape[1]
    words = _word_names(scorer, liked)
    names = scorer.meta.names if scorer.meta is not None else []
    blocks = scorer.meta.blocks if scorer.meta is not None else []
    phrases: list[str] = []
    authors: list[str] = []
    for column in np.argsort(-lift):
        if lift[column] <= 0 or len(phrases) >= limit:
            break
        if column < texts:
            word = words.get(int(column))
            phrase = f"mentions {word}" if word else None
        elif blocks[column - texts] == "author":
            authors.append(names[column - texts].removeprefix("by "))
            phrase = "by authors you liked"
        else:
            phrase = _phrase(names[column - texts], blocks[column - texts], phrases)
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    if authors:
        named = ", ".join(authors[:2])
        phrases = [f"by authors you liked ({named})" if p == "by authors you liked" else p for p in phrases]
    return phrases
