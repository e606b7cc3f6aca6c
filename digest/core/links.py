"""The one gate every URL passes before it is rendered into mail or Discord: http(s) only.

Pure functions, no I/O. Called by digest.email.render (every paper link of a digest) and usable
by bot/embeds.py. Source data is hostile: a feed can put `javascript:`, `data:` or `file:` in a
link, or a URL with credentials, control characters or spaces that breaks out of an attribute.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar
from urllib.parse import urlsplit

ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_URL_LENGTH = 2048
_LINK_FIELDS = ("abs_url", "pdf_url", "hf_url", "code_url")
T = TypeVar("T")


def safe_http_url(url: object) -> str | None:
    """The URL (stripped) when it is an absolute http/https URL with a host, else None."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or len(text) > MAX_URL_LENGTH:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch in '"<>\\`' for ch in text):
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # e.g. an invalid IPv6 literal or port
        return None
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not host or parts.username or parts.password:
        return None
    return text


def with_safe_links(item: T) -> T:
    """A dataclass item with each link field replaced by `safe_http_url` of it (None when refused)."""
    changes: dict[str, Any] = {
        name: safe_http_url(getattr(item, name))
        for name in _LINK_FIELDS
        if hasattr(item, name) and getattr(item, name) is not None
    }
    return dataclasses.replace(item, **changes) if changes else item  # type: ignore[type-var]
