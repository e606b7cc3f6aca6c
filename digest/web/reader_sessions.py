"""Reader sessions: the cookie that lets a subscriber vote on the web pages, and signing out everywhere.

Used by digest.web.reader_routes. The cookie is not the link token: it is issued only by a POST from
the page the link opens (same origin, CSRF token), so a cross-site link cannot plant someone else's
session (login CSRF). It is signed with the link-signing key and carries the subscriber id, a digest of
the address (a changed address ends it) and when it was issued. Signing out records "sessions issued
before now are void" for that subscriber in the database (a `cursors` row), so a copied cookie stops
working too.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer

from digest.settings import Settings
from storage.db import Database
from storage.models import Cursor
from storage.types import utcnow

MAX_AGE = 30 * 24 * 3600


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key(), salt="paperbell.reader-session")


def _address_digest(address: str) -> str:
    return hashlib.sha256(address.lower().encode()).hexdigest()[:16]


def issue(settings: Settings, subscriber_id: int, address: str) -> str:
    return str(_serializer(settings).dumps([subscriber_id, _address_digest(address)]))


def read(settings: Settings, value: str) -> tuple[int, str, datetime] | None:
    """(subscriber id, address digest, issued at) of a valid, unexpired session value, else None."""
    if not value or len(value) > 512:
        return None
    try:
        payload, issued = _serializer(settings).loads(value, max_age=MAX_AGE, return_timestamp=True)
    except BadSignature:
        return None
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)):
        return None
    return payload[0], str(payload[1]), issued.astimezone(UTC)


def belongs_to(session_digest: str, address: str) -> bool:
    return session_digest == _address_digest(address)


def _key(subscriber_id: int) -> str:
    return f"reader-signed-out:{subscriber_id}"


def signed_out_at(db: Database, subscriber_id: int) -> datetime | None:
    with db.session() as session:
        row = session.get(Cursor, _key(subscriber_id))
        return None if row is None else row.updated_at


def sign_out(db: Database, subscriber_id: int, now: datetime | None = None) -> None:
    """Void every session of this subscriber issued until now (every browser)."""
    with db.session() as session:
        row = session.get(Cursor, _key(subscriber_id)) or Cursor(name=_key(subscriber_id))
        row.updated_at = now or utcnow()
        session.add(row)
