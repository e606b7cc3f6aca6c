"""Every local read is bounded while reading: FIFOs, devices and symlinks to them refused at once, sizes counted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from digest.bounded import BoundedReadError, read_bounded
from tests.digest.runtime.procs import REPO, service_env


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "feed.fifo"
    os.mkfifo(path)
    return path


def _link(tmp_path: Path, target: Path, name: str = "library.bib") -> Path:
    link = tmp_path / name
    link.symlink_to(target)
    return link


@pytest.mark.parametrize(("make", "reason"), [
    (lambda tmp: Path("/dev/zero"), "a character device"),
    (_fifo, "a FIFO"),
    (lambda tmp: _link(tmp, Path("/dev/zero")), "a character device"),
    (lambda tmp: _link(tmp, _fifo(tmp), "feed.json"), "a FIFO"),
    (lambda tmp: tmp, "a directory"),
    (lambda tmp: tmp / "missing.json", "No such file"),
])
def test_non_regular_files_are_refused_with_one_line(tmp_path: Path, make: object, reason: str) -> None:
    with pytest.raises(BoundedReadError) as refused:
        read_bounded(make(tmp_path), 1000)  # type: ignore[operator]
    assert reason in str(refused.value) and "\n" not in str(refused.value)


@hypothesis_settings(max_examples=30, deadline=None)
@given(size=st.integers(0, 5000), limit=st.integers(0, 5000))
def test_the_limit_is_counted_not_trusted(tmp_path_factory: pytest.TempPathFactory, size: int, limit: int) -> None:
    path = tmp_path_factory.mktemp("bounded") / "f.json"
    path.write_bytes(b"x" * size)
    if size <= limit:
        assert read_bounded(path, limit) == b"x" * size
    else:
        with pytest.raises(BoundedReadError, match="larger than"):
            read_bounded(path, limit)


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_ingest_of_a_device_or_fifo_fails_at_once_with_one_line(database_url: str, tmp_path: Path,
                                                               target: str) -> None:
    path = str(_fifo(tmp_path)) if target == "fifo" else target
    env = service_env(database_url, tmp_path / "data")
    done = subprocess.run([sys.executable, "-m", "digest.cli.main", "ingest", f"file:{path}"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "not a regular file" in output and "Traceback" not in output, output
