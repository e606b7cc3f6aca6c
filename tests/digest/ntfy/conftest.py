"""The ntfy channel's tests share one local ntfy server (the double) and settings pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from digest.settings import Settings
from tests.digest.ntfy.ntfy_double import NtfyDouble


@pytest.fixture
async def double() -> AsyncIterator[NtfyDouble]:
    server = NtfyDouble(burst=60, replenish=0.01)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def ntfy_settings(settings: Settings, double: NtfyDouble) -> Settings:
    return settings.model_copy(update={"ntfy_url": double.url, "ntfy_rate": 90.0, "ntfy_burst": 50})
