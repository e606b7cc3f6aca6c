"""A mail server that cannot be used is one line `error: …` naming the setting, through the real entry point.

`paperbell mail test` and `paperbell run --once` against a closed port, a name that does not resolve,
a plain server asked for STARTTLS or TLS, and a real aiosmtpd server that refuses the login.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.digest.cli.test_guardrails import one_error_line, paperbell
from tests.digest.runtime.procs import SmtpSink, free_port, service_env


class RefusingLogin(SmtpSink):
    """A real SMTP server that offers AUTH on a plain connection and refuses every login (535)."""

    def __init__(self) -> None:
        super().__init__()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, auth_require_tls=False,
                                     authenticator=lambda *_: AuthResult(success=False, handled=False))


@pytest.fixture(scope="module")
def plain() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
def refusing() -> Iterator[SmtpSink]:
    with RefusingLogin() as sink:
        yield sink


def smtp_env(tmp_path: Path, host: str, port: int, security: str, **extra: str) -> dict[str, str]:
    env = service_env(f"sqlite:///{tmp_path}/pb.db", tmp_path / "data", PAPERBELL_SMTP_HOST=host,
                      PAPERBELL_SMTP_PORT=str(port), PAPERBELL_SMTP_SECURITY=security,
                      PAPERBELL_SMTP_TIMEOUT="5", PAPERBELL_SMTP_MAX_RETRIES="0")
    env.update(extra)
    return env


# (case, host, port, security, extra settings, words the line must hold)
CASES: list[tuple[str, str, Any, str, dict[str, str], list[str]]] = [
    ("closed port", "127.0.0.1", "closed", "none", {}, ["refused the connection", "PAPERBELL_SMTP_PORT"]),
    ("unknown host", "smtp.invalid", 25, "none", {}, ["does not resolve", "PAPERBELL_SMTP_HOST"]),
    ("starttls on a plain server", "127.0.0.1", "plain", "starttls", {},
     ["does not offer STARTTLS", "PAPERBELL_SMTP_SECURITY=none"]),
    ("tls on a plain server", "127.0.0.1", "plain", "tls", {}, ["TLS with", "PAPERBELL_SMTP_SECURITY"]),
    ("login refused", "127.0.0.1", "refusing", "none",
     {"PAPERBELL_SMTP_USERNAME": "ada", "PAPERBELL_SMTP_PASSWORD": "s3cret-Pw"},
     ["refused the login", "535", "PAPERBELL_SMTP_USERNAME and PAPERBELL_SMTP_PASSWORD"]),
]


@pytest.mark.parametrize(("case", "host", "port", "security", "extra", "words"), CASES, ids=[c[0] for c in CASES])
def test_mail_test_names_the_setting(tmp_path: Path, plain: SmtpSink, refusing: SmtpSink, case: str, host: str,
                                     port: Any, security: str, extra: dict[str, str], words: list[str]) -> None:
    real_port = {"closed": free_port(), "plain": plain.port, "refusing": refusing.port}.get(port, port)
    line = one_error_line(paperbell(smtp_env(tmp_path, host, real_port, security, **extra), "mail", "test"))
    for word in words:
        assert word in line, line
    assert "s3cret-Pw" not in line  # the password is never printed


def test_run_once_stops_before_the_cycle_with_one_line(tmp_path: Path) -> None:
    line = one_error_line(paperbell(smtp_env(tmp_path, "127.0.0.1", free_port(), "none"), "run", "--once"))
    assert "refused the connection" in line and "PAPERBELL_SMTP_HOST and PAPERBELL_SMTP_PORT" in line


def test_mail_test_sends_a_test_message(tmp_path: Path, plain: SmtpSink) -> None:
    env = smtp_env(tmp_path, "127.0.0.1", plain.port, "none")
    done = paperbell(env, "mail", "test", "--to", "ops@example.org")
    assert done.returncode == 0, done.stderr
    assert "test message sent to ops@example.org" in done.stdout
    assert any(m.to == "ops@example.org" and "can send mail" in m.text for m in plain.snapshot())
