"""Compare word-key approaches on the labelled ML queries (tests/digest/query/labelled_queries.json).

Run: `PYTHONPATH=. python bench/stemmers.py` — one JSON line per approach: mean/min precision and
recall over the queries (each on its corpus: the seed papers or the arXiv 2026 sample), micro-averaged
P/R, how many queries reach P and R >= 0.95, the time to match them all, and the same per class
(acronym, name, -ing noun, derivation…). Two approaches join a derivation family on top of the
chosen stemmer (-ation/-ate: "hallucination" = "hallucinated"; -ency/-ent: "efficiency" =
"efficient"), to decide each family by its numbers. `--classes` prints only the per-class scores
of the analyser of whatever `digest` PYTHONPATH points at, unchanged (for before/after tables:
`PYTHONPATH=/path/to/old/tree python bench/stemmers.py --classes`); `--found` the papers it finds
per query.

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
CORPORA = {
    "seed": Path(__file__).resolve().parents[1] / "digest" / "data" / "seed_papers.jsonl",
    "arxiv_2026": LABELLED.with_name("arxiv_2026_sample.jsonl"),
}
MARKS = ("^", "@")  # acronym and name keys: not words, left alone by every approach
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


def _join_ation(key: str) -> str:
    """-ation/-ization meets -ate(d)/-ize(d): "hallucination" = "hallucinated", "optimization" = "optimized"."""
    if key.endswith("ization"):
        return key[:-5]
    return key[:-3] if key.endswith("ation") else key


def _join_ency(key: str) -> str:
    """-ency meets -ent: "efficiency" (key "efficienci") = "efficient", "latency" = "latent"."""
    return key[:-2] + "t" if key.endswith("enci") else key


def approaches() -> dict[str, Callable[[str], str]]:
    from digest.query.stemming import inflect  # imported here: --found also runs on older trees

    return {
        "snowball": _snowball,
        "snowball+protected": _snowball_protected,
        "simplemma": _simplemma,
        "inflectional (chosen)": inflect,
        "inflectional, -ation/-ate joined": lambda token: _join_ation(inflect(token)),
        "inflectional, -ency/-ent joined": lambda token: _join_ency(inflect(token)),
    }


def _words_only(key: Callable[[str], str]) -> Callable[[str], str]:
    return lambda token: token if token.startswith(MARKS) else key(token)


def load_docs() -> dict[str, list[PaperDoc]]:
    docs = {}
    for name, path in CORPORA.items():
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        docs[name] = [PaperDoc(None, r["title"], r["abstract"], r.get("authors") or ()) for r in records]
    return docs


def found_by_query(entries: list[dict[str, object]], docs: dict[str, list[PaperDoc]]) -> list[set[int] | None]:
    hits: dict[int, set[int]] = {}
    for corpus, papers in docs.items():
        queries = {}
        for number, entry in enumerate(entries):
            if entry.get("corpus", "seed") != corpus:
                continue
            try:
                queries[number] = parse_query(str(entry["query"]))
            except QueryError:
                continue  # refused by this version: reported as None
        hits.update({number: set() for number in queries})
        for match in compile_matcher(queries).match(papers):
            hits[match.subscription_id].add(match.doc_index)
    return [hits.get(number) for number in range(len(entries))]


def by_class(entries: list[dict[str, object]], found: list[set[int] | None]) -> dict[str, dict[str, object]]:
    classes: dict[str, list[int]] = {}
    for number, entry in enumerate(entries):
        classes.setdefault(str(entry.get("class", "seed")), []).append(number)
    return {
        name: scores([entries[n] for n in numbers], [found[n] for n in numbers]) for name, numbers in classes.items()
    }


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
    parser.add_argument("--classes", action="store_true", help="scores per class of this tree's analyser")
    args = parser.parse_args()
    all_entries = json.loads(LABELLED.read_text(encoding="utf-8"))
    docs = load_docs()
    if args.found or args.classes:
        found_all = found_by_query(all_entries, docs)
        for entry, hits in zip(all_entries, found_all, strict=True):
            if args.found:
                print(json.dumps({"query": entry["query"], "found": None if hits is None else sorted(hits)}))
        if args.classes:
            for name, result in by_class(all_entries, found_all).items():
                print(json.dumps({"class": name, **result}))
        return
    from digest.query import analysis, stemming

    # the overall figures are over the queries held to 0.95; the reader's-intent ones count per class
    held = [not entry.get("measure_only") for entry in all_entries]
    entries = [entry for entry, keep in zip(all_entries, held, strict=True) if keep]
    chosen = approaches()
    try:
        for name, key in chosen.items():
            stemming.inflect = _words_only(key)  # type: ignore[assignment]  # the cache computes misses with it
            analysis.stem_cache.clear()
            started = time.perf_counter()
            found_all = found_by_query(all_entries, docs)
            elapsed = time.perf_counter() - started
            found = [hits for hits, keep in zip(found_all, held, strict=True) if keep]
            print(json.dumps({"approach": name, **scores(entries, found), "match_s": round(elapsed, 3),
                              "classes": by_class(all_entries, found_all)}))
    finally:
        stemming.inflect = chosen["inflectional (chosen)"]  # type: ignore[assignment]
        analysis.stem_cache.clear()


if __name__ == "__main__":
    sys.exit(main())
