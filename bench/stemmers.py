"""Compare word-key approaches on the labelled ML queries (tests/digest/query/labelled_queries.json).

Run: `PYTHONPATH=. python bench/stemmers.py` — one JSON line per approach: mean/min precision and
recall over the queries, micro-averaged P/R, how many queries reach P and R >= 0.95, and the time
to match all queries on the seed corpus. `--found` instead prints one JSON line per query with the
papers found by the analyser of whatever `digest` PYTHONPATH points at (for before/after tables:
`PYTHONPATH=/path/to/old/tree python bench/stemmers.py --found`).

Only the key function changes between approaches (the parser, compounds and Unicode folding stay);
the approaches plug into the shared stem cache, which this script swaps (it is a benchmark, not the
application). Snowball instances are per thread: PyStemmer objects must not be shared.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from digest.query import PaperDoc, QueryError, compile_matcher, parse_query

LABELLED = Path(__file__).resolve().parents[1] / "tests" / "digest" / "query" / "labelled_queries.json"
CORPUS = Path(__file__).resolve().parents[1] / "digest" / "data" / "seed_papers.jsonl"
_local = threading.local()
# the words Snowball over-stems in the labelled set, kept whole (approach "snowball+protected")
PROTECTED = {"transformer", "experience", "agentic", "embedding", "reasoning", "attention", "hallucination"}


def _snowball(token: str) -> str:
    stemmer = getattr(_local, "snowball", None)
    if stemmer is None:
        import snowballstemmer

        stemmer = _local.snowball = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(token))


def _snowball_protected(token: str) -> str:
    from digest.query.stemming import singular

    single = singular(token)  # acronym plurals ("llms") and plurals of protected words
    if single in PROTECTED or not any(c in "aeiouy" for c in single):
        return single
    return _snowball(token)


def _simplemma(token: str) -> str:
    import simplemma

    return str(simplemma.lemmatize(token, lang="en"))


def approaches() -> dict[str, Callable[[str], str]]:
    from digest.query.stemming import inflect  # imported here: --found also runs on older trees

    return {
        "snowball": _snowball,
        "snowball+protected": _snowball_protected,
        "simplemma": _simplemma,
        "inflectional (chosen)": inflect,
    }


def found_by_query(entries: list[dict[str, object]], docs: list[PaperDoc]) -> list[set[int] | None]:
    queries = {}
    for number, entry in enumerate(entries):
        try:
            queries[number] = parse_query(str(entry["query"]))
        except QueryError:
            continue  # refused by this version: reported as None
    hits: dict[int, set[int]] = {number: set() for number in queries}
    for match in compile_matcher(queries).match(docs):
        hits[match.subscription_id].add(match.doc_index)
    return [hits.get(number) for number in range(len(entries))]


def scores(entries: list[dict[str, object]], found: list[set[int] | None]) -> dict[str, object]:
    precisions, recalls, good, tp_all, found_all, truth_all = [], [], 0, 0, 0, 0
    for entry, hits in zip(entries, found, strict=True):
        truth, hits = set(entry["papers"]), hits or set()  # type: ignore[call-overload]
        tp = len(truth & hits)
        p, r = (tp / len(hits) if hits else 1.0), (tp / len(truth) if truth else 1.0)
        precisions.append(p)
        recalls.append(r)
        good += p >= 0.95 and r >= 0.95
        tp_all, found_all, truth_all = tp_all + tp, found_all + len(hits), truth_all + len(truth)
    return {
        "mean_p": round(sum(precisions) / len(precisions), 3),
        "mean_r": round(sum(recalls) / len(recalls), 3),
        "min_p": round(min(precisions), 3),
        "min_r": round(min(recalls), 3),
        "micro_p": round(tp_all / found_all, 3),
        "micro_r": round(tp_all / truth_all, 3),
        "queries_ok": f"{good}/{len(entries)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--found", action="store_true", help="papers found per query by this tree's analyser")
    args = parser.parse_args()
    entries = json.loads(LABELLED.read_text(encoding="utf-8"))
    records = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = [PaperDoc(None, r["title"], r["abstract"]) for r in records]
    if args.found:
        for entry, hits in zip(entries, found_by_query(entries, docs), strict=True):
            print(json.dumps({"query": entry["query"], "found": None if hits is None else sorted(hits)}))
        return
    from digest.query import analysis, stemming

    chosen = approaches()
    try:
        for name, key in chosen.items():
            stemming.inflect = key  # type: ignore[assignment]  # the cache computes misses with it
            analysis.stem_cache.clear()
            started = time.perf_counter()
            found = found_by_query(entries, docs)
            elapsed = time.perf_counter() - started
            print(json.dumps({"approach": name, **scores(entries, found), "match_s": round(elapsed, 3)}))
    finally:
        stemming.inflect = chosen["inflectional (chosen)"]  # type: ignore[assignment]
        analysis.stem_cache.clear()


if __name__ == "__main__":
    sys.exit(main())
