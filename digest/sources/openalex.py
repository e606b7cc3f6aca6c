"""`openalex:FILTER` — OpenAlex works created since the watermark, cursor-paged.

`GET {openalex_api_url}/works?filter=FILTER,from_created_date:DAY&cursor=*&per-page=200&api_key=KEY`
(OpenAlex requires a free API key since February 2026: without `PAPERBELL_OPENALEX_API_KEY` the run
fails saying so); `meta.next_cursor` is passed back until it is null or a page is empty. There is
no plain abstract: it is rebuilt from `abstract_inverted_index` (word -> positions). `id` and `doi`
are URLs. A work with an arXiv location (`arxiv.org/abs/…` or the `10.48550/arXiv.…` DOI) takes the
arXiv id, so it merges with the arXiv paper; its own DOI, `openalex:W…` and PMID are aliases.
`parse_openalex()` is also what `file:` uses for a saved page (cursor or page/per-page paged).
"""

from __future__ import annotations

from typing import Any

from digest.core import ids
from digest.core.records import PaperRecord
from digest.query.people import ORCIDS_EXTRA, orcid_pairs
from digest.sources.base import FetchContext, FetchResult, ParsedDocument, SourceError
from digest.sources.dates import parse_date
from digest.sources.hf_daily import decode_json
from digest.sources.scholarly import add_record, as_dict, cursor_pages, finish, record_or_none, secret, window_start

PER_PAGE = 200


def rebuild_abstract(index: Any) -> str:
    """Text from an inverted index {word: [positions]}; None or a malformed index gives ''."""
    if not isinstance(index, dict):
        return ""
    placed: dict[int, str] = {}
    for word, positions in index.items():
        if isinstance(positions, list):
            for position in positions:
                if isinstance(position, int) and 0 <= position < 100_000:
                    placed[position] = str(word)
    return ids.normalize_text(" ".join(placed[p] for p in sorted(placed)))


def _arxiv(work: dict[str, Any]) -> tuple[str, int | None] | None:
    urls = [str((work.get("ids") or {}).get("doi") or work.get("doi") or "")]
    for location in work.get("locations") or []:
        if isinstance(location, dict):
            urls += [str(location.get("landing_page_url") or ""), str(location.get("pdf_url") or "")]
    for url in urls:
        found = ids.arxiv_id(url) or ids.arxiv_from_doi(url)
        if found is not None:
            return found
    return None


def _authors(work: dict[str, Any]) -> list[str]:
    names = []
    for authorship in work.get("authorships") or []:
        authorship = as_dict(authorship)
        name = as_dict(authorship.get("author")).get("display_name") or authorship.get("raw_author_name")
        if name:
            names.append(ids.normalize_text(str(name)))
    return names


def _orcids(work: dict[str, Any]) -> list[list[str]]:
    """[[author as in `_authors`, ORCID]] for the authorships that carry one."""
    pairs = []
    for authorship in work.get("authorships") or []:
        author = authorship.get("author") if isinstance(authorship, dict) else None
        if isinstance(author, dict):
            name = author.get("display_name") or authorship.get("raw_author_name")
            pairs.append((ids.normalize_text(str(name or "")), author.get("orcid")))
    return orcid_pairs(pairs)


def _record(work: Any, source: str) -> PaperRecord | None:
    if not isinstance(work, dict):
        return None
    openalex = str(work.get("id") or "").rsplit("/", 1)[-1]
    title = ids.normalize_text(str(work.get("title") or work.get("display_name") or ""))
    if not openalex.startswith("W") or not title:
        return None
    doi = ids.normalize_doi(str(work.get("doi") or ""))
    location = as_dict(work.get("primary_location"))
    landing = location.get("landing_page_url") or (f"https://doi.org/{doi}" if doi else None)
    found = _arxiv(work) or ids.canonical_id(doi=doi, fallback=f"https://openalex.org/{openalex}")
    assert found is not None
    topics: list[str] = [
        t["display_name"] for t in work.get("topics") or [] if isinstance(t, dict) and t.get("display_name")
    ]
    extras: dict[str, Any] = {"openalex_id": openalex, "openalex_url": f"https://openalex.org/{openalex}"}
    venue = ((location.get("source") or {}) if isinstance(location.get("source"), dict) else {}).get("display_name")
    if venue:
        extras["venue"] = venue
    for key in ("type", "cited_by_count"):
        if isinstance(work.get(key), str | int) and not isinstance(work.get(key), bool):
            extras[key] = work[key]
    if orcids := _orcids(work):
        extras[ORCIDS_EXTRA] = orcids
    aliases = [f"openalex:{openalex}"]
    if doi and found[0] != f"doi:{doi}" and not ids.arxiv_from_doi(doi):
        aliases.append(f"doi:{doi}")
    pmid = str((work.get("ids") or {}).get("pmid") or "").rstrip("/").rsplit("/", 1)[-1]
    if pmid.isdigit():
        aliases.append(f"pmid:{pmid}")
    return PaperRecord(
        canonical_id=found[0],
        version=found[1],
        title=title,
        abstract=rebuild_abstract(work.get("abstract_inverted_index")),
        authors=_authors(work),
        categories=topics[:3],
        primary_category=topics[0] if topics else None,
        doi=doi if doi and not ids.arxiv_from_doi(doi) else None,
        abs_url=ids.abs_url(found[0]) if not found[0].startswith(("doi:", "hash:")) else landing,
        pdf_url=location.get("pdf_url"),
        published_at=parse_date(str(work.get("publication_date") or "")),
        updated_at=parse_date(str(work.get("updated_date") or "")),
        source=source,
        extras=extras,
        aliases=aliases,
    )


def looks_like_openalex(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("meta"), dict) and isinstance(data.get("results"), list)


def parse_openalex(body: bytes | Any, source: str) -> tuple[ParsedDocument, str | None]:
    """(records of one /works page, the next cursor or None)."""
    data = decode_json(body) if isinstance(body, bytes) else body
    if not looks_like_openalex(data):
        raise SourceError("not an OpenAlex works page (expected meta and results)")
    parsed = ParsedDocument()
    for work in data["results"]:
        record = record_or_none(_record, work, source)
        created = parse_date(str(work.get("created_date") or "")) if isinstance(work, dict) else None
        add_record(parsed, record, created)
    count = data["meta"].get("count")
    parsed.total_results = count if isinstance(count, int) else None
    cursor = data["meta"].get("next_cursor")
    return parsed, cursor if isinstance(cursor, str) and cursor else None


class OpenAlexSource:
    def __init__(self, spec: str, filter_text: str) -> None:
        self.spec = spec
        self.filter = filter_text.strip().strip(",")

    async def fetch(self, ctx: FetchContext) -> FetchResult:
        key = secret(ctx.settings.openalex_api_key)
        if not key:
            raise SourceError(
                "OpenAlex needs an API key since February 2026: set PAPERBELL_OPENALEX_API_KEY (free at openalex.org)"
            )
        day = window_start(ctx).isoformat()
        params = {
            "filter": f"{self.filter},from_created_date:{day}",
            "per-page": str(PER_PAGE),
            "api_key": key,
            "mailto": ctx.settings.contact_email,
        }
        url = f"{ctx.settings.openalex_api_url.rstrip('/')}/works"
        pages = await cursor_pages(ctx, self.spec, url, params, parse_openalex, ctx.settings.openalex_min_interval)
        return finish(ctx, pages)
