"""Papers as ntfy notifications (the JSON publish body) within ntfy's documented limits.

https://docs.ntfy.sh/publish/#publish-as-json: `topic`, `title`, `message`, `tags`, `priority`,
`click`, `actions`. https://docs.ntfy.sh/publish/#limitations: a message is at most 4,096 bytes (a
longer one becomes an attachment, or is refused where attachments are off); the JSON body at most
twice that (server.go: `MessageSizeLimit*2`). https://docs.ntfy.sh/publish/#action-buttons: up to
three actions. An instant post is one paper: its title, authors and snippet, a tap opens the
abstract, and 👍/👎 (signed vote links, digest.services.vote_links) and PDF are its actions. A digest
is the papers' title lines packed into as few notifications as 4,096 bytes allow.
"""

from __future__ import annotations

from typing import Any

from digest.core.assembly import Digest, DigestItem, shorten_authors
from digest.core.chat_text import clip, pack, utf8_bytes
from digest.ntfy.settings import NtfySettings
from digest.services.digest_extras import DigestExtras, updates_text
from digest.services.posting import Rendered
from digest.services.vote_links import vote_urls
from storage.models import Subscriber

MESSAGE_BYTES = 4096  # https://docs.ntfy.sh/publish/#limitations ("Message length")
JSON_BYTES = 2 * MESSAGE_BYTES  # server.go transformBodyJSON: readJSONWithLimit(MessageSizeLimit*2)
TITLE_CHARS = 250  # no documented title limit; kept short so the whole body stays far below JSON_BYTES
MAX_ACTIONS = 3  # https://docs.ntfy.sh/publish/#action-buttons ("up to three user actions")
URL_CHARS = 1000  # each URL field; with three actions and a click the JSON body stays under JSON_BYTES


def _actions(settings: NtfySettings, subscriber: Subscriber, item: DigestItem) -> list[dict[str, Any]]:
    assert subscriber.id is not None
    up, down = vote_urls(settings, subscriber.id, subscriber.address, item.paper_id)
    links = [("👍", up), ("👎", down)] + ([("PDF", item.pdf_url)] if item.pdf_url else [])
    return [{"action": "view", "label": label, "url": url, "clear": label != "PDF"}
            for label, url in links if len(url) <= URL_CHARS][:MAX_ACTIONS]


def instant(settings: NtfySettings, subscriber: Subscriber, item: DigestItem) -> dict[str, Any]:
    """One paper as one notification."""
    lines = [shorten_authors(item.authors)] if item.authors else []
    if item.snippet or item.summary:
        lines.append(item.snippet or item.summary)
    lines.append(f"Query: {item.query}")
    body: dict[str, Any] = {
        "topic": subscriber.address,
        "title": clip(item.title, TITLE_CHARS),
        "message": clip("\n".join(lines), MESSAGE_BYTES, utf8_bytes),
        "tags": ["page_facing_up"],
        "actions": _actions(settings, subscriber, item),
    }
    if item.abs_url and len(item.abs_url) <= URL_CHARS:
        body["click"] = item.abs_url
    return body


def _line(item: DigestItem) -> str:
    link = f"\n{item.abs_url}" if item.abs_url and len(item.abs_url) <= URL_CHARS else ""
    return f"• {clip(item.title, 300)}{link}"


def digest(subscriber: Subscriber, digest: Digest) -> list[Rendered]:
    """The digest's papers, grouped by query, as few notifications as the byte limit allows."""
    entries: list[tuple[int, str]] = []
    for group in digest.groups:
        for index, item in enumerate(group.items):
            heading = f"【{clip(group.query, 200)}】\n" if index == 0 else ""
            entries.append((item.delivery_id, heading + _line(item)))
    posts = pack(entries, MESSAGE_BYTES, utf8_bytes)
    count = len(posts)
    rendered: list[Rendered] = []
    for number, (ids, text) in enumerate(posts, start=1):
        part = f" ({number}/{count})" if count > 1 else ""
        title = f"paperbell {subscriber.schedule} digest: {digest.shown} new paper{'s' * (digest.shown != 1)}{part}"
        rendered.append((ids, {"topic": subscriber.address, "title": title, "message": text, "tags": ["books"]}))
    return rendered


def updates(subscriber: Subscriber, extras: DigestExtras) -> dict[str, Any] | None:
    """Updates to papers the topic received (and its queries' health) as one notification, or None."""
    text = updates_text(extras, MESSAGE_BYTES, utf8_bytes)
    if text is None:
        return None
    return {"topic": subscriber.address, "title": "paperbell: updates", "message": text, "tags": ["bell"]}
