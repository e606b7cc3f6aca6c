"""A chat channel is its `ChatSpec` registered in the composition root, and nothing more.

A throwaway channel defined here (kind `pigeon_loft`, its own settings field, an admin command, a web
route, a listener, votes) is registered the way digest.runtime.channels registers the real ones, and
every shared part takes it: the settings class reads its variable, the subscriber validators accept its
kind and refuse a bad address, the shared posting loop delivers to it, status shows it with its secret
hidden, the vote gate accepts its votes, the CLI mounts its command, the web front serves its route.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from pydantic import Field
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from typer.testing import CliRunner

from digest.cli import chat_cmd
from digest.core.assembly import Digest, DigestItem
from digest.runtime import channels as root
from digest.runtime.web_app import web_app
from digest.services import channel_specs, feedback
from digest.services.channel_specs import AdminAdd, ChatKind, ChatRegistry, ChatSpec, own_settings
from digest.services.channels import Channel
from digest.services.chat_status import chat_facts
from digest.services.chat_targets import TargetShape
from digest.services.errors import InvalidInput
from digest.services.matching import run_match_cycle
from digest.services.posting import PostingChannel, Rendered
from digest.services.subscribers import add_subscriber, add_subscription
from digest.settings import Settings, load_settings, warn_unknown_variables
from storage.db import Database
from storage.models import Subscriber, SubscriberKind
from storage.types import utcnow
from tests.bot.conftest import add_papers


class PigeonSettings(Settings):
    pigeon_loft_url: str | None = Field(default=None, description="Where the pigeons fly from.")


class PigeonPlatform:
    kinds: tuple[str, ...] = ("pigeon_loft",)
    label = "Pigeon"
    sent: list[str] = []

    def render_instant(self, subscriber: Subscriber, item: DigestItem) -> Any:
        return item.title

    def render_digest(self, subscriber: Subscriber, digest: Digest) -> list[Rendered]:
        return [([i.delivery_id], i.title) for i in digest.items]

    async def send(self, subscriber: Subscriber, body: Any, *, key: str) -> str:
        self.sent.append(f"{subscriber.address}: {body}")
        return f"note-{len(self.sent)}"

    async def find_sent(self, subscriber: Subscriber, body: Any, *, key: str, since: Any) -> str | None:
        return None

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        return None


def _build(settings: Settings, db: Database) -> Channel:
    own_settings(settings, PigeonSettings)
    return PostingChannel(settings, db, PigeonPlatform(), "pigeon")


def _routes(settings: Settings, db: Database) -> Sequence[Any]:
    return [Route("/pigeon/coo", lambda request: PlainTextResponse("coo"))]


heard: list[str] = []


def _listener(settings: Settings, db: Database) -> channel_specs.Listen:
    async def listen(stop: asyncio.Event) -> None:
        heard.append("listening")

    return listen


PIGEON = ChatSpec(
    name="pigeon", label="Pigeon",
    kinds=(ChatKind("pigeon_loft", TargetShape(re.compile(r"[a-z]{3,12}/[0-9]{4}"), "a loft/ring (e.g. roof/1234)",
                                               "Pigeon"), needs=("pigeon_loft_url",),
                    redact=lambda address: address.split("/")[0] + "/****"),),
    settings=lambda: PigeonSettings, ready=lambda s: isinstance(s, PigeonSettings) and bool(s.pigeon_loft_url),
    build=_build, listener=_listener, routes=_routes, votes=True, cli_help="Pigeons.",
    admin=(AdminAdd("add", "pigeon_loft", "Send papers by pigeon.", "The loft and ring.", metavar="LOFT",
                    needs="pigeon_loft_url"),),
)


@pytest.fixture
def registry() -> Iterator[ChatRegistry]:
    """The root's channels and the pigeon, installed the way the root installs its registry."""
    registry = ChatRegistry((*root.CHAT_SPECS, PIGEON))
    before = channel_specs.installed()
    channel_specs.install(registry)
    yield registry
    channel_specs.install(before)


@pytest.fixture
def pigeon_settings(settings: Settings, registry: ChatRegistry) -> Settings:
    cls = registry.settings_class(Settings)
    return cls(**{**settings.model_dump(), "pigeon_loft_url": "https://loft.example.org"})


def test_its_settings_are_read_like_every_other(registry: ChatRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBELL_PIGEON_LOFT_URL", "https://loft.example.org")
    cls = registry.settings_class(Settings)
    read = load_settings(cls, _env_file=None)
    assert isinstance(read, PigeonSettings) and read.pigeon_loft_url == "https://loft.example.org"
    assert all(isinstance(read, spec.settings()) for spec in root.CHAT_SPECS)  # the real channels' fields too
    assert warn_unknown_variables({"PAPERBELL_PIGEON_LOFT_URL": "x"}, cls) == []
    assert "PAPERBELL_PIGEON_LOFT_URL" in read.redacted()
    with pytest.raises(TypeError, match="no PigeonSettings fields"):
        own_settings(Settings(_env_file=None), PigeonSettings)  # type: ignore[call-arg]


async def test_its_kind_is_validated_delivered_and_shown(pigeon_settings: Settings, db: Database,
                                                         registry: ChatRegistry) -> None:
    with pytest.raises(InvalidInput, match=r"^not a loft/ring \(e.g. roof/1234\): 'Roof!'$"):
        add_subscriber(db, pigeon_settings, "pigeon_loft", "Roof!")
    with pytest.raises(InvalidInput, match=r"expected one of email, discord_user, discord_channel, .*pigeon_loft"):
        add_subscriber(db, pigeon_settings, "crow_nest", "roof/1234")
    subscriber = add_subscriber(db, pigeon_settings, "pigeon_loft", " roof/1234 ")
    assert (subscriber.address, subscriber.schedule) == ("roof/1234", "instant")  # posts: instant by default
    add_subscription(db, pigeon_settings, subscriber.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, pigeon_settings)
    [channel] = root.build_channels(pigeon_settings, db, email=False, chat=registry)
    PigeonPlatform.sent.clear()
    report = await channel.deliver_due(utcnow())
    assert report.statuses == {"sent": 1} and len(PigeonPlatform.sent) == 2
    with db.session() as session:
        stored = session.get(Subscriber, subscriber.id)
        assert stored is not None
        stored.paused, stored.pause_reason = True, "Pigeon: the loft is gone"
        session.add(stored)
        session.commit()
    facts = chat_facts(db, registry)["pigeon_loft"]
    assert facts["label"] == "Pigeon" and facts["paused_list"][0]["address"] == "roof/****"
    assert registry.missing_settings(pigeon_settings)["pigeon_loft"] is None
    bare = pigeon_settings.model_copy(update={"pigeon_loft_url": None})
    assert registry.missing_settings(bare)["pigeon_loft"] == "PAPERBELL_PIGEON_LOFT_URL"
    assert root.build_channels(bare, db, email=False, chat=registry) == []  # not configured: not built
    assert feedback.record_vote(db, subscriber.id or 0, 1, 1, voter="p:1", channel="pigeon") == "recorded"


def test_the_vote_gate_knows_only_registered_sources(registry: ChatRegistry) -> None:
    assert "pigeon" in feedback.CHANNELS and "email" in feedback.CHANNELS and "crow" not in feedback.CHANNELS
    channel_specs.install(ChatRegistry(()))
    assert "pigeon" not in feedback.CHANNELS and "email" in feedback.CHANNELS


async def test_its_admin_command_route_and_listener_are_mounted(pigeon_settings: Settings, db: Database,
                                                          registry: ChatRegistry, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("version")(lambda: None)
    chat_cmd.register(app, registry)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(pigeon_settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", pigeon_settings.resolved_database_url())
    added = CliRunner().invoke(app, ["pigeon", "add", "roof/4321", "diffusion", "--json"])
    assert added.exit_code == 0, added.output
    assert '"next_step": "papers stay pending until PAPERBELL_PIGEON_LOFT_URL is set"' in added.stdout
    assert "LOFT" in CliRunner().invoke(app, ["pigeon", "add", "--help"]).stdout
    app_ = web_app(pigeon_settings, db, extra_routes=root.chat_routes(pigeon_settings, db, registry))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_), base_url="http://paperbell.test") as web:
        assert (await web.get("/pigeon/coo")).text == "coo"
    [listen] = [f for n, f in root.chat_listeners(pigeon_settings, db, registry) if n == "pigeon"]
    await listen(asyncio.Event())
    assert heard[-1] == "listening"


def test_the_root_registry_is_the_installed_one_and_kinds_stay_apart() -> None:
    assert channel_specs.installed() is root.CHAT  # importing the composition root installed it
    assert tuple(kind.value for kind in SubscriberKind) == channel_specs.BUILT_IN_KINDS
    with pytest.raises(ValueError, match="'email' is taken"):
        ChatRegistry([ChatSpec(name="mail", label="Mail", kinds=(ChatKind("email", PIGEON.kinds[0].shape),),
                               settings=lambda: Settings, ready=lambda s: False, build=_build)])
    with pytest.raises(ValueError, match="'pigeon' is taken"):
        ChatRegistry([PIGEON, PIGEON])
