"""The paper facts the learned ranking's metadata features are made of (categories, authors, signals).

Light on purpose (no numpy or scikit-learn): services read these facts from stored papers without
loading the learner; `digest.feedback.features` turns them into feature blocks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

UPVOTES_FULL = 100  # upvotes at which the popularity feature reaches 1
CODE_LINK = re.compile(r"github\.com/|gitlab\.com/", re.IGNORECASE)


@dataclass(frozen=True)
class PaperMeta:
    """The paper facts the metadata features are made of."""

    paper_id: int
    categories: tuple[str, ...] = ()  # primary first
    authors: tuple[str, ...] = ()
    upvotes: int | None = None  # Hugging Face upvotes when a source reported them
    code: bool = False  # a code link is known (a repository on the paper's page, or in the abstract)

    def named(self) -> dict[str, dict[str, float]]:
        """Feature name → value, per block. Names read as plain words (see digest.feedback.explain)."""
        categories = {f"in {c}": 1.0 for c in self.categories}
        if self.categories:
            categories[f"primary {self.categories[0]}"] = 1.0
        authors = {f"by {name}": 1.0 for name in dict.fromkeys(_author(a) for a in self.authors) if name}
        signals: dict[str, float] = {}
        if self.upvotes:
            signals["on Hugging Face"] = 1.0
            signals["Hugging Face upvotes"] = min(1.0, math.log1p(max(self.upvotes, 0)) / math.log1p(UPVOTES_FULL))
        if self.code:
            signals["with code"] = 1.0
        return {"category": categories, "author": authors, "signal": signals}


def _author(name: str) -> str:
    return " ".join(str(name).split())[:120]


def has_code(extras: Mapping[str, object] | None, abstract: str = "") -> bool:
    """A code link: the source named a repository (e.g. Hugging Face's githubRepo), or the abstract links one."""
    return bool((extras or {}).get("github_repo")) or bool(CODE_LINK.search(abstract or ""))


def upvotes_of(extras: Mapping[str, object] | None) -> int | None:
    value = (extras or {}).get("upvotes")
    try:
        return int(value) if value is not None else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
