"""`paperbell subscriptions add SUBSCRIBER [QUERY] --like ID… --library FILE`: "more like this".

Called from digest.cli.admin_cmd's `subscriptions add` when seed papers are given. Resolves the
seeds (digest.services.likes), prints the preview (the papers most like the seeds above
`--threshold`, and the query the subscription will use), and unless `--preview` saves the
subscription and records the seeds as the subscriber's 👍. Also `subscriptions limit ID`: at most N
papers in full / only papers above a learned score (the rest as one-line links). Every refusal is
one line, exit 1.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from digest.cli.context import fail, open_app, print_json

if TYPE_CHECKING:  # the engine (scikit-learn, the database) is imported when a command runs, not for `--help`
    from digest.cli.context import AppContext

DEFAULT_THRESHOLD = 0.05  # = digest.feedback.similar.DEFAULT_THRESHOLD (a test keeps them equal)


def _library(path: Path) -> tuple[list[Any], list[str]]:
    from digest.bounded import BoundedReadError, read_bounded
    from digest.feedback.library import MAX_BYTES, LibraryError, parse_library

    try:
        imported = parse_library(path.name, read_bounded(path, MAX_BYTES))  # a symlink to /dev/zero: refused
    except BoundedReadError as exc:
        fail(str(exc))
    except LibraryError as exc:
        fail(f"{path}: {exc}")
    return list(imported.entries), imported.skipped


def add_like(
    app: AppContext, subscriber: str, query: str | None, like: list[str], library: Path | None, threshold: float,
    preview_only: bool, as_json: bool,
) -> None:
    from digest.services import likes

    refs = [piece for value in like for piece in re.split(r"[\s,]+", value) if piece]
    entries, skipped = _library(library) if library is not None else ([], [])
    seeds = likes.resolve_seeds(app.db, refs, entries)
    preview = likes.preview_like(app.db, seeds.paper_ids, threshold=threshold)
    report: dict[str, Any] = {
        "seeds": len(seeds.paper_ids), "missing": seeds.missing, "skipped": skipped, "query": query or preview.query,
        "threshold": threshold, "similar": preview.matched, "window": preview.window,
        "examples": [{"id": c, "title": t, "similarity": s} for _, c, t, s in preview.found],
    }
    if not preview_only:
        subscription, votes = likes.subscribe_like(app.db, app.settings, subscriber, seeds.paper_ids, query)
        report.update(subscription_id=subscription.id, query=subscription.query, seed_votes=votes)
    if as_json:
        print_json(report)
        return
    for line in [*seeds.missing, *skipped]:
        typer.echo(f"skipped: {line}", err=True)
    typer.echo(f"{len(seeds.paper_ids)} seed papers; query: {report['query'] or '(none)'}")
    typer.echo(f"{preview.matched} of {preview.window} recent papers are at least {threshold} like them:")
    for _, canonical, title, similarity in preview.found:
        typer.echo(f"  {similarity:.3f}  {title}  [{canonical}]")
    if not preview_only:
        typer.echo(f"added subscription #{report['subscription_id']}: {report['query']} "
                   f"(seeds recorded as 👍: the digest ranks papers like them first)")


def require_query(query: str | None) -> str:
    if not query or not query.strip():
        fail("give a query, or seed papers with --like ID or --library FILE")
    return query


def subscriptions_limit(
    subscription_id: Annotated[int, typer.Argument(metavar="ID", help="Subscription id.")],
    max_items: Annotated[int | None, typer.Option(help="Show at most N papers in full; the rest as links.")] = None,
    min_score: Annotated[
        float | None, typer.Option(help="Once voted: show in full only papers scoring at least this (0-1).")
    ] = None,
) -> None:
    """Limit how many of a query's papers a digest shows in full (no options: no limits)."""
    from digest.services import feedback
    from digest.services.errors import ServiceError

    with open_app() as app:
        try:
            changed = feedback.set_limits(app.db, subscription_id, max_items=max_items, min_score=min_score)
        except ServiceError as exc:
            fail(str(exc))
    limits = [f"at most {changed.max_items} papers" if changed.max_items else "",
              f"score at least {changed.min_score}" if changed.min_score is not None else ""]
    typer.echo(f"subscription #{changed.id}: {', '.join(x for x in limits if x) or 'no limits'}")
