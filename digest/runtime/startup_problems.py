"""An operator's mistake at start, as one line naming the setting to check (never a traceback).

Called by the CLI (`open_app`) and `paperbell run` around building the application's parts: a
database that cannot be reached or does not exist, a data directory that cannot be created or
written, a database paperbell will not migrate into. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from digest.settings import Settings
from storage.target_check import UnsafeMigrationTarget


def shown_url(url: str) -> str:
    """The database URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _first_line(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()
    return text[0][:300] if text else type(inner).__name__


def startup_problem(exc: BaseException, settings: Settings) -> str | None:
    """The one line to print for `exc`, or None when it is not an operator's mistake."""
    from storage.migrate import SchemaOutOfDate  # Alembic: only once something went wrong

    if isinstance(exc, SchemaOutOfDate | UnsafeMigrationTarget):
        return str(exc)
    if isinstance(exc, OperationalError | DBAPIError):
        reason = _first_line(exc)
        hint = ("check the free space of the disk that holds it" if any(w in reason for w in ("disk", "full"))
                else "check the URL (host, port, database name, user) and that the server is running")
        return f"cannot use the database PAPERBELL_DATABASE_URL={shown_url(settings.resolved_database_url())}: " \
               f"{reason}; {hint}"
    if isinstance(exc, ArgumentError):
        return f"PAPERBELL_DATABASE_URL is not a database URL: {_first_line(exc)}"
    if isinstance(exc, OSError) and getattr(exc, "filename", None) is not None:
        return (f"cannot use the data directory PAPERBELL_DATA_DIR={settings.data_dir}: {exc.strerror or exc} "
                f"({exc.filename}); choose a directory this user can write")
    return None
