"""DKIM signing verified by dkimpy, list headers, VERP envelope sender, and the suppression list at send time."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from digest.email.digests import send_due_digests
from digest.email.dkim import load_key, verify_locally
from digest.email.headers import read_verp
from digest.email.send import SmtpTransport
from digest.services import subscribers as service
from digest.services.errors import Conflict
from digest.services.suppression import SuppressionReason, lift, suppress
from digest.settings import Settings, SettingsError, load_settings
from storage.db import Database
from tests.digest.email.conftest import NOW, add_papers, add_subscriber, match
from tests.digest.email.smtp_double import SmtpRecorder


def write_key(path: Path, bits: int = 2048) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_key(tmp_path_factory.mktemp("dkim") / "dkim.pem")


@pytest.fixture
def signed_settings(mail_settings: Settings, key_file: Path) -> Settings:
    # validated like start-up does (model_copy would skip the key check)
    return Settings(**{**mail_settings.model_dump(), "dkim_selector": "pb2026", "dkim_private_key_path": key_file,
                       "bounce_domain": "bounces.paperbell.test"})


def transport(settings: Settings) -> SmtpTransport:
    return SmtpTransport(settings, retry_base_delay=0.001)


async def test_digest_is_signed_over_the_list_headers_and_verifies(
    signed_settings: Settings, db: Database, recorder: SmtpRecorder
) -> None:
    add_papers(db, [("Sparse autoencoders", "We train sparse autoencoders.")])
    ada = add_subscriber(db, signed_settings, "ada@example.org", ["sparse"])
    assert match(db, signed_settings) == 1
    [result] = await send_due_digests(signed_settings, db, NOW, transport=transport(signed_settings))
    assert result.status == "sent"
    got = recorder.received[0]
    key = load_key(signed_settings)
    assert key is not None
    ok, signed = verify_locally(got.raw, key)
    assert ok
    assert {"from", "list-unsubscribe", "list-unsubscribe-post", "list-id", "feedback-id"} <= set(signed)
    message = got.message
    assert "d=paperbell.test" in message["DKIM-Signature"] and "s=pb2026" in message["DKIM-Signature"]
    assert message["List-Id"] == "paperbell digests <paperbell.paperbell.test>"
    assert message["Precedence"] == "bulk"
    assert message["Feedback-ID"] == "digest:paperbell:digest:paperbell.test"
    assert "mailto:unsubscribe@bounces.paperbell.test?subject=unsubscribe%20" in message["List-Unsubscribe"]
    # VERP: the envelope sender names the subscriber, signed; the visible From is unchanged
    claim = read_verp(got.mail_from)
    assert got.mail_from.endswith("@bounces.paperbell.test") and claim is not None
    assert claim.subscriber_id == ada.id and claim.matches(signed_settings, "ada@example.org")
    assert not claim.matches(signed_settings, "eve@example.org")
    assert message["From"] == "paperbell <digest@paperbell.test>"
    # a changed byte in a signed header breaks the signature
    assert not verify_locally(got.raw.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                                              b"List-Unsubscribe-Post: List-Unsubscribe=One-Clack"), key)[0]


async def test_confirmation_has_no_bulk_precedence(signed_settings: Settings, db: Database,
                                                   recorder: SmtpRecorder) -> None:
    add_subscriber(db, signed_settings, "new@example.org", ["x"], confirmed=False)
    [result] = await send_due_digests(signed_settings, db, NOW, transport=transport(signed_settings))
    assert result.status == "confirmation_sent"
    message = recorder.received[0].message
    assert message["Precedence"] is None and message["List-Id"] is not None
    assert message["Feedback-ID"].startswith("confirmation:")
    key = load_key(signed_settings)
    assert key is not None and verify_locally(recorder.received[0].raw, key)[0]


@pytest.mark.parametrize(
    ("content", "env", "message"),
    [
        (None, {"dkim_selector": "s1"}, r"PAPERBELL_DKIM_PRIVATE_KEY_PATH: .*no private key path"),
        (b"not a key", {"dkim_selector": "s1"}, r"PAPERBELL_DKIM_PRIVATE_KEY_PATH: .*not a PEM private key"),
        ("ec", {"dkim_selector": "s1"}, r"PAPERBELL_DKIM_PRIVATE_KEY_PATH: .*not an RSA key"),
        ("missing", {"dkim_selector": "s1"}, r"PAPERBELL_DKIM_PRIVATE_KEY_PATH: .*cannot read"),
        ("good", {}, r"PAPERBELL_DKIM_PRIVATE_KEY_PATH: .*needs PAPERBELL_DKIM_SELECTOR"),
        ("good", {"dkim_selector": "bad selector!"}, r"PAPERBELL_DKIM_SELECTOR: .*not a DNS name"),
    ],
)
def test_an_unusable_key_stops_start_up_naming_the_setting(
    tmp_path: Path, key_file: Path, content: object, env: dict[str, str], message: str
) -> None:
    path = tmp_path / "key.pem"
    if content == "good":
        path = key_file
    elif content == "ec":
        path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    elif isinstance(content, bytes):
        path.write_bytes(content)
    overrides: dict[str, object] = {"_env_file": None, "data_dir": tmp_path, **env}
    if content is not None:
        overrides["dkim_private_key_path"] = path
    with pytest.raises(SettingsError, match=message):
        load_settings(**overrides)


async def test_a_suppressed_address_is_never_mailed_or_re_added_without_the_override(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder
) -> None:
    add_papers(db, [("Sparse autoencoders", "We train sparse autoencoders.")])
    add_subscriber(db, mail_settings, "gone@example.org", ["sparse"])
    add_subscriber(db, mail_settings, "ada@example.org", ["sparse"])
    match(db, mail_settings)
    suppress(db, "Gone@Example.org", SuppressionReason.HARD_BOUNCE, source="test", detail="5.1.1")
    results = await send_due_digests(mail_settings, db, NOW, transport=transport(mail_settings))
    assert {r.address: r.status for r in results} == {"ada@example.org": "sent"}  # paused: not even looked at
    assert [r.rcpt_tos for r in recorder.received] == [["ada@example.org"]]
    # no path resumes or re-adds it
    with pytest.raises(Conflict, match=r"suppressed .*paperbell suppression remove"):
        service.set_subscriber_paused(db, "gone@example.org", False)
    service.remove_subscriber(db, "gone@example.org")
    with pytest.raises(Conflict, match="suppressed"):
        service.add_subscriber(db, mail_settings, "email", "GONE@example.org", confirmed=True)
    # forcing the row un-paused still does not mail it: the sender checks the list itself
    sneaky = service.add_subscriber(db, mail_settings, "email", "other@example.org", confirmed=True)
    with db.session() as session:
        from storage.models import Subscriber

        row = session.get(Subscriber, sneaky.id)
        assert row is not None
        row.address = "gone@example.org"
        session.add(row)
    results = await send_due_digests(mail_settings, db, NOW, transport=transport(mail_settings), force=True)
    assert {r.address: r.status for r in results}["gone@example.org"] == "suppressed"
    assert all("gone@example.org" not in r.rcpt_tos for r in recorder.received)
    # the admin's override
    lift(db, "gone@example.org")
    service.set_subscriber_paused(db, "gone@example.org", False)
