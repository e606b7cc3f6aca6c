"""The world half of the Discord double: users, guilds, roles, channels, members, permission overwrites.

Mixed into `server.DiscordDouble`. Changes made after READY reach the connected client as gateway
dispatches (GUILD_ROLE_CREATE, CHANNEL_CREATE, CHANNEL_UPDATE), sent before the next one a test drives.
The bot gets a managed role with what its invite grants (View Channel, Send Messages, Embed Links).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.bot.discord_double import payloads as p
from tests.bot.discord_double.rules import channel_permissions

if TYPE_CHECKING:
    from tests.bot.discord_double.gateway import Gateway


@dataclass
class Guild:
    id: str
    name: str
    owner_id: str
    roles: list[dict[str, Any]] = field(default_factory=list)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)


class WorldBuilding:
    application_id: str
    bot_user: dict[str, Any]
    users: dict[str, dict[str, Any]]
    guilds: dict[str, Guild]
    dm_channels: dict[str, dict[str, Any]]
    messages: dict[str, list[dict[str, Any]]]
    gateway: Gateway
    _announcements: list[tuple[str, dict[str, Any]]]

    def _channel(self, channel_id: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def add_user(self, name: str) -> str:
        user_id = p.snowflake()
        self.users[user_id] = p.user(user_id, name)
        return user_id

    def add_guild(self, name: str = "Reading group") -> str:
        owner = self.add_user(f"{name} owner")
        guild = Guild(id=p.snowflake(), name=name, owner_id=owner)
        guild.roles.append(p.role(guild.id, "@everyone", p.MEMBER_PERMISSIONS))  # @everyone id == guild id
        self.guilds[guild.id] = guild
        guild.members[owner] = p.member(self.users[owner], [])
        bot_role = p.snowflake()  # the bot's managed role, as an invite with permissions creates it
        guild.roles.append({**p.role(bot_role, "paperbell", p.BOT_PERMISSIONS, position=1), "managed": True})
        guild.members[self.application_id] = p.member(self.bot_user, [bot_role])
        return guild.id

    def add_role(self, guild_id: str, name: str, permissions: int = p.MEMBER_PERMISSIONS) -> str:
        guild = self.guilds[guild_id]
        role_id = p.snowflake()
        guild.roles.append(p.role(role_id, name, permissions, position=len(guild.roles)))
        self._announce("GUILD_ROLE_CREATE", {"guild_id": guild_id, "role": guild.roles[-1]})
        return role_id

    def add_channel(self, guild_id: str, name: str) -> str:
        guild = self.guilds[guild_id]
        channel_id = p.snowflake()
        guild.channels[channel_id] = p.text_channel(channel_id, name, guild_id, len(guild.channels))
        self.messages[channel_id] = []
        self._announce("CHANNEL_CREATE", guild.channels[channel_id])
        return channel_id

    def set_overwrite(self, channel_id: str, target_id: str, *, allow: int = 0, deny: int = 0) -> None:
        """A channel permission overwrite for a role (or @everyone = guild id) or a member."""
        channel = self._channel(channel_id)
        assert channel is not None and channel.get("guild_id")
        guild = self.guilds[channel["guild_id"]]
        kind = 0 if target_id == guild.id or any(r["id"] == target_id for r in guild.roles) else 1
        overwrites = [o for o in channel["permission_overwrites"] if o["id"] != target_id]
        overwrites.append({"id": target_id, "type": kind, "allow": str(allow), "deny": str(deny)})
        channel["permission_overwrites"] = overwrites
        self._announce("CHANNEL_UPDATE", channel)

    def set_slowmode(self, channel_id: str, seconds: int) -> None:
        """A channel's `rate_limit_per_user` (0-21600 s, resources/channel.mdx); the client hears CHANNEL_UPDATE."""
        channel = self._channel(channel_id)
        assert channel is not None and 0 <= seconds <= 21600
        channel["rate_limit_per_user"] = seconds
        self._announce("CHANNEL_UPDATE", channel)

    def bot_permissions_in(self, channel_id: str) -> int:
        channel = self._channel(channel_id)
        if channel is None or not channel.get("guild_id"):
            return (1 << 50) - 1  # DMs: no permission system
        guild_id = channel["guild_id"]
        roles = set(self.guilds[guild_id].members[self.application_id]["roles"]) | {guild_id}
        return channel_permissions(self.permissions_of(guild_id, self.application_id),
                                   channel["permission_overwrites"], guild_id, roles, self.application_id)

    def _announce(self, event: str, data: dict[str, Any]) -> None:
        """World changes after READY reach the client as dispatches, sent before the next one we drive."""
        if self.gateway.current is not None:
            self._announcements.append((event, data))

    async def _flush_announcements(self) -> None:
        while self._announcements:
            event, data = self._announcements.pop(0)
            await self.gateway.dispatch(event, data)

    def add_member(self, guild_id: str, name: str, *, manage_guild: bool = False, roles: tuple[str, ...] = ()) -> str:
        user_id = self.add_user(name)
        role_ids = list(roles)
        if manage_guild:
            role_ids.append(self.add_role(guild_id, f"{name} mod", p.MEMBER_PERMISSIONS | p.MANAGE_GUILD))
        self.guilds[guild_id].members[user_id] = p.member(self.users[user_id], role_ids)
        return user_id

    def guild_payload(self, guild_id: str) -> dict[str, Any]:
        g = self.guilds[guild_id]
        return p.guild(g.id, g.name, g.owner_id, g.roles, list(g.channels.values()), list(g.members.values()))

    def permissions_of(self, guild_id: str, user_id: str) -> int:
        guild = self.guilds[guild_id]
        if user_id == guild.owner_id:
            return (1 << 41) - 1
        roles = set(guild.members[user_id]["roles"]) | {guild_id}
        value = 0
        for role in guild.roles:
            if role["id"] in roles:
                value |= int(role["permissions"])
        return value

