"""Bulk writes of pending ledger rows: COPY on PostgreSQL, one executemany on SQLite.

Used by digest.services.match_sets when it expands a subscriber's compact matches into `Delivery`
rows. Rows whose (subscriber, paper) is already in the ledger are
skipped, so a paper reaches a subscriber at most once whatever path recorded it first.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from storage.db import Database
from storage.models import DeliveryStatus

WRITE_CHUNK = 200_000  # ledger rows per write call
SQLITE_WRITE_CACHE_KIB = 256 * 1024  # page cache of the connection writing many ledger rows


def _copy_binary(columns: tuple[Any, ...]) -> bytes:
    """PostgreSQL binary COPY data for rows of bigint columns, built by numpy without a per-row loop."""
    import numpy as np  # imported where used: status and /healthz import this module's callers

    fields = [("n", ">i2")]
    for i in range(len(columns)):
        fields += [(f"l{i}", ">i4"), (f"v{i}", ">i8")]  # each field: its length, then the value
    dtype = np.dtype(fields)
    rows = np.empty(len(columns[0]), dtype)
    rows["n"] = len(columns)
    for i, values in enumerate(columns):
        rows[f"l{i}"] = 8
        rows[f"v{i}"] = values
    return b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0) + rows.tobytes() + struct.pack(">h", -1)


def insert_ledger(session: Session, db: Database, rows: tuple[Any, Any, Any], now: datetime) -> int:
    """Pending deliveries for these rows, skipping (subscriber, paper) pairs already in the ledger.

    Written in chunks so the driver-side copies stay small whatever the number of matches.
    """
    subscribers, papers, subscriptions = rows
    connection = session.connection()
    naive = now.astimezone(UTC).replace(tzinfo=None)  # what UTCDateTime stores
    created = 0
    if not db.is_postgres and len(subscribers):
        # The ledger's indexes outgrow SQLite's default 2 MB page cache at a few hundred thousand rows,
        # after which every insert re-reads index pages through the OS; this connection (one session,
        # NullPool) gets room for them while it writes, and gives it back when it closes.
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_WRITE_CACHE_KIB}")
    for start in range(0, len(subscribers), WRITE_CHUNK):
        part = slice(start, start + WRITE_CHUNK)
        if db.is_postgres:
            created += _copy_ledger(connection, (subscribers[part], papers[part], subscriptions[part]), naive)
            continue
        created += _insert_sqlite(connection, (subscribers[part], papers[part], subscriptions[part]), naive)
    return created


def sqlite_stamp(naive: datetime) -> str:
    """A naive UTC time as SQLAlchemy's SQLite DATETIME stores it (digits and separators only)."""
    return naive.strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert_sqlite(connection: Any, columns: tuple[Any, Any, Any], naive: datetime) -> int:
    """SQLite: one executemany binding only the three ids per row.

    The constant columns are literals in the statement: binding them per row (and building a list of
    2M five-tuples for it) took a third of the write. Both literals are ours: a status enum value and
    SQLAlchemy's SQLite DATETIME text of the cycle's clock (digits and separators only).
    """
    stamp = sqlite_stamp(naive)
    raw = connection.connection.driver_connection
    cursor = raw.cursor()
    try:
        cursor.executemany(
            "INSERT OR IGNORE INTO deliveries (subscriber_id, paper_id, subscription_id, status, explanation,"
            f" created_at, attempts) VALUES (?, ?, ?, '{DeliveryStatus.PENDING.value}', '{{}}', '{stamp}', 0)",
            zip(columns[0].tolist(), columns[1].tolist(), columns[2].tolist(), strict=True),
        )
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _copy_ledger(connection: Any, columns: tuple[Any, Any, Any], naive: datetime) -> int:
    """PostgreSQL: COPY (binary) into a temporary table, then one INSERT … ON CONFLICT DO NOTHING."""
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS match_rows (subscriber_id bigint, paper_id bigint,"
            " subscription_id bigint) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE match_rows")
        with cursor.copy("COPY match_rows FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.write(_copy_binary(columns))
        cursor.execute(
            "INSERT INTO deliveries (subscriber_id, paper_id, subscription_id, status, explanation,"
            " created_at, attempts) SELECT subscriber_id, paper_id, subscription_id, %s, '{}', %s, 0"
            " FROM match_rows ON CONFLICT DO NOTHING",
            (DeliveryStatus.PENDING.value, naive),
        )
        return int(cursor.rowcount)
