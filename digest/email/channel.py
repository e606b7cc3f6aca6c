"""The e-mail channel behind the `Channel` protocol: due digests, confirmations and "send now".

The runtime delivers through `EmailChannel.deliver_due`; the web front asks it for a subscriber's
confirmation mail and for a digest sent on request, so those go through the same code as the
scheduled digests (one transport, one ledger, one failure record).
"""

from __future__ import annotations

from datetime import datetime

from digest.core.schedule import is_due
from digest.email.digests import DigestResult, MailRefused, send_confirmation, send_due_digests
from digest.email.failures import in_backoff
from digest.email.preview import preview_digest
from digest.email.rows import email_subscribers
from digest.services.channels import ChannelPass, FailureKind
from digest.settings import Settings
from storage.db import Database
from storage.types import utcnow


class EmailChannel:
    """E-mail digests on each subscriber's own schedule."""

    name = "email"

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings, self.db = settings, db

    async def due(self, now: datetime) -> list[int]:
        subscribers = await self.db.run(email_subscribers, self.db, None)
        return [s.id for s in subscribers if s.id is not None and s.confirmed_at is not None
                and not in_backoff(s, now) and is_due(s, now)]

    async def deliver_due(self, now: datetime, *, spend_empty_slots: bool = True) -> ChannelPass:
        results = await send_due_digests(self.settings, self.db, now, spend_empty_slots=spend_empty_slots)
        report = ChannelPass(self.name)
        for result in results:
            report.count(result.status)
            if result.status == "sent":
                report.messages += 1
                report.papers += result.papers
            elif result.status in ("failed", "bounced"):
                report.failures.append(f"subscriber #{result.subscriber_id}: {result.error}")
        return report

    async def preview(self, subscriber_id: int, now: datetime) -> str:
        result = await preview_digest(self.settings, self.db, subscriber_id, now)
        return result.html_path.read_text(encoding="utf-8")

    def classify(self, error: BaseException) -> FailureKind:
        if isinstance(error, MailRefused):
            if error.failure.fatal:  # e.g. an address that can never be delivered to
                return FailureKind.UNREACHABLE
            return FailureKind.REFUSED if error.failure.permanent else FailureKind.TRANSIENT
        code = getattr(error, "code", None)  # aiosmtplib's SMTP errors carry the server's reply code
        return FailureKind.REFUSED if isinstance(code, int) and 500 <= code < 600 else FailureKind.TRANSIENT

    async def aclose(self) -> None:
        return None  # owns no client: each send opens and closes its own SMTP connection

    async def send_confirmation(self, subscriber_id: int, *, seen_sent_at: datetime | None = None) -> DigestResult:
        """The double opt-in mail for one subscriber, sent once even when several callers ask at once."""
        return await send_confirmation(self.settings, self.db, subscriber_id, seen_sent_at=seen_sent_at)

    async def send_now(self, subscriber_id: int) -> str:
        """Everything pending for one subscriber, now (the manage page's button); returns the result's status."""
        results = await send_due_digests(self.settings, self.db, utcnow(), subscriber_ref=subscriber_id, force=True)
        return results[0].status if results else "empty"
