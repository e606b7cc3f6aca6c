"""The learned ranking on real arXiv listings: simulated readers, three weeks of votes, ten days scored.

Data: `../shared/corpus/arxiv_2026` (31 real announcement days of cs.LG, cs.CV, cs.CL, cs.AI and
neighbours, plus the Hugging Face Daily Papers of those days). Each simulated reader subscribes
broadly (`cat:cs.LG` or `llm OR "language model"`, matched by paperbell's own query matcher) but
truly wants something no query word says:

* `cross`: papers also listed in another field (cs.RO, stat.ML, cs.CR, cs.SE, ...);
* `benchmark`: papers evaluated on one benchmark family (LIBERO, SWE-bench, GSM8K/MATH, ...);
* `authors`: papers from a co-author community (a prolific author and everyone who wrote with them);
* `hf`: the papers Hugging Face Daily Papers picked.

The reader skims each of the first 15 listing days' digests (today's order, top to bottom) and votes
as people do: most papers unvoted, a wanted paper 👍 with probability `P_UP`, an unwanted one 👎 with
probability `P_DOWN`. After their first k votes (k = 5, 10, 20, 50) each of the next 10 days' digests
is ranked and scored (P@10, nDCG@10), averaged over days, then readers. Orders compared in the same
run: `learned` (paperbell), `svm` (what a reader could run themselves: arxiv-sanity-lite's per-user
TF-IDF of words and word pairs + `LinearSVC(C=0.01, class_weight="balanced")`, 👍 as positives and
every other paper of their digests as negatives), `today` (no votes) and `ideal` (wanted papers first).
Votes are drawn independently of any learner, so every order learns from the same votes.
"""

from __future__ import annotations

import json
import math
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digest.core.ranking import RankInput, rank_items
from digest.query import PaperDoc, analyze_doc, match_query, parse_query

ROOT = Path(__file__).resolve().parents[1]
LISTINGS = ROOT.parent / "shared" / "corpus" / "arxiv_2026"
TRAIN_DAYS, TEST_DAYS = 15, 10  # three weeks of listing days, then two weeks scored
P_UP, P_DOWN = 0.3, 0.01  # chance a skimming reader votes on a wanted / an unwanted paper
KS = (5, 10, 20, 50)
AT = 10
SUBSCRIPTIONS = ("cat:cs.LG", 'llm OR "language model"')
CROSS = {"cat:cs.LG": ("cs.RO", "stat.ML", "cs.CR", "eess.SP", "math.OC"),
         'llm OR "language model"': ("cs.SE", "cs.HC", "cs.CR", "cs.CY", "cs.IR")}
BENCHMARKS = {
    "LIBERO": r"\bLIBERO\b", "SWE-bench": r"\bSWE-?bench", "GSM8K/MATH": r"\bGSM-?8K\b|\bMATH-?500\b|\bAIME\b",
    "ImageNet": r"\bImageNet\b", "MuJoCo/D4RL": r"\bMuJoCo\b|\bD4RL\b|\bAtari\b",
    "HumanEval/MBPP": r"\bHumanEval\b|\bMBPP\b|\bLiveCodeBench\b", "MMLU": r"\bMMLU\b",
    "WebArena/OSWorld": r"\bWebArena\b|\bOSWorld\b|\bAndroidWorld\b",
}
COMMUNITIES = 3  # per subscription
MIN_TRAIN, MIN_TEST = 3, 5  # wanted papers a reader needs in the training window and the scored days


@dataclass
class Listings:
    """The corpus as the bench needs it: papers in order, their days, HF facts by paper."""

    records: list[dict[str, Any]]
    days: list[str]  # listing days in order (train days, then test days)
    upvotes: dict[int, int]  # paper → HF upvotes, for papers HF had picked by their listing day
    code: set[int]  # papers with a code link (HF's githubRepo, or a GitHub URL in the abstract)
    hf_picked: set[int]  # every paper HF Daily Papers picked (any day)


@dataclass
class Reader:
    subscription: str
    kind: str  # cross | benchmark | authors | hf
    name: str
    wanted: set[int]


@dataclass
class Digests:
    """One subscription's digest per day, in today's order (paper indexes)."""

    by_day: dict[str, list[int]]
    facts: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # title hits, abstract hits, clauses


def load(path: Path = LISTINGS) -> Listings:
    with (path / "papers.jsonl").open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    days = sorted({r["date"] for r in records})[: TRAIN_DAYS + TEST_DAYS]
    records = [r for r in records if r["date"] in set(days)]
    index = {r["id"]: n for n, r in enumerate(records)}
    upvotes: dict[int, int] = {}
    code = {n for n, r in enumerate(records) if re.search(r"github\.com/", r["abstract"], re.I)}
    picked: set[int] = set()
    following = dict(zip(days, [*days[1:], "9999-12-31"], strict=True))
    for file in sorted((path / "hf").glob("daily_papers_*.json")):
        day = file.stem.rsplit("_", 1)[-1]
        for entry in json.loads(file.read_text(encoding="utf-8")):
            paper = entry.get("paper", {})
            n = index.get(str(paper.get("id")))
            if n is None:
                continue
            picked.add(n)
            if day < following[records[n]["date"]]:  # picked by the morning of its listing day: known to the digest
                upvotes[n] = max(upvotes.get(n, 0), int(paper.get("upvotes") or 0))
                if paper.get("githubRepo"):
                    code.add(n)
    return Listings(records, days, upvotes, code, picked)


def analysed(data: Listings) -> list[Any]:
    """Every paper analysed once by the matcher (shared by the subscriptions)."""
    return [analyze_doc(PaperDoc(id=r["id"], title=r["title"], abstract=r["abstract"], authors=r["authors"],
                                 categories=r["categories"])) for r in data.records]


def digests(data: Listings, subscription: str, docs: Sequence[Any]) -> Digests:
    """The subscription's matches per day in today's order (paperbell's matcher and digest.core.ranking)."""
    query = parse_query(subscription)
    inputs: dict[str, list[RankInput[int]]] = defaultdict(list)
    facts = {}
    for n, r in enumerate(data.records):
        found = match_query(query, docs[n])
        if found is None:
            continue
        facts[n] = (found.title_hits, found.abstract_hits, len(found.clauses))
        published = datetime.fromisoformat(r["date"]).replace(tzinfo=UTC)
        inputs[r["date"]].append(RankInput(key=n, title_hits=found.title_hits, abstract_hits=found.abstract_hits,
                                           distinct_clauses=len(found.clauses), published=published,
                                           upvotes=data.upvotes.get(n), item=n))
    by_day = {}
    for day, items in inputs.items():
        now = datetime.fromisoformat(day).replace(tzinfo=UTC, hour=8)
        by_day[day] = [int(e.item) for e in rank_items(items, now) if e.item is not None]
    return Digests(by_day, facts)


def _communities(data: Listings, matched: set[int], taken: set[str]) -> list[tuple[str, set[str]]]:
    """Prolific authors of the subscription's papers, each with everyone who wrote with them."""
    counts = Counter(a for n in matched for a in data.records[n]["authors"])
    out: list[tuple[str, set[str]]] = []
    for author, _ in counts.most_common(50):
        if author in taken:
            continue
        papers = [data.records[n]["authors"] for n in matched if author in data.records[n]["authors"]]
        group = {author} | {a for names in papers for a in names}
        out.append((author, group))
        taken |= group
        if len(out) == COMMUNITIES * 3:
            break
    return out


def readers(data: Listings, subs: dict[str, Digests]) -> list[Reader]:
    """Every interest of every kind that has enough wanted papers on both sides of the split."""
    train, test = set(data.days[:TRAIN_DAYS]), set(data.days[TRAIN_DAYS:])
    found: list[Reader] = []
    for subscription, digest in subs.items():
        matched = {n for papers in digest.by_day.values() for n in papers}
        candidates: list[tuple[str, str, Callable[[int], bool]]] = []
        for category in CROSS[subscription]:
            candidates.append(("cross", f"also in {category}",
                               lambda n, c=category: c in data.records[n]["categories"]))
        for name, pattern in BENCHMARKS.items():
            rx = re.compile(pattern)
            candidates.append(("benchmark", name, lambda n, rx=rx: bool(
                rx.search(data.records[n]["title"] + " " + data.records[n]["abstract"]))))
        for author, group in _communities(data, matched, set()):
            candidates.append(("authors", f"co-authors of {author}",
                               lambda n, g=group: bool(g & set(data.records[n]["authors"]))))
        candidates.append(("hf", "Hugging Face picks", lambda n: n in data.hf_picked))
        per_kind: Counter[str] = Counter()
        for kind, name, wants in candidates:
            wanted = {n for n in matched if wants(n)}
            enough = (sum(data.records[n]["date"] in train for n in wanted) >= MIN_TRAIN
                      and sum(data.records[n]["date"] in test for n in wanted) >= MIN_TEST)
            if enough and (kind != "authors" or per_kind[kind] < COMMUNITIES):
                per_kind[kind] += 1
                found.append(Reader(subscription, kind, name, wanted))
    return found


def vote_stream(data: Listings, digest: Digests, reader: Reader, rng: random.Random) -> list[tuple[int, int]]:
    """(paper, ±1) in the order a skimming reader casts them over the training days."""
    stream = []
    for day in data.days[:TRAIN_DAYS]:
        for n in digest.by_day.get(day, []):
            if n in reader.wanted and rng.random() < P_UP:
                stream.append((n, 1))
            elif n not in reader.wanted and rng.random() < P_DOWN:
                stream.append((n, -1))
    return stream


def precision_ndcg(order: Sequence[int], wanted: set[int]) -> tuple[float, float]:
    gains = [1.0 if p in wanted else 0.0 for p in order[:AT]]
    dcg = sum(g / math.log2(n + 2) for n, g in enumerate(gains))
    ideal = sum(1.0 / math.log2(n + 2) for n in range(min(AT, len(wanted))))
    return sum(gains) / AT, (dcg / ideal if ideal else 0.0)


def ideal_order(candidates: Sequence[int], wanted: set[int]) -> list[int]:
    return sorted(candidates, key=lambda n: n not in wanted)


Ranker = Callable[[Reader, dict[int, int], str, list[int]], list[int]]
"""(reader, votes, day, today's order) → the day's order."""


def evaluate(data: Listings, subs: dict[str, Digests], cast: list[Reader], rankers: dict[str, Ranker],
             seed: int, timings: list[tuple[float, float]] | None = None) -> dict[str, Any]:
    """One run: per k and ranker, P@10 and nDCG@10 averaged over test days, then readers."""
    scores: dict[tuple[int, str], list[tuple[float, float]]] = defaultdict(list)
    per_kind: dict[tuple[int, str, str], list[float]] = defaultdict(list)
    wins: Counter[int] = Counter()
    positives: dict[int, list[int]] = defaultdict(list)
    for number, reader in enumerate(cast):
        digest = subs[reader.subscription]
        stream = vote_stream(data, digest, reader, random.Random(f"{seed}-{number}"))
        for k in KS:
            votes = dict(stream[:k])
            positives[k].append(sum(v > 0 for v in votes.values()))
            for name, ranker in {"today": None, "ideal": None, **rankers}.items():
                days = []
                for day in data.days[TRAIN_DAYS:]:
                    today = [n for n in digest.by_day.get(day, []) if n not in votes]
                    if not today:
                        continue
                    if name == "today":
                        order = today
                    elif name == "ideal":
                        order = ideal_order(today, reader.wanted)
                    else:
                        started, cpu = time.perf_counter(), time.process_time()
                        order = ranker(reader, votes, day, today)  # type: ignore[misc]
                        if timings is not None and name == "learned":
                            timings.append(((time.perf_counter() - started) * 1000,
                                            (time.process_time() - cpu) * 1000))
                    days.append(precision_ndcg(order, reader.wanted & set(today)))
                p = statistics.fmean(d[0] for d in days)
                n = statistics.fmean(d[1] for d in days)
                scores[(k, name)].append((p, n))
                per_kind[(k, name, reader.kind)].append(p)
            if "learned" in rankers and scores[(k, "learned")][-1][0] > scores[(k, "today")][-1][0]:
                wins[k] += 1
    table = {f"k{k}_{name}": {"p@10": statistics.fmean(v[0] for v in values),
                              "ndcg@10": statistics.fmean(v[1] for v in values)}
             for (k, name), values in scores.items()}
    kinds = {f"k{k}_{name}_{kind}": statistics.fmean(v) for (k, name, kind), v in per_kind.items()}
    return {"table": table, "kinds": kinds, "wins": dict(wins),
            "readers_without_a_like": {k: sum(1 for p in v if not p) for k, v in positives.items()}}
