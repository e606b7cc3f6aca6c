"""Entry point of the `paperbell` console script: assembles the command groups into one Typer app.

Each feature owns a module that exposes `register(app)`; this file only wires them together.
"""

from __future__ import annotations

from typing import Any

import typer

from digest.cli import (
    admin_cmd,
    bot_cmd,
    demo_cmd,
    digest_cmd,
    discord_cmd,
    ingest_cmd,
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
               mail_cmd):
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
    build_command()(prog_name="paperbell")


if __name__ == "__main__":
    main()
