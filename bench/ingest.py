"""Ingestion parse benchmark: a 2,000-entry arXiv API Atom document and a 2,000-item HF response.

Both documents are built from the recorded fixtures (entries repeated with fresh ids). Prints ONE
JSON line: entries/s and peak traced memory for our parsers, next to the same-process baselines
(feedparser on the same Atom bytes; bare json.loads on the HF bytes), plus the time to store the
2,000 API records into a fresh SQLite database through digest.services.ingest.

    .venv/bin/python bench/ingest.py [--entries 2000] [--repeat 3]
"""

# ruff: noqa: E402  (the sys.path repair below must run before the other imports)
from __future__ import annotations

import sys
from pathlib import Path

# Running `python bench/ingest.py` puts bench/ first on sys.path, where bench/email.py would
# shadow the standard library's `email` package: replace it by the repository root.
ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse
import asyncio
import json
import re
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import feedparser

from digest.sources.arxiv_api import parse_arxiv_api
from digest.sources.hf_daily import parse_hf_daily

FIXTURES = ROOT / "digest" / "data" / "fixtures"


_LINK = re.compile(r"(abs|pdf)/[^<\"]+?v(\d+)")


def build_atom(n: int) -> bytes:
    text = (FIXTURES / "arxiv_api" / "query.xml").read_text()
    head, _, rest = text.partition("  <entry>")
    entries = re.findall(r"  <entry>.*?</entry>\n", "  <entry>" + rest, flags=re.DOTALL)
    out = [head]
    for i in range(n):
        entry = entries[i % len(entries)]
        fresh = f"{2400 + i // 90000:04d}.{i % 90000:05d}"
        out.append(_LINK.sub(rf"\1/{fresh}v\2", entry))
    out.append("</feed>\n")
    return "".join(out).encode()


def build_hf(n: int) -> bytes:
    items = json.loads((FIXTURES / "hf_daily_papers" / "2024-10-25.json").read_text())
    out = []
    for i in range(n):
        item = json.loads(json.dumps(items[i % len(items)]))
        item["paper"]["id"] = f"{2400 + i // 90000:04d}.{i % 90000:05d}"
        out.append(item)
    return json.dumps(out).encode()


def measure(func: Callable[[], int], repeat: int) -> dict[str, Any]:
    best = float("inf")
    count = 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = func()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"entries": count, "seconds": round(best, 4), "entries_per_s": round(count / best),
            "peak_mib": round(peak / 2**20, 1)}


def store_seconds(atom: bytes) -> dict[str, Any]:
    from digest.services.ingest import ingest_sources
    from digest.settings import Settings
    from storage.db import Database
    from storage.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.xml"
        path.write_bytes(atom)
        settings = Settings(_env_file=None, data_dir=Path(tmp), arxiv_min_interval=0)
        upgrade(settings.resolved_database_url())
        db = Database(settings.resolved_database_url())
        start = time.perf_counter()
        [first] = asyncio.run(ingest_sources(settings, db, [f"file:{path}"]))
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        [again] = asyncio.run(ingest_sources(settings, db, [f"file:{path}"]))
        again_s = time.perf_counter() - start
        db.dispose()
    return {"new": first.new, "first_run_s": round(first_s, 3), "rerun_new": again.new,
            "rerun_s": round(again_s, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    atom, hf = build_atom(args.entries), build_hf(args.entries)
    result = {
        "benchmark": "ingest_parse",
        "atom_bytes": len(atom),
        "hf_bytes": len(hf),
        "arxiv_api": measure(lambda: len(parse_arxiv_api(atom, "bench").records), args.repeat),
        # feedparser is ~10x slower: one timed run is enough for the comparison
        "baseline_feedparser_atom": measure(lambda: len(feedparser.parse(atom).entries), 1),
        "hf_daily": measure(lambda: len(parse_hf_daily(hf, "bench", "https://huggingface.co/papers").records),
                            args.repeat),
        "baseline_json_loads_hf": measure(lambda: len(json.loads(hf)), args.repeat),
        "store_sqlite": store_seconds(atom),
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
