"""👍/👎 buttons for posted papers, as Discord message components (plain JSON, no discord.py here).

`with_vote_buttons` is the one place that decides which components a message carries: the delivery
service calls it for every part it posts, whatever the target (channel, role mention, compact or titles
style, forum post, thread, webhook, DM), and every sending path passes `components` on unchanged
(`bot.poster.to_discord` as a view, `digest.discord.placer.body_of` as JSON). bot.feedback registers a
`discord.ui.DynamicItem` for CUSTOM_ID_TEMPLATE, so a press is understood by any bot process, also
after a restart (the custom id carries everything: the paper and the direction; who voted and for
which subscription come from the interaction's user and channel). Discord's limits (API docs,
"Message Components"): at most 5 action rows per message, 5 buttons per row, custom ids unique in a
message and at most 100 characters; a message holds at most 10 papers, so 2 papers (4 buttons) per row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

CUSTOM_ID_TEMPLATE = r"pb:vote:(?P<paper>[0-9]{1,18}):(?P<direction>up|down)"
CUSTOM_ID = re.compile(CUSTOM_ID_TEMPLATE)
MAX_ROWS, MAX_BUTTONS_PER_ROW, MAX_CUSTOM_ID = 5, 5, 100
PAPERS_PER_ROW = 2
BUTTON, ACTION_ROW, SECONDARY = 2, 1, 2


def custom_id(paper_id: int, direction: str) -> str:
    return f"pb:vote:{paper_id}:{direction}"


def vote_rows(paper_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Action rows with a 👍 and a 👎 per paper (numbered when several papers share a message)."""
    unique = list(dict.fromkeys(paper_ids))[: MAX_ROWS * PAPERS_PER_ROW]
    numbered = len(unique) > 1
    rows = []
    for start in range(0, len(unique), PAPERS_PER_ROW):
        buttons = []
        for number, paper in enumerate(unique[start : start + PAPERS_PER_ROW], start=start + 1):
            for emoji, direction in (("👍", "up"), ("👎", "down")):
                buttons.append({"type": BUTTON, "style": SECONDARY, "custom_id": custom_id(paper, direction),
                                "label": f"{emoji} {number}" if numbered else emoji})
        rows.append({"type": ACTION_ROW, "components": buttons})
    return rows


def with_vote_buttons(message: dict[str, Any], paper_ids: Sequence[int]) -> dict[str, Any]:
    """A copy of `message` with vote rows for its papers (no components for a message without papers)."""
    if not paper_ids:
        return {key: value for key, value in message.items() if key != "components"}
    return {**message, "components": vote_rows(paper_ids)}
