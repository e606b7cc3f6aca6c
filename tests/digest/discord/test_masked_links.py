"""No live masked link can be formed from a source field on any Discord render path: every `[text](target)`
Discord would render in a message we build points at one of the paper's own links, through the URL gate.

The scanner follows Discord's markdown (simple-markdown's `escape` and `link` rules): a backslash escapes the
next punctuation character, and a link is `[inside](<?href>?)` with balanced brackets inside and simple
parentheses in the href. It reports every candidate position, also nested ones, so it errs on the side
of finding a link. Embed titles, author names, footers and thread names are plain text in Discord.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.replies import preview_lines
from digest.core.assembly import DigestItem, Recipient, build_digest
from digest.core.links import markdown_link_target, safe_http_url
from digest.discord.render import digest_messages, instant_messages, paper_embed
from digest.discord.styles import styled_digest, styled_instant, with_role_mention
from digest.query import Explanation
from digest.services.preview import Preview
from storage.models import Paper

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
_INSIDE = r"(?:\[[^\]]*\]|[^\[\]]|\](?=[^\[]*\]))*"
_HREF = r"\s*<?((?:\([^)]*\)|[^\s\\]|\\.)*?)>?(?:\s+['\"]([\s\S]*?)['\"])?\s*"
LINK = re.compile(r"\[(" + _INSIDE + r")\]\(" + _HREF + r"\)")
POISON_URLS = [
    "/posts/3", "javascript:alert(1)", "https://u:p@host.example/", "https://example.org/a)",
    "https://example.org/x) [Free Nitro](https://evil.example", "https://example.org/a>b](https://evil.example)",
    "https://example.org/ok", "http://[::1]/x", "data:text/html,x", "https://example.org/\u202e",
]
POISON_TEXT = ["[x](https://evil.example)", "\\[x](https://evil.example)", "[a]([b](https://evil.example))",
               "**[x](<https://evil.example>)**", "`[x](https://evil.example)`", "\\", "]("]
urls = st.one_of(st.none(), st.sampled_from(POISON_URLS), st.text(max_size=40),
                 st.builds(lambda tail: "https://example.org/" + tail, st.text(max_size=40)))
pieces = st.sampled_from([*POISON_TEXT, "diffusion", " ", "(", ")", "<", ">"])
texts = st.one_of(st.text(max_size=60), st.sampled_from(POISON_TEXT), st.lists(pieces, max_size=8).map("".join))


def masked_links(text: str) -> list[tuple[str, str]]:
    """(inside, href) of every masked link Discord could render in `text`."""
    found = []
    index = 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and not text[index + 1].isalnum() \
                and not text[index + 1].isspace():
            index += 2  # an escaped character is literal text
            continue
        if text[index] == "[":
            match = LINK.match(text, index)
            if match:
                found.append((match.group(1), match.group(2)))
        index += 1
    return found


def markdown_of(message: dict[str, Any]) -> list[str]:
    """Every part of a message Discord renders as markdown: content, embed descriptions and field values."""
    parts = [str(message.get("content") or "")]
    for embed in message.get("embeds", []):
        parts.append(str(embed.get("description", "")))
        parts += [str(f.get("value", "")) for f in embed.get("fields", [])]
    return parts


@st.composite
def papers(draw: st.DrawFn) -> list[DigestItem]:
    count = draw(st.integers(1, 4))
    return [DigestItem(delivery_id=n, paper_id=n, subscription_id=1, query="diffusion", title=draw(texts),
                       abs_url=draw(urls), pdf_url=draw(urls), hf_url=draw(urls), code_url=draw(urls),
                       authors=tuple(draw(st.lists(texts, max_size=2))), summary=draw(texts), snippet=draw(texts),
                       matched_words=("diffusion",), canonical_id=f"2501.{n:05d}")
            for n in range(1, count + 1)]


def every_render(items: list[DigestItem]) -> list[dict[str, Any]]:
    digest = build_digest(Recipient(1, "#papers", None, "UTC", "daily"), items, now=NOW)
    messages = [m for _, m in instant_messages(items) + digest_messages(digest, "daily")]
    for style in ("compact", "titles"):
        messages += [m for _, m in styled_instant(items, style) + styled_digest(digest, "daily", style)]
    messages += [with_role_mention(m, "123") for m in list(messages)]
    examples = [(Paper(id=i.paper_id, canonical_id=i.canonical_id, title=i.title, abs_url=i.abs_url),
                 Explanation(matched_words=["diffusion"])) for i in items]
    messages.append({"content": preview_lines(Preview(len(items), examples))})  # /subscribe, /admin subscribe
    return messages


@settings(max_examples=150, deadline=None)
@given(papers())
def test_every_masked_link_points_at_the_papers_own_gated_link(items: list[DigestItem]) -> None:
    allowed = {markdown_link_target(url) for item in items
               for url in (item.abs_url, item.pdf_url, item.hf_url, item.code_url)} - {None}
    allowed |= {markdown_link_target(f"https://arxiv.org/abs/{item.canonical_id}")  # the preview's fallback
                for item in items if not item.abs_url}
    for message in every_render(items):
        for embed in message.get("embeds", []):
            assert "url" not in embed or safe_http_url(embed["url"]) == embed["url"]
        for text in markdown_of(message):
            for inside, href in masked_links(text):
                assert href in allowed, (inside, href, text)


def test_the_scanner_finds_what_discord_would_link() -> None:
    assert masked_links("a [x](https://evil.example) b") == [("x", "https://evil.example")]
    assert masked_links("[PDF](<https://arxiv.org/pdf/1>)") == [("PDF", "https://arxiv.org/pdf/1")]
    assert masked_links("\\[x\\]\\(https://evil.example\\)") == []
    assert masked_links("[PDF](https://e.org/x) [Free](https://evil.example)")[-1][1] == "https://evil.example"


def test_a_hostile_pdf_link_and_title_render_inert() -> None:
    item = DigestItem(delivery_id=1, paper_id=1, subscription_id=1, query="q", title="[x](https://evil.example)",
                      abs_url="javascript:alert(1)", pdf_url="https://example.org/x)[Free](https://evil.example",
                      code_url="https://u:p@host.example/", canonical_id="2501.00001")
    embed = paper_embed(item)
    assert "url" not in embed, "Discord would refuse the whole message for a javascript: embed url"
    assert masked_links(embed["description"]) == [("PDF", "https://example.org/x%29%5BFree%5D%28https://evil.example")]
    [(_, line)] = styled_instant([item], "compact")
    assert masked_links(line["content"]) == [] and "\\[x\\]" in line["content"]
