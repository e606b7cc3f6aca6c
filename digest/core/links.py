"""The one URL gate: every link from a source passes `safe_http_url` when it is stored and when it is rendered.

Pure functions, no I/O. Source data is hostile: a feed can put `javascript:`, `data:` or `file:` in a
link, a relative path (`/posts/3`), credentials (`https://user:pass@host/`), control or bidi characters,
or characters that end the construct the URL lands in (`"` an HTML attribute, `)` a Markdown link).

  - `safe_http_url`: the gate itself (absolute http/https with a host, no credentials, no whitespace,
    control/format characters or `"<>\\``, at most 2048 characters); None when refused.
  - `gated_record`: a source record with its unsafe links nulled and unsafe URL extras dropped (ingest).
  - `with_safe_links`: a digest item with every link field gated (every renderer).
  - one escape per output format: `html_href` (Jinja's autoescape then escapes the attribute),
    `atom_href` (the XML serializer escapes it), `embed_url` (Discord embed `url` fields take http(s) only),
    `markdown_link_target` (Discord Markdown: characters that could end or nest a link percent-encoded).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit

from digest.core.records import PaperRecord

ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_URL_LENGTH = 2048  # also Discord's limit for an embed url
LINK_FIELDS = ("abs_url", "pdf_url", "hf_url", "code_url")
# extras that hold a URL (Hugging Face's githubRepo/projectPage, a file's or feed's links and thumbnails)
URL_EXTRAS = frozenset({"hf_url", "github_repo", "code_url", "project_page", "thumbnail", "thumbnail_url",
                        "image_url", "link"})
_REFUSED_CHARS = frozenset('"<>\\`')
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs", "Co", "Cs", "Cn"})
_HOST = re.compile(r"^[\w.-]+$")  # letters (IDN), digits, dots, hyphens; IPv6 literals are checked apart
# What could end or nest a Markdown link target in Discord: brackets, parentheses, angle brackets,
# spoiler bars (backslash, backtick and space never pass the gate; encoded all the same).
_MARKDOWN_TARGET_ESCAPES = {ch: f"%{ord(ch):02X}" for ch in "()[]<>|\\` "}
T = TypeVar("T")


def _refused_char(ch: str) -> bool:
    return ch in _REFUSED_CHARS or ch.isspace() or unicodedata.category(ch) in _UNSAFE_CATEGORIES


def _host_ok(host: str, netloc: str) -> bool:
    if netloc.startswith("["):  # an IPv6 literal: urlsplit has validated its brackets
        return ":" in host
    return bool(_HOST.match(host)) and not host.startswith(".")


def safe_http_url(url: object) -> str | None:
    """The URL (stripped) when it is an absolute http/https URL with a host and no credentials, else None."""
    if not isinstance(url, str):
        return None
    return _safe_http_url(url)


# Every item of every digest passes its links through here, and the same papers' links come again and
# again: a bounded cache keyed by the URL text (the check is a pure function of it).
@lru_cache(maxsize=16384)
def _safe_http_url(url: str) -> str | None:
    text = url.strip()
    if not text or len(text) > MAX_URL_LENGTH or any(_refused_char(ch) for ch in text):
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:  # e.g. an invalid IPv6 literal or port
        return None
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not host or "@" in parts.netloc:
        return None  # "@" in the authority: credentials, which mail refuses and browsers warn about
    if not _host_ok(host, parts.netloc.rsplit("@", 1)[-1]):
        return None
    return text


def html_href(url: object) -> str | None:
    """For an HTML `href`/`src`: the gated URL; Jinja's autoescape escapes `&` (quotes never pass the gate)."""
    return safe_http_url(url)


def atom_href(url: object) -> str | None:
    """For an Atom `<link href>`: the gated URL; the XML serializer escapes it."""
    return safe_http_url(url)


def embed_url(url: object) -> str | None:
    """For a Discord embed `url` field: Discord answers 400 50035 to anything but http(s), so the gate decides."""
    return safe_http_url(url)


def markdown_link_target(url: object) -> str | None:
    """The gated URL with every character that could end or nest a Markdown link percent-encoded, else None."""
    text = safe_http_url(url)
    if text is None:
        return None
    return "".join(_MARKDOWN_TARGET_ESCAPES.get(ch, ch) for ch in text)


def is_url_extra(key: str) -> bool:
    return key in URL_EXTRAS or key.endswith("_url")


def gated_record(record: PaperRecord) -> tuple[PaperRecord, list[str]]:
    """The record with unsafe abs_url/pdf_url set to None and unsafe URL extras dropped; and what was refused."""
    refused = [name for name in ("abs_url", "pdf_url")
               if getattr(record, name) is not None and safe_http_url(getattr(record, name)) is None]
    bad_extras = [key for key, value in record.extras.items()
                  if is_url_extra(key) and value is not None and safe_http_url(value) is None]
    if not refused and not bad_extras:
        return record, []
    changes: dict[str, Any] = {name: None for name in refused}
    changes.update({name: safe_http_url(getattr(record, name)) for name in ("abs_url", "pdf_url")
                    if name not in refused and getattr(record, name) is not None})
    if bad_extras:
        changes["extras"] = {k: v for k, v in record.extras.items() if k not in bad_extras}
    return dataclasses.replace(record, **changes), refused + [f"extras.{key}" for key in bad_extras]


def with_safe_links(item: T) -> T:
    """A dataclass item with each link field replaced by `safe_http_url` of it (None when refused); the
    same item when every link already is what the gate gives (no copy per paper per digest)."""
    changes: dict[str, Any] = {}
    for name in LINK_FIELDS:
        current = getattr(item, name, None)
        if current is not None:
            safe = safe_http_url(current)
            if safe != current:
                changes[name] = safe
    return dataclasses.replace(item, **changes) if changes else item  # type: ignore[type-var]
