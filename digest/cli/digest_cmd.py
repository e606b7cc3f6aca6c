"""`paperbell digest …`: preview and send e-mail digests, and re-send the confirmation mail.

Thin wrappers over digest.email.digests (the same functions the scheduler calls).
With no SMTP host configured, mail is written to <outbox>/email/ as .eml + .html.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from digest.cli.context import fail, open_app, parse_timestamp, print_json, print_table

digest_app = typer.Typer(help="E-mail digests: preview, send, confirmation mail.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AtOption = Annotated[
    str | None, typer.Option("--at", help="Pretend the time is this ISO timestamp (UTC if no offset); for testing.")
]


@digest_app.command("preview")
def preview(
    subscriber: Annotated[str, typer.Argument(help="Subscriber id or e-mail address.")],
    out: Annotated[Path | None, typer.Option(help="Folder for the files (default: <outbox>/preview).")] = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the HTML and text digest SUBSCRIBER would get now; prints the two paths. Sends nothing."""
    import asyncio

    from digest.email.preview import preview_digest
    from digest.services.errors import ServiceError

    with open_app() as app:
        try:
            when = parse_timestamp(at, "--at")
            result = asyncio.run(preview_digest(app.settings, app.db, subscriber, when, out_dir=out))
        except ServiceError as exc:
            fail(str(exc))
    if as_json:
        print_json(asdict(result))
        return
    typer.echo(f"{result.subject} ({result.shown} of {result.papers} pending papers shown)")
    typer.echo(str(result.html_path))
    typer.echo(str(result.text_path))


@digest_app.command("send")
def send(
    subscriber: Annotated[str | None, typer.Option("--subscriber", help="Only this subscriber (id or e-mail).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; send and record nothing.")]
    = False,
    now: Annotated[bool, typer.Option("--now", help="Send everything pending now, ignoring schedules.")] = False,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send the digests that are due (or all pending with --now); unconfirmed addresses get the confirmation mail."""
    import asyncio

    from digest.email.digests import send_due_digests
    from digest.services.errors import ServiceError

    with open_app() as app:
        try:
            results = asyncio.run(
                send_due_digests(
                    app.settings, app.db, parse_timestamp(at, "--at"), subscriber_ref=subscriber, dry_run=dry_run,
                    force=now,
                )
            )
        except ServiceError as exc:
            fail(str(exc))
    if as_json:
        print_json([asdict(r) for r in results])
    else:
        print_table("e-mail digests" + (" (dry run)" if dry_run else ""),
                    ("subscriber", "status", "papers", "held back", "message-id / file / error"),
                    [(r.address, r.status, r.papers, r.held_back, r.error or r.path or r.message_id) for r in results])
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


@digest_app.command("confirm-mail")
def confirm_mail(
    subscriber: Annotated[str, typer.Argument(help="Subscriber id or e-mail address.")],
    as_json: JsonOption = False,
) -> None:
    """(Re-)send the double opt-in confirmation mail with a fresh link."""
    import asyncio

    from digest.email.digests import send_confirmation
    from digest.services.errors import ServiceError

    with open_app() as app:
        try:
            result = asyncio.run(send_confirmation(app.settings, app.db, subscriber))
        except ServiceError as exc:
            fail(str(exc))
    if as_json:
        print_json(asdict(result))
    else:
        typer.echo(f"{result.address}: {result.status} {result.error or result.path or result.message_id or ''}")
    if result.status != "confirmation_sent":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `paperbell digest …` to the main app."""
    app.add_typer(digest_app, name="digest")
