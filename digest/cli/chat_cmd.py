"""`paperbell ntfy add` and `paperbell slack add-webhook`: an admin subscribes a chat target in one step.

For channels without commands of their own (an ntfy topic, a Slack incoming webhook) the admin CLI
is how a target gets its subscriber and first query; the address is checked against the platform's
documented shape first (digest.services.chat_targets), and the answer says what happens next, also
when the channel is not configured yet (its papers then stay pending until it is).
"""

from __future__ import annotations

from typing import Annotated

import typer

from digest.cli.admin_cmd import JsonOption
from digest.cli.context import open_app, print_json

ntfy_app = typer.Typer(help="ntfy topics: phone notifications without a chat app.", no_args_is_help=True)
slack_app = typer.Typer(help="Slack: incoming webhooks (the Slack app subscribes from inside Slack).",
                        no_args_is_help=True)

Schedule = Annotated[str, typer.Option(help="instant (one post per paper) | daily | weekly")]


def _add(kind: str, address: str, query: str, schedule: str, configured: str | None, as_json: bool) -> None:
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
        missing = configured is not None and not getattr(app.settings, configured.lower().removeprefix("paperbell_"))
    when = "as each paper is matched" if subscriber.schedule == "instant" else f"in the {subscriber.schedule} digest"
    step = (f"papers stay pending until {configured} is set" if missing
            else f"papers are posted {when} by `paperbell run`")
    row = {"subscriber_id": subscriber.id, "kind": kind, "subscription_id": added.subscription.id, "query": query,
           "schedule": subscriber.schedule, "next_step": step}
    if as_json:
        print_json(row)
    else:
        typer.echo(f"subscribed {kind.replace('_', ' ')} #{subscriber.id} to: {query}\nnext: {step}")


@ntfy_app.command("add")
def ntfy_add(
    topic: Annotated[str, typer.Argument(help="ntfy topic name (1-64 of A-Z a-z 0-9 _ -); treat it as a password.")],
    query: Annotated[str, typer.Argument(help="The query, e.g. '\"sparse autoencoder\" -ti:survey'.")],
    schedule: Schedule = "instant",
    as_json: JsonOption = False,
) -> None:
    """Publish papers matching QUERY to an ntfy topic (created with the subscriber if new)."""
    _add("ntfy_topic", topic, query, schedule, "PAPERBELL_NTFY_URL", as_json)


@slack_app.command("add-webhook")
def slack_add_webhook(
    webhook: Annotated[str, typer.Argument(help="The incoming webhook URL from the Slack app's settings.")],
    query: Annotated[str, typer.Argument(help="The query, e.g. '\"sparse autoencoder\" -ti:survey'.")],
    schedule: Schedule = "daily",
    as_json: JsonOption = False,
) -> None:
    """Post papers matching QUERY through a Slack incoming webhook (one channel per webhook)."""
    path = webhook.strip().split("/services/", 1)[-1]
    _add("slack_webhook", path, query, schedule, None, as_json)


def register(app: typer.Typer) -> None:
    """Add the `ntfy` and `slack` groups to the main app."""
    app.add_typer(ntfy_app, name="ntfy")
    app.add_typer(slack_app, name="slack")
