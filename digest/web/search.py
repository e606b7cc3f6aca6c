"""Search the stored papers with the query language, for the web front (`/search`, `/api/search`, feeds).

Bounded work: only the newest `candidates` papers are searched (the page says when the store holds
more). The candidates are analysed once per `store_version` (a `Corpus`), so a search is one
matcher pass over pre-analysed documents. Pure below `load_corpus`: plain data in, plain data out;
the web layer runs it in a worker thread, never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from digest.core.assembly import DigestItem, rank_digest_items
from digest.core.readable import latex_to_unicode
from digest.query import analyze_doc, parse_query
from digest.services.preview import paper_to_doc
from digest.services.subscribers import query_limits
from digest.settings import Settings
from digest.summaries import summary_for
from digest.web.days import store_version, web_item
from storage.db import Database
from storage.models import Paper

if TYPE_CHECKING:  # numpy underneath: imported by the first search, so the web answers /healthz sooner
    from digest.query.prepared import PreparedBatch


@dataclass(frozen=True)
class Corpus:
    """The newest stored papers, analysed for matching; `version` is the store it was read from."""

    version: tuple[int, int, str]
    papers: list[Paper]
    docs: PreparedBatch  # indexed once for any query: a search only looks its clauses up
    capped: bool  # the store holds more papers than were loaded
    tldrs: dict[int, str] = field(default_factory=dict)  # paper id -> TL;DR, filled as pages show them

    def tldr(self, paper: Paper) -> str:
        assert paper.id is not None
        found = self.tldrs.get(paper.id)
        if found is None:
            found = self.tldrs[paper.id] = summary_for(paper)
        return found


@dataclass
class SearchOutcome:
    query: str
    total: int  # matches among the candidates
    page: int
    pages: int
    items: list[DigestItem] = field(default_factory=list)
    explanations: list[dict[str, Any]] = field(default_factory=list)  # one per item
    capped: bool = False
    warnings: list[str] = field(default_factory=list)


def load_corpus(db: Database, candidates: int) -> Corpus:
    version = store_version(db)
    with db.session() as session:
        statement = select(Paper).order_by(col(Paper.first_seen_at).desc(), col(Paper.id).desc()).limit(candidates)
        papers = list(session.exec(statement).all())
    from digest.query.prepared import PreparedBatch

    docs = PreparedBatch([analyze_doc(paper_to_doc(paper)) for paper in papers])
    corpus = Corpus(version=version, papers=papers, docs=docs, capped=version[0] > len(papers))
    # What a results page shows of a paper whatever the query (TL;DR; title, authors and abstract in
    # Unicode, kept by digest.core.readable's cache): prepared here, once per store version (~1 ms a paper),
    # rather than by the searches that happen to show each paper first.
    for paper in papers:
        for text in (corpus.tldr(paper), paper.title, paper.abstract or "", *(paper.authors or ())):
            latex_to_unicode(text)
    return corpus


def search_corpus(
    settings: Settings, corpus: Corpus, query_text: str, *, page: int = 1, per_page: int = 20, now: datetime
) -> SearchOutcome:
    """One page of the strongest matches; raises `QueryError` (pointed message) for an invalid query."""
    query = parse_query(query_text, query_limits(settings))
    from digest.query import compile_matcher  # numpy: loaded by the first search, not at start

    matcher = compile_matcher({0: query})
    explained: dict[int, dict[str, Any]] = {}
    papers: dict[int, Paper] = {}
    items = []
    for match in matcher.match(corpus.docs):
        paper = corpus.papers[match.doc_index]
        assert paper.id is not None
        explained[paper.id], papers[paper.id] = match.explanation.to_dict(), paper
        # light items to rank (no TL;DR, no snippet): a broad query stays one matcher pass
        items.append(web_item(settings, paper, explained[paper.id], summary=False))
    ranked = rank_digest_items(items, now)
    pages = max(1, -(-len(ranked) // per_page))
    page = min(max(page, 1), pages)
    # the page shown gets the whole item: summary, and the snippet that depends on it
    shown = [
        web_item(settings, papers[item.paper_id], explained[item.paper_id], tldr=corpus.tldr(papers[item.paper_id]))
        for item in ranked[(page - 1) * per_page : page * per_page]
    ]
    return SearchOutcome(
        query=query_text,
        total=len(ranked),
        page=page,
        pages=pages,
        items=shown,
        explanations=[explained[item.paper_id] for item in shown],
        capped=corpus.capped,
        # the analyser may attach advisory notes (e.g. an unknown category) to a valid query
        warnings=[str(w) for w in getattr(query, "warnings", ()) or ()],
    )
