"""Semantic Scholar: an author's papers and "recommended for this paper", as client functions and sources.

`author_papers()` pages `GET /graph/v1/author/{id}/papers` with `offset`/`limit` until the reply has
no `next`; `recommended_for()` reads `GET /recommendations/v1/papers/forpaper/{paper id}` (no
paging). Both are plain async functions over the polite client so "more like this" and following
an author can call them; the sources `s2:author:ID` and `s2:recommend:PAPER_ID` wrap them.
Without `PAPERBELL_SEMANTIC_SCHOLAR_API_KEY` requests share Semantic Scholar's unauthenticated pool
(429s are common: they are retried honouring Retry-After); with a key (`x-api-key`) the key's own
limit of 1 request/s applies. `externalIds` decide the canonical id (ArXiv, else DOI) and aliases
(PubMed -> `pmid:`, `s2:<paperId>`). `parse_s2()` is also what `file:` uses for a saved page
(search, bulk search, author papers or recommendations).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from digest.core import ids
from digest.core.records import PaperRecord
from digest.settings import Settings
from digest.sources.base import FetchContext, FetchResult, ParsedDocument, SourceError
from digest.sources.dates import parse_date
from digest.sources.hf_daily import decode_json
from digest.sources.http import HostView
from digest.sources.scholarly import add_record, as_dict, finish, merge_pages, record_or_none, secret

FIELDS = (
    "paperId,externalIds,url,title,abstract,venue,year,publicationDate,authors,fieldsOfStudy,"
    "openAccessPdf,citationCount"
)
PAGE_LIMIT = 100


def _record(paper: Any, source: str) -> PaperRecord | None:
    if not isinstance(paper, dict) or not isinstance(paper.get("paperId"), str):
        return None
    title = ids.normalize_text(str(paper.get("title") or ""))
    if not title:
        return None
    external = as_dict(paper.get("externalIds"))
    doi = ids.normalize_doi(str(external.get("DOI") or ""))
    url = (
        paper.get("url")
        if isinstance(paper.get("url"), str)
        else f"https://www.semanticscholar.org/paper/{paper['paperId']}"
    )
    found = ids.canonical_id(str(external.get("ArXiv") or ""), doi=doi, fallback=url)
    assert found is not None
    arxiv = not found[0].startswith(("doi:", "hash:"))
    aliases = [f"s2:{paper['paperId']}"]
    if doi and found[0] != f"doi:{doi}" and not ids.arxiv_from_doi(doi):
        aliases.append(f"doi:{doi}")
    if str(external.get("PubMed") or "").isdigit():
        aliases.append(f"pmid:{external['PubMed']}")
    pdf = as_dict(paper.get("openAccessPdf"))
    fields = [f for f in paper.get("fieldsOfStudy") or [] if isinstance(f, str)]
    year = paper.get("year")
    published = parse_date(str(paper.get("publicationDate") or "")) or (
        parse_date(f"{year}-01-01") if isinstance(year, int) and 1000 < year < 3000 else None
    )
    extras: dict[str, Any] = {"s2_id": paper["paperId"], "s2_url": url}
    if isinstance(paper.get("venue"), str) and paper["venue"].strip():
        extras["venue"] = paper["venue"].strip()
    if isinstance(paper.get("citationCount"), int) and not isinstance(paper.get("citationCount"), bool):
        extras["citation_count"] = paper["citationCount"]
    authors = [
        ids.normalize_text(str(a.get("name")))
        for a in paper.get("authors") or []
        if isinstance(a, dict) and a.get("name")
    ]
    return PaperRecord(
        canonical_id=found[0],
        version=found[1],
        title=title,
        abstract=ids.normalize_text(str(paper.get("abstract") or "")),
        authors=authors,
        categories=fields,
        primary_category=None,
        doi=doi if doi and not ids.arxiv_from_doi(doi) else None,
        abs_url=ids.abs_url(found[0]) if arxiv else url,
        pdf_url=(pdf.get("url") or None) if pdf else None,
        published_at=published,
        source=source,
        extras=extras,
        aliases=aliases,
    )


def _papers_of(data: Any) -> list[Any] | None:
    if isinstance(data, dict):
        for key in ("data", "recommendedPapers"):
            if isinstance(data.get(key), list):
                return data[key]
    return None


def looks_like_s2(data: Any) -> bool:
    papers = _papers_of(data)
    return (
        papers is not None
        and all(isinstance(p, dict) and "paperId" in p for p in papers[:5])
        and (bool(papers) or "recommendedPapers" in data or "next" in data or "offset" in data)
    )


def parse_s2(body: bytes | Any, source: str) -> tuple[ParsedDocument, int | None]:
    """(records of one Semantic Scholar page, the next offset or None on the last page)."""
    data = decode_json(body) if isinstance(body, bytes) else body
    papers = _papers_of(data)
    if papers is None:
        raise SourceError("not a Semantic Scholar response (expected data or recommendedPapers)")
    parsed = ParsedDocument()
    for paper in papers:
        add_record(parsed, record_or_none(_record, paper, source))
    following = data.get("next")
    return parsed, following if isinstance(following, int) and not isinstance(following, bool) else None


def _request(settings: Settings) -> tuple[dict[str, str], float]:
    key = secret(settings.semantic_scholar_api_key)
    return ({"x-api-key": key} if key else {}), settings.semantic_scholar_min_interval


async def author_papers(
    client: HostView,
    settings: Settings,
    author_id: str,
    *,
    source: str = "",
    fields: str = FIELDS,
    max_pages: int | None = None,
) -> ParsedDocument:
    """Every paper of one author (offset-paged until `next` is absent), as records."""
    headers, spacing = _request(settings)
    url = f"{settings.semantic_scholar_api_url.rstrip('/')}/graph/v1/author/{quote(author_id, safe='')}/papers"
    offset: int | None = 0
    pages: list[ParsedDocument] = []
    while offset is not None and len(pages) < (max_pages or settings.source_max_pages):
        params = {"fields": fields, "offset": str(offset), "limit": str(PAGE_LIMIT)}
        response = await client.get(url, params=params, headers=headers, expect="json", min_interval=spacing)
        parsed, following = parse_s2(response.body, source)
        pages.append(parsed)
        offset = following if following is not None and following > offset else None
    return merge_pages(pages)


async def recommended_for(
    client: HostView,
    settings: Settings,
    paper_id: str,
    *,
    source: str = "",
    fields: str = FIELDS,
    limit: int = 100,
    pool: str = "recent",
) -> ParsedDocument:
    """Papers Semantic Scholar recommends for one paper (an S2 id, `DOI:…`, `ARXIV:…` or `PMID:…`)."""
    headers, spacing = _request(settings)
    base = settings.semantic_scholar_api_url.rstrip("/")
    url = f"{base}/recommendations/v1/papers/forpaper/{quote(paper_id, safe=':/')}"
    params = {"fields": fields, "limit": str(limit), "from": pool}
    response = await client.get(url, params=params, headers=headers, expect="json", min_interval=spacing)
    return parse_s2(response.body, source)[0]


class SemanticScholarSource:
    """`s2:author:ID` (an author's papers) or `s2:recommend:PAPER_ID` (recommendations for a paper)."""

    def __init__(self, spec: str, mode: str, ident: str) -> None:
        self.spec = spec
        self.mode = mode
        self.ident = ident.strip()

    async def fetch(self, ctx: FetchContext) -> FetchResult:
        if self.mode == "author":
            parsed = await author_papers(ctx.client, ctx.settings, self.ident, source=self.spec)
        else:
            parsed = await recommended_for(ctx.client, ctx.settings, self.ident, source=self.spec)
        if ctx.progress:
            ctx.progress(self.spec, 1, 1)
        return finish(ctx, parsed)
