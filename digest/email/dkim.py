"""DKIM signing of outgoing mail (RFC 6376, with dkimpy) and the DNS records an operator publishes.

Used by the transports in digest.email.send (`DkimKey.sign` is the last step before a message
leaves), with the key that settings validation read (`digest.core.dkim_key`), and by
`paperbell mail check` (`dns_records`, `verify_locally`).
The signature covers the list headers (List-Unsubscribe, List-Unsubscribe-Post, List-Id, Feedback-ID)
that Gmail and Yahoo require to be signed; From and the unsubscribe headers are over-signed so a
relay cannot add a second copy without breaking the signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digest.core.dkim_key import read_private_key
from digest.settings import Settings

SIGNED_HEADERS = (
    "from", "to", "subject", "date", "message-id", "mime-version", "content-type", "list-id",
    "list-unsubscribe", "list-unsubscribe-post", "feedback-id", "precedence", "auto-submitted",
)
OVERSIGNED = ("from", "list-unsubscribe", "list-unsubscribe-post")
_HEADER_NAME = re.compile(rb"^([!-9;-~]+):", re.MULTILINE)


@dataclass(frozen=True)
class DkimKey:
    selector: str
    domain: str
    private_pem: bytes  # PKCS#1 PEM, the form dkimpy reads
    public_der_b64: str  # SubjectPublicKeyInfo, the p= of the DNS record
    bits: int

    @property
    def dns_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    def txt_record(self) -> str:
        return f"v=DKIM1; k=rsa; p={self.public_der_b64}"

    def sign(self, raw: bytes) -> bytes:
        """`raw` (CRLF line ends) with a DKIM-Signature header prepended."""
        present = {m.group(1).decode().lower() for m in _HEADER_NAME.finditer(_header_block(raw))}
        include = [h for h in SIGNED_HEADERS if h in present] + [h for h in OVERSIGNED if h in present]
        import dkim  # dkimpy loads dnspython: imported when a message is signed, not when the service starts

        signature = dkim.sign(
            raw, self.selector.encode(), self.domain.encode(), self.private_pem,
            canonicalize=(b"relaxed", b"relaxed"), include_headers=[h.encode() for h in include],
        )
        return bytes(signature) + raw


def _header_block(raw: bytes) -> bytes:
    end = raw.find(b"\r\n\r\n")
    return raw if end < 0 else raw[:end]


def signing_domain(settings: Settings) -> str:
    from digest.email.message import sender_domain

    return settings.dkim_domain or sender_domain(settings)


def load_key(settings: Settings) -> DkimKey | None:
    """The signing key the settings configure, or None when DKIM is off."""
    if settings.dkim_private_key_path is None or not settings.dkim_selector:
        return None
    pem, public, bits = read_private_key(settings.dkim_private_key_path)
    return DkimKey(settings.dkim_selector, signing_domain(settings), pem, public, bits)


def verify_locally(signed: bytes, key: DkimKey) -> tuple[bool, list[str]]:
    """Verify `signed` with dkimpy against the record built from `key` (no DNS); (ok, signed header names)."""
    record = key.txt_record().encode()
    import dkim

    verifier = dkim.DKIM(signed)

    def dnsfunc(name: bytes | str, timeout: int = 5) -> bytes | None:
        asked = name.decode() if isinstance(name, bytes) else name
        return record if asked.rstrip(".").lower() == key.dns_name.lower() else None

    ok = bool(verifier.verify(dnsfunc=dnsfunc))
    names = [h.decode().lower() for h in verifier.include_headers] if ok else []
    return ok, names


def txt_strings(value: str, size: int = 255) -> str:
    """A TXT value split into the <= 255-byte quoted strings DNS needs."""
    return " ".join(f'"{value[i : i + size]}"' for i in range(0, len(value), size))
