"""`subscriptions edit ID --updates KINDS` and the query health shown by `subscriptions list`.

Called from digest.cli.admin_cmd. `--updates new-version,published,code` (or `all`, `none`) opts a
subscription in to lifecycle alerts for the papers it delivered (digest.services.lifecycle); `list`
adds each query's matches in the last 30 days, its update kinds, and under a quiet or narrow query
up to three near misses with the clause they failed (digest.services.query_health).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from digest.cli.context import AppContext

UPDATES_HELP = ("Tell this query's readers when a paper it delivered changes: new-version, published, code "
                "(comma-separated), all, or none (the default).")


def set_updates(app: AppContext, subscription_id: int, kinds: str) -> tuple[str, str]:
    """Store the kinds; returns (the stored kinds, the line to print)."""
    from digest.services.lifecycle import set_update_kinds

    stored = set_update_kinds(app.db, subscription_id, kinds)
    if not stored:
        return "", f"subscription #{subscription_id}: no lifecycle updates"
    return stored, (f"subscription #{subscription_id}: updates on {stored.replace(',', ', ')} for papers it delivered, "
            "in the next digest after each change")


def with_health(app: AppContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows plus `matched_30d`, `updates` and `near_misses` (trending subscriptions have no health)."""
    from sqlmodel import col, select

    from digest.core.lifecycle import format_kinds
    from digest.services.lifecycle import update_kinds
    from digest.services.query_health import health_of
    from storage.models import Subscription
    from storage.types import utcnow

    ids = [int(row["id"]) for row in rows]
    with app.db.session() as session:
        subscriptions = session.exec(select(Subscription).where(col(Subscription.id).in_(ids))).all() if ids else []
        health = {line.subscription_id: line for line in health_of(session, subscriptions, utcnow())}
        kinds = update_kinds(session, ids)
    out = []
    for row in rows:
        line = health.get(int(row["id"]))
        out.append({**row, "matched_30d": line.matched_30d if line else None,
                    "updates": format_kinds(kinds.get(int(row["id"]), set())) or "-",
                    "near_misses": [{"title": t, "failed": c} for t, c in line.near_misses] if line else []})
    return out


def print_near_misses(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        if row["near_misses"]:
            typer.echo(f"#{row['id']} matched {row['matched_30d']} in 30 days; near misses (all clauses but one):")
            for miss in row["near_misses"]:
                typer.echo(f"  {miss['title']}  (failed: {miss['failed']})")
