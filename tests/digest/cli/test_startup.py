"""Everyday commands start without the heavy libraries: they are imported only where they are used.

Each command runs in its own interpreter through the installed `paperbell` console-script entry point,
on a temporary SQLite database whose schema is current; the interpreter then reports which of the
heavy packages it loaded. `--help` is covered too (tests/digest/cli/test_help.py keeps it free of
the engine altogether).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# what an everyday command must not load: the learner, the LaTeX and BibTeX readers, the Discord and
# chat clients, DKIM signing and its crypto, and the migration tool when the schema is already current
HEAVY = ("sklearn", "scipy", "numpy", "pylatexenc", "bibtexparser", "discord", "telegram", "nio", "slack_sdk", "dkim",
         "cryptography", "alembic", "apscheduler", "css_inline", "aiosmtplib", "feedparser")
COMMANDS = {
    "help": ["--help"],
    "status": ["status"],
    "subscriptions list": ["subscriptions", "list"],
    "config show": ["config", "show"],
}
# run the installed console script's entry point; at exit, write the top-level packages it loaded
WRAPPER = """
import atexit, json, os, sys
from importlib.metadata import entry_points

def report():
    with open(os.environ["STARTUP_REPORT"], "w") as out:
        json.dump(sorted({name.split(".")[0] for name in sys.modules}), out)

atexit.register(report)
(script,) = entry_points(group="console_scripts", name="paperbell")
sys.argv = ["paperbell", *sys.argv[1:]]
sys.exit(script.load()())
"""


def _paperbell(args: list[str], data_dir: Path, report: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBELL_")}  # SQLite, not the suite's DB
    env.update(PAPERBELL_DATA_DIR=str(data_dir), STARTUP_REPORT=str(report), COLUMNS="120")
    return subprocess.run([sys.executable, "-c", WRAPPER, *args], cwd=data_dir, env=env, text=True,
                          capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with its schema made and one subscriber with a subscription (so `list` prints rows)."""
    data = tmp_path_factory.mktemp("startup")
    for args in (["subscribers", "add", "reader@example.org"],
                 ["subscriptions", "add", "reader@example.org", '"sparse autoencoder" OR interpretab*']):
        done = _paperbell(args, data, data / "seed.json")
        assert done.returncode == 0, done.stderr
    return data


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_loads_no_heavy_library(name: str, data_dir: Path, tmp_path: Path) -> None:
    report = tmp_path / "modules.json"
    done = _paperbell(COMMANDS[name], data_dir, report)
    assert done.returncode in ((0, 1) if name == "status" else (0,)), done.stderr  # status: 1 = needs attention
    assert "Traceback" not in done.stderr, done.stderr
    if name == "subscriptions list":
        assert "sparse autoencoder" in done.stdout, done.stdout  # the command really read the database
    loaded = set(json.loads(report.read_text()))
    assert "digest" in loaded, sorted(loaded)
    assert not loaded & set(HEAVY), f"{name} loaded {sorted(loaded & set(HEAVY))}"


def test_wrapper_sees_what_a_command_loads(data_dir: Path, tmp_path: Path) -> None:
    """The probe can fail: `subscriptions add` parses and previews its query, which loads numpy."""
    report = tmp_path / "modules.json"
    done = _paperbell(["subscriptions", "add", "reader@example.org", "cat:cs.CL AND reasoning"], data_dir, report)
    assert done.returncode == 0, done.stderr
    assert "numpy" in json.loads(report.read_text())

