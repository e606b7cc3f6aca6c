"""Telegram's HTML parse mode: escaping, the visible length Telegram counts, and the one clipping step.

Pure functions. Rules (https://core.telegram.org/bots/api#html-style and #sendmessage):
  - only <b>, <i>, <u>, <s>, <a href>, <code>, <pre>, <blockquote> and a few more are understood; any other
    tag, an unclosed tag or a bare `<`/`&` makes Telegram answer 400 "Bad Request: can't parse entities".
    Everything from outside is escaped (`&lt;` `&gt;` `&amp;` `&quot;`, the four named entities it knows).
  - a message text may hold 1-4096 characters and a caption 0-1024 "after entities parsing": the tags do
    not count, an entity counts as the one character it stands for. Telegram measures entity offsets
    in UTF-16 code units, so the length here is counted in UTF-16 code units too: never less than the
    number of characters, so a message within it is within Telegram's limit whichever way it counts.
`clip_html` is the last step every outgoing text passes; it keeps tags balanced.
"""

from __future__ import annotations

import html
import re

from digest.core.chat_text import utf16_units as units  # what Telegram's offsets count

MESSAGE_MAX = 4096  # https://core.telegram.org/bots/api#sendmessage: text, 1-4096 characters after entities parsing
CAPTION_MAX = 1024  # https://core.telegram.org/bots/api#sendphoto: caption, 0-1024 characters after entities parsing
# The tags this package writes: a subset of what Telegram's HTML style supports.
ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "a", "code", "pre", "blockquote"})
_TOKEN = re.compile(r"<(/?)([a-z]+)(?:\s[^>]*)?>|&(?:#\d+|#x[0-9a-fA-F]+|[a-z]+);|[^<&]+|[<&]")
ELLIPSIS = "…"


def escape(text: str) -> str:
    """Text from outside as Telegram HTML: `<`, `>`, `&` and `"` become entities, so it can never be markup."""
    return html.escape(text, quote=True).replace("&#x27;", "'")  # the apostrophe needs no escaping in text


def visible_length(markup: str) -> int:
    """The length Telegram counts for `markup`: its text with tags dropped and entities decoded."""
    return units(html.unescape(re.sub(r"<[^>]*>", "", markup)))


def clip_html(markup: str, limit: int = MESSAGE_MAX) -> str:
    """`markup` when its visible length is within `limit`, else cut (at a word when one is near) with "…".

    Tags opened before the cut are closed in order, a tag's text is never split inside an entity, and
    the result is never longer than `limit` as Telegram counts it.
    """
    markup = markup.strip()
    if visible_length(markup) <= limit:
        return markup
    budget = limit - units(ELLIPSIS)
    out: list[str] = []
    open_tags: list[str] = []
    used = 0
    for token in _TOKEN.finditer(markup):
        text = token.group(0)
        if token.group(2) is not None:  # a tag: costs nothing, tracked so the cut can close it
            name = token.group(2)
            if token.group(1):
                if open_tags and open_tags[-1] == name:
                    open_tags.pop()
            else:
                open_tags.append(name)
            out.append(text)
            continue
        plain = html.unescape(text)
        cost = units(plain)
        if used + cost <= budget:
            out.append(text)
            used += cost
            continue
        if not text.startswith("&"):  # a run of text: keep what fits, ending at a word when one is near
            room = _fit(plain, budget - used)
            space = room.rfind(" ")
            if space >= len(room) // 2 and space > 0:
                room = room[:space]
            out.append(escape(room.rstrip()))
        break
    while out and open_tags and re.match(rf"<{open_tags[-1]}[\s>]", out[-1]):  # opened right before the cut: drop it
        out.pop()
        open_tags.pop()
    return "".join(out).rstrip() + ELLIPSIS + "".join(f"</{name}>" for name in reversed(open_tags))


def _fit(text: str, room: int) -> str:
    """The longest prefix of `text` within `room` UTF-16 units (never splitting a surrogate pair)."""
    taken, used = [], 0
    for ch in text:
        cost = units(ch)
        if used + cost > room:
            break
        taken.append(ch)
        used += cost
    return "".join(taken)


def balanced(markup: str) -> bool:
    """Whether every tag in `markup` is an allowed one and closed in order (what Telegram's parser needs)."""
    stack: list[str] = []
    for token in _TOKEN.finditer(markup):
        name = token.group(2)
        if name is None:
            if token.group(0) in ("<", "&"):
                return False
            continue
        if name not in ALLOWED_TAGS:
            return False
        if token.group(1):
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack
