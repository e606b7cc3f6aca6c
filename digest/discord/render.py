"""Discord message rendering: papers → embed dicts from `templates/discord/`, packed within Discord's limits.

Pure (plain data in, JSON-able dicts out, no discord.py import), so the delivery service, the outbox
writer, the cogs (via `discord.Embed.from_dict`) and the benchmark all share it. `clip_message` is the
ONE clipping step every outgoing message passes last (digest.discord.placer.body_of, bot.replies.answer).
Limits enforced (Discord API docs, "Embed Limits"): title 256, description 4096, 25 fields (name 256, value 1024),
footer 2048, author 256, 6000 characters over all embeds of a message, 10 embeds per message,
message content 2000. Over-long text is cut at a word boundary with "…", never mid-markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from digest.core.assembly import Digest, DigestItem, shorten_authors
from digest.core.links import embed_url, markdown_link_target, with_safe_links
from digest.core.readable import source_label
from digest.core.templating import templates_dir

TITLE_MAX, DESCRIPTION_MAX, FIELDS_MAX, FIELD_NAME_MAX, FIELD_VALUE_MAX = 256, 4096, 25, 256, 1024
FOOTER_MAX, AUTHOR_MAX, MESSAGE_TOTAL_MAX, EMBEDS_PER_MESSAGE, CONTENT_MAX = 2048, 256, 6000, 10, 2000
COLOR = 0xB31B1B  # arXiv red
_MARKDOWN = re.compile(r"([\\*_`~|>\[\]()#-])")

Message = dict[str, Any]
Embed = dict[str, Any]


def escape_markdown(text: str) -> str:
    """Text from outside (titles, abstracts) must not turn into Discord formatting or links."""
    return _MARKDOWN.sub(r"\\\1", text)


def masked_link(label: str, url: object) -> str:
    """`[label](<url>)` when the URL passes the gate (percent-encoded for a Markdown target), else `label` alone.

    `label` is Discord markdown already escaped by the caller (`escape_markdown`/`highlight`); the angle
    brackets keep Discord from adding a preview card per link.
    """
    target = markdown_link_target(url)
    return f"[{label}](<{target}>)" if target is not None else label


def clip(text: str, limit: int) -> str:
    """`text` if it fits, else cut at the last word boundary (or hard) with '…' so it is ≤ limit."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    # never end on a dangling escape or an unclosed bold marker
    cut = cut.rstrip("\\ ")
    if cut.count("**") % 2:  # a bold run was cut open: drop its opening marker, keep the words
        start = cut.rfind("**")
        cut = (cut[:start] + cut[start + 2 :]).rstrip()
    return cut + "…"


def _clip_embed(embed: Embed) -> Embed:
    out = dict(embed)
    for key, limit in (("title", TITLE_MAX), ("description", DESCRIPTION_MAX)):
        if key in out:
            out[key] = clip(str(out[key]), limit) or "\u200b"
    if "footer" in out:
        out["footer"] = {**out["footer"], "text": clip(str(out["footer"].get("text", "")), FOOTER_MAX) or "\u200b"}
    if "author" in out:
        out["author"] = {**out["author"], "name": clip(str(out["author"].get("name", "")), AUTHOR_MAX) or "\u200b"}
    if "fields" in out:  # Discord refuses empty field names/values: a zero-width space stands in
        out["fields"] = [{**f, "name": clip(str(f.get("name", "")), FIELD_NAME_MAX) or "\u200b",
                          "value": clip(str(f.get("value", "")), FIELD_VALUE_MAX) or "\u200b"}
                         for f in out["fields"][:FIELDS_MAX]]
    return out


def _longest_text(embeds: list[Embed]) -> tuple[Embed, str | int] | None:
    """The embed and key (a description, or a field index) holding the most shortenable text."""
    best: tuple[int, Embed, str | int] | None = None
    for embed in embeds:
        if len(embed.get("description", "")) > 1:
            best = max(best or (0, embed, ""), (len(embed["description"]), embed, "description"), key=lambda b: b[0])
        for index, f in enumerate(embed.get("fields", [])):
            if len(f["value"]) > 1:
                best = max(best or (0, embed, ""), (len(f["value"]), embed, index), key=lambda b: b[0])
    return (best[1], best[2]) if best else None


def clip_message(message: Message) -> Message:
    """Any message within Discord's limits: content 2000, 10 embeds, each embed's fields, 6000 in all.

    Applied last, to everything the bot sends; over the 6000 total, the longest description or field
    value is shortened first, then trailing embeds are dropped.
    """
    out = dict(message)
    if out.get("content") is not None:
        out["content"] = clip(str(out["content"]), CONTENT_MAX)
    if "embeds" not in out:
        return out
    embeds = [_clip_embed(e) for e in out["embeds"][:EMBEDS_PER_MESSAGE]]
    while (excess := sum(embed_length(e) for e in embeds) - MESSAGE_TOTAL_MAX) > 0:
        found = _longest_text(embeds)
        if found is None:
            embeds.pop()
            continue
        embed, key = found
        if isinstance(key, str):
            embed[key] = clip(embed[key], max(1, len(embed[key]) - excess))
        else:
            field = embed["fields"][key] = dict(embed["fields"][key])
            field["value"] = clip(field["value"], max(1, len(field["value"]) - excess))
    out["embeds"] = embeds
    return out


def highlight(text: str, words: Sequence[str]) -> str:
    """Escape `text` for Discord markdown and put each matched word in bold."""
    escaped = escape_markdown(" ".join(text.split()))
    wanted = sorted({w for w in words if w.strip()}, key=len, reverse=True)
    if not wanted:
        return escaped
    return _bold_pattern(tuple(wanted)).sub(r"**\1**", escaped)


@lru_cache(maxsize=4096)
def _bold_pattern(wanted: tuple[str, ...]) -> re.Pattern[str]:
    """Compiled once per set of matched words: a delivery pass has more word sets than `re`'s own cache holds."""
    return re.compile(r"\b(" + "|".join(re.escape(escape_markdown(w)) for w in wanted) + r")\b", re.IGNORECASE)


def _code(text: str) -> str:
    return text.replace("`", "ˋ")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir() / "discord")),
        autoescape=False,  # Discord markdown, not HTML: escaping is done by the `highlight`/`md` filters
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code: no file check per rendered paper
    )
    env.filters["highlight"] = highlight
    env.filters["md"] = escape_markdown
    env.filters["code"] = _code
    return env


def render_text(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context).strip()


def embed_length(embed: Embed) -> int:
    """Characters Discord counts toward the 6000 limit: title, description, fields, footer, author."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    total += len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
    return total


def _source_names(item: DigestItem, sources: Sequence[str]) -> list[str]:
    """Where the paper came from, for the footer, in readers' names ("arXiv", a feed's title, a file's name)."""
    if sources:
        return list(dict.fromkeys(source_label(spec) for spec in sources))
    if item.source:
        return [item.source]
    names = []
    if not item.canonical_id.startswith(("doi:", "hash:")):
        names.append("arXiv")
    if item.hf_url:
        names.append("Hugging Face")
    return names


# A paper's own parts are the same in every digest it is in: made once per paper, not once per subscriber
# (bounded; only what a key holds reaches its template, StrictUndefined: another field fails, never goes stale).
@lru_cache(maxsize=4096)
def _links(pdf_url: str | None, hf_url: str | None, code_url: str | None) -> tuple[str, ...]:
    return tuple(masked_link(name, url) for name, url in (("PDF", pdf_url), ("Hugging Face", hf_url),
                                                          ("Code", code_url)) if url)


@lru_cache(maxsize=4096)
def _footer(canonical_id: str, upvotes: int | None, sources: tuple[str, ...]) -> str:
    paper = SimpleNamespace(canonical_id=canonical_id, upvotes=upvotes)
    return clip(render_text("paper_footer.txt.j2", item=paper, sources=sources), FOOTER_MAX)


@lru_cache(maxsize=4096)
def _description(summary: str, words: tuple[str, ...], reason: str, snippet: str, links: tuple[str, ...]) -> str:
    """The same paper matched by the same words (a query many subscribers share) reads the same."""
    paper = SimpleNamespace(summary=summary, matched_words=words, reason=reason, snippet=snippet)
    return clip(render_text("paper_description.md.j2", item=paper, links=links), DESCRIPTION_MAX)


@lru_cache(maxsize=4096)
def _author(authors: tuple[str, ...]) -> str:
    return clip(shorten_authors(authors), AUTHOR_MAX)


def paper_embed(item: DigestItem, *, sources: Sequence[str] = ()) -> Embed:
    """One paper: linked title, authors, categories, summary with matched words in bold, footer facts."""
    item = with_safe_links(item)  # the one URL gate (digest.core.links), whoever built the item
    embed: Embed = {
        "type": "rich",
        "title": clip(item.title or item.canonical_id, TITLE_MAX),
        "description": _description(item.summary, tuple(item.matched_words), item.reason, item.snippet,
                                    _links(item.pdf_url, item.hf_url, item.code_url)),
        "color": COLOR,
        "footer": {"text": _footer(item.canonical_id, item.upvotes, tuple(_source_names(item, sources)))},
    }
    url = embed_url(item.abs_url)
    if url is not None:  # Discord refuses the whole message (400 50035) for a non-http(s) embed url
        embed["url"] = url
    if item.authors:
        embed["author"] = {"name": _author(tuple(item.authors))}
    fields = []
    if item.categories:
        fields.append({"name": "Categories", "value": clip(", ".join(item.categories), FIELD_VALUE_MAX),
                       "inline": True})
    if item.query:
        fields.append({"name": "Matched query", "value": clip(f"`{_code(item.query)}`", FIELD_VALUE_MAX),
                       "inline": True})
    if fields:
        embed["fields"] = fields[:FIELDS_MAX]
    if item.published_at is not None and item.date_kind == "published":  # never a first-seen date posing as one
        embed["timestamp"] = item.published_at.isoformat()
    return embed


def pack(embeds: Iterable[Embed], content: str | None = None) -> list[Message]:
    """Group embeds into as few messages as the limits allow (≤10 embeds and ≤6000 characters each).

    An embed that alone exceeds 6000 characters has its description shortened until it fits.
    """
    messages: list[Message] = []
    current: list[Embed] = []
    size = 0
    for embed in embeds:
        length = embed_length(embed)
        if length > MESSAGE_TOTAL_MAX:
            embed = dict(embed)
            room = MESSAGE_TOTAL_MAX - (length - len(embed.get("description", "")))
            embed["description"] = clip(embed.get("description", ""), max(room, 1))
            length = embed_length(embed)
        if current and (len(current) == EMBEDS_PER_MESSAGE or size + length > MESSAGE_TOTAL_MAX):
            messages.append({"embeds": current})
            current, size = [], 0
        current.append(embed)
        size += length
    if current:
        messages.append({"embeds": current})
    if content is not None:
        if not messages:
            messages.append({})
        messages[0]["content"] = clip(content, CONTENT_MAX)
    for message in messages:
        message["allowed_mentions"] = {"parse": []}  # a paper title can never ping anyone
    return messages


def instant_messages(items: Sequence[DigestItem]) -> list[tuple[list[int], Message]]:
    """One message per paper (instant posts); returns (delivery ids, message) pairs."""
    return [([item.delivery_id], pack([paper_embed(item)])[0]) for item in items]


def digest_messages(digest: Digest, period: str) -> list[tuple[list[int], Message]]:
    """A digest as batched embed messages; the first carries a header listing each query's count."""
    items = digest.items
    bodies = pack(paper_embed(item) for item in items)
    out: list[tuple[list[int], Message]] = []
    index = 0
    for number, body in enumerate(bodies, start=1):
        count = len(body["embeds"])
        ids = [item.delivery_id for item in items[index : index + count]]
        index += count
        header = render_text("digest_header.md.j2", digest=digest, period=period, part=number,
                             part_count=len(bodies))
        body["content"] = clip(header, CONTENT_MAX)
        out.append((ids, body))
    return out
