"""Runs the listings evaluation (bench.feedback_listings) three times and prints ONE JSON line.

Each run draws the readers' votes anew (seed, seed + 1, ...); per k and order the line gives P@10 and
nDCG@10 as the min and median over runs, the learned order's ratios to the SVM and to no votes, how
many readers the learned order beat no votes for, P@10 per interest kind at k = 20, and the median
re-rank time of one day's digest (whole re-rank: stored counts → IDF → train → score → order).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.feedback_listings import (
    KS,
    LISTINGS,
    SUBSCRIPTIONS,
    TEST_DAYS,
    TRAIN_DAYS,
    analysed,
    digests,
    evaluate,
    load,
    readers,
)
from bench.feedback_rankers import rankers

ORDERS = ("learned", "svm", "today", "ideal")


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3)}


def summarise(runs: list[dict[str, Any]], ablations: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for k in KS:
        row: dict[str, Any] = {}
        for name in [*ORDERS, *ablations]:
            source = ablations.get(name, runs)
            key = f"k{k}_{'learned' if name in ablations else name}"
            row[name] = {metric: _spread([r["table"][key][metric] for r in source]) for metric in ("p@10", "ndcg@10")}
        p = {name: statistics.median(r["table"][f"k{k}_{name}"]["p@10"] for r in runs) for name in ORDERS}
        row["learned_over_svm"] = round(p["learned"] / p["svm"], 2) if p["svm"] else None
        row["learned_over_today"] = round(p["learned"] / p["today"], 2) if p["today"] else None
        row["readers_learned_beats_today"] = [r["wins"].get(k, 0) for r in runs]
        row["readers_without_a_like"] = [r["readers_without_a_like"][k] for r in runs]
        table[f"k{k}"] = row
    kinds = sorted({key.rsplit("_", 1)[1] for key in runs[0]["kinds"]})
    per_kind = {kind: {name: round(statistics.median(r["kinds"].get(f"k20_{name}_{kind}", 0.0) for r in runs), 3)
                       for name in ORDERS} for kind in kinds}
    return {"table": table, "p10_at_k20_by_interest": per_kind}


def main(runs: int = 3, seed: int = 1, ablation: Sequence[str] = ()) -> None:
    if not (LISTINGS / "papers.jsonl").exists():
        print(f"no listings at {LISTINGS} (../shared beside the repository); "
              "use --seed-corpus for the seed-corpus evaluation", file=sys.stderr)
        raise SystemExit(2)
    started = time.perf_counter()
    data = load()
    docs = analysed(data)
    subs = {sub: digests(data, sub, docs) for sub in SUBSCRIPTIONS}
    cast = readers(data, subs)
    orders = rankers(data, subs, ("learned", "svm"))
    results, wall, cpu = [], [], []
    for run in range(runs):
        spent: list[tuple[float, float]] = []
        results.append(evaluate(data, subs, cast, orders, seed + run, spent))
        wall.append(statistics.median(t[0] for t in spent))
        cpu.append(statistics.median(t[1] for t in spent))
    variants = rankers(data, subs, ablation)
    ablations = {name: [evaluate(data, subs, cast, {"learned": ranker}, seed + run) for run in range(runs)]
                 for name, ranker in variants.items()}
    embedding = {"wordllama_embed_ms_per_paper": round(variants["wordllama"].embed_ms_per_paper, 2)
                 } if "wordllama" in variants else {}
    day_sizes = [len(d.by_day.get(day, [])) for d in subs.values() for day in data.days[TRAIN_DAYS:]]
    print(json.dumps({
        "bench": "feedback", "corpus": "arxiv_2026 listings", "papers": len(data.records),
        "train_days": TRAIN_DAYS, "test_days": TEST_DAYS, "subscriptions": list(subs),
        "readers": len(cast), "reader_kinds": dict(sorted({r.kind: sum(x.kind == r.kind for x in cast)
                                                          for r in cast}.items())),
        "digest_size": {"median": statistics.median(day_sizes), "max": max(day_sizes)},
        "runs": runs, **summarise(results, ablations),
        # one day's digest re-ranked (stored counts → IDF → metadata → train → score → order): wall-clock
        # time, and the process's CPU time, which other work on a shared machine does not inflate
        "rerank_ms_median": _spread(wall), "rerank_cpu_ms_median": _spread(cpu),
        **embedding, "seconds": round(time.perf_counter() - started, 1),
    }, ensure_ascii=False))
