"""The grown-up manage page: edit a query, the schedule, pause/resume/delete, send now; ownership and CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from digest.services import subscribers as service
from digest.services.tokens import Purpose, make_token
from digest.settings import Settings
from storage.db import Database
from storage.models import Subscriber
from tests.digest.email.smtp_double import SmtpDouble
from tests.digest.web.front import ORIGIN, asgi_client


@pytest.fixture
async def client(web_settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for http in asgi_client(web_settings, db):
        yield http


def person(db: Database, settings: Settings, address: str, *queries: str) -> tuple[Subscriber, str]:
    subscriber = service.add_subscriber(db, settings, "email", address, confirmed=True)
    for query in queries:
        service.add_subscription(db, settings, address, query)
    assert subscriber.id is not None
    return subscriber, f"/manage/{make_token(settings, Purpose.MANAGE, subscriber.id, address)}/settings"


async def act(client: httpx.AsyncClient, url: str, **form: str) -> httpx.Response:
    return await client.post(url, data=form, headers=ORIGIN)


async def test_edit_query_schedule_pause_and_delete(
    client: httpx.AsyncClient, db: Database, web_settings: Settings
) -> None:
    ada, url = person(db, web_settings, "ada@example.org", "diffusion", "ti:video")
    first, second = service.list_subscriptions(db, subscriber_id=ada.id)
    page = await client.get(url)
    assert page.status_code == 200 and "diffusion</textarea>" in page.text and "/feeds/subscription/" in page.text
    done = await act(client, url, action="query", subscription_id=str(first.id), query='"sparse autoencoder"')
    assert done.status_code == 303 and done.headers["location"].endswith("?done=query")
    assert service.get_subscription(db, first.id or 0).query == '"sparse autoencoder"'
    await act(client, url, action="schedule", schedule="weekly", hour="18", weekday="4", timezone="Asia/Tokyo")
    again = service.get_subscriber(db, ada.id or 0)
    assert (again.schedule, again.digest_hour, again.digest_weekday, again.timezone) == ("weekly", 18, 4, "Asia/Tokyo")
    await act(client, url, action="pause", subscription_id=str(second.id))
    assert service.get_subscription(db, second.id or 0).paused
    await act(client, url, action="resume", subscription_id=str(second.id))
    assert not service.get_subscription(db, second.id or 0).paused
    await act(client, url, action="remove", subscription_id=str(second.id))
    assert [s.id for s in service.list_subscriptions(db, subscriber_id=ada.id)] == [first.id]


@pytest.mark.parametrize(
    ("form", "line"),
    [
        ({"action": "query", "query": '"unclosed'}, "invalid query"),
        ({"action": "query", "query": "ti:video"}, "already have"),
        ({"action": "schedule", "schedule": "daily", "hour": "99", "timezone": "UTC"}, "hour"),
        ({"action": "schedule", "schedule": "daily", "hour": "8", "timezone": "Nowhere/Else"}, "time zone"),
        ({"action": "explode"}, "unknown action"),
        ({"action": "pause", "subscription_id": "99999999999999999999"}, "no subscription"),
        ({"action": "pause", "subscription_id": "²"}, "no subscription"),
        ({"action": "schedule", "schedule": "daily", "hour": "²", "timezone": "UTC"}, "hour"),
    ],
)
async def test_bad_edits_change_nothing(
    client: httpx.AsyncClient, db: Database, web_settings: Settings, form: dict[str, str], line: str
) -> None:
    ada, url = person(db, web_settings, "ada@example.org", "diffusion", "ti:video")
    first = service.list_subscriptions(db, subscriber_id=ada.id)[0]
    before = [s.model_dump() for s in service.list_subscriptions(db)], service.get_subscriber(db, ada.id or 0)
    answer = await act(client, url, **{"subscription_id": str(first.id), **form})
    assert answer.status_code == 400 and line in answer.text
    assert ([s.model_dump() for s in service.list_subscriptions(db)], service.get_subscriber(db, ada.id or 0)) \
        == before


async def test_one_token_cannot_touch_another_subscribers_query(
    client: httpx.AsyncClient, db: Database, web_settings: Settings
) -> None:
    _, ada_url = person(db, web_settings, "ada@example.org", "diffusion")
    bob, _ = person(db, web_settings, "bob@example.org", "quantum")
    [bobs] = service.list_subscriptions(db, subscriber_id=bob.id)
    for action in ("query", "pause", "remove"):
        answer = await act(client, ada_url, action=action, subscription_id=str(bobs.id), query="stolen")
        assert answer.status_code == 400
    assert service.get_subscription(db, bobs.id or 0).query == "quantum"


async def test_bad_tokens_and_cross_site_posts(client: httpx.AsyncClient, db: Database, web_settings: Settings) -> None:
    ada, url = person(db, web_settings, "ada@example.org", "diffusion")
    assert (await client.get("/manage/garbage/settings")).status_code == 400
    unsubscribe = make_token(web_settings, Purpose.UNSUBSCRIBE, ada.id or 0, ada.address)
    assert (await client.get(f"/manage/{unsubscribe}/settings")).status_code == 400
    cross = await client.post(url, data={"action": "schedule", "schedule": "weekly", "hour": "1", "timezone": "UTC"},
                              headers={"origin": "https://evil.example"})
    assert cross.status_code == 403 and service.get_subscriber(db, ada.id or 0).schedule == "daily"


async def test_send_now_delivers_and_is_rate_limited(
    client: httpx.AsyncClient, db: Database, web_settings: Settings, smtp: SmtpDouble
) -> None:
    from tests.digest.email.conftest import add_papers, match

    _, url = person(db, web_settings, "ada@example.org", "diffusion")
    add_papers(db, [("Video diffusion", "A diffusion model.")])
    match(db, web_settings)
    sent = await act(client, url, action="send_now")
    assert sent.status_code == 303 and sent.headers["location"].endswith("done=sent")
    assert len(smtp.recorder.to("ada@example.org")) == 1
    again = await act(client, url, action="send_now")
    assert again.status_code == 400 and "recently" in again.text and len(smtp.recorder.received) == 1


async def test_the_page_says_what_the_ranking_learned_and_forgets_it(
    client: httpx.AsyncClient, db: Database, web_settings: Settings
) -> None:
    from digest.services import feedback
    from tests.digest.services.test_learned import stored_sample

    ada, url = person(db, web_settings, "ada@example.org", "cat:cs.LG")
    assert ada.id is not None
    fresh = await client.get(url)
    assert "no votes yet" in fresh.text and "Forget my votes" not in fresh.text
    ids, robotics = stored_sample(db)
    for paper in sorted(robotics)[:3]:
        feedback.record_vote(db, ada.id, paper, 1)
    for paper in [i for i in ids if i not in robotics][:6]:
        feedback.record_vote(db, ada.id, paper, -1)
    page = await client.get(url)
    assert "3 👍, 6 👎" in page.text and "<li>cross-listed to cs.RO</li>" in page.text
    done = await act(client, url, action="reset_learning")
    assert done.status_code == 303 and done.headers["location"].endswith("?done=reset")
    assert feedback.vote_counts(db, ada.id) == feedback.VoteCounts(0, 0)
    after = await client.get(done.headers["location"])
    assert "Your votes are forgotten" in after.text and "cross-listed" not in after.text


async def test_a_refused_edit_shows_the_form_again_with_the_message_at_the_field(
    client: httpx.AsyncClient, db: Database, web_settings: Settings
) -> None:
    ada, url = person(db, web_settings, "ada@example.org", "diffusion")
    [first] = service.list_subscriptions(db, subscriber_id=ada.id)
    answer = await act(client, url, action="query", subscription_id=str(first.id), query='"unclosed')
    assert answer.status_code == 400 and "Edit your paperbell digest" in answer.text  # the form, not a dead end
    assert f'aria-describedby="q{first.id}-error"' in answer.text and f'id="q{first.id}-error"' in answer.text
    assert "&#34;unclosed</textarea>" in answer.text or "&quot;unclosed</textarea>" in answer.text  # input kept
    zone = await act(client, url, action="schedule", schedule="daily", hour="8", timezone="Nowhere/Else")
    assert zone.status_code == 400 and 'id="timezone-error"' in zone.text and 'value="Nowhere/Else"' in zone.text


async def post_pairs(client: httpx.AsyncClient, url: str, pairs: list[tuple[str, str]]) -> httpx.Response:
    """A form with a repeated field (checkboxes)."""
    from urllib.parse import urlencode

    headers = {**ORIGIN, "content-type": "application/x-www-form-urlencoded"}
    return await client.post(url, content=urlencode(pairs), headers=headers)


async def test_update_checkboxes_and_query_health(
    client: httpx.AsyncClient, db: Database, web_settings: Settings
) -> None:
    from digest.services.lifecycle import update_kinds
    from digest.services.query_health import record_near_misses
    from storage.types import utcnow

    ada, url = person(db, web_settings, "ada@example.org", "ti:entanglement ti:witness")
    [mine] = service.list_subscriptions(db, subscriber_id=ada.id)
    with db.session() as session:
        record_near_misses(session, {mine.id or 0: [(1, "Entanglement swapping", "ti:witness")]}, utcnow())
    page = await client.get(url)
    assert "Matched 0 papers in the last 30 days" in page.text
    assert "Entanglement swapping — failed only <code>ti:witness</code>" in page.text
    assert 'name="kind" value="new-version"' in page.text and " checked" not in page.text
    done = await post_pairs(client, url, [("action", "updates"), ("subscription_id", str(mine.id)),
                                          ("kind", "new-version"), ("kind", "code")])
    assert done.status_code == 303 and done.headers["location"].endswith("?done=updates")
    with db.session() as session:
        assert update_kinds(session, [mine.id or 0]) == {mine.id: {"new-version", "code"}}
    refused = await post_pairs(client, url, [("action", "updates"), ("subscription_id", str(mine.id)),
                                             ("kind", "<script>")])
    assert refused.status_code == 400 and "unknown update kind" in refused.text and "<script>" not in refused.text
    other, _ = person(db, web_settings, "bob@example.org", "diffusion")
    [theirs] = service.list_subscriptions(db, subscriber_id=other.id)
    foreign = await act(client, url, action="updates", subscription_id=str(theirs.id), kind="code")
    assert foreign.status_code == 400 and "no subscription" in foreign.text
