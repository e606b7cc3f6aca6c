"""The real matrix-nio client against the homeserver double: events posted once per txnId, refusals sorted."""

from __future__ import annotations

import pytest

from digest.core.assembly import DigestItem
from digest.matrix.api import MatrixClient, MatrixError, classify, reason
from digest.matrix.render import instant_contents
from digest.services.channels import FailureKind
from tests.digest.matrix.double import MatrixDouble

ROOM = "!papers:double.test"


def _content() -> dict[str, object]:
    item = DigestItem(delivery_id=1, paper_id=7, subscription_id=1, query="q", title="A <b> & title",
                      abs_url="https://arxiv.org/abs/2601.00001")
    return instant_contents([item])[0][1]


async def test_an_event_is_posted_once_even_when_its_reply_is_lost(double: MatrixDouble, client: MatrixClient) -> None:
    double.add_room(ROOM)
    double.lose_replies = 2  # the first answer and that of aiohttp's own repeat of the PUT
    with pytest.raises(Exception) as lost:
        await client.send(ROOM, _content(), txn_id="pb-abc")
    assert classify(lost.value) == FailureKind.TRANSIENT and double.sends == 2
    event_id = await client.send(ROOM, _content(), txn_id="pb-abc")  # the retry: same transaction
    assert len(double.posted(ROOM)) == 1 and double.rooms[ROOM].events[0]["event_id"] == event_id
    assert double.posted(ROOM)[0]["format"] == "org.matrix.custom.html"


def _rate_limited(d: MatrixDouble) -> None:
    d.add_room(ROOM)
    d.forced_429.append(1500)


def _token_revoked(d: MatrixDouble) -> None:
    d.add_room(ROOM)
    d.access_token = "other"


@pytest.mark.parametrize(("setup", "kind", "said"), [
    (lambda d: d.add_room(ROOM, joined=False), FailureKind.UNREACHABLE, "not in room"),
    (lambda d: None, FailureKind.UNREACHABLE, "not in room"),
    (_rate_limited, FailureKind.TRANSIENT, "retry after 1.5"),
    (_token_revoked, FailureKind.TRANSIENT, "PAPERBELL_MATRIX_ACCESS_TOKEN"),
])
async def test_refusals_are_sorted_and_said_in_one_line(double: MatrixDouble, client: MatrixClient, setup: object,
                                                        kind: FailureKind, said: str) -> None:
    setup(double)  # type: ignore[operator]
    with pytest.raises(MatrixError) as caught:
        await client.send(ROOM, _content(), txn_id="pb-1")
    assert classify(caught.value) == kind and said in reason(caught.value) and "\n" not in reason(caught.value)


async def test_an_event_over_the_size_limit_is_refused_for_that_event_only(double: MatrixDouble,
                                                                         client: MatrixClient) -> None:
    double.add_room(ROOM)
    with pytest.raises(MatrixError) as caught:
        await client.send(ROOM, {"msgtype": "m.notice", "body": "x" * 70_000}, txn_id="pb-big")
    assert caught.value.errcode == "M_TOO_LARGE" and classify(caught.value) == FailureKind.REFUSED


async def test_the_bot_joins_rooms_it_is_invited_to_and_hears_commands(double: MatrixDouble,
                                                                      client: MatrixClient) -> None:
    assert await client.start() == double.user_id
    await client.sync_once(0)  # the first sync: history is not read as commands
    double.invite(ROOM)
    invites, _ = await client.sync_once(1000)
    assert invites == [ROOM]
    await client.join(ROOM)
    double.user_says(ROOM, "!paperbell list")
    _, said = await client.sync_once(1000)
    assert [(s.room_id, s.body) for s in said] == [(ROOM, "!paperbell list")]


async def test_the_bot_learns_its_own_id_when_it_was_not_set(double: MatrixDouble) -> None:
    bot = MatrixClient(double.url, "", double.access_token, timeout=5)
    try:
        assert await bot.start() == double.user_id and bot.client.user_id == double.user_id
    finally:
        await bot.close()


async def test_joining_without_an_invite_is_forbidden(double: MatrixDouble, client: MatrixClient) -> None:
    double.add_room(ROOM, joined=False)
    with pytest.raises(MatrixError) as caught:
        await client.join(ROOM)
    assert caught.value.errcode == "M_FORBIDDEN"
