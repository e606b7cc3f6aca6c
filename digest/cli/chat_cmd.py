"""`paperbell <channel> …`: the admin commands each registered chat channel declares (e.g. `… add TOPIC QUERY`).

For channels without commands of their own (a topic, an incoming webhook) the admin CLI is how a
target gets its subscriber and first query. Each chat channel declares its commands as data
(`AdminAdd` in its `ChatSpec`); this module mounts them for every channel the composition root
registered (digest.runtime.channels), so no command here names a channel. The address is checked
against the platform's documented shape first (by `add_subscriber`), and the answer says what happens
next, also when the channel is not configured yet (its papers then stay pending until it is).
"""

# no `from __future__ import annotations`: Typer reads each generated command's annotations, which
# name the `AdminAdd` of its closure (the help text), so they are evaluated where the command is made
from collections.abc import Callable
from typing import Annotated

import typer

from digest.cli.admin_cmd import JsonOption
from digest.cli.context import open_app, print_json
from digest.runtime.channels import CHAT
from digest.services.channel_specs import AdminAdd, ChatRegistry

Schedule = Annotated[str, typer.Option(help="instant (one post per paper) | daily | weekly")]
Query = Annotated[str, typer.Argument(help="The query, e.g. '\"sparse autoencoder\" -ti:survey'.")]


def _add(kind: str, address: str, query: str, schedule: str, needs: str | None, as_json: bool) -> None:
    from digest.services.errors import ServiceError
    from digest.services.subscribers import add_subscriber, find_subscriber, subscribe

    with open_app() as app:
        try:
            subscriber = find_subscriber(app.db, kind, address) or add_subscriber(
                app.db, app.settings, kind, address, schedule=schedule)
            assert subscriber.id is not None
            added = subscribe(app.db, app.settings, subscriber.id, query, created_by="cli")
        except ServiceError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        missing = needs is not None and not getattr(app.settings, needs, None)
    when = "as each paper is matched" if subscriber.schedule == "instant" else f"in the {subscriber.schedule} digest"
    step = (f"papers stay pending until PAPERBELL_{(needs or '').upper()} is set" if missing
            else f"papers are posted {when} by `paperbell run`")
    row = {"subscriber_id": subscriber.id, "kind": kind, "subscription_id": added.subscription.id, "query": query,
           "schedule": subscriber.schedule, "next_step": step}
    if as_json:
        print_json(row)
    else:
        typer.echo(f"subscribed {kind.replace('_', ' ')} #{subscriber.id} to: {query}\nnext: {step}")


def _command(add: AdminAdd) -> Callable[..., None]:
    """The Typer command of one `AdminAdd`: ADDRESS QUERY [--schedule] [--json]."""

    def command(
        address: Annotated[str, typer.Argument(help=add.address_help, metavar=add.metavar)],
        query: Query,
        schedule: Schedule = add.schedule,
        as_json: JsonOption = False,
    ) -> None:
        _add(add.kind, add.address(address), query, schedule, add.needs, as_json)

    command.__doc__ = add.help
    return command


def register(app: typer.Typer, chat: ChatRegistry = CHAT) -> None:
    """Add one group per registered chat channel with admin commands (`paperbell <channel> <command>`)."""
    for spec in chat.specs:
        if not spec.admin:
            continue
        group = typer.Typer(help=spec.cli_help or f"{spec.label}: admin commands.", no_args_is_help=True)
        for add in spec.admin:
            group.command(add.command)(_command(add))
        app.add_typer(group, name=spec.name)
