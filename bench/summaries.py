"""Benchmark: extractive TL;DRs of the seed corpus vs. a lead-sentences baseline (same process).

Run: `.venv/bin/python bench/summaries.py [PATH]` (default: ../shared/corpus/seed_papers.jsonl, else the
copy bundled in digest/data). Prints ONE JSON line: the share of summaries that contain a contribution
or result cue (the summarizer's own cue set, and a strict one: "we propose/introduce/present/show/
demonstrate/find", "outperform", a percentage or ×-factor), the same shares for the baseline (the
leading sentences of the abstract up to 300 characters), lengths and time per paper.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from digest.summaries.extractive import extractive_summary, has_contribution_cue, split_sentences

ROOT = Path(__file__).resolve().parents[1]
STRICT = re.compile(
    r"\bwe (?:\w+ )?(?:propose|introduce|present|show|demonstrate|find)\w*|\boutperform\w*"
    r"|\d(?:[\d.,]*\d)?\s*(?:%|×|x\b|times\b|fold\b)",
    re.IGNORECASE,
)


def lead(abstract: str, limit: int = 300) -> str:
    """The baseline: whole leading sentences while they fit."""
    out = ""
    for sentence in split_sentences(abstract):
        if len(out) + len(sentence) + 1 > limit:
            break
        out = f"{out} {sentence}".strip()
    return out


def main() -> None:
    default = ROOT.parent / "shared" / "corpus" / "seed_papers.jsonl"
    bundled = ROOT / "digest" / "data" / "seed_papers.jsonl"
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else (default if default.exists() else bundled)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    started = time.perf_counter()
    ours = [extractive_summary(r["abstract"]) for r in rows]
    elapsed = time.perf_counter() - started
    base = [lead(r["abstract"]) for r in rows]
    n = len(rows)
    print(json.dumps({
        "bench": "summaries",
        "papers": n,
        "cue_share": round(sum(map(has_contribution_cue, ours)) / n, 3),
        "strict_cue_share": round(sum(bool(STRICT.search(s)) for s in ours) / n, 3),
        "baseline": "lead sentences up to 300 chars",
        "baseline_cue_share": round(sum(map(has_contribution_cue, base)) / n, 3),
        "baseline_strict_cue_share": round(sum(bool(STRICT.search(s)) for s in base) / n, 3),
        "mean_chars": round(sum(map(len, ours)) / n, 1),
        "max_chars": max(map(len, ours)),
        "ms_per_paper": round(elapsed / n * 1000, 3),
    }))


if __name__ == "__main__":
    main()
