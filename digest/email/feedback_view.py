"""Template context for 👍/👎 in digest mail: per-paper vote links, reasons, and "top picks for you".

Built by digest.email.digests from the subscriber's `FeedbackPlan` and handed to
digest.email.render as an `extra` hook. Reasons and top picks appear only once the subscriber
has voted (the learned order); the vote links appear on every paper, which is how voting starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from digest.core.assembly import Digest
from digest.services.feedback import FeedbackPlan
from digest.services.vote_links import vote_urls
from digest.settings import Settings

TOP_PICKS = 3
# Vote links on the first papers only: each pair costs ~300 bytes of inlined HTML, and past
# `digest_max_html_bytes` papers are held back for the next digest. Readers vote on what they read.
VOTE_LINKS = 25


def feedback_hook(
    settings: Settings, subscriber_id: int, address: str, plan: FeedbackPlan, summary: str
) -> Callable[[Digest], Mapping[str, Any]]:
    """The `extra` context hook for digest.email.render.render_capped (called once per size tried: each
    paper's signed links are made once)."""
    signed: dict[int, tuple[str, str]] = {}

    def urls(paper_id: int) -> tuple[str, str]:
        if paper_id not in signed:
            signed[paper_id] = vote_urls(settings, subscriber_id, address, paper_id)
        return signed[paper_id]

    def context(digest: Digest) -> Mapping[str, Any]:
        feedback: dict[int, dict[str, Any]] = {}
        for number, item in enumerate(digest.items):
            up, down = urls(item.paper_id) if number < VOTE_LINKS else ("", "")
            feedback[item.paper_id] = {"up": up, "down": down, "reasons": plan.reasons(item.paper_id),
                                       "folded": item.paper_id in plan.folded}
        shown = {item.paper_id: item for item in digest.items}
        picks = [shown[p] for p in plan.top_picks(TOP_PICKS) if p in shown]
        return {"feedback": feedback, "top_picks": picks, "learned": plan.learned, "vote_summary": summary}

    return context
