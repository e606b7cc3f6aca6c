"""Benchmarks: run from the repository root as `python -m bench.<name>`; each prints one JSON line."""
