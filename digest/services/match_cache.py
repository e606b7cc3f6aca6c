"""What the match cycle keeps between cycles: the compiled subscriptions and the analysed papers.

Used by digest.services.matching (every cycle) and digest.services.items (explanations built at
delivery time). One `MatcherCache` per database and query limits lives for the process: each cycle
reads the active subscriptions' (id, subscriber, query text) — one indexed scan, no parsing — and
compiles only what changed since the last cycle (added, edited, resumed), dropping what was
removed or paused; compiled forms are cached by query text, so the many subscriptions sharing a
text cost one parse, and the parsed trees are not kept (the compiled program is all matching
needs; a million parsed queries weigh about a gigabyte). When removals have left half the program
unused, the matcher is recompiled from the texts. Papers are analysed once and kept in a bounded
LRU keyed by id and content, so the explanation built for a delivery reuses the cycle's analysis.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import Session, col

from digest.core.lru import Lru
from digest.query import AnalyzedDoc, PaperDoc, Query, QueryError, QueryLimits, analyze_doc, parse_query
from digest.query.analysis import prepare_for_matching
from digest.query.oracle import match_query
from digest.services.trending import TRENDING_QUERY
from storage.models import Subscriber, Subscription

if TYPE_CHECKING:  # the compiled matcher (numpy) is imported when a cache is first built, not by every importer
    from digest.query.compiled import Matcher

log = logging.getLogger(__name__)
ANALYSED_PAPERS = 2048  # papers kept analysed: one batch of the cycle (tens of KB each)
REBUILD_GARBAGE = 0.5  # recompile from scratch once half the compiled subscriptions are gone


class MatcherCache:
    """The compiled active subscriptions of one database, kept in step with it by `sync`."""

    def __init__(self, limits: QueryLimits) -> None:
        from digest.query.compiled import Matcher

        self.limits = limits
        self.matcher: Matcher = Matcher({})
        self.texts: dict[int, str] = {}  # compiled subscription id -> its query text
        self.owners: dict[int, int] = {}  # active subscription id -> subscriber id
        # the compile cache, by query text: its root node in the matcher, or why it does not parse
        self.roots: dict[str, int] = {}
        self.errors: dict[str, QueryError] = {}
        self.invalid: list[int] = []
        self.lock = threading.Lock()  # one cycle at a time per process uses/changes the matcher
        self._owner_arrays: tuple[Any, Any] | None = None

    def _compile(self, sid: int, text: str) -> bool:
        """Point `sid` at `text`'s compiled form, parsing and compiling it if new; False if invalid."""
        root = self.roots.get(text)
        if root is not None:
            self.matcher.add_root(sid, root)
            return True
        if text in self.errors:
            return False
        try:
            parsed = parse_query(text, self.limits)
        except QueryError as exc:
            self.errors[text] = exc
            return False
        self.roots[text] = self.matcher.add(sid, parsed, keep_query=False)
        return True

    def sync(self, rows: Iterable[tuple[int, int, str]]) -> int:
        """Bring the matcher to these (subscription id, subscriber id, query) rows; returns changes."""
        wanted = {sid: (owner, text) for sid, owner, text in rows}
        changes = 0
        for sid in [s for s in self.texts if s not in wanted]:
            self.matcher.remove(sid)
            del self.texts[sid]
            changes += 1
        invalid = []
        for sid, (_owner, text) in wanted.items():
            if self.texts.get(sid) == text:
                continue
            changes += 1
            if self._compile(sid, text):
                self.texts[sid] = text
                continue
            invalid.append(sid)
            if sid in self.texts:
                self.matcher.remove(sid)
                del self.texts[sid]
        # invalid ones are re-reported every cycle (they are never compiled, so they come back here)
        self.invalid = sorted(invalid)
        for sid in self.invalid:
            log.warning("subscription #%s skipped, its query no longer parses: %s", sid, self.errors[wanted[sid][1]])
        if self.matcher.garbage > REBUILD_GARBAGE:
            from digest.query.compiled import Matcher

            self.matcher, self.roots = Matcher({}), {}
            for sid, text in self.texts.items():
                self._compile(sid, text)
        live = set(self.texts.values())
        if len(self.roots) > 2 * len(live) + 1000:
            self.roots = {text: root for text, root in self.roots.items() if text in live}
        if len(self.errors) > 1000:
            self.errors = {}
        owners = {sid: owner for sid, (owner, _text) in wanted.items() if sid in self.texts}
        if owners != self.owners:
            self.owners, self._owner_arrays = owners, None
        return changes

    def owner_arrays(self) -> tuple[Any, Any]:
        """(subscription ids ascending, their subscriber ids) as numpy arrays."""
        if self._owner_arrays is None:
            import numpy as np

            sids = np.fromiter(sorted(self.owners), np.int64, len(self.owners))
            owners = np.fromiter((self.owners[int(s)] for s in sids), np.int64, len(sids))
            self._owner_arrays = (sids, owners)
        return self._owner_arrays


_caches: dict[tuple[str, QueryLimits], MatcherCache] = {}
_caches_lock = threading.Lock()


def matcher_cache(url: str, limits: QueryLimits) -> MatcherCache:
    """The process's cache for this database and these limits (created empty on first use)."""
    with _caches_lock:
        cache = _caches.get((url, limits))
        if cache is None:
            cache = _caches[(url, limits)] = MatcherCache(limits)
        return cache


def forget_caches() -> None:
    """Drop every cached matcher (tests: a fresh compile to compare with)."""
    with _caches_lock:
        _caches.clear()


def active_subscription_rows(session: Session) -> list[tuple[int, int, str]]:
    """(subscription id, subscriber id, query) of every subscription to match, without ORM objects."""
    # Unconfirmed e-mail subscribers are matched too: their papers wait in the outbox until consent.
    statement = (
        select(col(Subscription.id), col(Subscription.subscriber_id), col(Subscription.query))
        .join(Subscriber, col(Subscription.subscriber_id) == col(Subscriber.id))
        .where(col(Subscription.paused).is_(False), col(Subscriber.paused).is_(False))
        .where(col(Subscription.query) != TRENDING_QUERY)  # trending is picked at delivery, not matched
    )
    return [(row[0], row[1], row[2]) for row in session.execute(statement)]


_analysed: Lru[tuple[Any, ...], AnalyzedDoc] = Lru(ANALYSED_PAPERS)


def analysed(key: Any, doc: PaperDoc, *, for_matching: bool = True) -> AnalyzedDoc:
    """`doc` analysed, reusing the analysis of the same paper (key) with the same content.

    `for_matching=False` (an explanation only, as delivery builds): without what only the compiled
    matcher reads (stem pairs), computed when a cycle asks for the same paper."""
    cache_key = (key, doc.title, doc.abstract, tuple(doc.authors), tuple(doc.categories), tuple(doc.author_ids))
    found = _analysed.get(cache_key)
    if found is None:
        found = analyze_doc(doc)
        _analysed.put(cache_key, found)
    return prepare_for_matching(found) if for_matching else found  # computed once per paper


def explain(key: Any, doc: PaperDoc, query_text: str, limits: QueryLimits) -> dict[str, Any]:
    """Why `query_text` matches the paper, built when a delivery is shown (the ledger stores none).

    Empty when the query no longer parses or no longer matches (it was edited after the match).
    """
    try:
        query = parse_query(query_text, limits)
    except QueryError:
        return {}
    return explain_parsed(key, doc, query)


def explain_parsed(key: Any, doc: PaperDoc, query: Query) -> dict[str, Any]:
    """`explain` for a query already parsed (under the current limits); empty when it does not match."""
    return explain_analysed(analysed(key, doc), query)


def explain_analysed(doc: AnalyzedDoc, query: Query) -> dict[str, Any]:
    """`explain_parsed` for a paper already analysed (`analysed`)."""
    explanation = match_query(query, doc)
    return explanation.to_dict() if explanation is not None else {}
