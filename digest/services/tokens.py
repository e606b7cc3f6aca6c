"""Signed per-subscriber link tokens for confirm, unsubscribe and manage links (itsdangerous).

Called by the email renderer (to build links) and the web app (to check them). A token names
the subscriber id and a fingerprint of the address, so it cannot be forged, is useless for
anyone else, and stops working if the address behind the id changes. Confirmation tokens expire
after `settings.confirm_token_max_age_hours`; unsubscribe and manage links in old mail keep working.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from digest.settings import Settings


class Purpose(StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    MANAGE = "manage"
    READER = "reader"  # votes on the web pages only (digest.web.reader_routes)


class TokenError(ValueError):
    """A link token is malformed, tampered with, expired or for another purpose; str = reason for a person."""


@dataclass(frozen=True)
class TokenClaims:
    subscriber_id: int
    address_fingerprint: str

    def matches(self, address: str) -> bool:
        return self.address_fingerprint == address_fingerprint(address)


def address_fingerprint(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:16]


def _serializer(settings: Settings, purpose: Purpose) -> URLSafeTimedSerializer:
    # The salt separates purposes: an unsubscribe token is never accepted as a confirm token.
    return URLSafeTimedSerializer(settings.signing_key(), salt=f"paperbell.{purpose.value}")


def make_token(settings: Settings, purpose: Purpose, subscriber_id: int, address: str) -> str:
    return str(_serializer(settings, purpose).dumps([subscriber_id, address_fingerprint(address)]))


def max_age_seconds(settings: Settings, purpose: Purpose) -> int | None:
    return settings.confirm_token_max_age_hours * 3600 if purpose is Purpose.CONFIRM else None


def read_token(settings: Settings, purpose: Purpose, token: str, *, now: float | None = None) -> TokenClaims:
    """The claims of a valid token, or `TokenError` saying why not (never the signature details)."""
    serializer = _serializer(settings, purpose)
    try:
        if now is None:
            payload = serializer.loads(token, max_age=max_age_seconds(settings, purpose))
        else:  # tests check expiry without waiting
            payload, signed_at = serializer.loads(token, return_timestamp=True)
            limit = max_age_seconds(settings, purpose)
            if limit is not None and now - signed_at.timestamp() > limit:
                raise SignatureExpired("expired")
    except SignatureExpired:
        raise TokenError("This link has expired.") from None
    except BadSignature:
        raise TokenError("This link is not valid (it may be incomplete or altered).") from None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], int)
        or not isinstance(payload[1], str)
    ):
        raise TokenError("This link is not valid.")
    return TokenClaims(subscriber_id=payload[0], address_fingerprint=payload[1])


def link(settings: Settings, purpose: Purpose, subscriber_id: int, address: str) -> str:
    """The absolute URL of a signed link under `settings.public_url`."""
    base = settings.public_url.rstrip("/")
    return f"{base}/{purpose.value}/{make_token(settings, purpose, subscriber_id, address)}"
