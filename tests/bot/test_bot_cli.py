"""`paperbell bot sync` registers the commands through the real client against the Discord double."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from digest.cli.main import app
from digest.settings import Settings
from tests.bot.discord_double import DiscordDouble


@pytest.mark.parametrize("scope", ["global", "guild"])
async def test_bot_sync_registers_commands(
    double: DiscordDouble, settings: Settings, monkeypatch: pytest.MonkeyPatch, scope: str
) -> None:
    guild = double.add_guild()
    for name, value in {"DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.resolved_database_url(),
                        "DISCORD_TOKEN": double.token, "DISCORD_API_BASE": double.api_base}.items():
        monkeypatch.setenv(f"PAPERBELL_{name}", value)
    args = ["bot", "sync"] + (["--guild", guild] if scope == "guild" else [])
    # The CLI runs its own event loop, so it runs in a thread while the double serves on this one.
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    assert "registered 13 commands" in result.output
    key = guild if scope == "guild" else None
    assert sorted(c["name"] for c in double.commands[key]) == [
        "admin", "digest", "follow", "forget-votes", "help", "more-like", "paper", "pause", "resume", "search",
        "subscribe", "subscriptions", "unsubscribe",
    ]
    assert list(double.commands) == [key]


def test_bot_sync_without_token_says_so(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.delenv("PAPERBELL_DISCORD_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["bot", "sync"])
    assert result.exit_code == 1
    assert "PAPERBELL_DISCORD_TOKEN is not set" in result.output
