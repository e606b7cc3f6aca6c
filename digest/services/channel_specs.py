"""What a chat channel package tells the rest of paperbell about itself: its `ChatSpec`.

A chat channel (a package `digest.<name>` with a `spec` module) describes itself here in data: the
subscriber kinds it owns with the documented shape of their addresses, the settings it reads (its
own `Settings` subclass), when it can post, how it is built, and what it adds to the bot role (a
listener), the web front (routes), the votes (a vote source) and the admin CLI (`paperbell <name> …`).
The composition root (`digest.runtime.channels`) holds the one list of specs and builds a
`ChatRegistry` from it; nothing else names a chat channel.

Most readers get the registry handed down (status, the CLI, the web front, the sender loop). Two
checks sit too deep for that: the subscriber validators (`add_subscriber` has callers in every
front end) and the vote gate (`record_vote` takes no settings). They read the registry the
composition root installs once when it is imported (`install`/`installed`); before that, and in a
process that registers no chat channel, only e-mail and Discord kinds exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from digest.services.chat_targets import TargetShape

if TYPE_CHECKING:
    import asyncio

    from digest.services.channels import Channel
    from digest.settings import Settings
    from storage.db import Database

Listen = Callable[["asyncio.Event"], Coroutine[Any, Any, None]]
S = TypeVar("S", bound="Settings")


@dataclass(frozen=True)
class ChatKind:
    """One subscriber kind a chat channel owns (`Subscriber.kind`), and the shape of its addresses."""

    kind: str  # e.g. "<name>_chat": stored in `Subscriber.kind`
    shape: TargetShape
    needs: tuple[str, ...] = ()  # settings of which any one must be set before anything is posted
    redact: Callable[[str], str] | None = None  # the address as shown, when part of it is a secret


@dataclass(frozen=True)
class AdminAdd:
    """`paperbell <channel> <command> ADDRESS QUERY`: the admin subscribes a target without commands of its own."""

    command: str  # "add", "add-webhook"
    kind: str
    help: str  # the command's help line
    address_help: str
    metavar: str = "ADDRESS"  # the argument's name in the help ("TOPIC", "WEBHOOK")
    schedule: str = "instant"  # the default schedule of the subscriber it creates
    address: Callable[[str], str] = str.strip  # what is stored of the argument (e.g. a URL's path)
    needs: str | None = None  # the setting without which its papers stay pending (named in the answer)


@dataclass(frozen=True)
class ChatSpec:
    """Everything the composition root and the shared modules need to know of one chat channel."""

    name: str  # the package (digest.<name>), the CLI group, the vote source, the task name
    label: str  # the platform's name in reports and messages
    kinds: tuple[ChatKind, ...]
    settings: Callable[[], type[Settings]]  # the package's settings class (a `Settings` subclass with its fields)
    ready: Callable[[Settings], bool]  # whether its settings let it post (else its papers stay pending)
    build: Callable[[Settings, Database], Channel]  # the channel; imports its client where called
    library: tuple[str, str] | None = None  # (import name, distribution) of an optional extra named `name`
    listener: Callable[[Settings, Database], Listen] | None = None  # the bot's ear (commands in the platform)
    routes: Callable[[Settings, Database], Sequence[Any]] | None = None  # web routes (Starlette) it serves
    votes: bool = False  # its members vote (👍/👎) under its posts
    cli_help: str = ""
    admin: tuple[AdminAdd, ...] = ()


_NAME = re.compile(r"[a-z][a-z0-9]{1,15}")  # a vote source is stored in a 16-character column
_KIND = re.compile(r"[a-z][a-z0-9_]{1,31}")
BUILT_IN_KINDS = ("email", "discord_user", "discord_channel")  # storage.models.SubscriberKind (not imported: light)


class ChatRegistry:
    """The registered chat channels, looked up by name or subscriber kind."""

    def __init__(self, specs: Iterable[ChatSpec]) -> None:
        self.specs: tuple[ChatSpec, ...] = tuple(specs)
        self._kinds: dict[str, tuple[ChatSpec, ChatKind]] = {}
        names: set[str] = set()
        for spec in self.specs:
            if not _NAME.fullmatch(spec.name) or spec.name in names:
                raise ValueError(f"chat channel name {spec.name!r} is taken or not 2-16 of a-z 0-9")
            names.add(spec.name)
            for kind in spec.kinds:
                if not _KIND.fullmatch(kind.kind) or kind.kind in self._kinds or kind.kind in BUILT_IN_KINDS:
                    raise ValueError(f"subscriber kind {kind.kind!r} is taken or not 2-32 of a-z 0-9 _")
                self._kinds[kind.kind] = (spec, kind)
        self.vote_sources = frozenset(spec.name for spec in self.specs if spec.votes)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    def kind(self, kind: str) -> ChatKind | None:
        found = self._kinds.get(kind)
        return found[1] if found else None

    def label_of(self, kind: str) -> str:
        found = self.kind(kind)
        return found.shape.label if found else kind.replace("_", " ")

    def shown_address(self, kind: str, address: str) -> str:
        """The address as status and the CLI show it: a secret part (a webhook's key) is never printed."""
        found = self.kind(kind)
        return found.redact(address) if found and found.redact else address

    def missing_settings(self, settings: Settings) -> dict[str, str | None]:
        """Kind → None when it can post, else the `PAPERBELL_…` variable that is missing."""
        missing: dict[str, str | None] = {}
        for name, (_, kind) in self._kinds.items():
            ready = not kind.needs or any(getattr(settings, need, None) for need in kind.needs)
            missing[name] = None if ready else f"PAPERBELL_{kind.needs[0].upper()}"
        return missing

    def settings_class(self, base: type[Settings]) -> type[Settings]:
        """`base` with every registered channel's settings fields: the class a process reads its settings into."""
        own = tuple(cls for cls in (spec.settings() for spec in reversed(self.specs)) if cls is not base)
        if not own:
            return base
        # bases reversed: pydantic lists the fields of the last base first, so they follow the registration
        return type("PaperbellSettings", own, {"__module__": base.__module__, "__doc__": base.__doc__})


_installed = ChatRegistry(())


def install(registry: ChatRegistry) -> None:
    """Make `registry` the one the deep checks read (the composition root does this once, at import)."""
    global _installed
    _installed = registry


def installed() -> ChatRegistry:
    """The registry the composition root installed (an empty one before)."""
    return _installed


class VoteSources:
    """Where a vote may come from: the built-in doors and every registered chat channel with votes."""

    def __init__(self, built_in: Iterable[str]) -> None:
        self.built_in = frozenset(built_in)

    def __contains__(self, name: object) -> bool:
        return name in self.built_in or name in installed().vote_sources


def own_settings(settings: Settings, cls: type[S]) -> S:
    """`settings` as the channel's own settings class, or a clear error when the process did not compose it in."""
    if not isinstance(settings, cls):
        raise TypeError(f"these settings have no {cls.__name__} fields: read them with the composition root's "
                        "class (digest.runtime.channels.settings_class())")
    return settings
