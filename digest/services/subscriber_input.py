"""What a subscriber's fields must be before anything is stored: address per kind, time zone, schedule.

Shared by the subscriber service (CLI, bot, chat commands) and the web subscribe form, so every door
refuses the same input with the same one-line reason.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.core.address import AddressError, normalize_address
from digest.services.channel_specs import BUILT_IN_KINDS, installed
from digest.services.chat_targets import BadTarget, clean_target
from digest.services.errors import InvalidInput
from storage.models import Schedule, SubscriberKind

_DISCORD_ID = re.compile(r"^\d{15,21}$")


def validate_address(kind: str, address: str) -> str:
    """The address as stored (e-mail normalised, platform ids checked), or `InvalidInput` with one line."""
    address = address.strip()
    if kind == SubscriberKind.EMAIL:
        # email-validator, so `x,y@z` or `q"1@z` can never be stored as one subscriber and mailed to two
        try:
            return normalize_address(address)
        except AddressError as exc:
            raise InvalidInput(str(exc)) from None
    if kind in (SubscriberKind.DISCORD_USER, SubscriberKind.DISCORD_CHANNEL):
        if not _DISCORD_ID.match(address):
            raise InvalidInput(f"not a Discord id (15-21 digits): {address!r}")
        return address
    chat = installed().kind(kind)  # the chat channels the composition root registered
    if chat is not None:
        try:
            return clean_target(chat.shape, address)
        except BadTarget as exc:
            raise InvalidInput(str(exc)) from None
    raise InvalidInput(f"unknown subscriber kind {kind!r}: expected one of "
                       f"{', '.join((*BUILT_IN_KINDS, *installed().kinds))}")


def validate_timezone(name: str) -> str:
    """An IANA time zone name, or `InvalidInput` with an example."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown IANA time zone {name!r} (e.g. Europe/Berlin, America/New_York)") from None
    return name


def validate_schedule(schedule: str, hour: int, weekday: int) -> None:
    """`InvalidInput` unless the schedule, digest hour and weekday are valid."""
    if schedule not in {s.value for s in Schedule}:
        raise InvalidInput(f"unknown schedule {schedule!r}: expected instant, daily or weekly")
    if not 0 <= hour <= 23:
        raise InvalidInput(f"digest hour must be 0-23, got {hour}")
    if not 0 <= weekday <= 6:
        raise InvalidInput(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday}")
