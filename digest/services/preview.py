"""Preview a query on the papers stored recently, before it is saved as a subscription.

Called by `paperbell match` (without --papers) and the Discord /subscribe and /search commands.
Also home of `paper_to_doc`, the one adapter from a stored `Paper` to the matcher's `PaperDoc`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from digest.core.records import matcher_categories
from digest.query import Explanation, PaperDoc, QueryLimits, analyze_doc, parse_query
from digest.query.people import ORCIDS_EXTRA, author_ids
from digest.query.report import REPORT_DAYS, ClauseReport
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper
from storage.types import utcnow

BATCH = 2000  # papers analysed at a time: bounds memory whatever `days` is


@dataclass
class Preview:
    """How many recent papers the query matches, the newest few with their explanations, and the
    parser's warnings about parts of the query that look unintended (shown with every preview)."""

    count: int
    examples: list[tuple[Paper, Explanation]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    complete: bool = True  # False when the scan stopped at `stop_after` matches (count is then a floor)


def paper_to_doc(paper: Paper) -> PaperDoc:
    return PaperDoc(
        id=paper.canonical_id,
        title=paper.title or "",
        abstract=paper.abstract or "",
        authors=list(paper.authors or []),
        categories=matcher_categories(list(paper.categories or []), list(paper.sources or [])),
        author_ids=author_ids((paper.extras or {}).get(ORCIDS_EXTRA)),
    )


def preview_query(
    db: Database,
    settings: Settings,
    query_text: str,
    *,
    days: int = 7,
    limit: int | None = 3,
    now: datetime | None = None,
    stop_after: int | None = None,
) -> Preview:
    """Match `query_text` against papers first seen in the last `days` days, newest first.

    Raises `digest.query.QueryError` (pointed message) when the query is invalid — the same
    validation as saving a subscription. `stop_after` bounds the work: the scan ends once that many
    matches (the newest) are found.
    """
    from digest.query.compiled import compile_matcher  # numpy: not for commands that never preview

    query = parse_query(query_text, QueryLimits(settings.query_max_length, settings.query_max_clauses))
    matcher = compile_matcher({0: query})
    now = now or utcnow()
    since = now - timedelta(days=days)
    preview = Preview(count=0, warnings=list(query.warnings))
    # the same papers tell which clause found nothing in the last REPORT_DAYS days (read further
    # back only while some clause is still unseen)
    report = ClauseReport(query)
    last: tuple[datetime, int] | None = None
    while True:
        papers = _page(db, now - timedelta(days=max(days, REPORT_DAYS)), last)
        analysed = [analyze_doc(paper_to_doc(p)) for p in papers]
        report.add(analysed)
        recent = [i for i, p in enumerate(papers) if _aware(p.first_seen_at) >= _aware(since)]
        for match in matcher.match([analysed[i] for i in recent]) if recent else ():
            paper = papers[recent[match.doc_index]]
            preview.count += 1
            if limit is None or len(preview.examples) < limit:  # None: keep every match (search ranks them all)
                preview.examples.append((paper, match.explanation))
            if stop_after is not None and preview.count >= stop_after:
                preview.complete = False
                preview.warnings.extend(report.warnings(complete=False))
                return preview
        if len(papers) < BATCH or (len(recent) < len(papers) and report.settled):
            preview.warnings.extend(report.warnings())
            return preview
        tail = papers[-1]
        assert tail.id is not None
        last = (tail.first_seen_at, tail.id)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _page(db: Database, since: datetime, last: tuple[datetime, int] | None) -> list[Paper]:
    """The next BATCH papers first seen after `since`, newest first, after `last` (keyset pagination)."""
    with db.session() as session:
        statement = select(Paper).where(col(Paper.first_seen_at) >= since)
        if last is not None:
            # keyset pagination in (first_seen_at, id) descending order
            statement = statement.where(
                (col(Paper.first_seen_at) < last[0])
                | ((col(Paper.first_seen_at) == last[0]) & (col(Paper.id) < last[1]))
            )
        statement = statement.order_by(col(Paper.first_seen_at).desc(), col(Paper.id).desc()).limit(BATCH)
        return list(session.exec(statement).all())
