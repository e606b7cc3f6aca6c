"""Packaging stays honest: every imported third-party package is declared, psycopg only in the `postgres`
extra, and constraints.txt pins every runtime dependency the Dockerfile installs from."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def _imported_top_level() -> set[str]:
    found: set[str] = set()
    for package in ("bot", "digest", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in ("bot", "digest", "storage")}


def test_every_imported_package_is_declared() -> None:
    declared = _names(PROJECT["dependencies"]) | {
        name for extra in PROJECT["optional-dependencies"].values() for name in _names(extra)
    }
    owners = packages_distributions()
    missing = {module: owners.get(module) for module in _imported_top_level()
               if not {canonicalize_name(d) for d in owners.get(module, [module])} & declared}
    assert missing == {}


def test_psycopg_is_only_in_the_postgres_extra() -> None:
    assert "psycopg" not in _names(PROJECT["dependencies"])
    assert "psycopg" in _names(PROJECT["optional-dependencies"]["postgres"])


def test_constraints_pin_every_runtime_dependency_and_docker_uses_them() -> None:
    pins = dict(line.split("==", 1) for line in (ROOT / "constraints.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    extras = PROJECT["optional-dependencies"]
    runtime = _names(PROJECT["dependencies"]) | _names(extras["postgres"] + extras["telegram"] + extras["matrix"])
    assert runtime - set(pins) == set()
    assert all(re.fullmatch(r"[\w.+!-]+", version) for version in pins.values())
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip wheel --wheel-dir /wheels -r constraints.txt" in dockerfile
    assert '-c /tmp/constraints.txt "paperbell[postgres,telegram,matrix]"' in dockerfile  # every channel
    assert '-c constraints.txt -e ".[test,postgres]"' in (ROOT / ".ci" / "run").read_text()
