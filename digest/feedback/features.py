"""What the learner sees of a paper beyond its words: field, people, and what its source tells.

Per paper (`PaperMeta`, read from the paper's own row): its categories (the primary and every
cross-list), its authors (by name), and source signals (Hugging Face upvotes, a code link). Each
becomes named features in its own block (one column per name seen), every block's rows are
L2-normalised and weighted (`BLOCKS`), and the blocks sit beside the text vectors in one matrix
(`combine`): a reader who 👍 two robotics cross-lists or two papers by one group learns it from those
features directly, where words alone need many votes. The features are a dozen per paper and cost
microseconds to build from the row, so nothing is stored for them (unlike text term counts).
Names are kept so the learner can say what it learned in plain words (digest.feedback.explain).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize

from digest.feedback.meta import PaperMeta
from digest.feedback.representation import Representations

# Block weights relative to the text vector (unit length, weight 1): chosen on the listings
# evaluation (bench.feedback); categories and authors each count about as much as the words.
BLOCKS: Mapping[str, float] = {"category": 1.0, "author": 1.0, "signal": 0.5}
@dataclass
class MetaBlocks:
    """Metadata features for a set of papers: one row per paper id (`index`), named columns."""

    index: dict[int, int]
    matrix: sparse.csr_matrix
    names: list[str] = field(default_factory=list)  # column → feature name ("in cs.RO", "by A. Author")
    blocks: list[str] = field(default_factory=list)  # column → its block

    def rows(self, paper_ids: Sequence[int]) -> sparse.csr_matrix:
        return self.matrix[[self.index[p] for p in paper_ids]]


def _block(rows: Sequence[Mapping[str, float]]) -> tuple[sparse.csr_matrix, list[str]]:
    """Named values → a sparse matrix and its column names (first seen, first column)."""
    vocabulary: dict[str, int] = {}
    indices: list[int] = []
    data: list[float] = []
    indptr = [0]
    for row in rows:
        for name, value in row.items():
            indices.append(vocabulary.setdefault(name, len(vocabulary)))
            data.append(value)
        indptr.append(len(indices))
    matrix = sparse.csr_matrix((np.asarray(data, np.float64), np.asarray(indices, np.int32), np.asarray(indptr)),
                               shape=(len(rows), len(vocabulary)))
    return matrix, list(vocabulary)


def meta_blocks(metas: Sequence[PaperMeta], weights: Mapping[str, float] = BLOCKS) -> MetaBlocks:
    """The weighted, row-normalised metadata blocks of `metas` (the first of each id)."""
    ordered = list({m.paper_id: m for m in reversed(metas)}.values())[::-1]
    index = {m.paper_id: row for row, m in enumerate(ordered)}
    named = [m.named() for m in ordered]
    parts, names, owners = [], [], []
    for block, weight in weights.items():
        if weight <= 0:
            continue
        matrix, columns = _block([row[block] for row in named])
        if columns:
            parts.append(normalize(matrix) * weight)
            names += columns
            owners += [block] * len(columns)
    if not parts:
        return MetaBlocks(index, sparse.csr_matrix((len(ordered), 0)))
    return MetaBlocks(index, sparse.csr_matrix(sparse.hstack(parts)), names, owners)


def combine(text: Representations, meta: MetaBlocks | None, paper_ids: Sequence[int]) -> sparse.csr_matrix:
    """Text rows with their metadata rows beside them (papers without metadata get zeros there)."""
    rows = sparse.csr_matrix(text.rows(paper_ids))
    if meta is None or meta.matrix.shape[1] == 0:
        return rows
    present = [n for n, paper in enumerate(paper_ids) if paper in meta.index]
    scatter = sparse.csr_matrix((np.ones(len(present)), (present, list(range(len(present))))),
                                shape=(len(paper_ids), len(present)))
    extra = scatter @ meta.rows([paper_ids[n] for n in present])
    return sparse.csr_matrix(sparse.hstack([rows, extra]))
