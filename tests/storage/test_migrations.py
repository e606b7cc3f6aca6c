"""Migrations up and down on a scratch database of each kind, and the migrated schema equals the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import Database
from storage.migrate import SchemaOutOfDate, check_schema, current_revision, downgrade, head_revision, upgrade
from tests.conftest import POSTGRES_URL


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind under test, dropped afterwards."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"paperbell_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(POSTGRES_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_upgrade_downgrade_upgrade(scratch_url: str) -> None:
    upgrade(scratch_url)
    db = Database(scratch_url)
    try:
        assert current_revision(db.engine) == head_revision()
        assert {"papers", "subscribers", "subscriptions", "deliveries"} <= set(inspect(db.engine).get_table_names())
        downgrade(scratch_url, "base")
        assert current_revision(db.engine) is None
        assert "papers" not in inspect(db.engine).get_table_names()
        upgrade(scratch_url)
        assert current_revision(db.engine) == head_revision()
    finally:
        db.dispose()


def test_migrated_schema_matches_the_models(scratch_url: str) -> None:
    upgrade(scratch_url)
    db = Database(scratch_url)
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        db.dispose()
    # APScheduler's job table lives in the same database but is not ours to migrate.
    differences = [d for d in differences if "apscheduler" not in str(d)]
    assert differences == []


def test_an_old_schema_is_refused_with_a_clear_message(scratch_url: str) -> None:
    db = Database(scratch_url)
    try:
        with pytest.raises(SchemaOutOfDate, match="paperbell db upgrade"):
            check_schema(db.engine)
        upgrade(scratch_url, "0001")
        if head_revision() != "0001":
            with pytest.raises(SchemaOutOfDate, match="revision 0001"):
                check_schema(db.engine)
        upgrade(scratch_url)
        check_schema(db.engine)
    finally:
        db.dispose()
