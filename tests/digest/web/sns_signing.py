"""An SNS signer for tests: a locally generated RSA key and self-signed certificate, served over local HTTP.

Signs exactly as Amazon SNS documents (the string to sign per message type, SignatureVersion 1 = SHA1,
2 = SHA256, PKCS#1 v1.5), so digest.email.inbound.signatures verifies it the way it verifies AWS.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from digest.email.inbound.signatures import _SIGNED_KEYS
from tests.digest.sources.http_server import FixtureServer, Reply

CERT_PATH = "/sns/SimpleNotificationService-test.pem"


def _key_and_cert() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.test.amazonaws.com")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM)


class SnsSigner:
    """Serves its certificate from `server` and signs SNS bodies with the matching key."""

    def __init__(self, server: FixtureServer) -> None:
        self.key, pem = _key_and_cert()
        server.route(CERT_PATH, *[Reply(body=pem, content_type="application/x-pem-file")] * 50)
        self.cert_url = server.url(CERT_PATH)
        self.pattern = r"http://127\.0\.0\.1:\d+/sns/[^?#]+\.pem"

    def sign(self, body: dict[str, Any], version: str = "1", *, fresh: bool = True) -> dict[str, Any]:
        signed = {**body, "SignatureVersion": version, "SigningCertURL": self.cert_url}
        if fresh:
            signed["Timestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            signed["MessageId"] = str(uuid.uuid4())
        text = "".join(f"{k}\n{signed[k]}\n" for k in _SIGNED_KEYS[signed["Type"]] if k in signed).encode()
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()
        signed["Signature"] = base64.b64encode(self.key.sign(text, padding.PKCS1v15(), digest)).decode()
        return signed
