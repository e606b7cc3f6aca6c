"""The README stays true to the code: every setting documented (README or docs/), the quick start's commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from digest.cli.main import app
from digest.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = "\n".join(page.read_text(encoding="utf-8") for page in sorted((ROOT / "docs").rglob("*.md")))


DOCS = "\n".join(page.read_text(encoding="utf-8")
                 for page in sorted((Path(__file__).resolve().parents[1] / "docs").rglob("*.md")))


def test_every_setting_is_documented() -> None:
    """In the README or on a page of the docs site (which the README is moving to)."""
    variables = [f"PAPERBELL_{name.upper()}" for name in Settings.model_fields]
    assert [variable for variable in variables if variable not in README and variable not in DOCS] == []


def test_quick_start_is_two_commands() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.+?)\n```", quick_start, flags=re.S)
    venv = "python3 -m venv .venv && .venv/bin/pip install -q -c constraints.txt -e "
    assert commands == [venv + ". && .venv/bin/paperbell demo", venv + '".[test,postgres]" && .venv/bin/pytest']


def test_every_top_level_command_is_in_the_readme() -> None:
    names = [group.name for group in app.registered_groups] + [
        command.name or (command.callback.__name__ if command.callback else "") for command in app.registered_commands
    ]
    assert names and all(f"paperbell {name}" in README for name in names)
