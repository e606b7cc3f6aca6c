"""`--help` of every command names what options take, never Python types (`--json <bool>` read as taking a value)."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest

from digest.cli.main import build_command
from tests.digest.runtime.procs import REPO

TYPE_LABEL = re.compile(r"<(bool|str|int|float|list\[[^\]]*\]|path|datetime)>")


def _paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += _paths(sub, (*prefix, name))
    return found


COMMAND = build_command()


@pytest.mark.parametrize("path", _paths(COMMAND), ids=lambda p: " ".join(p) or "paperbell")
def test_help_has_no_type_labels(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        COMMAND.main([*path, "--help"], prog_name="paperbell")
    output = capsys.readouterr().out
    assert exited.value.code == 0 and "Usage: paperbell" in output, output
    assert not TYPE_LABEL.search(output), output


def test_real_entry_point_help_shows_flags_bare_and_values_named() -> None:
    done = subprocess.run([sys.executable, "-m", "digest.cli.main", "ingest", "--help"], cwd=REPO, text=True,
                          capture_output=True, timeout=60, env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert re.search(r"^\s+--json\s+Print", done.stdout, re.M) and "--since SINCE" in done.stdout
    assert "<" not in done.stdout


def test_help_imports_no_engine() -> None:
    """`paperbell --help` starts fast: no database layer, DKIM or scikit-learn is imported for it."""
    heavy = ["sqlalchemy", "sqlmodel", "dkim", "sklearn", "numpy", "discord", "jinja2", "httpx"]
    probe = ("import sys; from digest.cli.main import build_command; build_command(); "
             f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
