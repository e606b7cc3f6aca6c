"""`biorxiv:SUBJECT` / `medrxiv:SUBJECT` — the bioRxiv/medRxiv `details` API by posting-date interval.

`GET {biorxiv_api_url}/details/{server}/{from}/{to}/{cursor}` returns one record per *version*
posted in the window. Paging follows the records received: the next cursor is
`cursor + len(collection)` and a short or empty page ends the run (the `count` message field is
wrong in real responses and the page size has changed over time, so neither is trusted). The
versions of one DOI fold into one paper carrying `extras.versions`; `published` (a journal DOI or
"NA") becomes an alias so the journal article merges into the same row. `SUBJECT` (`all`, or a
category such as `neuroscience`, `-` or `_` for spaces) filters on the record's category.
Abstracts arrive as flattened JATS: `clean_abstract` turns the leftovers into readable text.
`parse_details()` is also what `file:` uses for a saved response; the RSS fallback is
`biorxiv-rss:` / `medrxiv-rss:` (digest.sources.biorxiv_rss).
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import datetime
from typing import Any

from digest.core import ids
from digest.core.records import PaperRecord
from digest.sources.base import FetchContext, FetchResult, ParsedDocument, SourceError
from digest.sources.dates import parse_date
from digest.sources.hf_daily import decode_json
from digest.sources.scholarly import add_record, finish, merge_pages, today, window_start

SERVERS = {"biorxiv": "bioRxiv", "medrxiv": "medRxiv"}
PREPRINT_PREFIXES = ("10.1101/", "10.64898/")  # Cold Spring Harbor's old prefix and the 2025 one
_VERSIONED = re.compile(r"^(?P<doi>10\.(?:1101|64898)/[^\s]+?)v(?P<version>\d+)$", re.IGNORECASE)
_SYMBOLS = {
    "+/-": "±",
    "-/+": "∓",
    "middle dot": "·",
    "times": "×",
    "degrees": "°",
    "varepsilon": "ε",
    "vartheta": "ϑ",
    "varphi": "φ",
    "micro": "µ",
    "approx": "≈",
    "ge": "≥",
    "le": "≤",
}
_BRACED = re.compile(r"\{([A-Za-z+/\- ]{1,16})\}")
_BRACKETED_ENTITY = re.compile(r"\[(&#?\w{1,10};)\]")
_HEADING_WORDS = (
    "Background|Objectives?|Aims?|Purpose|Importance|Introduction|Motivation|Rationale|Context|Methods?|"
    "Methodology|Design|Setting|Participants|Interventions?|Measurements|Main outcomes? and measures?|"
    "Results?|Findings|Interpretation|Conclusions?|Discussion|Significance|Summary|Highlights|Funding|"
    "Availability and implementation|Key points|Research in context|Question|Meaning"
)
_GLUED_HEADING = re.compile(rf"(^|\n\n)({_HEADING_WORDS})(?=[A-Z0-9])")
# any other short heading glued to its paragraph: "Aim of the studyTo assess…" (not "McGurk", "iPhone")
_GLUED_PHRASE = re.compile(r"(^|\n\n)([A-Z][a-z]{2,}(?: [a-z]+){0,5} ?[a-z]{2,})(?=[A-Z][a-z])")
_LEADING_ABSTRACT = re.compile(r"^\s*abstract\s*:?\s*(?=\S)", re.IGNORECASE)


def _symbol(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _SYMBOLS:
        return _SYMBOLS[name]
    for case in ("SMALL", "CAPITAL"):
        try:
            return unicodedata.lookup(f"GREEK {case} LETTER {name.upper()}")
        except KeyError:
            continue
    return match.group(0)


def clean_abstract(text: str) -> str:
    """bioRxiv's flattened JATS as readable text: markers dropped, headings labelled, symbols restored."""
    text = text.replace("O_SCPLOW", "").replace("C_SCPLOW", "")  # small caps: "AO_SCPLOWBSTRACTC_SCPLOW"
    text = _LEADING_ABSTRACT.sub("", text)
    text = re.sub(r"O_ST_ABS(.*?)C_ST_ABS", lambda m: f"\n\n{m.group(1).strip()}: ", text, flags=re.S)
    text = re.sub(r"O_TEXTBOX(.*?)(?=\n\n|O_ST_ABS|$)", lambda m: f"\n\n{m.group(1).strip()}. ", text, count=0)
    text = text.replace("C_TEXTBOX", "").replace("O_FIG", "").replace("C_FIG", "")
    text = re.sub(r"([A-Za-z])\s*O_LI", r"\1: • ", text, count=1)  # "HighlightsO_LI…": a list's heading
    text = text.replace("O_LI", " • ").replace("C_LI", " ")
    text = _GLUED_HEADING.sub(lambda m: f"{m.group(1)}{m.group(2)}: ", text)
    text = _GLUED_PHRASE.sub(lambda m: f"{m.group(1)}{m.group(2)}: ", text)
    text = _BRACKETED_ENTITY.sub(lambda m: html.unescape(m.group(1)), text)
    text = _BRACED.sub(_symbol, text)
    text = re.sub(r":\s*:\s", ": ", text)
    return ids.normalize_text(text)


def preprint_doi(value: object) -> tuple[str, int | None] | None:
    """(DOI without a version suffix, version) of a bioRxiv/medRxiv DOI, else None."""
    doi = ids.normalize_doi(str(value)) if value else None
    if doi is None:
        return None
    match = _VERSIONED.match(doi)
    if match:
        return match.group("doi"), int(match.group("version"))
    return doi, None


def _version(value: object) -> int | None:
    text = str(value or "").strip().lstrip("v")
    return int(text) if text.isdigit() and len(text) < 6 else None


def _authors(value: object) -> list[str]:
    if not isinstance(value, str):
        return []
    return [name for name in (ids.normalize_text(part) for part in value.split(";")) if name]


def _record(item: Any, source: str, server_hint: str | None) -> PaperRecord | None:
    if not isinstance(item, dict):
        return None
    found = preprint_doi(item.get("doi"))
    title = ids.normalize_text(str(item.get("title") or ""))
    if found is None or not title:
        return None
    doi, doi_version = found
    version = _version(item.get("version")) or doi_version
    server = str(item.get("server") or server_hint or "bioRxiv")
    category = ids.normalize_text(str(item.get("category") or "")).lower() or None
    published = ids.normalize_doi(str(item.get("published") or "")) if item.get("published") != "NA" else None
    extras: dict[str, Any] = {"server": SERVERS.get(server.lower(), server)}
    for key, ours in (("license", "license"), ("type", "article_type"), ("jatsxml", "jats_url")):
        value = item.get(key)
        if isinstance(value, str) and value.strip() and value != "NA":
            extras[ours] = value.strip()
    corresponding = ids.normalize_text(str(item.get("author_corresponding") or ""))
    if corresponding:
        extras["author_corresponding"] = corresponding
    funder = item.get("funder")
    if isinstance(funder, list):  # newer responses: [{name, id, id-type, award}]
        names = [str(f.get("name")) for f in funder if isinstance(f, dict) and f.get("name")]
        if names:
            extras["funders"] = names
    if published:
        extras["published_doi"] = published
    posted = parse_date(str(item.get("date") or ""))
    return preprint_record(
        server=server, doi=doi, version=version, title=title,
        abstract=clean_abstract(str(item.get("abstract") or "")), authors=_authors(item.get("authors")),
        category=category, posted=posted, source=source, extras=extras,
        aliases=[f"doi:{published}"] if published else [],
    )


def preprint_record(
    *, server: str, doi: str, version: int | None, title: str, abstract: str, authors: list[str],
    category: str | None, posted: datetime | None, source: str, extras: dict[str, Any],
    aliases: list[str] | None = None,
) -> PaperRecord:
    """One bioRxiv/medRxiv posting as a record, the same whether the details API or the RSS feed reported it."""
    site = "www.medrxiv.org" if server.lower() == "medrxiv" else "www.biorxiv.org"
    suffix = f"v{version}" if version else ""
    return PaperRecord(
        canonical_id=f"doi:{doi}", version=version, title=title, abstract=abstract, authors=authors,
        categories=[category] if category else [], primary_category=category, doi=doi,
        abs_url=f"https://{site}/content/{doi}{suffix}", pdf_url=f"https://{site}/content/{doi}{suffix}.full.pdf",
        published_at=posted, updated_at=posted, source=source, extras=extras, aliases=aliases or [],
    )


def _versions(record: PaperRecord) -> list[dict[str, Any]]:
    known = record.extras.get("versions")
    if isinstance(known, list):
        return known
    posted = record.updated_at.date().isoformat() if record.updated_at else None
    return [{"version": record.version, "date": posted}]


def fold_versions(records: list[PaperRecord]) -> list[PaperRecord]:
    """One record per DOI: the highest version, its first posting date and every version seen."""
    by_doi: dict[str, list[PaperRecord]] = {}
    for record in records:
        by_doi.setdefault(record.canonical_id, []).append(record)
    folded: list[PaperRecord] = []
    for group in by_doi.values():
        group.sort(key=lambda r: r.version or 0)
        newest = group[-1]
        dated = [r.published_at for r in group if r.published_at is not None]
        if dated:
            newest.published_at = min(dated)  # the preprint first appeared with its first version
        versions = {entry.get("version"): entry for r in group for entry in _versions(r)}
        newest.extras["versions"] = sorted(versions.values(), key=lambda entry: entry.get("version") or 0)
        for older in group[:-1]:  # a journal DOI reported only by an older version still counts
            newest.aliases.extend(a for a in older.aliases if a not in newest.aliases)
            if "published_doi" in older.extras:
                newest.extras.setdefault("published_doi", older.extras["published_doi"])
        folded.append(newest)
    return folded


def looks_like_details(data: Any) -> bool:
    return (
        isinstance(data, dict) and isinstance(data.get("collection"), list) and isinstance(data.get("messages"), list)
    )


def parse_details(body: bytes | Any, source: str, server: str | None = None) -> tuple[ParsedDocument, int]:
    """(records of one `details` page with versions folded, number of entries on the page)."""
    data = decode_json(body) if isinstance(body, bytes) else body
    if not looks_like_details(data):
        raise SourceError("not a bioRxiv/medRxiv details response (expected messages and collection)")
    message = data["messages"][0] if data["messages"] and isinstance(data["messages"][0], dict) else {}
    status = str(message.get("status", "ok"))
    if status.lower() != "ok" and data["collection"]:
        raise SourceError(f"bioRxiv API: {status}")
    parsed = ParsedDocument()
    raw: list[PaperRecord] = []
    for item in data["collection"]:
        record = _record(item, source, server)
        if record is None:
            parsed.malformed += 1
        else:
            raw.append(record)
    folded = fold_versions(raw)
    parsed.folded = len(raw) - len(folded)
    for record in folded:
        add_record(parsed, record, record.updated_at)
    total = str(message.get("total", "")).strip()  # a string in real responses
    parsed.total_results = int(total) if total.isdigit() else None
    return parsed, len(data["collection"])


class BiorxivSource:
    """Pages one interval (watermark day .. today) until a page comes back short or empty."""

    def __init__(self, spec: str, server: str, subject: str) -> None:
        self.spec = spec
        self.server = server
        self.subject = subject.replace("_", " ").replace("-", " ").strip().lower()

    def _wanted(self, record: PaperRecord) -> bool:
        return self.subject == "all" or record.primary_category == self.subject

    async def fetch(self, ctx: FetchContext) -> FetchResult:
        base = ctx.settings.biorxiv_api_url.rstrip("/")
        start, end = window_start(ctx), today()
        params = {"category": self.subject.replace(" ", "_")} if self.subject != "all" else None
        cursor, page_size = 0, 0
        pages: list[ParsedDocument] = []
        for _ in range(ctx.settings.source_max_pages):
            url = f"{base}/details/{self.server}/{start.isoformat()}/{end.isoformat()}/{cursor}"
            response = await ctx.client.get(
                url, params=params, expect="json", min_interval=ctx.settings.biorxiv_min_interval
            )
            parsed, received = parse_details(response.body, self.spec, self.server)
            pages.append(parsed)
            page_size = max(page_size, received)  # the largest page seen, never the `count` field
            cursor += received
            total = parsed.total_results
            if ctx.progress:
                ctx.progress(self.spec, min(cursor, total or cursor), total)
            if received == 0 or received < page_size or (total is not None and cursor >= total):
                break
        combined = merge_pages(pages)
        # versions of one DOI can sit on two pages: fold again across the whole run
        kept = fold_versions(combined.records)
        combined.folded += len(combined.records) - len(kept)
        off_subject = [r for r in kept if not self._wanted(r)]
        combined.records = [r for r in kept if self._wanted(r)]
        return finish(ctx, combined, skipped={"other_subject": len(off_subject)})
