"""Test helper: the statements an action runs on this test's engine, and the plan either database gives one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event

from storage.db import Database

Statement = tuple[str, object]  # (SQL as sent, its parameters)


@contextmanager
def statements_run(db: Database, wanted: Callable[[str], bool]) -> Iterator[list[Statement]]:
    """Collects the statements run on `db`'s engine (only this engine) inside the block that `wanted` keeps."""
    seen: list[Statement] = []

    def keep(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if wanted(statement):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)


def plan_of(db: Database, statement: Statement) -> str:
    """The query plan as one line: SQLite's EXPLAIN QUERY PLAN; PostgreSQL's EXPLAIN with scans made the last
    resort (a test's tiny tables would plan as scans), so the plan shows how the indexes can serve it."""
    sql, parameters = statement
    with db.engine.connect() as connection:
        if db.is_postgres:
            connection.exec_driver_sql("SET enable_seqscan = off")
            connection.exec_driver_sql("SET enable_bitmapscan = off")
            rows = connection.exec_driver_sql("EXPLAIN " + sql, parameters).fetchall()  # type: ignore[arg-type]
            return " ".join(str(row[0]) for row in rows)
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters).fetchall()  # type: ignore[arg-type]
        return " ".join(str(row[-1]) for row in rows)
