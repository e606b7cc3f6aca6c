"""paperbell's persistence layer: SQLModel tables, engine/session handling and Alembic migrations.

Used by the services and channel packages of `digest`, the CLI and the runtime; never by the pure core.
Works on the embedded SQLite default and on PostgreSQL.
"""
