"""`paperbell match`: try a query on a JSON/JSONL file of papers or on the papers stored recently.

Registered into the main Typer app by digest.cli.main. Matching itself lives in digest.query and
digest.services.preview; this module reads input, reports invalid queries and prints results.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from digest.cli.context import fail, get_settings, open_app, print_json, read_json_records

if TYPE_CHECKING:  # the matcher is imported when the command runs, not for `--help`
    from digest.query import Explanation, PaperDoc


def read_papers(path: Path) -> list[PaperDoc]:
    """Records of a JSON array or JSONL file; `title` and `abstract` required, `id`/`authors`/`categories` optional."""
    from digest.query import PaperDoc

    records = read_json_records(path)
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


def _print_rows(rows: list[dict[str, Any]], total: int, as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['id'] or '-'}  {row['title']}")
        clauses = "; ".join(f"{c['clause']} in {', '.join(c['fields'])}" for c in row["clauses"])
        typer.echo(f"    matched: {', '.join(row['matched_words'])}  ({clauses})")
    shown = f", showing {len(rows)}" if len(rows) < total else ""
    typer.echo(f"{total} matching paper{'s' if total != 1 else ''}{shown}")


def register(app: typer.Typer) -> None:
    """Add `match` to the main app."""

    @app.command("match")
    def match(
        query: str = typer.Option(..., "--query", "-q", help="The query to try (see the README's query language)."),
        papers: Path | None = typer.Option(None, "--papers", help="JSON array or JSONL file of papers to match."),
        days: int = typer.Option(7, "--days", min=1, help="Without --papers: stored papers first seen in N days."),
        limit: int = typer.Option(20, "--limit", min=1, help="Without --papers: at most this many examples."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON array instead of text."),
    ) -> None:
        """Show which papers a query matches, and why (the words and clauses that matched)."""
        from digest.query import QueryError, QueryLimits, compile_matcher, parse_query

        if papers is not None:
            settings = get_settings()
            try:
                parsed = parse_query(query, QueryLimits(settings.query_max_length, settings.query_max_clauses))
            except QueryError as exc:
                fail(f"invalid query: {exc}")
            docs = read_papers(papers)
            found = compile_matcher({0: parsed}).match(docs)
            rows = [_row(docs[m.doc_index].id, docs[m.doc_index].title, m.explanation) for m in found]
            _print_rows(rows, len(rows), as_json)
            return
        from digest.services.preview import preview_query

        with open_app() as ctx:
            try:
                preview = preview_query(ctx.db, ctx.settings, query, days=days, limit=limit)
            except QueryError as exc:
                fail(f"invalid query: {exc}")
            rows = [_row(p.canonical_id, p.title, e) for p, e in preview.examples]
            _print_rows(rows, preview.count, as_json)
