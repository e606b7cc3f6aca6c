"""Entry point of the `paperbell` console script: assembles the command groups into one Typer app.

Each feature owns a module that exposes `register(app)`; this file only wires them together.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from digest.cli import (
    admin_cmd,
    bot_cmd,
    chat_cmd,
    demo_cmd,
    digest_cmd,
    discord_cmd,
    ingest_cmd,
    ledger_cmd,
    mail_cmd,
    match_cmd,
    run_cmd,
    summarize_cmd,
)

app = typer.Typer(
    name="paperbell",
    help="Self-hosted new-paper alerts: ingest, match saved queries, deliver to Discord and email.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help (Typer's documented switch): Typer's rich help labels every option with its type, so
    # flags read as if they took a value (`--json <bool>`); plain help shows `--json` and `--limit INTEGER`
    rich_markup_mode=None,
)

for module in (admin_cmd, demo_cmd, ingest_cmd, match_cmd, summarize_cmd, digest_cmd, bot_cmd, discord_cmd, run_cmd,
               mail_cmd, chat_cmd, ledger_cmd):
    module.register(app)


def _no_type(ctx: Any) -> None:
    return None


def _label_values(command: Any) -> None:
    """Name what each option takes instead of its Python type (`--since SINCE`, `--role [all|web]`); flags bare.

    Typer labels every parameter with its Python type (`--json <bool>`, `ADDRESS <str>`), which reads
    as if flags took values; these are this app's own command objects, relabelled once at start.
    """
    for param in command.params:
        if param.param_type_name == "argument":
            param.display_type_rich = _no_type  # the metavar (ADDRESS) already says what it is
            param.metavar = param.metavar or (param.name or "value").upper()
            continue
        if param.metavar is not None or getattr(param, "is_flag", False):
            continue
        descriptor: Any = getattr(param, "type_descriptor", None)
        if getattr(descriptor, "is_choice", False):
            param.metavar = "[" + "|".join(str(getattr(c, "value", c)) for c in descriptor.choices or ()) + "]"
        else:
            param.metavar = (param.name or "value").upper().replace("_", "-")
    for sub in getattr(command, "commands", {}).values():
        _label_values(sub)


def build_command() -> Any:
    """The click command the console script runs (tests invoke this one to see the same help)."""
    command = typer.main.get_command(app)
    _label_values(command)
    return command


def main() -> None:
    command = build_command()
    try:
        command(prog_name="paperbell")
    except Exception as exc:
        reason = _storage_failure(exc)
        if reason is None:
            raise
        # disk full, database gone: one line for the operator, not a traceback (nothing was half-written:
        # every stage is one transaction)
        print(f"FAILED {_stage(command, sys.argv[1:])}: {reason}", file=sys.stderr)
        sys.exit(1)


def _stage(command: Any, args: list[str]) -> str:
    """The command that failed, e.g. `ingest` or `digest send` (a group and its subcommand)."""
    words = [arg for arg in args if not arg.startswith("-")]
    if not words:
        return "paperbell"
    group = getattr(command, "commands", {}).get(words[0])
    return " ".join(words[:2]) if len(words) > 1 and hasattr(group, "commands") else words[0]


def _storage_failure(exc: BaseException) -> str | None:
    """One line for a storage error (database error, disk full, I/O error), else None."""
    import errno

    from sqlalchemy.exc import DBAPIError

    from storage.outage import storage_reason

    if isinstance(exc, DBAPIError):
        return storage_reason(exc)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS):
        return f"{exc.strerror or exc} ({exc.filename or 'storage'})"
    return None


if __name__ == "__main__":
    main()
