"""Is the database schema at the code's head revision? Answered without Alembic when it is.

Every command and every service start checks the schema (storage.migrate upgrades it or refuses an
old one). Importing Alembic and walking its script directory costs more than the rest of a quick
command, so the usual case is read directly: the head from the `revision`/`down_revision`
assignments of the migration files (read as literals, never executed), the database's revision from
Alembic's `alembic_version` table. Only when both agree is Alembic skipped; anything else (an older
or newer schema, no table yet, several heads, a file this reader cannot follow) goes through
storage.migrate, which upgrades or explains.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

VERSIONS_DIR = Path(__file__).parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default name, which storage/migrations/env.py keeps
_UNREADABLE = object()


class SchemaOutOfDate(RuntimeError):
    """The database schema is not at the code's head revision (raised by storage.migrate.check_schema)."""


def _assigned(path: Path) -> dict[str, object]:
    """The literal values of the module-level `revision` and `down_revision` of one migration file."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                found[target.id] = _UNREADABLE
    return found


@lru_cache(maxsize=1)
def code_head() -> str | None:
    """The one head revision of the migration files; None when it cannot be told without Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(VERSIONS_DIR.glob("*.py")):
        found = _assigned(path)
        revision, down = found.get("revision"), found.get("down_revision")
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
            parents.update(down)
        elif down is not None:
            return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def database_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database; None when there is none, or more than one."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    except SQLAlchemyError:  # no table: never migrated
        return None
    return str(rows[0]) if len(rows) == 1 else None


def schema_at_head(engine: Engine) -> bool:
    """True when the database is known to be at the code's head revision (False = ask Alembic)."""
    head = code_head()
    return head is not None and database_revision(engine) == head
