"""The DM channel opened with each Discord member, remembered so a DM digest costs one request.

Called by the bot's poster (bot.poster) around Discord's Create DM: `stored` before asking Discord,
`remember` after it answered, `forget` when a stored channel turned out to be gone (404 Unknown
Channel), so the next post opens it again. Ids are checked as snowflakes before they are stored:
whatever Discord or a double answers is hostile until then.
"""

from __future__ import annotations

import re

from sqlalchemy import delete
from sqlmodel import select

from storage.db import Database
from storage.discord_target_models import DiscordDmChannel
from storage.types import utcnow

SNOWFLAKE = re.compile(r"[1-9][0-9]{0,19}")


def stored(db: Database, user_id: str) -> str | None:
    """The DM channel id remembered for this member, or None (never opened, or forgotten)."""
    with db.session() as session:
        return session.exec(select(DiscordDmChannel.channel_id).where(DiscordDmChannel.user_id == user_id)).first()


def remember(db: Database, user_id: str, channel_id: str) -> bool:
    """Store (or replace) the member's DM channel; False, storing nothing, when either id is not a snowflake."""
    if not (SNOWFLAKE.fullmatch(user_id) and SNOWFLAKE.fullmatch(channel_id)):
        return False
    table = DiscordDmChannel.__table__  # type: ignore[attr-defined]
    values = {"user_id": user_id, "channel_id": channel_id, "updated_at": utcnow()}
    statement = db.insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.user_id], set_={"channel_id": channel_id, "updated_at": values["updated_at"]})
    with db.session() as session:
        session.execute(statement)
    return True


def forget(db: Database, user_id: str) -> None:
    """Drop the member's remembered DM channel (it answered Unknown Channel): the next post opens it again."""
    with db.session() as session:
        session.execute(delete(DiscordDmChannel).where(DiscordDmChannel.user_id == user_id))  # type: ignore[arg-type]
