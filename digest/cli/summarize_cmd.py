"""`paperbell summarize`: print a TL;DR per paper, from a JSON/JSONL file or the stored recent papers.

Uses the same chain as the digests (`digest.summaries.summarize_papers`): source summary, then the
LLM when `summarizer=llm`, then the extractive summary. Registered in `digest.cli.main`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from digest.cli.context import get_settings, open_app, print_json, read_json_records

if TYPE_CHECKING:  # imported when the command runs, not for `--help`
    from storage.db import Database
    from storage.models import Paper


def read_paper_file(path: Path) -> list[Paper]:
    """Unsaved papers from a JSON array or JSON-lines file of {title, abstract, id?, extras?/ai_summary?}.

    Each gets a transient id: the record's integer `id` when it has one, else its 1-based position.
    """
    from storage.models import Paper

    records = read_json_records(path, required=("title",))
    papers = []
    for position, record in enumerate(records, start=1):
        extras = dict(record.get("extras") or {})
        if isinstance(record.get("ai_summary"), str):
            extras["ai_summary"] = record["ai_summary"]
        raw_id = record.get("id")
        papers.append(
            Paper(
                id=raw_id if isinstance(raw_id, int) else position,
                canonical_id=str(raw_id or f"file:{position}"),
                title=" ".join(record["title"].split()),
                abstract=str(record.get("abstract") or ""),
                extras=extras,
            )
        )
    return papers


def recent_papers(db: Database, days: int, limit: int | None) -> list[Paper]:
    from sqlmodel import col, select

    from storage.models import Paper
    from storage.types import utcnow

    since = utcnow() - timedelta(days=days)
    with db.session() as session:
        statement = select(Paper).where(col(Paper.first_seen_at) >= since).order_by(col(Paper.id))
        if limit:
            statement = statement.limit(limit)
        return list(session.exec(statement).all())


def _emit(papers: list[Paper], summaries: dict[int, str], as_json: bool) -> None:
    rows = [{"id": p.id, "title": p.title, "summary": summaries.get(p.id or 0, "")} for p in papers]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"[{row['id']}] {row['title']}\n    {row['summary']}\n")


def summarize(
    papers_file: Annotated[
        Path | None, typer.Option("--papers", help="JSON array or JSON-lines file of {title, abstract} records.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print [{id, title, summary}] as JSON.")] = False,
    days: Annotated[int, typer.Option(min=1, help="Without --papers: papers first seen in the last N days.")] = 7,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many stored papers.")] = None,
) -> None:
    """Print id, title and TL;DR for each paper (source summary, LLM if configured, else extractive)."""
    import asyncio

    from digest.summaries import summarize_papers

    if papers_file is not None:
        settings = get_settings()
        papers = read_paper_file(papers_file)
        # Papers from a file are not stored, so there is nothing to key the LLM cache on.
        summaries = asyncio.run(summarize_papers(settings, None, papers))
        _emit(papers, summaries, as_json)
        return
    with open_app() as app:
        papers = recent_papers(app.db, days, limit)
        summaries = asyncio.run(summarize_papers(app.settings, app.db, papers))
    _emit(papers, summaries, as_json)


def register(app: typer.Typer) -> None:
    app.command("summarize")(summarize)
