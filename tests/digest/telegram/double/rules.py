"""What Telegram refuses in a sendMessage, checked as Telegram does, with its error texts.

Independent of the production renderer on purpose (its own parser), so a renderer bug shows up as a
refusal here. Sources:
  - https://core.telegram.org/bots/api#sendmessage: text 1-4096 characters after entities parsing
  - https://core.telegram.org/bots/api#html-style: the supported tags, the four named entities, numeric
    entities; anything else fails with "Bad Request: can't parse entities: …"
  - https://core.telegram.org/bots/api#inlinekeyboardbutton: callback_data 1-64 bytes
  - https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this: about one message
    per second in a chat, 20 messages per minute in a group, about 30 messages per second overall; past
    them, 429 with `parameters.retry_after`.
"""

from __future__ import annotations

import html
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "tg-emoji",
        "code", "pre", "blockquote"}
NAMED_ENTITIES = {"lt", "gt", "amp", "quot"}
_PIECE = re.compile(r"<(/?)([a-zA-Z-]*)([^>]*)>|&([a-zA-Z]+|#[0-9]+|#x[0-9a-fA-F]+);|[^<&]+|[<&]")


class Refusal(Exception):
    """An answer Telegram gives instead of a message: (HTTP status, description, parameters)."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def parsed_text(text: str) -> str:
    """The text Telegram shows for HTML `text`, or Refusal 400 "can't parse entities"."""
    out: list[str] = []
    stack: list[str] = []
    for piece in _PIECE.finditer(text):
        offset = len(text[: piece.start()].encode())
        if piece.group(2) is not None:
            name = (piece.group(2) or "").lower()
            if name not in TAGS:
                raise Refusal(400, f'Bad Request: can\'t parse entities: Unsupported start tag "{name}" at byte '
                                   f"offset {offset}")
            if not piece.group(1) and stack and (stack[-1] == "code" or (stack[-1] == "pre" and name != "code")):
                # https://core.telegram.org/bots/api#formatting-options: pre and code entities can't contain
                # other entities (save <code> inside <pre> for a language)
                raise Refusal(400, f"Bad Request: can't parse entities: Can't nest \"{name}\" in \"{stack[-1]}\" at "
                                   f"byte offset {offset}")
            if piece.group(1):
                if not stack or stack.pop() != name:
                    raise Refusal(400, f'Bad Request: can\'t parse entities: Unmatched end tag at byte offset '
                                       f'{offset}, expected "</{stack[-1] if stack else ""}>", found "</{name}>"')
            else:
                stack.append(name)
            continue
        if piece.group(4) is not None:
            entity = piece.group(4)
            if not entity.startswith("#") and entity not in NAMED_ENTITIES:
                raise Refusal(400, "Bad Request: can't parse entities: Unsupported HTML entity at byte offset "
                                   f"{offset}")
            out.append(html.unescape(piece.group(0)))
            continue
        if piece.group(0) in ("<", "&"):
            raise Refusal(400, f"Bad Request: can't parse entities: Character '{piece.group(0)}' is reserved at "
                               f"byte offset {offset}")
        out.append(piece.group(0))
    if stack:
        raise Refusal(400, "Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
                           f'"{stack[-1]}"')
    return "".join(out)


def check_message(params: dict[str, Any]) -> str:
    """The shown text of a valid sendMessage, else the Refusal Telegram answers."""
    text = str(params.get("text") or "")
    shown = parsed_text(text) if str(params.get("parse_mode", "")).lower() == "html" else text
    if not shown.strip():
        raise Refusal(400, "Bad Request: message text is empty")
    if len(shown.encode("utf-16-le")) // 2 > 4096:
        raise Refusal(400, "Bad Request: message is too long")
    markup = params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise Refusal(400, "Bad Request: BUTTON_DATA_INVALID")
    return shown


@dataclass
class Windows:
    """Sliding-window counters for the FAQ's limits; `scale` shrinks the windows for fast tests."""

    scale: float = 1.0
    per_chat: dict[int, deque[float]] = field(default_factory=dict)
    overall: deque[float] = field(default_factory=deque)

    def admit(self, chat_id: int, group: bool, now: float) -> None:
        """Record a send at `now`, or Refusal 429 with retry_after when it would break a limit."""
        mine = self.per_chat.setdefault(chat_id, deque())
        # "one message per second" in a chat, with the "short bursts" the FAQ tolerates: a fourth within a
        # second is refused (a client that does not pace at all meets it at once)
        checks = [(mine, 3, 1.0), (self.overall, 30, 1.0)] + ([(mine, 20, 60.0)] if group else [])
        for times, count, seconds in checks:
            span = seconds * self.scale
            recent = [t for t in times if t > now - span]
            if len(recent) >= count:
                wait = max(1, round(recent[-count] + span - now + 0.5))
                raise Refusal(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        mine.append(now)
        self.overall.append(now)
        while len(self.overall) > 30:
            self.overall.popleft()
        while len(mine) > 20:
            mine.popleft()
