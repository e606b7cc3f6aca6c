"""Benchmark: the whole match cycle, from stored papers to committed ledger rows, with baselines.

Run: `createdb -h 127.0.0.1 -U postgres paperbell_bench`, then `python bench/match_cycle.py --sizes
10000,100000,1000000 --runs 3 --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/paperbell_bench`
(about 20 minutes; --pg-max caps the sizes run on PostgreSQL, --backends picks them). Prints ONE
JSON line.

Per backend and size, a stored database holds N subscriptions (distinct query texts, ~3 per
subscriber) and 2,000 papers; each run is a fresh process that runs `run_match_cycle` thrice: cold
(parse + compile every subscription: the first cycle after a start) and warm (the steady state: the
compiled matcher kept, papers analysed afresh), the ledger emptied and the cursor rewound between,
untimed, and `warm_no_near`: the warm cycle without the narrow queries' near misses (here every query
is narrow, the ledger starting empty: the worst case). Wall, CPU (this process; PostgreSQL's own CPU is
not included), peak RSS of the process, matches recorded (the ledger's compact form,
digest.services.match_sets). What delivery pays later
to turn them into per-paper rows is measured too, after the cycles and the pure match: one
subscriber at a time as its claim does (a sample), then everything left at once. Three runs: min
and median. Baselines, in the same run on the same papers and queries: the pure compiled match
(analysed papers → pairs), the one-by-one evaluator with and without explanations and SQLite FTS5
with its index build counted (on a sample, scaled), and perq (AND-of-OR term queries only) on that
subset, whose matches must equal ours.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# run as a script, bench/ would come first on the path and bench/email.py would shadow the stdlib
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.cycle_workload import CLASSES, build_database, workload  # noqa: E402


def _stats(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3)}


def worker(url: str, size: int, seed: int, phases: list[str]) -> dict[str, Any]:
    """One measured process: a cold cycle, then a warm one (run in a subprocess for its own peak RSS)."""
    import resource

    import numpy as np
    from sqlalchemy import text

    from digest.services import match_cache
    from digest.services.matching import run_match_cycle
    from digest.settings import Settings
    from storage.db import Database

    db = Database(url)
    settings = Settings(_env_file=None, database_url=url, secret_key="b" * 40)  # type: ignore[call-arg]

    def rewind() -> None:
        with db.engine.begin() as connection:
            connection.execute(text("TRUNCATE deliveries" if db.is_postgres else "DELETE FROM deliveries"))
            connection.execute(text("DELETE FROM match_sets"))
            connection.execute(text("DELETE FROM query_health"))
            connection.execute(text("DELETE FROM cursors"))
        with match_cache._analysed_lock:
            match_cache._analysed.clear()

    out: dict[str, Any] = {}
    for phase in phases:
        rewind()
        # "…_no_near": the same cycle without the narrow queries' near misses (digest.services.query_health)
        chosen = settings.model_copy(update={"near_misses": not phase.endswith("_no_near")})
        started, cpu = time.perf_counter(), time.process_time()
        report = run_match_cycle(db, chosen)
        out[phase] = {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu,
                      "rows": report.matches_recorded, "papers": report.papers, "near_miss_rows": near_rows(db),
                      "peak_rss_mb_so_far": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # the pure match on analysed papers (in the state the next cycle would meet), and the distribution
    # of matches per subscription
    cache = match_cache.matcher_cache(url, match_cache.QueryLimits(settings.query_max_length,
                                                                   settings.query_max_clauses))
    papers, _texts, _owners, labels = workload(size, seed)
    started = time.perf_counter()
    docs = [match_cache.prepare_for_matching(match_cache.analyze_doc(p)) for p in papers]  # as the cycle does
    out["analysis_s"] = time.perf_counter() - started
    started = time.perf_counter()
    counts = pure_match(cache.matcher, docs, size)
    out["pure_match_s"] = time.perf_counter() - started
    out["pairs"] = int(counts.sum())
    out["matches_per_subscription"] = {
        "mean": round(float(counts.mean()), 2), "zero_share": round(float((counts == 0).mean()), 3),
        **{f"p{q}": int(np.percentile(counts, q)) for q in (50, 90, 99)}, "max": int(counts.max()),
        "mean_by_class": {c: round(float(counts[[i for i, lab in enumerate(labels) if lab == c]].mean()), 1)
                          for c in CLASSES if c in labels},
    }
    # last: expanding everyone at once is for scale only (no step of the cycle does it), so its
    # minutes of database writes and large allocations do not precede the timed pure match
    out["expansion"] = expansion(db, everything=size <= 100_000)  # 35M rows at 1M: minutes, not measured
    db.dispose()
    return out


def near_rows(db: Any) -> int:
    """Queries with near misses kept after a cycle (every query is narrow here: the ledger starts empty)."""
    from sqlalchemy import text

    with db.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM query_health")).scalar() or 0)


def pure_match(matcher: Any, docs: list[Any], size: int) -> Any:
    """The match alone, in the cycle's batches (one at 100k; memory-bounded ones at 1M): matches per
    subscription (ids 1..size)."""
    import numpy as np

    from digest.services.matching import next_batch_size, papers_for_matrix

    counts = np.zeros(size + 1, np.int64)
    batch, start = min(len(docs), papers_for_matrix(len(matcher.program))), 0
    while start < len(docs):
        sids, _docs = matcher.match_pairs(docs[start : start + batch])
        counts += np.bincount(sids, minlength=size + 1)
        start += batch
        # the cycle sizes batches by matches recorded (one per subscriber and paper); pairs are ~3 %
        # more at 1M (35.1M against 34.1M), so these batches are up to ~3 % smaller than the cycle's
        batch = next_batch_size(batch, len(sids), len(docs))
    return counts[1:]


def expansion(db: Any, sample: int = 300, *, everything: bool = True) -> dict[str, Any]:
    """What delivery pays later for the compact ledger: each due subscriber's sets expanded into rows
    just before its claim (timed one subscriber at a time, on a sample), then all the rest at once."""
    import numpy as np
    from sqlalchemy import text

    from digest.services import match_sets

    with db.engine.connect() as connection:
        owners = [int(r[0]) for r in connection.execute(text("SELECT DISTINCT subscriber_id FROM match_sets"))]
    picked = owners[:: max(1, len(owners) // sample)][:sample]
    per_subscriber, rows = [], 0
    for subscriber_id in picked:
        started = time.perf_counter()
        rows += match_sets.expand_now(db, [subscriber_id])
        per_subscriber.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    rest = match_sets.expand_now(db) if everything else None
    return {"subscribers_with_matches": len(owners), "sampled": len(picked),
            "per_subscriber_ms": {"p50": float(np.percentile(per_subscriber, 50)),
                                  "p95": float(np.percentile(per_subscriber, 95)), "max": max(per_subscriber)},
            "sample_rows": rows, "all_rest_s": time.perf_counter() - started, "all_rest_rows": rest}


def measure(url: str, size: int, seed: int, phases: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--worker", url, "--sizes", str(size), "--seed", str(seed), "--phases", phases],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_backend(url: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    build_database(url, size, args.seed)
    setup_s = time.perf_counter() - started
    runs = [measure(url, size, args.seed, args.phases) for _ in range(args.runs)]
    summary: dict[str, Any] = {"setup_s_untimed": round(setup_s, 1), "runs": len(runs)}
    for phase in args.phases.split(","):
        summary[phase] = {
            "wall_s": _stats([r[phase]["wall_s"] for r in runs]), "cpu_s": _stats([r[phase]["cpu_s"] for r in runs]),
            "matches_recorded": runs[0][phase]["rows"], "papers": runs[0][phase]["papers"],
            "queries_with_near_misses": runs[0][phase]["near_miss_rows"],
        }
    summary["peak_rss_mb"] = _stats([r["peak_rss_mb"] for r in runs])
    expansions = [r["expansion"] for r in runs]
    summary["expansion_at_delivery"] = {
        "subscribers_with_matches": expansions[0]["subscribers_with_matches"],
        "per_subscriber_ms_p50": _stats([e["per_subscriber_ms"]["p50"] for e in expansions]),
        "per_subscriber_ms_p95": _stats([e["per_subscriber_ms"]["p95"] for e in expansions]),
        "all_at_once_s": _stats([e["all_rest_s"] for e in expansions]) if expansions[0]["all_rest_rows"] is not None
        else "not measured above 100k",
        "rows": expansions[0]["sample_rows"] + (expansions[0]["all_rest_rows"] or 0),
    }
    summary["pure_match_s"] = _stats([r["pure_match_s"] for r in runs])
    summary["analysis_2000_papers_s"] = _stats([r["analysis_s"] for r in runs])
    summary["pairs"] = runs[0]["pairs"]
    summary["matches_per_subscription"] = runs[0]["matches_per_subscription"]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("PAPERBELL_BENCH_PG_URL", ""))
    parser.add_argument("--pg-max", type=int, default=1000000, help="largest size run on PostgreSQL")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sample", type=int, default=200, help="subscriptions for the one-by-one/FTS5 baselines")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", default="")
    parser.add_argument("--phases", default="cold,warm,warm_no_near",
                        help="cold (first cycle after a start), warm, warm_no_near (warm without near misses)")
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.worker:
        print(json.dumps(worker(args.worker, sizes[0], args.seed, args.phases.split(","))))
        return
    from bench.cycle_baselines import baselines

    result: dict[str, Any] = {"bench": "match_cycle", "papers": 2000, "seed": args.seed, "cpus": os.cpu_count(),
                              "note": "2-core machine shared with other jobs: timings are noisy", "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            entry: dict[str, Any] = {}
            for backend in args.backends.split(","):
                if backend == "postgresql" and (not args.pg_url or size > args.pg_max):
                    entry[backend] = "not run (size above --pg-max or no --pg-url)"
                    continue
                url = f"sqlite:///{tmp}/bench_{size}.db" if backend == "sqlite" else args.pg_url
                entry[backend] = run_backend(url, size, args)
            result["sizes"][str(size)] = entry
    if not args.no_baselines:
        result["baselines"] = baselines(max(s for s in sizes if s <= 100000), args.seed, args.sample, args.runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
