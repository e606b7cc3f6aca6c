"""`arxiv-api:QUERY` — the arXiv API (export.arxiv.org/api/query), sorted by submission date, paged.

`parse_arxiv_api()` reads both response formats: the older one (feed links with rel/title="pdf",
`<title type="html">ArXiv Query…`, error entries with id `…/api/errors#…`) and the current one
(plain abs/pdf links, `arxiv:doi`, `arxiv:journal_ref`). It is also used by `file:` for saved
responses. `ArxivApiSource` pages newest-first with `start`/`max_results` until it reaches the
watermark (newest submission date already seen) or `--since`, through the polite arXiv client.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import unquote_plus
from xml.etree.ElementTree import Element

from digest.core import ids
from digest.core.records import PaperRecord
from digest.sources.base import FetchContext, FetchResult, ParsedDocument, SourceError
from digest.sources.dates import iso, parse_date
from digest.sources.xmlsafe import parse_xml

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def _text(element: Element, tag: str) -> str:
    found = element.find(tag)
    return (found.text or "") if found is not None else ""


def _entry(entry: Element, source: str) -> PaperRecord | None:
    raw_id = _text(entry, f"{ATOM}id")
    found = ids.arxiv_id(raw_id)
    title = ids.normalize_text(_text(entry, f"{ATOM}title"))
    if found is None or not title:
        return None
    ident, version = found
    abs_link = pdf_link = None
    doi = ids.normalize_doi(_text(entry, f"{ARXIV}doi"))
    for link in entry.findall(f"{ATOM}link"):
        href = link.get("href", "")
        if link.get("title") == "pdf" or "/pdf/" in href:
            pdf_link = pdf_link or href
        elif link.get("title") == "doi" or "doi.org/" in href:
            doi = doi or ids.normalize_doi(href)
        elif "/abs/" in href or link.get("rel") == "alternate":
            abs_link = abs_link or href
    primary = entry.find(f"{ARXIV}primary_category")
    categories = [c.get("term", "") for c in entry.findall(f"{ATOM}category") if c.get("term")]
    primary_category = primary.get("term") if primary is not None else (categories[0] if categories else None)
    if primary_category and primary_category not in categories:
        categories.insert(0, primary_category)
    authors = [ids.normalize_text(_text(a, f"{ATOM}name")) for a in entry.findall(f"{ATOM}author")]
    extras: dict[str, object] = {}
    for key in ("comment", "journal_ref"):
        value = ids.normalize_text(_text(entry, f"{ARXIV}{key}"))
        if value:
            extras[key] = value
    return PaperRecord(
        canonical_id=ident,
        version=version,
        title=title,
        abstract=ids.normalize_text(_text(entry, f"{ATOM}summary")),
        authors=[a for a in authors if a],
        categories=categories,
        primary_category=primary_category,
        doi=doi,
        abs_url=abs_link or ids.abs_url(ident, version),
        pdf_url=pdf_link or ids.pdf_url(ident, version),
        published_at=parse_date(_text(entry, f"{ATOM}published")),
        updated_at=parse_date(_text(entry, f"{ATOM}updated")),
        source=source,
        extras=extras,
    )


def is_arxiv_api(root: Element) -> bool:
    return root.tag == f"{ATOM}feed" and (
        root.find(f"{OPENSEARCH}totalResults") is not None or "arxiv.org/api" in _text(root, f"{ATOM}id")
    )


def parse_arxiv_api(body: bytes, source: str) -> ParsedDocument:
    """Records of one API response page; raises SourceError for an API error or a non-API document."""
    root = parse_xml(body)
    if not is_arxiv_api(root):
        raise SourceError("not an arXiv API response (no Atom feed with opensearch:totalResults)")
    parsed = ParsedDocument()
    total = _text(root, f"{OPENSEARCH}totalResults").strip()
    parsed.total_results = int(total) if total.isdigit() else None
    for entry in root.findall(f"{ATOM}entry"):
        entry_id = _text(entry, f"{ATOM}id")
        if "/api/errors" in entry_id:  # the older format reports query errors as an entry
            raise SourceError(f"arXiv API error: {ids.normalize_text(_text(entry, f'{ATOM}summary'))}")
        record = _entry(entry, source)
        if record is None:
            parsed.malformed += 1
            continue
        parsed.records.append(record)
        stamp = iso(record.published_at)
        if stamp and (parsed.newest is None or stamp > parsed.newest):
            parsed.newest = stamp
    return parsed


class ArxivApiSource:
    """Pages the API newest-first; stops at the watermark, `since`, an empty page or the page limit.

    A first run without watermark or `since` reads only the newest page (no accidental backfill of
    the whole archive); a page that adds nothing unseen also ends the run.
    """

    page_size = 100
    max_pages = 20

    def __init__(self, spec: str, query: str) -> None:
        self.spec = spec
        self.query = unquote_plus(query)

    async def fetch(self, ctx: FetchContext) -> FetchResult:
        result = FetchResult(watermark=ctx.memory.watermark)
        floor: datetime | None = ctx.since or parse_date(ctx.memory.watermark)
        seen: set[str] = set()
        total: int | None = None
        for page in range(self.max_pages if floor is not None else 1):
            params = {
                "search_query": self.query,
                "start": page * self.page_size,
                "max_results": self.page_size,
                "sortBy": "submittedDate",
                "sortOrder": "descending",
            }
            response = await ctx.arxiv_client.get(ctx.settings.arxiv_api_url, params=params, expect="xml")
            parsed = parse_arxiv_api(response.body, self.spec)
            total = parsed.total_results if parsed.total_results is not None else total
            result.skip("malformed", parsed.malformed)
            reached_floor = False
            added = 0
            for record in parsed.records:
                if floor is not None and record.published_at is not None and record.published_at <= floor:
                    reached_floor = True
                    continue
                if record.canonical_id in seen:
                    result.skip("duplicate")
                    continue
                seen.add(record.canonical_id)
                result.records.append(record)
                added += 1
            if parsed.newest and (result.watermark is None or parsed.newest > result.watermark):
                result.watermark = parsed.newest
            done = (page + 1) * self.page_size
            if ctx.progress:
                ctx.progress(self.spec, min(done, total or done), total)
            if reached_floor or not added or (total is not None and done >= total):
                break
        return result
