"""`arxiv:CATS` (arXiv's daily announcement feed) and `feed:URL` (any RSS 2.0 / Atom feed).

Both go through feedparser after the strict safe-XML check (digest.sources.xmlsafe). arXiv
announcement items carry `arxiv:announce_type` (new / cross / replace / replace-cross) and a
description "arXiv:ID vN Announce Type: … Abstract: …"; cross-lists are dropped when
`keep_cross_lists` is off. Generic items get an arXiv id when their link/guid names one, else
their DOI, else a hash of the link/guid. `parse_feed()` is also what `file:` uses for saved feeds.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import feedparser

from digest.core import ids
from digest.core.records import PaperRecord
from digest.sources.base import FetchContext, FetchResult, ParsedDocument, SourceError
from digest.sources.dates import from_struct, iso
from digest.sources.xmlsafe import parse_xml

_ARXIV_DESCRIPTION = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*", re.IGNORECASE | re.DOTALL)
CROSS_TYPES = {"cross", "replace-cross"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(value: str) -> str:
    """Visible text of an HTML fragment (feed descriptions are often HTML)."""
    if "<" not in value:
        return value
    extractor = _TextExtractor()
    extractor.feed(value)
    extractor.close()
    return "".join(extractor.parts)


def _authors(entry: Any) -> list[str]:
    names: list[str] = []
    for author in entry.get("authors") or []:
        name = author.get("name") if isinstance(author, dict) else None
        if name:
            # arXiv's RSS puts every author in one dc:creator, comma separated
            names.extend(part for part in (ids.normalize_text(p) for p in name.split(",")) if part)
    return names


def _entry(entry: Any, source: str) -> PaperRecord | None:
    title = ids.normalize_text(html_to_text(entry.get("title", "")))
    guid, link = entry.get("id"), entry.get("link")
    announce_type = entry.get("arxiv_announce_type") or None
    summary = entry.get("summary", "")
    if entry.get("summary_detail", {}).get("type") == "text/html" and not announce_type:
        summary = html_to_text(summary)
    abstract = ids.normalize_text(_ARXIV_DESCRIPTION.sub("", summary))
    doi = entry.get("prism_doi") or entry.get("dc_identifier")
    found = ids.canonical_id(guid, link, doi=doi if ids.normalize_doi(doi) else None, fallback=None)
    if found is None or not title:
        return None
    ident, version = found
    is_arxiv = not ident.startswith(("doi:", "hash:"))
    categories = [tag["term"] for tag in entry.get("tags") or [] if tag.get("term")]
    # dict.get bypasses feedparser's deprecated updated->published key fallback
    updated = from_struct(dict.get(entry, "updated_parsed"))
    published = from_struct(dict.get(entry, "published_parsed")) or updated
    return PaperRecord(
        canonical_id=ident,
        version=version,
        title=title,
        abstract=abstract,
        authors=_authors(entry),
        categories=categories,
        primary_category=categories[0] if categories and is_arxiv else None,
        doi=ids.normalize_doi(doi) if doi else (ident[4:] if ident.startswith("doi:") else None),
        abs_url=ids.abs_url(ident) if is_arxiv else link,
        pdf_url=ids.pdf_url(ident, version) if is_arxiv else None,
        published_at=published,
        updated_at=updated or published,
        source=source,
        announce_type=announce_type,
        extras={"announce_type": announce_type} if announce_type else {},
    )


def parse_feed(body: bytes, source: str) -> ParsedDocument:
    """Records of an RSS/Atom document (strictly checked first); malformed items are counted."""
    parse_xml(body)  # rejects bombs, truncation and invalid UTF-8 before the lenient parser runs
    feed = feedparser.parse(body)
    if feed.get("bozo") and not feed.entries and not feed.get("feed"):
        raise SourceError(f"malformed feed: {feed.get('bozo_exception')}")
    if not feed.get("version"):
        raise SourceError("not an RSS or Atom feed")
    parsed = ParsedDocument()
    for entry in feed.entries:
        record = _entry(entry, source)
        if record is None:
            parsed.malformed += 1
            continue
        parsed.records.append(record)
    stamp = from_struct(dict.get(feed.feed, "updated_parsed")) or from_struct(dict.get(feed.feed, "published_parsed"))
    parsed.newest = iso(stamp)
    return parsed


def select_records(parsed: ParsedDocument, result: FetchResult, *, keep_cross_lists: bool) -> None:
    """Move a parsed document's records into `result`, dropping duplicates (and cross-lists if asked).

    Records arrive without duplicates; when an id repeats, the entry with the highest version wins.
    """
    result.skip("malformed", parsed.malformed)
    result.skip("older_version", parsed.folded)
    kept: dict[str, int] = {}  # canonical id -> index in result.records
    for record in parsed.records:
        if not keep_cross_lists and record.announce_type in CROSS_TYPES:
            result.skip("cross_list")
            continue
        index = kept.get(record.canonical_id)
        if index is not None:
            result.skip("duplicate")
            earlier = result.records[index]
            if (record.version or 0) > (earlier.version or 0):  # keep the newest version listed
                result.records[index] = record
            continue
        kept[record.canonical_id] = len(result.records)
        result.records.append(record)


class FeedSource:
    """One feed URL fetched with conditional GET; `arxiv:` uses the polite arXiv client."""

    def __init__(self, spec: str, url: str, *, arxiv: bool = False) -> None:
        self.spec = spec
        self.url = url
        self.arxiv = arxiv

    async def fetch(self, ctx: FetchContext) -> FetchResult:
        client = ctx.arxiv_client if self.arxiv else ctx.client
        response = await client.get(
            self.url, etag=ctx.memory.etag, last_modified=ctx.memory.last_modified, expect="xml"
        )
        if response.not_modified:
            return FetchResult(not_modified=True, watermark=ctx.memory.watermark)
        parsed = parse_feed(response.body, self.spec)
        result = FetchResult(
            watermark=parsed.newest or ctx.memory.watermark, etag=response.etag, last_modified=response.last_modified
        )
        keep = ctx.settings.keep_cross_lists if self.arxiv else True
        select_records(parsed, result, keep_cross_lists=keep)
        if ctx.progress:
            ctx.progress(self.spec, 1, 1)
        return result


def arxiv_feed_url(base: str, categories: str) -> str:
    """rss.arxiv.org takes several categories joined by '+' in one path segment."""
    return f"{base.rstrip('/')}/{categories.strip()}"
