"""Entry point of the `paperbell` console script: assembles the command groups into one Typer app.

Each feature owns a module that exposes `register(app)`; this file only wires them together.
"""

from __future__ import annotations

import typer

from digest.cli import (
    admin_cmd,
    bot_cmd,
    demo_cmd,
    digest_cmd,
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
)

for module in (admin_cmd, demo_cmd, ingest_cmd, match_cmd, summarize_cmd, digest_cmd, bot_cmd, run_cmd, mail_cmd):
    module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
