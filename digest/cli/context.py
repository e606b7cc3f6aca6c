"""The CLI's composition root: the application's parts once per command (via digest.runtime.parts).

Every command gets its `Settings` and `Database` from here and passes them to service functions;
problems (bad settings, an old schema, a service refusal) become one line on stderr and exit 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:  # imported where used: `paperbell --help` should not pay for the engine
    from rich.console import Console

    from digest.runtime.parts import Parts
    from digest.settings import Settings

    AppContext = Parts  # what every command gets: settings, database, HTTP clients per host


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line saying what was wrong and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def get_settings() -> Settings:
    """The settings from the environment, read into the class with every registered channel's fields."""
    from digest.runtime.channels import settings_class
    from digest.settings import SettingsError, load_settings

    try:
        return load_settings(settings_class())
    except SettingsError as exc:
        fail(str(exc), 2)


@contextmanager
def open_app(*, migrate: bool | None = None) -> Iterator[Parts]:
    """The application's parts (the one builder, digest.runtime.parts), disposed when the command ends.

    `migrate=None` follows the `auto_migrate` setting; an out-of-date schema is refused otherwise.
    """
    from digest.runtime.parts import build_parts
    from digest.runtime.startup_problems import startup_problem

    settings = get_settings()
    try:
        parts = build_parts(settings, migrate=migrate)
    except Exception as exc:  # an operator's mistake (database, data directory) is one line, a bug a traceback
        problem = startup_problem(exc, settings)
        if problem is None:
            raise
        fail(problem)
    try:
        yield parts
    finally:
        parts.close()


def console() -> Console:
    """A rich console: the terminal's width (or COLUMNS when set); piped, wide enough for whole rows."""
    import os

    from rich.console import Console

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and 20 <= int(columns) <= 1000:
        return Console(width=int(columns))
    return Console() if sys.stdout.isatty() else Console(width=240)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Every CLI table. One that does not fit the console (80 columns, say) is printed as one block of
    `column: value` lines per row instead: an address, a path or an error cut to `…` (or folded into a
    column four letters wide) is what an operator needed to read."""
    from rich.measure import Measurement
    from rich.table import Table

    texts = [["" if value is None else str(value) for value in row] for row in rows]
    table = Table(title=title, expand=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in texts:
        table.add_row(*row)
    out = console()
    if Measurement.get(out, out.options.update_width(100_000), table).maximum <= out.width:
        out.print(table)
        return
    _print_records(title, columns, texts, out.width)


def _print_records(title: str, columns: Sequence[str], rows: list[list[str]], width: int) -> None:
    import textwrap

    typer.echo(f"{title} ({len(rows)})")
    if len(columns) == 2:  # a name and its value: one line each
        for name, value in rows:
            typer.echo(textwrap.fill(f"{name}: {value}", width=width, subsequent_indent="    ", break_on_hyphens=False))
        return
    for number, row in enumerate(rows, start=1):
        typer.echo(f"-- {number} " + "-" * max(0, min(width, 40) - 4 - len(str(number))))
        for column, value in zip(columns, row, strict=False):
            if value:
                typer.echo(textwrap.fill(f"{column}: {value}", width=width, subsequent_indent="    ",
                                         break_on_hyphens=False))


def parse_timestamp(value: str | None, option: str) -> datetime | None:
    """An ISO date or timestamp given on the command line, as aware UTC (naive means UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: expected an ISO date or time like 2025-04-28 or 2025-04-28T08:00")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


MAX_RECORDS_FILE_BYTES = 200_000_000  # `--papers FILE`: far above any corpus we ship; /dev/zero stops here


def read_json_records(path: Path, *, required: tuple[str, ...] = ("title", "abstract")) -> list[dict[str, Any]]:
    """The records of a JSON array or JSON-lines file (the seed corpus' format), each with `required` strings.

    Used by the commands that take `--papers FILE`; anything unreadable stops the command with one line.
    """
    from digest.bounded import BoundedReadError, read_bounded

    try:
        text = read_bounded(path, MAX_RECORDS_FILE_BYTES).decode("utf-8")
    except BoundedReadError as exc:
        fail(str(exc))
    except UnicodeDecodeError as exc:
        fail(f"{path}: invalid UTF-8 at byte {exc.start}")
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            records = json.loads(stripped)
        else:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        fail(f"{path} is neither a JSON array nor JSON lines: {exc.msg} at line {exc.lineno}")
    if not isinstance(records, list):
        fail(f"{path}: expected a JSON array of records or one record per line")
    for number, record in enumerate(records, 1):
        missing = [key for key in required if not isinstance(record, dict) or not isinstance(record.get(key), str)]
        if missing:
            fail(f"{path}: record {number} has no {' or '.join(missing)} (string fields {', '.join(required)})")
    return records


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")
