""""More like this": papers similar to a few seed papers, above a threshold the reader can tune.

The seeds' vectors are averaged into one profile (a reader's library is one interest more often
than not), and each candidate is scored by its cosine with the profile; candidates that are seeds
themselves are left out. Pure: the representations come from digest.feedback.representation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and the representation are imported where used: DEFAULT_THRESHOLD is read by fronts
    import numpy as np

    from digest.feedback.representation import Representations

MAX_COMMON = 0.1
DEFAULT_THRESHOLD = 0.05  # cosine with the seed profile; on the seed corpus a topic scores 0.06-0.11


def _profile(reps: Representations, seeds: Sequence[int]) -> np.ndarray | None:
    import numpy as np

    rows = [s for s in dict.fromkeys(seeds) if s in reps.index]
    if not rows:
        return None
    profile = np.asarray(reps.rows(rows).mean(axis=0)).ravel()
    norm = float(np.linalg.norm(profile))
    return profile / norm if norm else None


def more_like(
    reps: Representations, seeds: Sequence[int], candidates: Sequence[int], *, threshold: float = DEFAULT_THRESHOLD
) -> list[tuple[int, float]]:
    """(paper id, similarity) of candidates at or above `threshold`, most similar first."""
    import numpy as np

    profile = _profile(reps, seeds)
    pool = [c for c in dict.fromkeys(candidates) if c in reps.index and c not in set(seeds)]
    if profile is None or not pool:
        return []
    similarity = np.asarray(reps.rows(pool) @ profile).ravel()
    found = [(paper, float(value)) for paper, value in zip(pool, similarity, strict=True) if value >= threshold]
    return sorted(found, key=lambda pair: (-pair[1], pair[0]))


def seed_query(reps: Representations, seeds: Sequence[int], *, terms: int = 3) -> str | None:
    """A query in paperbell's language that finds the seeds' topic: the terms they share, OR-ed.

    A term counts when most seeds have it (all of one or two seeds, at least half of more) and it is
    not common to the whole window; ranked by how many seeds have it, then by weight (phrases are
    word pairs, when `reps` has them); a term sharing a word with a chosen one is skipped. Terms are
    letters and digits only (the representation's token pattern), so the result always parses.
    None when the seeds share no term.
    """
    import numpy as np

    rows = [s for s in dict.fromkeys(seeds) if s in reps.index]
    if not rows:
        return None
    matrix = reps.rows(rows)
    present = np.asarray((matrix > 0).sum(axis=0)).ravel()
    weight = np.asarray(matrix.sum(axis=0)).ravel()
    needed = len(rows) if len(rows) <= 2 else (len(rows) + 1) // 2
    # A term in more than MAX_COMMON of all papers ("language models") names no topic.
    # (In a small window every term is "common": twice the seeds' own count is the floor.)
    limit = max(MAX_COMMON * reps.matrix.shape[0], 2 * len(rows))
    common = np.asarray((reps.matrix > 0).sum(axis=0)).ravel() > limit
    columns = [int(c) for c in np.nonzero((present >= needed) & ~common)[0]]
    columns.sort(key=lambda c: (-int(present[c]), -float(weight[c]), c))
    chosen: list[str] = []
    for column in columns:
        term = reps.features[column]
        if len(chosen) >= terms:
            break
        if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9]+( [a-zA-Z][a-zA-Z0-9]+)?", term):
            continue
        words = set(term.split())
        if any(words & set(other.split()) for other in chosen):
            continue
        chosen.append(term)
    return " OR ".join(f'"{t}"' if " " in t else t for t in chosen) or None
