"""The README stays short and true: the quick start's two commands, links that lead somewhere, the screenshots."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_quick_start_is_two_commands() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.+?)\n```", quick_start, flags=re.S)
    venv = "python3 -m venv .venv && .venv/bin/pip install -q -c constraints.txt -e "
    assert commands == [venv + ". && .venv/bin/paperbell demo", venv + '".[test,postgres]" && .venv/bin/pytest']


def test_readme_is_short() -> None:
    assert len(README.splitlines()) <= 150


def test_every_relative_link_and_image_exists() -> None:
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    assert local and [t for t in local if not (ROOT / t).exists()] == []
    assert "docs/assets/screenshots/digest-1200.png" in local and "docs/assets/screenshots/front-day-1200.png" in local


def test_readme_commands_use_the_venv_the_quick_start_creates() -> None:
    blocks = re.findall(r"```bash\n(.+?)\n```", README, flags=re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    assert [line for line in lines if re.match(r"\s*(pip|paperbell|pytest|mkdocs) ", line)] == []
