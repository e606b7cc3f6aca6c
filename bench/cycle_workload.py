"""The match-cycle benchmark's workload: 2,000 papers and N distinct subscriptions in realistic proportions.

Used by bench/match_cycle.py and bench/cycle_baselines.py; deterministic for a seed, so every
process regenerates the same workload. Words come from the papers' own vocabulary, classed by the
share of papers holding their stem: broad topics (5–40 %, e.g. `llm` 35 %, `reasoning` 12.5 %),
medium (0.5–5 %) and rare (< 0.5 %). Query classes: broad topics alone or combined, single terms,
AND of 2–3 terms, phrases, OR, fields (ti:, abs:, au:), NOT, wildcards, categories. Texts are
distinct; when a class runs out of distinct texts (single terms at 1M) another class is drawn.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from functools import lru_cache
from typing import Any

from bench.match import STOP, corpus_path, make_papers
from digest.query import PaperDoc, analyze_doc
from digest.query.analysis import stem

CLASSES = ("broad", "term", "and", "phrase", "or", "field", "not", "wildcard", "category")
TOPICS = ["llm", "reasoning", "diffusion", "transformer", "agents", "video", "robot", "benchmark", "multimodal",
          "alignment", "retrieval", "reinforcement"]
MIX = (0.05, 0.15, 0.25, 0.15, 0.08, 0.08, 0.08, 0.08, 0.08)


@lru_cache(maxsize=2)
def papers_and_vocabulary(seed: int) -> tuple[list[PaperDoc], dict[str, list[str]]]:
    records = [json.loads(line) for line in corpus_path().read_text().splitlines() if line.strip()]
    papers = make_papers(records, 2000, random.Random(seed))
    df: Counter[str] = Counter()
    surface: dict[str, str] = {}
    prefix_df: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    for paper in papers:
        doc = analyze_doc(paper)
        raws = set(doc.fields["title"].raw) | set(doc.fields["abstract"].raw)
        df.update({stem(raw) for raw in raws})
        prefix_df.update({raw[:6] for raw in raws if len(raw) >= 8 and raw.isalpha()})
        for raw in raws:
            if raw.isalpha() and len(raw) >= 3 and raw not in STOP:
                key = stem(raw)
                if key not in surface or len(raw) < len(surface[key]):
                    surface[key] = raw
        words = doc.fields["abstract"].sequence
        bigrams.update({f"{a} {b}" for a, b in itertools.pairwise(words) if a.isalpha() and b.isalpha()
                        and a not in STOP and b not in STOP and len(a) > 2 and len(b) > 2})
    n = len(papers)
    share = {key: df[key] / n for key in surface}
    vocabulary = {
        "broad": sorted(surface[k] for k, s in share.items() if 0.05 <= s <= 0.40),
        "medium": sorted(surface[k] for k, s in share.items() if 0.005 <= s < 0.05),
        "rare": sorted(surface[k] for k, s in share.items() if s < 0.005),
        "phrase": sorted(p for p, c in bigrams.items() if 3 <= c <= 100),
        "prefix": sorted(p for p, c in prefix_df.items() if 10 <= c <= 100),
        "author": sorted({a.split()[-1].lower() for p in papers for a in p.authors}),
        "category": sorted({c for p in papers for c in p.categories}),
    }
    return papers, vocabulary


def _query(kind: str, v: dict[str, list[str]], rng: random.Random) -> str:
    def specific() -> str:
        return rng.choice(v["medium"] if rng.random() < 0.6 else v["rare"])

    # half the broad picks are named research topics (llm 35 % of papers, reasoning 12.5 %, diffusion 4 %)
    broad = rng.choice(TOPICS if rng.random() < 0.5 else v["broad"])
    if kind == "broad":
        return rng.choice([broad, f"{broad} OR {rng.choice(v['broad'])}", f"{broad} cat:{rng.choice(v['category'])}",
                           f"{broad} -{specific()}", f"ti:{broad}", f"{broad} {rng.choice(v['broad'])}"])
    if kind == "term":
        return specific()
    if kind == "and":
        words = [specific() for _ in range(rng.randrange(2, 4))]
        if rng.random() < 0.3:
            words[0] = broad
        return " ".join(words)
    if kind == "phrase":
        return f'"{rng.choice(v["phrase"])}"'
    if kind == "or":
        return " OR ".join(specific() for _ in range(rng.randrange(2, 4)))
    if kind == "field":
        return rng.choice([f"ti:{specific()}", f'abs:"{rng.choice(v["phrase"])}"', f"au:{rng.choice(v['author'])}"])
    if kind == "not":
        return f"{specific()} -{rng.choice(v['broad'] + v['medium'])}"
    if kind == "wildcard":
        return f"{rng.choice(v['prefix'])}*"
    return f"cat:{rng.choice(v['category'])} {specific()}"


@lru_cache(maxsize=2)
def workload(size: int, seed: int) -> tuple[list[PaperDoc], list[str], list[int], list[str]]:
    """(papers, distinct query texts, subscriber index per query, class per query)."""
    papers, vocabulary = papers_and_vocabulary(seed)
    rng = random.Random(seed * 7919 + size)
    seen: set[str] = set()
    texts, labels = [], []
    while len(texts) < size:
        kind = rng.choices(CLASSES, MIX)[0]
        for _ in range(20):
            text = _query(kind, vocabulary, rng)
            if text not in seen:
                seen.add(text)
                texts.append(text)
                labels.append(kind)
                break
    subscribers = max(1, size // 3)
    owners = [rng.randrange(subscribers) for _ in range(size)]
    return papers, texts, owners, labels


def build_database(url: str, size: int, seed: int) -> None:
    """A fresh schema holding the workload: subscribers, subscriptions (ids 1..N in order), papers."""
    from sqlalchemy import insert, text
    from sqlmodel import SQLModel

    from storage.db import Database
    from storage.models import Paper, Subscriber, Subscription

    papers, texts, owners, _labels = workload(size, seed)
    db = Database(url)
    if db.is_postgres:
        with db.engine.begin() as connection:
            connection.execute(text("CREATE SCHEMA IF NOT EXISTS bench"))
    SQLModel.metadata.drop_all(db.engine)
    SQLModel.metadata.create_all(db.engine)
    subscribers = max(owners) + 1
    with db.engine.begin() as connection:
        connection.execute(insert(Subscriber), [  # type: ignore[arg-type]
            {"id": i + 1, "kind": "email", "address": f"s{i}@bench.test"} for i in range(subscribers)])
        for start in range(0, size, 50000):
            connection.execute(insert(Subscription), [  # type: ignore[arg-type]
                {"id": i + 1, "subscriber_id": owners[i] + 1, "query": texts[i]}
                for i in range(start, min(size, start + 50000))])
        rows: list[dict[str, Any]] = [
            {"canonical_id": f"bench.{i:05d}", "title": p.title, "abstract": p.abstract, "authors": list(p.authors),
             "categories": list(p.categories), "extras": {}, "sources": []} for i, p in enumerate(papers)]
        connection.execute(insert(Paper), rows)  # type: ignore[arg-type]
        if db.is_postgres:
            for table in ("subscribers", "subscriptions", "papers"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
            connection.execute(text("ANALYZE"))
    db.dispose()
