"""Shared parts of the public web front: page rendering, security headers, caches, rate limits.

`WebFront` is built once by `digest.web.app.create_app` and handed to every route module of the
front (day, search, subscribe, manage settings, feeds, API). Caches key on the store's version
(`digest.web.days.store_version`), checked on every request, so a new or updated paper is
visible on the next request; nothing is ever served stale.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from jinja2 import Environment
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import HTMLResponse

from digest.core.links import html_href
from digest.core.templating import jinja_env
from digest.services.channels import SubscriberMail
from digest.settings import Settings
from digest.web.days import read_store_version
from digest.web.ratelimit import RateLimiter
from digest.web.search import Corpus, load_corpus
from digest.web.thumbnails import image_sources
from storage.db import Database
from storage.types import utcnow

# No external assets; scripts only from this origin; never framed. "same-origin" referrers keep
# token URLs on this site while letting browsers send the Origin header the CSRF check needs.
PAGE_HEADERS = {
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
PRIVATE_HEADERS = {**PAGE_HEADERS, "Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
# the day, week and month pages when PAPERBELL_WEB_EXTERNAL_IMAGES is on: thumbnails from their host only
IMAGE_CSP = PAGE_HEADERS["Content-Security-Policy"].replace("img-src 'self' data:",
                                                           f"img-src 'self' data: {image_sources()}")
RENDER_CACHE_SIZE = 256
T = TypeVar("T")


class RenderCache:
    """LRU of rendered bodies keyed by (what, store version): a changed store never hits an old entry."""

    def __init__(self, size: int = RENDER_CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Any:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


class VersionProbe:
    """Reads `store_version` over one kept connection: SQLite connections are not pooled here and
    opening one costs more than the whole probe. Each probe ends its transaction, so the next one
    sees every commit made since; a broken connection is replaced on the next call."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._connection: Connection | None = None

    def read(self) -> tuple[int, int, str]:
        return self._read(read_store_version)

    def read_votes(self) -> int:
        """The newest visitor ▲ id (digest.web.visitor_votes), over the same kept connection."""
        from digest.web.visitor_votes import latest_vote_statement  # that module builds on this one

        return self._read(lambda connection: int(connection.execute(latest_vote_statement()).scalar() or 0))

    def _read(self, probe: Callable[[Connection], T]) -> T:
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = self.db.engine.connect()
                try:
                    return probe(self._connection)
                finally:
                    self._connection.rollback()
            except Exception:
                self.close()
                raise

    def close(self) -> None:
        if self._connection is not None:
            with suppress(Exception):
                self._connection.close()
            self._connection = None


class WebFront:
    """Settings, database and the per-process caches and limits of the public pages."""

    def __init__(self, settings: Settings, db: Database, mail: SubscriberMail) -> None:
        self.settings = settings
        self.db = db
        self.mail = mail  # the e-mail channel's confirmation and send-now
        self.renders = RenderCache()
        self._probe = VersionProbe(db)
        self._corpus: Corpus | None = None
        self._corpus_lock = asyncio.Lock()
        self.subscribe_per_ip = RateLimiter(settings.web_subscribe_per_ip_per_hour, 3600)
        self.subscribe_per_address = RateLimiter(settings.web_subscribe_per_address_per_day, 86400)
        self.preview_per_ip = RateLimiter(settings.web_previews_per_ip_per_minute, 60)
        self.send_now_per_subscriber = RateLimiter(1, settings.web_send_now_interval_minutes * 60)

    def now(self) -> datetime:
        return utcnow()

    async def version(self) -> tuple[int, int, str]:
        """The store's fingerprint now (read on every request: a cached page is never stale)."""
        return await asyncio.to_thread(self._probe.read)

    async def votes_version(self) -> int:
        """The newest visitor ▲ (digest.web.visitor_votes): with `version`, the day pages' cache key."""
        return await asyncio.to_thread(self._probe.read_votes)

    async def corpus(self, version: tuple[int, int, str]) -> Corpus:
        """The analysed search candidates of this store version (rebuilt once when the store changed)."""
        if self._corpus is not None and self._corpus.version == version:
            return self._corpus
        async with self._corpus_lock:
            if self._corpus is None or self._corpus.version != version:
                self._corpus = await self.db.run(load_corpus, self.db, self.settings.web_search_candidates)
            return self._corpus


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@lru_cache(maxsize=1)
def front_env() -> Environment:
    """The mail renderer's environment (same filters) plus `safe_url`; a copy, so mail is untouched."""
    env: Environment = jinja_env.__wrapped__()
    env.filters["safe_url"] = html_href  # the one URL gate (digest.core.links)
    return env


def render(template: str, **context: Any) -> str:
    return front_env().get_template(f"web/{template}").render(**context)


def html(body: str, status_code: int = 200, *, private: bool = False, images: bool = False) -> HTMLResponse:
    headers = PRIVATE_HEADERS if private else PAGE_HEADERS
    if images:
        headers = {**headers, "Content-Security-Policy": IMAGE_CSP}
    return HTMLResponse(body, status_code=status_code, headers=headers)


def site_page(template: str, status_code: int = 200, *, private: bool = False, **context: Any) -> HTMLResponse:
    return html(render(template, **context), status_code, private=private)


def notice_page(title: str, message: str, status_code: int = 200, *, error: bool = False) -> HTMLResponse:
    return site_page("notice.html", status_code, private=True, title=title, message=message, error=error)
