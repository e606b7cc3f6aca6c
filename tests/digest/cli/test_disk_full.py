"""A full disk under a real SQLite database (a small tmpfs mounted for the test): one line, exit 1, nothing lost.

Each command that writes (`ingest`, `run --once`) fails with `FAILED <stage>: <reason>` lines and no
traceback; once space is freed the same command stores everything. The tmpfs needs root (as in CI);
elsewhere the test is skipped with the reason. The "no slot used after a failed match" promise is
tested on both databases in tests/digest/runtime/test_failed_match_slots.py.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import data_path
from tests.digest.runtime.procs import REPO, service_env


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the disk-full test needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill(disk: Path) -> Path:
    """Write a filler file until the disk refuses (ENOSPC); returns it (delete it to free the space)."""
    filler = disk / "filler"
    with filler.open("wb") as handle:
        try:
            for _ in range(10_000):  # 6 MB in 64 KB writes is ~100; the bound is a safety net
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def paperbell(env: dict[str, str], *args: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "digest.cli.main", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


def test_disk_full_is_one_line_and_exit_1_then_everything_is_stored(small_disk: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{small_disk / 'paperbell.db'}"
    upgrade(url)
    seed = data_path("corpus/seed_papers.jsonl")
    env = service_env(url, tmp_path / "data", PAPERBELL_SOURCES=f"file:{seed}", PAPERBELL_LOG_LEVEL="WARNING")
    filler = fill(small_disk)
    for args, stage in ((["ingest", f"file:{seed}"], "ingest"), (["run", "--once"], "")):
        code, output = paperbell(env, *args)
        assert code == 1, output
        assert "Traceback" not in output, output
        # one line: the stage that failed, or (when the database cannot even be opened) the setting to check
        failed = [line for line in output.splitlines() if line.startswith(("FAILED", "error:"))]
        assert failed and all("full" in line or "disk" in line or "I/O" in line for line in failed), output
        assert failed[0].startswith((f"FAILED {stage or 'run'}: ", "error: cannot use the database")), output
    filler.unlink()
    code, output = paperbell(env, "ingest", f"file:{seed}")
    assert code == 0, output
    db = Database(url)
    with db.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT count(*) FROM papers").scalar()
    db.dispose()
    expected = sum(1 for line in seed.read_text().splitlines() if line.strip())
    assert stored == expected
