"""Changing the analyser changes what stored subscriptions match: the first match cycle
after an upgrade neither re-delivers old papers (ledger unique key) nor skips new ones (cursor).

The old analyser is played by Snowball (what paperbell used before), plugged into the shared key
cache for the "before" cycle only.
"""

from __future__ import annotations

import pytest
import snowballstemmer
from sqlmodel import select

from digest.query import analysis, stemming
from digest.services import match_sets
from digest.services import subscribers as service
from digest.services.match_cache import forget_caches
from digest.services.matching import run_match_cycle
from digest.settings import Settings
from storage.db import Database
from storage.models import Cursor, Delivery, Paper


def add_paper(db: Database, canonical_id: str, title: str) -> int:
    with db.session() as session:
        paper = Paper(canonical_id=canonical_id, title=title, abstract="Plain abstract.")
        session.add(paper)
        session.flush()
        assert paper.id is not None
        return paper.id


def delivered(db: Database) -> list[int]:
    match_sets.expand_now(db)
    with db.session() as session:
        return sorted(d.paper_id for d in session.exec(select(Delivery)).all())


def test_first_cycle_after_an_analysis_upgrade(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.add_subscriber(db, settings, "email", "ada@example.org")
    service.add_subscription(db, settings, "ada@example.org", "llm")
    old = add_paper(db, "2401.00001", "LLM agents")
    old_unmatched = add_paper(db, "2401.00002", "Scaling LLMs")  # the old analyser missed "LLMs"

    snowball = snowballstemmer.stemmer("english")
    monkeypatch.setattr(stemming, "inflect", snowball.stemWord)  # before the upgrade
    analysis.stem_cache.clear()
    assert run_match_cycle(db, settings).matches_recorded == 1
    assert delivered(db) == [old]

    monkeypatch.undo()  # the upgrade: a new process, so no compiled matcher or analysed paper survives
    analysis.stem_cache.clear()
    forget_caches()
    new = add_paper(db, "2401.00003", "LLMs as judges")
    report = run_match_cycle(db, settings)
    assert (report.papers, report.matches_recorded) == (1, 1)  # only the new paper: none skipped
    assert delivered(db) == [old, new]  # nothing re-delivered, no retroactive flood from old papers

    # even an operator re-matching everything (cursor reset) cannot deliver a paper twice
    with db.session() as session:
        cursor = session.get(Cursor, "match")
        assert cursor is not None
        cursor.value = 0
        session.add(cursor)
    assert run_match_cycle(db, settings).matches_recorded == 3  # all three recorded again ...
    assert match_sets.expand_now(db) == 1  # ... but only the one the old analyser missed becomes a row
    assert delivered(db) == [old, old_unmatched, new]
