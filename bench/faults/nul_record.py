"""Fault case: one NUL character in one record of a source, on PostgreSQL: records stored vs skipped.

Run: `python bench/faults/nul_record.py --paperbell /work/wt/faults-old/.venv/bin/paperbell \
      --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres`
The server of `--database-url` gets a scratch database (created, then dropped; needs `psql`). A JSON
file of 10 clean records and one whose title holds `\\u0000` is ingested twice (`paperbell ingest
file:… --json`, a retry must not fail either); reported per run: exit status, the source's status and
counts, its error, and the rows in `papers` afterwards (psql). Without `--database-url` it runs on
SQLite (rows counted by sqlite3). Prints ONE JSON line.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from common import base_env, emit, fresh_dir, measure, parser


def _psql(url: str, sql: str) -> str:
    done = subprocess.run(["psql", url.replace("+psycopg", ""), "-tAc", sql], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def _rows(url: str, data: Path) -> int:
    if url:
        return int(_psql(url, "SELECT count(*) FROM papers"))
    with sqlite3.connect(data / "paperbell.db") as conn:
        return int(conn.execute("SELECT count(*) FROM papers").fetchone()[0])


def _report(output: str) -> dict[str, Any]:
    start = output.rfind("\n[\n") + 1 if not output.startswith("[") else 0  # after any traceback
    try:
        [report] = json.loads(output[start:])
    except ValueError:
        return {}
    got = {key: report.get(key) for key in ("status", "fetched", "new", "skipped", "skipped_reasons", "error")}
    got["error"] = (got["error"] or "")[:120] or None  # the old code put the whole failed INSERT here
    return got


def main() -> None:
    opts = parser(__doc__).parse_args()
    work = fresh_dir("nul")
    records = [{"id": f"2501.{n:05d}", "title": f"Clean record {n}", "abstract": "a clean abstract"}
               for n in range(1, 11)]
    records.insert(5, {"id": "2501.00099", "title": "One NUL\u0000 here", "abstract": "a"})
    source = work / "poison.json"
    source.write_text(json.dumps(records))
    url, scratch = opts.database_url, ""
    if url:
        scratch = f"pbfault_nul_{os.getpid()}"
        _psql(url, f"CREATE DATABASE {scratch}")
        url = url.rsplit("/", 1)[0] + "/" + scratch
    env = base_env(work / "data", url)
    results: dict[str, Any] = {"records": len(records), "database": "postgresql" if url else "sqlite"}
    try:
        for attempt in (1, 2):
            got = measure([opts.paperbell, "ingest", f"file:{source}", "--json"], env, 180)
            report = _report(got["output"]) or {"output_tail": got["output"].strip()[-300:]}
            results[f"run{attempt}"] = {"rc": got["rc"], "traceback": got["traceback"], **report,
                                        "papers_rows": _rows(url, work / "data")}
    finally:
        if scratch:
            _psql(opts.database_url, f"DROP DATABASE IF EXISTS {scratch}")
    emit("nul_record", opts.paperbell, results)


if __name__ == "__main__":
    main()
