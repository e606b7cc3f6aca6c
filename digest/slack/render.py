"""Papers as Slack messages: Block Kit with mrkdwn, within Slack's documented limits, vote buttons on each paper.

Limits (https://api.slack.com/reference/block-kit/blocks): at most 50 blocks per message; a section's
text at most 3,000 characters; a header's plain text at most 150; a context block at most 10 elements;
an actions block at most 25 elements; a button's text at most 75 characters and its value at most
2,000 (https://api.slack.com/reference/block-kit/block-elements#button). The top-level `text` is the
notification fallback (https://api.slack.com/methods/chat.postMessage#arg_text: keep it under 4,000).
mrkdwn escaping (https://api.slack.com/reference/surfaces/formatting#escaping): `&`, `<`, `>` as
entities, so a title can never open a link or mention `@channel`.
"""

from __future__ import annotations

from typing import Any

from digest.core.assembly import Digest, DigestItem, shorten_authors
from digest.core.chat_text import clip
from digest.services.digest_extras import DigestExtras, updates_text
from digest.services.posting import Rendered

MAX_BLOCKS = 50
SECTION_CHARS = 3000
HEADER_CHARS = 150
FALLBACK_CHARS = 3900
VOTE_UP, VOTE_DOWN = "paperbell_vote_up", "paperbell_vote_down"  # action_ids the interactivity route knows
BLOCKS_PER_PAPER = 2  # a section and its vote buttons
PAPERS_PER_MESSAGE = (MAX_BLOCKS - 1) // BLOCKS_PER_PAPER  # a header first: 24 papers per message


def escape(text: str) -> str:
    """Text safe inside mrkdwn: Slack's three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str | None, text: str) -> str:
    if not url or any(c in url for c in "<>| "):
        return f"*{text}*"
    return f"*<{url}|{text.replace('|', '¦')}>*"


def paper_section(item: DigestItem, *, with_query: bool = True) -> dict[str, Any]:
    """One paper: its linked title, authors, snippet, and what matched (within 3,000 characters)."""
    lines = [_link(item.abs_url, escape(clip(item.title, 300)))]
    if item.authors:
        lines.append(escape(clip(shorten_authors(item.authors), 300)))
    if item.snippet or item.summary:
        lines.append(escape(clip(item.snippet or item.summary, 1500)))
    links = [f"<{url}|{name}>" for name, url in (("PDF", item.pdf_url), ("code", item.code_url), ("HF", item.hf_url))
             if url and not any(c in url for c in "<>| ")]
    tail = " · ".join([*links, f"_{escape(clip(item.query, 200))}_" if with_query else ""]).strip(" ·")
    if tail:
        lines.append(tail)
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip("\n".join(lines), SECTION_CHARS)}}


def vote_buttons(item: DigestItem) -> dict[str, Any]:
    """👍/👎 for one paper; the value is the paper id, the channel is the block action's."""
    return {"type": "actions", "block_id": f"votes-{item.paper_id}", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "👍", "emoji": True}, "action_id": VOTE_UP,
         "value": str(item.paper_id)},
        {"type": "button", "text": {"type": "plain_text", "text": "👎", "emoji": True}, "action_id": VOTE_DOWN,
         "value": str(item.paper_id)},
    ]}


def instant(item: DigestItem) -> dict[str, Any]:
    """One paper as one message: its section and vote buttons."""
    return {"text": clip(f"New paper: {item.title}", FALLBACK_CHARS),
            "blocks": [paper_section(item), vote_buttons(item)]}


def digest(subscriber_schedule: str, digest: Digest) -> list[Rendered]:
    """The digest in messages of at most 24 papers (50 blocks: a header, then a section + buttons each)."""
    items = digest.items
    chunks = [items[i:i + PAPERS_PER_MESSAGE] for i in range(0, len(items), PAPERS_PER_MESSAGE)]
    rendered: list[Rendered] = []
    for number, chunk in enumerate(chunks, start=1):
        part = f" ({number}/{len(chunks)})" if len(chunks) > 1 else ""
        title = clip(f"paperbell {subscriber_schedule} digest: {digest.shown} new papers{part}", HEADER_CHARS)
        blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title}}]
        for item in chunk:
            blocks += [paper_section(item), vote_buttons(item)]
        rendered.append(([item.delivery_id for item in chunk], {"text": title, "blocks": blocks}))
    return rendered


def updates(extras: DigestExtras) -> dict[str, Any] | None:
    """Updates to papers the channel received (and its queries' health) as one section, or None."""
    text = updates_text(extras, SECTION_CHARS, strong=lambda heading: f"*{heading}*", text=escape)
    if text is None:
        return None
    fallback = updates_text(extras, FALLBACK_CHARS) or ""
    return {"text": fallback, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
