"""Signed per-paper 👍/👎 links for digest mail (itsdangerous), checked by digest.web.feedback_routes.

A token names the subscriber, a fingerprint of their address (digest.email.tokens) and the paper,
under its own salt, so it cannot be forged, moved to another paper or reader, or used as any other
kind of link. Vote links in old mail keep working (no expiry): a vote is harmless and can be undone.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from digest.email.tokens import TokenError, address_fingerprint
from digest.settings import Settings

UP, DOWN = "up", "down"
DIRECTIONS = {UP: 1, DOWN: -1}


@dataclass(frozen=True)
class VoteClaims:
    subscriber_id: int
    address_fingerprint: str
    paper_id: int

    def matches(self, address: str) -> bool:
        return self.address_fingerprint == address_fingerprint(address)


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.signing_key(), salt="paperbell.vote")


def vote_token(settings: Settings, subscriber_id: int, address: str, paper_id: int) -> str:
    return str(_serializer(settings).dumps([subscriber_id, address_fingerprint(address), paper_id]))


def read_vote_token(settings: Settings, token: str) -> VoteClaims:
    """The claims of a valid vote token, or `TokenError` with a reason for a person."""
    try:
        payload = _serializer(settings).loads(token)
    except BadSignature:
        raise TokenError("This link is not valid (it may be incomplete or altered).") from None
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or not isinstance(payload[0], int)
        or not isinstance(payload[1], str)
        or not isinstance(payload[2], int)
    ):
        raise TokenError("This link is not valid.")
    return VoteClaims(payload[0], payload[1], payload[2])


def vote_urls(settings: Settings, subscriber_id: int, address: str, paper_id: int) -> tuple[str, str]:
    """(👍 URL, 👎 URL) under `settings.public_url`; both GET a confirmation page, POST records."""
    base = f"{settings.public_url.rstrip('/')}/vote/{vote_token(settings, subscriber_id, address, paper_id)}"
    return f"{base}/{UP}", f"{base}/{DOWN}"
