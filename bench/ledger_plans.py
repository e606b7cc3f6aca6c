"""Benchmark: the query plans of the delivery pass's ledger statements at 10M ledger rows (PostgreSQL).

Run (from the repository root; takes a few minutes, most of it building the ledger):

    createdb -h 127.0.0.1 -U postgres paperbell_plans
    .venv/bin/python bench/ledger_plans.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/paperbell_plans

Workload: 100,000 e-mail subscribers, 50,000 papers, 100 ledger rows per subscriber (10M rows: the 97
oldest sent, the 3 newest pending), generated in the database, then ANALYZE. Then one batch of the
e-mail pass's ledger work runs for real on 32 due subscribers: `claim_due_batch` (re-read of their
last digest, the claim with its match-set expansion), the batch's reads (digest extras with each query's
matches of the last 30 days, votes) and `write_sent` (rows sent, digest periods).
Every statement is first run under `EXPLAIN (ANALYZE, BUFFERS)` inside a savepoint that is rolled back,
so the plan is measured on the same data the real statement then changes. Prints ONE JSON line: per
statement, its first line of SQL, the plan's top node, the indexes it used, whether it scanned a table
sequentially, and its execution time.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

BUILD = [
    "INSERT INTO subscribers (id, kind, address, timezone, schedule, digest_hour, digest_weekday, confirmed_at,"
    " paused, bounce_count, send_failures, created_at) SELECT g, 'email', 'reader' || g || '@example.org', 'UTC',"
    " 'daily', 0, 0, now() - interval '400 days', false, 0, 0, now() - interval '400 days'"
    " FROM generate_series(1, :subscribers) g",
    "INSERT INTO subscriptions (id, subscriber_id, query, paused, created_at) SELECT g, g, 'diffusion', false,"
    " now() - interval '400 days' FROM generate_series(1, :subscribers) g",
    "INSERT INTO papers (id, canonical_id, title, abstract, authors, categories, extras, sources, first_seen_at,"
    " last_seen_at)"
    " SELECT g, '2512.' || lpad(g::text, 5, '0'), 'Paper ' || g, 'An abstract about diffusion.', '[]', '[]',"
    " '{}', '[\"arxiv\"]', now() - (g % 365) * interval '1 day', now() FROM generate_series(1, :papers) g",
    "INSERT INTO deliveries (subscriber_id, paper_id, subscription_id, status, explanation, created_at, sent_at,"
    " attempts) SELECT s, k * (:papers / :rows) + (s % (:papers / :rows)) + 1, s,"
    " CASE WHEN k < :rows - 3 THEN 'sent' ELSE 'pending' END, '{}', now() - (:rows - k) * interval '1 day',"
    " CASE WHEN k < :rows - 3 THEN now() - (:rows - k) * interval '1 day' END, 0"
    " FROM generate_series(1, :subscribers) s, generate_series(0, :rows - 1) k",
]


def build(url: str, subscribers: int, papers: int, rows: int) -> Any:
    from sqlalchemy import text

    from storage.db import Database
    from storage.migrate import upgrade

    db = Database(url)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    db.dispose()
    upgrade(url)
    db = Database(url)
    with db.engine.begin() as connection:
        for statement in BUILD:
            connection.execute(text(statement), {"subscribers": subscribers, "papers": papers, "rows": rows})
        for table in ("subscribers", "subscriptions", "papers", "deliveries"):
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return db


def plan_summary(statement: str, lines: list[str]) -> dict[str, Any]:
    plan = "\n".join(lines)
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return {"sql": " ".join(statement.split())[:160], "top": lines[0].strip()[:120] if lines else "",
            "indexes": sorted(set(re.findall(r"(?:Index|Index Only|Bitmap Index) Scan (?:Backward )?using (\w+)", plan)
                                  + re.findall(r"Bitmap Index Scan on (\w+)", plan))),
            "seq_scans": sorted(set(re.findall(r"Seq Scan on (\w+)", plan))),
            "execution_ms": float(found.group(1)) if found else None}


def explain_everything(db: Any, plans: list[dict[str, Any]]) -> None:
    """Before each statement on the engine: its EXPLAIN ANALYZE in a savepoint, rolled back."""
    from sqlalchemy import event

    @event.listens_for(db.engine, "before_cursor_execute")
    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        head = statement.lstrip().split(None, 1)[0].upper()
        if executemany or head not in ("SELECT", "UPDATE", "INSERT", "DELETE", "WITH"):
            return
        cursor.execute("SAVEPOINT plan_probe")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        lines = [row[0] for row in cursor.fetchall()]
        cursor.execute("ROLLBACK TO SAVEPOINT plan_probe")
        plans.append(plan_summary(statement, lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--papers", type=int, default=50_000)
    parser.add_argument("--rows", type=int, default=100, help="ledger rows per subscriber")
    args = parser.parse_args()
    from sqlalchemy import func, select

    from digest.email.rows import claim_due_batch
    from digest.services import feedback
    from digest.services.digest_extras import load_extras_many
    from digest.services.sent_batches import write_sent
    from storage.models import Delivery, Subscriber
    from storage.types import utcnow

    started = time.perf_counter()
    db = build(args.pg_url, args.subscribers, args.papers, args.rows)
    built_s = time.perf_counter() - started
    with db.session() as session:
        ledger_rows = session.execute(select(func.count()).select_from(Delivery)).scalar_one()
        subscribers = list(session.exec(select(Subscriber).where(Subscriber.id <= 32)).scalars())
        session.expunge_all()
    plans: list[dict[str, Any]] = []
    explain_everything(db, plans)
    now = utcnow() + timedelta(minutes=1)
    _due, claimed = claim_due_batch(db, subscribers, now, worker="plans", recheck_due=True, limit_each=5000,
                                    message_id_domain="paperbell.example")
    ids = [s.id for s in subscribers if s.id]
    # the batch's reads beside the claim: digest extras (query health counts each query's last 30 days) and votes
    load_extras_many(db, ids, now)
    feedback.plan_inputs_many(db, ids, sorted({c.subscription_id for c in claimed if c.subscription_id is not None}))
    write_sent(db, [c.delivery_id for c in claimed], ids, now, 5.0)
    print(json.dumps({"benchmark": "ledger_plans", "command": " ".join(["python", *sys.argv]),
                      "ledger_rows": ledger_rows, "build_s": round(built_s, 1), "claimed_rows": len(claimed),
                      "statements": plans}), flush=True)


if __name__ == "__main__":
    main()
