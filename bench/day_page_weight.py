"""Measure: bytes of the day page over the wire (gzip) and uncompressed, for a busy day.

Run: `.venv/bin/python bench/day_page_weight.py [--papers 482]`. Stores `--papers` seed papers on one
day in a fresh SQLite database, serves the web app through its ASGI interface (httpx, no network)
and GETs `/day/<that day>` twice: with `Accept-Encoding: gzip` (bytes as sent) and without. Also
the week and month pages when they exist (404 otherwise). Prints ONE JSON line. Sizes do not vary
between runs (no timing), so one run is enough.
"""

from __future__ import annotations

import os
import sys

if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

import argparse
import asyncio
import json
import tempfile
from pathlib import Path


async def measure(papers: int) -> dict[str, object]:
    import httpx

    from digest.runtime.web_app import web_app
    from digest.settings import load_settings
    from storage.db import Database
    from storage.migrate import upgrade
    from tests.digest.web.front import MONDAY, store_papers

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(PAPERBELL_DATA_DIR=tmp, PAPERBELL_DATABASE_URL=f"sqlite:///{Path(tmp) / 'pb.db'}",
                          PAPERBELL_SECRET_KEY="bench-secret-key-0123456789-abcdefghij")
        settings = load_settings()
        db = Database(settings.resolved_database_url())
        upgrade(settings.resolved_database_url())
        store_papers(db, papers, [MONDAY])
        transport = httpx.ASGITransport(app=web_app(settings, db))
        result: dict[str, object] = {"papers_that_day": papers}
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
            iso = MONDAY.isocalendar()
            day = f"/day/{MONDAY.isoformat()}"
            for name, path in [("day", day), ("day_all", f"{day}?show=all"),
                               ("week", f"/week/{iso.year}-W{iso.week:02d}"), ("month", f"/month/{MONDAY:%Y-%m}")]:
                plain = await http.get(path, headers={"Accept-Encoding": "identity"})
                zipped = await http.get(path, headers={"Accept-Encoding": "gzip"})
                result[name] = {"status": plain.status_code, "bytes": len(plain.content),
                                "gzip_bytes_on_wire": int(zipped.headers.get("content-length", len(zipped.content))),
                                "encoding": zipped.headers.get("content-encoding", "none"),
                                "cards": plain.text.count('<article class="paper"')}
        db.engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=482)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.papers))))


if __name__ == "__main__":
    main()
