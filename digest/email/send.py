"""Mail transports: SMTP via aiosmtplib (pooled, retrying) and the `.eml` outbox writer.

Called by digest.email.digests and bench/email.py. `make_transport(settings)` picks
SMTP when `settings.smtp_host` is set, else the outbox (<outbox>/email/*.eml + *.html).
SMTP connections are opened lazily and reused across messages, at most `smtp_concurrency` at a
time. 4xx replies and connection errors are retried with exponential backoff; 5xx recipient
refusals come back as PERMANENT (the caller counts bounces). Nothing here touches the database.
Both transports send the bytes of digest.email.headers.outgoing_bytes: DKIM-signed last, when configured;
`envelope_from` sets MAIL FROM (the VERP bounce address) without changing the visible From.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import ssl
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses, parseaddr
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import aiosmtplib

from digest.email.dkim import DkimKey, load_key
from digest.email.headers import outgoing_bytes
from digest.email.message import html_of
from digest.settings import Settings, SmtpSecurity

log = logging.getLogger(__name__)


class SendStatus(StrEnum):
    SENT = "sent"
    TEMPORARY = "temporary"  # try again next run
    PERMANENT = "permanent"  # the server refused this recipient for good (5xx)


@dataclass(frozen=True)
class SendOutcome:
    status: SendStatus
    error: str | None = None
    code: int | None = None
    path: Path | None = None  # the .eml file when written to the outbox

    @property
    def ok(self) -> bool:
        return self.status is SendStatus.SENT


class MailTransport(Protocol):
    async def send(self, message: Message, *, envelope_from: str | None = None) -> SendOutcome: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Envelope:
    """What the SMTP client sends: MAIL FROM, RCPT TO and the final (signed) bytes, built once per message."""

    sender: str
    recipients: list[str]
    data: bytes
    mail_options: list[str]

    @classmethod
    def of(cls, message: Message, envelope_from: str | None, signer: DkimKey | None) -> Envelope:
        sender = envelope_from or parseaddr(str(message.get("From", "")))[1]
        recipients = [address for _, address in getaddresses([str(v) for v in message.get_all("To", [])])]
        utf8 = not (sender + "".join(recipients)).isascii()
        return cls(sender, recipients, outgoing_bytes(message, signer), ["SMTPUTF8"] if utf8 else [])


def _file_stem(message: Message) -> str:
    message_id = str(message.get("Message-ID", "mail")).strip("<>")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", message_id)[:150]


class OutboxTransport:
    """Writes each message as <dir>/<message-id>.eml plus the HTML part as .html (the embedded default)."""

    def __init__(self, directory: Path, signer: DkimKey | None = None) -> None:
        self.directory = directory
        self.signer = signer

    def _write(self, message: Message) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = _file_stem(message)
        eml = self.directory / f"{stem}.eml"
        partial = eml.with_suffix(".eml.part")
        partial.write_bytes(outgoing_bytes(message, self.signer))
        partial.replace(eml)  # readers never see a half-written file
        html = html_of(message)
        if html is not None:
            (self.directory / f"{stem}.html").write_text(html, encoding="utf-8")
        return eml

    async def send(self, message: Message, *, envelope_from: str | None = None) -> SendOutcome:
        try:
            path = await asyncio.to_thread(self._write, message)
        except OSError as exc:
            return SendOutcome(SendStatus.TEMPORARY, error=f"outbox write failed: {exc}")
        return SendOutcome(SendStatus.SENT, path=path)

    async def close(self) -> None:
        return None


class SmtpTransport:
    """A small pool of reused aiosmtplib connections with retry and error classification."""

    def __init__(
        self,
        settings: Settings,
        *,
        tls_context: ssl.SSLContext | None = None,
        retry_base_delay: float = 1.0,
    ) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpTransport needs settings.smtp_host")
        self.settings = settings
        self.tls_context = tls_context
        self.retry_base_delay = retry_base_delay
        self._slots = asyncio.Semaphore(settings.smtp_concurrency)
        self._idle: list[aiosmtplib.SMTP] = []
        self.connections_opened = 0
        self.signer = load_key(settings)  # None = DKIM off; a bad key was refused when settings loaded

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=password if s.smtp_username else None,
            timeout=s.smtp_timeout,
            use_tls=s.smtp_security is SmtpSecurity.TLS,
            start_tls=s.smtp_security is SmtpSecurity.STARTTLS,
            tls_context=self.tls_context,
        )

    async def _acquire(self) -> aiosmtplib.SMTP:
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client
        client = self._client()
        await client.connect()
        self.connections_opened += 1
        return client

    def _give_back(self, client: aiosmtplib.SMTP) -> None:
        if client.is_connected:
            self._idle.append(client)

    async def _attempt(self, envelope: Envelope) -> SendOutcome:
        client: aiosmtplib.SMTP | None = None
        try:
            client = await self._acquire()
            await client.sendmail(envelope.sender, envelope.recipients, envelope.data,
                                  mail_options=envelope.mail_options)
            self._give_back(client)
            return SendOutcome(SendStatus.SENT)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            if client is not None:
                self._give_back(client)
            codes = [refused.code for refused in exc.recipients]
            text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            status = SendStatus.PERMANENT if codes and all(500 <= c < 600 for c in codes) else SendStatus.TEMPORARY
            return SendOutcome(status, error=f"recipient refused: {text}", code=codes[0] if codes else None)
        except (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPAuthenticationError) as exc:
            # Our own configuration is wrong, not the subscriber's address: never a bounce.
            await self._discard(client)
            return SendOutcome(SendStatus.TEMPORARY, error=f"{type(exc).__name__}: {exc.code} {exc.message}",
                               code=exc.code)
        except aiosmtplib.SMTPServerDisconnected as exc:
            await self._discard(client)
            return SendOutcome(SendStatus.TEMPORARY, error=f"connection lost: {exc}")
        except aiosmtplib.SMTPResponseException as exc:
            if client is not None:
                self._give_back(client)
            status = SendStatus.PERMANENT if 500 <= exc.code < 600 else SendStatus.TEMPORARY
            return SendOutcome(status, error=f"{exc.code} {exc.message}", code=exc.code)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._discard(client)
            return SendOutcome(SendStatus.TEMPORARY, error=f"{type(exc).__name__}: {exc}")

    async def _discard(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None and client.is_connected:
            client.close()

    async def send(self, message: Message, *, envelope_from: str | None = None) -> SendOutcome:
        """Send one message, retrying temporary failures up to `smtp_max_retries` times.

        `envelope_from` (MAIL FROM, where bounces go; e.g. a VERP address) defaults to the From address.
        """
        # the wire bytes (and their DKIM signature) are ~100 kB of CPU work: off the event loop
        envelope = await asyncio.to_thread(Envelope.of, message, envelope_from, self.signer)
        async with self._slots:
            attempt = 0
            while True:
                outcome = await self._attempt(envelope)
                if outcome.status is not SendStatus.TEMPORARY or attempt >= self.settings.smtp_max_retries:
                    return outcome
                delay = self.retry_base_delay * (2**attempt) * (0.5 + random.random())
                log.info("temporary SMTP failure (%s); retry %d in %.2fs", outcome.error, attempt + 1, delay)
                await asyncio.sleep(delay)
                attempt += 1

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()


def outbox_email_dir(settings: Settings) -> Path:
    return settings.resolved_outbox_dir() / "email"


def make_transport(settings: Settings, *, tls_context: ssl.SSLContext | None = None) -> MailTransport:
    if settings.smtp_host:
        return SmtpTransport(settings, tls_context=tls_context)
    return OutboxTransport(outbox_email_dir(settings), load_key(settings))
