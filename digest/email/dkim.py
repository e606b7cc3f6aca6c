"""DKIM signing of outgoing mail (RFC 6376, with dkimpy) and the DNS records an operator publishes.

Used by the transports in digest.email.send (`DkimKey.sign` is the last step before a message
leaves), by settings validation (`read_private_key`, so a bad key stops start-up with a message
naming the setting) and by `paperbell mail check` (`dns_records`, `verify_locally`).
The signature covers the list headers (List-Unsubscribe, List-Unsubscribe-Post, List-Id, Feedback-ID)
that Gmail and Yahoo require to be signed; From and the unsubscribe headers are over-signed so a
relay cannot add a second copy without breaking the signature.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from digest.settings import Settings

MIN_BITS = 1024  # RFC 8301: verifiers must not accept shorter RSA keys
SIGNED_HEADERS = (
    "from", "to", "subject", "date", "message-id", "mime-version", "content-type", "list-id",
    "list-unsubscribe", "list-unsubscribe-post", "feedback-id", "precedence", "auto-submitted",
)
OVERSIGNED = ("from", "list-unsubscribe", "list-unsubscribe-post")
_HEADER_NAME = re.compile(rb"^([!-9;-~]+):", re.MULTILINE)


class DkimKeyError(ValueError):
    """The configured private key cannot be used; str = what is wrong with the file."""


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
        signature = dkim.sign(
            raw, self.selector.encode(), self.domain.encode(), self.private_pem,
            canonicalize=(b"relaxed", b"relaxed"), include_headers=[h.encode() for h in include],
        )
        return bytes(signature) + raw


def _header_block(raw: bytes) -> bytes:
    end = raw.find(b"\r\n\r\n")
    return raw if end < 0 else raw[:end]


def read_private_key(path: Path) -> tuple[bytes, str, int]:
    """(PKCS#1 PEM, base64 SubjectPublicKeyInfo, bits) of an RSA key file, or `DkimKeyError` saying why not."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DkimKeyError(f"cannot read DKIM key {path}: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise DkimKeyError(f"DKIM key {path} is encrypted; store it unencrypted with mode 0600") from None
    except ValueError:
        raise DkimKeyError(f"{path} is not a PEM private key (expected BEGIN RSA PRIVATE KEY or PRIVATE KEY)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DkimKeyError(f"DKIM key {path} is not an RSA key (only rsa-sha256 is supported)")
    if key.key_size < MIN_BITS:
        raise DkimKeyError(f"DKIM key {path} has {key.key_size} bits; receivers reject keys under {MIN_BITS}")
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, base64.b64encode(public).decode(), key.key_size


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
