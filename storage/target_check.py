"""Refuse to auto-migrate paperbell's tables into a database that is not meant for it.

`PAPERBELL_DATABASE_URL=…/postgres` (the server's maintenance database), a `template*` database, or
a database that already holds someone else's tables would otherwise silently receive paperbell's
tables. Only a database never migrated by paperbell is checked; an explicit `paperbell db upgrade`
is the override (the operator chose that database on purpose).
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

_OVERRIDE = ("create a database of its own (e.g. `createdb paperbell`) and point PAPERBELL_DATABASE_URL at it, "
             "or, to use this one anyway, run `paperbell db upgrade` once")


class UnsafeMigrationTarget(RuntimeError):
    """Auto-migration would put paperbell's tables into a database that is not meant for them."""


def check_migration_target(engine: Engine) -> None:
    """Raise `UnsafeMigrationTarget` (saying how to override) for a maintenance, template or occupied database."""
    from storage.migrate import current_revision  # Alembic: only when a migration is about to run

    if current_revision(engine) is not None:
        return  # paperbell's own database: migrated before
    name = engine.url.database or ""
    if engine.dialect.name == "postgresql" and (name == "postgres" or name.startswith("template")):
        raise UnsafeMigrationTarget(
            f"database {name!r} is the PostgreSQL server's own ({'maintenance' if name == 'postgres' else 'template'} "
            f"database); paperbell will not create its tables there: {_OVERRIDE}")
    others = sorted(inspect(engine).get_table_names())
    if others:
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise UnsafeMigrationTarget(
            f"database {name!r} already holds {len(others)} other table{'s' if len(others) != 1 else ''} ({shown}); "
            f"paperbell will not add its tables to it: {_OVERRIDE}")
