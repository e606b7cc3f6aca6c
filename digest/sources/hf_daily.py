"""`hf:daily` / `hf:daily?date=YYYY-MM-DD` — Hugging Face Daily Papers (`{hf_api_url}/daily_papers`).

Each item is an arXiv paper (`paper.id`), so it merges with the arXiv record of the same paper;
Hugging Face's own facts go to `extras`: upvotes, num_comments, ai_summary, ai_keywords,
github_repo, project_page, hf_url. With `--since` the source backfills one request per day.
`parse_hf_daily()` is also what `file:` uses for a saved response.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from digest.core import ids
from digest.core.records import PaperRecord
from digest.sources.base import FetchContext, FetchResult, ParsedDocument, SourceError
from digest.sources.dates import iso, parse_date

MAX_BACKFILL_DAYS = 366
_EXTRAS = {  # HF key in item["paper"] (or the item) -> our extras key
    "upvotes": "upvotes",
    "ai_summary": "ai_summary",
    "ai_keywords": "ai_keywords",
    "githubRepo": "github_repo",
    "projectPage": "project_page",
    "githubStars": "github_stars",
    "thumbnail": "thumbnail",  # on the item, not the paper: the web shows it only if the operator allows
}


def decode_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SourceError(f"invalid UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise SourceError(f"malformed JSON: {exc}") from None


def looks_like_hf(data: Any) -> bool:
    return isinstance(data, list) and bool(data) and all(isinstance(i, dict) and "paper" in i for i in data[:5])


def _item(item: Any, source: str, papers_url: str) -> PaperRecord | None:
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        return None
    paper = item["paper"]
    found = ids.arxiv_id(str(paper.get("id") or ""))
    title = ids.normalize_text(str(paper.get("title") or item.get("title") or ""))
    if found is None or not title:
        return None
    ident, version = found
    authors = [
        ids.normalize_text(str(a.get("name")))
        for a in paper.get("authors") or []
        if isinstance(a, dict) and a.get("name") and not a.get("hidden")
    ]
    extras: dict[str, Any] = {"hf_url": f"{papers_url.rstrip('/')}/{ident}"}
    for key, ours in _EXTRAS.items():
        value = paper.get(key, item.get(key))
        if value not in (None, "", []):
            extras[ours] = value
    if item.get("numComments") is not None:
        extras["num_comments"] = item["numComments"]
    return PaperRecord(
        canonical_id=ident,
        version=version,
        title=title,
        abstract=ids.normalize_text(str(paper.get("summary") or "")),
        authors=authors,
        abs_url=ids.abs_url(ident),
        pdf_url=ids.pdf_url(ident),
        published_at=parse_date(paper.get("publishedAt")),
        source=source,
        extras=extras,
    )


def parse_hf_daily(body: bytes | Any, source: str, papers_url: str) -> ParsedDocument:
    """Records of a daily_papers response (bytes or already-decoded JSON)."""
    data = decode_json(body) if isinstance(body, bytes) else body
    if not isinstance(data, list):
        raise SourceError("not a Hugging Face daily_papers response (expected a JSON list)")
    parsed = ParsedDocument()
    for item in data:
        record = _item(item, source, papers_url)
        if record is None:
            parsed.malformed += 1
            continue
        parsed.records.append(record)
        stamp = iso(parse_date(item.get("publishedAt")))
        if stamp and (parsed.newest is None or stamp > parsed.newest):
            parsed.newest = stamp
    return parsed


class HfDailySource:
    def __init__(self, spec: str, day: date | None = None) -> None:
        self.spec = spec
        self.day = day

    def _days(self, since: datetime | None) -> list[date | None]:
        if self.day is not None or since is None:
            return [self.day]
        today = datetime.now(UTC).date()
        first = max(since.date(), today - timedelta(days=MAX_BACKFILL_DAYS))
        return [first + timedelta(days=n) for n in range((today - first).days + 1)]

    async def fetch(self, ctx: FetchContext) -> FetchResult:
        from digest.sources.feeds import select_records

        url = f"{ctx.settings.hf_api_url.rstrip('/')}/daily_papers"
        days = self._days(ctx.since)
        result = FetchResult(watermark=ctx.memory.watermark)
        combined = ParsedDocument()
        for done, day in enumerate(days, start=1):
            single = len(days) == 1
            response = await ctx.client.get(
                url,
                params={"date": day.isoformat()} if day else None,
                etag=ctx.memory.etag if single else None,
                last_modified=ctx.memory.last_modified if single else None,
                expect="json",
            )
            if response.not_modified:
                return FetchResult(not_modified=True, watermark=ctx.memory.watermark)
            parsed = parse_hf_daily(response.body, self.spec, ctx.settings.hf_papers_url)
            combined.records.extend(parsed.records)
            combined.malformed += parsed.malformed
            if parsed.newest and (combined.newest is None or parsed.newest > combined.newest):
                combined.newest = parsed.newest
            if single:
                result.etag, result.last_modified = response.etag, response.last_modified
            if ctx.progress:
                ctx.progress(self.spec, done, len(days))
        select_records(combined, result, keep_cross_lists=True)
        if combined.newest and (result.watermark is None or combined.newest > result.watermark):
            result.watermark = combined.newest
        return result
