"""Pieces shared by the scholarly-API sources (bioRxiv/medRxiv, PubMed, OpenAlex, Crossref, Semantic Scholar).

The date window a run reads (`--since`, else the watermark, else `source_first_run_days` back),
HTML/JATS abstracts to readable text, and folding a run's parsed pages into a `FetchResult`
through the same duplicate rule every source uses (`feeds.select_records`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from digest.core import ids
from digest.core.records import PaperRecord
from digest.sources.base import FetchContext, FetchResult, ParsedDocument
from digest.sources.dates import iso, parse_date
from digest.sources.feeds import select_records

# tags after which readers expect a break: JATS (with or without the `jats:` prefix) and HTML
_BLOCKS = {"p", "sec", "title", "li", "list-item", "br", "div", "abstract", "h1", "h2", "h3", "h4", "ul", "ol"}
_HEADINGS = {"title", "h1", "h2", "h3", "h4"}
_LEADING_ABSTRACT = ("abstract", "summary")


class _MarkupText(HTMLParser):
    """Visible text of an HTML or JATS fragment; a section title becomes 'Title: '."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        name = tag.rsplit(":", 1)[-1].lower()
        if name in _HEADINGS:
            self.heading = []
        elif name in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        name = tag.rsplit(":", 1)[-1].lower()
        if name in _HEADINGS and self.heading is not None:
            heading = ids.normalize_text("".join(self.heading))
            self.heading = None
            # a lone "Abstract" heading says nothing; any other becomes a label of what follows
            if heading and (self.parts or heading.casefold() not in _LEADING_ABSTRACT):
                self.parts.append(f" {heading.rstrip(':.')}: ")
        elif name in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        (self.heading if self.heading is not None else self.parts).append(data)


def markup_to_text(value: object) -> str:
    """Readable one-line text of an HTML/JATS abstract or title (None and non-strings give '')."""
    if not isinstance(value, str) or not value.strip():
        return ""
    if "<" not in value and "&" not in value:
        return ids.normalize_text(value)
    extractor = _MarkupText()
    extractor.feed(value)
    extractor.close()
    return ids.normalize_text("".join(extractor.parts))


def window_start(ctx: FetchContext) -> date:
    """The first day a dated run reads: --since, else the watermark's day, else a few days back."""
    if ctx.since is not None:
        return ctx.since.astimezone(UTC).date()
    mark = parse_date(ctx.memory.watermark)
    if mark is not None:
        return mark.date()  # that day again: the merge makes re-reading it harmless
    return datetime.now(UTC).date() - timedelta(days=ctx.settings.source_first_run_days)


def today() -> date:
    return datetime.now(UTC).date()


def note_newest(parsed: ParsedDocument, stamp: datetime | None) -> None:
    text = iso(stamp)
    if text and (parsed.newest is None or text > parsed.newest):
        parsed.newest = text


def add_record(parsed: ParsedDocument, record: PaperRecord | None, stamp: datetime | None = None) -> None:
    """Append a parsed record (or count a malformed one) and advance the document's newest date."""
    if record is None:
        parsed.malformed += 1
        return
    parsed.records.append(record)
    note_newest(parsed, stamp or record.published_at)


def record_or_none(build: Callable[[Any, str], PaperRecord | None], item: Any, source: str) -> PaperRecord | None:
    """`build(item, source)`, or None (counted as malformed) when the item's shape breaks the builder.

    A JSON API's record may hold any type in any field (a string where an object belongs); one such
    record is skipped and counted while the rest of its page is stored.
    """
    try:
        return build(item, source)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError):
        return None


def merge_pages(pages: list[ParsedDocument]) -> ParsedDocument:
    combined = ParsedDocument()
    for page in pages:
        combined.records.extend(page.records)
        combined.malformed += page.malformed
        combined.folded += page.folded
        note_newest(combined, parse_date(page.newest))
    return combined


CursorParser = Callable[[bytes, str], tuple[ParsedDocument, "str | None"]]


async def cursor_pages(
    ctx: FetchContext, spec: str, url: str, params: dict[str, str], parse: CursorParser, min_interval: float
) -> ParsedDocument:
    """Every page of a cursor-paged API (OpenAlex, Crossref) from `cursor=*` until an empty page, no next
    cursor, or `source_max_pages`. An empty page is the end even when a next cursor is given: Crossref
    repeats its cursor on every page."""
    cursor: str | None = "*"
    pages: list[ParsedDocument] = []
    while cursor is not None and len(pages) < ctx.settings.source_max_pages:
        response = await ctx.client.get(url, params={**params, "cursor": cursor}, expect="json",
                                         min_interval=min_interval)
        parsed, cursor = parse(response.body, spec)
        if not parsed.records and not parsed.malformed:
            break
        pages.append(parsed)
        if ctx.progress:
            ctx.progress(spec, sum(len(p.records) + p.malformed for p in pages), parsed.total_results)
    return merge_pages(pages)


def finish(ctx: FetchContext, combined: ParsedDocument, *, skipped: dict[str, int] | None = None) -> FetchResult:
    """Fold a run's records into a result (duplicates dropped, highest version kept), watermark advanced."""
    result = FetchResult(watermark=ctx.memory.watermark)
    select_records(combined, result, keep_cross_lists=True)
    for reason, count in (skipped or {}).items():
        result.skip(reason, count)
    if combined.newest and (result.watermark is None or combined.newest > result.watermark):
        result.watermark = combined.newest
    return result


def doi_alias(doi: str | None) -> list[str]:
    clean = ids.normalize_doi(doi)
    return [f"doi:{clean}"] if clean else []


def as_dict(value: object) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (fields of hostile records may be anything)."""
    return value if isinstance(value, dict) else {}


def secret(value: object) -> str | None:
    """The text of an optional SecretStr setting ('' counts as unset)."""
    if isinstance(value, str):
        return value or None
    getter = getattr(value, "get_secret_value", None)
    text = getter() if getter is not None else None
    return text or None
