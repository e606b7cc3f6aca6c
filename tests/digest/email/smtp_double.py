"""A real aiosmtpd SMTP server on 127.0.0.1 (ephemeral port) that records mail and can misbehave.

Used by the email, web and CLI tests and bench/email.py. It runs in the caller's event loop as a
plain asyncio TCP server. `plan[address]` is a list of RCPT replies to play in order (e.g.
"451 4.3.0 try later", "550 5.1.1 no such user"); `drop_data` closes the connection instead of
answering the next N DATA commands.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpRecorder:
    received: list[Received] = field(default_factory=list)
    plan: dict[str, list[str]] = field(default_factory=dict)
    drop_data: int = 0
    connections: int = 0
    keep: bool = True  # False: count messages only (benchmark)
    count: int = 0
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        replies = self.plan.get(address)
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.drop_data > 0:
            self.drop_data -= 1
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
            return "421 gone"
        self.count += 1
        if self.keep:
            content = envelope.original_content or envelope.content
            assert isinstance(content, bytes)
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        async with self.arrived:
            self.arrived.notify_all()
        return "250 Message accepted"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


class SmtpDouble:
    def __init__(self, recorder: SmtpRecorder | None = None, **smtp_kwargs: Any) -> None:
        self.recorder = recorder or SmtpRecorder()
        self.smtp_kwargs = smtp_kwargs
        self.server: asyncio.Server | None = None
        self.port = 0

    def _protocol(self) -> SMTP:
        recorder = self.recorder

        class CountingSMTP(SMTP):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                recorder.connections += 1
                super().connection_made(transport)

        return CountingSMTP(recorder, hostname="smtp.test", **self.smtp_kwargs)

    async def start(self, *, ssl_context: ssl.SSLContext | None = None) -> SmtpDouble:
        """Listen on an ephemeral port; with `ssl_context` the port speaks implicit TLS."""
        self.server = await asyncio.get_running_loop().create_server(
            self._protocol, "127.0.0.1", 0, ssl=ssl_context
        )
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
