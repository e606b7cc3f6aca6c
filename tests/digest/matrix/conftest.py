"""The homeserver double and a bot client on it, for the Matrix channel's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from digest.matrix.api import MatrixClient
from digest.settings import Settings
from tests.digest.matrix.double import MatrixDouble


@pytest.fixture
async def double() -> AsyncIterator[MatrixDouble]:
    server = await MatrixDouble(rate=200.0, burst=50).start()  # an exempted bot: a fast bucket for tests
    yield server
    await server.stop()


@pytest.fixture
async def client(double: MatrixDouble) -> AsyncIterator[MatrixClient]:
    bot = MatrixClient(double.url, double.user_id, double.access_token, timeout=5)
    yield bot
    await bot.close()


@pytest.fixture
def mx_settings(settings: Settings, double: MatrixDouble) -> Settings:
    return settings.model_copy(update={"matrix_homeserver": double.url, "matrix_user_id": double.user_id,
                                       "matrix_access_token": SecretStr(double.access_token), "matrix_rate": 150.0,
                                       "matrix_burst": 40})
