"""A channel's own message template and embed colour, as server admins know them from MonitoRSS.

Pure. An admin's template is hostile input: `validate_template` refuses it at the door with one line
(unknown placeholder, a format spec or attribute access, unbalanced braces, over `TEMPLATE_MAX`), so what is
stored always renders. Placeholders are `{title}`, `{authors}`, `{link}`, `{tldr}`, `{matched}`, `{query}`,
`{categories}`; `{{` and `}}` are literal braces. Each value is escaped Discord markdown (a title cannot
become a link or a ping); `{link}` is the paper's page through the one URL gate (digest.core.links), empty
when the address is not http(s). The template becomes each paper embed's text (style `full`; title, link,
author line and footer stay as digest.discord.render builds them), and everything passes `clip_message`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from string import Formatter

from digest.core.assembly import DigestItem, shorten_authors
from digest.core.links import markdown_link_target
from digest.discord.render import Message, clip_message, escape_markdown, highlight

TEMPLATE_MAX = 1000  # stored column width; well within an embed's 4096-character text
PLACEHOLDERS = ("title", "authors", "link", "tldr", "matched", "query", "categories")
COLOR_MAX = 0xFFFFFF
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


class TemplateError(ValueError):
    """Why a template or colour is refused, in one line."""


def validate_template(text: str) -> str:
    """The template as stored (trimmed), or TemplateError naming the first problem."""
    template = text.strip()
    if not template:
        raise TemplateError("the template is empty")
    if len(template) > TEMPLATE_MAX:
        raise TemplateError(f"the template is {len(template)} characters; at most {TEMPLATE_MAX}")
    known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    try:
        fields = list(Formatter().parse(template))
    except ValueError as error:  # "Single '}' encountered", "expected '}' before end of string"
        raise TemplateError(f"unbalanced braces ({error}); write {{{{ or }}}} for a literal brace") from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise TemplateError(f"unknown placeholder {{{name}}}; use {known}")
        if spec or conversion:
            raise TemplateError(f"{{{name}}} takes no format options; use {known}")
    return template


def parse_color(text: str) -> int:
    """'#1e90ff' or '1e90ff' → 0x1E90FF; anything else is refused."""
    found = _HEX.match(text.strip())
    if found is None:
        raise TemplateError(f"a colour is six hex digits like #1e90ff, not {text.strip()[:20]!r}")
    return int(found.group(1), 16)


def values(item: DigestItem) -> dict[str, str]:
    """What each placeholder stands for, for one paper (escaped markdown; the link through the URL gate)."""
    return {
        "title": escape_markdown(" ".join((item.title or item.canonical_id).split())),
        "authors": escape_markdown(shorten_authors(item.authors)),
        "link": markdown_link_target(item.abs_url) or "",
        "tldr": highlight(item.summary, item.matched_words),
        "matched": escape_markdown(", ".join(item.matched_words)),
        "query": escape_markdown(item.query),
        "categories": escape_markdown(", ".join(item.categories)),
    }


def render(template: str, item: DigestItem) -> str:
    """A validated template filled in for one paper."""
    return template.format_map(values(item)).strip() or "\u200b"


def templated(message: Message, items: Sequence[DigestItem], template: str | None, color: int | None) -> Message:
    """`message` with each paper embed's text from `template` and its colour from `color`.

    Embeds and items go in the same order (digest.discord.render packs them so); a message whose embeds do
    not line up with its papers (the compact and titles styles have none) keeps its text.
    """
    embeds = message.get("embeds")
    if not embeds or (template is None and color is None):
        return message
    out = [dict(e) for e in embeds]
    if template is not None and len(out) == len(items):
        for embed, item in zip(out, items, strict=True):
            embed["description"] = render(template, item)
    if color is not None:
        for embed in out:
            embed["color"] = color
    return clip_message({**message, "embeds": out})
