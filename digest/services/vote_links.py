"""Signed per-paper 👍/👎 links for digest mail (itsdangerous), checked by digest.web.feedback_routes.

A token is `<subscriber id>.<paper id>.<signature>`: short, because a digest carries a pair per
paper and every byte counts against the mail size cap. The signature is over both ids with a salt
that includes a fingerprint of the subscriber's address (digest.services.tokens), so a token cannot be
forged, moved to another paper or reader, used as any other kind of link, and stops working if the
address behind the id changes. No expiry: a vote is harmless and can be undone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer

from digest.services.tokens import TokenError, address_fingerprint
from digest.settings import Settings

UP, DOWN = "up", "down"
DIRECTIONS = {UP: 1, DOWN: -1}
_SHAPE = re.compile(r"(?P<subscriber>[0-9]{1,18})\.(?P<paper>[0-9]{1,18})\.(?P<signature>[A-Za-z0-9_-]{10,100})")


@dataclass(frozen=True)
class VoteClaims:
    """What a well-formed token says; `verify` checks it against the subscriber's current address."""

    subscriber_id: int
    paper_id: int
    token: str


def _signer(settings: Settings, address: str) -> Signer:
    return Signer(settings.signing_key(), salt=f"paperbell.vote.{address_fingerprint(address)}")


def vote_token(settings: Settings, subscriber_id: int, address: str, paper_id: int) -> str:
    return _signer(settings, address).sign(f"{subscriber_id}.{paper_id}").decode()


def read_vote_token(token: str) -> VoteClaims:
    """The ids of a well-formed token (not yet verified), or `TokenError` with a reason for a person."""
    found = _SHAPE.fullmatch(token)
    if found is None:
        raise TokenError("This link is not valid (it may be incomplete or altered).")
    return VoteClaims(int(found["subscriber"]), int(found["paper"]), token)


def verify(settings: Settings, claims: VoteClaims, address: str) -> None:
    """`TokenError` unless the token was signed for this subscriber's address."""
    try:
        _signer(settings, address).unsign(claims.token)
    except BadSignature:
        raise TokenError("This link is not valid (it may be incomplete or altered).") from None


def vote_urls(settings: Settings, subscriber_id: int, address: str, paper_id: int) -> tuple[str, str]:
    """(👍 URL, 👎 URL) under `settings.public_url`; both GET a confirmation page, POST records."""
    base = f"{settings.public_url.rstrip('/')}/vote/{vote_token(settings, subscriber_id, address, paper_id)}"
    return f"{base}/{UP}", f"{base}/{DOWN}"
