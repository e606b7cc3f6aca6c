"""What an inbound mail is: a bounce (hard or soft), a complaint (ARF), a mailto: unsubscribe, or nothing.

Pure: bytes + envelope recipients in, a `Report` out (digest.email.inbound.handler acts on it). Bounces are
detected with flufl.bounce (RFC 3464 DSNs and many non-standard MTA formats); the DSN's Status field
then tells hard (5.x.x) from soft (4.x.x), because a final "failed" for a full mailbox (4.2.2) is not
a dead address. "delayed" DSNs and auto-replies are not failures. ARF reports (RFC 5965) are parsed
with the stdlib email package; the complained-about subscriber is found through signed identifiers
in the quoted original (its VERP Return-Path or its List-Unsubscribe token), then plain addresses.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from enum import StrEnum

from flufl.bounce import all_failures

from digest.email.headers import VerpClaim, read_verp, unsubscribe_token_in

log = logging.getLogger(__name__)
_UNSUBSCRIBE_SUBJECT = re.compile(r"\s*(?:(?:re|aw|fwd?)\s*:\s*)*unsubscribe\b", re.IGNORECASE)


class Kind(StrEnum):
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Report:
    kind: Kind
    detail: str
    addresses: tuple[str, ...] = ()  # reported addresses (unauthenticated)
    verp: VerpClaim | None = None  # signed subscriber id, from the envelope or the quoted Return-Path
    token: str | None = None  # an unsubscribe token (Subject, recipient, or the quoted List-Unsubscribe)
    extra: dict[str, str] = field(default_factory=dict)


def _parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _is_unsubscribe_rcpt(rcpt: str) -> bool:
    local = parseaddr(rcpt)[1].partition("@")[0].lower()
    return local == "unsubscribe" or local.startswith("unsubscribe+")


def classify(raw: bytes, recipients: list[str]) -> Report:
    """Classify one inbound message delivered to `recipients` (the SMTP envelope)."""
    message = _parse(raw)
    verp = next((c for c in map(read_verp, recipients) if c is not None), None)
    subject = str(message.get("Subject", ""))
    if any(_is_unsubscribe_rcpt(r) for r in recipients):
        token = unsubscribe_token_in(subject) or next(
            (unsubscribe_token_in(f"unsubscribe {parseaddr(r)[1].partition('+')[2].partition('@')[0]}")
             for r in recipients if "+" in r), None)
        return Report(Kind.UNSUBSCRIBE, "mailto: unsubscribe", token=token)
    if message.get_content_type() == "multipart/report" and \
            str(message.get_param("report-type", "")).lower() == "feedback-report":
        return _complaint(message, verp)
    bounce = _bounce(message, verp)
    if bounce is not None:
        return bounce
    if _UNSUBSCRIBE_SUBJECT.match(subject):
        return Report(Kind.UNSUBSCRIBE, "unsubscribe by subject", token=unsubscribe_token_in(subject))
    return Report(Kind.IGNORED, f"not a bounce, report or unsubscribe (subject {subject[:80]!r})", verp=verp)


def _dsn_statuses(message: Message) -> list[str]:
    """The Status of every per-recipient block whose Action is failed (RFC 3464 §2.3)."""
    statuses = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            if not isinstance(block, Message):
                continue
            action = str(block.get("Action", "")).strip().lower()
            if action.startswith("fail"):
                statuses.append(str(block.get("Status", "")).strip().split()[0] if block.get("Status") else "")
    return statuses


def _bounce(message: Message, verp: VerpClaim | None) -> Report | None:
    try:
        temporary, permanent = all_failures(message)
    except Exception as exc:  # a detector choking on a hostile message must not stop the role
        log.warning("bounce detectors failed on a message: %s", exc)
        temporary, permanent = frozenset(), frozenset()
    statuses = _dsn_statuses(message)
    addresses = tuple(sorted(a.decode("utf-8", "replace").lower() for a in permanent))
    if not permanent:
        if temporary or message.get_content_type() == "multipart/report":
            return Report(Kind.IGNORED, "delivery report without a failure (e.g. delayed): ignored", verp=verp)
        return None
    if statuses and all(s.startswith("4.") for s in statuses):
        return Report(Kind.SOFT_BOUNCE, f"transient failure {', '.join(statuses)}", addresses, verp)
    detail = f"permanent failure {', '.join(s for s in statuses if s) or '(non-standard bounce)'}"
    return Report(Kind.HARD_BOUNCE, detail, addresses, verp)


def _first_message(payload: object) -> Message | None:
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return None


def _complaint(message: Message, verp: VerpClaim | None) -> Report:
    fields: Message | None = None
    original: Message | None = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report" and fields is None:
            payload = part.get_payload()
            fields = _first_message(payload) or HeaderParser().parsestr(str(payload))
        elif kind == "message/rfc822" and original is None:
            original = _first_message(part.get_payload())
        elif kind == "text/rfc822-headers" and original is None:
            body = part.get_payload(decode=True)
            original = HeaderParser().parsestr(body.decode("utf-8", "replace") if isinstance(body, bytes) else "")
    feedback_type = str(fields.get("Feedback-Type", "")).strip().lower() if fields is not None else ""
    if feedback_type not in ("abuse", "fraud", "virus", "other", ""):
        return Report(Kind.IGNORED, f"feedback report of type {feedback_type!r} is not a complaint")
    addresses = [a for _, a in getaddresses([str(v) for v in (fields.get_all("Original-Rcpt-To", []) if fields
                                                                else [])])]
    token = None
    if original is not None:
        verp = verp or read_verp(str(original.get("Return-Path", "")))
        token = unsubscribe_token_in(str(original.get("List-Unsubscribe", "")))
        addresses += [a for _, a in getaddresses([str(v) for v in original.get_all("To", [])])]
    return Report(Kind.COMPLAINT, f"complaint ({feedback_type or 'abuse'})",
                  tuple(sorted({a.lower() for a in addresses if "@" in a})), verp, token)
