"""The inbound mail role: an aiosmtpd SMTP or LMTP server the MTA forwards bounces, reports and unsubscribes to.

Started by `paperbell run --role inbound` (digest.runtime.app). Each message is classified
(digest.email.inbound.classify) and acted on (digest.email.inbound.handler) before the server answers, so a
250 means "recorded". A database failure answers 451 (the MTA keeps the mail and retries: nothing
is lost); anything unrecognised is accepted, logged and dropped, never bounced (a bounce of a
bounce loops). With a bounce domain, recipients outside it are refused (not a relay).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from digest.email.inbound.classify import classify
from digest.email.inbound.handler import Outcome, apply
from digest.settings import InboundProtocol, Settings
from storage.db import Database

log = logging.getLogger("paperbell.inbound")


class InboundHandler:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.outcomes: list[Outcome] = []  # the last few, for tests and `status`

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        domain = self.settings.bounce_domain
        if domain and address.rpartition("@")[2].lower() != domain:
            return "550 5.1.1 not a paperbell address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw or "").encode("utf-8", "replace")
        try:
            report = await asyncio.to_thread(classify, data, list(envelope.rcpt_tos))
        except Exception:
            log.exception("inbound: unparseable message from %s dropped", envelope.mail_from)
            return "250 OK (not understood, dropped)"
        try:
            outcome = await self.db.run(apply, self.settings, self.db, report)
        except Exception:
            log.exception("inbound: could not record a %s report; asking the MTA to retry", report.kind.value)
            return "451 4.3.0 temporary failure, try again later"
        self.outcomes = [*self.outcomes[-99:], outcome]
        log.info("inbound: %s from=%s to=%s action=%s subscribers=%s reason=%s", report.kind.value,
                 envelope.mail_from, ",".join(envelope.rcpt_tos), outcome.action, list(outcome.subscriber_ids),
                 outcome.reason)
        return "250 OK"


class InboundServer:
    """The listening socket; `start()` binds (port 0 = ephemeral), `stop()` closes."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.handler = InboundHandler(settings, db)
        self.server: asyncio.Server | None = None
        self.port = 0

    def _protocol(self) -> Any:
        cls = LMTP if self.settings.inbound_protocol is InboundProtocol.LMTP else SMTP
        return cls(self.handler, hostname="paperbell-inbound", data_size_limit=self.settings.inbound_max_bytes,
                   decode_data=False)

    async def start(self) -> InboundServer:
        self.server = await asyncio.get_running_loop().create_server(
            self._protocol, self.settings.inbound_host, self.settings.inbound_port
        )
        self.port = self.server.sockets[0].getsockname()[1]
        log.info("inbound: %s listening on %s:%s", self.settings.inbound_protocol.value,
                 self.settings.inbound_host, self.port)
        if not self.settings.bounce_domain:
            log.warning("inbound: PAPERBELL_BOUNCE_DOMAIN is unset, so reports need no signed id: anyone who can "
                        "mail this server can suppress any subscriber. Set it (and route its mail here) to close that.")
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
