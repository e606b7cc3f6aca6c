"""Paper representations: TF-IDF vectors over title + abstract (scikit-learn), L2-normalised.

The vocabulary and IDF weights are corpus-level: `represent` fits them on the papers it is given
(e.g. the "more like this" preview window, whose query is built from the terms' names), so a vector
is only comparable with vectors from the same `Representations`. The learned ranking uses the same
vectors without names, from term counts stored at ingest (digest.feedback.term_counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

TITLE_REPEAT = 2  # the title is short and says what the paper is about: count it twice
MAX_FEATURES = 50_000


@dataclass(frozen=True)
class PaperText:
    """What the representation needs of one paper."""

    paper_id: int
    title: str
    abstract: str = ""

    def text(self) -> str:
        return " ".join([self.title] * TITLE_REPEAT + [self.abstract])


@dataclass
class Representations:
    """One row per paper (`index[paper_id]` = row); rows are L2-normalised sparse TF-IDF vectors."""

    index: dict[int, int]
    matrix: sparse.csr_matrix
    features: list[str] = field(default_factory=list)  # column → term ("sparse", or "sparse autoencoder")
    hashed: np.ndarray | None = None  # column → hashed term column, for vectors made from term counts

    def rows(self, paper_ids: Sequence[int]) -> sparse.csr_matrix:
        return self.matrix[[self.index[p] for p in paper_ids]]

    def cosine(self, left: Sequence[int], right: Sequence[int]) -> np.ndarray:
        """Cosine similarities, shape (len(left), len(right)); rows are unit length already."""
        product = self.rows(left) @ self.rows(right).T
        return np.asarray(product.todense())


def unique_papers(papers: Sequence[PaperText]) -> tuple[list[PaperText], dict[int, int]]:
    """`papers` without repeated ids (the first kept), and each id's row in that order."""
    unique: dict[int, PaperText] = {}
    for paper in papers:
        unique.setdefault(paper.paper_id, paper)
    ordered = list(unique.values())
    return ordered, {paper.paper_id: row for row, paper in enumerate(ordered)}


def represent(papers: Sequence[PaperText], *, ngrams: int = 1) -> Representations:
    """Fit TF-IDF on `papers` (duplicates by id keep the first) and return their vectors.

    Words only by default: on the seed-corpus benchmark word pairs (`ngrams=2`) rank no better and
    cost five times as long; "more like this" queries use pairs to find phrases.
    """
    ordered, index = unique_papers(papers)
    if not ordered:
        return Representations(index, sparse.csr_matrix((0, 1)))
    vectorizer = TfidfVectorizer(
        stop_words="english", sublinear_tf=True, ngram_range=(1, ngrams), min_df=1, max_features=MAX_FEATURES,
        # Letters and digits only: LaTeX, URLs and punctuation never become features.
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b",
    )
    try:
        matrix = vectorizer.fit_transform([paper.text() for paper in ordered])
    except ValueError:  # every text empty or stop words only: no vocabulary at all
        return Representations(index, sparse.csr_matrix((len(ordered), 1)), [""])
    return Representations(index, sparse.csr_matrix(matrix), list(vectorizer.get_feature_names_out()))
