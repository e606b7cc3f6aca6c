"""Slack and ntfy renderers stay within the platforms' documented limits whatever a paper's text is
(hypothesis: long, astral, mrkdwn-control titles), and mrkdwn control characters never reach Slack raw."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.core.assembly import DigestItem, Recipient, build_digest
from digest.ntfy import render as ntfy
from digest.slack import render as slack
from storage.models import Subscriber
from tests.digest.slack.slack_double import block_errors

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
TEXT = st.text(min_size=1, max_size=5000)


def item(n: int, title: str, summary: str) -> DigestItem:
    return DigestItem(delivery_id=n, paper_id=n, subscription_id=1, query="q", title=title, summary=summary,
                      abs_url=f"https://arxiv.org/abs/2501.{n:05d}", authors=("A", "B"), published_at=NOW)


@settings(max_examples=40, deadline=None)
@given(TEXT, TEXT, st.integers(min_value=1, max_value=60))
def test_slack_digest_within_block_kit_limits(title: str, summary: str, count: int) -> None:
    items = [item(n, title, summary) for n in range(1, count + 1)]
    digest = build_digest(Recipient(1, "C0PAPERS01", schedule="daily"), items, now=NOW)
    rendered = slack.digest("daily", digest)
    assert all(block_errors(body["blocks"]) is None for _, body in rendered)
    assert sorted(i for ids, _ in rendered for i in ids) == list(range(1, count + 1))
    assert block_errors(slack.instant(items[0])["blocks"]) is None


@settings(max_examples=40, deadline=None)
@given(TEXT, TEXT, st.integers(min_value=1, max_value=60))
def test_ntfy_messages_within_4096_bytes(title: str, summary: str, count: int) -> None:
    subscriber = Subscriber(id=1, kind="ntfy_topic", address="topic", schedule="daily")
    items = [item(n, title, summary) for n in range(1, count + 1)]
    digest = build_digest(Recipient(1, "topic", schedule="daily"), items, now=NOW)
    for _, body in ntfy.digest(subscriber, digest):
        assert len(body["message"].encode()) <= ntfy.MESSAGE_BYTES


def test_mrkdwn_controls_are_escaped() -> None:
    section = slack.paper_section(item(1, "<!channel> & <https://evil|click>", "x > y"))["text"]["text"]
    assert "<!channel>" not in section and "&lt;!channel&gt; &amp; &lt;https://evil" in section
