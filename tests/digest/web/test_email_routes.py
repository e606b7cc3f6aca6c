"""The web app behind the links in mail, over HTTP: confirm, one-click unsubscribe, manage, bad tokens."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import select

from digest.runtime.web_app import web_app
from digest.services import subscribers as service
from digest.services.tokens import Purpose, make_token
from digest.settings import Settings
from storage.db import Database
from storage.models import Subscriber, Subscription
from tests.digest.web.serve import serve

ONE_CLICK = {"content": b"List-Unsubscribe=One-Click", "headers": {"content-type": "application/x-www-form-urlencoded"}}


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app(settings, db))
    async with httpx.AsyncClient(transport=transport, base_url="http://paperbell.test") as http:
        yield http


@pytest.fixture
def person(settings: Settings, db: Database) -> Subscriber:
    subscriber = service.add_subscriber(db, settings, "email", "ada@example.org")
    service.add_subscription(db, settings, "ada@example.org", "diffusion")
    service.add_subscription(db, settings, "ada@example.org", '"sparse autoencoder"')
    return subscriber


def token(settings: Settings, purpose: Purpose, subscriber: Subscriber) -> str:
    assert subscriber.id is not None
    return make_token(settings, purpose, subscriber.id, subscriber.address)


def snapshot(db: Database) -> list[dict[str, object]]:
    with db.session() as session:
        return [r.model_dump() for r in session.exec(select(Subscriber)).all()] + [
            r.model_dump() for r in session.exec(select(Subscription)).all()
        ]


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, "the manage page carries a CSRF token in every form"
    return found.group(1)


def reload(db: Database, subscriber: Subscriber) -> Subscriber:
    return service.get_subscriber(db, subscriber.id or 0)


async def test_confirm_get_shows_a_page_and_post_confirms(
    client: httpx.AsyncClient, settings: Settings, db: Database, person: Subscriber
) -> None:
    url = f"/confirm/{token(settings, Purpose.CONFIRM, person)}"
    page = await client.get(url)
    assert page.status_code == 200 and "Confirm subscription" in page.text and 'method="post"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert reload(db, person).confirmed_at is None  # a GET (e.g. a link scanner) changes nothing
    done = await client.post(url)
    assert done.status_code == 200 and "Subscription confirmed" in done.text
    confirmed_at = reload(db, person).confirmed_at
    assert confirmed_at is not None
    assert (await client.post(url)).status_code == 200
    assert reload(db, person).confirmed_at == confirmed_at


async def test_one_click_unsubscribe_is_idempotent(
    client: httpx.AsyncClient, settings: Settings, db: Database, person: Subscriber
) -> None:
    url = f"/unsubscribe/{token(settings, Purpose.UNSUBSCRIBE, person)}"
    page = await client.get(url)
    assert page.status_code == 200 and "Unsubscribe" in page.text and not reload(db, person).paused
    for _ in range(2):
        response = await client.post(url, **ONE_CLICK)  # type: ignore[arg-type]
        assert response.status_code == 200 and "no more mail" in response.text
        assert reload(db, person).paused
    assert reload(db, person).pause_reason == "unsubscribed by the recipient (one-click link)"


async def test_manage_lists_pauses_and_removes(
    client: httpx.AsyncClient, settings: Settings, db: Database, person: Subscriber
) -> None:
    url = f"/manage/{token(settings, Purpose.MANAGE, person)}"
    page = await client.get(url)
    assert page.status_code == 200 and "diffusion" in page.text and "&#34;sparse autoencoder&#34;" in page.text
    first, second = service.list_subscriptions(db, subscriber_id=person.id)
    key = csrf(page)

    paused = await client.post(url, data={"action": "pause", "subscription_id": str(first.id), "csrf_token": key})
    assert paused.status_code == 303
    assert "Query paused." in (await client.get(paused.headers["location"])).text
    assert service.get_subscription(db, first.id or 0).paused

    await client.post(url, data={"action": "resume", "subscription_id": str(first.id), "csrf_token": key})
    assert not service.get_subscription(db, first.id or 0).paused
    await client.post(url, data={"action": "remove", "subscription_id": str(second.id), "csrf_token": key})
    assert [s.id for s in service.list_subscriptions(db, subscriber_id=person.id)] == [first.id]

    await client.post(url, data={"action": "pause_all", "csrf_token": key})
    assert reload(db, person).paused
    await client.post(url, data={"action": "resume_all", "csrf_token": key})
    assert not reload(db, person).paused


async def test_manage_cannot_touch_someone_elses_subscription(
    client: httpx.AsyncClient, settings: Settings, db: Database, person: Subscriber
) -> None:
    other = service.add_subscriber(db, settings, "email", "eve@example.org", confirmed=True)
    theirs = service.add_subscription(db, settings, other.id or 0, "quantum")
    before = snapshot(db)
    url = f"/manage/{token(settings, Purpose.MANAGE, person)}"
    key = csrf(await client.get(url))
    for data, status in (({"action": "remove", "subscription_id": str(theirs.id)}, 404),
                         ({"action": "pause", "subscription_id": "999999"}, 404),
                         ({"action": "explode"}, 400), ({"action": "pause", "subscription_id": "x"}, 400)):
        response = await client.post(url, data={**data, "csrf_token": key})
        assert response.status_code == status and "Nothing changed" in response.text
    assert snapshot(db) == before


@pytest.mark.parametrize("route", ["confirm", "unsubscribe", "manage"])
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("kind", ["tampered", "garbage", "wrong_purpose", "other_key", "address_changed"])
async def test_bad_tokens_get_a_clear_page_and_change_nothing(
    client: httpx.AsyncClient, settings: Settings, db: Database, person: Subscriber,
    route: str, method: str, kind: str,
) -> None:
    purpose = Purpose(route)
    good = token(settings, purpose, person)
    bad = {
        "tampered": good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        "garbage": "not-a-token",
        "wrong_purpose": token(settings, Purpose.MANAGE if purpose is not Purpose.MANAGE else Purpose.CONFIRM, person),
        "other_key": make_token(settings.model_copy(update={"secret_key": SecretStr("another-key-entirely-123")}),
                                purpose, person.id or 0, person.address),
        "address_changed": make_token(settings, purpose, person.id or 0, "someone-else@example.org"),
    }[kind]
    before = snapshot(db)
    form = {"action": "pause_all"} if method == "POST" else None
    response = await client.request(method, f"/{route}/{bad}", data=form)
    assert response.status_code == 400
    assert "Link not valid" in response.text and "Nothing was changed" in response.text
    assert "Traceback" not in response.text
    assert snapshot(db) == before


async def test_expired_confirmation_link(
    client: httpx.AsyncClient, settings: Settings, db: Database, person: Subscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_long_ago = time.time() - (settings.confirm_token_max_age_hours + 1) * 3600
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: signed_long_ago)
        old = token(settings, Purpose.CONFIRM, person)
    response = await client.post(f"/confirm/{old}")
    assert response.status_code == 400 and "expired" in response.text
    assert reload(db, person).confirmed_at is None


async def test_unknown_pages_and_methods_are_plain_pages(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nope")
    assert missing.status_code == 404 and "Page not found" in missing.text
    wrong = await client.put("/unsubscribe/x")
    assert wrong.status_code == 405 and "Traceback" not in wrong.text


async def test_real_uvicorn_one_click_unsubscribe(settings: Settings, db: Database, person: Subscriber) -> None:
    async with serve(web_app(settings, db)) as base, httpx.AsyncClient(base_url=base) as http:
        url = f"/unsubscribe/{token(settings, Purpose.UNSUBSCRIBE, person)}"
        response = await http.post(url, **ONE_CLICK)  # type: ignore[arg-type]
        assert response.status_code == 200
        assert (await http.get("/confirm/garbage")).status_code == 400
    assert reload(db, person).paused
