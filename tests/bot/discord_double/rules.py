"""Discord's documented rules, as the double enforces them (pure functions and small state, no HTTP).

From discord-api-docs: message create limits (content 2000, 10 embeds, embed field limits, 6000 characters
over all embeds, else 400 50035; an empty message is 400 50006); embed URLs
(https://discord.com/developers/docs/resources/message#embed-object: `url`, `author.url` are http(s) only,
images and thumbnails http(s) or attachment://, anything else is 400 50035 for the WHOLE message);
application command naming (CHAT_INPUT
names match ^[-_'\\p{L}\\p{N}]{1,32}$ in lowercase, descriptions 1-100, ≤ 25 options, required options
before optional ones, ≤ 25 choices, ≤ 4000 characters in all); the global rate limit (50 requests/s per
bot, a 429 with `global: true`); permission overwrites (base role permissions, then @everyone, role and
member overwrites of the channel; Administrator overrides all); nonce deduplication (same author,
within a few minutes).
"""

from __future__ import annotations

import re
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

CONTENT_MAX, EMBEDS_MAX, TOTAL_MAX = 2000, 10, 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELDS_MAX, FIELD_NAME_MAX, FIELD_VALUE_MAX, FOOTER_MAX, AUTHOR_MAX = 25, 256, 1024, 2048, 256
COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")  # \w in Python's unicode mode ≈ \p{L}\p{N}_
ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 50) - 1


def url_error(path: str, value: object, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """Discord's answer to one embed URL: its scheme must be one of `schemes` and it must have a host.

    https://discord.com/developers/docs/resources/message#embed-object (URL_TYPE_INVALID_SCHEME /
    URL_TYPE_INVALID_URL under 400 50035 Invalid Form Body).
    """
    text = str(value)
    try:
        parts = urlsplit(text)
    except ValueError:
        return f"{path}: Not a well formed URL."
    if parts.scheme.lower() not in schemes:
        allowed = ", ".join(f"'{scheme}'" for scheme in schemes)
        return f"{path}: Scheme \"{parts.scheme}\" is not supported. Scheme must be one of ({allowed})."
    if not parts.netloc or any(ch.isspace() for ch in text):
        return f"{path}: Not a well formed URL."
    return None


def _embed_url_errors(index: int, embed: dict[str, Any]) -> list[str]:
    wanted = [(f"embeds.{index}.url", embed.get("url"), ("http", "https")),
              (f"embeds.{index}.author.url", (embed.get("author") or {}).get("url"), ("http", "https"))]
    for key in ("image", "thumbnail"):
        wanted.append((f"embeds.{index}.{key}.url", (embed.get(key) or {}).get("url"), ("http", "https", "attachment")))
    wanted.append((f"embeds.{index}.footer.icon_url", (embed.get("footer") or {}).get("icon_url"),
                   ("http", "https", "attachment")))
    return [error for path, value, schemes in wanted
            if value is not None and (error := url_error(path, value, schemes)) is not None]


def embed_errors(index: int, embed: dict[str, Any]) -> tuple[list[str], int]:
    """Problems of one embed, and the characters it counts toward the 6000 total."""
    errors = _embed_url_errors(index, embed)
    total = 0
    for key, limit in EMBED_LIMITS.items():
        value = str(embed.get(key) or "")
        total += len(value)
        if len(value) > limit:
            errors.append(f"embeds.{index}.{key}: Must be {limit} or fewer in length.")
    fields = embed.get("fields") or []
    if len(fields) > FIELDS_MAX:
        errors.append(f"embeds.{index}.fields: Must be {FIELDS_MAX} or fewer in length.")
    for n, field in enumerate(fields):
        name, value = str(field.get("name") or ""), str(field.get("value") or "")
        total += len(name) + len(value)
        if not name or len(name) > FIELD_NAME_MAX:
            errors.append(f"embeds.{index}.fields.{n}.name: Must be between 1 and {FIELD_NAME_MAX} in length.")
        if not value or len(value) > FIELD_VALUE_MAX:
            errors.append(f"embeds.{index}.fields.{n}.value: Must be between 1 and {FIELD_VALUE_MAX} in length.")
    for key, sub, limit in (("footer", "text", FOOTER_MAX), ("author", "name", AUTHOR_MAX)):
        value = str((embed.get(key) or {}).get(sub) or "")
        total += len(value)
        if len(value) > limit:
            errors.append(f"embeds.{index}.{key}.{sub}: Must be {limit} or fewer in length.")
    return errors, total


def message_errors(body: dict[str, Any]) -> tuple[int, list[str]]:
    """(JSON error code, problems) of a message body; (0, []) when Discord would accept it."""
    content = body.get("content") or ""
    embeds = body.get("embeds") or []
    errors = []
    if len(content) > CONTENT_MAX:
        errors.append(f"content: Must be {CONTENT_MAX} or fewer in length.")
    if len(embeds) > EMBEDS_MAX:
        errors.append(f"embeds: Must be {EMBEDS_MAX} or fewer in length.")
    total = 0
    for index, embed in enumerate(embeds):
        problems, length = embed_errors(index, embed)
        errors += problems
        total += length
    if total > TOTAL_MAX:
        errors.append(f"embeds: Embed size exceeds maximum size of {TOTAL_MAX}")
    if errors:
        return 50035, errors
    if not content and not embeds and not body.get("components") and not body.get("attachments"):
        return 50006, ["Cannot send an empty message"]
    return 0, []


def _option_errors(path: str, options: list[dict[str, Any]]) -> tuple[list[str], int]:
    errors: list[str] = []
    chars = 0
    if len(options) > 25:
        errors.append(f"{path}.options: Must be 25 or fewer in length.")
    seen_optional = False
    names = set()
    for option in options:
        name, description = option.get("name", ""), option.get("description", "")
        chars += len(name) + len(description)
        where = f"{path}.{name}"
        if not COMMAND_NAME.match(name) or name != name.lower():
            errors.append(f"{where}: invalid option name")
        if name in names:
            errors.append(f"{where}: duplicate option name")
        names.add(name)
        if not 1 <= len(description) <= 100:
            errors.append(f"{where}.description: Must be between 1 and 100 in length.")
        if option.get("type") in (1, 2):  # subcommand (group): its own options
            sub_errors, sub_chars = _option_errors(where, option.get("options") or [])
            errors += sub_errors
            chars += sub_chars
            continue
        if option.get("required"):
            if seen_optional:
                errors.append(f"{where}: required options must be placed before non-required options")
        else:
            seen_optional = True
        choices = option.get("choices") or []
        if len(choices) > 25:
            errors.append(f"{where}.choices: Must be 25 or fewer in length.")
        if choices and option.get("autocomplete"):
            errors.append(f"{where}: autocomplete and choices are mutually exclusive")
        for choice in choices:
            chars += len(str(choice.get("name", ""))) + len(str(choice.get("value", "")))
            if not 1 <= len(str(choice.get("name", ""))) <= 100:
                errors.append(f"{where}.choices: name must be between 1 and 100 in length")
    return errors, chars


def command_errors(command: dict[str, Any]) -> list[str]:
    """Problems of one CHAT_INPUT command registration payload (empty when Discord would accept it)."""
    name, description = command.get("name", ""), command.get("description", "")
    errors = []
    if not COMMAND_NAME.match(name) or name != name.lower():
        errors.append(f"{name}: invalid command name")
    if not 1 <= len(description) <= 100:
        errors.append(f"{name}.description: Must be between 1 and 100 in length.")
    option_errors, chars = _option_errors(name, command.get("options") or [])
    errors += option_errors
    if len(name) + len(description) + chars > 4000:
        errors.append(f"{name}: Command exceeds maximum size (4000)")
    return errors


def channel_permissions(base: int, overwrites: list[dict[str, Any]], guild_id: str, role_ids: set[str],
                        member_id: str) -> int:
    """A member's permissions in a channel (Discord's documented overwrite order)."""
    if base & ADMINISTRATOR:
        return ALL_PERMISSIONS
    value = base
    by_id = {str(o["id"]): o for o in overwrites}
    everyone = by_id.get(guild_id)
    if everyone:
        value = (value & ~int(everyone["deny"])) | int(everyone["allow"])
    allow = deny = 0
    for role_id in role_ids:
        if role_id != guild_id and role_id in by_id and by_id[role_id].get("type") == 0:
            allow |= int(by_id[role_id]["allow"])
            deny |= int(by_id[role_id]["deny"])
    value = (value & ~deny) | allow
    member = by_id.get(member_id)
    if member and member.get("type") == 1:
        value = (value & ~int(member["deny"])) | int(member["allow"])
    return value


class GlobalLimit:
    """Discord's global limit: at most `per_second` requests in any one-second window, else a global 429."""

    def __init__(self, per_second: int = 50) -> None:
        self.per_second = per_second
        self._at: deque[float] = deque()

    def take(self) -> float | None:
        """None when the request may pass, else the seconds to wait (`retry_after`)."""
        now = time.monotonic()
        while self._at and self._at[0] <= now - 1.0:
            self._at.popleft()
        if len(self._at) >= self.per_second:
            return max(0.001, self._at[0] + 1.0 - now)
        self._at.append(now)
        return None


class NonceMemory:
    """enforce_nonce: the same author's same nonce within `window` seconds returns the first message."""

    def __init__(self, window: float = 300.0) -> None:
        self.window = window
        self._seen: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}

    def earlier(self, author_id: str, nonce: str) -> dict[str, Any] | None:
        found = self._seen.get((author_id, nonce))
        if found is None or time.monotonic() - found[0] > self.window:
            return None
        return found[1]

    def remember(self, author_id: str, nonce: str, message: dict[str, Any]) -> None:
        self._seen[(author_id, nonce)] = (time.monotonic(), message)
