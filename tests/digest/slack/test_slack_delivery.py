"""End to end through the Slack double: `/paperbell subscribe` from inside Slack (signed), a match, an instant
post and a digest within Block Kit's limits, a vote button, a refusal paused with its reason, a lost reply
retried without a second message; incoming webhooks subscribed by the admin CLI."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlmodel import select
from typer.testing import CliRunner

from digest.cli.main import app
from digest.runtime.channels import CHAT
from digest.runtime.web_app import web_app
from digest.services.chat_status import chat_facts
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription, get_subscriber, set_schedule
from digest.settings import Settings
from digest.slack.channel import slack_channel
from storage.db import Database
from storage.feedback_models import PaperVote
from storage.types import utcnow
from tests.bot.conftest import add_papers
from tests.digest.slack.conftest import CHANNEL, SECRET
from tests.digest.slack.slack_double import SlackDouble


async def slack_post(settings: Settings, db: Database, path: str, form: dict[str, str], *,
                     secret: str = SECRET, age: int = 0) -> httpx.Response:
    """What Slack sends: a form body signed with the app's signing secret."""
    body = urlencode(form)
    timestamp = str(int(time.time()) - age)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature,
               "Content-Type": "application/x-www-form-urlencoded"}
    transport = httpx.ASGITransport(app=web_app(settings, db))
    async with httpx.AsyncClient(transport=transport, base_url="http://paperbell.test") as client:
        return await client.post(path, content=body, headers=headers)


def command(text: str, channel: str = CHANNEL) -> dict[str, str]:
    return {"command": "/paperbell", "text": text, "channel_id": channel, "user_id": "U0MEMBER1",
            "team_id": "T0TEAM0001", "channel_name": "papers"}


async def test_subscribe_in_slack_then_instant_digest_and_votes(slack_settings: Settings, db: Database,
                                                                double: SlackDouble) -> None:
    reply = await slack_post(slack_settings, db, "/slack/commands", command("subscribe diffusion"))
    assert reply.status_code == 200 and reply.json()["response_type"] == "ephemeral"
    assert reply.json()["text"].startswith("Saved #1: `diffusion`. Papers are posted here as each paper is matched")
    add_papers(db)
    run_match_cycle(db, slack_settings)
    channel = slack_channel(slack_settings, db)
    report = await channel.deliver_due(utcnow())
    assert (report.messages, report.papers) == (2, 2)
    posted = double.channels[CHANNEL]
    assert all(m["metadata"]["event_type"] == "paperbell_post" for m in posted)
    assert "*<https://arxiv.org/abs/2501.0000" in posted[0]["blocks"][0]["text"]["text"]
    paper_id = posted[0]["blocks"][1]["elements"][0]["value"]

    press = {"type": "block_actions", "user": {"id": "U0MEMBER1"}, "channel": {"id": CHANNEL},
             "actions": [{"action_id": "paperbell_vote_up", "value": paper_id}],
             "response_url": f"{double.url}/actions/T0TEAM0001/1234/abcd"}
    answered = await slack_post(slack_settings, db, "/slack/interactivity", {"payload": json.dumps(press)})
    assert answered.status_code == 200
    assert double.responses == [{"text": "👍 noted: this channel's digests rank papers like this one higher.",
                                 "response_type": "ephemeral", "replace_original": False}]
    elsewhere = {**press, "response_url": "http://169.254.169.254/actions/x"}  # a crafted URL is never called
    await slack_post(slack_settings, db, "/slack/interactivity", {"payload": json.dumps(elsewhere)})
    assert len(double.responses) == 1
    with db.session() as session:
        votes = session.exec(select(PaperVote)).all()
    assert [(v.paper_id, v.vote, v.voter, v.channel) for v in votes] == [(int(paper_id), 1, "slack:U0MEMBER1", "slack")]
    listed = await slack_post(slack_settings, db, "/slack/commands", command("list"))
    assert "#1 `diffusion`" in listed.json()["text"]

    set_schedule(db, 1, schedule="daily", hour=0)
    add_papers(db, [(f"Diffusion paper {n}", "diffusion " * 40) for n in range(60)], start=100)
    run_match_cycle(db, slack_settings)
    report = await channel.deliver_due(utcnow() + timedelta(days=1))
    assert (report.messages, report.papers) == (3, 50)  # 24 + 24 + 2 papers; the rest waits for the next digest
    digests = double.channels[CHANNEL][2:]
    assert [len(m["blocks"]) for m in digests] == [49, 49, 5]
    assert digests[0]["blocks"][0]["text"]["text"] == "paperbell daily digest: 50 new papers (1/3)"
    assert double.refusals == [] and double.limited == 0


@pytest.mark.parametrize(("form", "secret", "age", "status"), [
    (command("list"), "wrong-secret", 0, 401),  # not signed by Slack
    (command("list"), SECRET, 6 * 60, 401),  # a replay from outside the five-minute window
    ({**command("list"), **{f"x{n}": "1" for n in range(70)}}, SECRET, 0, 400),  # a flood of form fields
    ({"text": "list"}, SECRET, 0, 400),  # signed, but not a slash command
])
async def test_unsigned_or_stale_requests_refused(slack_settings: Settings, db: Database, form: dict[str, str],
                                                  secret: str, age: int, status: int) -> None:
    reply = await slack_post(slack_settings, db, "/slack/commands", form, secret=secret, age=age)
    assert reply.status_code == status and reply.text.startswith("error: ")


@pytest.mark.parametrize("payload", ["not json", "[]", json.dumps({"type": "block_actions", "actions": [
    {"action_id": "paperbell_vote_up", "value": "1; drop table"}], "channel": {"id": CHANNEL}, "user": {"id": "U1"}})])
async def test_poison_button_payloads_change_nothing(slack_settings: Settings, db: Database, payload: str) -> None:
    reply = await slack_post(slack_settings, db, "/slack/interactivity", {"payload": payload})
    assert reply.status_code in (200, 400)
    with db.session() as session:
        assert session.exec(select(PaperVote)).all() == []


async def test_bad_query_and_usage_answered_in_one_line(slack_settings: Settings, db: Database) -> None:
    long = await slack_post(slack_settings, db, "/slack/commands", command("subscribe " + "x" * 3000))
    assert long.json()["text"].startswith("That is 3010 characters; a query is at most")
    bad = await slack_post(slack_settings, db, "/slack/commands", command('subscribe "unclosed'))
    assert bad.json()["text"].startswith("Not done: invalid query")
    usage = await slack_post(slack_settings, db, "/slack/commands", command("frobnicate"))
    assert usage.json()["text"].startswith("Usage: `/paperbell subscribe <query>`")


async def test_not_in_channel_pauses_with_reason(slack_settings: Settings, db: Database, double: SlackDouble) -> None:
    double.not_member.add(CHANNEL)
    subscriber = add_subscriber(db, slack_settings, "slack_channel", CHANNEL)
    add_subscription(db, slack_settings, subscriber.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, slack_settings)
    report = await slack_channel(slack_settings, db).deliver_due(utcnow())
    assert report.statuses == {"paused": 1}
    reason = get_subscriber(db, subscriber.id or 0).pause_reason or ""
    assert reason.startswith("Slack: not_in_channel (chat.postMessage): re-invite the app")


async def test_lost_reply_found_in_history_not_posted_twice(slack_settings: Settings, db: Database,
                                                            double: SlackDouble) -> None:
    subscriber = add_subscriber(db, slack_settings, "slack_channel", CHANNEL)
    add_subscription(db, slack_settings, subscriber.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, slack_settings)
    channel = slack_channel(slack_settings, db)
    double.channels[CHANNEL].append({"type": "message", "ts": f"{time.time():.6f}", "metadata": "junk"})  # malformed
    double.lose_replies = 1
    first = await channel.deliver_due(utcnow())
    assert first.statuses == {"retry_later": 1} and len(double.channels[CHANNEL]) == 2
    second = await channel.deliver_due(utcnow() + timedelta(hours=1))
    assert (second.messages, second.papers) == (2, 2)
    assert len(double.channels[CHANNEL]) == 3  # the first found by its metadata key, not posted again


async def test_webhook_added_by_cli_delivered_and_unknown_webhook_paused(
    slack_settings: Settings, db: Database, double: SlackDouble, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    live, gone = "T0TEAM0001/B0HOOK0001/abcdefghijklmnopqrstuvwx", "T0TEAM0001/B0HOOK0002/abcdefghijklmnopqrstuvwx"
    double.webhooks[live] = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(slack_settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", slack_settings.resolved_database_url())
    for path in (live, gone):
        added = CliRunner().invoke(app, ["slack", "add-webhook", f"https://hooks.slack.com/services/{path}",
                                         "diffusion", "--schedule", "instant"])
        assert added.exit_code == 0 and "next: papers are posted as each paper is matched" in added.stdout
    refused = CliRunner().invoke(app, ["slack", "add-webhook", "https://hooks.slack.com/services/oops", "x"])
    assert refused.exit_code == 1 and refused.stderr.startswith("error: not an incoming webhook path")
    add_papers(db)
    run_match_cycle(db, slack_settings)
    report = await slack_channel(slack_settings, db).deliver_due(utcnow())
    assert report.statuses == {"sent": 1, "paused": 1}
    assert len(double.webhooks[live]) == 2
    assert "no_service (incoming webhook)" in (get_subscriber(db, 2).pause_reason or "")
    shown = chat_facts(db, CHAT)["slack_webhook"]["paused_list"]
    assert [row["address"] for row in shown] == ["T0TEAM0001/B0HOOK0002/****"]  # the webhook's secret is never shown
    listed = CliRunner().invoke(app, ["subscribers", "list", "--json"])
    assert listed.exit_code == 0 and "B0HOOK0002/****" in listed.stdout
    assert all(path.rsplit("/", 1)[1] not in listed.stdout for path in (live, gone)), listed.stdout


@pytest.mark.parametrize(("retry_after", "outcome"), [(1, "sent"), (120, "retry_later")])
async def test_429_waited_out_or_retried_after_its_delay(slack_settings: Settings, db: Database, double: SlackDouble,
                                                        retry_after: int, outcome: str) -> None:
    subscriber = add_subscriber(db, slack_settings, "slack_channel", CHANNEL)
    add_subscription(db, slack_settings, subscriber.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, slack_settings)
    double.forced_429, double.retry_after = 1, retry_after
    now = utcnow()
    report = await slack_channel(slack_settings, db).deliver_due(now)
    assert report.statuses == {outcome: 1}
    later = get_subscriber(db, subscriber.id or 0).retry_after
    assert (later is not None and later >= now + timedelta(seconds=retry_after)) == (outcome == "retry_later")
