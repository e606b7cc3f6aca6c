"""Benchmark: does learning from 👍/👎 put a reader's real interest first?

Run: `python -m bench.feedback` (options: --runs 3 --seed 1). Prints ONE JSON line: the evaluation on
real arXiv listings (bench.feedback_listings: readers whose interest no query word says, three weeks
of votes, ten days scored; paperbell's learned order against a reader's own TF-IDF + linear SVM, the
order without votes and the ideal order), three runs (vote draws), min and median.

`python -m bench.feedback --seed-corpus` (options: --trials 5 --runs 3 --seed 1 --representation
tfidf|wordllama) runs the smaller evaluation on the seed corpus, described below.
Each simulated reader subscribes to a broad query (`llm OR "language model"`, `llm`) but likes only a
narrower hidden interest (`reasoning`, `"sparse autoencoder"`, ...); both are evaluated with the real
query matcher (digest.query), so the candidates are exactly what the reader's digest would hold.
After k = 5, 10, 20 votes the unvoted candidates are ranked three ways: learned (digest.feedback),
today's ranking (digest.core.ranking), random; precision@10 and nDCG@10 are averaged over readers and
trials. Votes are drawn two ways: `uniform` (any candidate equally likely) and `eager` (a reader is
5x as likely to vote on a paper they like: people 👍 what catches their eye). `rerank_ms` is the whole
re-rank a digest waits for, as it runs now: IDF over the candidates' term counts stored at ingest
(digest.feedback.term_counts, through the storage encoding), train, score, order; and, in the same
run, `rerank_from_texts_ms`: the baseline that analyses the texts again for every ranking.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ comes first on sys.path and bench/email.py would shadow the stdlib `email`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from digest.core.ranking import RankInput, rank_items  # noqa: E402
from digest.feedback import Candidate, PaperText, rerank, train  # noqa: E402
from digest.feedback.embedding import KINDS, represent_as  # noqa: E402
from digest.feedback.term_counts import counts_matrix, decode, encode, stack, tfidf_from_counts  # noqa: E402
from digest.query import PaperDoc, analyze_doc, match_query, parse_query  # noqa: E402

BROAD = 'llm OR "language model"'
READERS = [
    (BROAD, "reasoning"),
    (BROAD, '"sparse autoencoder"'),
    (BROAD, "hallucination"),
    (BROAD, "tokenizer OR tokenization"),
    (BROAD, "multimodal OR vision OR image"),
    (BROAD, "retrieval"),
    (BROAD, "safety OR alignment"),
    (BROAD, "quantization OR distillation"),
    (BROAD, "speech"),
    (BROAD, '"in-context"'),
    ("llm", "reasoning"),
    ("llm", "code"),
]
KS = (5, 10, 20)
AT = 10
EAGER = 5.0


def corpus_path() -> Path:
    shared = ROOT.parent / "shared" / "corpus" / "seed_papers.jsonl"
    return shared if shared.exists() else ROOT / "digest" / "data" / "seed_papers.jsonl"


def load() -> list[dict[str, Any]]:
    with corpus_path().open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _date(record: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(record["date"])).replace(tzinfo=UTC)
    except (KeyError, ValueError):
        return None


def today_order(records: list[dict[str, Any]], broad: str) -> list[Candidate]:
    """The broad query's matches in today's digest order (digest.core.ranking on the matcher's explanation)."""
    query = parse_query(broad)
    dates = [d for d in (_date(r) for r in records) if d]
    now = max(dates) if dates else datetime.now(UTC)
    inputs = []
    for paper_id, record in enumerate(records):
        found = match_query(query, analyze_doc(PaperDoc(id=str(paper_id), title=record["title"],
                                                        abstract=record["abstract"])))
        if found is None:
            continue
        candidate = Candidate(paper_id, found.title_hits, found.abstract_hits, len(found.clauses))
        inputs.append(RankInput(key=paper_id, title_hits=found.title_hits, abstract_hits=found.abstract_hits,
                                distinct_clauses=len(found.clauses), published=_date(record),
                                upvotes=record.get("upvotes"), item=candidate))
    return [entry.item for entry in rank_items(inputs, now) if entry.item is not None]


def liked_set(records: list[dict[str, Any]], hidden: str) -> set[int]:
    query = parse_query(hidden)
    return {i for i, r in enumerate(records)
            if match_query(query, PaperDoc(id=str(i), title=r["title"], abstract=r["abstract"])) is not None}


def precision_ndcg(order: list[int], relevant: set[int]) -> tuple[float, float]:
    top = order[:AT]
    gains = [1.0 if p in relevant else 0.0 for p in top]
    dcg = sum(g / math.log2(n + 2) for n, g in enumerate(gains))
    ideal = sum(1.0 / math.log2(n + 2) for n in range(min(AT, len(relevant))))
    return sum(gains) / AT, (dcg / ideal if ideal else 0.0)


def draw_votes(candidates: list[int], relevant: set[int], k: int, bias: float, rng: random.Random) -> dict[int, int]:
    pool = list(candidates)
    votes: dict[int, int] = {}
    while len(votes) < k and pool:
        weights = [bias if p in relevant else 1.0 for p in pool]
        chosen = rng.choices(pool, weights)[0]
        pool.remove(chosen)
        votes[chosen] = 1 if chosen in relevant else -1
    return votes


def evaluate(
    records: list[dict[str, Any]], texts: list[PaperText], trials: int, seed: int, kind: str
) -> dict[str, Any]:
    table: dict[str, dict[str, list[float]]] = {}
    timings: list[float] = []
    baseline: list[float] = []  # the same re-rank, vectors rebuilt from the texts (before per-paper terms were stored)
    stored = stored_counts(texts) if kind == "tfidf" else None  # computed once, as ingestion does
    for reader, (broad, hidden) in enumerate(READERS):
        ranked = today_order(records, broad)
        ids = [c.paper_id for c in ranked]
        relevant = liked_set(records, hidden) & set(ids)
        for mode, bias in (("uniform", 1.0), ("eager", EAGER)):
            for k in KS:
                for trial in range(trials):
                    rng = random.Random(f"{seed}-{reader}-{mode}-{k}-{trial}")
                    votes = draw_votes(ids, relevant, k, bias, rng)
                    rest = [c for c in ranked if c.paper_id not in votes]
                    started = time.perf_counter()
                    train(represent_as(kind, [texts[p] for p in ids]), votes, context=ids)
                    rerank(rest, None)
                    baseline.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    reps = (tfidf_from_counts(ids, stack([stored[p] for p in ids])) if stored is not None
                            else represent_as(kind, [texts[p] for p in ids]))
                    learned = rerank(rest, train(reps, votes, context=ids)).order
                    timings.append((time.perf_counter() - started) * 1000)
                    today = [c.paper_id for c in rest]
                    shuffled = today[:]
                    rng.shuffle(shuffled)
                    for name, order in (("learned", learned), ("today", today), ("random", shuffled)):
                        p, n = precision_ndcg(order, relevant)
                        cell = table.setdefault(f"{mode}_k{k}_{name}", {"p": [], "n": []})
                        cell["p"].append(p)
                        cell["n"].append(n)
    summary = {key: {"p@10": round(statistics.fmean(v["p"]), 3), "ndcg@10": round(statistics.fmean(v["n"]), 3)}
               for key, v in table.items()}
    return {"table": summary, "timings": timings, "baseline": baseline}


def stored_counts(texts: list[PaperText]) -> dict[int, Any]:
    """Every paper's term counts through the storage encoding (what `paper_terms` holds)."""
    matrix = counts_matrix(texts)
    return {paper.paper_id: decode(encode(matrix[row])) for row, paper in enumerate(texts)}


def example(records: list[dict[str, Any]], texts: list[PaperText], kind: str) -> dict[str, Any]:
    """One reader's digest order before and after 10 votes (uniformly drawn), for the README/report."""
    broad, hidden = BROAD, '"sparse autoencoder"'
    ranked = today_order(records, broad)
    ids = [c.paper_id for c in ranked]
    relevant = liked_set(records, hidden) & set(ids)
    votes = draw_votes(ids, relevant, 10, 1.0, random.Random("example-3"))
    rest = [c for c in ranked if c.paper_id not in votes]
    learned = rerank(rest, train(represent_as(kind, [texts[p] for p in ids]), votes, context=ids))

    def show(paper: int) -> str:
        return f"{'*' if paper in relevant else ' '} {records[paper]['title'][:80]}"

    return {
        "reader": {"query": broad, "likes": hidden, "up": sum(v > 0 for v in votes.values()),
                   "down": sum(v < 0 for v in votes.values())},
        "before": [show(c.paper_id) for c in rest[:10]],
        "after": [f"{show(p)} [{'; '.join(learned.reasons[p])}]" for p in learned.order[:10]],
        "top_picks": [records[p]["title"][:80] for p in learned.top_picks],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--representation", choices=KINDS, default="tfidf")
    parser.add_argument("--example", action="store_true", help="print one reader's order before/after 10 votes")
    parser.add_argument("--seed-corpus", action="store_true", help="the seed-corpus evaluation instead of listings")
    parser.add_argument("--ablation", action="store_true",
                        help="listings: also the learner with words only and with each metadata block alone "
                             "(and with --representation wordllama: WordLlama vectors for the words)")
    args = parser.parse_args()
    if not args.seed_corpus and not args.example:
        from bench.feedback_rankers import ABLATIONS
        from bench.feedback_report import main as listings

        extra = (*ABLATIONS, *(["wordllama"] if args.representation == "wordllama" else [])) if args.ablation else ()
        listings(runs=args.runs, seed=args.seed, ablation=extra)
        return
    records = load()
    texts = [PaperText(i, r["title"], r["abstract"]) for i, r in enumerate(records)]
    if args.example:
        print(json.dumps(example(records, texts, args.representation), ensure_ascii=False))
        return
    runs = [evaluate(records, texts, args.trials, args.seed, args.representation) for _ in range(args.runs)]
    table = runs[0]["table"]  # identical in every run (seeded); runs differ only in timing
    p50s = [statistics.median(r["timings"]) for r in runs]
    b50s = [statistics.median(r["baseline"]) for r in runs]
    p90s = [statistics.quantiles(r["timings"], n=10)[-1] for r in runs]
    k10 = table["uniform_k10_learned"]["p@10"], table["uniform_k10_today"]["p@10"]
    print(json.dumps({
        "bench": "feedback", "representation": args.representation, "readers": len(READERS),
        "trials": args.trials, "papers": len(records),
        "candidates_per_reader": "matches of the broad query (real matcher)",
        "table": table,
        "p10_k10_uniform_learned_over_today": round(k10[0] / k10[1], 2) if k10[1] else None,
        "rerank_ms": {"per_rerank_p50": {"min": round(min(p50s), 1), "median": round(statistics.median(p50s), 1)},
                      "per_rerank_p90": {"min": round(min(p90s), 1), "median": round(statistics.median(p90s), 1)},
                      "reranks_per_run": len(runs[0]["timings"]), "runs": args.runs},
        "rerank_from_texts_ms": {"per_rerank_p50": {"min": round(min(b50s), 1),
                                                    "median": round(statistics.median(b50s), 1)}},
    }))


if __name__ == "__main__":
    main()
