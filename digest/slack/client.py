"""The Slack platform for the shared posting loop: chat.postMessage (app channels) and incoming webhooks.

Clients: slack-sdk's `AsyncWebClient` (base_url = `slack_api_url`) and `AsyncWebhookClient` (URL under
`slack_webhook_url`), with the SDK's own retry handlers off: a retry is the posting loop's decision,
so a lost reply is never re-sent blindly by the library. Both share one aiohttp session (made on first
use inside the running loop, so connections are reused; closed by `aclose`). Slack's answers, classified:
  - https://api.slack.com/methods/chat.postMessage#errors: `channel_not_found`, `not_in_channel`,
    `is_archived`, `restricted_action`… → TargetUnreachable (paused with the reason);
    `invalid_blocks`, `msg_too_long`, `no_text`, `invalid_metadata_format`… → PostRejected;
    `ratelimited` (HTTP 429 + Retry-After, https://api.slack.com/apis/rate-limits) → waited out or later.
  - https://api.slack.com/messaging/webhooks#handling_errors: `invalid_payload`/`invalid_blocks`
    (400) → PostRejected; `no_service`, `channel_not_found`, `channel_is_archived`, `action_prohibited`,
    `posting_to_general_channel_denied` (403/404/410) → TargetUnreachable.
Pacing: chat.postMessage allows about one message per second per channel with short bursts
(https://api.slack.com/methods/chat.postMessage#rate_limiting); one `Pacer` spaces each channel's
(and each webhook's) posts at `slack_rate` and keeps all channels together within `slack_global_rate`.
Idempotency: chat.postMessage takes no idempotency key, so each post carries its key in message
metadata (https://api.slack.com/metadata/using) and, after a lost reply, `find_sent` reads the channel's
history since the first try (conversations.history with include_all_metadata) before posting again.
Incoming webhooks cannot be read back: there a lost reply can repeat that one message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from digest.core.assembly import Digest, DigestItem
from digest.services.digest_extras import DigestExtras
from digest.services.pacing import Limits, Pacer, RateLimited
from digest.services.posting import PostRejected, Rendered, RetryLater, TargetUnreachable
from digest.slack import render
from digest.slack.settings import SlackSettings
from digest.slack.spec import CHANNEL, WEBHOOK
from storage.models import Subscriber

UNREACHABLE = {"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived", "restricted_action",
               "no_service", "action_prohibited", "posting_to_general_channel_denied", "team_access_not_granted",
               "ekm_access_denied", "no_permission", "access_denied"}
REJECTED = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "too_many_attachments",
            "invalid_metadata_format", "invalid_metadata_schema", "metadata_too_large", "invalid_payload",
            "too_many_blocks", "invalid_arguments"}
CREDENTIALS = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "missing_scope",
               "invalid_token"}
EVENT_TYPE = "paperbell_post"
HISTORY_PAGES = 5  # conversations.history pages (of 200) read back after a lost reply, at most
TIMEOUT = 30.0  # seconds per request (slack-sdk's default)


def classify_error(error: str, status: int, retry_after: float | None, where: str) -> Exception:
    """One Slack error code (a Web API `error` or a webhook's body) as a posting-loop exception."""
    if status == 429 or error == "ratelimited":
        return RateLimited(retry_after or 1.0, where)
    if error in UNREACHABLE or status in (404, 410):
        return TargetUnreachable(f"{error or status} ({where}): re-invite the app or make a new webhook, "
                                 "then `paperbell subscribers resume`")
    if error in REJECTED or status == 400:
        return PostRejected(f"{error or status} ({where})")
    if error in CREDENTIALS:
        return RetryLater(f"{error} ({where}): check PAPERBELL_SLACK_BOT_TOKEN and the app's scopes", 3600.0)
    return RuntimeError(f"Slack answered {status} {error or ''} ({where})")  # 5xx: outcome unknown


class SlackPlatform:
    """Posts to Slack channels through the app's bot token, and through incoming webhooks."""

    kinds: tuple[str, ...] = (CHANNEL, WEBHOOK)
    label = "Slack"

    def __init__(self, settings: SlackSettings) -> None:
        from slack_sdk.web.async_client import AsyncWebClient

        self.settings = settings
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        self.web = AsyncWebClient(token=token, base_url=settings.slack_api_url, retry_handlers=[], timeout=int(TIMEOUT))
        self._http: Any = None  # the aiohttp session, see `_session`
        # per channel: chat.postMessage's limit is per channel; the app's calls together within the global rate
        self.pacer = Pacer(Limits(spacing=1.0 / settings.slack_rate, rate=settings.slack_global_rate,
                                  burst=max(1, int(settings.slack_global_rate)),
                                  max_wait=settings.chat_max_ratelimit_wait))

    @property
    def unplanned(self) -> int:
        return self.pacer.unplanned

    def _session(self) -> Any:
        """The session every Slack request goes through; made inside the running loop on first use."""
        if self._http is None or self._http.closed:
            import aiohttp

            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))
            self.web.session = self._http
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()

    def render_instant(self, subscriber: Subscriber, item: DigestItem) -> Any:
        return render.instant(item)

    def render_digest(self, subscriber: Subscriber, digest: Digest) -> list[Rendered]:
        return render.digest(subscriber.schedule, digest)

    def render_updates(self, subscriber: Subscriber, extras: DigestExtras) -> Any | None:
        return render.updates(extras)

    async def send(self, subscriber: Subscriber, body: Any, *, key: str) -> str:
        if subscriber.kind == WEBHOOK:
            return await self.pacer.send(lambda: self._webhook(subscriber.address, body, key), subscriber.address)
        if self.settings.slack_bot_token is None:
            raise RetryLater("no Slack bot token (PAPERBELL_SLACK_BOT_TOKEN): the post waits until one is set")
        return await self.pacer.send(lambda: self._post(subscriber.address, body, key), subscriber.address)

    async def _post(self, channel: str, body: dict[str, Any], key: str) -> str:
        from slack_sdk.errors import SlackApiError

        self._session()
        try:
            reply = await self.web.chat_postMessage(
                channel=channel, text=body["text"], blocks=body["blocks"], unfurl_links=False,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}})
        except SlackApiError as exc:
            raise _api_error(exc, "chat.postMessage") from None
        return f"{reply.get('channel', channel)}:{reply.get('ts')}"

    async def _webhook(self, path: str, body: dict[str, Any], key: str) -> str:
        from slack_sdk.webhook.async_client import AsyncWebhookClient

        client = AsyncWebhookClient(url=self.settings.slack_webhook_url.rstrip("/") + "/" + path, retry_handlers=[],
                                    session=self._session(), timeout=int(TIMEOUT))
        reply = await client.send(text=body["text"], blocks=body["blocks"], unfurl_links=False)
        if reply.status_code == 200 and reply.body.strip() == "ok":
            return f"webhook:{key}"  # webhooks answer "ok", no message id
        retry = reply.headers.get("Retry-After") or reply.headers.get("retry-after")
        raise classify_error(reply.body.strip()[:100], reply.status_code, _seconds(retry), "incoming webhook")

    async def find_sent(self, subscriber: Subscriber, body: Any, *, key: str, since: datetime) -> str | None:
        if subscriber.kind != CHANNEL or self.settings.slack_bot_token is None:
            return None  # a webhook cannot be read back: at most this one message twice
        from slack_sdk.errors import SlackApiError

        cursor = None
        self._session()
        try:
            for _ in range(HISTORY_PAGES):
                page = await self.web.conversations_history(
                    channel=subscriber.address, oldest=f"{since.timestamp():.6f}", include_all_metadata=True,
                    limit=200, cursor=cursor)
                for message in page.get("messages") or []:
                    if _carries(message, key):
                        return f"{subscriber.address}:{message.get('ts')}"
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError:
            return None  # no channels:history scope, or history unavailable: post again
        return None

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        return None  # the channel refused us; the admin sees it in `paperbell status` and `/paperbell list`


def _carries(message: Any, key: str) -> bool:
    """True when a history message is the post with this key (anything malformed is simply not it)."""
    metadata = message.get("metadata") if isinstance(message, dict) else None
    payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
    return isinstance(payload, dict) and payload.get("key") == key


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _api_error(exc: Any, where: str) -> Exception:
    response = exc.response
    retry = response.headers.get("Retry-After") or response.headers.get("retry-after")
    return classify_error(str(response.get("error") or ""), response.status_code, _seconds(retry), where)
