"""Reading a DKIM private key file, with a one-line reason when it cannot be used.

Called by settings validation (so a bad key stops start-up with a message naming the setting) and
by digest.email.dkim when it signs. `cryptography` is imported only when a key is read, so commands
that never sign mail do not pay for it.
"""

from __future__ import annotations

import base64
from pathlib import Path

MIN_BITS = 1024  # RFC 8301: verifiers must not accept shorter RSA keys


class DkimKeyError(ValueError):
    """The configured private key cannot be used; str = what is wrong with the file."""


def read_private_key(path: Path) -> tuple[bytes, str, int]:
    """(PKCS#1 PEM, base64 SubjectPublicKeyInfo, bits) of an RSA key file, or `DkimKeyError` saying why not."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

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
