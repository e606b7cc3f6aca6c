"""/follow author: through the Discord double: autocomplete lists people, the pick becomes a subscription."""

from __future__ import annotations

from bot.client import PaperBot
from digest.services.subscribers import list_subscriptions
from storage.db import Database
from storage.models import Paper
from storage.types import utcnow
from tests.bot.conftest import World
from tests.bot.discord_double import DiscordDouble

EPHEMERAL = 64


def add_authors(db: Database) -> None:
    with db.session() as session:
        for n, names in enumerate([["Yoshua Bengio", "Aaron Courville"], ["Samy Bengio", "Oriol Vinyals"],
                                   ["Y. Bengio", "Aaron Courville"], ["A" * 90 + " Bengio", "Ada Lovelace"]], 1):
            session.add(Paper(canonical_id=f"2501.{n:05d}", title="Deep learning", authors=names,
                              first_seen_at=utcnow()))


async def test_follow_autocompletes_people_and_saves_the_pick(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    add_authors(db)
    # the double refuses choices over Discord's limits (25 choices, 100 characters): none here
    token = await double.autocomplete(world.guild, world.other_channel, world.member, "follow", "author",
                                      author="bengio")
    choices = (await double.answer_of(token))["choices"]
    assert [c["value"] for c in choices] == ["Yoshua Bengio", "A" * 90 + " Bengio", "Samy Bengio"]
    assert all(len(c["name"]) <= 100 for c in choices)  # the 90-letter name's description is clipped
    assert choices[0]["name"].startswith("Yoshua Bengio · 2 papers · also Y. Bengio · with Aaron Courville")
    token = await double.autocomplete(world.guild, world.other_channel, world.member, "follow", "author",
                                      author="b\x00")
    assert (await double.answer_of(token))["choices"] == []

    token = await double.run_command(world.guild, world.other_channel, world.member, "follow",
                                     author=choices[0]["value"])
    reply = await double.reply_to(token)
    assert reply["flags"] & EPHEMERAL and "Saved subscription" in reply["content"]
    [subscription] = list_subscriptions(db)
    assert subscription.query == 'author:"Yoshua Bengio"'
    assert "matched **2** stored papers" in reply["content"]  # "Yoshua Bengio" and "Y. Bengio", not Samy


async def test_follow_refuses_a_poison_name_in_one_line(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    for name, reason in [("Bengio", "no given name"), ("Ada\x07 Lovelace", "control"), ('A "B" C', 'a " or a ;')]:
        token = await double.run_command(world.guild, world.other_channel, world.member, "follow", author=name)
        reply = await double.answer_of(token)
        assert reply["flags"] & EPHEMERAL and reason in reply["content"] and "\n" not in reply["content"]
    assert list_subscriptions(db) == []
