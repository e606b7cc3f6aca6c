"""`paperbell match`: try a query on a JSON/JSONL file of papers or on the papers stored recently.

Registered into the main Typer app by digest.cli.main. Matching itself lives in digest.query and
digest.services.preview; this module reads input, reports invalid queries and prints results.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from digest.cli.context import fail, get_settings, open_app, print_json, read_json_records

if TYPE_CHECKING:  # the matcher is imported when the command runs, not for `--help`
    from digest.query import Explanation, PaperDoc


def read_papers(path: Path, records: list[dict[str, Any]] | None = None) -> list[PaperDoc]:
    """Records of a JSON array or JSONL file; `title` and `abstract` required, `id`/`authors`/`categories` optional."""
    from digest.query import PaperDoc

    records = read_json_records(path) if records is None else records
    docs = []
    for record in records:
        identifier = record.get("id")
        docs.append(
            PaperDoc(
                id=None if identifier is None else str(identifier),
                title=record["title"],
                abstract=record["abstract"],
                authors=[str(a) for a in record.get("authors") or []],
                categories=[str(c) for c in record.get("categories") or []],
            )
        )
    return docs


def _row(identifier: str | None, title: str, explanation: Explanation) -> dict[str, Any]:
    return {"id": identifier, "title": title, **explanation.to_dict()}


def _print_warnings(warnings: list[str]) -> None:
    """On stderr, so `--json` output stays one parseable document."""
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


def _ranked(found: list[tuple[dict[str, Any], datetime | None, int | None]]) -> list[dict[str, Any]]:
    """Rows strongest first with the digests' ranking (title/abstract hits, clauses, freshness, upvotes)."""
    from digest.core.ranking import RankInput, rank_items

    inputs = [
        RankInput(key=index, title_hits=row["title_hits"], abstract_hits=row["abstract_hits"],
                  distinct_clauses=len(row["clauses"]), published=published, upvotes=upvotes, item=row)
        for index, (row, published, upvotes) in enumerate(found)
    ]
    # the clock without storage.types: a file-only match never loads the database layer
    return [entry.item for entry in rank_items(inputs, datetime.now(UTC)) if entry.item is not None]


def _print_rows(rows: list[dict[str, Any]], total: int, limit: int, as_json: bool) -> None:
    shown = rows[:limit]
    if as_json:
        print_json(shown)
        return
    for row in shown:
        typer.echo(f"{row['id'] or '-'}  {row['title']}")
        clauses = "; ".join(f"{c['clause']} in {', '.join(c['fields'])}" for c in row["clauses"])
        typer.echo(f"    matched: {', '.join(row['matched_words'])}  ({clauses})")
        if row.get("people"):  # an `author:` clause: say whom, as every digest does
            from digest.services.items import followed_reason

            typer.echo(f"    {followed_reason(row)}")
    noun = "paper" if total == 1 else "papers"
    if len(shown) < total:
        typer.echo(f"{total} matching {noun}, ranked as in a digest; showing the top {len(shown)}, "
                   f"{total - len(shown)} left out (--limit {total} shows all)")
    else:
        typer.echo(f"{total} matching {noun}, ranked as in a digest")


def _published(record: dict[str, Any]) -> datetime | None:
    value = record.get("published") or record.get("published_at")
    try:
        parsed = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed is not None and parsed.tzinfo is None else parsed


def register(app: typer.Typer) -> None:
    """Add `match` to the main app."""

    @app.command("match")
    def match(
        query: str = typer.Option(..., "--query", "-q", help="The query to try (see the query language guide)."),
        papers: Path | None = typer.Option(None, "--papers", help="JSON array or JSONL file of papers to match."),
        days: int = typer.Option(7, "--days", min=1, help="Without --papers: stored papers first seen in N days."),
        limit: int = typer.Option(20, "--limit", min=1, help="Show at most this many (the strongest matches)."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON array instead of text."),
    ) -> None:
        """Show which papers a query matches, and why, strongest first (ranked as in a digest)."""
        from digest.query import QueryError, QueryLimits, compile_matcher, parse_query

        if papers is not None:
            settings = get_settings()
            try:
                parsed = parse_query(query, QueryLimits(settings.query_max_length, settings.query_max_clauses))
            except QueryError as exc:
                fail(f"invalid query: {exc}")
            _print_warnings(list(parsed.warnings))
            records = read_json_records(papers)
            docs = read_papers(papers, records)
            found = compile_matcher({0: parsed}).match(docs)
            rows = _ranked([
                (_row(docs[m.doc_index].id, docs[m.doc_index].title, m.explanation),
                 _published(records[m.doc_index]), _int(records[m.doc_index].get("upvotes")))
                for m in found
            ])
            _print_rows(rows, len(rows), limit, as_json)
            return
        from digest.services.preview import preview_query

        with open_app() as ctx:
            try:
                preview = preview_query(ctx.db, ctx.settings, query, days=days, limit=None)
            except QueryError as exc:
                fail(f"invalid query: {exc}")
            _print_warnings(preview.warnings)
            rows = _ranked([
                (_row(p.canonical_id, p.title, e), p.published_at or p.first_seen_at,
                 _int((p.extras or {}).get("upvotes")))
                for p, e in preview.examples
            ])
            _print_rows(rows, preview.count, limit, as_json)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
