"""The double refuses what Discord refuses: body limits, permissions, the global limit, nonce
window, command payloads, the 3-second deadline and follow-ups before the response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.client import PaperBot
from tests.bot.conftest import World
from tests.bot.discord_double import DiscordDouble
from tests.bot.discord_double.payloads import EMBED_LINKS, SEND_MESSAGES, VIEW_CHANNEL
from tests.bot.discord_double.rules import GlobalLimit


@pytest.fixture
async def http(double: DiscordDouble) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=double.api_base + "/",
                                     headers={"Authorization": f"Bot {double.token}"}) as session:
        yield session


async def post(http: aiohttp.ClientSession, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    async with http.post(path.lstrip("/"), json=body) as response:
        return response.status, await response.json()


BIG = {"title": "t", "description": "x" * 4000}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"content": "x" * 2001}, 50035),
        ({"embeds": [{"title": "t"}] * 11}, 50035),
        ({"embeds": [{"title": "x" * 257}]}, 50035),
        ({"embeds": [{"fields": [{"name": "", "value": "v"}]}]}, 50035),
        ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]}, 50035),
        ({"embeds": [BIG, BIG]}, 50035),  # 8002 characters over the message
        ({"content": ""}, 50006),
    ],
)
async def test_message_bodies_over_a_limit_are_refused(
    double: DiscordDouble, world: World, http: aiohttp.ClientSession, body: dict[str, Any], code: int
) -> None:
    status, answer = await post(http, f"/channels/{world.papers_channel}/messages", body)
    assert (status, answer["code"]) == (400, code)
    assert double.messages[world.papers_channel] == []


async def test_permission_overwrites_decide_what_the_bot_may_post(
    double: DiscordDouble, world: World, http: aiohttp.ClientSession
) -> None:
    path = f"/channels/{world.papers_channel}/messages"
    embed = {"embeds": [{"title": "t"}]}
    assert (await post(http, path, embed))[0] == 200
    double.set_overwrite(world.papers_channel, world.guild, deny=EMBED_LINKS)
    assert (await post(http, path, embed))[1]["code"] == 50013
    assert (await post(http, path, {"content": "plain text is fine"}))[0] == 200
    double.set_overwrite(world.papers_channel, world.guild, deny=SEND_MESSAGES)
    assert (await post(http, path, {"content": "x"}))[1]["code"] == 50013
    double.set_overwrite(world.papers_channel, world.guild, deny=VIEW_CHANNEL)
    assert (await post(http, path, {"content": "x"}))[1]["code"] == 50001


async def test_nonces_deduplicate_only_within_the_window(
    double: DiscordDouble, world: World, http: aiohttp.ClientSession
) -> None:
    path = f"/channels/{world.papers_channel}/messages"
    body = {"content": "once", "nonce": "n-1", "enforce_nonce": True}
    first, again = (await post(http, path, body))[1], (await post(http, path, body))[1]
    assert first["id"] == again["id"] and len(double.messages[world.papers_channel]) == 1
    double.nonces.window = 0.0  # "a few minutes" have passed
    later = (await post(http, path, body))[1]
    assert later["id"] != first["id"] and len(double.messages[world.papers_channel]) == 2


async def test_the_global_limit_answers_a_global_429(double: DiscordDouble, world: World,
                                                      http: aiohttp.ClientSession) -> None:
    double.global_limit = GlobalLimit(per_second=3)
    statuses = []
    for _ in range(5):
        async with http.get(f"channels/{world.papers_channel}") as response:
            statuses.append(response.status)
            if response.status == 429:
                body = await response.json()
                assert body["global"] is True and response.headers["X-RateLimit-Global"] == "true"
    assert statuses == [200, 200, 200, 429, 429] and double.global_429s == 2


@pytest.mark.parametrize(
    "command",
    [
        {"name": "Search", "description": "upper case", "type": 1},
        {"name": "search", "description": "", "type": 1},
        {"name": "search", "description": "d" * 101, "type": 1},
        {"name": "x" * 33, "description": "too long a name", "type": 1},
        {"name": "s", "description": "d", "type": 1, "options": [
            {"name": "a", "description": "optional", "type": 3},
            {"name": "b", "description": "required after optional", "type": 3, "required": True}]},
        {"name": "s", "description": "d", "type": 1, "options": [
            {"name": "a", "description": "", "type": 3}]},
    ],
)
async def test_invalid_command_payloads_are_refused(double: DiscordDouble, world: World,
                                                    http: aiohttp.ClientSession, command: dict[str, Any]) -> None:
    async with http.put(f"applications/{double.application_id}/guilds/{world.guild}/commands",
                        json=[command]) as response:
        assert response.status == 400 and (await response.json())["code"] == 50035


async def test_the_bots_commands_declare_contexts_and_real_descriptions(bot: PaperBot, double: DiscordDouble,
                                                                        world: World) -> None:
    registered = double.commands[world.guild]
    assert registered, "the bot's payloads passed the double's validation"
    for command in registered:
        assert command["contexts"] and command["integration_types"] == [0], command["name"]
        options = [o for c in [command] for o in c.get("options", [])]
        options += [s for o in options if o["type"] == 1 for s in o.get("options", [])]
        assert all(o["description"] != "…" for o in options), command["name"]
    [admin] = [c for c in registered if c["name"] == "admin"]
    assert admin["contexts"] == [0], "/admin only in servers"
    autocompleted = {(c["name"], o["name"]) for c in registered for o in c.get("options", []) if o.get("autocomplete")}
    assert {("paper", "id"), ("unsubscribe", "subscription")} <= autocompleted


async def test_a_response_after_3s_is_unknown_and_followups_need_a_response(
    bot: PaperBot, double: DiscordDouble, world: World, http: aiohttp.ClientSession
) -> None:
    double.interaction_deadline = 0.0  # as if the bot had taken longer than 3 s
    token = await double.run_command(world.guild, world.other_channel, world.member, "help")
    await double.wait_for(lambda: double.interactions[token].get("late"))
    assert double.interactions[token]["callback"] is None
    assert [r.status for r in double.requests if r.path.endswith(f"/{token}/callback")][:1] == [404]
    async with http.post(f"webhooks/{double.application_id}/{token}", json={"content": "too early"}) as response:
        assert response.status == 404 and (await response.json())["code"] == 10015
