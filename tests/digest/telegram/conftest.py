"""The Telegram double and a paced client on it, for the channel's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from digest.settings import Settings
from digest.telegram.api import TelegramClient
from digest.telegram.pacing import pacer
from tests.digest.telegram.double import TelegramDouble

SCALE = 0.005  # every pacing window of the double 200x shorter (tests stay fast) …
PACER_SCALE = 0.015  # … and the pacer's 3x longer than that: room for a loaded machine's scheduling delays


@pytest.fixture
async def double() -> AsyncIterator[TelegramDouble]:
    server = await TelegramDouble(scale=SCALE).start()
    yield server
    await server.stop()


@pytest.fixture
async def client(double: TelegramDouble) -> AsyncIterator[TelegramClient]:
    bot = TelegramClient(double.token, double.base_url, pacer(PACER_SCALE), timeout=5)
    await bot.start()
    yield bot
    await bot.close()


@pytest.fixture
def tg_settings(settings: Settings, double: TelegramDouble) -> Settings:
    return settings.model_copy(update={"telegram_token": SecretStr(double.token), "telegram_api_url": double.base_url})
