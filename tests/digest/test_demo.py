"""`paperbell demo` end to end in a temporary directory, as a real subprocess of the console script."""

from __future__ import annotations

import email
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from digest.settings import Settings


def run_demo(settings: Settings, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBELL_")}
    env.update(
        PAPERBELL_DATA_DIR=str(settings.data_dir),
        PAPERBELL_DATABASE_URL=settings.resolved_database_url(),
        COLUMNS="200",
    )
    script = shutil.which("paperbell")
    command = [script, "demo"] if script else [sys.executable, "-m", "digest.cli.main", "demo"]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_demo_runs_the_whole_cycle_and_is_idempotent(settings: Settings, tmp_path: Path) -> None:
    first = run_demo(settings, tmp_path)
    assert "paperbell demo" in first and "subscriber" in first
    new_papers = int(re.search(r"new papers: (\d+)", first).group(1))  # type: ignore[union-attr]
    new_deliveries = int(re.search(r"new deliveries: (\d+)", first).group(1))  # type: ignore[union-attr]
    assert new_papers > 400 and new_deliveries > 0

    outbox = settings.resolved_outbox_dir()
    mails = sorted((outbox / "email").glob("*.eml"))
    assert mails and sorted((outbox / "email").glob("*.html"))
    message = email.message_from_bytes(mails[0].read_bytes())
    assert message["To"] and message["Subject"] and message.is_multipart()
    posts = sorted((outbox / "discord").glob("*.json"))
    assert posts and json.loads(posts[0].read_text())

    second = run_demo(settings, tmp_path)
    assert "new papers: 0" in second and "new deliveries: 0" in second
    assert sorted((outbox / "email").glob("*.eml")) == mails
    assert sorted((outbox / "discord").glob("*.json")) == posts
