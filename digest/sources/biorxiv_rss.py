"""`biorxiv-rss:SUBJECT` / `medrxiv-rss:SUBJECT` — the RSS 1.0 (RDF) feed, a fallback for the details API.

`{biorxiv_rss_url}/biorxiv_xml.php?subject=SUBJECT` lists the newest postings: one item per paper
with `dc:identifier` `doi:10.1101/…`, one `dc:creator` per author ("Last, F."), `dc:date`, and the
version in the link (`…/286609v1?rss=1`). Items become the same records as the details API's
(canonical `doi:`, version, bioRxiv's abstract clean-up), so a paper seen in both is one row.
`parse_biorxiv_rss()` is also what `file:` uses for a saved feed.
"""

from __future__ import annotations

import re
from typing import Any

import feedparser

from digest.core import ids
from digest.core.records import PaperRecord
from digest.sources.base import FetchContext, FetchResult, ParsedDocument, SourceError
from digest.sources.biorxiv import SERVERS, clean_abstract, preprint_doi, preprint_record
from digest.sources.dates import from_struct
from digest.sources.scholarly import add_record, finish
from digest.sources.xmlsafe import parse_xml

_LINK_VERSION = re.compile(r"/(?:short/)?[\d.]+v(\d+)(?:[?#]|$)")
_FEED_HOSTS = ("biorxiv.org", "medrxiv.org")


def looks_like_biorxiv_rss(body: bytes) -> bool:
    head = body[:4000].decode("utf-8", "replace")
    return "rdf:RDF" in head and any(f"{host}" in head for host in _FEED_HOSTS)


def _entry(entry: Any, source: str, server: str) -> PaperRecord | None:
    found = preprint_doi(entry.get("dc_identifier") or entry.get("prism_doi"))
    title = ids.normalize_text(entry.get("title", ""))
    if found is None or not title:
        return None
    doi, version = found
    link = ids.normalize_text(entry.get("link") or "")
    match = _LINK_VERSION.search(link)
    version = version or (int(match.group(1)) if match else None)
    section = ids.normalize_text(entry.get("prism_section") or "").lower() or None
    authors = [ids.normalize_text(a.get("name", "")) for a in entry.get("authors") or [] if isinstance(a, dict)]
    posted = from_struct(dict.get(entry, "updated_parsed")) or from_struct(dict.get(entry, "published_parsed"))
    return preprint_record(
        server=server, doi=doi, version=version, title=title, abstract=clean_abstract(entry.get("summary", "")),
        authors=[a for a in authors if a], category=section, posted=posted, source=source,
        extras={"server": SERVERS[server]},
    )


def parse_biorxiv_rss(body: bytes, source: str, server: str = "biorxiv") -> ParsedDocument:
    """Records of a bioRxiv/medRxiv RSS 1.0 feed (strictly checked first); malformed items counted."""
    parse_xml(body)
    feed = feedparser.parse(body)
    if not feed.get("version"):
        raise SourceError("not an RSS feed")
    if "medrxiv" in str(feed.feed.get("link", "")).lower():
        server = "medrxiv"
    parsed = ParsedDocument()
    for entry in feed.entries:
        add_record(parsed, _entry(entry, source, server))
    return parsed


class BiorxivRssSource:
    """The subject feed with conditional GET; used when the details API is down or too slow."""

    def __init__(self, spec: str, server: str, subject: str) -> None:
        self.spec = spec
        self.server = server
        self.subject = subject.strip() or "all"

    async def fetch(self, ctx: FetchContext) -> FetchResult:
        base = ctx.settings.medrxiv_rss_url if self.server == "medrxiv" else ctx.settings.biorxiv_rss_url
        url = f"{base.rstrip('/')}/{self.server}_xml.php"
        response = await ctx.client.get(
            url, params={"subject": self.subject}, etag=ctx.memory.etag, last_modified=ctx.memory.last_modified,
            expect="xml", min_interval=ctx.settings.biorxiv_min_interval,
        )
        if response.not_modified:
            return FetchResult(not_modified=True, watermark=ctx.memory.watermark)
        result = finish(ctx, parse_biorxiv_rss(response.body, self.spec, self.server))
        result.etag, result.last_modified = response.etag, response.last_modified
        if ctx.progress:
            ctx.progress(self.spec, 1, 1)
        return result
