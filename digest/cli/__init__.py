"""The `paperbell` command line: one Typer app (`digest.cli.main`) with one module per command group."""
