"""End to end through the ntfy double: subscribed by the admin CLI, a match, an instant post and a digest
within ntfy's limits, a refused topic paused with its reason, a lost reply retried without a second post."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from digest.cli.main import app
from digest.ntfy.channel import ntfy_channel
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription, get_subscriber, set_schedule
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus
from storage.types import utcnow
from tests.bot.conftest import add_papers
from tests.digest.ntfy.ntfy_double import MESSAGE_LIMIT, NtfyDouble


def statuses(db: Database) -> list[str]:
    with db.session() as session:
        return [r.status for r in session.exec(select(Delivery).order_by(col(Delivery.id))).all()]


def subscribe_by_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                     *args: str) -> dict[str, object]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", settings.resolved_database_url())
    result = CliRunner().invoke(app, ["ntfy", "add", *args, "--json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


async def test_instant_then_digest_within_limits(ntfy_settings: Settings, db: Database, double: NtfyDouble,
                                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    row = subscribe_by_cli(ntfy_settings, monkeypatch, tmp_path, "lab-papers_x1", "diffusion")
    assert "PAPERBELL_NTFY_URL" in str(row["next_step"])  # not set in the CLI's environment: said so
    add_papers(db)
    assert run_match_cycle(db, ntfy_settings).matches_recorded == 2
    channel = ntfy_channel(ntfy_settings, db)
    report = await channel.deliver_due(utcnow())
    assert (report.messages, report.papers) == (2, 2)
    posted = double.messages["lab-papers_x1"]
    assert sorted(m["title"] for m in posted) == ["Diffusion models for protein design",
                                                  "Latent diffusion with fewer steps"]
    first = posted[0]
    assert first["click"].startswith("https://arxiv.org/abs/")
    assert [a["label"] for a in first["actions"]] == ["👍", "👎", "PDF"]
    assert first["actions"][0]["url"].startswith("http://paperbell.test/vote/")
    assert set(statuses(db)) == {DeliveryStatus.SENT}
    assert (await channel.deliver_due(utcnow())).messages == 0  # nothing twice

    # a digest subscriber: 60 long papers packed into few notifications, each within 4,096 bytes
    subscriber_id = int(str(row["subscriber_id"]))
    set_schedule(db, subscriber_id, schedule="daily", hour=0)
    long = [(f"Diffusion paper {n} " + "ü" * 180, "diffusion " * 50) for n in range(60)]
    add_papers(db, long, start=100)
    run_match_cycle(db, ntfy_settings)
    report = await channel.deliver_due(utcnow() + timedelta(days=1))
    assert report.papers == 50 and report.messages > 1  # the digest cap; the rest waits for the next one
    digests = double.messages["lab-papers_x1"][2:]
    assert all(len(m["message"].encode()) <= MESSAGE_LIMIT for m in digests)
    assert digests[0]["title"].startswith("paperbell daily digest: 50 new papers (1/")
    assert double.refusals == []


async def test_refused_topic_pauses_with_reason(ntfy_settings: Settings, db: Database, double: NtfyDouble) -> None:
    subscriber = add_subscriber(db, ntfy_settings, "ntfy_topic", "private-topic")
    add_subscription(db, ntfy_settings, subscriber.id or 0, "diffusion")
    double.denied.add("private-topic")
    add_papers(db)
    run_match_cycle(db, ntfy_settings)
    report = await ntfy_channel(ntfy_settings, db).deliver_due(utcnow())
    assert report.statuses == {"paused": 1} and report.messages == 0
    paused = get_subscriber(db, subscriber.id or 0)
    assert paused.paused and "ntfy refuses this topic (HTTP 403 40301 forbidden)" in (paused.pause_reason or "")
    assert set(statuses(db)) == {DeliveryStatus.PENDING}  # kept for when the topic is fixed


async def test_lost_reply_is_not_posted_twice(ntfy_settings: Settings, db: Database, double: NtfyDouble) -> None:
    subscriber = add_subscriber(db, ntfy_settings, "ntfy_topic", "lost-replies")
    add_subscription(db, ntfy_settings, subscriber.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, ntfy_settings)
    channel = ntfy_channel(ntfy_settings, db)
    double.lose_replies = 1
    first = await channel.deliver_due(utcnow())
    assert first.statuses == {"retry_later": 1} and first.messages == 0
    assert len(double.messages["lost-replies"]) == 1  # it did arrive
    later = utcnow() + timedelta(hours=1)  # past the back-off
    second = await channel.deliver_due(later)
    assert (second.messages, second.papers) == (2, 2)
    assert len(double.messages["lost-replies"]) == 2  # the lost one found in the topic's cache, not re-posted
    assert set(statuses(db)) == {DeliveryStatus.SENT}
    assert get_subscriber(db, subscriber.id or 0).send_failures == 0


@pytest.mark.parametrize(("forced", "outcome"), [(1, {"sent": 1}), (5, {"retry_later": 1})])
async def test_429_waited_out_or_retried_later(ntfy_settings: Settings, db: Database, double: NtfyDouble,
                                               forced: int, outcome: dict[str, int]) -> None:
    subscriber = add_subscriber(db, ntfy_settings, "ntfy_topic", "busy-topic")
    add_subscription(db, ntfy_settings, subscriber.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, ntfy_settings)
    double.forced_429 = forced
    report = await ntfy_channel(ntfy_settings, db).deliver_due(utcnow())
    assert report.statuses == outcome
    again = get_subscriber(db, subscriber.id or 0)
    assert (again.retry_after is not None) == ("retry_later" in outcome)


@pytest.mark.parametrize("topic", ["", "has space", "x" * 65, "slash/topic", "ümlaut"])
def test_bad_topics_refused_at_the_door(ntfy_settings: Settings, db: Database, topic: str) -> None:
    from digest.services.errors import InvalidInput

    with pytest.raises(InvalidInput, match="not an ntfy topic name"):
        add_subscriber(db, ntfy_settings, "ntfy_topic", topic)


async def test_status_shows_each_chat_channel(ntfy_settings: Settings, db: Database, double: NtfyDouble,
                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ok = add_subscriber(db, ntfy_settings, "ntfy_topic", "fine-topic")
    bad = add_subscriber(db, ntfy_settings, "ntfy_topic", "denied-topic")
    for subscriber in (ok, bad):
        add_subscription(db, ntfy_settings, subscriber.id or 0, "diffusion")
    double.denied.add("denied-topic")
    add_papers(db)
    run_match_cycle(db, ntfy_settings)
    await ntfy_channel(ntfy_settings, db).deliver_due(utcnow())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(ntfy_settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", ntfy_settings.resolved_database_url())
    result = CliRunner().invoke(app, ["status"])
    assert ("ntfy (ntfy_topic): not posting: PAPERBELL_NTFY_URL is not set; 2 target(s), 1 paused, "
            "0 backing off, 2 papers waiting") in result.stdout
    assert f"ntfy target #{bad.id} is paused (ntfy: ntfy refuses this topic (HTTP 403 40301" in result.stdout
    monkeypatch.setenv("PAPERBELL_NTFY_URL", double.url)
    shown = json.loads(CliRunner().invoke(app, ["status", "--json"]).stdout)
    assert shown["chat"]["ntfy_topic"]["missing_setting"] is None
    assert shown["chat"]["ntfy_topic"]["paused_list"][0]["address"] == "denied-topic"
