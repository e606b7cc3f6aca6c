"""Deliverability headers and addresses: List-Id, Feedback-ID, Precedence, VERP sender, mailto unsubscribe.

Called by digest.email.message (headers of each built message), the transports in digest.email.send
(`outgoing_bytes`: the exact bytes that leave, DKIM-signed when configured) and the inbound role
(`read_verp`, `unsubscribe_token_in`). Pure functions of the settings; nothing touches the database.

VERP: the envelope sender of a message to subscriber N is `bounces+N-<tag>@<bounce domain>`, tag =
the first 16 hex digits of HMAC-SHA256(key, N and a fingerprint of the address). It fits the 64-octet
local-part limit, survives MTAs that lowercase local parts, and a bounce naming it proves which
subscriber it is about (a forged or stale one, e.g. after the address changed, does not verify).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from email.utils import parseaddr
from enum import StrEnum
from io import BytesIO

from digest.email.dkim import DkimKey
from digest.services.tokens import Purpose, address_fingerprint, make_token
from digest.settings import Settings

_CRLF = policy.compat32.clone(linesep="\r\n")
_VERP = re.compile(r"^bounces\+(\d{1,12})-([0-9a-f]{16})@", re.IGNORECASE)
# itsdangerous tokens: base64url payload . timestamp . signature
TOKEN = r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"
_SUBJECT_UNSUBSCRIBE = re.compile(rf"unsubscribe\s+({TOKEN})", re.IGNORECASE)
_URL_UNSUBSCRIBE = re.compile(rf"/unsubscribe/({TOKEN})")


class MailKind(StrEnum):
    DIGEST = "digest"
    CONFIRMATION = "confirmation"


def _domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower() or "localhost"


def list_id(settings: Settings) -> str:
    return settings.list_id or f"paperbell.{_domain_of(settings.mail_from)}"


def add_list_headers(message: Message, settings: Settings, kind: MailKind) -> None:
    """List-Id and Feedback-ID on every mail; Precedence: bulk on digests only (a confirmation is a reply
    to the person's own request, and bulk precedence would make some servers drop or delay it)."""
    message["List-Id"] = f"paperbell digests <{list_id(settings)}>"
    # Gmail's Feedback Loop: campaign:customer:mail type:sender id, complaint rates are grouped by these.
    message["Feedback-ID"] = f"{kind.value}:paperbell:{kind.value}:{_domain_of(settings.mail_from)}"
    if kind is MailKind.DIGEST:
        message["Precedence"] = "bulk"


def _verp_key(settings: Settings) -> bytes:
    # Derived from the link-signing key, separated by purpose so neither can stand in for the other.
    return hmac.new(settings.signing_key().encode(), b"paperbell.verp", hashlib.sha256).digest()


def verp_tag(settings: Settings, subscriber_id: int, address: str) -> str:
    text = f"{subscriber_id}:{address_fingerprint(address)}".encode()
    return hmac.new(_verp_key(settings), text, hashlib.sha256).hexdigest()[:16]


def verp_sender(settings: Settings, subscriber_id: int, address: str) -> str | None:
    """The envelope sender naming this subscriber, or None when no bounce domain is configured."""
    if not settings.bounce_domain:
        return None
    return f"bounces+{subscriber_id}-{verp_tag(settings, subscriber_id, address)}@{settings.bounce_domain}"


@dataclass(frozen=True)
class VerpClaim:
    subscriber_id: int
    tag: str

    def matches(self, settings: Settings, address: str) -> bool:
        return hmac.compare_digest(self.tag.lower(), verp_tag(settings, self.subscriber_id, address))


def read_verp(address: str) -> VerpClaim | None:
    """The (unverified) subscriber id and tag of a VERP address; verify with `VerpClaim.matches`."""
    found = _VERP.match(parseaddr(address)[1] or address.strip("<> "))
    return VerpClaim(int(found.group(1)), found.group(2)) if found else None


def unsubscribe_address(settings: Settings) -> str:
    """Where mailto: unsubscribes go: the bounce domain's inbox when routed to paperbell, else From."""
    if settings.bounce_domain:
        return f"unsubscribe@{settings.bounce_domain}"
    return parseaddr(settings.mail_from)[1] or "paperbell@localhost"


def unsubscribe_mailto(settings: Settings, subscriber_id: int, address: str) -> str:
    token = make_token(settings, Purpose.UNSUBSCRIBE, subscriber_id, address)
    return f"mailto:{unsubscribe_address(settings)}?subject=unsubscribe%20{token}"


def unsubscribe_token_in(text: str) -> str | None:
    """The unsubscribe token in a Subject ("unsubscribe TOKEN", "Re: unsubscribe TOKEN") or a List-Unsubscribe URL."""
    found = _SUBJECT_UNSUBSCRIBE.search(text) or _URL_UNSUBSCRIBE.search(text)
    return found.group(1) if found else None


class _WholeBodies(BytesGenerator):
    """The stdlib's generator, writing each body in one piece (its lines' endings replaced at once) rather
    than two writes per line: the same bytes, a fraction of the calls for a 100 kB digest."""

    def _write_lines(self, lines: str) -> None:
        if lines:  # CRLF, CR and LF each end a line, as the stdlib splits them; str.replace runs in C
            self.write(lines.replace("\r\n", "\n").replace("\r", "\n").replace("\n", self._NL))  # type: ignore[attr-defined]


def outgoing_bytes(message: Message, signer: DkimKey | None) -> bytes:
    """The bytes that go on the wire: CRLF-canonical and, with a DKIM key, signed as the very last step."""
    buffer = BytesIO()  # what `message.as_bytes(policy=_CRLF)` does, with the faster generator
    _WholeBodies(buffer, mangle_from_=False, policy=_CRLF).flatten(message, unixfrom=False)
    raw = buffer.getvalue()
    return raw if signer is None else signer.sign(raw)
