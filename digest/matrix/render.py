"""Matrix messages: papers → `m.room.message` contents with an HTML `formatted_body` and a plain `body`.

Pure (plain data in, JSON-able dicts out, no matrix-nio import). Rules:
  - https://spec.matrix.org/v1.11/client-server-api/#mroommessage-msgtypes: `format:
    org.matrix.custom.html` with `formatted_body`, and `body` as the plain-text fallback; `m.notice`,
    the msgtype for automated posts, which bots must never answer (no bot loops).
  - https://spec.matrix.org/v1.11/client-server-api/#size-limits: a whole event is at most 65,536 bytes
    as canonical JSON, envelope (room id, sender, hashes, signatures) included; contents are kept to
    CONTENT_MAX bytes so the envelope has room, and a digest is split into as few events as fit.
  - the HTML uses only tags of the spec's suggested list (a, strong, em, code, br, p); every text from a
    source is escaped and every link passes the project's URL gate (`digest.core.links`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from markupsafe import escape

from digest.core.assembly import Digest, DigestItem
from digest.core.chat_text import clip
from digest.core.links import html_href, with_safe_links
from digest.core.templating import highlight, meta_parts

EVENT_MAX = 65_536  # bytes of the whole event (spec, "Size limits")
CONTENT_MAX = 60_000  # bytes of `content` as JSON: 5.5 KB left for the envelope a server adds
SUMMARY_MAX = {"instant": 1500, "digest": 600}
TITLE_MAX, META_MAX, QUERY_MAX, HEADER_QUERIES = 500, 500, 200, 10
Content = dict[str, Any]


def content_bytes(content: Content) -> int:
    """Bytes of `content` as the server stores it (UTF-8 JSON without spaces, as canonical JSON is)."""
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())


def _shorten(text: str, limit: int) -> str:
    """Whitespace folded, then cut to `limit` characters with "…" (digest.core.chat_text.clip, the shared cut)."""
    return clip(" ".join(text.split()), limit)


def _a(label: str, url: object) -> str:
    href = html_href(url)
    return f'<a href="{escape(href)}">{label}</a>' if href else label


def paper(item: DigestItem, *, number: int | None = None, summary_max: int = SUMMARY_MAX["instant"]
          ) -> tuple[str, str]:
    """One paper as (HTML, plain text)."""
    item = with_safe_links(item)
    title = _shorten(item.title or item.canonical_id, TITLE_MAX) or "(untitled paper)"
    prefix = f"{number}. " if number is not None else ""
    html = [f"{prefix}<strong>{_a(str(escape(title)), item.abs_url)}</strong>"]
    plain = [prefix + title + (f" <{item.abs_url}>" if item.abs_url else "")]
    meta = _shorten(" · ".join(meta_parts(item)), META_MAX)
    if meta:
        html.append(f"<em>{escape(meta)}</em>")
        plain.append(meta)
    if item.reason:
        html.append(str(escape(item.reason)))
        plain.append(item.reason)
    text = _shorten(item.summary or item.snippet, summary_max)
    if text:
        html.append(str(highlight(text, item.matched_words)).replace("<mark>", "<strong>").replace("</mark>",
                                                                                                  "</strong>"))
        plain.append(text)
    links = [(name, url) for name, url in (("PDF", item.pdf_url), ("Hugging Face", item.hf_url),
                                            ("Code", item.code_url)) if url]
    query = _shorten(item.query, QUERY_MAX)
    tail = [_a(name, url) for name, url in links] + ([f"query <code>{escape(query)}</code>"] if query else [])
    if tail:
        html.append(" · ".join(tail))
        plain.append(" · ".join([f"{name}: {url}" for name, url in links] + ([f"query: {query}"] if query else [])))
    return "<br>".join(html), "\n".join(plain)


def raw_content(html_blocks: Sequence[str], plain_blocks: Sequence[str]) -> Content:
    return {"msgtype": "m.notice", "body": "\n\n".join(plain_blocks), "format": "org.matrix.custom.html",
            "formatted_body": "".join(f"<p>{block}</p>" for block in html_blocks)}


def content(html_blocks: Sequence[str], plain_blocks: Sequence[str]) -> Content:
    """The event content; `fit` last, so no content ever leaves over CONTENT_MAX."""
    return fit(raw_content(html_blocks, plain_blocks))


def fit(value: Content) -> Content:
    """`value` when within CONTENT_MAX bytes, else its plain text shortened until it fits, shown as both bodies.

    The renderers bound every field, so this only catches what they did not foresee (text that JSON
    escapes six-fold); cutting plain text never leaves an unclosed tag behind.
    """
    if content_bytes(value) <= CONTENT_MAX:
        return value
    body = str(value.get("body", ""))
    limit = len(body)
    while True:
        limit = limit * 3 // 4
        short = _shorten(body, max(limit, 1))
        candidate = {**value, "body": short, "formatted_body": str(escape(short)).replace("\n", "<br>")}
        if content_bytes(candidate) <= CONTENT_MAX or limit <= 1:
            return candidate


def instant_contents(items: Sequence[DigestItem]) -> list[tuple[list[int], Content]]:
    """One event per paper: (delivery ids, content)."""
    out = []
    for item in items:
        html, plain = paper(item)
        out.append(([item.delivery_id], content([html], [plain])))
    return out


def _header(digest: Digest, period: str, part: int, parts: int) -> tuple[str, str]:
    counts = [(_shorten(g.query, 80), len(g.items)) for g in digest.groups[:HEADER_QUERIES]]
    more = sum(g.more for g in digest.groups)
    if len(digest.groups) > HEADER_QUERIES:
        rest = digest.groups[HEADER_QUERIES:]
        counts.append((f"{len(rest)} more queries", sum(len(g.items) for g in rest)))
    numbered = f" · part {part}/{parts}" if parts > 1 else ""
    tail = f" (+{more} more next time)" if more else ""
    html = (f"📬 <strong>paperbell {escape(period)} digest</strong>{numbered}<br>"
            + ", ".join(f"<code>{escape(q)}</code> {n}" for q, n in counts) + tail)
    plain = f"📬 paperbell {period} digest{numbered}\n" + ", ".join(f"{q}: {n}" for q, n in counts) + tail
    return html, plain


def digest_contents(digest: Digest, period: str) -> list[tuple[list[int], Content]]:
    """A digest as few events as CONTENT_MAX allows, a header with the query counts atop each."""
    chunks: list[list[tuple[DigestItem, str, str]]] = [[]]
    for number, item in enumerate(digest.items, start=1):
        html, plain = paper(item, number=number, summary_max=SUMMARY_MAX["digest"])
        candidate = chunks[-1] + [(item, html, plain)]
        header = _header(digest, period, 99, 99)  # the widest header a part can get
        if chunks[-1] and content_bytes(raw_content([header[0]] + [c[1] for c in candidate],
                                                [header[1]] + [c[2] for c in candidate])) > CONTENT_MAX:
            chunks.append([(item, html, plain)])
        else:
            chunks[-1] = candidate
    chunks = [chunk for chunk in chunks if chunk]
    out = []
    for number, chunk in enumerate(chunks, start=1):
        head_html, head_plain = _header(digest, period, number, len(chunks))
        out.append(([item.delivery_id for item, _, _ in chunk],
                    content([head_html] + [h for _, h, _ in chunk], [head_plain] + [p for _, _, p in chunk])))
    return out
