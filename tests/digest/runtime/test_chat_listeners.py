"""The composition root builds the chat channels and runs their ears when configured; they stop promptly."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from digest.runtime.channels import build_channels, chat_listeners
from digest.settings import Settings
from storage.db import Database
from tests.digest.telegram.double import TelegramDouble


async def test_nothing_runs_without_settings(settings: Settings, db: Database) -> None:
    assert chat_listeners(settings, db) == []
    assert [c.name for c in build_channels(settings, db)] == ["email"]


async def test_the_telegram_ear_answers_and_stops_at_once(settings: Settings, db: Database) -> None:
    double = await TelegramDouble().start()
    try:
        configured = settings.model_copy(update={
            "telegram_token": SecretStr(double.token), "telegram_api_url": double.base_url,
            "matrix_homeserver": "http://127.0.0.1:9", "matrix_user_id": "@b:x", "matrix_access_token": SecretStr("t")})
        assert [c.name for c in build_channels(configured, db)] == ["email", "telegram", "matrix"]
        (name, listen), (other, _) = chat_listeners(configured, db)
        assert (name, other) == ("telegram", "matrix")
        double.add_chat(5)
        stop = asyncio.Event()
        task = asyncio.create_task(listen(stop))
        double.user_says(5, "/list")
        await asyncio.wait_for(double.delivered.wait(), 5)  # the answer, through the real long poll
        stop.set()  # a long poll in progress does not hold the stop up
        await asyncio.wait_for(task, 2)
        assert "No subscriptions" in double.texts(5)[0]
    finally:
        await double.stop()


def test_a_missing_client_library_is_said_in_one_line(settings: Settings, db: Database,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nio" else real(name, *a))
    configured = settings.model_copy(update={"matrix_homeserver": "http://127.0.0.1:9", "matrix_user_id": "@b:x",
                                             "matrix_access_token": SecretStr("t")})
    assert [c.name for c in build_channels(configured, db)] == ["email"]
    assert chat_listeners(configured, db) == []
    assert "Matrix is configured but matrix-nio is not installed: pip install 'paperbell[matrix]'" in caplog.text


def test_chat_channels_registered_when_configured(settings: Settings, db: Database) -> None:
    from digest.services.channels import Channel

    configured = settings.model_copy(update={"ntfy_url": "http://127.0.0.1:9", "slack_enabled": True})
    channels = build_channels(configured, db, email=False)
    assert [c.name for c in channels] == ["ntfy", "slack"]
    assert all(isinstance(c, Channel) for c in channels)
    assert build_channels(settings, db, email=False) == []  # nothing configured: nothing built
