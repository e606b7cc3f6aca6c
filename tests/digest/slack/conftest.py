"""The Slack channel's tests share one local Slack (the double, with one channel the app is in) and settings
pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from digest.settings import Settings
from tests.digest.slack.slack_double import SlackDouble

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C0PAPERS01"


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    server = SlackDouble(burst=50, per_second=100.0)
    server.channels[CHANNEL] = []
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def slack_settings(settings: Settings, double: SlackDouble) -> Settings:
    return settings.model_copy(update={
        "slack_api_url": f"{double.url}/api/", "slack_webhook_url": f"{double.url}/services/",
        "slack_bot_token": SecretStr(double.token), "slack_signing_secret": SecretStr(SECRET), "slack_rate": 90.0})
