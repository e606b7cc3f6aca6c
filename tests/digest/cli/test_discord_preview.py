"""Without a bot token Discord deliveries stay pending; `paperbell discord preview` shows them (real entry point)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from digest.services import subscribers as service
from digest.settings import Settings
from storage.db import Database
from tests.conftest import data_path
from tests.digest.runtime.procs import REPO, ledger, service_env

CHANNEL = "123456789012345678"


def paperbell(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "digest.cli.main", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_no_token_leaves_discord_pending_and_preview_renders_it(
    db: Database, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    channel = service.add_subscriber(db, settings, "discord_channel", CHANNEL, display_name="papers")
    service.add_subscription(db, settings, channel.id or 0, "transformer")
    seed = data_path("corpus/seed_papers.jsonl")
    env = service_env(database_url, tmp_path / "data", PAPERBELL_SOURCES=f"file:{seed}")
    once = paperbell(env, "run", "--once")
    assert once.returncode == 0, once.stderr[-2000:]
    assert "PAPERBELL_DISCORD_TOKEN" in once.stdout + once.stderr  # the report says why nothing was posted
    counts = ledger(db)
    assert counts.get("sent", 0) == 0 and counts.get("pending", 0) > 0  # nothing marked sent without a bot
    out = tmp_path / "preview.html"
    shown = paperbell(env, "discord", "preview", "--out", str(out))
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert f"wrote {out}" in shown.stdout and "nothing was posted" in shown.stdout
    page = out.read_text(encoding="utf-8")
    assert "#papers (123456789012345678)" in page and 'class="embed"' in page and "<script" not in page
    assert ledger(db) == counts  # previewing claims and sends nothing
