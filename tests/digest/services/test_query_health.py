"""Query health through the real ingest path and match cycle: a narrow query's near misses (with the clause
each failed) in the CLI list, the digest footer and the manage page; the weekly "matched nothing" note."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from digest.cli.main import app
from digest.email.digests import send_due_digests
from digest.runtime.state import snapshot
from digest.runtime.status_words import describe
from digest.services.ingest import ingest_sources
from digest.services.matching import run_match_cycle
from digest.services.query_health import silent_queries
from digest.settings import Settings
from storage.db import Database
from storage.lifecycle_models import QueryHealth
from storage.models import Subscription
from tests.conftest import data_path
from tests.digest.email.conftest import add_subscriber
from tests.digest.services.query_plans import plan_of, statements_run
from tests.digest.services.test_lifecycle import text_of

NARROW = "ti:entanglement ti:witness"  # one paper of the recorded quant-ph day; several miss only ti:witness


async def quant_ph_day(settings: Settings, db: Database) -> None:
    [report] = await ingest_sources(settings, db, [f"file:{data_path('fixtures/arxiv_rss/quant-ph-2025-04-28.xml')}"])
    assert report.status == "ok" and report.new > 40
    run_match_cycle(db, settings)


def subscription_id(db: Database) -> int:
    with db.session() as session:
        [row] = session.exec(select(Subscription)).all()
        assert row.id is not None
        return row.id


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", settings.resolved_database_url())
    return CliRunner()


async def test_a_narrow_query_shows_its_near_misses_everywhere(
    settings: Settings, db: Database, cli: CliRunner
) -> None:
    add_subscriber(db, settings, "ada@example.org", [NARROW])
    await quant_ph_day(settings, db)
    sid = subscription_id(db)
    with db.session() as session:
        row = session.get(QueryHealth, sid)
        assert row is not None
        misses = row.near_misses
    assert len(misses) == 3 and {clause for _paper, _title, clause in misses} == {"ti:witness"}
    assert all("entanglement" in title.lower() for _paper, title, _clause in misses)

    listed = cli.invoke(app, ["subscriptions", "list"])
    assert listed.exit_code == 0, listed.output
    assert "near misses (all clauses but one)" in listed.stdout and "(failed: ti:witness)" in listed.stdout
    [row_json] = json.loads(cli.invoke(app, ["subscriptions", "list", "--json"]).stdout)
    assert row_json["matched_30d"] == 0 and len(row_json["near_misses"]) == 3  # matched, but not delivered yet

    [result] = await send_due_digests(settings, db, datetime.now(UTC), force=True)
    footer = text_of(result.path).split("Your queries (last 30 days):")[1]
    assert f"- {NARROW}: 1 paper in the last 30 days" in footer
    assert footer.count("(failed only: ti:witness)") == 3


@pytest.mark.parametrize(("value", "code", "said"), [
    ("new-version,code", 0, "updates on new-version, code"),
    ("all", 0, "updates on new-version, published, code"),
    ("none", 0, "no lifecycle updates"),
    ("version,bogus", 1, "error: unknown update kind 'bogus': use any of new-version, published, code, all or none"),
])
def test_cli_opts_in_to_updates(settings: Settings, db: Database, cli: CliRunner, value: str, code: int,
                                said: str) -> None:
    add_subscriber(db, settings, "ada@example.org", [NARROW])
    result = cli.invoke(app, ["subscriptions", "edit", str(subscription_id(db)), "--updates", value])
    assert result.exit_code == code
    assert said in result.output
    missing = cli.invoke(app, ["subscriptions", "edit", "999", "--updates", "code"])
    assert missing.exit_code == 1 and "error: no subscription #999" in missing.output


async def test_the_near_miss_setting_turns_the_computation_off(settings: Settings, db: Database) -> None:
    add_subscriber(db, settings, "ada@example.org", [NARROW])
    await quant_ph_day(settings.model_copy(update={"near_misses": False}), db)
    with db.session() as session:
        assert session.exec(select(QueryHealth)).all() == []


async def test_a_query_silent_for_30_days_gets_a_weekly_note(settings: Settings, db: Database) -> None:
    now = datetime.now(UTC)
    subscriber = add_subscriber(db, settings, "ada@example.org", ["zanzibarian"], created_at=now - timedelta(days=40))
    with db.session() as session:
        row = session.exec(select(Subscription)).one()
        row.created_at = now - timedelta(days=40)
        session.add(row)
    await quant_ph_day(settings, db)
    assert [q["query"] for q in silent_queries(db, now)] == ["zanzibarian"]
    status = describe(snapshot(db, 60, scheduler_required=False).facts, [], True, now)  # `paperbell status`
    assert "silent queries (nothing matched in 30 days): 1" in status and any("zanzibarian" in s for s in status)
    statuses = []
    for days in (0, 1, 7):
        [result] = await send_due_digests(settings, db, now + timedelta(days=days), force=True)
        statuses.append(result.status)
        if result.status == "sent":
            assert "nothing matched for 30 days; consider widening it" in text_of(result.path)
    assert statuses == ["sent", "empty", "sent"], subscriber.address


async def test_near_misses_are_looked_for_again_only_after_12_hours(settings: Settings, db: Database) -> None:
    from digest.services.query_health import REFRESH, narrow_subscriptions

    add_subscriber(db, settings, "ada@example.org", [NARROW])
    sid = subscription_id(db)
    now = datetime.now(UTC)
    with db.session() as session:
        assert narrow_subscriptions(session, [sid], now) == {sid}
    await quant_ph_day(settings, db)  # stores its near misses
    with db.session() as session:
        assert narrow_subscriptions(session, [sid], now) == set()
        assert narrow_subscriptions(session, [sid], now + REFRESH + timedelta(minutes=1)) == {sid}


def test_a_batchs_query_health_reads_only_its_queries_rows(db: Database) -> None:
    """The query health of a batch of digests counts each query's matches of the last 30 days: through the
    (subscription, created) index, never a pass over the whole ledger (which grows with every subscriber)."""
    from digest.services.query_health import match_counts

    with statements_run(db, lambda sql: "FROM deliveries" in sql) as seen, db.session() as session:
        assert match_counts(session, [1, 2, 3], datetime.now(UTC)) == {}
    assert len(seen) == 1
    assert "ix_deliveries_subscription_created" in plan_of(db, seen[0]), seen[0]
