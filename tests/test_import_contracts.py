"""The channel packages' import contract (tests/import_contracts.py) finds every channel package and can fail."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest
from grimp import ImportGraph

from tests.import_contracts import ChannelPackagesContract

REPO = Path(__file__).resolve().parents[1]
OPTIONS = next(c for c in tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
               if c["type"] == "channel_packages")


def _contract() -> ChannelPackagesContract:
    options = {k: v for k, v in OPTIONS.items() if k not in ("name", "type")}
    return ChannelPackagesContract("channels", {}, options)


def _graph(*imports: tuple[str, str]) -> ImportGraph:
    """digest with two channel packages (a `channel` module each), services, runtime; plus `imports`."""
    graph = ImportGraph()
    for module in ("digest", "digest.alpha", "digest.alpha.channel", "digest.beta", "digest.beta.channel",
                   "digest.beta.render", "digest.services", "digest.services.posting", "digest.runtime",
                   "digest.runtime.channels", "digest.settings", "storage"):
        graph.add_module(module)
    graph.add_import(importer="digest.alpha.channel", imported="digest.services.posting")
    graph.add_import(importer="digest.runtime.channels", imported="digest.alpha.channel")  # registration: allowed
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported)
    return graph


def test_the_contract_finds_every_channel_package_of_the_real_code() -> None:
    graph = grimp.build_graph("digest", "bot", "storage")
    check = _contract().check(graph, verbose=False)
    assert check.kept, check.metadata["broken"]
    assert {"digest.ntfy", "digest.slack", "digest.telegram", "digest.matrix", "digest.discord",
            "digest.email"} <= set(check.metadata["channels"])


def test_a_clean_graph_keeps_the_contract() -> None:
    check = _contract().check(_graph(), verbose=False)
    assert check.kept and check.metadata["channels"] == ["digest.alpha", "digest.beta"]


@pytest.mark.parametrize(("importer", "imported"), [
    ("digest.services.posting", "digest.beta.render"),  # a shared module names a channel package
    ("digest.settings", "digest.alpha.channel"),
    ("digest.alpha.channel", "digest.beta.render"),  # channel packages import each other
    ("digest.beta.render", "digest.runtime.channels"),  # a channel reaches up into the composition root
])
def test_each_forbidden_import_breaks_the_contract(importer: str, imported: str) -> None:
    check = _contract().check(_graph((importer, imported)), verbose=False)
    assert not check.kept
    broken = {(b["importer"], b["imported"]): b["chain"] for b in check.metadata["broken"]}
    package = ".".join(importer.split(".")[:2]) if importer.startswith("digest.") else importer
    target = ".".join(imported.split(".")[:2])
    assert broken[(package, target)] == [importer, imported]


def test_an_indirect_import_breaks_it_too() -> None:
    graph = _graph(("digest.services.posting", "digest.settings"), ("digest.settings", "digest.beta.render"))
    broken = _contract().check(graph, verbose=False).metadata["broken"]
    assert {"importer": "digest.services", "imported": "digest.beta",
            "chain": ["digest.services.posting", "digest.settings", "digest.beta.render"]} in broken


def test_no_channel_package_found_is_a_failure_not_a_pass() -> None:
    contract = ChannelPackagesContract("channels", {}, {**{k: v for k, v in OPTIONS.items()
                                                           if k not in ("name", "type")}, "marker": "nothing"})
    assert not contract.check(_graph(), verbose=False).kept


def test_lint_imports_from_the_root_loads_the_contract() -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Channel packages (every digest.<name> with a `channel` module)" in done.stdout
