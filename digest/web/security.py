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

"Ours" is `public_url`'s origin and also the origin the request reached (its Host) when that host is a
loopback name or `public_url`'s host: `paperbell run` prints http://127.0.0.1:8080 while the default
public URL says localhost, and both are this machine. Any other Host is refused, so a page of another
site that rebinds its name to this machine (DNS rebinding) still cannot post.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.exceptions import HTTPException
from starlette.requests import Request

from digest.settings import Settings

CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE = 12 * 3600  # a manage page left open for a working day still works
_DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
log = logging.getLogger(__name__)


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


def our_origins(settings: Settings, request: Request) -> set[tuple[str, str, int]]:
    """`public_url`'s origin, and the one the request reached when its host is loopback or public_url's."""
    public = origin_of(settings.public_url)
    ours = {public} if public else set()
    reached = origin_of(str(request.base_url))
    if reached and (reached[1] in LOOPBACK_HOSTS or (public is not None and reached[1] == public[1])):
        ours.add(reached)
    return ours


def foreign_origin(settings: Settings, request: Request) -> str | None:
    """The other site a POST claims to come from, or None when it is ours or the browser does not say."""
    ours = our_origins(settings, request)
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return None if origin_of(origin) in ours else origin
    referer = request.headers.get("referer")
    if referer:
        return None if origin_of(referer) in ours else referer
    return None


def require_same_origin(request: Request, settings: Settings) -> None:
    """Raise HTTPException(403), with what to set, unless the request comes from a page of this site."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if claimed is not None and origin_of(claimed) in our_origins(settings, request):
        return
    log.warning("form post refused: it came from %s, not from %s (PAPERBELL_PUBLIC_URL)",
                (claimed or "a page that did not say")[:200], settings.public_url)
    raise HTTPException(403, refusal_advice(settings))


def refusal_advice(settings: Settings) -> str:
    """What the 403 page says: why, and what the operator sets."""
    return (f"This form was not sent from a page of this site ({settings.public_url}), so it was refused. "
            f"Open the site at {settings.public_url} and try again. If that is not the address you use, "
            "the operator sets PAPERBELL_PUBLIC_URL to it and restarts paperbell.")
