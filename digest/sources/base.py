"""The source protocol: fetch records since a watermark -> normalized `PaperRecord`s.

Every module under digest.sources implements `Source` for one kind of spec string
(`arxiv:`, `arxiv-api:`, `hf:`, `feed:`, `file:`, `biorxiv:`, `pubmed:`, …); digest.services.ingest drives them and owns
the database. A source never writes anything: it returns a `FetchResult` or raises `SourceError`
(the reason is logged and recorded, and nothing stored is touched).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from digest.core.records import PaperRecord

if TYPE_CHECKING:
    from digest.settings import Settings
    from digest.sources.http import HostView

ProgressCallback = Callable[[str, int, int | None], None]  # (source spec, steps done, total steps or None)


class SourceError(Exception):
    """A source run failed as a whole (network, HTTP status, malformed document); str = the reason."""


@dataclass
class SourceMemory:
    """What ingestion remembered about a source from its previous successful run."""

    watermark: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FetchContext:
    settings: Settings
    arxiv_client: HostView  # per arXiv host: one connection, >= arxiv_min_interval between requests
    client: HostView  # everything else, one client per host
    memory: SourceMemory = field(default_factory=SourceMemory)
    since: datetime | None = None
    progress: ProgressCallback | None = None


@dataclass
class FetchResult:
    records: list[PaperRecord] = field(default_factory=list)
    # reason -> count of entries dropped before storage ("malformed", "cross_list", ...)
    skipped: dict[str, int] = field(default_factory=dict)
    not_modified: bool = False
    watermark: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    def skip(self, reason: str, count: int = 1) -> None:
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count


@dataclass
class ParsedDocument:
    """What a parser got out of one document: good records and the malformed entries it dropped."""

    records: list[PaperRecord] = field(default_factory=list)
    malformed: int = 0
    total_results: int | None = None  # arXiv API: opensearch:totalResults
    newest: str | None = None  # newest date in the document (ISO), for watermarks
    folded: int = 0  # older versions folded into their paper's record (bioRxiv lists one record per version)


class Source(Protocol):
    """One configured source. `spec` is the exact string it was configured with."""

    spec: str

    async def fetch(self, ctx: FetchContext) -> FetchResult: ...
