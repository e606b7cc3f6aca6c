""""More like this": papers similar to a few seed papers, above a threshold the reader can tune.

The seeds' vectors are averaged into one profile (a reader's library is one interest more often
than not), and each candidate is scored by its cosine with the profile; candidates that are seeds
themselves are left out. Pure: the representations come from digest.feedback.representation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from digest.feedback.representation import Representations

DEFAULT_THRESHOLD = 0.05  # cosine with the seed profile; on the seed corpus a topic scores 0.06-0.11


def more_like(
    reps: Representations, seeds: Sequence[int], candidates: Sequence[int], *, threshold: float = DEFAULT_THRESHOLD
) -> list[tuple[int, float]]:
    """(paper id, similarity) of candidates at or above `threshold`, most similar first."""
    seed_rows = [s for s in dict.fromkeys(seeds) if s in reps.index]
    pool = [c for c in dict.fromkeys(candidates) if c in reps.index and c not in set(seed_rows)]
    if not seed_rows or not pool:
        return []
    profile = np.asarray(reps.rows(seed_rows).mean(axis=0)).ravel()
    norm = float(np.linalg.norm(profile))
    if norm == 0.0:
        return []
    similarity = np.asarray(reps.rows(pool) @ (profile / norm)).ravel()
    found = [(paper, float(value)) for paper, value in zip(pool, similarity, strict=True) if value >= threshold]
    return sorted(found, key=lambda pair: (-pair[1], pair[0]))
