"""Benchmark: the match cycle with followed authors (`author:` clauses) against the same cycle without.

Run: `python bench/authors.py --size 10000 --follows 1000 --runs 3`. Prints ONE JSON line.

The workload is the match-cycle benchmark's (bench/cycle_workload.py: 2,000 papers, N distinct
subscriptions in realistic proportions), with the papers' authors replaced by real names (the
arXiv sample in tests/digest/query, ~7,000 distinct people, 2-8 per paper) so that name parsing
costs what it costs on real lists. Two SQLite databases hold the same papers and the same N
subscriptions; the second also holds F `author:` subscriptions (people from those papers, a third
written "Last, First", a third with initials only). Each run times `run_match_cycle` on both:
cold (a fresh matcher: parse, compile, analyse every paper; the name cache emptied, so every
author's name is parsed) and warm (the matcher kept, papers analysed afresh, names cached: the
steady state of a running service). Three runs: min and median of wall time, and the matches. Also
the part of a batch that `author:` clauses add, alone: indexing the 2,000 papers' authors' identity
keys, with the name caches empty and full; and what a reader waits for in `/follow author:`
autocomplete or `--author`: one `find_candidates` over 20,000 stored papers (name caches empty).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.cycle_workload import workload  # noqa: E402

SAMPLE = ROOT / "tests" / "digest" / "query" / "arxiv_2026_sample.jsonl"


def real_author_lists(count: int, rng: random.Random) -> list[list[str]]:
    records = [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]
    lists = [r["authors"] for r in records if r.get("authors")]
    return [list(rng.choice(lists)) for _ in range(count)]


def follow_clauses(author_lists: list[list[str]], count: int, rng: random.Random) -> list[str]:
    from digest.query.people import identity_keys

    people = sorted({a for names in author_lists for a in names if identity_keys(a) and '"' not in a})
    clauses = []
    for name in rng.sample(people, min(count, len(people))):
        first, last = name.rsplit(" ", 1) if " " in name else (name, "")
        style = rng.randrange(3)
        if style == 1 and last:
            name = f"{last}, {first}"
        elif style == 2 and last:
            name = f"{first[0]}. {last}"
        clauses.append(f'author:"{name}"')
    return clauses


def build(url: str, texts: list[str], papers: list[Any], author_lists: list[list[str]]) -> None:
    from sqlalchemy import insert
    from sqlmodel import SQLModel

    from storage.db import Database
    from storage.models import Paper, Subscriber, Subscription

    db = Database(url)
    SQLModel.metadata.create_all(db.engine)
    subscribers = max(1, len(texts) // 3)
    with db.engine.begin() as connection:
        connection.execute(insert(Subscriber), [  # type: ignore[arg-type]
            {"id": i + 1, "kind": "email", "address": f"s{i}@bench.test"} for i in range(subscribers)])
        connection.execute(insert(Subscription), [  # type: ignore[arg-type]
            {"id": i + 1, "subscriber_id": i % subscribers + 1, "query": text} for i, text in enumerate(texts)])
        connection.execute(insert(Paper), [  # type: ignore[arg-type]
            {"canonical_id": f"bench.{i:05d}", "title": p.title, "abstract": p.abstract, "authors": names,
             "categories": list(p.categories), "extras": {}, "sources": []}
            for i, (p, names) in enumerate(zip(papers, author_lists, strict=True))])
    db.dispose()


def cycle(url: str, phase: str) -> tuple[float, int]:
    from sqlalchemy import text

    from digest.query.people import author_keys, parse_name
    from digest.services import match_cache
    from digest.services.matching import run_match_cycle
    from digest.settings import Settings
    from storage.db import Database

    db = Database(url)
    settings = Settings(_env_file=None, database_url=url, secret_key="b" * 40)  # type: ignore[call-arg]
    with db.engine.begin() as connection:
        for table in ("deliveries", "match_sets", "cursors"):
            connection.execute(text(f"DELETE FROM {table}"))
    with match_cache._analysed_lock:
        match_cache._analysed.clear()
    if phase == "cold":
        match_cache.forget_caches()
        parse_name.cache_clear()
        author_keys.cache_clear()
    started = time.perf_counter()
    report = run_match_cycle(db, settings)
    wall = time.perf_counter() - started
    db.dispose()
    return wall, report.matches_recorded


def people_index(papers: list[Any], author_lists: list[list[str]], runs: int) -> dict[str, float]:
    """The part `author:` clauses add to a batch: its authors' identity keys (names parsed, or cached)."""
    from digest.query import PaperDoc, analyze_doc
    from digest.query.batch import people_bitsets
    from digest.query.people import author_keys, parse_name

    docs = [analyze_doc(PaperDoc(None, p.title, p.abstract, names)) for p, names in zip(papers, author_lists,
                                                                                         strict=True)]
    cold, cached = [], []
    for _ in range(runs):
        parse_name.cache_clear()
        author_keys.cache_clear()
        for times in (cold, cached):
            for doc in docs:
                doc._people = None
            started = time.perf_counter()
            people_bitsets(docs, frozenset({"bengio|yoshua"}))
            times.append(time.perf_counter() - started)
    return {"names": sum(map(len, author_lists)), "cold_min_s": round(min(cold), 3),
            "cold_median_s": round(statistics.median(cold), 3), "cached_min_s": round(min(cached), 3),
            "cached_median_s": round(statistics.median(cached), 3)}


def lookups(folder: str, rng: random.Random, runs: int) -> dict[str, Any]:
    """What a reader waits for in `/follow author:` autocomplete (and `--author`): `find_candidates` over
    `SCAN_PAPERS` stored papers of real author lists, for a rare full name, a surname, a common surname."""
    from sqlalchemy import insert
    from sqlmodel import SQLModel

    from digest.query.people import author_keys, parse_name
    from digest.services.authors import AUTOCOMPLETE_SCAN, SCAN_PAPERS, find_candidates
    from storage.db import Database
    from storage.models import Paper

    db = Database(f"sqlite:///{folder}/lookup.db")
    SQLModel.metadata.create_all(db.engine)
    lists = real_author_lists(SCAN_PAPERS, rng)
    with db.engine.begin() as connection:
        connection.execute(insert(Paper), [  # type: ignore[arg-type]
            {"canonical_id": f"look.{i:05d}", "title": "t", "abstract": "", "categories": [], "extras": {},
             "sources": [], "authors": names + (["Yoshua Bengio"] if i % 50 == 0 else [])}
            for i, names in enumerate(lists)])
    out: dict[str, Any] = {"papers": SCAN_PAPERS}
    for scan, label in ((SCAN_PAPERS, "cli"), (AUTOCOMPLETE_SCAN, "autocomplete")):
        for name in ("Yoshua Bengio", "Bengio", "Wang"):
            times = []
            for _ in range(runs):
                parse_name.cache_clear()
                author_keys.cache_clear()
                started = time.perf_counter()
                found = find_candidates(db, name, scan=scan)
                times.append(time.perf_counter() - started)
            out[f"{label} {name}"] = {"scan": scan, "candidates": len(found), "min_s": round(min(times), 3),
                                      "median_s": round(statistics.median(times), 3)}
    db.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000, help="keyword subscriptions (both databases)")
    parser.add_argument("--follows", type=int, default=1_000, help="author: subscriptions (second database)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    papers, texts, _owners, _labels = workload(args.size, args.seed)
    author_lists = real_author_lists(len(papers), rng)
    follows = follow_clauses(author_lists, args.follows, rng)
    results: dict[str, dict[str, list[float]]] = {}
    matches: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        urls = {"baseline": f"sqlite:///{folder}/baseline.db", "with_authors": f"sqlite:///{folder}/authors.db"}
        build(urls["baseline"], texts, papers, author_lists)
        build(urls["with_authors"], texts + follows, papers, author_lists)
        for run in range(args.runs):
            order = list(urls.items()) if run % 2 == 0 else list(urls.items())[::-1]  # no side always first
            for name, url in order:
                for phase in ("cold", "warm"):
                    wall, found = cycle(url, phase)
                    results.setdefault(f"{name}_{phase}", {}).setdefault("wall_s", []).append(wall)
                    matches[name] = found
        lookup = lookups(folder, rng, args.runs)
    summary = {key: {"min_s": round(min(v["wall_s"]), 3), "median_s": round(statistics.median(v["wall_s"]), 3)}
               for key, v in results.items()}
    print(json.dumps({"bench": "authors", "papers": len(papers), "subscriptions": args.size,
                      "author_subscriptions": len(follows), "runs": args.runs, "cycles": summary,
                      "matches": matches, "people_index": people_index(papers, author_lists, args.runs),
                      "lookup": lookup}))


if __name__ == "__main__":
    main()
