"""Where and how a Discord channel subscriber is posted to: target kind, style, role, webhook.

Called by the bot's /admin commands (validate → here → reply) and by digest.discord.delivery,
which turns a stored `DiscordTarget` into a `Placement` per message. Every option an admin types is
hostile until checked here: one bad value is refused with a one-line reason (`InvalidInput`), nothing
is half-stored. No row = a plain channel, `full` embeds, no mention, the bot's own name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from digest.core.links import safe_http_url
from digest.discord.message_template import TemplateError, parse_color, validate_template
from digest.services.errors import InvalidInput, NotFound
from storage.db import Database
from storage.discord_target_models import DiscordTarget
from storage.models import Subscriber, SubscriberKind
from storage.types import utcnow

KINDS = ("channel", "forum", "thread", "webhook")
STYLES = ("full", "compact", "titles")
SNOWFLAKE = re.compile(r"^[1-9][0-9]{0,19}$")
WEBHOOK_NAME_MAX = 80
FORBIDDEN_IN_WEBHOOK_NAMES = ("clyde", "discord")  # Discord refuses webhook names containing these
DAILY_CAP_MAX = 1000


@dataclass(frozen=True)
class TargetOptions:
    """A plain copy of a subscriber's target row (what the delivery path and /admin read)."""

    kind: str = "channel"
    style: str = "full"
    role_id: str | None = None
    thread_id: str | None = None
    open_thread: bool = False
    forum_tags: bool = True
    webhook_id: str | None = None
    webhook_token: str | None = None
    webhook_name: str | None = None
    webhook_avatar: str | None = None
    template: str | None = None  # digest.discord.message_template
    embed_color: int | None = None
    daily_cap: int | None = None  # digest.discord.caps

    @property
    def is_default(self) -> bool:
        return self == TargetOptions()

    def describe(self) -> str:
        """One line for /admin subscriptions (never the webhook token)."""
        where = {"channel": "channel", "forum": "forum posts", "thread": f"thread <#{self.thread_id}>",
                 "webhook": f"webhook “{self.webhook_name or 'paperbell'}”"}[self.kind]
        extras = [f"style {self.style}"]
        if self.role_id:
            extras.append(f"mentions <@&{self.role_id}>")
        if self.open_thread:
            extras.append("opens a thread per digest")
        if self.template is not None:
            extras.append("own template")
        if self.embed_color is not None:
            extras.append(f"colour #{self.embed_color:06x}")
        if self.daily_cap is not None:
            extras.append(f"at most {self.daily_cap} papers a day")
        return f"{where}, " + ", ".join(extras)


def _options(row: DiscordTarget | None) -> TargetOptions:
    if row is None:
        return TargetOptions()
    return TargetOptions(kind=row.kind, style=row.style, role_id=row.role_id, thread_id=row.thread_id,
                         open_thread=row.open_thread, forum_tags=row.forum_tags, webhook_id=row.webhook_id,
                         webhook_token=row.webhook_token, webhook_name=row.webhook_name,
                         webhook_avatar=row.webhook_avatar, template=row.template, embed_color=row.embed_color,
                         daily_cap=row.daily_cap)


def get_target(db: Database, subscriber_id: int) -> TargetOptions:
    with db.session() as session:
        return _options(session.get(DiscordTarget, subscriber_id))


def get_targets(db: Database, subscriber_ids: list[int]) -> dict[int, TargetOptions]:
    with db.session() as session:
        return {i: _options(session.get(DiscordTarget, i)) for i in subscriber_ids}


def _snowflake(value: str | int | None, what: str) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not SNOWFLAKE.match(text):
        raise InvalidInput(f"{what} must be a Discord id (digits), not {text[:40]!r}")
    return text


def validate_webhook_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= WEBHOOK_NAME_MAX:
        raise InvalidInput(f"a webhook name must be 1-{WEBHOOK_NAME_MAX} characters")
    if any(word in name.lower() for word in FORBIDDEN_IN_WEBHOOK_NAMES):
        raise InvalidInput("Discord refuses webhook names containing 'clyde' or 'discord'")
    return name


def validate_avatar_url(url: str | None) -> str | None:
    if not url:
        return None
    safe = safe_http_url(url)  # the one URL gate (digest.core.links), then Discord's stricter avatar rules
    if safe is None or not safe.lower().startswith("https://") or len(safe) > 512:
        raise InvalidInput("the avatar must be an https:// image address of at most 512 characters")
    return safe


def _check(changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(changes)
    if "kind" in out and out["kind"] not in KINDS:
        raise InvalidInput(f"target must be one of {', '.join(KINDS)}")
    if "style" in out and out["style"] not in STYLES:
        raise InvalidInput(f"style must be one of {', '.join(STYLES)}")
    for key, what in (("role_id", "the role"), ("thread_id", "the thread"), ("webhook_id", "the webhook")):
        if key in out:
            out[key] = _snowflake(out[key], what)
    if out.get("webhook_name") is not None:
        out["webhook_name"] = validate_webhook_name(out["webhook_name"])
    if "webhook_avatar" in out:
        out["webhook_avatar"] = validate_avatar_url(out["webhook_avatar"])
    try:  # a channel's look: refused at the door with the template module's one-line reason
        if out.get("template") is not None:
            out["template"] = validate_template(out["template"])
        if isinstance(out.get("embed_color"), str):
            out["embed_color"] = parse_color(out["embed_color"])
    except TemplateError as error:
        raise InvalidInput(str(error)) from None
    if out.get("daily_cap") is not None and not 1 <= int(out["daily_cap"]) <= DAILY_CAP_MAX:
        raise InvalidInput(f"the daily cap must be 1-{DAILY_CAP_MAX} papers")
    return out


def set_target(db: Database, subscriber_id: int, **changes: Any) -> TargetOptions:
    """Change some options of a channel subscriber's target; the result must be coherent as a whole."""
    changes = _check(changes)
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None or subscriber.kind != SubscriberKind.DISCORD_CHANNEL:
            raise NotFound(f"no Discord channel subscriber {subscriber_id}")
        row = session.get(DiscordTarget, subscriber_id) or DiscordTarget(subscriber_id=subscriber_id)
        for key, value in changes.items():
            setattr(row, key, value)
        if row.kind == "thread" and not row.thread_id:
            raise InvalidInput("a thread target needs the thread to post into")
        if row.kind == "webhook" and not (row.webhook_id and row.webhook_token):
            raise InvalidInput("a webhook target needs a webhook paperbell created")
        if row.kind == "forum" and row.open_thread:
            row.open_thread = False  # a forum post is already the discussion thread
        row.updated_at = utcnow()
        session.add(row)
        session.flush()
        return _options(row)
