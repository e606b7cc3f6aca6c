"""Learning from 👍/👎: the pure core (plain data in, plain data out).

`representation` turns paper texts into TF-IDF vectors (scikit-learn; `term_counts` splits them into
per-paper counts stored at ingest and IDF applied per ranking), `learner` trains one light
model per subscriber from their votes, `rerank` orders a digest by the learned score (today's order
stands exactly when there are no votes) with "top picks", caps and reasons, and `similar` finds
papers like a few seed papers ("more like this"). Storage and channels are adapters elsewhere
(digest.services.feedback, digest.web.feedback_routes, bot.feedback).
The names of the learner, the representation and `similar` are imported from their modules on first
use, so importing one light module of this package (e.g. `similar.DEFAULT_THRESHOLD`) does not load
scikit-learn and scipy. `rerank` needs neither and is imported here (the function shadows its module).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from digest.feedback.rerank import Candidate, Reranked, rerank

if TYPE_CHECKING:
    from digest.feedback.learner import LearnedScorer, train
    from digest.feedback.representation import PaperText, Representations, represent
    from digest.feedback.similar import more_like, seed_query

_HOMES = {
    "LearnedScorer": "learner", "train": "learner",
    "PaperText": "representation", "Representations": "representation", "represent": "representation",
    "more_like": "similar", "seed_query": "similar",
}


def __getattr__(name: str) -> Any:
    """A name of `__all__`, imported from its module on first use."""
    if name in _HOMES:
        return getattr(import_module(f"digest.feedback.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "Candidate",
    "LearnedScorer",
    "PaperText",
    "Representations",
    "Reranked",
    "more_like",
    "represent",
    "rerank",
    "seed_query",
    "train",
]
