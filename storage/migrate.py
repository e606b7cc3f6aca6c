"""Schema migrations: `paperbell db upgrade`, and the start-up check that refuses an old schema.

Alembic's configuration is built in code (no alembic.ini needed at run time) so the installed
package can migrate any database it is pointed at.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from storage.revision import SchemaOutOfDate

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' must be doubled for ConfigParser interpolation (passwords may contain it)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def check_schema(engine: Engine) -> None:
    """Raise `SchemaOutOfDate` with an actionable message unless the schema is at head."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        state = "empty (never migrated)" if current is None else f"at revision {current}"
        raise SchemaOutOfDate(
            f"database schema is {state}, this paperbell needs {head}: run `paperbell db upgrade`"
        )
