"""Turning a channel subscriber's target options into where each message goes.

Pure helpers for digest.discord.delivery: the style picks the renderer, a `Placement` tells the
poster whether a part is a plain channel message, a forum post (name + tags), a message in a thread, or a
webhook message with its own name and avatar, and whether to open a discussion thread under it. The
role mention rides on the first part of a digest (or on each instant post) and pings only that role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from digest.core.assembly import DigestItem
from digest.discord.message_template import templated
from digest.discord.render import Message
from digest.discord.styles import digest_title, thread_name, with_role_mention
from digest.discord.targets import TargetOptions


@dataclass(frozen=True)
class Placement:
    kind: str  # channel | forum | thread | webhook
    channel_id: str  # the subscribed channel (a forum for kind=forum)
    thread_id: str | None = None  # post inside this thread (kind=thread, or later parts of a digest)
    title: str = "Papers"  # forum post name, or the name of the thread opened under the message
    tag_names: tuple[str, ...] = ()  # forum tags wanted (matched against the forum's available tags)
    open_thread: bool = False
    webhook_id: str | None = None
    webhook_token: str | None = None
    username: str | None = None
    avatar_url: str | None = None

    @property
    def starts_thread(self) -> bool:
        """Whether this post creates a thread (a forum post, or a message with a thread opened under it)."""
        return self.thread_id is None and (self.kind == "forum" or self.open_thread)


def placement_for(target: TargetOptions, channel_id: str, items: Sequence[DigestItem], *, instant: bool,
                  now: datetime, thread_id: str | None) -> Placement:
    """Where one part goes. `thread_id`: the thread an earlier part of this digest started, if any."""
    title = digest_title(now)
    if instant and items:  # an instant post carries one paper; several are a daily cap's "N more" message
        title = items[0].title if len(items) == 1 else f"{len(items)} more papers"
    tags = tuple(dict.fromkeys([c for i in items for c in i.categories] + [i.query for i in items if i.query]))
    existing = target.thread_id if target.kind == "thread" else thread_id
    return Placement(
        kind=target.kind, channel_id=channel_id, thread_id=existing, title=thread_name(title),
        tag_names=tags if target.forum_tags else (), open_thread=target.open_thread,
        webhook_id=target.webhook_id, webhook_token=target.webhook_token,
        username=target.webhook_name if target.kind == "webhook" else None,
        avatar_url=target.webhook_avatar if target.kind == "webhook" else None,
    )


def dress(message: Message, target: TargetOptions, *, first: bool, instant: bool,
          items: Sequence[DigestItem] = ()) -> Message:
    """The channel's template and colour on its papers' embeds (`items`: the part's papers, in order); the
    role mention on each instant post and on the first part of a digest only."""
    message = templated(message, items, target.template, target.embed_color)
    return with_role_mention(message, target.role_id) if (instant or first) else message


def later_part(placement: Placement, started: str | None) -> Placement:
    """Later parts of a digest go inside the thread the first part started (forum post or opened thread)."""
    if started is None:
        return placement
    kind = "webhook" if placement.kind == "webhook" else "thread"
    return replace(placement, kind=kind, thread_id=started, open_thread=False)
