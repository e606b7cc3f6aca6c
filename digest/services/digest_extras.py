"""What every channel's digest carries besides the matched papers: lifecycle updates and query health.

Shared by the e-mail digest, Discord and any other channel (plain data from digest.core.assembly:
`UpdateNote`, `QueryHealthLine`), so each renders the same facts: a short section "Updates to papers
you received" (digest.services.lifecycle) and a footer line per query with its matches in the last 30
days and, for a quiet or narrow query, its near misses (digest.services.query_health). A channel calls
`load_extras` when it builds a digest and `record_shown` once the message went out, so an update is
told once and the "matched nothing for 30 days" note at most weekly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import col, select

from digest.core.assembly import QueryHealthLine, UpdateNote
from digest.core.chat_text import Measure, chars, clip
from digest.core.lifecycle import SECTION_TITLE
from digest.core.links import safe_http_url
from digest.services.lifecycle import pending_updates, told_on, update_kinds
from digest.services.query_health import health_lines, health_of, silent_noted_on
from storage.db import Database
from storage.models import Subscription

HEALTH_TITLE = "Your queries (last 30 days)"


@dataclass(frozen=True)
class DigestExtras:
    updates: list[UpdateNote] = field(default_factory=list)
    health: list[QueryHealthLine] = field(default_factory=list)

    @property
    def silent(self) -> list[QueryHealthLine]:
        """Queries silent for 30 days whose weekly note is due."""
        return [line for line in self.health if line.silent_note]

    def context(self) -> dict[str, Any]:
        """Template context for the e-mail (and any template-rendered channel)."""
        return {"updates": self.updates, "updates_title": SECTION_TITLE, "health": self.health,
                "silent": self.silent}

    def update_lines(self) -> list[str]:
        """Plain lines for chat channels: '“Title” — v2 appeared (you received this on 3 Dec) <link>'."""
        lines = []
        for note in self.updates:
            url = safe_http_url(note.url)  # the one URL gate, again where the link is shown
            lines.append(f"“{note.title}” — {note.line}" + (f" <{url}>" if url else ""))
        return lines

    def health_lines(self) -> list[str]:
        """One plain line per query (near misses indented under a quiet or narrow one)."""
        out = []
        for line in self.health:
            out.append(f"{line.query}: {line.summary}" + (" — nothing for 30 days, consider widening it"
                                                          if line.silent_note else ""))
            out.extend(f"  near miss: “{title}” (failed: {clause})" for title, clause in line.near_misses)
        return out

    def chat_lines(self, strong: Callable[[str], str] = str, text: Callable[[str], str] = str) -> list[str]:
        """The short post a chat channel sends (empty: nothing to say); `strong` marks the two headings,
        `text` escapes every other line for the platform's markup (titles and queries come from outside).

        The health footer only when a query is silent or has near misses: a count alone is no news."""
        lines = []
        if self.updates:
            lines += [f"🔔 {strong(SECTION_TITLE)}", *(text(f"• {line}") for line in self.update_lines())]
        if self.silent or any(line.near_misses for line in self.health):
            lines += [f"📊 {strong(HEALTH_TITLE)}", *map(text, self.health_lines())]
        return lines

    def updates_only(self) -> DigestExtras:
        """These extras without the health footer (an instant target: a footer under every paper is noise)."""
        return DigestExtras(self.updates, [])


def updates_text(extras: DigestExtras, limit: int, measure: Measure = chars, *, strong: Callable[[str], str] = str,
                 text: Callable[[str], str] = str) -> str | None:
    """The chat post's text within a platform's limit (the shared default of `Platform.render_updates`), or None."""
    lines = extras.chat_lines(strong, text)
    return clip("\n".join(lines), limit, measure) if lines else None


def load_extras(db: Database, subscriber_id: int, now: datetime) -> DigestExtras:
    """The updates and query health for one subscriber's digest now (blocking: run via `db.run`)."""
    return DigestExtras(pending_updates(db, subscriber_id), health_lines(db, subscriber_id, now))


def load_extras_many(db: Database, subscriber_ids: Sequence[int], now: datetime) -> dict[int, DigestExtras]:
    """`load_extras` for a batch of subscribers: their subscriptions, opted-in update kinds and query health
    in one session; only a subscriber who opted in to updates costs a read of their own."""
    wanted = sorted(set(subscriber_ids))
    if not wanted:
        return {}
    with db.session() as session:
        subscriptions = session.exec(select(Subscription).where(col(Subscription.subscriber_id).in_(wanted))
                                     .order_by(col(Subscription.subscriber_id), col(Subscription.id))).all()
        opted = update_kinds(session, [s.id for s in subscriptions if s.id is not None])
        active = [s for s in subscriptions if not s.paused]
        health: dict[int, list[QueryHealthLine]] = {sid: [] for sid in wanted}
        owner = {s.id: s.subscriber_id for s in active}
        for line in health_of(session, active, now):
            health[owner[line.subscription_id]].append(line)
    listening = {s.subscriber_id for s in subscriptions if s.id in opted}
    return {sid: DigestExtras(pending_updates(db, sid) if sid in listening else [], health[sid]) for sid in wanted}


def record_shown(db: Database, subscriber_id: int, extras: DigestExtras, now: datetime) -> None:
    """After the message went out: its updates are never told again, its silence notes not for a week."""
    if extras.updates or extras.silent:
        with db.transaction() as connection:
            record_shown_on(connection, db, [(subscriber_id, extras)], now)


def record_shown_on(connection: Connection, db: Database, shown: Sequence[tuple[int, DigestExtras]],
                    now: datetime) -> None:
    """`record_shown` for several sent messages in the caller's transaction (the e-mail ledger's group write);
    its statements cannot conflict, so they never undo the writes they share the transaction with."""
    told_on(connection, db, [(sid, note.event_id) for sid, extras in shown for note in extras.updates], now)
    silent_noted_on(connection, db, [line.subscription_id for _, extras in shown for line in extras.silent], now)


def silent_note_due(db: Database, subscriber_id: int, now: datetime) -> bool:
    """A query of this subscriber matched nothing for 30 days and was not noted this week: worth a short digest."""
    return any(line.silent_note for line in health_lines(db, subscriber_id, now))


def with_extras(hook: Callable[[Any], Mapping[str, Any]], extras: DigestExtras) -> Callable[[Any], Mapping[str, Any]]:
    """A template context hook that adds the extras' context to another hook's."""
    return lambda digest: {**hook(digest), **extras.context()}


def subscription_facts(db: Database, subscriber_id: int, now: datetime
                       ) -> tuple[dict[int, QueryHealthLine], dict[int, set[str]]]:
    """For a reader's own pages (web, Discord): per subscription id its health and its update kinds."""
    with db.session() as session:
        subscriptions = session.exec(select(Subscription).where(Subscription.subscriber_id == subscriber_id)
                                     .order_by(col(Subscription.id))).all()
        health = {line.subscription_id: line for line in health_of(session, subscriptions, now)}
        return health, update_kinds(session, [s.id for s in subscriptions if s.id is not None])
