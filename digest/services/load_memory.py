"""What loading digest items remembers between the batches (and passes) of one process, bounded.

Used by digest.services.items (`load_items_many`: the papers of a batch, their shared item parts) and
digest.services.claim_check (`Recheck`: each query parsed once, each (paper, query) re-checked once).
The e-mail pass (digest.email.batch) and `items.load_items` (Discord, previews) share one `LoadMemory`
per database, query limits and papers URL across batches and passes (`shared_memory`); a caller of
`load_items_many` without one gets a fresh memory for that call.

Each batch still reads its papers, as plain columns, and the columns ARE the paper's content version:
a paper whose row changed in any column an item shows (a v2, a new title, new upvotes) gets a new
`Paper` object (the only ORM read), and everything remembered for the old one is keyed by that
object, so it is never shown again. Re-check results are keyed by the query TEXT read for each batch:
an edited query is a new key, re-checked (and dropped) like any other. Every store is an LRU with a
fixed bound, so memory does not grow with the number of subscribers (unique queries are the common
case).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Text, cast, select
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from digest.core.assembly import DigestItem
from digest.core.lru import Lru
from digest.query import AnalyzedDoc, PaperDoc, QueryLimits
from digest.services.match_cache import analysed
from digest.services.preview import paper_to_doc
from storage.models import Paper

PAPERS = 4096  # papers remembered: a day's new papers (2,000 in the delivery benchmark), with margin
PAIRS = 32768  # (paper, query) re-checks remembered: explanations of ~0.6 KB each
QUERIES = 4096  # parsed queries remembered (~1 KB each)
SNIPPETS_PER_PAPER = 64  # snippets (one per set of matched words) kept per paper
MEMORIES = 4  # memories kept by `shared_memory` (tests open many databases)

class PaperPieces:
    """What a paper's items share whoever receives it (title, authors, links, summary; snippets per set of
    matched words), made once: the same papers appear in many digests. A paper whose pieces cannot be
    made stores nothing, so it fails each digest it is in, and only those. Shared by threads: read with
    `get` (a full store of snippets is emptied, by `limit`, while another thread may be reading it)."""

    def __init__(self, limit: int | None = None) -> None:
        self.items: dict[tuple[int, str, bool], DigestItem] = {}
        self.snippets: dict[tuple[int, str, tuple[str, ...]], str] = {}
        self.limit = limit

    def keep_snippet(self, key: tuple[int, str, tuple[str, ...]], text: str) -> None:
        if self.limit is not None and len(self.snippets) >= self.limit:
            self.snippets = {}  # a new dict: a reader of the old one is not disturbed
        self.snippets[key] = text


# A paper's content version: every column but last_seen_at (it changes when nothing else does), read
# as plain values (JSON and times as their text: nothing to decode to compare them).
_CONTENT = [
    cast(column, Text) if name in ("authors", "categories", "sources", "extras", "published_at", "updated_at",
                                   "first_seen_at") else column
    for name, column in Paper.__table__.columns.items()  # type: ignore[attr-defined]
    if name != "last_seen_at"
]

_ID = col(Paper.id)


class PaperEntry:
    """One paper's content version, its `Paper`, its item parts and, once asked, its matcher document and
    its analysis (held weakly: the process's bounded analyses, `match_cache.analysed`, decide how long)."""

    __slots__ = ("_analysed", "_doc", "content", "paper", "pieces")

    def __init__(self, content: tuple[Any, ...], paper: Paper) -> None:
        self.content = content
        self.paper = paper
        self.pieces = PaperPieces(SNIPPETS_PER_PAPER)
        self._doc: PaperDoc | None = None
        self._analysed: weakref.ref[AnalyzedDoc] | None = None

    def analysed(self) -> AnalyzedDoc:
        found = self._analysed() if self._analysed is not None else None
        if found is None:
            assert self.paper.id is not None
            if self._doc is None:
                self._doc = paper_to_doc(self.paper)
            found = analysed(self.paper.id, self._doc, for_matching=False)
            self._analysed = weakref.ref(found)
        return found


class LoadMemory:
    """The papers read, the parsed queries and the re-check results of the batches that share it."""

    def __init__(self, limits: QueryLimits, *, papers: int = PAPERS, pairs: int = PAIRS,
                 queries: int = QUERIES) -> None:
        self.limits = limits  # the re-check parses under these limits: one memory per limits
        self.papers: Lru[int, PaperEntry] = Lru(papers)
        self.parsed: Lru[str, tuple[Any]] = Lru(queries)  # (Query,) or (None,): a query that no longer parses
        # (paper id, query text) -> (the Paper re-checked, its explanation or None)
        self.found: Lru[tuple[int, str], tuple[Paper, dict[str, object] | None]] = Lru(pairs)

    def read_papers(self, session: Session, paper_ids: Iterable[int]) -> dict[int, Paper]:
        """The papers with these ids as stored now: their content read plainly, and as `Paper` objects only
        those this memory has not seen with that content (read after it: never older than their key)."""
        wanted = sorted(set(paper_ids))
        contents = {row[0]: tuple(row) for row in session.execute(select(*_CONTENT).where(_ID.in_(wanted)))}
        out: dict[int, Paper] = {}
        for paper_id, entry in zip(contents, self.papers.get_many(contents), strict=True):
            if entry is not None and entry.content == contents[paper_id]:
                out[paper_id] = entry.paper
        missing = [paper_id for paper_id in contents if paper_id not in out]
        if missing:
            for paper in session.exec(sqlmodel_select(Paper).where(_ID.in_(missing))).all():
                assert paper.id is not None
                self.papers.put(paper.id, PaperEntry(contents[paper.id], paper))
                out[paper.id] = paper
        return out

    def entry_of(self, paper: Paper) -> PaperEntry | None:
        """The entry of this very `Paper` object (None for a paper read elsewhere, or since replaced)."""
        entry = self.papers.get(paper.id) if paper.id is not None else None
        return entry if entry is not None and entry.paper is paper else None

    def analysed(self, paper: Paper) -> AnalyzedDoc:
        """The paper analysed for an explanation, from the process's bounded analyses (the match cycle's,
        when it analysed the same paper)."""
        entry = self.entry_of(paper)
        if entry is not None:
            return entry.analysed()
        assert paper.id is not None
        return analysed(paper.id, paper_to_doc(paper), for_matching=False)


_memories: Lru[tuple[str, QueryLimits, str], LoadMemory] = Lru(MEMORIES)
_memories_lock = threading.Lock()


def shared_memory(url: str, limits: QueryLimits, papers_url: str) -> LoadMemory:
    """The process's memory for this database, these query limits and this Hugging Face papers URL (the
    one setting an item's parts read): created empty on first use."""
    with _memories_lock:
        memory = _memories.get((url, limits, papers_url))
        if memory is None:
            memory = LoadMemory(limits)
            _memories.put((url, limits, papers_url), memory)
        return memory


def sizes(memory: LoadMemory) -> Sequence[int]:
    """(papers, parsed queries, re-check results) held: what the bounds bound."""
    return len(memory.papers), len(memory.parsed), len(memory.found)
