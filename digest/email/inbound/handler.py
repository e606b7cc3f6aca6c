"""Acting on a classified inbound mail: suppress, count a soft bounce, unsubscribe, or ignore, and say why.

Called by the inbound server (digest.email.inbound.server) for each message. Only signed identifiers are
trusted when a bounce domain is configured (VERP tag, unsubscribe token): a report naming a
subscriber without one changes nothing. Without a bounce domain (the MTA forwards bounces of the
From address), reported addresses are used, but only those of existing e-mail subscribers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from digest.email.inbound.classify import Kind, Report
from digest.email.inbound.relays import COMPLAINT, SOFT, RelayEvent
from digest.services import subscribers
from digest.services.errors import NotFound
from digest.services.suppression import SuppressionReason, record_bounce, suppress
from digest.services.tokens import Purpose, TokenError, read_token
from digest.settings import Settings
from storage.db import Database
from storage.models import Subscriber, SubscriberKind

log = logging.getLogger(__name__)
UNSUBSCRIBED_REASON = "unsubscribed by the recipient (mailto: unsubscribe)"


@dataclass(frozen=True)
class Outcome:
    action: str  # suppressed | soft_bounce | unsubscribed | ignored
    subscriber_ids: tuple[int, ...]
    reason: str


def _by_id(db: Database, subscriber_id: int) -> Subscriber | None:
    try:
        return subscribers.get_subscriber(db, subscriber_id)
    except NotFound:
        return None


def _targets(settings: Settings, db: Database, report: Report) -> tuple[list[Subscriber], str]:
    """The subscribers a bounce or complaint is about, and how they were identified."""
    if report.verp is not None:
        found = _by_id(db, report.verp.subscriber_id)
        if found is not None and report.verp.matches(settings, found.address):
            return [found], "signed VERP address"
        return [], "VERP address that does not verify (forged, or the address changed)"
    if report.token is not None:
        try:
            claims = read_token(settings, Purpose.UNSUBSCRIBE, report.token)
        except TokenError:
            return [], "unsubscribe token in the quoted original does not verify"
        found = _by_id(db, claims.subscriber_id)
        if found is not None and claims.matches(found.address):
            return [found], "signed List-Unsubscribe token of the quoted original"
        return [], "token of a subscriber that no longer exists"
    if settings.bounce_domain:
        return [], "no signed identifier (PAPERBELL_BOUNCE_DOMAIN requires one)"
    found_all = [s for a in report.addresses
                 if (s := subscribers.find_subscriber(db, SubscriberKind.EMAIL.value, a)) is not None]
    return found_all, "reported address (no bounce domain configured, unsigned)"


def _unsubscribe(settings: Settings, db: Database, report: Report) -> Outcome:
    if report.token is None:
        return Outcome("ignored", (), "unsubscribe mail without a token")
    try:
        claims = read_token(settings, Purpose.UNSUBSCRIBE, report.token)
    except TokenError:
        return Outcome("ignored", (), "unsubscribe token does not verify")
    found = _by_id(db, claims.subscriber_id)
    if found is None or found.id is None or not claims.matches(found.address):
        return Outcome("ignored", (), "unsubscribe token of no current subscriber")
    if not (found.paused and found.pause_reason == UNSUBSCRIBED_REASON):
        subscribers.set_subscriber_paused(db, found.id, True, UNSUBSCRIBED_REASON)
    return Outcome("unsubscribed", (found.id,), "signed unsubscribe token")


def apply(settings: Settings, db: Database, report: Report) -> Outcome:
    """Carry out one report (blocking: call through `db.run`)."""
    if report.kind is Kind.UNSUBSCRIBE:
        return _unsubscribe(settings, db, report)
    if report.kind is Kind.IGNORED:
        return Outcome("ignored", (), report.detail)
    targets, how = _targets(settings, db, report)
    if not targets:
        return Outcome("ignored", (), f"{report.kind.value}: {how}")
    ids = tuple(s.id for s in targets if s.id is not None)
    if report.kind is Kind.SOFT_BOUNCE:
        for subscriber_id in ids:
            record_bounce(db, settings, subscriber_id, report.detail)
        return Outcome("soft_bounce", ids, f"{report.detail}; {how}")
    reason = SuppressionReason.COMPLAINT if report.kind is Kind.COMPLAINT else SuppressionReason.HARD_BOUNCE
    for target in targets:
        suppress(db, target.address, reason, source="inbound", detail=report.detail)
    return Outcome("suppressed", ids, f"{report.detail}; {how}")


def apply_relay_events(settings: Settings, db: Database, events: list[RelayEvent]) -> list[Outcome]:
    """Act on a relay webhook's events (the shared secret authenticated the relay, so addresses are trusted)."""
    outcomes = []
    for event in events:
        if event.kind == SOFT:
            found = subscribers.find_subscriber(db, SubscriberKind.EMAIL.value, event.address)
            if found is None or found.id is None:
                outcomes.append(Outcome("ignored", (), f"soft bounce of no subscriber: {event.detail}"))
                continue
            record_bounce(db, settings, found.id, event.detail)
            outcomes.append(Outcome("soft_bounce", (found.id,), event.detail))
            continue
        reason = SuppressionReason.COMPLAINT if event.kind == COMPLAINT else SuppressionReason.HARD_BOUNCE
        suppress(db, event.address, reason, source=event.source, detail=event.detail)
        outcomes.append(Outcome("suppressed", (), f"{event.address}: {event.detail}"))
    return outcomes
