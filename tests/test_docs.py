"""The documentation stays true to the code: generated reference pages match what the code produces,
every page is in the site's navigation, and no page points at an issue number instead of saying what it means."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from digest.cli.main import build_command
from digest.runtime.channels import settings_class

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


@pytest.mark.parametrize("name", sorted(GEN.PAGES))
def test_generated_reference_page_is_what_the_code_produces(name: str) -> None:
    page = (DOCS / "reference" / name).read_text(encoding="utf-8")
    assert page == GEN.PAGES[name](), f"docs/reference/{name} is out of date: run `python docs/gen_reference.py`"


def test_the_check_names_a_stale_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(GEN, "REFERENCE", tmp_path)
    assert GEN.differing_pages() == sorted(GEN.PAGES, key=list(GEN.PAGES).index)
    for name, build in GEN.PAGES.items():
        (tmp_path / name).write_text(build(), encoding="utf-8")
    assert GEN.differing_pages() == []
    (tmp_path / "cli.md").write_text("# Command line\n", encoding="utf-8")
    assert GEN.differing_pages() == ["cli.md"]


def test_every_setting_and_command_is_in_the_reference() -> None:
    configuration = (DOCS / "reference" / "configuration.md").read_text(encoding="utf-8")
    assert [n for n in settings_class().model_fields if f"`PAPERBELL_{n.upper()}`" not in configuration] == []
    cli = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    paths = GEN._commands(build_command(), "paperbell")[1:]
    assert [path for path, _ in paths if f"## `{path}`" not in cli] == []
    for command in ("mail check", "suppression add", "subscriptions limit", "digest confirm-mail"):
        assert f"## `paperbell {command}`" in cli


def test_every_route_has_a_purpose_and_the_routes_page_names_the_origin_check() -> None:
    routes = (DOCS / "reference" / "routes.md").read_text(encoding="utf-8")
    assert all(f"`{path}`" in routes for path in GEN.ROUTE_PURPOSES)
    assert "Origin" in routes and "403" in routes


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:", 1)[1]
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert [page for page in pages if f": {page}" not in nav] == []


def test_no_issue_numbers_in_the_readme_or_the_docs() -> None:
    texts = [ROOT / "README.md", ROOT / "CHANGELOG.md", *DOCS.rglob("*.md")]
    pattern = re.compile(r"\bissues? #?\d+", re.I)
    found = [str(p.relative_to(ROOT)) for p in texts if pattern.search(p.read_text(encoding="utf-8"))]
    assert found == []
