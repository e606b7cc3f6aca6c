"""How a Discord channel subscriber is posted to: target kind, style, role mention, webhook identity.

One row per `discord_channel` subscriber that chose anything other than the defaults (a plain channel,
`full` embeds, no mention, the bot's own name); no row means exactly today's behaviour. The webhook token
is a credential Discord hands out when paperbell creates the webhook: kept here, never shown in replies.
`template`, `embed_color` and `daily_cap` are the channel's message template (digest.discord.message_template),
its embeds' colour and its papers-per-day cap (digest.discord.caps); NULL means the defaults.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class DiscordTarget(SQLModel, table=True):
    __tablename__ = "discord_targets"

    subscriber_id: int = Field(foreign_key="subscribers.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(default="channel", max_length=16)  # channel | forum | thread | webhook
    style: str = Field(default="full", max_length=16)  # full | compact | titles
    role_id: str | None = Field(default=None, max_length=32)  # the role mentioned on each post
    thread_id: str | None = Field(default=None, max_length=32)  # kind=thread: the existing thread posted into
    open_thread: bool = False  # open a discussion thread under each digest message
    forum_tags: bool = True  # kind=forum: apply the forum's tags named like a category or query
    webhook_id: str | None = Field(default=None, max_length=32)
    webhook_token: str | None = Field(default=None, max_length=128)
    webhook_name: str | None = Field(default=None, max_length=80)
    webhook_avatar: str | None = Field(default=None, max_length=512)
    template: str | None = Field(default=None, max_length=1000)  # each paper's embed text, with {placeholders}
    embed_color: int | None = None  # 0xRRGGBB
    daily_cap: int | None = None  # papers a day in full; the rest in one "N more" message
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class DiscordDmChannel(SQLModel, table=True):
    """The DM channel Discord opened between the bot and a member, so a DM costs one request, not two.

    Discord returns the same channel for the same user every time (Create DM:
    https://discord.com/developers/docs/resources/user#create-dm), but discord.py keeps only the last
    128 DM channels in memory, so without this row every digest to one of thousands of members first
    asks Discord for the channel again: under the bot's global 50 requests/s that doubles the time a
    DM delivery takes. Keyed by user id (members and the guild owners told about a pause).
    """

    __tablename__ = "discord_dm_channels"

    user_id: str = Field(primary_key=True, max_length=32)
    channel_id: str = Field(max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
