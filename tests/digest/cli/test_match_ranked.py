"""`paperbell match --papers` through the real entry point: ranked as in a digest, says how many it left out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.digest.runtime.procs import REPO


def test_match_ranks_like_a_digest_and_counts_what_it_leaves_out(tmp_path: Path) -> None:
    papers = tmp_path / "papers.jsonl"
    records = [
        {"id": "abstract-only", "title": "A study", "abstract": "We use a sparse autoencoder here."},
        {"id": "title-hit", "title": "Sparse autoencoders at scale", "abstract": "Sparse autoencoder features."},
        {"id": "none", "title": "Other", "abstract": "Nothing relevant."},
    ]
    papers.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    base = [sys.executable, "-m", "digest.cli.main", "match", "-q", "sparse", "--papers", str(papers)]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PAPERBELL_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([*base, "--limit", "1"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("title-hit  ")  # the title hit outranks the earlier abstract-only match
    assert lines[-1] == "2 matching papers, ranked as in a digest; showing the top 1, 1 left out (--limit 2 shows all)"
    all_rows = subprocess.run([*base, "--json"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert [row["id"] for row in json.loads(all_rows.stdout)] == ["title-hit", "abstract-only"]
