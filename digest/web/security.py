"""Strict same-origin check for the web front's state-changing forms (CSRF defence).

A POST must carry an `Origin` header (else a `Referer`) whose origin equals `settings.public_url`'s.
Browsers always send `Origin` on cross-site form posts, so a page on another site cannot make a
reader's browser subscribe, edit or send. `Origin: null` (sandboxed frames, no-referrer pages) is
refused. The lead reconciles this with issue 11's helper of the same name.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request

from digest.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def require_same_origin(request: Request, settings: Settings) -> None:
    """Raise HTTPException(403) unless the request comes from a page of this site."""
    expected = origin_of(settings.public_url)
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if expected is None or claimed is None or origin_of(claimed) != expected:
        raise HTTPException(403, "cross-site request refused")
