"""Bounce and complaint notifications of mail relays (Amazon SES via SNS, Mailgun, Postmark) as plain events.

Pure: a decoded JSON body in, `RelayEvent`s out, or `RelayFormatError` with a one-line reason. Used by
the webhook (digest.email.inbound.webhooks). Formats: SES notifications and event publishing (`notificationType`
/ `eventType` Bounce|Complaint, bounceType Permanent|Transient|Undetermined) inside an SNS envelope;
Mailgun webhooks (`event-data.event` failed with severity permanent|temporary, or complained);
Postmark Bounce (Type HardBounce, SoftBounce, …) and SpamComplaint webhooks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

HARD, SOFT, COMPLAINT = "hard_bounce", "soft_bounce", "complaint"
# Postmark types that mean the address is gone; other bounce types (auto-replies, DNS errors) are soft
# or not failures at all (https://postmarkapp.com/developer/api/bounce-api#bounce-types).
POSTMARK_HARD = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated", "Blocked", "Unsubscribe"}
POSTMARK_IGNORED = {"AutoResponder", "OpenRelayTest", "Unknown", "ChallengeVerification", "AddressChange",
                    "SubscriptionChange", "Delivered"}


class RelayFormatError(ValueError):
    """The body is no known relay notification; str = the reason."""


@dataclass(frozen=True)
class RelayEvent:
    kind: str  # hard_bounce | soft_bounce | complaint
    address: str
    source: str  # webhook:ses | webhook:mailgun | webhook:postmark
    detail: str


@dataclass(frozen=True)
class SnsConfirmation:
    """An SNS subscription request: the operator confirms it by visiting the URL (never fetched by us)."""

    subscribe_url: str


def _addresses(items: Any, key: str) -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(i[key]).strip().lower() for i in items if isinstance(i, dict) and "@" in str(i.get(key, ""))]


def _ses(message: dict[str, Any]) -> list[RelayEvent]:
    kind = message.get("notificationType") or message.get("eventType")
    if kind == "Bounce":
        bounce = message.get("bounce") or {}
        bounce_type = str(bounce.get("bounceType", ""))
        event = HARD if bounce_type == "Permanent" else SOFT if bounce_type == "Transient" else None
        if event is None:
            return []
        detail = f"SES {bounce_type}/{bounce.get('bounceSubType', '')}"
        return [RelayEvent(event, a, "webhook:ses", detail) for a in _addresses(bounce.get("bouncedRecipients"),
                                                                                  "emailAddress")]
    if kind == "Complaint":
        complaint = message.get("complaint") or {}
        if str(complaint.get("complaintSubType") or "") == "OnAccountSuppressionList":
            return []
        detail = f"SES complaint ({complaint.get('complaintFeedbackType', 'abuse')})"
        return [RelayEvent(COMPLAINT, a, "webhook:ses", detail)
                for a in _addresses(complaint.get("complainedRecipients"), "emailAddress")]
    return []  # Delivery, Send, Open…: not ours to act on


def _sns(body: dict[str, Any]) -> list[RelayEvent] | SnsConfirmation:
    if body.get("Type") == "SubscriptionConfirmation":
        return SnsConfirmation(str(body.get("SubscribeURL", "")))
    if body.get("Type") != "Notification":
        return []
    try:
        message = json.loads(str(body.get("Message", "")))
    except json.JSONDecodeError:
        raise RelayFormatError("SNS notification whose Message is not JSON") from None
    if not isinstance(message, dict):
        raise RelayFormatError("SNS notification whose Message is not a JSON object")
    return _ses(message)


def _mailgun(data: dict[str, Any]) -> list[RelayEvent]:
    event, address = str(data.get("event", "")), str(data.get("recipient", "")).strip().lower()
    if "@" not in address:
        return []
    status = data.get("delivery-status") or {}
    detail = f"Mailgun {event} {status.get('code', '')} {str(status.get('message', ''))[:200]}".strip()
    if event == "failed":
        kind = HARD if data.get("severity") == "permanent" else SOFT
        return [RelayEvent(kind, address, "webhook:mailgun", detail)]
    if event == "complained":
        return [RelayEvent(COMPLAINT, address, "webhook:mailgun", "Mailgun complaint")]
    return []


def _postmark(body: dict[str, Any]) -> list[RelayEvent]:
    address = str(body.get("Email", "")).strip().lower()
    kind_name = str(body.get("Type", ""))
    if "@" not in address:
        return []
    if body.get("RecordType") == "SpamComplaint" or kind_name == "SpamComplaint":
        return [RelayEvent(COMPLAINT, address, "webhook:postmark", "Postmark spam complaint")]
    if body.get("RecordType") != "Bounce" or kind_name in POSTMARK_IGNORED:
        return []
    kind = HARD if kind_name in POSTMARK_HARD else SOFT
    detail = f"Postmark {kind_name}: {str(body.get('Description', ''))[:200]}"
    return [RelayEvent(kind, address, "webhook:postmark", detail)]


def parse(body: Any) -> list[RelayEvent] | SnsConfirmation:
    """The events of one webhook body (SNS/SES, Mailgun or Postmark)."""
    if not isinstance(body, dict):
        raise RelayFormatError("expected a JSON object")
    if "Type" in body and "TopicArn" in body:
        return _sns(body)
    if "notificationType" in body or "eventType" in body:
        return _ses(body)  # SES published straight to an HTTPS endpoint (EventBridge/raw delivery)
    if isinstance(body.get("event-data"), dict):
        return _mailgun(body["event-data"])
    if "RecordType" in body:
        return _postmark(body)
    raise RelayFormatError("not an SES/SNS, Mailgun or Postmark notification")
