"""Nothing on the public port names a subscriber: /healthz is liveness only; details need the operator token."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from digest.runtime.metrics import Metrics
from digest.runtime.ops_routes import ops_routes
from digest.runtime.web_app import web_app
from digest.services import subscribers as service
from digest.settings import Settings
from storage.db import Database

TOKEN = "operator-token-0123456789"


def _client(settings: Settings, db: Database) -> httpx.AsyncClient:
    app = web_app(settings, db, extra_routes=ops_routes(settings, db, Metrics(db)))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://paperbell.test")


@pytest.fixture
def paused(db: Database, settings: Settings) -> str:
    address = "victim+secret@example.org"
    service.add_subscriber(db, settings, "email", address, confirmed=True)
    service.set_subscriber_paused(db, address, True, "unsubscribed (one-click)")
    return address


async def test_healthz_names_nobody_and_says_only_liveness(db: Database, settings: Settings, paused: str) -> None:
    configured = settings.model_copy(update={"ops_token": None})
    async with _client(configured, db) as client:
        health = await client.get("/healthz")
        assert set(health.json()) == {"status", "database", "scheduler"}
        assert "@" not in health.text and "victim" not in health.text
        metrics = await client.get("/metrics")
        assert "@" not in metrics.text
        off = await client.get("/ops/status")
        assert off.status_code == 404 and "PAPERBELL_OPS_TOKEN" in off.text


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
async def test_operator_details_refused_without_the_token(db: Database, settings: Settings, paused: str,
                                                          header: str | None) -> None:
    configured = settings.model_copy(update={"ops_token": SecretStr(TOKEN)})
    async with _client(configured, db) as client:
        refused = await client.get("/ops/status", headers={"Authorization": header} if header else {})
        assert refused.status_code == 401 and "@" not in refused.text


async def test_operator_gets_the_details_with_the_token(db: Database, settings: Settings, paused: str) -> None:
    configured = settings.model_copy(update={"ops_token": SecretStr(TOKEN)})
    async with _client(configured, db) as client:
        details = await client.get("/ops/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert details.json()["email"]["paused_list"][0]["address"] == paused
