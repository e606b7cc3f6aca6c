"""`file:PATH` — a local file whose format is detected from its content.

Detected formats: a saved arXiv API response, a saved arXiv announcement feed or any RSS/Atom
feed, a saved Hugging Face daily_papers response, a saved response of a scholarly API (bioRxiv/
medRxiv details or RSS, PubMed efetch, OpenAlex, Crossref or Semantic Scholar: see
digest.sources.scholarly_files), and JSON / JSONL paper records (at least title
and abstract; the format of the bundled seed_papers.jsonl). Saved responses go through the very
parsers the live sources use, so they yield the same records. JSON records may carry `id` /
`arxiv_id` / `url` / `doi`; records without any get `hash:` of their normalized title
(digest.core.ids.hash_id). `date` (e.g. "Mar 30, 2020") becomes published_at; other known
fields (upvotes, n_authors, page) go to extras.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from digest.bounded import BoundedReadError, read_bounded
from digest.core import ids
from digest.core.records import PaperRecord
from digest.sources.arxiv_api import is_arxiv_api, parse_arxiv_api
from digest.sources.base import FetchContext, FetchResult, ParsedDocument, SourceError
from digest.sources.dates import iso, parse_loose_date
from digest.sources.feeds import parse_feed, select_records
from digest.sources.hf_daily import decode_json, looks_like_hf, parse_hf_daily
from digest.sources.scholarly_files import parse_scholarly_json, parse_scholarly_xml
from digest.sources.xmlsafe import parse_xml

_ID_KEYS = ("arxiv_id", "id", "canonical_id", "url", "abs_url", "link")
_EXTRA_KEYS = ("upvotes", "n_authors", "page", "num_comments", "ai_summary", "ai_keywords")


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [ids.normalize_text(str(v.get("name") if isinstance(v, dict) else v)) for v in value if v]
    return []


def json_record(row: Any, source: str) -> PaperRecord | None:
    """One JSON paper record -> PaperRecord, or None when it lacks a title."""
    if not isinstance(row, dict):
        return None
    title = ids.normalize_text(str(row.get("title") or ""))
    if not title:
        return None
    candidates = [str(row[key]) for key in _ID_KEYS if row.get(key)]
    found = ids.canonical_id(*candidates, doi=row.get("doi"), fallback=title)
    if found is None:  # pragma: no cover - a title always yields a hash
        return None
    ident, version = found
    if "version" in row and str(row["version"]).lstrip("v").isdigit():
        version = int(str(row["version"]).lstrip("v"))
    is_arxiv = not ident.startswith(("doi:", "hash:"))
    raw_date = row.get("published_at") or row.get("published") or row.get("date")
    extras = {key: row[key] for key in _EXTRA_KEYS if row.get(key) not in (None, "", [])}
    if raw_date and parse_loose_date(str(raw_date)) is None:
        extras["date_text"] = str(raw_date)  # e.g. "May 28" with no year: kept, not guessed
    categories = _as_list(row.get("categories"))
    return PaperRecord(
        canonical_id=ident,
        version=version,
        title=title,
        abstract=ids.normalize_text(str(row.get("abstract") or row.get("summary") or "")),
        authors=_as_list(row.get("authors")),
        categories=categories,
        primary_category=row.get("primary_category") or (categories[0] if categories else None),
        doi=ids.normalize_doi(row.get("doi")),
        abs_url=row.get("abs_url") or row.get("url") or (ids.abs_url(ident) if is_arxiv else None),
        pdf_url=row.get("pdf_url") or (ids.pdf_url(ident, version) if is_arxiv else None),
        published_at=parse_loose_date(str(raw_date)) if raw_date else None,
        source=source,
        extras=extras,
    )


def parse_json_records(rows: list[Any], source: str) -> ParsedDocument:
    parsed = ParsedDocument()
    for row in rows:
        record = json_record(row, source)
        if record is None:
            parsed.malformed += 1
        else:
            parsed.records.append(record)
            stamp = iso(record.published_at)
            if stamp and (parsed.newest is None or stamp > parsed.newest):
                parsed.newest = stamp
    return parsed


def _jsonl(text: str) -> list[Any]:
    rows: list[Any] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            rows.append(None)  # counted as a malformed entry, the other lines still load
    return rows


def parse_file_bytes(body: bytes, source: str, *, papers_url: str) -> tuple[str, ParsedDocument]:
    """(detected format, parsed document) for the bytes of a saved file."""
    head = body.lstrip()[:1]
    if head == b"<":
        root = parse_xml(body)
        if is_arxiv_api(root):
            return "arxiv-api", parse_arxiv_api(body, source)
        scholarly = parse_scholarly_xml(body, root, source)
        if scholarly is not None:
            return scholarly
        return "feed", parse_feed(body, source)
    if head in (b"[", b"{"):
        try:
            data = decode_json(body)
        except SourceError:
            if head != b"{":
                raise
            data = None
        if data is not None:
            if looks_like_hf(data):
                return "hf-daily", parse_hf_daily(data, source, papers_url)
            scholarly = parse_scholarly_json(data, source)
            if scholarly is not None:
                return scholarly
            if isinstance(data, dict):
                data = data.get("papers") or data.get("records") or [data]
            if isinstance(data, list):
                return "json", parse_json_records(data, source)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(f"invalid UTF-8 at byte {exc.start}") from None
        return "jsonl", parse_json_records(_jsonl(text), source)
    raise SourceError(
        "unrecognised file format (expected JSON, JSONL, a saved arXiv/HF/bioRxiv/PubMed/OpenAlex/Crossref/"
        "Semantic Scholar response or an RSS/Atom feed)"
    )


class FileSource:
    def __init__(self, spec: str, path: str) -> None:
        self.spec = spec
        self.path = Path(path).expanduser()

    def _read(self, max_bytes: int) -> bytes:
        try:
            return read_bounded(self.path, max_bytes)  # FIFOs, devices, symlinks to them: refused, never hung
        except BoundedReadError as exc:
            raise SourceError(str(exc)) from None

    async def fetch(self, ctx: FetchContext) -> FetchResult:
        body = await asyncio.to_thread(self._read, ctx.settings.http_max_bytes)
        kind, parsed = await asyncio.to_thread(
            parse_file_bytes, body, self.spec, papers_url=ctx.settings.hf_papers_url
        )
        result = FetchResult(watermark=parsed.newest or ctx.memory.watermark)
        select_records(parsed, result, keep_cross_lists=ctx.settings.keep_cross_lists or kind != "feed")
        if ctx.since is not None:
            kept = [r for r in result.records if r.published_at is None or r.published_at >= ctx.since]
            result.skip("before_since", len(result.records) - len(kept))
            result.records = kept
        if ctx.progress:
            ctx.progress(self.spec, 1, 1)
        return result
