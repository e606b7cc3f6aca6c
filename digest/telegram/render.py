"""Telegram messages: papers → HTML texts within Telegram's limits, each with its 👍/👎 inline keyboard.

Pure (plain data in, JSON-able dicts out, no python-telegram-bot import). A message is a dict of
`sendMessage` parameters (https://core.telegram.org/bots/api#sendmessage): `text` in HTML parse mode,
link previews off (one preview card per paper would bury the digest), and a `reply_markup` inline
keyboard. Every link passes the project's URL gate (`digest.core.links`); every text from a source
is escaped (`digest.telegram.html.escape`); `clip_html` is the last step of every text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from digest.core.assembly import Digest, DigestItem
from digest.core.chat_text import clip
from digest.core.links import html_href, with_safe_links
from digest.core.templating import highlight, meta_parts
from digest.telegram.html import MESSAGE_MAX, clip_html, escape, visible_length
from digest.telegram.keyboard import vote_keyboard

PAPERS_PER_MESSAGE = 10  # two buttons each: the keyboard under a digest part stays readable
SUMMARY_MAX = {"instant": 1500, "digest": 500}  # characters of abstract per paper
Message = dict[str, Any]


def _link(label: str, url: object) -> str:
    href = html_href(url)  # the one URL gate; quotes never pass it, `&` is escaped for the attribute
    return f'<a href="{escape(href)}">{label}</a>' if href else label


def _bold_matches(text: str, words: Sequence[str]) -> str:
    """Escaped text with matched words in <b> (the shared highlighter marks them, Telegram has no <mark>)."""
    return str(highlight(text, words)).replace("<mark>", "<b>").replace("</mark>", "</b>")


def _shorten(text: str, limit: int) -> str:
    """Whitespace folded, then cut to `limit` characters with "…" (digest.core.chat_text.clip, the shared cut)."""
    return clip(" ".join(text.split()), limit)


def paper_html(item: DigestItem, *, number: int | None = None, summary_max: int = SUMMARY_MAX["instant"]) -> str:
    """One paper: bold linked title, meta line, matched query, summary with matched words bold, links."""
    item = with_safe_links(item)
    title = escape(" ".join((item.title or item.canonical_id).split()) or "(untitled paper)")  # never an empty text
    head = f"<b>{number}.</b> " if number is not None else ""
    lines = [head + f"<b>{_link(title, item.abs_url)}</b>"]
    meta = " · ".join(meta_parts(item))
    if meta:
        lines.append(f"<i>{escape(meta)}</i>")
    if item.reason:
        lines.append(escape(item.reason))
    text = item.summary or item.snippet
    if text:
        lines.append(_bold_matches(_shorten(text, summary_max), item.matched_words))
    links = [_link(name, url) for name, url in (("PDF", item.pdf_url), ("Hugging Face", item.hf_url),
                                                 ("Code", item.code_url)) if url]
    if item.query:
        links.append(f"query <code>{escape(item.query)}</code>")
    if links:
        lines.append(" · ".join(links))
    return "\n".join(lines)


def message(text: str, paper_ids: Sequence[int]) -> Message:
    """The `sendMessage` parameters for one part (chat_id is added by the sender)."""
    body: Message = {"text": clip_html(text, MESSAGE_MAX), "parse_mode": "HTML",
                     "link_preview_options": {"is_disabled": True}}
    keyboard = vote_keyboard(paper_ids)
    if keyboard:
        body["reply_markup"] = keyboard
    return body


def instant_messages(items: Sequence[DigestItem]) -> list[tuple[list[int], list[int], Message]]:
    """One message per paper: (delivery ids, paper ids, message)."""
    return [([i.delivery_id], [i.paper_id], message(paper_html(i), [i.paper_id])) for i in items]


def _header(digest: Digest, period: str, part: int, parts: int) -> str:
    counts = ", ".join(f"<code>{escape(g.query)}</code> {len(g.items)}" for g in digest.groups)
    more = sum(g.more for g in digest.groups)
    tail = f" (+{more} more next time)" if more else ""
    numbered = f" · part {part}/{parts}" if parts > 1 else ""
    return f"📬 <b>paperbell {escape(period)} digest</b>{numbered}\n{counts}{tail}"


def digest_messages(digest: Digest, period: str) -> list[tuple[list[int], list[int], Message]]:
    """A digest cut into as few messages as the 4,096-character limit and ten papers per message allow."""
    blocks = [(item, paper_html(item, number=n, summary_max=SUMMARY_MAX["digest"]))
              for n, item in enumerate(digest.items, start=1)]
    room = MESSAGE_MAX - 200  # the header's share (a part number, the query counts, clipped to fit)
    chunks: list[list[tuple[DigestItem, str]]] = []
    size = 0
    for item, block in blocks:
        cost = visible_length(block) + 2
        if not chunks or len(chunks[-1]) == PAPERS_PER_MESSAGE or size + cost > room:
            chunks.append([])
            size = 0
        chunks[-1].append((item, clip_html(block, room)))
        size += cost
    out = []
    for number, chunk in enumerate(chunks, start=1):
        header = clip_html(_header(digest, period, number, len(chunks)), 200)
        text = "\n\n".join([header] + [block for _, block in chunk])
        ids = [item.paper_id for item, _ in chunk]
        out.append(([item.delivery_id for item, _ in chunk], ids, message(text, ids)))
    return out
