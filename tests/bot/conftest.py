"""Fixtures for the bot's end-to-end tests: a running Discord double, a small server, the real bot.

The bot is the production `create_bot` with discord.py unmodified, pointed at the double through
`discord_api_base`; commands are registered to the double's guild as a development guild.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.client import PaperBot, create_bot
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper
from storage.types import utcnow
from tests.bot.discord_double import DiscordDouble


@dataclass
class World:
    guild: str
    papers_channel: str
    other_channel: str
    member: str
    other_member: str
    admin: str


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    server = await DiscordDouble().start()
    yield server
    await server.close()


@pytest.fixture
def world(double: DiscordDouble) -> World:
    guild = double.add_guild("Reading group")
    return World(
        guild=guild,
        papers_channel=double.add_channel(guild, "papers"),
        other_channel=double.add_channel(guild, "general"),
        member=double.add_member(guild, "ada"),
        other_member=double.add_member(guild, "grace"),
        admin=double.add_member(guild, "mod", manage_guild=True),
    )


@pytest.fixture
def bot_settings(settings: Settings, double: DiscordDouble, world: World) -> Settings:
    return settings.model_copy(update={"discord_api_base": double.api_base, "discord_dev_guild_id": int(world.guild)})


async def start_bot(settings: Settings, db: Database, double: DiscordDouble) -> tuple[PaperBot, asyncio.Task[None]]:
    bot = create_bot(settings, db, guild_ready_timeout=0.01)
    runner = asyncio.create_task(bot.start(double.token))
    ready = asyncio.create_task(bot.wait_until_ready())
    await asyncio.wait({runner, ready}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
    if runner.done():
        runner.result()  # start-up failed: show why
    assert ready.done(), "the bot never became ready"
    return bot, runner


@pytest.fixture
async def bot(bot_settings: Settings, db: Database, double: DiscordDouble) -> AsyncIterator[PaperBot]:
    running, runner = await start_bot(bot_settings, db, double)
    yield running
    await running.close()
    await asyncio.gather(runner, return_exceptions=True)


PAPERS = [
    ("Diffusion models for protein design", "We train a diffusion model that designs proteins. It works well."),
    ("Sparse attention for long documents", "A sparse attention scheme scales transformers to long inputs."),
    ("Latent diffusion with fewer steps", "Distillation cuts the sampling steps of latent diffusion models."),
    ("Graph neural networks for molecules", "Message passing networks predict molecular properties."),
]


def add_papers(db: Database, rows: list[tuple[str, str]] = PAPERS, start: int = 1) -> list[int]:
    """Store papers as ingestion would (first seen just now), returning their ids."""
    now = utcnow()
    ids = []
    with db.session() as session:
        for offset, (title, abstract) in enumerate(rows):
            number = start + offset
            paper = Paper(
                canonical_id=f"2501.{number:05d}", title=title, abstract=abstract, authors=["A. Author", "B. Author"],
                categories=["cs.LG"], primary_category="cs.LG", abs_url=f"https://arxiv.org/abs/2501.{number:05d}",
                pdf_url=f"https://arxiv.org/pdf/2501.{number:05d}", published_at=now - timedelta(hours=2),
                first_seen_at=now - timedelta(minutes=5), sources=["arxiv:cs.LG"], extras={"upvotes": number},
            )
            session.add(paper)
            session.flush()
            ids.append(int(paper.id or 0))
    return ids
