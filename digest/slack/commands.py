"""`/paperbell` inside Slack: subscribe this channel to a query, list its queries, search, unsubscribe.

Called by digest.slack.routes with the verified slash-command form
(https://api.slack.com/interactivity/slash-commands#app_command_handling: `text`, `channel_id`,
`user_id`, `team_id`, `channel_name`). Blocking (database, query parsing): run in a worker thread.
Answers are ephemeral (only the member sees them) and always say what happened and what next; the
channel is the subscriber (kind `slack_channel`, address = channel id), so everyone in it gets the
posts. Every path goes through the same service functions (and validation) as the CLI and Discord.
"""

from __future__ import annotations

from typing import Any

from digest.core.chat_text import clip
from digest.query import QueryError
from digest.services.errors import ServiceError
from digest.services.preview import preview_query
from digest.services.subscribers import (
    add_subscriber,
    find_subscriber,
    list_subscriptions,
    remove_subscription,
    subscribe,
)
from digest.slack.render import SECTION_CHARS, escape
from digest.slack.settings import SlackSettings
from digest.slack.spec import CHANNEL
from storage.db import Database
from storage.models import Subscriber

USAGE = ("Usage: `/paperbell subscribe <query>` · `/paperbell list` · `/paperbell search <query>` · "
         "`/paperbell unsubscribe <id>`; a query is e.g. `\"sparse autoencoder\" -ti:survey`")
MAX_TEXT = 2000  # the query language's own limit applies after this; longer text is not a query
SEARCH_SHOWN = 5


def _say(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": clip(text, SECTION_CHARS)}


def answer(settings: SlackSettings, db: Database, form: dict[str, str]) -> dict[str, Any]:
    """The slash command's reply (Slack's JSON response body)."""
    text = form.get("text", "").strip()
    if len(text) > MAX_TEXT:
        return _say(f"That is {len(text)} characters; a query is at most {settings.query_max_length}.")
    verb, _, rest = text.partition(" ")
    rest = rest.strip()
    try:
        if verb == "subscribe" and rest:
            return _subscribe(settings, db, form, rest)
        if verb == "list":
            return _list(db, form["channel_id"])
        if verb == "search" and rest:
            return _search(settings, db, rest)
        if verb == "unsubscribe" and rest:
            return _unsubscribe(db, form["channel_id"], rest)
    except ServiceError as exc:
        return _say(f"Not done: {exc}")
    return _say(USAGE)


def _channel(db: Database, channel_id: str) -> Subscriber | None:
    return find_subscriber(db, CHANNEL, channel_id)


def _subscribe(settings: SlackSettings, db: Database, form: dict[str, str], query: str) -> dict[str, Any]:
    channel = _channel(db, form["channel_id"]) or add_subscriber(
        db, settings, CHANNEL, form["channel_id"],
        guild_id=(form.get("team_id") or "")[:32] or None, display_name=(form.get("channel_name") or "")[:100] or None)
    assert channel.id is not None
    added = subscribe(db, settings, channel.id, query, created_by=f"slack:{form['user_id'][:50]}")
    when = "as each paper is matched" if channel.schedule == "instant" else f"in the {channel.schedule} digest"
    paused = f" This channel is paused ({channel.pause_reason}); ask an admin to resume it." if channel.paused else ""
    waiting = (" Posting is not set up yet (PAPERBELL_SLACK_BOT_TOKEN): papers wait until the admin sets it."
               if settings.slack_bot_token is None else "")
    return _say(f"Saved #{added.subscription.id}: `{escape(query)}`. Papers are posted here {when}; the app must "
                f"be in this channel (`/invite @paperbell`).{paused}{waiting}")


def _list(db: Database, channel_id: str) -> dict[str, Any]:
    channel = _channel(db, channel_id)
    if channel is None or channel.id is None:
        return _say("This channel has no queries yet: `/paperbell subscribe <query>` adds one.")
    rows = list_subscriptions(db, subscriber_id=channel.id)
    lines = [f"#{s.id} `{escape(clip(s.query, 200))}`{' (paused)' if s.paused else ''}" for s in rows]
    state = f"paused: {channel.pause_reason}" if channel.paused else f"{channel.schedule} posts"
    return _say("\n".join([f"This channel's queries ({state}):", *lines] if lines else
                          ["No queries: `/paperbell subscribe <query>` adds one."]))


def _search(settings: SlackSettings, db: Database, query: str) -> dict[str, Any]:
    try:
        found = preview_query(db, settings, query, days=30, limit=SEARCH_SHOWN, stop_after=2000)
    except QueryError as exc:
        return _say(f"Not a valid query: {exc}")
    if not found.examples:
        return _say(f"No stored paper of the last 30 days matches `{escape(query)}`.")
    lines = [f"{found.count}{'+' if not found.complete else ''} papers of the last 30 days match; the newest:"]
    for paper, _ in found.examples:
        title = escape(clip(" ".join(paper.title.split()), 200))
        lines.append(f"• <{paper.abs_url}|{title}>" if paper.abs_url and "|" not in paper.abs_url else f"• {title}")
    lines.append(f"`/paperbell subscribe {escape(query)}` posts new ones here.")
    return _say("\n".join(lines))


def _unsubscribe(db: Database, channel_id: str, ref: str) -> dict[str, Any]:
    channel = _channel(db, channel_id)
    number = ref.lstrip("#")
    if channel is None or not number.isdigit() or len(number) > 12:
        return _say(f"No query {escape(clip(ref, 40))} in this channel: `/paperbell list` shows them.")
    removed = remove_subscription(db, int(number), owner_id=channel.id)
    return _say(f"Removed #{removed.id}: `{escape(removed.query)}`.")
