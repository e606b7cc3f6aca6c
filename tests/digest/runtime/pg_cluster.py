"""A private PostgreSQL cluster for fault tests: `initdb` under a temp dir, a spare port, restartable.

The shared server on 5432 is never touched. As root (CI), the cluster runs as the `postgres` OS user
through `runuser` (PostgreSQL refuses to run as root). Tests skip with the reason when the binaries
or that user are missing.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.digest.runtime.procs import free_port


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


class PrivateCluster:
    """One throw-away cluster; `restart()` is a real `pg_ctl restart -m fast` (every connection dropped)."""

    def __init__(self) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            pytest.skip("initdb not found (install PostgreSQL server binaries) for the database-restart tests")
        self.bin = bin_dir
        self.run_as: list[str] = []
        self.root = Path(tempfile.mkdtemp(prefix="paperbell-pg-"))
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root without a `postgres` OS user to run a private cluster")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self.data = self.root / "data"
        self.port = free_port()
        self._ctl("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def _ctl(self, program: str, *args: str) -> None:
        subprocess.run([*self.run_as, str(self.bin / program), *args], check=True, capture_output=True, timeout=120)

    def _options(self) -> str:
        return f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"

    def start(self) -> None:
        self._ctl("pg_ctl", "-D", str(self.data), "-o", self._options(), "-l", str(self.root / "log"), "-w", "start")

    def restart(self) -> None:
        self._ctl("pg_ctl", "-D", str(self.data), "-o", self._options(), "-l", str(self.root / "log"),
                  "-m", "fast", "-w", "restart")

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                        "stop"], capture_output=True, timeout=120)
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str = "paperbell") -> str:
        admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres",
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"
