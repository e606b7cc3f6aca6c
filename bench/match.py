"""Benchmark: N subscriptions × 2,000 papers with the compiled matcher, the one-by-one evaluator and FTS5.

Run: `.venv/bin/python bench/match.py` (options: --sizes 100000,1000000 --papers 2000 --oracle-sample 500
--fts-sample 2000 --seed 1). Prints ONE JSON line. Subscriptions are generated from the seed corpus's own
vocabulary (single terms, phrases, AND/OR/NOT, fields, categories, wildcards); papers are the corpus
repeated with perturbation. The one-by-one evaluator and FTS5 run a sample of the subscriptions and are
scaled to the full count; the compiled matcher's matches are checked identical to the evaluator's on it.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import random
import re
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest.query import PaperDoc, Query, QueryError, QueryLimits, analyze_doc, compile_matcher, parse_query  # noqa: E402
from digest.query import analysis as query_analysis  # noqa: E402
from digest.query.analysis import query_tokens  # noqa: E402
from digest.query.ast import And, Category, Node, Not, Or, Phrase, Prefix, Term  # noqa: E402
from digest.query.oracle import match_query  # noqa: E402

CATEGORIES = ["cs.LG", "cs.CL", "cs.AI", "cs.CV", "stat.ML", "cs.RO", "eess.AS", "q-bio.NC", "math.OC",
              "physics.bio-ph"]
STOP = set(re.findall(r"\w+", """the and for with that this from are was were our their which these using based have
has been into can not also more than both such while when where show shows propose proposed paper approach method
methods results however through between over other each they its"""))
WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{2,}")


def corpus_path() -> Path:
    shared = ROOT.parent / "shared" / "corpus" / "seed_papers.jsonl"
    return shared if shared.exists() else ROOT / "digest" / "data" / "seed_papers.jsonl"


def make_papers(records: list[dict[str, Any]], count: int, rng: random.Random) -> list[PaperDoc]:
    """The corpus repeated: later copies get shuffled sentences, dropped words, other categories/authors."""
    papers = []
    for i in range(count):
        record = records[i % len(records)]
        title, abstract = record["title"], record["abstract"]
        if i >= len(records):
            sentences = abstract.split(". ")
            rng.shuffle(sentences)
            words = ". ".join(sentences).split(" ")
            abstract = " ".join(w for w in words if rng.random() > 0.1)
            title = " ".join(w for w in title.split(" ") if rng.random() > 0.15) or title
        authors = [f"{rng.choice('ABCDEFGH')}. Author{rng.randrange(500)}" for _ in range(rng.randrange(1, 6))]
        categories = rng.sample(CATEGORIES, rng.randrange(1, 3))
        papers.append(PaperDoc(f"bench.{i:05d}", title, abstract, authors, categories))
    return papers


def vocabulary(records: list[dict[str, Any]]) -> tuple[list[str], list[str], list[str]]:
    """Specific words (stem in 1..4 of the corpus's papers), two-word phrases seen 2..4 times and
    7-letter prefixes found in 2..6 papers: alert queries name a topic, so each matches well under
    1% of a day's papers, like real subscriptions."""
    stem_df: Counter[str] = Counter()
    prefix_df: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    surface: set[str] = set()
    for record in records:
        doc = analyze_doc(PaperDoc(None, record["title"], record["abstract"]))
        stems = set(doc.fields["title"].stems) | set(doc.fields["abstract"].stems)
        raws = set(doc.fields["title"].raw) | set(doc.fields["abstract"].raw)
        stem_df.update(stems)
        prefix_df.update({raw[:7] for raw in raws if len(raw) >= 9 and raw.isalpha()})
        words = [w.lower().strip("-") for w in WORD.findall(record["title"] + " " + record["abstract"])]
        surface.update(words)
        bigrams.update({f"{a} {b}" for a, b in itertools.pairwise(words) if a not in STOP and b not in STOP})
    terms = sorted(
        w
        for w in surface
        if len(w) >= 5 and w.isalpha() and w not in STOP and 1 <= stem_df[query_analysis.stem(w)] <= 4
    )
    phrases = sorted(p for p, c in bigrams.items() if 2 <= c <= 4)
    prefixes = sorted(p for p, c in prefix_df.items() if 2 <= c <= 6)
    return terms, phrases, prefixes


def make_queries(
    count: int, terms: list[str], phrases: list[str], prefixes: list[str], rng: random.Random
) -> list[str]:
    def term() -> str:
        return rng.choice(terms)

    def clause() -> str:
        return f'"{rng.choice(phrases)}"' if rng.random() < 0.35 else term()

    out = []
    for _ in range(count):
        r = rng.random()
        if r < 0.35:
            q = term()
        elif r < 0.55:
            q = f'"{rng.choice(phrases)}"'
        elif r < 0.70:
            q = f"{clause()} {clause()}"
        elif r < 0.80:
            q = " OR ".join(clause() for _ in range(rng.randrange(2, 4)))
        elif r < 0.87:
            q = f"{clause()} -{term()}"
        elif r < 0.92:
            q = f"{rng.choice(['ti:', 'abs:'])}{clause()}"
        elif r < 0.95:
            q = f"cat:{rng.choice(CATEGORIES).split('.')[0]}.* {clause()}"
        elif r < 0.98:
            q = f"{rng.choice(prefixes)}*"
        else:
            q = f"({clause()} OR {clause()}) NOT {term()}"
        out.append(q)
    return out


def fts(node: Node) -> str | None:
    """The FTS5 MATCH expression of a query tree (None when FTS5 has no equivalent, e.g. OR with NOT)."""
    columns = {"title": "title", "abstract": "abstract", "authors": "authors"}
    if isinstance(node, (Term, Phrase, Prefix)):
        cols = "{" + " ".join(columns[f] for f in node.fields) + "}"
        if isinstance(node, Prefix):
            return f'{cols} : "{node.prefix}" *'
        text = node.word if isinstance(node, Term) else node.text
        return f'{cols} : "{" ".join(query_tokens(text))}"'
    if isinstance(node, Category):
        return f'categories : "{" ".join(query_tokens(node.value))}"'
    if isinstance(node, Or):
        parts = [fts(c) for c in node.children]
        return None if None in parts else "(" + " OR ".join(p for p in parts if p) + ")"
    if isinstance(node, And):
        positive = [fts(c) for c in node.children if not isinstance(c, Not)]
        negative = [fts(c.child) for c in node.children if isinstance(c, Not)]
        if not positive or None in positive or None in negative:
            return None
        return "(" + " AND ".join(p for p in positive if p) + "".join(f" NOT {n}" for n in negative) + ")"
    return None


def bench_fts(papers: list[PaperDoc], parsed: list[Query], sample: int, total: int) -> dict[str, Any]:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE p USING fts5(title, abstract, authors, categories, tokenize='porter')")
    connection.executemany(
        "INSERT INTO p (rowid, title, abstract, authors, categories) VALUES (?, ?, ?, ?, ?)",
        [(i, d.title, d.abstract, "; ".join(d.authors), " ".join(d.categories)) for i, d in enumerate(papers)],
    )
    expressions = [e for q in parsed[:sample] if (e := fts(q.root)) is not None]
    matches = 0
    started, cpu = time.perf_counter(), time.process_time()
    for expression in expressions:
        matches += len(connection.execute("SELECT rowid FROM p WHERE p MATCH ?", (expression,)).fetchall())
    elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - cpu
    scale = total / max(len(expressions), 1)
    return {"sample": len(expressions), "untranslatable": min(sample, len(parsed)) - len(expressions),
            "sample_seconds": round(elapsed, 3), "seconds_scaled": round(elapsed * scale, 2),
            "cpu_seconds_scaled": round(elapsed_cpu * scale, 2),
            "matches_scaled": round(matches * scale)}


def run(size: int, papers: list[PaperDoc], texts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    limits = QueryLimits(max_length=500, max_clauses=32)
    started = time.perf_counter()
    parsed: list[Query] = []
    for text in texts[:size]:
        try:
            parsed.append(parse_query(text, limits))
        except QueryError:
            continue
    parse_s = time.perf_counter() - started
    subscriptions = dict(enumerate(parsed))
    started = time.perf_counter()
    matcher = compile_matcher(subscriptions)
    compile_s = time.perf_counter() - started

    query_analysis.stem_cache.clear()  # the paper analysis (and stemming) counts in the match time
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    matches = matcher.match(papers)
    match_s, match_cpu = time.perf_counter() - started, time.process_time() - cpu
    # Explanations are built lazily, on access. The first one on a paper also builds that paper's
    # occurrence maps (once per batch): time those on every paper, the rest on a sample, and scale.
    seen: set[int] = set()
    firsts = [m for m in matches if m.doc_index not in seen and not seen.add(m.doc_index)]  # type: ignore[func-returns-value]
    started = time.perf_counter()
    for m in firsts:
        m.explanation  # noqa: B018 - materialise the explanation
    explain_setup_s = time.perf_counter() - started
    first_keys = {(m.subscription_id, m.doc_index) for m in firsts}
    step = max(1, len(matches) // args.explain_sample)
    rest = [m for m in matches[::step] if (m.subscription_id, m.doc_index) not in first_keys]
    started = time.perf_counter()
    for m in rest:
        m.explanation  # noqa: B018
    per_match = (time.perf_counter() - started) / max(len(rest), 1)
    explain_s = explain_setup_s + per_match * (len(matches) - len(firsts))

    # one by one (papers analysed once, as the evaluator allows), on a sample, then scaled
    sample = list(subscriptions.items())[: args.oracle_sample]
    docs = [analyze_doc(p) for p in papers]
    started, cpu = time.perf_counter(), time.process_time()
    expected = [(sid, i, e) for sid, q in sample for i, d in enumerate(docs) if (e := match_query(q, d)) is not None]
    oracle_s, oracle_cpu = time.perf_counter() - started, time.process_time() - cpu
    sample_ids = {sid for sid, _ in sample}
    got = [(m.subscription_id, m.doc_index, m.explanation) for m in matches if m.subscription_id in sample_ids]
    scale = len(subscriptions) / max(len(sample), 1)
    result: dict[str, Any] = {
        "subscriptions": len(subscriptions),
        "distinct_clauses": len(matcher.atoms),
        "parse_seconds": round(parse_s, 3),
        "compile_seconds": round(compile_s, 3),
        "match_seconds": round(match_s, 3),
        "match_cpu_seconds": round(match_cpu, 3),
        "matches": len(matches),
        "explain_all_seconds_scaled": round(explain_s, 3),
        "explain_microseconds_per_match": round(per_match * 1e6, 1),
        "one_by_one": {
            "sample": len(sample),
            "sample_seconds": round(oracle_s, 3),
            "seconds_scaled": round(oracle_s * scale, 1),
            "cpu_seconds_scaled": round(oracle_cpu * scale, 1),
            "matches_scaled": round(len(expected) * scale),
        },
        "identical_on_sample": got == expected,
        "speedup_vs_one_by_one": round(oracle_s * scale / match_s, 1),
        "speedup_vs_one_by_one_cpu": round(oracle_cpu * scale / match_cpu, 1),
        "speedup_vs_one_by_one_incl_explanations": round(oracle_s * scale / (match_s + explain_s), 1),
    }
    if args.fts_sample:
        result["fts5"] = bench_fts(papers, parsed, args.fts_sample, len(subscriptions))
        result["speedup_vs_fts5"] = round(result["fts5"]["seconds_scaled"] / match_s, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--oracle-sample", type=int, default=500)
    parser.add_argument("--fts-sample", type=int, default=2000)
    parser.add_argument("--explain-sample", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with corpus_path().open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    papers = make_papers(records, args.papers, rng)
    terms, phrases, prefixes = vocabulary(records)
    sizes = [int(s) for s in args.sizes.split(",")]
    texts = make_queries(max(sizes), terms, phrases, prefixes, rng)
    runs = [run(size, papers, texts, args) for size in sizes]
    print(json.dumps({"benchmark": "match", "papers": len(papers), "python": sys.version.split()[0],
                      "load_average_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
                      "command": " ".join(["python", *sys.argv]), "runs": runs}))


if __name__ == "__main__":
    main()
