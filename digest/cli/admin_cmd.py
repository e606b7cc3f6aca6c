"""Admin commands: `paperbell db`, `config`, `subscribers` and `subscriptions`.

Thin wrappers over `digest.services.subscribers` (the same functions the Discord bot calls):
parse arguments, call one service function, print a table or `--json`. Refusals exit 1 with
one line saying what was wrong; nothing is half-written because each service call is one
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from digest.cli import author_cmd, health_cmd, like_cmd
from digest.cli.context import fail, get_settings, open_app, print_json, print_table
from digest.core.matchable import BACKFILL_MAX_DAYS
from digest.runtime.channels import CHAT
from digest.services.channel_specs import BUILT_IN_KINDS

if TYPE_CHECKING:  # the engine is imported when a command runs, not for `--help`
    from digest.cli.context import AppContext
    from storage.db import Database
    from storage.models import Subscriber, Subscription

T = TypeVar("T")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

db_app = typer.Typer(help="Database schema: upgrade, downgrade, current revision.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect the effective configuration.", no_args_is_help=True)
subscribers_app = typer.Typer(help="E-mail addresses, Discord users and channels that receive papers.",
                              no_args_is_help=True)
subscriptions_app = typer.Typer(help="Saved queries of subscribers.", no_args_is_help=True)


def _svc() -> ModuleType:
    """digest.services.subscribers, imported on first use."""
    from digest.services import subscribers

    return subscribers


@contextmanager
def _service() -> Iterator[AppContext]:
    """An app context where a service refusal becomes `error: …` and exit code 1."""
    from digest.services.errors import ServiceError

    with open_app() as app:
        try:
            yield app
        except ServiceError as exc:
            fail(str(exc))


def subscriber_dict(subscriber: Subscriber) -> dict[str, Any]:
    """The subscriber as the CLI prints it; a secret part of an address (a webhook's key) is never printed."""
    shown = subscriber.model_dump(mode="json")
    shown["address"] = CHAT.shown_address(subscriber.kind, subscriber.address)
    return shown


def subscription_dict(subscription: Subscription) -> dict[str, Any]:
    from digest.services.trending import describe, is_trending

    row = subscription.model_dump(mode="json")
    row["trending"] = is_trending(subscription.query)
    if row["trending"]:  # tables show what it brings; --json keeps the stored (empty) query
        row["label"] = describe(subscription.query, subscription.max_items)
    return row


def _print_rows(rows: list[dict[str, Any]], columns: list[str], title: str) -> None:
    print_table(title, columns, [[row.get(c) for c in columns] for row in rows])


# --- db -------------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database schema up to REVISION (default: the latest)."""
    from storage.migrate import head_revision, upgrade

    settings = get_settings()
    settings.ensure_dirs()
    upgrade(settings.resolved_database_url(), revision)
    typer.echo(f"database at revision {revision if revision != 'head' else head_revision()}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. 'base' or '-1'.")]) -> None:
    """Migrate the database schema down to REVISION."""
    from storage.migrate import downgrade

    settings = get_settings()
    downgrade(settings.resolved_database_url(), revision)
    typer.echo(f"database downgraded to {revision}")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the one this paperbell needs."""
    from storage.db import Database
    from storage.migrate import current_revision, head_revision

    settings = get_settings()
    database = Database(settings.resolved_database_url())
    try:
        typer.echo(f"current: {current_revision(database.engine) or 'none'}; head: {head_revision()}")
    finally:
        database.dispose()


# --- config ---------------------------------------------------------------------------------
@config_app.command("show")
def config_show(as_json: JsonOption = False) -> None:
    """Print the effective settings (environment and .env), secrets redacted."""
    shown = get_settings().redacted()
    if as_json:
        print_json(shown)
        return
    print_table("paperbell settings", ("setting", "value"),
                [(key, ", ".join(value) if isinstance(value, list) else value) for key, value in shown.items()])


@config_app.command("docs")
def config_docs() -> None:
    """Print every setting as a Markdown table (environment variable, default, meaning)."""
    typer.echo(settings_markdown_table())


def settings_markdown_table() -> str:
    from digest.runtime.channels import settings_class
    from digest.settings import DEFAULT_SOURCES

    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, info in settings_class().model_fields.items():
        default: Any = info.default
        if info.default_factory is not None:
            default = {"data_dir": "per-user data dir (e.g. ~/.local/share/paperbell)",
                       "sources": ",".join(DEFAULT_SOURCES)}.get(name, "")
        if isinstance(default, StrEnum):
            default = default.value
        shown = "(unset)" if default in (None, "") else f"`{default}`"
        lines.append(f"| `PAPERBELL_{name.upper()}` | {shown} | {info.description or ''} |")
    return "\n".join(lines)


# --- subscribers ------------------------------------------------------------------------------
@subscribers_app.command("add")
def subscribers_add(
    address: Annotated[str, typer.Argument(help="E-mail address, Discord user/channel id, or a chat target id.")],
    kind: Annotated[str, typer.Option(help=" | ".join((*BUILT_IN_KINDS, *CHAT.kinds)))] = "email",
    guild: Annotated[str | None, typer.Option(help="Discord guild id (channels and members).")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA time zone, e.g. Europe/Berlin.")] = None,
    schedule: Annotated[str | None, typer.Option(help="instant | daily | weekly")] = None,
    hour: Annotated[int | None, typer.Option(help="Local hour (0-23) of the digest.")] = None,
    weekday: Annotated[int | None, typer.Option(help="Weekday of weekly digests, 0=Monday.")] = None,
    confirmed: Annotated[bool, typer.Option(help="Skip the e-mail confirmation (admin vouches).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Add a subscriber and say what happens next. E-mail: the confirmation mail goes out now (mail configured)."""
    import asyncio

    from digest.email.onboarding import welcome

    with _service() as app:
        subscriber = _svc().add_subscriber(
            app.db, app.settings, kind, address, guild_id=guild, display_name=name, timezone=timezone,
            schedule=schedule, digest_hour=hour, digest_weekday=weekday, confirmed=confirmed or None,
        )
        next_step = asyncio.run(welcome(app.settings, app.db, subscriber))
        _echo_one({**subscriber_dict(subscriber), "next_step": next_step}, as_json,
                  f"added subscriber #{subscriber.id} {subscriber.address}\nnext: {next_step}")


@subscribers_app.command("list")
def subscribers_list(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None, as_json: JsonOption = False
) -> None:
    """List subscribers."""
    with _service() as app:
        rows = [subscriber_dict(s) for s in _svc().list_subscribers(app.db, kind=kind)]
        if as_json:
            print_json(rows)
        else:
            _print_rows(rows, ["id", "kind", "address", "schedule", "timezone", "confirmed_at", "paused",
                               "pause_reason", "send_failures", "last_send_error"], "subscribers")


def _subscriber_action(action: Callable[[Database, str], Subscriber], verb: str) -> Callable[..., None]:
    def command(
        subscriber: Annotated[str, typer.Argument(help="Subscriber id or address.")], as_json: JsonOption = False
    ) -> None:
        with _service() as app:
            shown = subscriber_dict(action(app.db, subscriber))
            _echo_one(shown, as_json, f"{verb} subscriber #{shown['id']} {shown['address']}")

    return command


subscribers_app.command("remove", help="Remove a subscriber, their subscriptions and ledger.")(
    _subscriber_action(lambda db, ref: _svc().remove_subscriber(db, ref), "removed"))
subscribers_app.command("pause", help="Stop deliveries to a subscriber until resumed.")(
    _subscriber_action(lambda db, ref: _svc().set_subscriber_paused(db, ref, True, "paused by an admin"), "paused"))
subscribers_app.command("resume", help="Resume deliveries to a paused subscriber.")(
    _subscriber_action(lambda db, ref: _svc().set_subscriber_paused(db, ref, False), "resumed"))


# --- subscriptions ------------------------------------------------------------------------------
@subscriptions_app.command("add")
def subscriptions_add(
    subscriber: Annotated[str, typer.Argument(help="Subscriber id or address.")],
    query: Annotated[str | None, typer.Argument(help="The query, e.g. '\"sparse autoencoder\" -ti:survey'.")] = None,
    like: Annotated[
        list[str] | None, typer.Option("--like", help="Seed papers: arXiv ids/DOIs (repeat or comma-separate).")
    ] = None,
    library: Annotated[Path | None, typer.Option(help="Seed papers from a BibTeX (.bib) or Zotero CSV export.")] = None,
    threshold: Annotated[float, typer.Option(help="Preview: similarity to the seeds, 0-1.")] = (
        like_cmd.DEFAULT_THRESHOLD),
    preview: Annotated[bool, typer.Option("--preview", help="With seeds: only show what they find.")] = False,
    trending: Annotated[bool, typer.Option(
        "--trending", help="No query: the day's trending papers (Hugging Face upvotes, then readers' 👍).")] = False,
    top: Annotated[int | None, typer.Option(
        "--top", min=1, max=100, help="With --trending: papers a day (default 10).")] = None,
    backfill_days: Annotated[int | None, typer.Option(
        "--backfill-days", min=0, max=BACKFILL_MAX_DAYS,
        help="Include matches first seen in the last N days in the first digest "
             "(default: PAPERBELL_SUBSCRIPTION_BACKFILL_DAYS, 7; 0 = only new papers).")] = None,
    author: Annotated[str | None, typer.Option(
        "--author", help="Follow a person: lists who the name may be (papers, co-authors, ORCID) to pick from.",
    )] = None,
    pick: Annotated[int | None, typer.Option(
        "--pick", min=1, help="With --author: the person's number in the list.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Save a query for a subscriber (validated first; see the query language guide), or seed one from papers."""
    with _service() as app:
        if like or library:  # "more like this": digest.cli.like_cmd
            like_cmd.add_like(app, subscriber, query, like or [], library, threshold, preview, as_json)
            return
        if trending or top is not None:
            _add_trending(app, subscriber, query, top, as_json)
            return
        if author is not None:  # "people, not strings": digest.cli.author_cmd
            query = author_cmd.author_query(app, author, pick, query, as_json)
        elif pick is not None:
            fail("--pick chooses among the people --author lists; add --author NAME")
        query = like_cmd.require_query(query)
        added = _svc().subscribe(app.db, app.settings, subscriber, query, created_by="cli",
                                 backfill_days=backfill_days)
        subscription = added.subscription
        if added.backfill_days:
            more = (f"{added.backfilled} matching paper{'s' if added.backfilled != 1 else ''} from the last "
                    f"{added.backfill_days} days will be in the first digest")
        else:
            more = "only papers that arrive from now on will be delivered"
        _echo_one({**subscription_dict(subscription), "backfill_days": added.backfill_days,
                   "backfilled": added.backfilled}, as_json, f"added subscription #{subscription.id}: {query}\n{more}")


def _add_trending(app: AppContext, subscriber: str, query: str | None, top: int | None, as_json: bool) -> None:
    from digest.services.trending import describe

    if query and query.strip():
        fail("--trending takes no query: it brings the day's top papers; drop the query or --trending")
    subscription = _svc().subscribe(app.db, app.settings, subscriber, "", created_by="cli", top_n=top).subscription
    label = describe(subscription.query, subscription.max_items)
    _echo_one(subscription_dict(subscription), as_json,
              f"added subscription #{subscription.id}: {label}\n"
              "picked at each digest from the papers first seen in the 24 hours before it")


@subscriptions_app.command("list")
def subscriptions_list(
    subscriber: Annotated[str | None, typer.Option(help="Only this subscriber (id or address).")] = None,
    as_json: JsonOption = False,
) -> None:
    """List subscriptions."""
    with _service() as app:
        owner_id = _svc().get_subscriber(app.db, subscriber).id if subscriber else None
        rows = [subscription_dict(s) for s in _svc().list_subscriptions(app.db, subscriber_id=owner_id)]
        rows = health_cmd.with_health(app, rows)  # matches in 30 days, update kinds, near misses
        if as_json:
            print_json(rows)
        else:
            rows = [{**row, "query": row.get("label") or row["query"]} for row in rows]
            _print_rows(rows, ["id", "subscriber_id", "query", "paused", "matched_30d", "updates", "created_by"],
                        "subscriptions")
            health_cmd.print_near_misses(rows)


@subscriptions_app.command("edit")
def subscriptions_edit(
    subscription_id: Annotated[int, typer.Argument(metavar="ID", help="Subscription id.")],
    query: Annotated[str | None, typer.Argument(help="The new query (validated like a new one).")] = None,
    updates: Annotated[str | None, typer.Option("--updates", help=health_cmd.UPDATES_HELP)] = None,
    as_json: JsonOption = False,
) -> None:
    """Replace a subscription's query (pending papers it no longer matches are not sent) and/or its updates."""
    with _service() as app:
        if query is None and updates is None:
            fail("give a new query, --updates KINDS, or both")
        if updates is not None:
            stored, said = health_cmd.set_updates(app, subscription_id, updates)
            if query is None:
                _echo_one({"id": subscription_id, "updates": stored}, as_json, said)
                return
            typer.echo(said, err=as_json)
        assert query is not None
        changed = _svc().edit_query(app.db, app.settings, subscription_id, query)
        _echo_one(subscription_dict(changed), as_json,
                  f"subscription #{changed.id} now asks: {changed.query}\n"
                  "pending papers the new query does not match will not be sent")


def _subscription_action(action: Callable[[Database, int], Subscription], verb: str) -> Callable[..., None]:
    def command(
        subscription_id: Annotated[int, typer.Argument(metavar="ID", help="Subscription id.")],
        as_json: JsonOption = False,
    ) -> None:
        with _service() as app:
            changed = action(app.db, subscription_id)
            _echo_one(subscription_dict(changed), as_json, f"{verb} subscription #{changed.id}")

    return command


subscriptions_app.command("limit")(like_cmd.subscriptions_limit)  # digest limits
subscriptions_app.command("remove", help="Delete a subscription.")(
    _subscription_action(lambda db, sid: _svc().remove_subscription(db, sid), "removed"))
subscriptions_app.command("pause", help="Pause a subscription.")(
    _subscription_action(lambda db, sid: _svc().set_subscription_paused(db, sid, True), "paused"))
subscriptions_app.command("resume", help="Resume a paused subscription.")(
    _subscription_action(lambda db, sid: _svc().set_subscription_paused(db, sid, False), "resumed"))


def _echo_one(row: dict[str, Any], as_json: bool, message: str) -> None:
    if as_json:
        print_json(row)
    else:
        typer.echo(message)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(config_app, name="config")
    app.add_typer(subscribers_app, name="subscribers")
    app.add_typer(subscriptions_app, name="subscriptions")
