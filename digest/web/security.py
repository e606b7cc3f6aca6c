"""Request checks for the state-changing web forms: a signed CSRF token and a same-origin check.

Two defences, one place:
- `csrf_token`/`csrf_ok` (manage page, digest.web.email_routes): an itsdangerous signature over the
  form's scope (e.g. "manage:12") with the link-signing key, valid `CSRF_MAX_AGE` seconds. A page from
  another site cannot read it, so it cannot submit our forms. Our mail-link pages send no referrer,
  so browsers post their forms with `Origin: null`, which `foreign_origin` accepts only together
  with the token.
- `require_same_origin` (the web front's subscribe and edit forms): the POST must carry an `Origin`
  (else a `Referer`) whose origin equals `settings.public_url`'s. Browsers always send `Origin` on
  cross-site form posts; `Origin: null` is refused here because these pages carry no token.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.exceptions import HTTPException
from starlette.requests import Request

from digest.settings import Settings

CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE = 12 * 3600  # a manage page left open for a working day still works
_DEFAULT_PORTS = {"http": 80, "https": 443}


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


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, or None (never raises)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def foreign_origin(settings: Settings, request: Request) -> str | None:
    """The other site a POST claims to come from, or None when it is ours or the browser does not say."""
    ours = origin_of(settings.public_url)
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return None if origin_of(origin) == ours else origin
    referer = request.headers.get("referer")
    if referer:
        return None if origin_of(referer) == ours else referer
    return None


def require_same_origin(request: Request, settings: Settings) -> None:
    """Raise HTTPException(403) unless the request comes from a page of this site."""
    expected = origin_of(settings.public_url)
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if expected is None or claimed is None or origin_of(claimed) != expected:
        raise HTTPException(403, "cross-site request refused")
