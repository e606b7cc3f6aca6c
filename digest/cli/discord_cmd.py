"""`paperbell discord preview`: what the bot would post now, as one HTML page (works without a token).

Without `PAPERBELL_DISCORD_TOKEN` Discord deliveries stay pending (nothing is marked sent); this is
how to see them before setting one. Nothing is claimed, posted or marked.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from digest.cli.context import open_app

if TYPE_CHECKING:
    from digest.discord.preview_page import PreviewTarget
    from digest.settings import Settings
    from storage.db import Database

discord_app = typer.Typer(help="Discord deliveries: see what would be posted.", no_args_is_help=True)


@discord_app.command("preview")
def preview(
    out: Annotated[Path | None, typer.Option(
        "--out", help="Where to write the page (default: <data dir>/outbox/discord-preview.html).")] = None,
) -> None:
    """Render every Discord subscriber's pending papers as the bot would post them, into an HTML page."""
    import asyncio

    from digest.discord.preview_page import render_preview

    with open_app() as app:
        targets = asyncio.run(_targets(app.settings, app.db))
        path = out or app.settings.resolved_outbox_dir() / "discord-preview.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_preview(targets), encoding="utf-8")
    pending = sum(target.pending for target in targets)
    typer.echo(f"wrote {path}: {pending} pending paper{'s' if pending != 1 else ''} for {len(targets)} "
               "Discord subscriber(s); nothing was posted")
    if app.settings.discord_token is None:
        typer.echo("next: set PAPERBELL_DISCORD_TOKEN and run `paperbell run` to post them")


async def _targets(settings: Settings, db: Database) -> list[PreviewTarget]:
    from digest.discord.delivery import pending_digest
    from digest.discord.preview_page import PreviewTarget
    from digest.services.subscribers import list_subscribers
    from storage.models import SubscriberKind

    found: list[PreviewTarget] = []
    for kind in (SubscriberKind.DISCORD_CHANNEL.value, SubscriberKind.DISCORD_USER.value):
        for subscriber in list_subscribers(db, kind=kind):
            if subscriber.paused:
                continue
            pending, messages = await pending_digest(settings, db, subscriber)
            where = (f"#{subscriber.display_name or 'channel'} ({subscriber.address})"
                     if kind == SubscriberKind.DISCORD_CHANNEL.value else f"DM to user {subscriber.address}")
            if pending:
                found.append(PreviewTarget(where, pending, messages))
    return found


def register(app: typer.Typer) -> None:
    """Add the `discord` command group to the main app."""
    app.add_typer(discord_app, name="discord")
