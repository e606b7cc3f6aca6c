"""The ntfy platform for the shared posting loop: JSON publish over httpx, ntfy's answers classified.

https://docs.ntfy.sh/publish/#publish-as-json: POST the JSON body to the server's root URL; the
answer is the stored message (`id`, `time`, …). Errors are JSON `{"code", "http", "error"}`
(server/errors.go), classified here:
  - 400 40011/40014/40017/40018/40024, 413: this notification can never be published → PostRejected.
  - 400 40009/40010 (topic invalid / not allowed), 401, 403: nothing reaches this topic → TargetUnreachable.
  - 429 (42901 requests, 42908 daily quota): waited out by the pacer or retried later with its delay.
  - 5xx, a dropped connection: transient; the outcome may be unknown, so the retry first looks.
ntfy's publish API takes no idempotency key (a message id is assigned by the server), so after a lost
reply `find_sent` polls the topic's message cache (https://docs.ntfy.sh/subscribe/api/#poll-for-messages,
`poll=1&since=<unix time>`) for a notification carrying the same papers before publishing again.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx

from digest.core.assembly import Digest, DigestItem
from digest.ntfy import render
from digest.ntfy.settings import NtfySettings
from digest.ntfy.spec import TOPIC
from digest.services.digest_extras import DigestExtras
from digest.services.pacing import Limits, Pacer, RateLimited
from digest.services.posting import PostRejected, Rendered, RetryLater, TargetUnreachable
from storage.models import Subscriber

REJECTED_CODES = {40011, 40014, 40017, 40018, 40024, 41301, 41303}
UNREACHABLE_CODES = {40009, 40010, 40101, 40301}
DAILY_QUOTA_RETRY = 3600.0  # 42908: the daily message quota; try again in an hour
POLL_BYTES = 2_000_000  # a topic's cached messages read back after a lost reply, at most


def fingerprint(body: dict[str, Any]) -> tuple[str, ...]:
    """What identifies a notification's papers whatever its headings or part numbers: its paper lines."""
    lines = [line for line in str(body.get("message", "")).splitlines() if line.startswith("• ")]
    return tuple(sorted(lines)) if lines else (str(body.get("title", "")), str(body.get("click", "")))


class NtfyPlatform:
    """Publishes to ntfy topics on `ntfy_url`, paced below ntfy.sh's visitor limit."""

    kinds: tuple[str, ...] = (TOPIC,)
    label = "ntfy"

    def __init__(self, settings: NtfySettings, client: httpx.AsyncClient | None = None) -> None:
        if not settings.ntfy_url:
            raise ValueError("PAPERBELL_NTFY_URL is not set")
        self.settings, self.base = settings, settings.ntfy_url.rstrip("/")
        token = settings.ntfy_token.get_secret_value() if settings.ntfy_token else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(15.0), headers=headers)
        # https://docs.ntfy.sh/config/#rate-limiting: one bucket per visitor (ntfy_rate, ntfy_burst below it)
        self.pacer = Pacer(Limits(rate=settings.ntfy_rate, burst=settings.ntfy_burst,
                                  max_wait=settings.chat_max_ratelimit_wait))

    async def aclose(self) -> None:
        await self.client.aclose()

    def render_instant(self, subscriber: Subscriber, item: DigestItem) -> Any:
        return render.instant(self.settings, subscriber, item)

    def render_digest(self, subscriber: Subscriber, digest: Digest) -> list[Rendered]:
        return render.digest(subscriber, digest)

    def render_updates(self, subscriber: Subscriber, extras: DigestExtras) -> Any | None:
        return render.updates(subscriber, extras)

    async def send(self, subscriber: Subscriber, body: Any, *, key: str) -> str:
        return await self.pacer.send(lambda: self._publish(body), subscriber.address)

    async def _publish(self, body: dict[str, Any]) -> str:
        response = await self.client.post(f"{self.base}/", content=json.dumps(body, ensure_ascii=False).encode())
        if response.status_code == 200:
            try:
                return str(response.json()["id"])
            except (ValueError, KeyError, TypeError):
                raise RetryLater("ntfy answered 200 without a message id") from None  # a proxy, not ntfy
        raise _error(response, 1.0 / self.settings.ntfy_rate)

    async def find_sent(self, subscriber: Subscriber, body: Any, *, key: str, since: datetime) -> str | None:
        wanted = fingerprint(body)
        url = f"{self.base}/{subscriber.address}/json"
        async with self.client.stream("GET", url, params={"poll": "1", "since": str(int(since.timestamp()))}) as reply:
            if reply.status_code != 200:
                return None  # cannot look: publish again (at most one duplicate)
            read = 0
            async for line in reply.aiter_lines():
                read += len(line)
                if read > POLL_BYTES:
                    break
                message = _json_object(line)
                if message.get("event") == "message" and fingerprint(message) == wanted:
                    return str(message.get("id"))
        return None

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        return None  # the topic refused us: nobody there to tell; `paperbell status` shows it


def _json_object(line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _error(response: httpx.Response, refill: float) -> Exception:
    """ntfy's error answer as one of the posting loop's exceptions.

    ntfy's 429 carries no Retry-After: its bucket refills one request per `visitor-request-limit-replenish`
    (https://docs.ntfy.sh/config/#rate-limiting, 5 s on ntfy.sh), which `ntfy_rate` is set to match.
    """
    answer = _json_object(response.text[:2000])
    code = answer.get("code") if isinstance(answer.get("code"), int) else 0
    said = f"HTTP {response.status_code} {code or ''} {answer.get('error') or response.text[:200]}".strip()
    if response.status_code == 429:
        header = response.headers.get("Retry-After", "")
        wait = float(header) if header.replace(".", "", 1).isdigit() else refill
        return RetryLater(said, DAILY_QUOTA_RETRY) if code == 42908 else RateLimited(wait, said)
    if code in UNREACHABLE_CODES or response.status_code in (401, 403):
        return TargetUnreachable(f"ntfy refuses this topic ({said}); check the topic and PAPERBELL_NTFY_TOKEN")
    if code in REJECTED_CODES or response.status_code in (400, 413):
        return PostRejected(said)
    return RetryLater(said) if response.status_code < 500 else RuntimeError(f"ntfy: {said}")
