"""Near misses from the compiled matcher equal the one-by-one evaluation of each top-level clause: a paper is
a near miss exactly when one clause fails, and the clause named is that one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.query import AnalyzedDoc, PaperDoc, analyze_doc, parse_query
from digest.query.ast import And, Not, format_node
from digest.query.compiled import compile_matcher

SAMPLE = Path(__file__).parent / "arxiv_2026_sample.jsonl"
WORDS = ["model", "language", "learning", "diffusion", "graph", "ti:model", "ti:learning", "-survey", "cat:cs.LG",
         "\"large language\"", "vision", "-ti:graph", "reinforcement", "(image OR video)", "transformer*"]


def _docs() -> list[AnalyzedDoc]:
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()[:150]]
    return [analyze_doc(PaperDoc(str(r.get("id", i)), r.get("title", ""), r.get("abstract", ""),
                                 r.get("authors", []), r.get("categories", []))) for i, r in enumerate(rows)]


DOCS = _docs()


def oracle(text: str, limit: int = 3) -> list[tuple[int, str]]:
    """Each top-level clause matched alone (a NOT clause fails where its child is present)."""
    root = parse_query(text).root
    if not isinstance(root, And) or len(root.children) < 2:
        return []
    failing: dict[int, list[str]] = {}
    for child in root.children:
        negated = isinstance(child, Not)
        clause = format_node(child)
        alone = compile_matcher({0: parse_query(format_node(child.child) if isinstance(child, Not) else clause)})
        present = set(alone.match_pairs(DOCS)[1].tolist())
        for index in range(len(DOCS)):
            if (index in present) == negated:
                failing.setdefault(index, []).append(clause)
    near = sorted((i for i, failed in failing.items() if len(failed) == 1), reverse=True)[:limit]
    return [(i, failing[i][0]) for i in near]


@pytest.mark.parametrize("text", ["ti:model ti:learning", "language model -survey", "graph learning cat:cs.LG",
                                  "diffusion", "diffusion OR graph", "\"large language\" ti:model (image OR video)"])
def test_near_misses_equal_the_clause_by_clause_evaluation(text: str) -> None:
    _pairs, _docs, near = compile_matcher({7: parse_query(text)}).match_pairs_near(DOCS, [7])
    got = [(index, clause) for index, clause in near.get(7, [])]
    assert [i for i, _ in got] == [i for i, _ in oracle(text)]
    for (_, clause), (_, expected) in zip(got, oracle(text), strict=True):  # the failed clause, worded as parsed
        assert clause.strip("()").removeprefix("-") in expected.strip("()").removeprefix("-")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WORDS), min_size=2, max_size=4, unique=True))
def test_random_conjunctions_agree_with_the_oracle(words: list[str]) -> None:
    text = " ".join(words)
    if all(w.startswith("-") for w in words):
        return  # a query of only NOTs is refused by the parser's rules elsewhere
    _pairs, _docs, near = compile_matcher({1: parse_query(text)}).match_pairs_near(DOCS, [1])
    assert [i for i, _ in near.get(1, [])] == [i for i, _ in oracle(text)]


def test_only_the_named_subscriptions_are_computed() -> None:
    matcher = compile_matcher({1: parse_query("ti:model ti:learning"), 2: parse_query("ti:model ti:learning")})
    _pairs, _docs, near = matcher.match_pairs_near(DOCS, [2])
    assert set(near) <= {2}
