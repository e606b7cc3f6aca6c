"""Per-channel Discord styles and placement details: `compact` and `titles` lines, forum post
titles and tags, role mentions. Pure: plain items in, message dicts out, all through `clip_message`.

`full` is digest.discord.render (embeds). `compact` is one line per paper (linked title, first
author, the query it matched); `titles` a list of links. Lines come from templates/discord/, are each
clipped to `LINE_MAX`, and are packed into as few messages as the 2000-character content limit allows.
Links are wrapped in <…> so Discord shows no preview card per paper; a paper whose address is not
http(s) is shown as plain text, never as a link.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from digest.core.assembly import Digest, DigestItem
from digest.core.links import markdown_link_target
from digest.discord.render import CONTENT_MAX, Message, clip, clip_message, render_text

LINE_MAX = 400  # one paper's line; five of them always fit a message
THREAD_NAME_MAX = 100  # Discord: thread (and forum post) names are 1-100 characters
FORUM_TAGS_MAX = 5  # Discord: at most 5 applied tags per forum post
NO_MENTIONS: dict[str, Any] = {"parse": []}


def paper_line(item: DigestItem, style: str) -> str:
    """One paper as a single line of Discord markdown in `style` (compact or titles)."""
    template = "compact_line.md.j2" if style == "compact" else "titles_line.md.j2"
    first_author = item.authors[0] if item.authors else ""
    if len(item.authors) > 1:
        first_author += " et al."
    line = render_text(template, item=item, url=markdown_link_target(item.abs_url), first_author=first_author)
    return clip(" ".join(line.split()), LINE_MAX)


def pack_lines(lines: Iterable[tuple[int, str]], header: str = "") -> list[tuple[list[int], Message]]:
    """(delivery id, line) pairs → messages of whole lines, each ≤ CONTENT_MAX; the header opens the first."""
    out: list[tuple[list[int], Message]] = []
    ids: list[int] = []
    text = clip(header, CONTENT_MAX // 2) if header else ""
    for delivery_id, line in lines:
        if ids and len(text) + 1 + len(line) > CONTENT_MAX:
            out.append((ids, {"content": text}))
            ids, text = [], ""
        text = f"{text}\n{line}" if text else line
        ids.append(delivery_id)
    if ids:
        out.append((ids, {"content": text}))
    return [(i, clip_message({**m, "allowed_mentions": dict(NO_MENTIONS)})) for i, m in out]


def styled_instant(items: Sequence[DigestItem], style: str) -> list[tuple[list[int], Message]]:
    return [pack_lines([(item.delivery_id, paper_line(item, style))])[0] for item in items]


def styled_digest(digest: Digest, period: str, style: str) -> list[tuple[list[int], Message]]:
    """A digest in compact/titles style: a one-line header, then one line per paper."""
    lines = [(item.delivery_id, paper_line(item, style)) for item in digest.items]
    first = pack_lines(lines, header="x" * 120)  # room for the longest header, to count the parts
    out = []
    index = 0
    for number, (ids, _) in enumerate(first, start=1):
        header = render_text("styled_header.md.j2", digest=digest, period=period, part=number, part_count=len(first))
        body = "\n".join(line for _, line in lines[index : index + len(ids)])
        index += len(ids)
        out.append((ids, clip_message({"content": f"{header}\n{body}", "allowed_mentions": dict(NO_MENTIONS)})))
    return out


def with_role_mention(message: Message, role_id: str | None) -> Message:
    """The message pings `role_id` and nobody else (never @everyone, never a user named in a title)."""
    if not role_id:
        return message
    content = f"<@&{role_id}> {message.get('content') or ''}".rstrip()
    return clip_message({**message, "content": content, "allowed_mentions": {"parse": [], "roles": [role_id]}})


def thread_name(text: str) -> str:
    """A forum post / thread name within Discord's 1-100 characters (markdown is not rendered there)."""
    return clip(" ".join(text.split()), THREAD_NAME_MAX) or "Papers"


def digest_title(now: datetime) -> str:
    return f"Papers for {now:%a %d %b}"


def forum_tags(available: Sequence[dict[str, Any]], names: Iterable[str]) -> list[str]:
    """Ids of the forum's tags whose name equals (case-insensitively) a category or query, at most 5."""
    wanted = {n.strip().lower() for n in names if n and n.strip()}
    return [str(t["id"]) for t in available if str(t.get("name", "")).strip().lower() in wanted][:FORUM_TAGS_MAX]
