"""Plain records shared between layers: `PaperRecord` is what every ingestion source yields.

Sources (digest.sources.*) produce them, digest.services.ingest merges them into
storage.models.Paper rows. No database or HTTP imports here: plain data only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# source spec kind -> the family `src:` names in queries ("arxiv-api:…" is arXiv too)
SOURCE_FAMILIES = {
    "arxiv": "arxiv", "arxiv-api": "arxiv", "hf": "hf", "feed": "feed", "file": "file", "biorxiv": "biorxiv",
    "biorxiv-rss": "biorxiv", "medrxiv": "medrxiv", "medrxiv-rss": "medrxiv", "pubmed": "pubmed",
    "openalex": "openalex", "crossref": "crossref", "s2": "s2",
}


def source_tag(family: str) -> str:
    """The pseudo-category a paper carries for the matcher when a source of `family` reported it."""
    return f"src:{family}"


def matcher_categories(categories: list[str], sources: list[str]) -> list[str]:
    """A stored paper's categories plus one `src:` tag per source family that reported it (for `src:`)."""
    tags = [source_tag(SOURCE_FAMILIES.get(spec.partition(":")[0], spec.partition(":")[0])) for spec in sources]
    own = [c for c in categories if not c.lower().startswith("src:")]  # a source cannot fake a tag
    return [*own, *dict.fromkeys(tags)]


@dataclass
class PaperRecord:
    """One paper as a source reported it, already normalized (ids, whitespace, aware UTC dates).

    `canonical_id` is an arXiv id without version ("2410.17243", "hep-ph/9411242"), "doi:<doi>"
    or "hash:<hex>" for items with no identifier (see digest.core.ids).
    `announce_type` is arXiv's new / cross / replace / replace-cross, or None for other sources.
    `aliases` are other names of the same paper that merging looks up: `doi:<doi>` (a preprint's
    journal DOI, a journal article's preprint), an arXiv id, `pmid:<n>`, `openalex:W<n>`, `s2:<id>`.
    """

    canonical_id: str
    title: str
    abstract: str = ""
    version: int | None = None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    doi: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    source: str = ""
    announce_type: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)

    @property
    def is_replacement(self) -> bool:
        return self.announce_type in {"replace", "replace-cross"}
