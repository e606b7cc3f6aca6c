"""paperbell's persistence layer: SQLModel tables, engine/session handling and Alembic migrations.

Used by `digest.services` (the only place domain code touches sessions), the CLI and the runtime.
Works on the embedded SQLite default and on PostgreSQL.
"""
