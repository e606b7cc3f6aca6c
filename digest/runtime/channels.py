"""Which delivery channels a process runs: the one place the runtime names each channel.

`CHAT_SPECS` is the one list of chat channels (each package's `spec.SPEC`, digest.services.channel_specs);
a new chat channel is one package and one entry here. From it come `CHAT` (the registry handed to
status, the CLI and the web front, and installed for the subscriber and vote checks), `settings_class()`
(`Settings` with every chat channel's fields: the class a process reads its settings into),
`build_channels` (called by the sender loop's builder, `digest.runtime.parts.Parts.senders`: e-mail
always, Discord when this process has somewhere to post, each chat channel whose settings let it post),
`chat_listeners` (the chat bots' ears of the `bot` role) and `chat_routes` (their web routes).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from digest.matrix.spec import SPEC as MATRIX
from digest.ntfy.spec import SPEC as NTFY
from digest.services.channel_specs import ChatRegistry, ChatSpec, Listen, install
from digest.slack.spec import SPEC as SLACK
from digest.telegram.spec import SPEC as TELEGRAM

if TYPE_CHECKING:  # `paperbell --help` reads the list above only: no settings, no database layer
    from digest.services.channels import Channel
    from digest.settings import Settings
    from storage.db import Database

CHAT_SPECS: tuple[ChatSpec, ...] = (NTFY, SLACK, TELEGRAM, MATRIX)  # the order a delivery pass visits them

CHAT = ChatRegistry(CHAT_SPECS)
# the subscriber validators and the vote gate sit below every front end and get no registry passed
# down (digest.services.channel_specs): importing the composition root installs it, once
install(CHAT)


@cache
def settings_class() -> type[Settings]:
    """`Settings` with every registered chat channel's fields: the class a process reads its settings into."""
    from digest.settings import Settings

    return CHAT.settings_class(Settings)


def build_channels(settings: Settings, db: Database, *, discord_poster: Any = None, email: bool = True,
                   chat: ChatRegistry = CHAT) -> list[Channel]:
    """The channels to deliver through, in the order a pass visits them."""
    channels: list[Channel] = []
    if email:
        from digest.email.channel import EmailChannel

        channels.append(EmailChannel(settings, db))
    if discord_poster is not None:
        from digest.discord.channel import DiscordChannel

        channels.append(DiscordChannel(settings, db, discord_poster))
    channels += [spec.build(settings, db) for spec in _live(settings, chat)]
    return channels


def _live(settings: Settings, chat: ChatRegistry) -> list[ChatSpec]:
    """The chat channels whose settings let them post and whose client library is installed."""
    return [spec for spec in chat.specs if spec.ready(settings) and _installed(spec)]


def _installed(spec: ChatSpec) -> bool:
    """Whether the channel's client library is installed; if not, one line saying how (the papers stay pending)."""
    import importlib.util
    import logging

    if spec.library is None or importlib.util.find_spec(spec.library[0]) is not None:
        return True
    logging.getLogger("digest.runtime").error(
        "%s is configured but %s is not installed: pip install 'paperbell[%s]' (its papers stay pending)",
        spec.label, spec.library[1], spec.name)
    return False


def chat_listeners(settings: Settings, db: Database, chat: ChatRegistry = CHAT) -> list[tuple[str, Listen]]:
    """The chat bots' ears this process runs with its `bot` role (commands and votes inside the platform)."""
    return [(spec.name, spec.listener(settings, db)) for spec in _live(settings, chat) if spec.listener is not None]


def chat_routes(settings: Settings, db: Database, chat: ChatRegistry = CHAT) -> list[Any]:
    """The web routes of every chat channel whose settings are composed in (served configured or not: they refuse).

    Settings without a channel's fields (a plain `Settings`, as some tests build) leave its routes out.
    """
    routes: list[Any] = []
    for spec in chat.specs:
        if spec.routes is not None and isinstance(settings, spec.settings()):
            routes += spec.routes(settings, db)
    return routes


NO_TOKEN = ("Discord: no bot token (PAPERBELL_DISCORD_TOKEN), so the bot is not running; Discord deliveries "
            "stay pending until it is set (`paperbell discord preview` shows what would be posted)")


def discord_poster(settings: Settings, db: Database, bot: Any = None) -> tuple[Any, str | None]:
    """Where this process posts Discord messages, or None and why it leaves them pending.

    The bot of this process when it runs one; else nobody here. Without a token nothing is posted
    and nothing is marked sent: the rows wait for the bot, so setting a token later delivers them
    (`paperbell discord preview` renders them; only the demo writes them to the outbox folder).
    """
    if bot is not None:
        from bot.poster import BotPoster

        return BotPoster(bot, db), None
    if settings.discord_token is None:
        return None, NO_TOKEN
    return None, "Discord deliveries stay pending for the bot (`paperbell run` or `paperbell bot`)"


def log_bot_state(settings: Settings, roles: frozenset[str] | set[str]) -> None:
    """One line at start saying whether this process runs the Discord bot, and if not why and what then."""
    import logging

    log = logging.getLogger("digest.runtime")
    if "bot" not in roles:
        log.info("Discord: the bot role is not run by this process; another `paperbell run` posts Discord deliveries")
    elif settings.discord_token is None:
        log.warning(NO_TOKEN)
    else:
        log.info("Discord: starting the bot (token set); deliveries are posted once it is connected")
