"""`paperbell demo` end to end in a temporary directory, as a real subprocess of the console script."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from digest.settings import Settings


def run_demo(settings: Settings, cwd: Path, columns: str = "200") -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBELL_")}
    env.update(
        PAPERBELL_DATA_DIR=str(settings.data_dir),
        PAPERBELL_DATABASE_URL=settings.resolved_database_url(),
        COLUMNS=columns,
    )
    script = shutil.which("paperbell")
    command = [script, "demo"] if script else [sys.executable, "-m", "digest.cli.main", "demo"]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_demo_runs_the_whole_cycle_and_is_idempotent(settings: Settings, tmp_path: Path) -> None:
    first = run_demo(settings, tmp_path, columns="80")
    assert "paperbell demo" in first and "subscriber" in first
    lines = first.splitlines()
    outbox_dir = str(settings.resolved_outbox_dir())
    # whatever the width: the outbox paths whole on their own lines, then the next commands, at the end
    assert f"{outbox_dir}/email" in lines and f"{outbox_dir}/discord" in lines
    assert lines[-5:] == ["Next, try:", "  paperbell run    (then open http://127.0.0.1:8080: the day's papers; "
                          "subscribe with only an e-mail)",
                          '  paperbell match -q "diffusion OR ti:video" --days 30', "  paperbell status",
                          "  paperbell run --once"]
    assert "…" not in first
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

    for mail in mails:  # every paper of the sample digests has a link, a labelled date, no internal id
        text = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
        body = text.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        papers = body.split("\n* ")[1:]
        assert papers and all("Abstract: https://arxiv.org/abs/" in paper for paper in papers)
        assert all(" · published " in paper.splitlines()[1] or "published" in paper.splitlines()[1]
                   for paper in papers)
        assert "hash:" not in body and "\n  · " not in body
    for post in posts:
        for embed in json.loads(post.read_text())["message"].get("embeds", []):
            assert "hash:" not in embed["footer"]["text"] and embed.get("url", "").startswith("https://")

    second = run_demo(settings, tmp_path)
    assert "new papers: 0" in second and "new deliveries: 0" in second
    assert sorted((outbox / "email").glob("*.eml")) == mails
    assert sorted((outbox / "discord").glob("*.json")) == posts


def test_demo_names_the_command_as_it_was_run_when_not_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from digest.cli import demo_cmd

    monkeypatch.setattr(demo_cmd.sys, "argv", [".venv/bin/paperbell", "demo"])
    monkeypatch.setenv("PATH", "/nonexistent")
    assert demo_cmd.command_name() == ".venv/bin/paperbell"
    monkeypatch.setattr(demo_cmd.sys, "argv", ["/usr/lib/python3/digest/cli/main.py", "demo"])
    assert demo_cmd.command_name() == "paperbell"
