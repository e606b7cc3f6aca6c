"""End to end through the homeserver double: subscribed from inside a room, a match, an instant post and a
digest within the event size limit, a room that refuses the bot paused with its reason, a lost reply retried
without a second event, commands and invites answered."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from digest.matrix.api import MatrixClient
from digest.matrix.channel import matrix_channel
from digest.matrix.commands import parse
from digest.matrix.listener import MatrixListener
from digest.matrix.render import CONTENT_MAX, content_bytes
from digest.services import feedback
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription, find_subscriber, get_subscriber, set_schedule
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Subscriber
from storage.types import utcnow
from tests.bot.conftest import add_papers
from tests.digest.matrix.double import MatrixDouble
from tests.digest.status_cli import status_lines

ROOM = "!lab:double.test"


def statuses(db: Database) -> list[str]:
    with db.session() as session:
        return [r.status for r in session.exec(select(Delivery).order_by(col(Delivery.id))).all()]


def matched_room(db: Database, settings: Settings) -> Subscriber:
    """The room subscribed (by the admin CLI's service) to a query two stored papers match."""
    subscriber = add_subscriber(db, settings, "matrix_room", ROOM)
    add_subscription(db, settings, subscriber.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, settings)
    return subscriber


async def listened(listener: MatrixListener, timeout_ms: int = 1000) -> int:
    return await listener.poll_once(timeout_ms=timeout_ms)


async def test_invited_subscribed_from_the_room_then_posts_and_a_digest(
        mx_settings: Settings, db: Database, double: MatrixDouble, client: MatrixClient) -> None:
    listener = MatrixListener(mx_settings, db, client)
    await listened(listener, 0)  # the first sync: nothing old is taken for a command
    double.invite(ROOM)
    assert await listened(listener) == 1 and double.user_id in double.rooms[ROOM].members
    double.rooms[ROOM].power["@ada:double.test"] = 100
    double.user_says(ROOM, "!paperbell subscribe diffusion")
    await listened(listener)
    assert "Subscribed (#" in double.posted(ROOM)[-1]["body"]
    subscriber = find_subscriber(db, "matrix_room", ROOM)
    assert subscriber is not None
    double.user_says(ROOM, "!paperbell schedule weekly 9")
    double.user_says(ROOM, "!paperbell schedule instant")
    await listened(listener)
    assert "weekly digest at 09:00" in double.posted(ROOM)[-2]["body"]
    assert "each paper as it is matched" in double.posted(ROOM)[-1]["body"]

    add_papers(db)
    run_match_cycle(db, mx_settings)
    channel = matrix_channel(mx_settings, db, client)
    report = await channel.deliver_due(utcnow())
    assert (report.messages, report.papers) == (2, 2)
    posts = double.posted(ROOM)[-2:]
    assert all(p["format"] == "org.matrix.custom.html" and p["msgtype"] == "m.notice" for p in posts)
    assert set(statuses(db)) == {DeliveryStatus.SENT}
    first, second = [e["event_id"] for e in double.rooms[ROOM].events if e["sender"] == double.user_id][-2:]
    double.user_reacts(ROOM, first, "👍️")
    double.user_reacts(ROOM, second, "🎉")  # not a vote
    double.user_reacts(ROOM, "$unknown", "👎")  # not ours
    await listened(listener)
    assert feedback.vote_counts(db, subscriber.id or 0).up == 1
    assert feedback.vote_counts(db, subscriber.id or 0).down == 0

    set_schedule(db, subscriber.id or 0, schedule="daily", hour=0)
    add_papers(db, [(f"Diffusion paper {n} " + "é" * 400, "diffusion " * 100) for n in range(14)], start=100)
    run_match_cycle(db, mx_settings)
    report = await channel.deliver_due(utcnow() + timedelta(days=1))
    assert report.papers == 14
    assert all(content_bytes(p) <= CONTENT_MAX for p in double.posted(ROOM))
    assert "paperbell daily digest" in double.posted(ROOM)[-report.messages]["body"]
    assert double.refusals == [] and double.rate_limited == 0


async def test_a_room_that_refuses_the_bot_is_paused_with_the_reason(
        mx_settings: Settings, db: Database, double: MatrixDouble, client: MatrixClient,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    double.add_room(ROOM, joined=False)  # the bot was kicked
    subscriber = matched_room(db, mx_settings)
    report = await matrix_channel(mx_settings, db, client).deliver_due(utcnow())
    assert report.statuses == {"paused": 1}
    paused = get_subscriber(db, subscriber.id or 0)
    assert paused.paused and paused.pause_reason == (
        "Matrix: User @paperbell:double.test not in room !lab:double.test (invite the bot to the room again, "
        "or give it power to post)")
    assert set(statuses(db)) == {DeliveryStatus.PENDING}
    shown = status_lines(mx_settings, monkeypatch, tmp_path, PAPERBELL_MATRIX_HOMESERVER=double.url,
                         PAPERBELL_MATRIX_ACCESS_TOKEN=double.access_token)
    assert "Matrix (matrix_room): posting; 1 target(s), 1 paused" in shown and "not in room" in shown


async def test_a_lost_reply_posts_nothing_twice(mx_settings: Settings, db: Database, double: MatrixDouble,
                                                client: MatrixClient) -> None:
    double.add_room(ROOM)
    matched_room(db, mx_settings)
    channel = matrix_channel(mx_settings, db, client)
    double.lose_replies = 2  # the answer and that of aiohttp's own repeat of the PUT
    first = await channel.deliver_due(utcnow())
    assert first.statuses == {"retry_later": 1} and len(double.posted(ROOM)) == 1
    second = await channel.deliver_due(utcnow() + timedelta(hours=1))
    assert (second.messages, second.papers) == (2, 2)
    assert len(double.posted(ROOM)) == 2  # the lost one answered by its transaction id, not posted again
    assert set(statuses(db)) == {DeliveryStatus.SENT}


async def test_an_event_over_the_limit_fails_alone(mx_settings: Settings, db: Database, double: MatrixDouble,
                                                  client: MatrixClient) -> None:
    double.add_room(ROOM)
    matched_room(db, mx_settings)
    from tests.digest.matrix.double import server

    server.ENVELOPE_BYTES, saved = 65_000, server.ENVELOPE_BYTES  # a server that counts a huge envelope
    try:
        report = await matrix_channel(mx_settings, db, client).deliver_due(utcnow())
    finally:
        server.ENVELOPE_BYTES = saved
    assert report.messages == 0 and set(statuses(db)) == {DeliveryStatus.FAILED}
    assert any("M_TOO_LARGE" in line for line in report.failures)


@pytest.mark.parametrize(("body", "parsed"), [
    ("!paperbell subscribe a b", ("subscribe", "a b")), ("!paperbell", ("help", "")), ("!PaperBell LIST", ("list", "")),
    ("paperbell list", None), ("!paperbellx list", None),
])
def test_only_paperbell_commands_are_read(body: str, parsed: tuple[str, str] | None) -> None:
    assert parse(body) == parsed


@pytest.mark.parametrize(("body", "answer"), [
    ("!paperbell subscribe diffusion", "moderators"), ("!paperbell unsubscribe 1", "moderators"),
    ("!paperbell list", "No subscriptions"), ("!paperbell search", "Add a query"), ("!paperbell what", "subscribe"),
    ("!paperbell search (((", "⚠️"), ("!paperbell schedule daily 8", "moderators"),
])
async def test_members_get_one_line_answers_and_change_nothing(
        mx_settings: Settings, db: Database, double: MatrixDouble, client: MatrixClient, body: str,
        answer: str) -> None:
    listener = MatrixListener(mx_settings, db, client)
    double.add_room(ROOM)
    await listened(listener, 0)
    double.user_says(ROOM, body, sender="@eve:double.test")
    await listened(listener)
    assert answer in double.posted(ROOM)[-1]["body"]
    assert find_subscriber(db, "matrix_room", ROOM) is None


async def test_hostile_commands_are_refused_in_one_line_and_markup_stays_text(
        mx_settings: Settings, db: Database, double: MatrixDouble, client: MatrixClient) -> None:
    listener = MatrixListener(mx_settings, db, client)
    double.add_room(ROOM).power["@ada:double.test"] = 50
    await listened(listener, 0)
    double.user_says(ROOM, "!paperbell subscribe " + "x " * 3000)
    double.user_says(ROOM, "!paperbell subscribe <img src=x>&")
    await listened(listener)
    too_long, markup = double.posted(ROOM)[-2:]
    assert too_long["body"].startswith("⚠️") and "\n" not in too_long["body"]
    assert "&lt;img src=x&gt;&amp;" in markup["formatted_body"] and "<img" not in markup["formatted_body"]
    assert "<img src=x>&" in markup["body"]
