"""`POST /webhooks/bounce`: bounce and complaint notifications from mail relays (SES via SNS, Mailgun, Postmark).

Mounted by digest.web.app. Authenticated by the shared secret `PAPERBELL_WEBHOOK_SECRET`, given as
the HTTP Basic password (SNS and Postmark put credentials in the endpoint URL) or in the
`X-Paperbell-Webhook-Secret` header, compared in constant time: missing → 401, wrong (or no secret
configured) → 403, both before the body is read. Then each provider's own signature is checked
(digest.email.inbound.signatures: SNS certificate, Mailgun HMAC; replays refused, 403). Events go to
the same suppression service as the inbound role. An SNS subscription request is logged with its
URL for the operator to confirm (the app fetches no URL a request names, but for an SNS signing
certificate at an address matching `webhook_sns_cert_url_pattern`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from digest.core.bounded import MAX_JSON_DEPTH, WEBHOOK_MAX_BODY, json_too_deep
from digest.email.inbound.handler import apply_relay_events
from digest.email.inbound.relays import RelayFormatError, SnsConfirmation, parse
from digest.email.inbound.signatures import SignatureChecker
from digest.settings import Settings
from storage.db import Database

log = logging.getLogger(__name__)
MAX_BODY = WEBHOOK_MAX_BODY
SECRET_HEADER = "X-Paperbell-Webhook-Secret"


def _offered_secret(request: Request) -> str | None:
    if SECRET_HEADER in request.headers:
        return request.headers[SECRET_HEADER]
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]


def _refusal(settings: Settings, request: Request) -> JSONResponse | None:
    offered = _offered_secret(request)
    if offered is None:
        return JSONResponse({"error": "authentication required"}, status_code=401,
                            headers={"WWW-Authenticate": 'Basic realm="paperbell webhooks"'})
    expected = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    if expected is None or not hmac.compare_digest(offered.encode(), expected.encode()):
        return JSONResponse({"error": "forbidden"}, status_code=403)
    return None


def webhook_routes(settings: Settings, db: Database) -> list[Route]:
    signatures = SignatureChecker(settings)

    async def bounce(request: Request) -> JSONResponse:
        refused = _refusal(settings, request)
        if refused is not None:
            return refused
        body = await request.body()  # at most MAX_BODY: counted while streaming (digest.web.limits.BodyLimit)
        if json_too_deep(body):
            return JSONResponse({"error": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}, status_code=400)
        try:
            data = json.loads(body)
            if isinstance(data, dict) and (unsigned := await signatures.refusal(data)) is not None:
                log.warning("webhook: notification refused: %s", unsigned)
                return JSONResponse({"error": unsigned}, status_code=403)
            parsed = parse(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        except RelayFormatError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if isinstance(parsed, SnsConfirmation):
            log.warning("webhook: SNS subscription needs confirming; open %s", parsed.subscribe_url)
            return JSONResponse({"status": "subscription confirmation logged for the operator"})
        outcomes = await db.run(apply_relay_events, settings, db, parsed)
        for outcome in outcomes:
            log.info("webhook: %s %s", outcome.action, outcome.reason)
        return JSONResponse({"status": "ok", "events": [o.action for o in outcomes]})

    return [Route("/webhooks/bounce", bounce, methods=["POST"])]
