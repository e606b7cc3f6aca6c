"""POST /webhooks/bounce: shared-secret auth (401/403), SES-via-SNS, Mailgun and Postmark bodies → suppression."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import select

from digest.runtime.web_app import web_app
from digest.services import subscribers as service
from digest.settings import Settings
from storage.db import Database
from storage.deliverability_models import Suppression
from storage.models import Subscriber
from tests.digest.sources.http_server import FixtureServer
from tests.digest.web.sns_signing import SnsSigner

SECRET = "relay-shared-secret-0123456789abcdef"


@pytest.fixture
def signer() -> Iterator[SnsSigner]:
    with FixtureServer() as server:
        yield SnsSigner(server)


@pytest.fixture
async def client(settings: Settings, db: Database, signer: SnsSigner) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(update={"webhook_secret": SecretStr(SECRET),
                                             "webhook_sns_cert_url_pattern": signer.pattern})
    transport = httpx.ASGITransport(app=web_app(configured, db))
    async with httpx.AsyncClient(transport=transport, base_url="http://paperbell.test") as http:
        yield http


def signed(signer: SnsSigner, body: dict[str, Any]) -> dict[str, Any]:
    """SNS bodies go out signed, as Amazon sends them; others as they are."""
    return signer.sign(body) if "TopicArn" in body else body


def sns(message: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "Notification", "MessageId": "m1", "TopicArn": "arn:aws:sns:eu-west-1:1:ses-bounces",
            "Message": json.dumps(message), "Timestamp": "2026-03-02T09:00:00.000Z", "SignatureVersion": "1"}


BODIES = [  # (body, address, expected (paused, bounce_count), suppression reason)
    (sns({"notificationType": "Bounce", "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
          "bouncedRecipients": [{"emailAddress": "ses-hard@example.org", "status": "5.1.1",
                                 "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}, "mail": {}}),
     "ses-hard@example.org", (True, 0), "hard_bounce"),
    (sns({"notificationType": "Bounce", "bounce": {"bounceType": "Transient", "bounceSubType": "MailboxFull",
          "bouncedRecipients": [{"emailAddress": "ses-soft@example.org"}]}, "mail": {}}),
     "ses-soft@example.org", (False, 1), None),
    (sns({"notificationType": "Complaint", "complaint": {"complainedRecipients": [
        {"emailAddress": "ses-complaint@example.org"}], "complaintFeedbackType": "abuse"}, "mail": {}}),
     "ses-complaint@example.org", (True, 0), "complaint"),
    ({"signature": {"timestamp": "1", "token": "t", "signature": "s"}, "event-data": {
        "event": "failed", "severity": "permanent", "recipient": "mg-hard@example.org",
        "delivery-status": {"code": 550, "message": "5.1.1 no such user"}}},
     "mg-hard@example.org", (True, 0), "hard_bounce"),
    ({"signature": {}, "event-data": {"event": "complained", "recipient": "mg-complaint@example.org"}},
     "mg-complaint@example.org", (True, 0), "complaint"),
    ({"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1, "Email": "pm-hard@example.org",
      "Description": "The server was unable to deliver your message"},
     "pm-hard@example.org", (True, 0), "hard_bounce"),
    ({"RecordType": "Bounce", "Type": "AutoResponder", "TypeCode": 1, "Email": "pm-away@example.org"},
     "pm-away@example.org", (False, 0), None),
]


@pytest.mark.parametrize(("body", "address", "expected", "reason"), BODIES)
async def test_relay_notifications_change_only_the_reported_address(
    client: httpx.AsyncClient, settings: Settings, db: Database, body: dict[str, Any], address: str,
    expected: tuple[bool, int], reason: str | None, signer: SnsSigner
) -> None:
    service.add_subscriber(db, settings, "email", address, confirmed=True)
    service.add_subscriber(db, settings, "email", "bystander@example.org", confirmed=True)
    response = await client.post("/webhooks/bounce", json=signed(signer, body), auth=("paperbell", SECRET))
    assert response.status_code == 200, response.text
    with db.session() as session:
        rows = {r.address: (r.paused, r.bounce_count) for r in session.exec(select(Subscriber))}
        suppressed = dict(session.exec(select(Suppression.address, Suppression.reason)).all())
    assert rows == {address: expected, "bystander@example.org": (False, 0)}
    assert suppressed == ({address: reason} if reason else {})


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({}, 401),
        ({"auth": ("paperbell", "wrong")}, 403),
        ({"auth": ("paperbell", SECRET[:-1])}, 403),
        ({"headers": {"X-Paperbell-Webhook-Secret": "nope"}}, 403),
        ({"headers": {"Authorization": "Basic !!!notbase64"}}, 403),
    ],
)
async def test_a_wrong_or_missing_secret_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, settings: Settings, db: Database, kwargs: dict[str, Any], status: int
) -> None:
    service.add_subscriber(db, settings, "email", "ses-hard@example.org", confirmed=True)
    response = await client.post("/webhooks/bounce", json=BODIES[0][0], **kwargs)
    assert response.status_code == status
    with db.session() as session:
        assert session.exec(select(Suppression)).all() == []


async def test_no_secret_configured_refuses_everything(settings: Settings, db: Database) -> None:
    transport = httpx.ASGITransport(app=web_app(settings, db))
    async with httpx.AsyncClient(transport=transport, base_url="http://paperbell.test") as http:
        response = await http.post("/webhooks/bounce", json=BODIES[0][0], auth=("x", ""))
    assert response.status_code == 403


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"hello": "world"}',
                                  json.dumps({"Type": "Notification", "TopicArn": "a", "Message": "{"}).encode()])
async def test_bodies_that_are_no_notification_get_400(client: httpx.AsyncClient, body: bytes,
                                                       signer: SnsSigner) -> None:
    if b"TopicArn" in body:
        body = json.dumps(signer.sign(json.loads(body))).encode()
    response = await client.post("/webhooks/bounce", content=body, headers={"X-Paperbell-Webhook-Secret": SECRET})
    assert response.status_code == 400 and response.json()["error"]


SES_HARD = BODIES[0][0]


@pytest.mark.parametrize(("tamper", "reason"), [
    (lambda s, b: {**b}, "SigningCertURL"),  # unsigned: no certificate, no signature
    (lambda s, b: {**s.sign(b), "Message": b["Message"].replace("ses-hard", "victim")}, "does not verify"),
    (lambda s, b: {**s.sign(b), "SigningCertURL": "https://evil.test/cert.pem"}, "not an Amazon SNS"),
    (lambda s, b: s.sign({**b, "Timestamp": "2020-01-01T00:00:00.000Z"}, fresh=False), "replay window"),
])
async def test_sns_signatures_are_verified(client: httpx.AsyncClient, settings: Settings, db: Database,
                                           signer: SnsSigner, tamper: Any, reason: str) -> None:
    service.add_subscriber(db, settings, "email", "ses-hard@example.org", confirmed=True)
    response = await client.post("/webhooks/bounce", json=tamper(signer, SES_HARD), auth=("x", SECRET))
    assert response.status_code == 403 and reason in response.json()["error"]
    with db.session() as session:
        assert session.exec(select(Suppression)).all() == []


async def test_sns_signature_version_2_and_replay(client: httpx.AsyncClient, signer: SnsSigner) -> None:
    body = signer.sign(SES_HARD, version="2")
    first = await client.post("/webhooks/bounce", json=body, auth=("x", SECRET))
    again = await client.post("/webhooks/bounce", json=body, auth=("x", SECRET))
    assert first.status_code == 200 and again.status_code == 403 and "replay" in again.json()["error"]


def mailgun(key: str, *, timestamp: int | None = None, token: str = "tok-1") -> dict[str, Any]:
    import hashlib
    import hmac
    import time

    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": stamp, "token": token, "signature": signature},
            "event-data": {"event": "complained", "recipient": "mg@example.org"}}


async def test_mailgun_hmac_timestamp_window_and_replay(settings: Settings, db: Database) -> None:
    key = "mailgun-signing-key-0123"
    configured = settings.model_copy(update={"webhook_secret": SecretStr(SECRET),
                                             "webhook_mailgun_signing_key": SecretStr(key)})
    transport = httpx.ASGITransport(app=web_app(configured, db))
    async with httpx.AsyncClient(transport=transport, base_url="http://paperbell.test") as http:
        async def post(body: dict[str, Any]) -> httpx.Response:
            return await http.post("/webhooks/bounce", json=body, auth=("x", SECRET))

        assert (await post(mailgun("wrong-key"))).status_code == 403
        assert (await post(mailgun(key, timestamp=1_600_000_000))).status_code == 403  # stale
        good = mailgun(key, token="tok-2")
        assert (await post(good)).status_code == 200
        replay = await post(good)
        assert replay.status_code == 403 and "replay" in replay.json()["error"]


async def test_a_newline_in_subscribe_url_cannot_forge_a_log_line(client: httpx.AsyncClient,
                                                                  signer: SnsSigner) -> None:
    import io
    import logging

    from digest.runtime.logging import OneLineFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger("digest.email.inbound.webhooks").addHandler(handler)
    try:
        body = signer.sign({"Type": "SubscriptionConfirmation", "TopicArn": "arn:aws:sns:eu-west-1:1:t",
                            "Token": "t", "Message": "confirm",
                            "SubscribeURL": "https://sns.example/x\nCRITICAL paperbell: forged line"})
        response = await client.post("/webhooks/bounce", json=body, auth=("x", SECRET))
    finally:
        logging.getLogger("digest.email.inbound.webhooks").removeHandler(handler)
    assert response.status_code == 200
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and "\\nCRITICAL paperbell: forged line" in lines[0]
