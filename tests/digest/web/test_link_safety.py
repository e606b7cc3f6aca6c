"""Links in mail over real HTTP (uvicorn): only a person's POST changes state, CSRF, keys, ids, admin pauses."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from digest.runtime.web_app import web_app
from digest.services import subscribers as service
from digest.services.tokens import Purpose, make_token
from digest.settings import Settings, SettingsError, load_settings
from digest.web.reader_routes import COOKIE
from digest.web.security import csrf_token
from storage.db import Database
from storage.models import Subscriber
from tests.digest.web.serve import serve
from tests.digest.web.test_email_routes import ONE_CLICK, snapshot

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def base(settings: Settings, db: Database) -> AsyncIterator[str]:
    async with serve(web_app(settings, db)) as url:
        yield url


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False) as client:
        yield client


@pytest.fixture
def ada(settings: Settings, db: Database) -> Subscriber:
    subscriber = service.add_subscriber(db, settings, "email", "ada@example.org")
    service.add_subscription(db, settings, "ada@example.org", "diffusion")
    return subscriber


def url(settings: Settings, base: str, purpose: Purpose, subscriber: Subscriber) -> str:
    return f"{base}/{purpose.value}/{make_token(settings, purpose, subscriber.id or 0, subscriber.address)}"


def manage_csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("purpose", list(Purpose))
async def test_head_and_get_never_change_anything(
    settings: Settings, db: Database, ada: Subscriber, base: str, http: httpx.AsyncClient, purpose: Purpose
) -> None:
    before = snapshot(db)
    link = url(settings, base, purpose, ada)
    for _ in range(3):  # link scanners fetch more than once
        head = await http.head(link)
        get = await http.get(link)
        if purpose is Purpose.READER:  # shows a page whose button would sign in; a GET sets no cookie
            assert head.status_code == get.status_code == 200 and 'method="post"' in get.text
            assert "set-cookie" not in get.headers and COOKIE not in http.cookies
            continue
        assert head.status_code == 200 and head.content == b""
        assert get.status_code == 200 and 'method="post"' in get.text
    assert snapshot(db) == before


async def test_confirm_and_unsubscribe_act_only_on_post(
    settings: Settings, db: Database, ada: Subscriber, base: str, http: httpx.AsyncClient
) -> None:
    confirmed = await http.post(url(settings, base, Purpose.CONFIRM, ada))
    assert confirmed.status_code == 200 and service.get_subscriber(db, ada.id or 0).confirmed_at is not None
    unsubscribe = url(settings, base, Purpose.UNSUBSCRIBE, ada)
    for body in (b"", b"List-Unsubscribe=Other", b"x=1"):
        refused = await http.post(unsubscribe, content=body, headers=FORM)
        assert refused.status_code == 400 and not service.get_subscriber(db, ada.id or 0).paused
    # the page's own button sends the RFC 8058 body, as mail providers do
    page = await http.get(unsubscribe)
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    for _ in range(2):  # idempotent
        done = await http.post(unsubscribe, **ONE_CLICK)  # type: ignore[arg-type]
        assert done.status_code == 200 and service.get_subscriber(db, ada.id or 0).paused


@pytest.mark.parametrize("case", ["missing", "other_subscriber", "garbage", "foreign_origin", "foreign_referer"])
async def test_manage_forms_need_their_csrf_token_and_our_origin(
    settings: Settings, db: Database, ada: Subscriber, base: str, http: httpx.AsyncClient, case: str
) -> None:
    link = url(settings, base, Purpose.MANAGE, ada)
    good = manage_csrf(await http.get(link))
    token = {"missing": "", "other_subscriber": csrf_token(settings, f"manage:{(ada.id or 0) + 1}"),
             "garbage": "x" * 40}.get(case, good)
    headers = {"foreign_origin": {"origin": "https://evil.test"},
               "foreign_referer": {"referer": "https://evil.test/page"}}.get(case, {})
    before = snapshot(db)
    response = await http.post(link, data={"action": "pause_all", "csrf_token": token}, headers=headers)
    assert response.status_code == 403 and "Nothing changed" in response.text
    assert snapshot(db) == before
    # the same form from our own page (browsers send Origin: null under no-referrer) works
    ok = await http.post(link, data={"action": "pause_all", "csrf_token": good}, headers={"origin": "null"})
    assert ok.status_code == 303 and service.get_subscriber(db, ada.id or 0).paused


@pytest.mark.parametrize("subscription_id", ["9" * 31, str(2**31), str(2**63), "0", "99999"])
async def test_out_of_range_ids_are_404_never_500(
    settings: Settings, db: Database, ada: Subscriber, base: str, http: httpx.AsyncClient, subscription_id: str
) -> None:
    link = url(settings, base, Purpose.MANAGE, ada)
    key = manage_csrf(await http.get(link))
    response = await http.post(link, data={"action": "remove", "subscription_id": subscription_id, "csrf_token": key})
    assert response.status_code == 404
    # a validly signed token naming a subscriber id far out of range is a clear 400 page
    forged = make_token(settings, Purpose.MANAGE, 10**30, "ada@example.org")
    assert (await http.get(f"{base}/manage/{forged}")).status_code == 400


async def test_an_admin_pause_is_shown_and_cannot_be_lifted_by_the_subscriber(
    settings: Settings, db: Database, ada: Subscriber, base: str, http: httpx.AsyncClient
) -> None:
    service.set_subscriber_paused(db, ada.id or 0, True, "paused by an admin")
    link = url(settings, base, Purpose.MANAGE, ada)
    page = await http.get(link)
    assert "paused by an admin" in page.text and 'value="resume_all"' not in page.text
    key = manage_csrf(page)
    for action in ("resume_all", "pause_all"):
        response = await http.post(link, data={"action": action, "csrf_token": key})
        assert response.status_code in (303, 403)
    one_click = await http.post(url(settings, base, Purpose.UNSUBSCRIBE, ada), **ONE_CLICK)  # type: ignore[arg-type]
    assert one_click.status_code == 200
    row = service.get_subscriber(db, ada.id or 0)
    assert row.paused and row.pause_reason == "paused by an admin"


@pytest.mark.parametrize("key", ["", "short", "k" * 31])
def test_empty_or_short_keys_stop_start_up(
    key: str, settings: Settings, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValidationError, match="secret_key"):
        Settings(_env_file=None, secret_key=key)  # type: ignore[call-arg]
    monkeypatch.setenv("PAPERBELL_SECRET_KEY", key)
    with pytest.raises(SettingsError, match="PAPERBELL_SECRET_KEY"):
        load_settings(_env_file=None)
    # the generated key file, emptied or truncated, stops the web app naming the setting
    keyless = settings.model_copy(update={"secret_key": None, "data_dir": tmp_path / "keyless"})
    keyless.ensure_dirs()
    (keyless.data_dir / "secret_key").write_text(key)
    with pytest.raises(SettingsError, match="PAPERBELL_SECRET_KEY"):
        web_app(keyless, db)


async def test_a_token_forged_with_an_empty_key_is_refused(
    settings: Settings, db: Database, ada: Subscriber, base: str, http: httpx.AsyncClient
) -> None:
    weak = Settings.model_construct(**{**settings.model_dump(), "secret_key": None})
    object.__setattr__(weak, "signing_key", lambda: "")
    forged = make_token(weak, Purpose.UNSUBSCRIBE, ada.id or 0, ada.address)
    response = await http.post(f"{base}/unsubscribe/{forged}", **ONE_CLICK)  # type: ignore[arg-type]
    assert response.status_code == 400 and not service.get_subscriber(db, ada.id or 0).paused
