"""👍/👎 inline keyboard buttons for posted papers, and reading a pressed button back.

https://core.telegram.org/bots/api#inlinekeyboardbutton: `callback_data` is 1-64 bytes; a press comes
back as a CallbackQuery carrying it (and must be answered with answerCallbackQuery). The data carries
everything needed (the paper and the direction), so any bot process understands it, also after a
restart; who voted comes from the query's user, for which subscription from its chat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

CALLBACK_MAX_BYTES = 64
CALLBACK = re.compile(r"pb:v:(?P<paper>[0-9]{1,18}):(?P<direction>[ud])")


def callback_data(paper_id: int, direction: str) -> str:
    data = f"pb:v:{paper_id}:{direction[0]}"
    assert len(data.encode()) <= CALLBACK_MAX_BYTES
    return data


def vote_keyboard(paper_ids: Sequence[int]) -> dict[str, Any] | None:
    """An InlineKeyboardMarkup with a 👍 and a 👎 per paper (numbered when several share a message)."""
    unique = list(dict.fromkeys(paper_ids))
    if not unique:
        return None
    numbered = len(unique) > 1
    rows = []
    for start in range(0, len(unique), 2):  # two papers (four buttons) per row
        row = []
        for number, paper in enumerate(unique[start : start + 2], start=start + 1):
            for emoji, direction in (("👍", "up"), ("👎", "down")):
                label = f"{emoji} {number}" if numbered else emoji
                row.append({"text": label, "callback_data": callback_data(paper, direction)})
        rows.append(row)
    return {"inline_keyboard": rows}


def parse_callback(data: object) -> tuple[int, int] | None:
    """(paper id, +1 or -1) from a button's callback_data, or None for anything this bot did not write."""
    if not isinstance(data, str) or len(data.encode()) > CALLBACK_MAX_BYTES:
        return None
    found = CALLBACK.fullmatch(data)
    if found is None:
        return None
    return int(found.group("paper")), 1 if found.group("direction") == "u" else -1
