"""Optional representation: WordLlama static embeddings (256-d, CPU, numpy), loaded offline.

`pip install "paperbell[embeddings]"` installs `wordllama`, whose wheel ships the weights and the
tokenizer config. They are loaded from the package's own directory with downloads disabled, so no
model is ever fetched at run time (a missing file is an error, not a download). Vectors are
L2-normalised and wrapped in the same `Representations` as TF-IDF, so the learner, the reasons and
"more like this" work unchanged (`seed_query` needs words, so it always uses TF-IDF).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from digest.feedback.representation import PaperText, Representations, unique_papers
from digest.feedback.term_counts import represent_hashed

KINDS = ("tfidf", "wordllama")


class EmbeddingUnavailable(RuntimeError):
    """The optional embedding model is not installed; str = what to do."""


@lru_cache(maxsize=1)
def _model() -> Any:
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError:
        raise EmbeddingUnavailable('the wordllama representation needs: pip install "paperbell[embeddings]"') from None
    # The package directory holds weights/ and tokenizers/ exactly as the cache layout expects.
    return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


def embed(papers: Sequence[PaperText]) -> Representations:
    ordered, index = unique_papers(papers)
    if not ordered:
        return Representations(index, sparse.csr_matrix((0, 1)))
    vectors = np.asarray(_model().embed([f"{p.title}. {p.abstract}" for p in ordered], norm=True), dtype=np.float64)
    return Representations(index, sparse.csr_matrix(np.nan_to_num(vectors)))


def represent_as(kind: str, papers: Sequence[PaperText]) -> Representations:
    """TF-IDF (default: from hashed term counts, the vectors the stored counts give) or WordLlama vectors."""
    if kind == "wordllama":
        return embed(papers)
    if kind != "tfidf":
        raise ValueError(f"unknown representation {kind!r}; one of {', '.join(KINDS)}")
    return represent_hashed(papers)
