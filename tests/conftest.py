"""Shared fixtures: real databases (SQLite by default, PostgreSQL when PAPERBELL_DATABASE_URL says so).

The schema is built once per test session with the real Alembic migrations; each test then gets
an empty database (SQLite: a fresh copy of the migrated file; PostgreSQL: every table truncated).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from digest.runtime.channels import settings_class
from digest.settings import Settings
from storage.db import Database
from storage.migrate import upgrade

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BUNDLED = Path(__file__).resolve().parents[1] / "digest" / "data"
# The suite runs on PostgreSQL when PAPERBELL_DATABASE_URL names one (CI does both).
POSTGRES_URL = os.environ.get("PAPERBELL_DATABASE_URL") or None


def _application_tables(connection: object) -> list[str]:
    """Every table of the public schema but Alembic's own: new tables are emptied without a list to keep."""
    rows = connection.execute(  # type: ignore[attr-defined]
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
    )
    return sorted(row[0] for row in rows)


def data_path(relative: str) -> Path:
    """A file from ../shared when present (the real data), else the copy bundled in digest/data."""
    shared = SHARED / relative
    if shared.exists():
        return shared
    return BUNDLED / relative.removeprefix("corpus/")


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    if POSTGRES_URL:
        upgrade(POSTGRES_URL)
        return POSTGRES_URL
    template = tmp_path_factory.mktemp("schema") / "template.db"
    upgrade(f"sqlite:///{template}")
    return str(template)


def fresh_database_url(template: str, folder: Path) -> str:
    """An empty, migrated database: PostgreSQL's emptied, or a copy of the SQLite template in `folder`."""
    if POSTGRES_URL:
        db = Database(POSTGRES_URL)
        with db.engine.begin() as connection:
            tables = ", ".join(f'"{name}"' for name in _application_tables(connection))
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.dispose()
        return POSTGRES_URL
    path = folder / "paperbell.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def database_url(_migrated_template: str, tmp_path: Path) -> Iterator[str]:
    yield fresh_database_url(_migrated_template, tmp_path)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own data dir and database, no .env, nothing from the environment.

    Read into the composition root's class, so every registered chat channel's fields are there.
    """
    return settings_class()(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-0123456789-abcdefghij",
        public_url="http://paperbell.test",
        arxiv_min_interval=0,
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.resolved_database_url())
    yield database
    database.dispose()
