"""The Alembic-free schema check agrees with Alembic: at head it says so, anything else goes to Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import Database
from storage.migrate import downgrade, head_revision, upgrade
from storage.revision import code_head, database_revision, schema_at_head
from tests.storage.test_migrations import scratch_url  # noqa: F401  (fixture: an empty database of the kind under test)


def test_code_head_is_alembics_head() -> None:
    assert code_head() == head_revision()


def test_only_a_database_at_head_skips_alembic(scratch_url: str) -> None:  # noqa: F811
    db = Database(scratch_url)
    try:
        assert database_revision(db.engine) is None and not schema_at_head(db.engine)  # never migrated
        upgrade(scratch_url)
        assert database_revision(db.engine) == head_revision() and schema_at_head(db.engine)
        downgrade(scratch_url, "0001")
        assert database_revision(db.engine) == "0001" and not schema_at_head(db.engine)
    finally:
        db.dispose()


@pytest.mark.parametrize("body", [
    'revision = "0099"\ndown_revision = compute()\n',  # not a literal: cannot be told without Alembic
    'down_revision = "0013"\n',  # no revision
])
def test_an_unreadable_migration_file_means_ask_alembic(body: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.revision as revision

    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "0001_initial.py").write_text('revision = "0001"\ndown_revision = None\n')
    (versions / "0099_odd.py").write_text(body)
    monkeypatch.setattr(revision, "VERSIONS_DIR", versions)
    revision.code_head.cache_clear()
    try:
        assert revision.code_head() is None
    finally:
        revision.code_head.cache_clear()


def test_two_heads_mean_ask_alembic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.revision as revision

    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision: str = "a"\ndown_revision: str | None = None\n')
    (versions / "b.py").write_text('revision = "b"\ndown_revision = "a"\n')
    (versions / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    monkeypatch.setattr(revision, "VERSIONS_DIR", versions)
    revision.code_head.cache_clear()
    try:
        assert revision.code_head() is None
        (versions / "m.py").write_text('revision = "m"\ndown_revision = ("b", "c")\n')  # a merge: one head again
        revision.code_head.cache_clear()
        assert revision.code_head() == "m"
    finally:
        revision.code_head.cache_clear()
