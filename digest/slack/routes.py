"""The Slack app's HTTP endpoints: the `/paperbell` slash command and the vote buttons (interactivity).

Mounted on the web app by the composition root (digest.runtime.web_app); the web package knows
nothing of Slack. Every request is verified first (https://api.slack.com/authentication/verifying-requests-from-slack):
`X-Slack-Signature` = `v0=` + HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<raw body>` with the
app's signing secret, and the timestamp within five minutes (slack-sdk's `SignatureVerifier` does
both); anything else is answered 401 with one line. Bodies are bounded by the web app's body limit.
Slack wants an answer within 3 seconds (https://api.slack.com/interactivity/slash-commands#responding_basic_receipt):
the command's work is a few database reads and writes in a worker thread. The commands and the vote
recorder are imported on first use, so serving the web app loads no learner libraries.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from digest.services.errors import ServiceError
from digest.services.subscribers import find_subscriber
from digest.slack.render import VOTE_DOWN, VOTE_UP
from digest.slack.settings import SlackSettings
from digest.slack.spec import CHANNEL
from storage.db import Database

log = logging.getLogger(__name__)
NOT_CONFIGURED = "the Slack app is not configured here: PAPERBELL_SLACK_SIGNING_SECRET is not set"


def _verified(settings: SlackSettings, request: Request, body: bytes) -> str | None:
    """None when Slack signed this request within the last five minutes, else why not (one line)."""
    from slack_sdk.signature import SignatureVerifier

    if settings.slack_signing_secret is None:
        return NOT_CONFIGURED
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    signature = request.headers.get("X-Slack-Signature")
    if not timestamp or not signature:
        return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
    verifier = SignatureVerifier(settings.slack_signing_secret.get_secret_value())
    if not verifier.is_valid(body, timestamp, signature):
        return "bad signature or a timestamp more than five minutes away"
    return None


def _form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=False, max_num_fields=64)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {key: values[0] for key, values in fields.items() if values}


def slack_routes(settings: SlackSettings, db: Database) -> list[Route]:
    """POST /slack/commands and POST /slack/interactivity."""

    async def command(request: Request) -> Response:
        """The Slack app's `/paperbell` slash command (signed by Slack: subscribe, list, search)."""
        body = await request.body()
        refused = _verified(settings, request, body)
        if refused is not None:
            return PlainTextResponse(f"error: {refused}", status_code=503 if refused == NOT_CONFIGURED else 401)
        form = _form(body)
        if not form.get("channel_id") or not form.get("user_id"):
            return PlainTextResponse("error: not a slash command (no channel_id/user_id)", status_code=400)
        from digest.slack.commands import answer  # query parsing and search: loaded on the first command

        reply = await db.run(answer, settings, db, form)
        return JSONResponse(reply)

    async def interactivity(request: Request) -> Response:
        """The Slack app's 👍/👎 buttons (signed by Slack block actions)."""
        body = await request.body()
        refused = _verified(settings, request, body)
        if refused is not None:
            return PlainTextResponse(f"error: {refused}", status_code=503 if refused == NOT_CONFIGURED else 401)
        try:
            payload = json.loads(_form(body).get("payload", ""))
        except ValueError:
            return PlainTextResponse("error: the payload field is not JSON", status_code=400)
        if not isinstance(payload, dict):
            return PlainTextResponse("error: the payload is not a JSON object", status_code=400)
        said, reply = await db.run(_vote, db, payload)
        log.info("slack: block action: %s", said)
        url = _response_url(settings, payload)
        if reply is None or url is None:
            return Response(status_code=200)  # Slack only needs the acknowledgement
        return Response(status_code=200, background=BackgroundTask(_tell, url, reply))  # told after the ack

    return [Route("/slack/commands", command, methods=["POST"]),
            Route("/slack/interactivity", interactivity, methods=["POST"])]


def _response_url(settings: SlackSettings, payload: dict[str, Any]) -> str | None:
    """The press's `response_url` when it is Slack's (same host as the webhook base, /actions/…), else None.

    https://api.slack.com/interactivity/handling#message_responses; checked because the payload names
    a URL this server will POST to: never anywhere else (no request forgery through a crafted payload).
    """
    url = payload.get("response_url")
    if not isinstance(url, str) or len(url) > 500:
        return None
    parts, base = urlsplit(url), urlsplit(settings.slack_webhook_url)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith("/actions/"):
        return None
    return url if not parts.username and not parts.password else None


async def _tell(url: str, text: str) -> None:
    """Say to the member alone what their press did (best effort: the vote is recorded either way)."""
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    try:
        await AsyncWebhookClient(url=url, timeout=10, retry_handlers=[]).send(
            text=text, response_type="ephemeral", replace_original=False)
    except Exception as exc:  # a lost confirmation is not worth more than a log line
        log.warning("slack: could not confirm a vote: %s", exc)


def _vote(db: Database, payload: dict[str, Any]) -> tuple[str, str | None]:
    """(what happened, what to tell the member or None): a press recorded for the channel, by the member."""
    said = _record(db, payload)
    if said not in ("recorded", "changed", "unchanged"):  # only a valid press gets here: its first action
        return said, None
    up = payload["actions"][0]["action_id"] == VOTE_UP
    thumb = "👍" if up else "👎"
    if said == "unchanged":
        return said, f"{thumb} was already noted for this paper."
    return said, f"{thumb} noted: this channel's digests rank papers like this one {'higher' if up else 'lower'}."


def _record(db: Database, payload: dict[str, Any]) -> str:
    """A 👍/👎 button press: recorded for the channel's subscriber, by the member who pressed it."""
    from digest.services.feedback import record_vote  # the learner's libraries: loaded on the first press
    if payload.get("type") != "block_actions":
        return f"ignored: {str(payload.get('type'))[:40]}"
    actions = payload.get("actions") or []
    action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    vote = {VOTE_UP: 1, VOTE_DOWN: -1}.get(str(action.get("action_id")))
    value = str(action.get("value", ""))
    channel = (payload.get("channel") or {}).get("id") if isinstance(payload.get("channel"), dict) else None
    user = (payload.get("user") or {}).get("id") if isinstance(payload.get("user"), dict) else None
    if vote is None or not value.isdigit() or len(value) > 18 or not channel or not user:
        return "ignored: not a paperbell vote"
    subscriber = find_subscriber(db, CHANNEL, str(channel))
    if subscriber is None or subscriber.id is None:
        return f"ignored: channel {str(channel)[:30]} is not subscribed"
    try:
        return record_vote(db, subscriber.id, int(value), vote, voter=f"slack:{str(user)[:50]}", channel="slack")
    except ServiceError as exc:
        return f"refused: {exc}"
