"""Text of the bot's replies that several cogs share: query previews and subscription lines.

Pure string building over service results; the cogs send them.
"""

from __future__ import annotations

from digest.delivery.discord_render import clip, escape_markdown, highlight
from digest.services.preview import Preview
from storage.models import Subscriber, SubscriberKind, Subscription


def preview_lines(preview: Preview, days: int = 7) -> str:
    head = f"It would have matched **{preview.count}** stored paper{'s' if preview.count != 1 else ''} " \
           f"in the last {days} days."
    lines = [head]
    for paper, explanation in preview.examples:
        title = highlight(" ".join(paper.title.split()), explanation.matched_words)
        url = paper.abs_url or f"https://arxiv.org/abs/{paper.canonical_id}"
        lines.append(f"• [{clip(title, 180)}]({url})")
    return "\n".join(lines)


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
    return f"**#{subscription.id}** `{subscription.query.replace('`', 'ˋ')}` → {where}{schedule}{state}"
