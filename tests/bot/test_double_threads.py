"""The double's forums, threads, webhooks and role mentions refuse what Discord refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.bot.conftest import World
from tests.bot.discord_double import DiscordDouble
from tests.bot.discord_double.payloads import MANAGE_WEBHOOKS, MENTION_EVERYONE, SEND_MESSAGES_IN_THREADS


@pytest.fixture
async def http(double: DiscordDouble) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=double.api_base + "/",
                                     headers={"Authorization": f"Bot {double.token}"}) as session:
        yield session


async def post(http: aiohttp.ClientSession, path: str, body: Any, **params: str) -> tuple[int, Any]:
    async with http.post(path.lstrip("/"), json=body, params=params) as response:
        return response.status, (await response.json() if response.status != 204 else None)


async def test_forum_posts_are_threads_with_a_starter_message_and_known_tags(
    double: DiscordDouble, world: World, http: aiohttp.ClientSession
) -> None:
    forum = double.add_forum(world.guild, "papers-forum", ("cs.LG", "cs.CL"), require_tag=True)
    tag = double.guilds[world.guild].channels[forum]["available_tags"][0]["id"]
    status, answer = await post(http, f"/channels/{forum}/messages", {"content": "hi"})
    assert (status, answer["code"]) == (400, 40058)
    cases = [({"name": "", "message": {"content": "x"}, "applied_tags": [tag]}, 50035),
             ({"name": "t", "message": {"content": "x"}, "applied_tags": ["123"]}, 50035),
             ({"name": "t", "message": {"content": "x" * 2001}, "applied_tags": [tag]}, 50035),
             ({"name": "t", "message": {"content": "x"}}, 40067)]
    for body, code in cases:
        status, answer = await post(http, f"/channels/{forum}/threads", body)
        assert (status, answer["code"]) == (400, code), body
    status, thread = await post(http, f"/channels/{forum}/threads",
                                {"name": "A paper", "message": {"content": "x"}, "applied_tags": [tag]})
    assert status == 200 and thread["type"] == 11 and thread["parent_id"] == forum
    assert thread["message"]["id"] == thread["id"] and thread["applied_tags"] == [tag]
    double.delete_channel(forum)
    status, answer = await post(http, f"/channels/{forum}/threads", {"name": "t", "message": {"content": "x"}})
    assert (status, answer["code"]) == (404, 10003)


async def test_threads_from_messages_need_their_own_permissions(
    double: DiscordDouble, world: World, http: aiohttp.ClientSession
) -> None:
    _, message = await post(http, f"/channels/{world.papers_channel}/messages", {"content": "digest"})
    status, thread = await post(http, f"/channels/{world.papers_channel}/messages/{message['id']}/threads",
                                {"name": "Discuss"})
    assert status == 200 and thread["id"] == message["id"]
    status, answer = await post(http, f"/channels/{world.papers_channel}/messages/{message['id']}/threads",
                                {"name": "Again"})
    assert (status, answer["code"]) == (400, 160004)
    double.set_overwrite(world.papers_channel, world.guild, deny=SEND_MESSAGES_IN_THREADS)
    status, answer = await post(http, f"/channels/{thread['id']}/messages", {"content": "in thread"})
    assert (status, answer["code"]) == (403, 50013)
    double.set_overwrite(world.papers_channel, world.guild)
    assert (await post(http, f"/channels/{thread['id']}/messages", {"content": "in thread"}))[0] == 200


async def test_webhooks_need_manage_webhooks_and_carry_their_name(
    double: DiscordDouble, world: World, http: aiohttp.ClientSession
) -> None:
    status, answer = await post(http, f"/channels/{world.papers_channel}/webhooks", {"name": "cs.CL bot"})
    assert (status, answer["code"]) == (403, 50013)
    double.set_overwrite(world.papers_channel, world.guild, allow=MANAGE_WEBHOOKS)
    status, answer = await post(http, f"/channels/{world.papers_channel}/webhooks", {"name": "discord bot"})
    assert (status, answer["code"]) == (400, 50035)
    _, hook = await post(http, f"/channels/{world.papers_channel}/webhooks", {"name": "cs.CL bot"})
    path = f"/webhooks/{hook['id']}/{hook['token']}"
    assert (await post(http, path, {"content": "x"}))[0] == 204
    status, message = await post(http, path, {"content": "x", "username": "NLP papers"}, wait="true")
    assert status == 200 and message["author"]["username"] == "NLP papers" and message["webhook_id"] == hook["id"]
    double.delete_webhook(hook["id"])
    status, answer = await post(http, path, {"content": "x"}, wait="true")
    assert (status, answer["code"]) == (404, 10015)


@pytest.mark.parametrize(
    ("allowed", "mentionable", "mention_everyone", "pinged"),
    [
        ({"roles": ["R"]}, True, False, True),
        ({"roles": ["R"]}, False, False, False),  # not mentionable, no Mention Everyone: shown, no ping
        ({"roles": ["R"]}, False, True, True),
        ({"parse": []}, True, False, False),
        (None, True, False, True),
    ],
)
async def test_a_role_pings_only_when_allowed_and_mentionable(
    double: DiscordDouble, world: World, http: aiohttp.ClientSession, allowed: dict[str, Any] | None,
    mentionable: bool, mention_everyone: bool, pinged: bool
) -> None:
    role = double.add_role(world.guild, "nlp-readers")
    double.set_role(world.guild, role, mentionable=mentionable)
    if mention_everyone:
        double.set_overwrite(world.papers_channel, world.guild, allow=MENTION_EVERYONE)
    body: dict[str, Any] = {"content": f"<@&{role}> new papers"}
    if allowed is not None:
        body["allowed_mentions"] = {k: [role if r == "R" else r for r in v] for k, v in allowed.items()}
    status, message = await post(http, f"/channels/{world.papers_channel}/messages", body)
    assert status == 200 and message["mention_roles"] == ([role] if pinged else [])
    bad = {"content": "x", "allowed_mentions": {"parse": ["roles"], "roles": [role]}}
    status, answer = await post(http, f"/channels/{world.papers_channel}/messages", bad)
    assert (status, answer["code"]) == (400, 50035)
