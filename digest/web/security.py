"""Request checks for the state-changing web forms: a signed CSRF token and a same-origin check.

Used by digest.web.email_routes (manage page). The token is an itsdangerous signature over the
form's scope (e.g. "manage:12") with the link-signing key, valid `CSRF_MAX_AGE` seconds: a page
from another site cannot read it, so it cannot submit our forms. Where the browser says where a
POST came from (Origin, else Referer), it must be `settings.public_url`'s origin; our pages send
no referrer, so browsers send `Origin: null` on their forms, which is accepted only with the token.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request

from digest.settings import Settings

CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE = 12 * 3600  # a manage page left open for a working day still works


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key(), salt="paperbell.csrf")


def csrf_token(settings: Settings, scope: str) -> str:
    return str(_serializer(settings).dumps(scope))


def csrf_ok(settings: Settings, scope: str, token: object) -> bool:
    """True when `token` was issued by `csrf_token` for this scope and has not expired."""
    if not isinstance(token, str) or not token or len(token) > 512:
        return False
    try:
        return bool(_serializer(settings).loads(token, max_age=CSRF_MAX_AGE) == scope)
    except BadSignature:  # includes SignatureExpired
        return False


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def foreign_origin(settings: Settings, request: Request) -> str | None:
    """The other site a POST claims to come from, or None when it is ours or the browser does not say."""
    ours = origin_of(settings.public_url)
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return None if origin.lower().rstrip("/") == ours else origin
    referer = request.headers.get("referer")
    if referer:
        return None if origin_of(referer) == ours else origin_of(referer)
    return None
