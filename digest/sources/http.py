"""The polite HTTP client every network source uses (built by digest.services.ingest).

httpx with timeouts and a descriptive User-Agent naming the contact setting; at most one
connection and at least `min_interval` seconds between request starts (arXiv's terms ask for
3 s); retries with exponential backoff and jitter on 429, 5xx and timeouts, honouring
`Retry-After`; conditional GET with ETag / Last-Modified; a hard cap on the response size
(checked against Content-Length and while streaming, so an endless body is cut off).
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import random
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from digest.settings import Settings
from digest.sources.base import SourceError

log = logging.getLogger(__name__)
RETRY_STATUSES = {429, 500, 502, 503, 504}
VERSION = "0.1"


@dataclass
class HttpResult:
    url: str
    status: int
    body: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None
    retry_after: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    # loading the CA bundle costs ~70 ms; one context serves every client of the process
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


SECRET_PARAMS = ("api_key", "key", "token")


def redact_url(url: str) -> str:
    """`url` with the values of key-like query parameters replaced, for error messages and logs."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    shown = [(name, "***" if name.lower() in SECRET_PARAMS else value) for name, value in pairs]
    return urlunsplit(parts._replace(query=urlencode(shown, safe="*")))


def user_agent(settings: Settings) -> str:
    return f"paperbell/{VERSION} (+self-hosted paper alerts; mailto:{settings.contact_email})"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def content_type_ok(content_type: str, expect: str | None) -> bool:
    """Whether a Content-Type fits what the parser expects ("xml" or "json"); unlabelled bodies pass."""
    if expect is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    if media in {"", "application/octet-stream", "text/plain", "binary/octet-stream"}:
        return True
    if expect == "xml":
        return "xml" in media or "rss" in media or "atom" in media
    return "json" in media


class PoliteClient:
    """An httpx.AsyncClient wrapper with pacing, retries, conditional GET and a size cap."""

    def __init__(self, settings: Settings, *, min_interval: float = 0.0, max_connections: int = 4) -> None:
        self.settings = settings
        self.min_interval = min_interval
        self.max_retries = settings.http_max_retries
        self.backoff_base = settings.http_backoff_base
        self.retry_after_max = settings.http_retry_after_max
        self.max_bytes = settings.http_max_bytes
        self._pace = asyncio.Lock()
        self._last_start: float | None = None
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.http_timeout),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"User-Agent": user_agent(settings)},
            follow_redirects=True,
            verify=_ssl_context(),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def _wait_turn(self) -> None:
        # Called with self._pace held: spaces request starts by min_interval.
        if self._last_start is not None and self.min_interval > 0:
            delay = self._last_start + self.min_interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        self._last_start = time.monotonic()

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            if retry_after > self.retry_after_max:
                raise SourceError(
                    f"server asked to retry after {retry_after:.0f} s (limit {self.retry_after_max:.0f} s)"
                )
            return retry_after
        # exponential backoff with full jitter on top of the base step
        step = self.backoff_base * (2**attempt)
        return step + random.uniform(0, step)

    async def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        expect: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResult:
        """GET with retries; returns a 200/304 result or raises SourceError with a one-line reason."""
        headers = dict(headers or {})
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            retry_after: float | None = None
            async with self._pace:
                await self._wait_turn()
                try:
                    result = await self._get_once(url, params, headers)
                except httpx.TimeoutException:
                    reason = f"timed out after {self.settings.http_timeout:g} s"
                except httpx.TransportError as exc:
                    if _dns_failure(exc):  # no answer for the name: retrying in seconds will not change it
                        raise SourceError(f"cannot resolve the host of {url} (DNS: {exc}); check the network "
                                          "and the source's address — the next run tries again") from None
                    reason = f"connection failed: {exc.__class__.__name__}: {exc}"
                else:
                    if result.status in (200, 304):
                        if result.status == 200 and not content_type_ok(result.content_type, expect):
                            raise SourceError(
                                f"unexpected content type {result.content_type or '(none)'!r} "
                                f"from {redact_url(result.url)}"
                            )
                        return result
                    if result.status not in RETRY_STATUSES:
                        raise SourceError(f"HTTP {result.status} from {redact_url(result.url)}")
                    reason = f"HTTP {result.status}"
                    retry_after = parse_retry_after(result.retry_after)
            if attempt >= self.max_retries:
                raise SourceError(f"{reason} from {redact_url(url)} (gave up after {attempt + 1} attempts)")
            delay = self._backoff(attempt, retry_after)
            log.warning("GET %s: %s; retrying in %.2f s (attempt %d)", redact_url(url), reason, delay, attempt + 1)
            await asyncio.sleep(delay)
            attempt += 1

    async def _get_once(self, url: str, params: dict[str, Any] | None, headers: dict[str, str]) -> HttpResult:
        async with self._client.stream("GET", url, params=params, headers=headers) as response:
            final_url = str(response.url)
            if response.status_code != 200:
                if response.status_code in RETRY_STATUSES:
                    return HttpResult(
                        final_url, response.status_code, b"", "", retry_after=response.headers.get("Retry-After")
                    )
                return HttpResult(final_url, response.status_code, b"", "")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise SourceError(
                    f"response of {declared} bytes exceeds the {self.max_bytes}-byte limit ({redact_url(final_url)})"
                )
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise SourceError(f"response exceeds the {self.max_bytes}-byte limit ({redact_url(final_url)})")
                chunks.append(chunk)
            return HttpResult(
                final_url,
                200,
                b"".join(chunks),
                response.headers.get("Content-Type", ""),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )


class HostClients:
    """One PoliteClient per remote host, shared by every source run and job of the process.

    Built once by the composition root (digest.runtime.parts) so per-host politeness holds across
    jobs: two arXiv jobs firing at the same minute still start their requests
    `arxiv_min_interval` apart, over one connection. Clients are created on first use (inside the
    event loop that uses them) and closed together by `aclose()`.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[tuple[str, bool], PoliteClient] = {}

    def client_for(self, url: str, *, arxiv: bool, min_interval: float = 0.0) -> PoliteClient:
        """The client of `url`'s host; `arxiv` clients are paced and use a single connection.

        `min_interval` is the spacing a service documents for its host (NCBI: 3 requests/s); the
        host's client keeps the largest spacing any of its sources asked for.
        """
        parts = urlsplit(url)
        key = (f"{parts.scheme}://{parts.netloc}".lower(), arxiv)
        client = self._clients.get(key)
        if client is None:
            if arxiv:
                client = PoliteClient(self.settings, min_interval=self.settings.arxiv_min_interval, max_connections=1)
            else:
                client = PoliteClient(self.settings, min_interval=min_interval)
            self._clients[key] = client
        client.min_interval = max(client.min_interval, min_interval)
        return client

    def view(self, *, arxiv: bool) -> HostView:
        return HostView(self, arxiv)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


@dataclass
class HostView:
    """What a source calls `ctx.client` / `ctx.arxiv_client`: routes each GET to its host's shared client."""

    pool: HostClients
    arxiv: bool

    async def get(self, url: str, *, min_interval: float = 0.0, **kwargs: Any) -> HttpResult:
        return await self.pool.client_for(url, arxiv=self.arxiv, min_interval=min_interval).get(url, **kwargs)


def _dns_failure(exc: BaseException) -> bool:
    """True when the error chain holds a failed name lookup (socket.gaierror), e.g. offline or a typo'd host."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
