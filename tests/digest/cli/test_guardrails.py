"""Operator mistakes at start are one line `error: …` naming the setting, through the real entry point."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.digest.runtime.procs import REPO, service_env

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def paperbell(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "digest.cli.main", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stderr.startswith("error: "), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr


def postgres_reachable() -> bool:
    try:
        with create_engine(f"{POSTGRES_SERVER}/postgres").connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


needs_postgres = pytest.mark.skipif(not postgres_reachable(), reason="no PostgreSQL server on 127.0.0.1:5432")


@pytest.mark.parametrize("command", [["subscribers", "list"], ["run", "--role", "web"]])
def test_a_database_that_cannot_be_opened(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "a-directory.db").mkdir()  # not a database file, and no file can be created there
    env = service_env(f"sqlite:///{tmp_path}/a-directory.db", tmp_path / "data")
    line = one_error_line(paperbell(env, *command))
    assert "cannot use the database PAPERBELL_DATABASE_URL=sqlite:///" in line and "unable to open" in line


@needs_postgres
def test_a_postgres_database_that_does_not_exist(tmp_path: Path) -> None:
    env = service_env(f"{POSTGRES_SERVER.replace('postgres@', 'postgres:s3cret@')}/paperbell_no_such_db",
                      tmp_path / "data")
    line = one_error_line(paperbell(env, "subscribers", "list"))
    assert 'database "paperbell_no_such_db" does not exist' in line and "s3cret" not in line and "***" in line


@needs_postgres
def test_the_maintenance_database_is_not_migrated_into(tmp_path: Path) -> None:
    env = service_env(f"{POSTGRES_SERVER}/postgres", tmp_path / "data")
    line = one_error_line(paperbell(env, "subscribers", "list"))
    assert "'postgres' is the PostgreSQL server's own (maintenance database)" in line
    assert "paperbell db upgrade" in line and "createdb" in line
    with create_engine(f"{POSTGRES_SERVER}/postgres").connect() as connection:
        tables = connection.execute(text("SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'"))
        assert tables.scalar() == 0


def test_a_database_holding_other_tables_is_not_migrated_into(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    env = service_env(f"sqlite:///{path}", tmp_path / "data")
    line = one_error_line(paperbell(env, "subscribers", "list"))
    assert "already holds 1 other table (orders)" in line and "paperbell db upgrade" in line
    with sqlite3.connect(path) as connection:
        assert [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["orders"]


def test_a_data_directory_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env = service_env(f"sqlite:///{tmp_path}/paperbell.db", blocker / "data")
    line = one_error_line(paperbell(env, "subscribers", "list"))
    assert f"cannot use the data directory PAPERBELL_DATA_DIR={blocker / 'data'}" in line


def test_misspelt_variables_are_named_once_with_the_closest_setting(tmp_path: Path) -> None:
    env = service_env(f"sqlite:///{tmp_path}/paperbell.db", tmp_path / "data", PAPERBELL_SMTP_SERVER="mail.example",
                      PAPERBELL_DISCORD_BOT_TOKEN="abc", PAPERBELL_ZZZ="1")
    done = paperbell(env, "subscribers", "list")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "unknown setting" in line]
    assert lines == [
        "unknown setting PAPERBELL_DISCORD_BOT_TOKEN is ignored; did you mean PAPERBELL_DISCORD_TOKEN?",
        "unknown setting PAPERBELL_SMTP_SERVER is ignored; did you mean PAPERBELL_SMTP_HOST?",
        "unknown setting PAPERBELL_ZZZ is ignored; see `paperbell config docs` for every setting",
    ]


def test_a_name_that_does_not_resolve_fails_at_once_in_run_once(tmp_path: Path) -> None:
    # .invalid never resolves (RFC 2606): offline, or a typo'd host, must not cost minutes of retries
    env = service_env(f"sqlite:///{tmp_path}/paperbell.db", tmp_path / "data",
                      PAPERBELL_SOURCES="feed:http://paperbell-test.invalid/feed.xml", PAPERBELL_HTTP_MAX_RETRIES="5",
                      PAPERBELL_HTTP_BACKOFF_BASE="5")
    done = paperbell(env, "run", "--once")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cannot resolve the host of http://paperbell-test.invalid/feed.xml" in done.stdout
    assert "retrying" not in done.stderr + done.stdout  # five 5-second backoffs would be ~2.5 minutes
