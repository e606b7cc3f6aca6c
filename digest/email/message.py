"""Builds the RFC 5322 message of a digest or confirmation mail (multipart/alternative text + HTML).

Called by digest.email.digests. Every digest carries From, To, Date, Subject, the Message-ID
the outbox assigned when the papers were claimed (kept on retry, so a resend is recognisable), and the
RFC 2369/8058 headers List-Unsubscribe (https URL + mailto with a signed token) and List-Unsubscribe-Post,
plus List-Id, Feedback-ID and (digests only) Precedence from digest.email.headers.
"""

from __future__ import annotations

import binascii
import hashlib
from datetime import datetime
from email.headerregistry import Address
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr, parseaddr

from digest.core.address import header_safe_name
from digest.email.headers import MailKind, add_list_headers, unsubscribe_mailto
from digest.email.render import RenderedMail
from digest.settings import Settings


def text_part(text: str, subtype: str) -> Message:
    """A text/<subtype> UTF-8 part, quoted-printable.

    Quoted-printable keeps the mostly-ASCII HTML near its real size (base64 would add a third, and Gmail
    clips large mail). The body is encoded by `binascii.b2a_qp` (C) rather than the email package's
    pure-Python encoder, which cost ~6 ms per 100 kB digest; lines stay within 76 characters, trailing
    blanks and `=` are escaped, and decoding gives the text back. The compat32 MIME classes are ~5x
    faster to build than EmailMessage's header registry. Line endings become "\n" first: the wire ends every
    CR, LF and CRLF as a line anyway, and `b2a_qp` drops a CR that comes before a CRLF ("\r\r\n").
    """
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    part.set_payload(binascii.b2a_qp(lines.encode(), istext=True).decode("ascii"))
    return part



def part_boundary(message_id: str) -> str:
    """The multipart boundary: "=_" can never occur in a quoted-printable body (every "=" there is followed by
    two hex digits or a line break), so no part can contain it and the generator need not search ~100 kB
    of text for a collision (which costs about a millisecond a digest). Derived from the Message-ID: the
    same message keeps the same bytes when it is sent again."""
    return "=_pb" + hashlib.blake2b(message_id.encode(), digest_size=12).hexdigest()


def sender_domain(settings: Settings) -> str:
    address = parseaddr(settings.mail_from)[1]
    return address.rpartition("@")[2] or "localhost"


def confirmation_message_id(settings: Settings, subscriber_id: int, sent_at: datetime) -> str:
    # Each confirmation carries a new link, so a re-sent one is a new message (clients drop duplicate ids).
    return f"<confirm.{subscriber_id}.{int(sent_at.timestamp())}@{sender_domain(settings)}>"


def build_message(
    settings: Settings,
    *,
    to_address: str,
    to_name: str | None,
    mail: RenderedMail,
    message_id: str,
    date: datetime,
    unsubscribe_url: str | None,
    subscriber_id: int,
    kind: MailKind = MailKind.DIGEST,
) -> Message:
    message = MIMEMultipart("alternative", boundary=part_boundary(message_id))
    # formataddr encodes a non-ASCII display name alone, leaving the address readable to servers.
    message["From"] = formataddr(parseaddr(settings.mail_from))
    # Address refuses an addr_spec that is more than one address (`a,b@c`) and any CR/LF; formataddr then
    # RFC 2047-encodes a non-ASCII display name. Stored names are also stripped of control characters.
    to = Address(display_name=header_safe_name(to_name), addr_spec=to_address)
    message["To"] = formataddr((to.display_name, to.addr_spec))
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        mailto = unsubscribe_mailto(settings, subscriber_id, to_address)
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>, <{mailto}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    add_list_headers(message, settings, kind)
    message.attach(text_part(mail.text, "plain"))
    message.attach(text_part(mail.html, "html"))
    return message


def html_of(message: Message) -> str | None:
    """The decoded text/html part of a message built here (for the outbox's .html copy)."""
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    return None
