"""What happens after a subscriber is added, said in one sentence (and done: the confirmation mail).

`welcome` is called by every interface right after `add_subscriber`: for an unconfirmed e-mail
address it sends the double opt-in mail at once when mail is configured, and otherwise says that
the confirmation is pending and why. Interfaces print the sentence it returns.
"""

from __future__ import annotations

from digest.settings import Settings
from storage.db import Database
from storage.models import Subscriber, SubscriberKind


async def welcome(settings: Settings, db: Database, subscriber: Subscriber) -> str:
    """Send the confirmation mail now if it is due and mail is configured; return the next step in plain words."""
    when = _when(subscriber)
    if subscriber.kind != SubscriberKind.EMAIL:
        return f"deliveries start with the next matching papers ({when})"
    if subscriber.confirmed_at is not None:
        return f"confirmed by an admin: papers arrive {when}"
    if not settings.smtp_host:
        return ("confirmation pending: mail is not configured (PAPERBELL_SMTP_HOST is unset), so the confirmation "
                "mail goes to the outbox folder instead of the inbox; set it and run "
                f"`paperbell digest confirm-mail {subscriber.address}`, or add with --confirmed if you vouch for "
                "the address")
    from digest.email.digests import send_confirmation

    assert subscriber.id is not None
    result = await send_confirmation(settings, db, subscriber.id, seen_sent_at=subscriber.confirmation_sent_at)
    if result.status == "confirmation_sent":
        return f"confirmation mail sent to {subscriber.address}: papers arrive {when} once the link in it is clicked"
    if result.status == "already_sent":  # a running worker was faster: one mail, not two
        return f"confirmation mail already sent to {subscriber.address}: papers arrive {when} once it is confirmed"
    if result.status == "capped":
        return (f"confirmation pending: the hourly cap on confirmation mails is reached; a running worker sends it "
                f"to {subscriber.address} within the hour")
    return (f"the confirmation mail could not be sent ({result.error}); "
            f"`paperbell digest confirm-mail {subscriber.address}` tries again")


def _when(subscriber: Subscriber) -> str:
    schedule = str(getattr(subscriber.schedule, "value", subscriber.schedule))
    if schedule == "instant":
        return "as soon as they match"
    if schedule == "weekly":
        days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        return f"in a weekly digest on {days[subscriber.digest_weekday % 7]}s at {subscriber.digest_hour:02d}:00 " \
               f"{subscriber.timezone}"
    return f"in a daily digest at {subscriber.digest_hour:02d}:00 {subscriber.timezone}"
