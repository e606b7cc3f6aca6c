"""`crossref:FILTER` — Crossref works indexed since the watermark, cursor-paged.

`GET {crossref_api_url}/works?filter=FILTER,from-index-date:DAY&rows=100&cursor=*&mailto=CONTACT`
(the mailto puts paperbell in Crossref's polite pool). `message.next-cursor` is passed back
URL-encoded; it is the *same* string on every page, so the run stops on an empty page, never on
the cursor. The payload sits under `message`; `title` and `container-title` are arrays; `author`
and dates may be missing and `date-parts` may be `[[null]]`; abstracts are HTML or JATS. A work's
`relation` (`is-preprint-of`, `has-preprint`) gives aliases, so a journal article and its preprint
are one row. `parse_crossref()` is also what `file:` uses (a work list or a single work).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from digest.core import ids
from digest.core.records import PaperRecord
from digest.query.people import ORCIDS_EXTRA, orcid_pairs
from digest.sources.base import FetchContext, FetchResult, ParsedDocument, SourceError
from digest.sources.dates import parse_date
from digest.sources.hf_daily import decode_json
from digest.sources.scholarly import (
    add_record,
    as_dict,
    cursor_pages,
    finish,
    markup_to_text,
    record_or_none,
    window_start,
)

ROWS = 100
_RELATIONS = ("is-preprint-of", "has-preprint", "is-version-of", "has-version", "is-identical-to")


def parts_date(value: Any) -> datetime | None:
    """A Crossref date object ({"date-parts": [[Y, M, D]]}, 1 to 3 parts, or [[null]]) as UTC."""
    parts = value.get("date-parts") if isinstance(value, dict) else None
    first = parts[0] if isinstance(parts, list) and parts and isinstance(parts[0], list) else []
    numbers = [p for p in first[:3] if isinstance(p, int) and not isinstance(p, bool)]
    if not numbers or len(numbers) != len([p for p in first[:3] if p is not None]):
        return None
    year, month, day = ([*numbers, 1, 1])[:3]
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None


def _first(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), "")
    return markup_to_text(value) if isinstance(value, str) else ""


def _authors(work: dict[str, Any]) -> list[str]:
    names = []
    for author in work.get("author") or []:
        if not isinstance(author, dict):
            continue
        name = author.get("name") or " ".join(str(author[k]) for k in ("given", "family") if author.get(k))
        if ids.normalize_text(str(name)):
            names.append(ids.normalize_text(str(name)))
    return names


def _orcids(work: dict[str, Any]) -> list[list[str]]:
    """[[author as in `_authors`, ORCID]] for the authors that carry one."""
    pairs = []
    for author in work.get("author") or []:
        if isinstance(author, dict):
            name = author.get("name") or " ".join(str(author[k]) for k in ("given", "family") if author.get(k))
            pairs.append((ids.normalize_text(str(name)), author.get("ORCID")))
    return orcid_pairs(pairs)


def _relations(work: dict[str, Any], own: str) -> list[str]:
    found: list[str] = []
    relation = as_dict(work.get("relation"))
    for kind in _RELATIONS:
        for target in relation.get(kind) or []:
            if isinstance(target, dict) and str(target.get("id-type", "")).lower() == "doi":
                doi = ids.normalize_doi(str(target.get("id") or ""))
                if doi and doi != own and f"doi:{doi}" not in found:
                    found.append(f"doi:{doi}")
    return found


def _record(work: Any, source: str) -> PaperRecord | None:
    if not isinstance(work, dict):
        return None
    doi = ids.normalize_doi(str(work.get("DOI") or ""))
    title = _first(work.get("title"))
    if doi is None or not title:
        return None
    found = ids.canonical_id(doi=doi)
    assert found is not None
    published = next(
        filter(
            None,
            (parts_date(work.get(k)) for k in ("published", "issued", "published-online", "published-print", "posted")),
        ),
        None,
    )
    extras: dict[str, Any] = {}
    for key, ours in (("type", "type"), ("publisher", "publisher")):
        if isinstance(work.get(key), str):
            extras[ours] = work[key]
    venue = _first(work.get("container-title"))
    if venue:
        extras["venue"] = venue
    if orcids := _orcids(work):
        extras[ORCIDS_EXTRA] = orcids
    subjects = [s for s in work.get("subject") or [] if isinstance(s, str)]
    link = work.get("URL") if isinstance(work.get("URL"), str) else f"https://doi.org/{doi}"
    return PaperRecord(
        canonical_id=found[0],
        version=found[1],
        title=title,
        abstract=markup_to_text(work.get("abstract")),
        authors=_authors(work),
        categories=subjects,
        primary_category=subjects[0] if subjects else None,
        doi=doi,
        abs_url=link,
        pdf_url=None,
        published_at=published,
        updated_at=parse_date(str((work.get("indexed") or {}).get("date-time") or "")),
        source=source,
        extras=extras,
        aliases=_relations(work, doi),
    )


def looks_like_crossref(data: Any) -> bool:
    return isinstance(data, dict) and str(data.get("message-type", "")).startswith("work") and "message" in data


def parse_crossref(body: bytes | Any, source: str) -> tuple[ParsedDocument, str | None]:
    """(records of a work list or single work, the next cursor or None)."""
    data = decode_json(body) if isinstance(body, bytes) else body
    if not looks_like_crossref(data):
        raise SourceError("not a Crossref works response (expected message-type work-list or work)")
    if str(data.get("status", "ok")) != "ok":
        raise SourceError(f"Crossref: {data.get('message')}")
    message = data["message"]
    items = message.get("items") if data["message-type"] == "work-list" else [message]
    parsed = ParsedDocument()
    for work in items if isinstance(items, list) else []:
        stamp = (
            parse_date(str(((work or {}).get("indexed") or {}).get("date-time") or ""))
            if isinstance(work, dict)
            else None
        )
        add_record(parsed, record_or_none(_record, work, source), stamp)
    total = message.get("total-results")
    parsed.total_results = total if isinstance(total, int) else None
    cursor = message.get("next-cursor")
    return parsed, cursor if isinstance(cursor, str) and cursor else None


class CrossrefSource:
    def __init__(self, spec: str, filter_text: str) -> None:
        self.spec = spec
        self.filter = filter_text.strip().strip(",")

    async def fetch(self, ctx: FetchContext) -> FetchResult:
        day = window_start(ctx).isoformat()
        params = {
            "filter": f"{self.filter},from-index-date:{day}",
            "rows": str(ROWS),
            "mailto": ctx.settings.contact_email,
        }
        url = f"{ctx.settings.crossref_api_url.rstrip('/')}/works"
        pages = await cursor_pages(ctx, self.spec, url, params, parse_crossref, ctx.settings.crossref_min_interval)
        return finish(ctx, pages)
