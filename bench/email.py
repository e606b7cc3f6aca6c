"""Benchmark: render and send 10,000 personalized e-mail digests to a local aiosmtpd.

Run: `.venv/bin/python bench/email.py [--digests 10000] [--baseline 1000] [--e2e 2000]`.
Recipients get 1-3 realistic saved queries each and a different daily sample of the seed corpus,
matched by the real matcher. Prints ONE JSON line: digests/s for rendering alone (assembly +
Jinja2 + CSS inlining + MIME message), for render+send through the pooled SmtpTransport, send-only
pooled vs. the baseline "one SMTP connection per message" (same process, same server; plain and
implicit TLS), the full service path (`send_due_digests`: claim → render → send → ledger on SQLite),
CPU ms per digest, and the peak RSS of this process (the SMTP servers run in child processes).
"""

from __future__ import annotations

import os
import sys

# Run as a script, this folder is sys.path[0] and this file would shadow the stdlib `email` package.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

import argparse
import asyncio
import json
import multiprocessing
import random
import resource
import shutil
import ssl
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib

from digest.core.assembly import DigestItem, Recipient
from digest.email.message import build_message, html_of
from digest.email.render import Links, render_capped
from digest.email.send import SendStatus, SmtpTransport
from digest.query import compile_matcher, parse_query
from digest.services.items import make_item
from digest.services.tokens import Purpose, link
from digest.settings import Settings, SmtpSecurity
from digest.summaries.extractive import extractive_summary
from storage.models import Paper

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
QUERIES = [
    '"sparse autoencoder" OR interpretab*', "hallucination OR (retrieval AND ti:benchmark)", "diffusion OR ti:video",
    'reasoning AND (math* OR "reinforcement learning")', '"large language model" AND agent*', "quantiz* OR pruning",
    "ti:benchmark", "robot* OR embodied", '"in-context learning"', "multimodal AND (vision OR image)",
    "alignment OR RLHF OR preference", "speculative OR decoding", '"chain of thought" OR cot', "tokeniz*",
    "graph AND neural", "cat:cs.CL AND translation", "safety OR jailbreak*", "long-context OR \"long context\"",
    "code AND generation", "mixture AND experts", "federated", "contrastive", "attention AND efficien*", "survey",
]


def corpus() -> list[dict[str, Any]]:
    shared = ROOT.parent / "shared" / "corpus" / "seed_papers.jsonl"
    path = shared if shared.exists() else ROOT / "digest" / "data" / "seed_papers.jsonl"
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def make_papers(records: list[dict[str, Any]]) -> list[Paper]:
    return [
        Paper(id=n, canonical_id=f"2410.{10000 + n}", title=r["title"], abstract=r["abstract"],
              authors=[f"Author {i}" for i in range(int(r.get("n_authors") or 4))], categories=["cs.LG"],
              pdf_url=f"https://arxiv.org/pdf/2410.{10000 + n}", published_at=NOW - timedelta(hours=n % 48),
              sources=["hf:daily"], extras={"upvotes": r["upvotes"]} if r.get("upvotes") else {})
        for n, r in enumerate(records, start=1)
    ]


def personalized(
    settings: Settings, papers: list[Paper], count: int, seed: int
) -> list[tuple[Recipient, list[DigestItem]]]:
    """Each recipient: 1-3 queries, today's sample of 80 papers, the real matcher's explanations."""
    parsed = {qid: parse_query(text) for qid, text in enumerate(QUERIES, start=1)}
    by_query: dict[int, dict[int, dict[str, Any]]] = {qid: {} for qid in parsed}
    from digest.services.preview import paper_to_doc

    for found in compile_matcher(parsed).match([paper_to_doc(p) for p in papers]):
        by_query[found.subscription_id][found.doc_index] = found.explanation.to_dict()
    summaries = {p.id: extractive_summary(p.abstract) for p in papers}
    rng = random.Random(seed)
    out = []
    delivery = 0
    for n in range(count):
        today = set(rng.sample(range(len(papers)), 80))
        chosen = rng.sample(sorted(parsed), rng.randint(1, 3))
        items, seen = [], set()
        for qid in chosen:
            for index, explanation in by_query[qid].items():
                if index in today and index not in seen:
                    seen.add(index)
                    delivery += 1
                    paper = papers[index]
                    items.append(make_item(settings, delivery, paper, qid, QUERIES[qid - 1], explanation,
                                           summaries[paper.id]))
        out.append((Recipient(subscriber_id=n + 1, address=f"user{n}@example.org", timezone="Europe/Berlin"), items))
    return out


def render_one(settings: Settings, recipient: Recipient, items: list[DigestItem]) -> Any:
    links = Links(
        manage_url=link(settings, Purpose.MANAGE, recipient.subscriber_id, recipient.address),
        unsubscribe_url=link(settings, Purpose.UNSUBSCRIBE, recipient.subscriber_id, recipient.address),
    )
    rendered = render_capped(settings, recipient, items, links, now=NOW)
    return build_message(settings, to_address=recipient.address, to_name=None, mail=rendered.mail,
                         message_id=f"<bench.{recipient.subscriber_id}@paperbell.test>", date=NOW,
                         unsubscribe_url=links.unsubscribe_url, subscriber_id=recipient.subscriber_id)


# --- the SMTP server, in a child process so it does not share this process's CPU or memory -------
def _server(ready: Any, done: Any, stop: Any, cert: str | None = None, key: str | None = None) -> None:
    import ssl

    from aiosmtpd.smtp import SMTP

    class Counter:
        count = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            Counter.count += 1
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        context = None
        if cert and key:  # implicit TLS, as on port 465
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
        server = await loop.create_server(lambda: SMTP(Counter(), hostname="bench"), "127.0.0.1", 0, ssl=context)
        ready.put(server.sockets[0].getsockname()[1])
        await loop.run_in_executor(None, stop.wait)
        server.close()
        done.put(Counter.count)

    asyncio.run(main())


async def send_all(settings: Settings, messages: list[Any], tls: ssl.SSLContext | None = None) -> int:
    transport = SmtpTransport(settings, retry_base_delay=0.01, tls_context=tls)
    outcomes = await asyncio.gather(*(transport.send(m) for m in messages))
    await transport.close()
    return sum(o.status is SendStatus.SENT for o in outcomes)


async def render_and_send(settings: Settings, batch: list[tuple[Recipient, list[DigestItem]]]) -> int:
    transport = SmtpTransport(settings, retry_base_delay=0.01)
    slots = asyncio.Semaphore(settings.smtp_concurrency * 2)

    async def one(recipient: Recipient, items: list[DigestItem]) -> bool:
        async with slots:
            return (await transport.send(render_one(settings, recipient, items))).status is SendStatus.SENT

    sent = sum(await asyncio.gather(*(one(r, i) for r, i in batch)))
    await transport.close()
    return sent


async def baseline_send(settings: Settings, messages: list[Any], tls: ssl.SSLContext | None = None) -> int:
    """One connection per message (what a naive sender does), same concurrency."""
    slots = asyncio.Semaphore(settings.smtp_concurrency)

    async def one(message: Any) -> bool:
        async with slots:
            await aiosmtplib.send(message, hostname="127.0.0.1", port=settings.smtp_port, start_tls=False,
                                  use_tls=tls is not None, tls_context=tls)
            return True

    return sum(await asyncio.gather(*(one(m) for m in messages)))


def e2e(settings: Settings, papers: list[Paper], batch: list[tuple[Recipient, list[DigestItem]]]) -> dict[str, Any]:
    """The real service path on a fresh SQLite database: claim → render → send → ledger."""
    from digest.email.digests import send_due_digests
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Delivery, Subscriber, Subscription

    folder = Path(tempfile.mkdtemp(prefix="pb-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    db = Database(url)
    local = settings.model_copy(update={"data_dir": folder, "database_url": url})
    with db.session() as session:
        for paper in papers:
            session.add(Paper.model_validate(paper.model_dump()))
        session.flush()
        for recipient, _ in batch:
            session.add(Subscriber(id=recipient.subscriber_id, kind="email", address=recipient.address,
                                   confirmed_at=NOW - timedelta(days=3), created_at=NOW - timedelta(days=3)))
        session.flush()
        subscription_ids: dict[tuple[int, int], int] = {}
        for recipient, items in batch:
            for item in items:
                key = (recipient.subscriber_id, item.subscription_id or 0)
                if key not in subscription_ids:
                    sub = Subscription(subscriber_id=recipient.subscriber_id, query=item.query)
                    session.add(sub)
                    session.flush()
                    subscription_ids[key] = sub.id or 0
                session.add(Delivery(subscriber_id=recipient.subscriber_id, paper_id=item.paper_id,
                                     subscription_id=subscription_ids[key],
                                     explanation={"matched_words": list(item.matched_words)}))
    started = time.perf_counter()
    results = asyncio.run(send_due_digests(local, db, NOW))
    seconds = time.perf_counter() - started
    db.dispose()
    sent = sum(r.status == "sent" for r in results)
    return {"digests": len(batch), "sent": sent, "seconds": round(seconds, 2),
            "digests_per_s": round(len(batch) / seconds, 1)}


def tls_comparison(settings: Settings, messages: list[Any]) -> dict[str, Any]:
    """Pooled vs one-connection-per-message over implicit TLS (a fresh handshake per message for the baseline)."""
    folder = Path(tempfile.mkdtemp(prefix="pb-bench-tls-"))
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    ready: multiprocessing.Queue[int] = multiprocessing.Queue()
    done: multiprocessing.Queue[int] = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=_server, args=(ready, done, stop, str(cert), str(key)), daemon=True)
    server.start()
    local = settings.model_copy(update={"smtp_port": ready.get(timeout=30), "smtp_security": SmtpSecurity.TLS})
    client = ssl.create_default_context(cafile=str(cert))
    started = time.perf_counter()
    base_sent = asyncio.run(baseline_send(local, messages, client))
    base_s = time.perf_counter() - started
    started = time.perf_counter()
    pooled_sent = asyncio.run(send_all(local, messages, client))
    pooled_s = time.perf_counter() - started
    stop.set()
    received = done.get(timeout=30)
    server.join(timeout=10)
    return {
        "messages": len(messages),
        "send_only_pooled_per_s": round(pooled_sent / pooled_s, 1),
        "baseline_connection_per_message_per_s": round(base_sent / base_s, 1),
        "pooled_speedup_vs_baseline": round((pooled_sent / pooled_s) / (base_sent / base_s), 2),
        "server_received": received,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--digests", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--e2e", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    ready: multiprocessing.Queue[int] = multiprocessing.Queue()
    done: multiprocessing.Queue[int] = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=_server, args=(ready, done, stop), daemon=True)
    server.start()
    port = ready.get(timeout=30)
    settings = Settings(_env_file=None, secret_key="bench-key-0123456789-abcdefghijklmnop", smtp_host="127.0.0.1",
                        smtp_port=port, smtp_security=SmtpSecurity.NONE, smtp_concurrency=args.concurrency,
                        public_url="https://paperbell.example", mail_from="paperbell <digest@paperbell.example>")
    papers = make_papers(corpus())
    batch = personalized(settings, papers, args.digests, args.seed)
    items_per_digest = sum(len(items) for _, items in batch) / len(batch)

    # Render-only: each message is built then dropped (a sender never holds 10,000 at once).
    html_sizes = []
    started, cpu = time.perf_counter(), time.process_time()
    for recipient, items in batch:
        html_sizes.append(len((html_of(render_one(settings, recipient, items)) or "").encode()))
    render_s, render_cpu = time.perf_counter() - started, time.process_time() - cpu
    html_sizes.sort()

    started, cpu = time.perf_counter(), time.process_time()
    sent = asyncio.run(render_and_send(settings, batch))
    render_send_s, render_send_cpu = time.perf_counter() - started, time.process_time() - cpu

    base_messages = [render_one(settings, r, i) for r, i in batch[: args.baseline]]
    started = time.perf_counter()
    base_sent = asyncio.run(baseline_send(settings, base_messages))
    base_send_s = time.perf_counter() - started
    started = time.perf_counter()
    pooled_sent = asyncio.run(send_all(settings, base_messages))
    pooled_send_s = time.perf_counter() - started

    tls_figures = tls_comparison(settings, base_messages) if shutil.which("openssl") else None
    service = e2e(settings, papers, batch[: args.e2e]) if args.e2e else None
    stop.set()
    received = done.get(timeout=30)
    server.join(timeout=10)

    print(json.dumps({
        "benchmark": "email",
        "command": " ".join(["python", *sys.argv]),
        "python": sys.version.split()[0],
        "digests": len(batch),
        "papers_per_digest_avg": round(items_per_digest, 1),
        "html_bytes_median": html_sizes[len(html_sizes) // 2],
        "html_bytes_max": html_sizes[-1],
        "render_only_per_s": round(len(batch) / render_s, 1),
        "render_send_per_s": round(sent / render_send_s, 1),
        "render_send_sent": sent,
        # CPU per digest in this process (the machine may be shared: wall-clock rates vary with its load)
        "render_cpu_ms_per_digest": round(render_cpu * 1000 / len(batch), 2),
        "render_send_cpu_ms_per_digest": round(render_send_cpu * 1000 / len(batch), 2),
        "load_avg_1m": round(os.getloadavg()[0], 1),
        "smtp_concurrency": args.concurrency,
        "send_only_pooled_per_s": round(pooled_sent / pooled_send_s, 1),
        "baseline_connection_per_message_per_s": round(base_sent / base_send_s, 1),
        "pooled_speedup_vs_baseline": round((pooled_sent / pooled_send_s) / (base_sent / base_send_s), 2),
        "implicit_tls": tls_figures,
        "service_e2e_sqlite": service,
        "server_received": received,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main()
