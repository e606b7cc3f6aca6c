"""Text a reader sees: LaTeX to Unicode, query-biased snippets, readable source names. Pure functions.

Used when digest items are made (digest.services.items, shared by email and Discord), so every
renderer shows the same: `Hajdu\\v{s}ek` → `Hajdušek`, `$\\alpha$-divergence` → `α-divergence`;
when a TL;DR does not contain the words that matched, `snippet` gives the abstract's sentence(s)
that do (renderers highlight them); `source_label` names a source spec the way a reader knows it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import PurePath
from urllib.parse import urlsplit

from digest.summaries.extractive import split_sentences

_LATEX_HINT = re.compile(r"[\\$^_{}~]")
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")


@lru_cache(maxsize=1)
def _converter() -> object:
    from pylatexenc.latex2text import LatexNodes2Text

    # math_mode="text": `$\alpha$` → α, keeps `n^2` readable; strict off: a stray brace never raises
    return LatexNodes2Text(math_mode="text", strict_latex_spaces=True)


def latex_to_unicode(text: str) -> str:
    """Unicode for the LaTeX in a title, author name or abstract; plain text passes through untouched."""
    if not text or not _LATEX_HINT.search(text):
        return text
    return _converted(text)


@lru_cache(maxsize=32768)  # a paper is a title, ~5 authors, a summary and an abstract: 2,000 papers fit
def _converted(text: str) -> str:
    # pylatexenc costs ~1 ms an abstract and the same papers are shown again and again (web pages,
    # searches, digests of many subscribers): a bounded cache keyed by the text itself.
    # a bare % is a LaTeX comment (it would swallow the rest of the line); in metadata it means percent
    source = _UNESCAPED_PERCENT.sub(r"\\%", text)
    try:
        converted = _converter().latex_to_text(source)  # type: ignore[attr-defined]
    except Exception:  # malformed markup: the raw text is better than nothing
        return text
    return " ".join(str(converted).split()) or text


def _has_word(text: str, word: str) -> bool:
    return _word(word).search(text) is not None


def _words_in(text: str, words: Sequence[str]) -> int:
    """How many of `words` `text` holds as whole words (case-insensitive).

    When text and word are ASCII, a word whose lower case is not a substring of the text's cannot match:
    that test runs in C and settles most (sentence, word) pairs before any regular expression runs."""
    lowered = text.lower() if text.isascii() else None
    return sum(1 for word in words
               if (lowered is None or not word.isascii() or word.lower() in lowered) and _has_word(text, word))


@lru_cache(maxsize=4096)
def _word(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", re.IGNORECASE)


def snippet(summary: str, abstract: str, words: Sequence[str], max_chars: int = 200, *, title: str = "") -> str:
    """The abstract's sentence(s) holding the matched words when neither the summary nor the title (both shown,
    highlighted) holds any of them; else ''.

    `abstract` as stored: its LaTeX is converted (`latex_to_unicode`) only when a sentence is needed, as
    converting costs more than the rest. Sentences are picked by how many distinct matched words they hold
    (then by position), up to `max_chars`, and shown in abstract order.
    """
    wanted = [w for w in words if w.strip()]
    if not wanted or not abstract or _words_in(summary, wanted) or _words_in(title, wanted):
        return ""
    sentences = split_sentences(latex_to_unicode(abstract))
    scored = []
    for index, sentence in enumerate(sentences):
        hits = _words_in(sentence, wanted)
        if hits:
            scored.append((-hits, index, sentence))
    chosen: list[tuple[int, str]] = []
    used = 0
    for _, index, sentence in sorted(scored):
        if chosen and used + len(sentence) > max_chars:
            break
        chosen.append((index, sentence))
        used += len(sentence) + 1
    text = " ".join(sentence for _, sentence in sorted(chosen))
    return text if len(text) <= max_chars else text[: max_chars - 1].rsplit(" ", 1)[0] + "…"


_SCHOLARLY_LABELS = {"biorxiv": "bioRxiv", "biorxiv-rss": "bioRxiv", "medrxiv": "medRxiv", "medrxiv-rss": "medRxiv",
                     "pubmed": "PubMed", "openalex": "OpenAlex", "crossref": "Crossref", "s2": "Semantic Scholar"}


def source_label(spec: str, feed_title: str | None = None) -> str:
    """'arXiv', 'Hugging Face', the feed's title (else its host), the file's name."""
    kind, _, rest = spec.partition(":")
    if kind in ("arxiv", "arxiv-api"):
        return "arXiv"
    if kind == "hf":
        return "Hugging Face"
    if kind in _SCHOLARLY_LABELS:
        return _SCHOLARLY_LABELS[kind]
    if kind == "feed":
        return feed_title or urlsplit(rest).hostname or "feed"
    if kind == "file":
        return PurePath(rest).name or rest
    return spec
