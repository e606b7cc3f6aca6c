"""More of Discord's documented refusals, as pure checks the double's handlers call (no HTTP here).

Each rule names the discord-api-docs page it follows:
  - autocomplete results: at most 25 choices, each `name` 1-100 and a string `value` at most 100
    characters, else the whole answer is refused with 400 50035
    (interactions/receiving-and-responding.mdx "Autocomplete"; interactions/application-commands.mdx
    "Application Command Option Choice Structure");
  - a CHANNEL option offers only channels of its `channel_types`; a STRING option's value stays within its
    `min_length`/`max_length`, a number within `min_value`/`max_value` (Discord's client sends nothing else)
    (interactions/application-commands.mdx "Application Command Option Structure");
  - webhooks: at most 15 per channel, the 16th create is 400 30007
    (topics/opcodes-and-status-codes.mdx, "JSON Error Codes");
  - forums take posts, not messages: `POST /channels/{forum}/messages` is 400 40058; a locked thread
    refuses messages from members without MANAGE_THREADS with 400 160005; past the guild's active
    thread limit a new thread is 400 160006 (topics/opcodes-and-status-codes.mdx; topics/threads.mdx);
  - `auto_archive_duration` is one of 60, 1440, 4320, 10080 (resources/channel.mdx, "Thread Metadata");
  - a forum tag with `moderated: true` may be applied only with MANAGE_THREADS: 403 50013
    (resources/channel.mdx, "Forum Tag Structure");
  - a private thread (type 12) is visible only to its members and MANAGE_THREADS: 403 50001
    (topics/threads.mdx);
  - privileged gateway intents (GUILD_PRESENCES, GUILD_MEMBERS, MESSAGE_CONTENT) without approval close
    the socket with 4014 "Disallowed intent(s)" (events/gateway.mdx "Privileged Intents";
    topics/opcodes-and-status-codes.mdx "Gateway Close Event Codes");
  - slowmode: a channel's `rate_limit_per_user` (0-21600 s) lets an author send one message and create
    one thread per interval; "bots, as well as users with the permission BYPASS_SLOWMODE (1 << 52), are
    unaffected" (resources/channel.mdx "Channel Structure"; topics/permissions.mdx; developers/change-log.mdx
    "New BYPASS_SLOWMODE Permission": MANAGE_MESSAGES/MANAGE_CHANNELS no longer exempt since Feb 2026).
    Refused: 429 with JSON code 20016 "This action cannot be performed due to slowmode rate limit" and the
    seconds left as `retry_after` (topics/opcodes-and-status-codes.mdx "JSON Error Codes").
"""

from __future__ import annotations

import time
from typing import Any

CHOICES_MAX, CHOICE_TEXT_MAX = 25, 100
WEBHOOKS_PER_CHANNEL = 15
ARCHIVE_DURATIONS = frozenset({60, 1440, 4320, 10080})
PRIVATE_THREAD = 12
MANAGE_THREADS = 1 << 34
GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT = 1 << 1, 1 << 8, 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT
BYPASS_SLOWMODE = 1 << 52
SLOWMODE_CODE, SLOWMODE_TEXT = 20016, "This action cannot be performed due to slowmode rate limit"


def autocomplete_errors(body: dict[str, Any]) -> list[str]:
    """Problems of an autocomplete result (interaction response type 8); [] when Discord accepts it."""
    choices = (body.get("data") or {}).get("choices") or []
    errors = []
    if len(choices) > CHOICES_MAX:
        errors.append(f"data.choices: Must be {CHOICES_MAX} or fewer in length.")
    for n, choice in enumerate(choices):
        name, value = str(choice.get("name") or ""), choice.get("value")
        if not 1 <= len(name) <= CHOICE_TEXT_MAX:
            errors.append(f"data.choices.{n}.name: Must be between 1 and {CHOICE_TEXT_MAX} in length.")
        if isinstance(value, str) and len(value) > CHOICE_TEXT_MAX:
            errors.append(f"data.choices.{n}.value: Must be {CHOICE_TEXT_MAX} or fewer in length.")
    return errors


def channel_offered(spec: dict[str, Any], channel: dict[str, Any]) -> bool:
    """Whether Discord's client lets a member pick `channel` for this CHANNEL option."""
    allowed = spec.get("channel_types")
    return not allowed or channel["type"] in allowed


def option_value_offered(spec: dict[str, Any], value: Any) -> bool:
    """Whether Discord's client sends this value: STRING within `min_length`/`max_length`, INTEGER and NUMBER
    within `min_value`/`max_value` (interactions/application-commands.mdx "Application Command Option Structure")."""
    if spec.get("type") == 3 and isinstance(value, str) and not spec.get("autocomplete"):
        return spec.get("min_length", 0) <= len(value) <= spec.get("max_length", 6000)
    if spec.get("type") in (4, 10) and isinstance(value, int | float):
        return spec.get("min_value", value) <= value <= spec.get("max_value", value)
    return True


def archive_duration_errors(body: dict[str, Any]) -> list[str]:
    value = body.get("auto_archive_duration")
    if value is not None and value not in ARCHIVE_DURATIONS:
        return ["auto_archive_duration: Value must be one of (60, 1440, 4320, 10080)."]
    return []


def disallowed_intents(intents: int, approved: int) -> int:
    """The privileged intents asked for without approval (non-zero: close with 4014)."""
    return intents & PRIVILEGED_INTENTS & ~approved


class Slowmode:
    """Per (channel, author) last send; `wait` is the seconds left of the channel's slowmode, or None.

    `spares_bots` is Discord's documented rule (True). A test sets it False to stand for the day Discord
    applies slowmode to a bot anyway (a rule change like the 2026 permission split), which the bot must survive.
    """

    def __init__(self) -> None:
        self.spares_bots = True
        self._last: dict[tuple[str, str], float] = {}

    def touch(self, channel_id: str, author_id: str, at: float | None = None) -> None:
        self._last[(channel_id, author_id)] = time.monotonic() if at is None else at

    def wait(self, channel: dict[str, Any], author_id: str, *, is_bot: bool, permissions: int) -> float | None:
        interval = int(channel.get("rate_limit_per_user") or 0)
        if interval <= 0 or (is_bot and self.spares_bots) or permissions & BYPASS_SLOWMODE:
            return None
        last = self._last.get((channel["id"], author_id))
        left = 0.0 if last is None else last + interval - time.monotonic()
        if left > 0:
            return left
        self.touch(channel["id"], author_id)
        return None
