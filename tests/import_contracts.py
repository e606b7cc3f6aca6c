"""A custom import-linter contract: every channel package, found by its shape, stays at the edge.

A channel package is any direct subpackage of `root` that has a `marker` module (`digest.<name>.channel`),
so a new channel package is covered the day it exists, without editing pyproject.toml. The contract
(`[[tool.importlinter.contracts]] type = "channel_packages"`) checks, on direct and indirect imports:
- channel packages do not import each other;
- the modules in `must_not_import_channels` (services, sources, the pure core, settings, storage, the
  web front) import no channel package;
- channel packages import none of `channels_must_not_import` (the CLI, the composition root, the bot).

`lint-imports` puts the working directory on sys.path, so run from the repository root it finds this
module as `tests.import_contracts` (tests/test_import_contracts.py shows it can fail).
"""

from __future__ import annotations

from typing import Any

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class ChannelPackagesContract(Contract):
    """Channel packages (those with a `marker` module) are independent and imported by no lower module."""

    root = fields.StringField()
    marker = fields.StringField(default="channel")
    must_not_import_channels = fields.SetField(subfield=fields.StringField())
    channels_must_not_import = fields.SetField(subfield=fields.StringField())

    def channel_packages(self, graph: ImportGraph) -> list[str]:
        root = str(self.root)
        marker = str(self.marker)
        return sorted(child for child in graph.find_children(root) if f"{child}.{marker}" in graph.modules)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        channels = self.channel_packages(graph)
        pairs = [(a, b) for a in channels for b in channels if a != b]
        pairs += [(low, c) for low in sorted(self.must_not_import_channels) for c in channels
                  if low in graph.modules]
        pairs += [(c, high) for c in channels for high in sorted(self.channels_must_not_import)
                  if high in graph.modules]
        broken: list[dict[str, Any]] = []
        for importer, imported in pairs:
            chain = graph.find_shortest_chain(importer, imported, as_packages=True)
            if chain:
                broken.append({"importer": importer, "imported": imported, "chain": list(chain)})
        if not channels:
            broken.append({"importer": str(self.root), "imported": f"*.{self.marker}", "chain": []})
        return ContractCheck(kept=not broken, metadata={"broken": broken, "channels": channels})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            if not item["chain"]:
                output.print_error(f"no channel package found under {item['importer']} (none has {item['imported']})")
                continue
            output.print_error(f"{item['importer']} is not allowed to import {item['imported']}:")
            output.print(" -> ".join(item["chain"]))
            output.new_line()
