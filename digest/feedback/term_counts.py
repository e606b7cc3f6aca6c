"""The learned ranking's paper representation, split so the per-paper part is computed once at ingest.

A paper's term counts (title twice + abstract, English stop words out, letters and digits only)
are hashed into a fixed space of `FEATURES` columns by scikit-learn's `HashingVectorizer`: they
depend on the paper alone, so ingestion computes them once and stores them (`encode` → bytes,
table `paper_terms`). The corpus-level part, IDF weights (sublinear tf) and L2 normalisation, is
applied when a ranking is needed (`tfidf_from_counts`), over the papers being ranked plus the voted
ones, by scikit-learn's `TfidfTransformer`: milliseconds, no text analysis.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

from digest.feedback.representation import PaperText, Representations, unique_papers

FEATURES = 2**20  # hashed columns: collisions among a few thousand papers' words are negligible
VERSION = 1  # stored blobs of another version are recomputed
_HEADER = np.dtype("<u4")


@lru_cache(maxsize=1)
def _hasher() -> HashingVectorizer:
    return HashingVectorizer(
        n_features=FEATURES, alternate_sign=False, norm=None, stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b",  # as representation.represent: no LaTeX, URLs, punctuation
    )


def counts_matrix(papers: Sequence[PaperText]) -> sparse.csr_matrix:
    """Raw hashed term counts, one row per paper (in order)."""
    return sparse.csr_matrix(_hasher().transform([paper.text() for paper in papers]))


def encode(row: sparse.csr_matrix) -> bytes:
    """One paper's counts as bytes: entry count, then column indexes (uint32), then counts (float32)."""
    indices = row.indices.astype("<u4")
    return np.array([len(indices)], _HEADER).tobytes() + indices.tobytes() + row.data.astype("<f4").tobytes()


def decode(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(column indexes, counts) of an `encode`d row; ValueError for a damaged blob."""
    if len(blob) < 4:
        raise ValueError("term counts blob too short")
    size = int(np.frombuffer(blob[:4], _HEADER)[0])
    if len(blob) != 4 + 8 * size:
        raise ValueError("term counts blob has the wrong length")
    indices = np.frombuffer(blob[4 : 4 + 4 * size], "<u4")
    if size and int(indices.max()) >= FEATURES:
        raise ValueError("term counts blob indexes outside the feature space")
    return indices, np.frombuffer(blob[4 + 4 * size :], "<f4")


def stack(rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> sparse.csr_matrix:
    """Decoded rows → one counts matrix (row i = rows[i])."""
    indptr = np.zeros(len(rows) + 1, np.int64)
    indptr[1:] = np.cumsum([len(indices) for indices, _ in rows])
    indices = np.concatenate([i for i, _ in rows]) if rows else np.zeros(0, np.int32)
    data = np.concatenate([d for _, d in rows]) if rows else np.zeros(0, np.float32)
    return sparse.csr_matrix((data.astype(np.float64), indices.astype(np.int32), indptr), shape=(len(rows), FEATURES))


def tfidf_from_counts(paper_ids: Sequence[int], counts: sparse.csr_matrix) -> Representations:
    """IDF over these papers (sublinear tf), rows L2-normalised: comparable only within this set."""
    index = {paper_id: row for row, paper_id in enumerate(paper_ids)}
    if not paper_ids:
        return Representations(index, sparse.csr_matrix((0, 1)))
    # only the columns these papers use (a few thousand of the hashed million): same vectors, less work
    used, column = np.unique(counts.indices, return_inverse=True)
    compact = sparse.csr_matrix((counts.data, column.astype(np.int32), counts.indptr),
                                shape=(counts.shape[0], max(1, len(used))))
    matrix = TfidfTransformer(sublinear_tf=True).fit_transform(compact)
    return Representations(index, sparse.csr_matrix(matrix), hashed=used)


def term_columns(words: Sequence[str]) -> dict[str, int]:
    """word → its hashed column (to name the columns of `tfidf_from_counts` vectors)."""
    unique = list(dict.fromkeys(words))
    if not unique:
        return {}
    matrix = _hasher().transform(unique)
    return {word: int(matrix.indices[matrix.indptr[n]]) for n, word in enumerate(unique)
            if matrix.indptr[n + 1] > matrix.indptr[n]}


def words_of(text: str) -> list[str]:
    """The words of a text as the counts see them (letters and digits), as written; stop words get no column."""
    return re.findall(r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b", text)


def represent_hashed(papers: Sequence[PaperText]) -> Representations:
    """The same vectors straight from the texts (what the stored counts give, for papers not stored)."""
    ordered, _ = unique_papers(papers)
    return tfidf_from_counts([p.paper_id for p in ordered], counts_matrix(ordered))
