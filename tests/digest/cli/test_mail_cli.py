"""`paperbell mail check` with a throwaway key, and `paperbell suppression list|add|remove` as the admin override."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from digest.cli.main import app
from digest.services import subscribers as service
from digest.settings import Settings
from storage.db import Database


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("PAPERBELL_MAIL_FROM", "Paper digests <digest@example.org>")
    return CliRunner()


def test_mail_check_prints_records_and_verifies_locally(cli: CliRunner, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "dkim.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    monkeypatch.setenv("PAPERBELL_DKIM_SELECTOR", "pb2026")
    monkeypatch.setenv("PAPERBELL_DKIM_PRIVATE_KEY_PATH", str(path))
    monkeypatch.setenv("PAPERBELL_BOUNCE_DOMAIN", "bounces.example.org")
    result = cli.invoke(app, ["mail", "check"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert 'pb2026._domainkey.example.org. IN TXT "v=DKIM1; k=rsa; p=MIIB' in out
    assert 'bounces.example.org. IN TXT "v=spf1' in out and "_dmarc.example.org. IN TXT" in out
    assert "local DKIM verification: pass" in out and "list-unsubscribe-post" in out
    path.write_text("junk")
    refused = cli.invoke(app, ["mail", "check"])
    assert refused.exit_code == 2 and "PAPERBELL_DKIM_PRIVATE_KEY_PATH" in refused.stderr


def test_suppression_commands_are_the_only_override(cli: CliRunner, settings: Settings, db: Database) -> None:
    assert cli.invoke(app, ["subscribers", "add", "ada@example.org", "--confirmed"]).exit_code == 0
    added = cli.invoke(app, ["suppression", "add", "Ada@example.org", "--note", "asked by phone"])
    assert added.exit_code == 0 and "suppressed ada@example.org" in added.stdout
    assert service.get_subscriber(db, "ada@example.org").paused
    resumed = cli.invoke(app, ["subscribers", "resume", "ada@example.org"])
    assert resumed.exit_code == 1 and "paperbell suppression remove ada@example.org" in resumed.stderr
    listed = cli.invoke(app, ["suppression", "list", "--json"])
    assert '"address": "ada@example.org"' in listed.stdout and '"reason": "manual"' in listed.stdout
    assert cli.invoke(app, ["suppression", "remove", "ada@example.org"]).exit_code == 0
    assert cli.invoke(app, ["suppression", "remove", "ada@example.org"]).exit_code == 1
    assert cli.invoke(app, ["subscribers", "resume", "ada@example.org"]).exit_code == 0
