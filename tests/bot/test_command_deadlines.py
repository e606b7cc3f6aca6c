"""Every interaction is answered within Discord's 3 s: slow summaries and heavy searches defer,
and searches run on their own bounded pool so other members' commands are not kept waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import insert

from bot.client import PaperBot
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper
from storage.types import utcnow
from tests.bot.conftest import World, add_papers, start_bot
from tests.bot.discord_double import DiscordDouble

SUMMARY = "A slow model wrote this summary."


@pytest.fixture
async def slow_llm() -> AsyncIterator[str]:
    """An OpenAI-compatible endpoint that takes 4 s per answer (an LLM summarizer on a busy day)."""

    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(4.0)  # the latency under test, not a wait for something
        return web.json_response({"choices": [{"index": 0, "message": {"role": "assistant", "content": SUMMARY}}]})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/v1"
    await runner.cleanup()


async def test_paper_with_a_4s_summarizer_answers_first_within_3s(
    bot_settings: Settings, db: Database, double: DiscordDouble, world: World, slow_llm: str
) -> None:
    settings = bot_settings.model_copy(update={"summarizer": "llm", "llm_base_url": slow_llm, "llm_model": "slow",
                                               "llm_api_key": SecretStr("sk-test"), "llm_timeout": 10.0})
    bot, runner = await start_bot(settings, db, double)
    try:
        add_papers(db)
        token = await double.run_command(world.guild, world.other_channel, world.member, "paper", id="2501.00001")
        answer = await double.answer_of(token, timeout=15)
        entry = double.interactions[token]
        assert entry["callback"]["type"] == 5 and entry["answered_after"] < 3.0
        assert "late" not in entry, "no response arrived after Discord's deadline"
        assert SUMMARY in answer["embeds"][0]["description"]
    finally:
        await bot.close()
        await asyncio.gather(runner, return_exceptions=True)


def seed_papers(db: Database, count: int) -> None:
    """`count` stored papers in one bulk insert; every one is a "study" (the broadest, heaviest query)."""
    now = utcnow()
    rows = [
        {"canonical_id": f"2502.{n:05d}", "title": f"{'Diffusion' if n % 10 == 0 else 'Graph'} study number {n}",
         "abstract": f"We study case {n} with {'diffusion models' if n % 10 == 0 else 'message passing'} again.",
         "authors": ["A. Author"], "categories": ["cs.LG"], "sources": ["arxiv:cs.LG"], "extras": {},
         "first_seen_at": now - timedelta(minutes=n % 600), "last_seen_at": now}
        for n in range(count)
    ]
    with db.session() as session:
        session.execute(insert(Paper), rows)


async def test_six_searches_on_20k_papers_do_not_delay_subscriptions(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    seed_papers(db, 20_000)
    searchers = [double.add_member(world.guild, f"reader{n}") for n in range(6)]
    searches = [await double.run_command(world.guild, world.other_channel, member, "search", query="study")
                for member in searchers]
    # the searches are under way (each has deferred) when another member lists their subscriptions
    await double.wait_for(lambda: all(double.interactions[t]["callback"] for t in searches))
    started = time.monotonic()
    token = await double.run_command(world.guild, world.other_channel, world.member, "subscriptions")
    listing = await double.answer_of(token, timeout=10)
    waited = time.monotonic() - started
    assert double.interactions[token]["answered_after"] < 3.0 and waited < 3.0, f"/subscriptions took {waited:.1f}s"
    assert "Your subscriptions (0)" in listing["embeds"][0]["title"]
    for search in searches:
        found = await double.answer_of(search, timeout=120)
        assert double.interactions[search]["answered_after"] < 3.0
        assert "Best 15 of 2000+ stored matches" in found["content"]  # bounded: the newest 2000
        assert "this query matches 100% of recent papers" in found["content"]  # every paper is a "study"
        assert len(found["embeds"]) == 5 and found["components"], "paged: 5 per page with buttons"
