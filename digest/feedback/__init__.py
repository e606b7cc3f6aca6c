"""Learning from 👍/👎: the pure core (plain data in, plain data out).

`representation` turns paper texts into TF-IDF vectors (scikit-learn; `term_counts` splits them into
per-paper counts stored at ingest and IDF applied per ranking), `learner` trains one light
model per subscriber from their votes, `rerank` orders a digest by the learned score (today's order
stands exactly when there are no votes) with "top picks", caps and reasons, and `similar` finds
papers like a few seed papers ("more like this"). Storage and channels are adapters elsewhere
(digest.services.feedback, digest.web.feedback_routes, bot.feedback).
"""

from digest.feedback.learner import LearnedScorer, train
from digest.feedback.representation import PaperText, Representations, represent
from digest.feedback.rerank import Candidate, Reranked, rerank
from digest.feedback.similar import more_like, seed_query

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
