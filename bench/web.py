"""Benchmark: the web front under a loopback load generator with 2,000 papers stored.

Run: `.venv/bin/python bench/web.py [--papers 2000] [--seconds 5] [--runs 3] [--connections 16]`.
The app (digest.runtime.web_app.web_app, one uvicorn worker, SQLite) runs in a child process; `wrk`
(Debian) drives it from this one. Measured, each `--runs` times (min and median reported):
  day      GET /day/<busiest day>: the page a reader waits for (render cache on)
  day_nocache   the same page with the render cache disabled: the baseline doing the same work
  search   GET /search?q=<one of 8 realistic queries> (repeats hit the per-store-version cache)
  search_unique GET /search?q=<a query never asked before>: distinct realistic queries from the
               match-cycle workload (bench/cycle_workload.py: broad topics, terms, ANDs, phrases,
               OR, fields, NOT, wildcards, categories); every wrk run takes its own unused slice,
               so each request is a full search: compile, look up the prepared index, explain,
               rank and render (no cache hit possible)
  api      GET /api/papers?date=<busiest day>
Prints ONE JSON line: req/s and p99 latency (ms) per scenario, plus the workload's papers-per-day
distribution. Figures are noisy on a shared 2-core machine; the server and wrk share the cores.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this folder is sys.path[0] and bench/email.py would shadow the stdlib `email` package.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

import argparse
import json
import multiprocessing
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cycle_workload import workload  # noqa: E402
from digest.settings import Settings  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.digest.web.front import store_papers  # noqa: E402

QUERIES = ['"sparse autoencoder" OR interpretab*', "diffusion OR ti:video", "reasoning AND math*",
           '"large language model" AND agent*', "quantiz* OR pruning", "ti:benchmark", "cat:cs.CV",
           "multimodal AND (vision OR image)"]
UNIQUE_LUA = """
queries = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/search?q=" .. queries[((counter - 1) %% #queries) + 1])
end
"""
UNIQUE_PER_RUN = 4000  # more than one wrk run can ask for at this rate: no query repeats
ROTATE_LUA = """
queries = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/search?q=" .. queries[(counter %% #queries) + 1])
end
"""


def build_store(folder: Path, papers: int) -> tuple[Settings, list[date]]:
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    settings = Settings(_env_file=None, data_dir=folder / "data", database_url=url,
                        secret_key="b" * 32, public_url="http://127.0.0.1")
    # 20 announcement days, busier early in the week, like arXiv (weights 3,2,2,2,1 over weekdays)
    start = date(2026, 1, 5)
    days = [start + timedelta(days=d) for d in range(28) if (start + timedelta(days=d)).weekday() < 5]
    weighted = [day for day in days for _ in range(3 if day.weekday() == 0 else 1 if day.weekday() == 4 else 2)]
    db = Database(url)
    store_papers(db, papers, weighted)
    db.dispose()
    return settings, days


def serve(settings: Settings, sock: socket.socket, nocache: bool) -> None:
    import uvicorn

    from digest.runtime.web_app import web_app
    from digest.web.site import RenderCache

    app = web_app(settings, Database(settings.resolved_database_url()))
    if nocache:
        app.state.front.renders = RenderCache(size=0)
    uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off", access_log=False)).run(sockets=[sock])


def wrk(url: str, seconds: int, connections: int, script: str | None) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", script]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses")
    return {"rps": rate, "p99_ms": p99}


def prime(base: str, paths: list[str]) -> None:
    """One sequential request per path: the first search of a query is measured as `search_unique`."""
    for path in paths:
        with urllib.request.urlopen(base + path, timeout=60) as answer:
            answer.read()


def summarize(samples: list[dict[str, float]]) -> dict[str, Any]:
    rates, p99s = [s["rps"] for s in samples], [s["p99_ms"] for s in samples]
    return {"rps_min": round(min(rates), 1), "rps_median": round(statistics.median(rates), 1),
            "p99_ms_min": round(min(p99s), 2), "p99_ms_median": round(statistics.median(p99s), 2)}


Script = Callable[[], str | None]  # the wrk script for the next run (None: plain GET)


def unique_queries(folder: Path, runs: int) -> tuple[Script, dict[str, int]]:
    """A fresh slice of never-asked realistic queries per wrk run; returns (script factory, class mix)."""
    _papers, texts, _owners, classes = workload(UNIQUE_PER_RUN * (runs + 2), seed=7)
    slices = iter(range(0, len(texts), UNIQUE_PER_RUN))

    def script() -> str:
        start = next(slices)
        path = folder / f"unique{start}.lua"
        path.write_text(UNIQUE_LUA % ", ".join(json.dumps(quote(q)) for q in texts[start:start + UNIQUE_PER_RUN]))
        return str(path)

    return script, dict(Counter(classes))


def measure(settings: Settings, nocache: bool, scenarios: dict[str, tuple[str, Script]],
            args: argparse.Namespace) -> dict[str, Any]:
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets (else Nagle adds ~40 ms to small replies)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)  # connections queue until the worker accepts them: no start-up race
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = multiprocessing.get_context("fork").Process(target=serve, args=(settings, sock, nocache), daemon=True)
    server.start()
    try:
        results = {}
        prime(base, [f"/search?q={quote(q)}" for q in QUERIES])
        for name, (path, script) in scenarios.items():
            wrk(base + path, 1, args.connections, script())  # warm-up: caches, corpus analysis
            results[name] = summarize([wrk(base + path, args.seconds, args.connections, script())
                                       for _ in range(args.runs)])
        return results
    finally:
        server.terminate()
        server.join()
        sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings, _ = build_store(folder, args.papers)

        db = Database(settings.resolved_database_url())
        with db.engine.connect() as connection:
            rows = sorted(connection.exec_driver_sql(
                "SELECT substr(first_seen_at, 1, 10), count(*) FROM papers GROUP BY 1").all(), key=lambda r: r[1])
        db.dispose()
        counts = [row[1] for row in rows]
        busiest = rows[len(rows) // 2][0]  # a day of median size (100 papers)
        rotate = folder / "rotate.lua"
        rotate.write_text(ROTATE_LUA % ", ".join(json.dumps(quote(q)) for q in QUERIES))
        unique, mix = unique_queries(folder, args.runs)
        cached = measure(settings, False, {
            "day": (f"/day/{busiest}", lambda: None), "search": ("/search", lambda: str(rotate)),
            "search_unique": ("/search", unique), "api": (f"/api/papers?date={busiest}", lambda: None),
        }, args)
        baseline = measure(settings, True, {"day_nocache": (f"/day/{busiest}", lambda: None)}, args)
    print(json.dumps({
        "bench": "web", "papers": args.papers, "connections": args.connections, "seconds": args.seconds,
        "runs": args.runs, "day_page": busiest, "papers_per_day": {"days": len(counts), "min": min(counts),
                                              "median": statistics.median(counts), "max": max(counts)},
        "unique_query_classes": mix, **cached, **baseline,
    }))


if __name__ == "__main__":
    main()
