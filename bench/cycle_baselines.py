"""The match-cycle benchmark's baselines, on the same papers and queries as the cycle (see match_cycle.py).

- compiled: parse + compile of all N queries, and the pure match (analysed papers → pairs);
- one-by-one evaluator with and without explanations, on a sample of subscriptions, scaled to N;
  its matches on the sample must equal the compiled matcher's (the oracle check);
- SQLite FTS5 (porter stemmer: another tokenizer, so match counts differ) with its index build
  counted, on the sample, scaled;
- perq on its own subset (AND-of-OR of plain terms over title+abstract), given the same stems our
  analyser produced, index build + matching to its own result form counted, against our compile +
  match of that subset (to pair arrays); the (query, paper) pairs must be identical (the comparison,
  which turns both results into Python sets of 1.4M pairs, is not timed on either side).
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from typing import Any

from bench.cycle_workload import workload
from bench.match import fts
from digest.query import Matcher, Query, QueryLimits, analyze_doc, match_query, parse_query
from digest.query.analysis import prepare_for_matching
from digest.query.ast import DEFAULT_FIELDS, And, Node, Or, Term
from digest.query.explain import evaluate
from digest.query.oracle import atom_present


def _timed(fn: Any, runs: int) -> tuple[dict[str, float], Any]:
    times, value = [], None
    for _ in range(runs):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return {"min": round(min(times), 3), "median": round(statistics.median(times), 3)}, value


def _and_of_or(node: Node) -> list[list[str]] | None:
    """perq's form of a query, or None when perq cannot express it."""
    def group(n: Node) -> list[str] | None:
        if isinstance(n, Term) and n.fields == DEFAULT_FIELDS:
            return [n.stem]
        if isinstance(n, Or) and all(isinstance(c, Term) and c.fields == DEFAULT_FIELDS for c in n.children):
            return [c.stem for c in n.children]  # type: ignore[union-attr]
        return None
    if isinstance(node, And):
        groups = [group(c) for c in node.children]
        return None if any(g is None for g in groups) else groups  # type: ignore[return-value]
    single = group(node)
    return [single] if single is not None else None


def _perq(parsed: dict[int, Query], docs: list[Any], runs: int) -> dict[str, Any]:
    import perq

    subset = {sid: form for sid, q in parsed.items() if (form := _and_of_or(q.root)) is not None}
    terms = [set(d.fields["title"].stems) | set(d.fields["abstract"].stems) for d in docs]

    # Each side is timed from its queries to its own form of the result (perq: the ids per document;
    # ours: the pair arrays); turning both into one set of pairs to compare them is not timed.
    def with_perq() -> list[Any]:
        store = perq.MemoryStore()
        perq.index((perq.Query(sid, form) for sid, form in subset.items()), store)
        matcher = perq.QueryMatcher(store)
        return list(matcher.match_many(perq.Document(t) for t in terms))

    def with_ours() -> tuple[Any, Any]:
        return Matcher({sid: parsed[sid] for sid in subset}).match_pairs(docs)

    perq_time, found = _timed(with_perq, runs)
    ours_time, (sids, indexes) = _timed(with_ours, runs)
    perq_pairs = {(sid, i) for i, ids in enumerate(found) for sid in ids}
    our_pairs = set(zip(sids.tolist(), indexes.tolist(), strict=True))
    return {"subset_queries": len(subset), "perq_s": perq_time, "compiled_s": ours_time,
            "speedup_median": round(perq_time["median"] / ours_time["median"], 1),
            "pairs": len(our_pairs), "identical": perq_pairs == our_pairs}


def _fts5(papers: list[Any], sample: list[Query], scale: float) -> dict[str, Any]:
    started = time.perf_counter()
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE p USING fts5(title, abstract, authors, categories, tokenize='porter')")
    connection.executemany(
        "INSERT INTO p (rowid, title, abstract, authors, categories) VALUES (?, ?, ?, ?, ?)",
        [(i, d.title, d.abstract, "; ".join(d.authors), " ".join(d.categories)) for i, d in enumerate(papers)],
    )
    build = time.perf_counter() - started
    expressions = [e for q in sample if (e := fts(q.root)) is not None]
    started, matches = time.perf_counter(), 0
    for expression in expressions:
        matches += len(connection.execute("SELECT rowid FROM p WHERE p MATCH ?", (expression,)).fetchall())
    querying = (time.perf_counter() - started) * scale * len(sample) / max(1, len(expressions))
    return {"index_build_s": round(build, 3), "queries_scaled_s": round(querying, 2),
            "total_scaled_s": round(build + querying, 2), "untranslatable": len(sample) - len(expressions)}


def baselines(size: int, seed: int, sample_size: int, runs: int) -> dict[str, Any]:
    papers, texts, _owners, _labels = workload(size, seed)
    limits = QueryLimits()
    compile_time, matcher = _timed(lambda: Matcher({i + 1: parse_query(t, limits) for i, t in enumerate(texts)}), 1)
    parsed = {sid: q for sid, (_root, q) in matcher.queries.items()}
    # analysed as the cycle keeps them: per paper, tokens, stems and stem pairs, once (not timed here)
    docs = [prepare_for_matching(analyze_doc(p)) for p in papers]
    match_time, _pairs = _timed(lambda: matcher.match_pairs(docs), runs)
    sample = [parsed[sid] for sid in range(1, sample_size + 1)]
    scale = size / sample_size

    def one_by_one(explain: bool) -> list[tuple[int, int]]:
        out = []
        for k, query in enumerate(sample):
            for i, doc in enumerate(docs):
                if explain:
                    hit = match_query(query, doc) is not None
                else:
                    hit = evaluate(query.root, lambda atom, name, d=doc: atom_present(atom, d, name))
                if hit:
                    out.append((k + 1, i))
        return out

    explained_time, explained = _timed(lambda: one_by_one(True), 1)
    plain_time, _plain = _timed(lambda: one_by_one(False), 1)
    sids, indexes = Matcher({k + 1: q for k, q in enumerate(sample)}).match_pairs(docs)
    return {
        "size": size,
        "compiled": {"parse_and_compile_s": compile_time["min"], "pure_match_s": match_time},
        "one_by_one_with_explanations_scaled_s": round(explained_time["min"] * scale, 1),
        "one_by_one_without_explanations_scaled_s": round(plain_time["min"] * scale, 1),
        "one_by_one_sample": sample_size,
        "oracle_identical_on_sample": explained == list(zip(sids.tolist(), indexes.tolist(), strict=True)),
        "fts5": _fts5(papers, sample, scale),
        "perq": _perq(parsed, docs, runs),
    }
