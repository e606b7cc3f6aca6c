"""`paperbell subscriptions add SUBSCRIBER [QUERY] --author "Yoshua Bengio" [--pick N]`: follow a person.

Called from digest.cli.admin_cmd's `subscriptions add`. Lists the people the name may mean (from the
stored papers: digest.services.authors), each with a paper count, other spellings, co-authors and
ORCIDs; the operator picks one by number (`--pick N`, or at a prompt on a terminal). The chosen
identity becomes an `author:"…"` clause, ANDed with QUERY when one is given, and is saved like any
query. Without a terminal and without `--pick`, the list is printed and the command exits 1 saying
to add `--pick N`: scripts never hang on a prompt.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from digest.cli.context import console, fail, print_json

if TYPE_CHECKING:
    from digest.cli.context import AppContext
    from digest.services.authors import Candidate


def candidate_dict(number: int, candidate: Candidate) -> dict[str, Any]:
    return {
        "pick": number, "name": candidate.display, "papers": len(candidate.papers),
        "spellings": [n for n, _ in candidate.names.most_common()], "orcids": sorted(candidate.orcids),
        "coauthors": [n for n, _ in candidate.coauthors.most_common(3)], "clause": candidate.clause,
    }


def _show(author: str, candidates: list[Candidate]) -> None:
    console().print(f"People named {author!r} in the stored papers:", markup=False, highlight=False)
    for number, candidate in enumerate(candidates, 1):
        console().print(f"  {number}. {candidate.describe()}", markup=False, highlight=False)


def author_query(app: AppContext, author: str, pick: int | None, query: str | None, as_json: bool) -> str:
    """The query to save: the picked identity's `author:` clause (AND the query, when given)."""
    from digest.services import authors

    candidates = authors.find_candidates(app.db, author)
    if pick is None and len(candidates) <= 1:
        pick = 1  # one person: no question to ask; nobody: `pick` says why
    if pick is None:
        if as_json:
            print_json({"candidates": [candidate_dict(n, c) for n, c in enumerate(candidates, 1)]})
        else:
            _show(author, candidates)
        if as_json or not sys.stdin.isatty():
            fail(f"{len(candidates)} people may be {author!r}: run again with --pick N (a number above)")
        pick = typer.prompt("Follow which one? (number)", type=int)
    chosen = authors.pick(candidates, pick)
    clause = chosen.clause
    if not as_json:
        console().print(f"following {chosen.describe()}", markup=False, highlight=False)
    return f"{clause} ({query})" if query and query.strip() else clause
