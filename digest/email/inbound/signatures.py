"""Per-provider signatures of bounce webhooks, with replay protection: SNS certificates, Mailgun HMAC.

Used by digest.email.inbound.webhooks after the shared secret (which is also Postmark's protection: Postmark
sends it as the HTTP Basic password of the webhook URL) and before any event is applied.
- Amazon SNS (SES notifications): the message is signed with the key of an X.509 certificate whose URL
  it names. The URL must match `webhook_sns_cert_url_pattern` (by default an
  `https://sns.<region>.amazonaws.com/` address, as AWS tells receivers to check); the certificate is
  fetched once and cached; the signature (SignatureVersion 1: SHA1, 2: SHA256, PKCS#1 v1.5) is checked
  over the documented string to sign. https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
- Mailgun: HMAC-SHA256 of timestamp + token with the webhook signing key
  (`webhook_mailgun_signing_key`), the timestamp within `REPLAY_WINDOW_SECONDS`, each token used once.
  https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/#securing-webhooks
Replays (the same SNS MessageId or Mailgun token again, or a stale timestamp) are refused. The memory
of seen ids is per process and bounded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import httpx

from digest.settings import Settings

REPLAY_WINDOW_SECONDS = 300.0  # Mailgun: a signature older (or newer) than this is refused
SNS_MAX_AGE_SECONDS = 3600.0  # SNS retries a notification for a while; older ones are refused
MAX_CERT_BYTES = 65_536
_SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}


class SeenIds:
    """A bounded memory of ids already accepted (oldest forgotten first)."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > self.limit:
            self._seen.popitem(last=False)
        return True


class SignatureChecker:
    """One per app: the certificate cache and the replay memory live here."""

    def __init__(self, settings: Settings, *, clock: Any = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.seen = SeenIds()
        self._certs: dict[str, Any] = {}

    async def refusal(self, body: dict[str, Any]) -> str | None:
        """Why this notification is refused (one line), or None when its signature holds."""
        if "Type" in body and "TopicArn" in body:
            return await self._sns(body) if self.settings.webhook_sns_verify else None
        if isinstance(body.get("event-data"), dict) and self.settings.webhook_mailgun_signing_key is not None:
            return self._mailgun(body.get("signature"))
        return None

    def _mailgun(self, signature: Any) -> str | None:
        if not isinstance(signature, dict):
            return "Mailgun signature missing"
        timestamp, token, given = (str(signature.get(k, "")) for k in ("timestamp", "token", "signature"))
        assert self.settings.webhook_mailgun_signing_key is not None
        key = self.settings.webhook_mailgun_signing_key.get_secret_value().encode()
        expected = hmac.new(key, (timestamp + token).encode(), hashlib.sha256).hexdigest()
        if not (timestamp and token and hmac.compare_digest(expected, given)):
            return "Mailgun signature does not verify"
        if not timestamp.isdigit() or abs(self.clock() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
            return "Mailgun signature timestamp outside the replay window"
        if not self.seen.first_time(f"mailgun:{token}"):
            return "Mailgun token already used (replay)"
        return None

    async def _sns(self, body: dict[str, Any]) -> str | None:
        kind, version = str(body.get("Type", "")), str(body.get("SignatureVersion", ""))
        keys = _SIGNED_KEYS.get(kind)
        if keys is None or version not in ("1", "2"):
            return "SNS message type or SignatureVersion not recognised"
        url = str(body.get("SigningCertURL", ""))
        if not re.fullmatch(self.settings.webhook_sns_cert_url_pattern, url):
            return "SNS SigningCertURL is not an Amazon SNS certificate address"
        try:
            signature = base64.b64decode(str(body.get("Signature", "")), validate=True)
        except binascii.Error:
            return "SNS Signature is not base64"
        signed = "".join(f"{k}\n{body[k]}\n" for k in keys if k in body).encode()
        try:
            certificate = await self._certificate(url)
            _verify(certificate, signature, signed, version)
        except Exception as exc:
            return f"SNS signature does not verify ({type(exc).__name__})"
        if not self._fresh(str(body.get("Timestamp", ""))):
            return "SNS message timestamp outside the replay window"
        if not self.seen.first_time(f"sns:{body.get('MessageId')}"):
            return "SNS MessageId already seen (replay)"
        return None

    def _fresh(self, stamp: str) -> bool:
        try:
            sent = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).timestamp()
        except ValueError:
            return False
        return abs(self.clock() - sent) <= SNS_MAX_AGE_SECONDS

    async def _certificate(self, url: str) -> Any:
        from cryptography import x509

        if url not in self._certs:
            data = b""
            async with (httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client,
                        client.stream("GET", url) as response):
                response.raise_for_status()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_CERT_BYTES:
                        raise ValueError("certificate too large")
            self._certs[url] = x509.load_pem_x509_certificate(data)
        return self._certs[url]


def _verify(certificate: Any, signature: bytes, signed: bytes, version: str) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    digest = hashes.SHA1() if version == "1" else hashes.SHA256()  # SNS SignatureVersion 1 is SHA1
    certificate.public_key().verify(signature, signed, padding.PKCS1v15(), digest)
