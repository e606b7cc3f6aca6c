"""The registration is the only seam: no module outside a chat channel's package names it.

A registered chat channel (digest.runtime.channels.CHAT_SPECS) is named by its package path, its label,
its subscriber kinds, its settings (field names and `PAPERBELL_…` variables); none of these may appear
in any module of digest, bot or storage outside its own package and the composition root's list, nor in
the import contracts. Deleting the package and its entry then leaves nothing else to edit.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from digest.runtime.channels import CHAT_SPECS, settings_class
from digest.services.channel_specs import ChatSpec
from digest.settings import Settings

REPO = Path(__file__).resolve().parents[1]
REGISTRATION = REPO / "digest" / "runtime" / "channels.py"


def _names(spec: ChatSpec) -> re.Pattern[str]:
    """What names the channel: its package, label, kinds, own settings (case-sensitive, whole words)."""
    own = set(spec.settings().model_fields) - set(Settings.model_fields)
    words = {rf"digest[./]{spec.name}\b", rf"\b{re.escape(spec.label)}\b", rf"PAPERBELL_{spec.name.upper()}_"}
    words |= {rf"\b{kind.kind}\b" for kind in spec.kinds} | {rf"\b{field}\b" for field in own}
    return re.compile("|".join(sorted(words)))


def _shared_modules(spec: ChatSpec) -> list[Path]:
    own = REPO / "digest" / spec.name
    files = [p for top in ("digest", "bot", "storage") for p in (REPO / top).rglob("*.py")]
    return [p for p in files if own not in p.parents and p != REGISTRATION and "migrations" not in p.parts]


@pytest.mark.parametrize("spec", CHAT_SPECS, ids=lambda s: s.name)
def test_no_shared_module_names_a_registered_chat_channel(spec: ChatSpec) -> None:
    pattern = _names(spec)
    found = [f"{p.relative_to(REPO)}:{n}: {line.strip()}" for p in _shared_modules(spec)
             for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert found == []


@pytest.mark.parametrize("spec", CHAT_SPECS, ids=lambda s: s.name)
def test_the_import_contracts_name_no_chat_channel(spec: ChatSpec) -> None:
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert not _names(spec).search(repr(contracts))


def test_the_check_would_see_a_name() -> None:
    """The patterns match what they must (the tests above cannot pass by matching nothing)."""
    for spec in CHAT_SPECS:
        pattern = _names(spec)
        assert pattern.search(f"from digest.{spec.name}.channel import x")
        assert all(pattern.search(f"kind == '{kind.kind}'") for kind in spec.kinds)
        assert pattern.search(f"see the {spec.label} guide")
    assert set(settings_class().model_fields) > set(Settings.model_fields)
