"""SMTP security modes against a real aiosmtpd with a throwaway certificate: implicit TLS and STARTTLS,
both with a required login; a wrong password is a temporary failure, never a bounce."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from digest.email.digests import send_due_digests
from digest.email.send import SmtpTransport
from digest.settings import Settings, SmtpSecurity
from storage.db import Database
from tests.digest.email.conftest import NOW, add_papers, add_subscriber, match
from tests.digest.email.smtp_double import SmtpDouble

pytestmark = [
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI needed to make a test cert"),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


class Logins:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.seen.append(data.login.decode())
        return AuthResult(success=data.login == b"bell" and data.password == b"s3cret", handled=False)


@pytest.mark.parametrize("security", [SmtpSecurity.TLS, SmtpSecurity.STARTTLS])
@pytest.mark.parametrize("password", ["s3cret", "wrong"])
async def test_tls_modes_with_login(
    settings: Settings, db: Database, certificate: tuple[Path, Path], security: SmtpSecurity, password: str
) -> None:
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins = Logins()
    if security is SmtpSecurity.TLS:
        double = SmtpDouble(authenticator=logins, auth_required=True, auth_require_tls=False)
        await double.start(ssl_context=server_tls)
    else:
        double = SmtpDouble(authenticator=logins, auth_required=True, tls_context=server_tls, require_starttls=True)
        await double.start()
    try:
        configured = settings.model_copy(update={
            "smtp_host": "127.0.0.1", "smtp_port": double.port, "smtp_security": security,
            "smtp_username": "bell", "smtp_password": SecretStr(password), "smtp_max_retries": 0,
        })
        add_papers(db, [("Diffusion for video", "Video diffusion models.")])
        add_subscriber(db, configured, "ada@example.org", ["diffusion"])
        match(db, configured)
        sender = SmtpTransport(configured, tls_context=ssl.create_default_context(cafile=str(cert)))
        [result] = await send_due_digests(configured, db, NOW, transport=sender)
        await sender.close()
    finally:
        await double.stop()
    assert logins.seen and set(logins.seen) == {"bell"}  # the client may try several mechanisms
    if password == "s3cret":
        assert result.status == "sent" and len(double.recorder.received) == 1
    else:
        assert result.status == "failed" and "535" in (result.error or "")
        assert double.recorder.received == []
