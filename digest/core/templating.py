"""The Jinja2 environment and filters every renderer shares (e-mail digests, Discord digests, web pages).

Installed from a wheel the `templates/` folder is packaged as `digest/templates`; in a source
checkout it is the repository's top-level `templates/`. Autoescaping is on for HTML and XML:
titles and abstracts come from outside.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

import digest
from digest.core.assembly import DigestItem, shorten_authors, shown_authors


@lru_cache(maxsize=1)
def templates_dir() -> Path:
    """The folder holding `email/`, `discord/` and `web/` templates."""
    packaged = Path(digest.__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(digest.__file__).resolve().parent.parent / "templates"


def highlight(text: str, words: Sequence[str]) -> Markup:
    """Escape `text`, then wrap whole-word, case-insensitive occurrences of `words` in <mark>."""
    if isinstance(text, str) and all(isinstance(w, str) for w in words):
        return _highlighted(text, tuple(words))  # the same paper is shown in many digests of a pass
    return _highlight(text, words)


HIGHLIGHTED = 8192  # (text, words) pairs remembered: a pass's papers under its subscribers' queries


@lru_cache(maxsize=HIGHLIGHTED)
def _highlighted(text: str, words: tuple[str, ...]) -> Markup:
    return _highlight(text, words)


@lru_cache(maxsize=8192)  # one per distinct set of matched words: a pass meets thousands, compiling costs ~0.1 ms
def _pattern(cleaned: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in cleaned) + r")(?!\w)", re.IGNORECASE)


_ESCAPED = re.compile(r"[&<>\"']")  # what markupsafe's escape changes


def _highlight(text: str, words: Sequence[str]) -> Markup:
    cleaned = sorted({w for w in words if w and w.strip()}, key=len, reverse=True)
    if not cleaned:
        return escape(text)
    if not _ESCAPED.search(text):  # nothing to escape (most titles and summaries): one substitution, in C
        return Markup(_pattern(tuple(cleaned)).sub(r"<mark>\1</mark>", text))
    parts: list[str] = []
    last = 0
    for found in _pattern(tuple(cleaned)).finditer(text):
        parts.append(str(escape(text[last : found.start()])))
        parts.append(f"<mark>{escape(found.group(0))}</mark>")
        last = found.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))


@lru_cache(maxsize=4096)  # a pass shows the same few days thousands of times; strftime is slow
def day(value: datetime | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


def meta_parts(item: DigestItem) -> list[str]:
    """The meta line's parts (joined with ' · ' by the templates): only what is known, the date labelled."""
    parts = [shorten_authors(item.authors)] if item.authors else []
    if item.published_at:
        parts.append(f"{item.date_kind} {day(item.published_at)}")
    if item.categories:
        parts.append(", ".join(item.categories))
    if item.source and item.source != "arXiv":
        parts.append(f"via {item.source}")
    if item.upvotes:
        parts.append(f"▲ {item.upvotes}")
    return parts


@lru_cache(maxsize=4)
def jinja_env(folder: str | None = None) -> Environment:
    """One environment per template folder, shared by all renders (templates compile once).

    Templates are read once per process (no `auto_reload`): checking every template file's time on each
    render cost a file-system call per template per digest. A process picks up an edited template when
    it restarts."""
    env = Environment(
        loader=FileSystemLoader(folder or str(templates_dir())),
        auto_reload=False,
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["highlight"] = highlight
    env.filters["authors"] = shorten_authors
    env.filters["shown_authors"] = shown_authors
    env.filters["day"] = day
    env.filters["meta_parts"] = meta_parts
    return env
