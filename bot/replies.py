"""How the bot answers interactions, and the text several cogs share (query previews, subscription lines).

`answer` is the one way a cog replies: it clips the message last (digest.discord.render.
clip_message) and picks the initial response or, after `defer`, a follow-up, so nothing the bot sends
can exceed Discord's limits and a follow-up never precedes the initial response.
"""

from __future__ import annotations

from typing import Any

import discord

from digest.core.assembly import QueryHealthLine
from digest.discord.render import clip, clip_message, escape_markdown, highlight, masked_link
from digest.services.preview import Preview
from digest.services.trending import describe
from storage.models import Subscriber, SubscriberKind, Subscription


def warning_lines(warnings: list[str]) -> list[str]:
    """The parser's warnings about the query (they quote the user's words: escaped)."""
    return [f"⚠️ {escape_markdown(w)}" for w in warnings]
async def defer(interaction: discord.Interaction) -> None:
    """The initial response, sent before any database, summarizer or search work (Discord allows 3 s)."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)


async def answer(
    interaction: discord.Interaction, content: str | None = None, *, embeds: list[discord.Embed] | None = None,
    message: dict[str, Any] | None = None, view: discord.ui.View | None = None, ephemeral: bool = True,
) -> None:
    """Reply with text and/or embeds (or a rendered `message` dict), clipped to Discord's limits."""
    rendered = dict(message or {})
    if content is not None:
        rendered["content"] = content
    if embeds:
        rendered["embeds"] = [e.to_dict() for e in embeds]
    rendered = clip_message(rendered)
    kwargs: dict[str, Any] = {
        "content": rendered.get("content"),
        "embeds": [discord.Embed.from_dict(e) for e in rendered.get("embeds", [])],
        "ephemeral": ephemeral,
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


def preview_lines(preview: Preview, days: int = 7) -> str:
    head = f"It would have matched **{preview.count}** stored paper{'s' if preview.count != 1 else ''} " \
           f"in the last {days} days."
    lines = [*warning_lines(preview.warnings), head]
    for paper, explanation in preview.examples:
        title = highlight(" ".join(paper.title.split()), explanation.matched_words)
        url = paper.abs_url or (None if paper.canonical_id.startswith(("doi:", "hash:"))
                                else f"https://arxiv.org/abs/{paper.canonical_id}")
        lines.append(f"• {masked_link(clip(title, 180), url)}")
    return "\n".join(lines)


def health_words(line: QueryHealthLine | None) -> str:
    """' · 2 papers in the last 30 days', plus a quiet or narrow query's near misses, one per line."""
    if line is None:
        return ""
    words = f" · {line.summary}" + (" — consider widening it" if line.matched_30d == 0 else "")
    for title, clause in line.near_misses:
        words += f"\n  ↳ near miss: {escape_markdown(clip(title, 120))} (failed only `{clause.replace('`', 'ˋ')}`)"
    return words


def subscription_line(subscription: Subscription, subscriber: Subscriber | None) -> str:
    if subscriber is None:
        where = "?"
    elif subscriber.kind == SubscriberKind.DISCORD_CHANNEL:
        where = f"<#{subscriber.address}>"
    elif subscriber.kind == SubscriberKind.DISCORD_USER:
        where = f"DM <@{subscriber.address}>"
    else:
        where = escape_markdown(subscriber.address)
    state = " · ⏸️ paused" if subscription.paused else ""
    if subscriber is not None and subscriber.paused:
        state += f" · ⏸️ deliveries paused: {subscriber.pause_reason or 'by an admin'}"
    schedule = f" · {subscriber.schedule}" if subscriber is not None else ""
    query = clip(describe(subscription.query, subscription.max_items).replace("`", "ˋ"), 300)
    return f"**#{subscription.id}** `{query}` → {where}{schedule}{state}"
