"""paperbell's query language and matching engine (pure: plain data in, plain data out).

Used by the CLI (`paperbell match`), the preview and subscription services, the Discord bot and
the match cycle. `parse_query` turns text into a `Query` (or a pointed `QueryError`);
`match_query` evaluates one query on one paper (the reference semantics); `compile_matcher`
evaluates many subscriptions on a batch of papers with identical results, much faster.
The compiled matcher (numpy) is imported on first use of its names, so parsing and checking a query
(every subscription command) does not load numpy.
"""

from typing import TYPE_CHECKING, Any

from digest.query.analysis import AnalyzedDoc, PaperDoc, analyze_doc
from digest.query.ast import Query, QueryError, QueryLimits
from digest.query.explain import ClauseHit, Explanation
from digest.query.oracle import match_query
from digest.query.parser import parse_query

if TYPE_CHECKING:
    from digest.query.compiled import Match, Matcher, compile_matcher

_COMPILED = frozenset({"Match", "Matcher", "compile_matcher"})


def __getattr__(name: str) -> Any:
    """`Match`, `Matcher` and `compile_matcher` from digest.query.compiled, imported on first use."""
    if name in _COMPILED:
        from digest.query import compiled

        return getattr(compiled, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "AnalyzedDoc",
    "ClauseHit",
    "Explanation",
    "Match",
    "Matcher",
    "PaperDoc",
    "Query",
    "QueryError",
    "QueryLimits",
    "analyze_doc",
    "compile_matcher",
    "match_query",
    "parse_query",
]
