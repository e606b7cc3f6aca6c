"""Pruning the ledger keeps "a paper reaches a subscriber at most once": after the closed rows of old papers
are deleted, a backfill, a new version of the same paper and the same paper arriving late from another
source bring none of them back; recent and pending rows are kept; a too-short retention is refused."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col, select
from typer.testing import CliRunner

from digest.cli.main import app
from digest.services import match_sets
from digest.services.errors import InvalidInput
from digest.services.ingest import ingest_sources
from digest.services.ledger_prune import MATCHABLE_DAYS, prune_ledger
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription, confirm_subscriber, subscribe
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Paper
from storage.types import utcnow


def crossref(tmp_path: Path, name: str, doi: str, title: str) -> str:
    """A Crossref works file holding one journal article (a source read from disk, as in production)."""
    work = {"DOI": doi, "title": [title], "type": "journal-article", "author": [{"given": "Ada", "family": "L"}],
            "issued": {"date-parts": [[2020, 8]]}, "abstract": f"<p>{title}. We measure lantern fish.</p>"}
    path = tmp_path / name
    path.write_text(json.dumps({"status": "ok", "message-type": "work-list", "message": {"items": [work]}}))
    return f"file:{path}"


def ledger(db: Database) -> dict[int, str]:
    """paper id -> status of the one subscriber's rows, after expanding whatever was matched meanwhile."""
    match_sets.expand_now(db)
    with db.session() as session:
        return {d.paper_id: d.status for d in session.exec(select(Delivery))}


def age(db: Database, paper_ids: list[int], days: int) -> None:
    with db.session() as session:
        when = utcnow() - timedelta(days=days)
        session.execute(update(Paper).where(col(Paper.id).in_(paper_ids)).values(first_seen_at=when))


async def test_pruned_papers_never_come_back(settings: Settings, db: Database, tmp_path: Path) -> None:
    reader = add_subscriber(db, settings, "email", "reader@example.org")
    assert reader.id is not None
    confirm_subscriber(db, reader.id)
    add_subscription(db, settings, reader.id, "lantern")
    old, recent, waiting = (crossref(tmp_path, f"{n}.json", f"10.1000/{n}", f"Lantern study {n}")
                            for n in ("old", "recent", "waiting"))
    await ingest_sources(settings, db, [old, recent, waiting])
    run_match_cycle(db, settings)
    rows = ledger(db)
    assert sorted(rows.values()) == ["pending"] * 3
    old_id, recent_id, waiting_id = sorted(rows)
    with db.session() as session:  # the old and the recent papers were delivered; the third still waits
        session.execute(update(Delivery).where(col(Delivery.paper_id).in_([old_id, recent_id]))
                        .values(status=DeliveryStatus.SENT.value, sent_at=utcnow()))
    age(db, [old_id, waiting_id], 200)
    age(db, [recent_id], 10)

    report = prune_ledger(db, retention_days=180)
    assert (report.deleted, ledger(db)) == (1, {recent_id: "sent", waiting_id: "pending"})

    # a new version of the old paper, the same paper from another source, the match cycle again,
    # and a new subscription of the same reader with the longest backfill
    await ingest_sources(settings, db, [crossref(tmp_path, "v2.json", "10.1000/old", "Lantern study old, v2")])
    await ingest_sources(settings, db, [crossref(tmp_path, "late.json", "10.1000/OLD", "Lantern study old")])
    run_match_cycle(db, settings)
    added = subscribe(db, settings, reader.id, "study", backfill_days=90)
    with db.session() as session:
        assert len(session.exec(select(Paper)).all()) == 3  # one row per paper, whatever arrived later
    assert added.backfilled == 0
    assert ledger(db) == {recent_id: "sent", waiting_id: "pending"}  # the old paper is not queued again


@pytest.mark.parametrize("days", [0, 30, MATCHABLE_DAYS - 1])
def test_a_retention_shorter_than_the_matchable_window_is_refused(db: Database, days: int) -> None:
    with pytest.raises(InvalidInput, match=f"use --older-than-days {MATCHABLE_DAYS} or more"):
        prune_ledger(db, retention_days=days)


def test_cli_dry_run_counts_and_deletes_nothing(settings: Settings, db: Database, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", settings.resolved_database_url())
    result = CliRunner().invoke(app, ["ledger", "prune", "--dry-run", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["dry_run"] is True
    refused = CliRunner().invoke(app, ["ledger", "prune", "--older-than-days", "7"])
    assert refused.exit_code == 1 and refused.stderr.startswith("error: retention of 7 days")
