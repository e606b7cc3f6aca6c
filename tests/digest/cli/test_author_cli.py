"""`paperbell subscriptions add … --author NAME [--pick N]` through the real Typer app and database."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from storage.db import Database
from storage.models import Paper
from tests.digest.cli.test_admin_cli import cli, run

__all__ = ["cli"]


def add_papers(db: Database) -> None:
    with db.session() as session:
        for ident, names in [("2501.00001", ["Yoshua Bengio", "Aaron Courville"]),
                             ("2501.00002", ["Samy Bengio", "Oriol Vinyals"]),
                             ("2501.00003", ["Bengio, Y.", "Aaron Courville"])]:
            session.add(Paper(canonical_id=ident, title="A title", authors=names))


def test_pick_a_person_by_number(cli: CliRunner, db: Database) -> None:
    add_papers(db)
    assert run(cli, "subscribers", "add", "ada@example.org")[0] == 0
    # not a terminal and no --pick: the list, then one line saying what to do; nothing saved
    code, out, err = run(cli, "subscriptions", "add", "ada@example.org", "--author", "Bengio")
    assert code == 1 and "1. Yoshua Bengio · 2 papers · also Bengio, Y. · with Aaron Courville" in out
    assert "2. Samy Bengio · 1 paper · with Oriol Vinyals" in out
    assert err.strip() == "error: 2 people may be 'Bengio': run again with --pick N (a number above)"
    code, out, _ = run(cli, "subscriptions", "add", "ada@example.org", "diffusion", "--author", "Bengio",
                       "--pick", "1", "--backfill-days", "0")
    assert code == 0 and 'added subscription #1: author:"Yoshua Bengio" (diffusion)' in out
    code, out, _ = run(cli, "subscriptions", "add", "ada@example.org", "--author", "Bengio", "--json")
    assert code == 1 and json.loads(out)["candidates"][1]["clause"] == 'author:"Samy Bengio"'


def test_refusals_are_one_line(cli: CliRunner, db: Database) -> None:
    assert run(cli, "subscribers", "add", "ada@example.org")[0] == 0
    for name, reason in [("", "the name is empty"), ("x" * 10_000, "characters long"), ("a\x07b", "control")]:
        code, out, err = run(cli, "subscriptions", "add", "ada@example.org", "--author", name)
        assert code == 1 and err.startswith("error: cannot follow this author: ") and reason in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    code, _, err = run(cli, "subscriptions", "add", "ada@example.org", "--author", "Hopper")
    assert code == 1 and "error: no one to follow: no stored paper has an author by that name" in err
    code, _, err = run(cli, "subscriptions", "add", "ada@example.org", "diffusion", "--pick", "1")
    assert code == 1 and err.strip() == "error: --pick chooses among the people --author lists; add --author NAME"
    code, _, err = run(cli, "subscriptions", "add", "ada@example.org", "--author", "Grace Hopper", "--pick", "3")
    assert code == 1 and err.strip() == "error: --pick 3: choose a number from 1 to 1"
