"""A full disk under a real database (a small tmpfs mounted for the test): one line, exit 1, nothing lost.

SQLite keeps its file on the tmpfs; PostgreSQL (a private cluster, as the restart tests start) keeps
the database in a tablespace on it. Each command that writes (`ingest`, `run --once`) fails with
`FAILED <stage>: <reason>` lines and no traceback; once space is freed the same command stores
everything. The tmpfs needs root (as in CI); elsewhere the test is skipped with the reason. The "no
slot used after a failed match" promise is tested on both databases in tests/digest/runtime/test_failed_match_slots.py.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import data_path
from tests.digest.runtime.procs import REPO, service_env


@contextmanager
def small_disk(where: Path) -> Iterator[Path]:
    """A 6 MB tmpfs mounted at `where` (root only; the test is skipped with the reason elsewhere)."""
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the disk-full test needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


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


@pytest.fixture(params=["sqlite", "postgresql"])
def on_small_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(database URL, the small disk its data lives on): a SQLite file, or a PostgreSQL tablespace."""
    if request.param == "sqlite":
        with small_disk(tmp_path / "disk") as disk:
            yield f"sqlite:///{disk / 'paperbell.db'}", disk
        return
    from tests.digest.runtime.pg_cluster import PrivateCluster

    cluster = PrivateCluster()
    try:
        cluster.start()
        # under the cluster's own folder: the server's OS user must reach the tablespace's directory
        with small_disk(cluster.root / "disk") as disk:
            yield _tablespace_database(cluster.port, disk), disk
    finally:
        cluster.stop()


def _tablespace_database(port: int, disk: Path) -> str:
    import pwd

    from sqlalchemy import create_engine, text

    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(disk, user.pw_uid, user.pw_gid)
    admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE TABLESPACE small LOCATION '{disk}'"))
        connection.execute(text("CREATE DATABASE paperbell TABLESPACE small"))
    admin.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/paperbell"


def test_disk_full_is_one_line_and_exit_1_then_everything_is_stored(on_small_disk: tuple[str, Path],
                                                                     tmp_path: Path) -> None:
    url, disk = on_small_disk
    upgrade(url)
    seed = data_path("corpus/seed_papers.jsonl")
    env = service_env(url, tmp_path / "data", PAPERBELL_SOURCES=f"file:{seed}", PAPERBELL_LOG_LEVEL="WARNING")
    filler = fill(disk)
    for args, stage in ((["ingest", f"file:{seed}"], "ingest"), (["run", "--once"], "")):
        code, output = paperbell(env, *args)
        assert code == 1, output
        assert "Traceback" not in output, output
        # one line: the stage that failed, or (when the database cannot even be opened) the setting to check
        failed = [line for line in output.splitlines() if line.startswith(("FAILED", "error:"))]
        assert failed and all(any(word in line.lower() for word in ("full", "disk", "no space", "i/o"))
                                  for line in failed), output
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
