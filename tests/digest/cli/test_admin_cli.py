"""Every admin CLI command through the real Typer app and a real database: success and refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from digest.cli.main import app
from digest.settings import Settings
from storage.db import Database
from storage.models import Subscriber, Subscription


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    # The CLI builds its own settings from the environment, exactly as in production.
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("PAPERBELL_SMTP_PASSWORD", "hunter2")
    return CliRunner()


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def snapshot(db: Database) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    with db.session() as session:
        return (
            [s.model_dump() for s in session.exec(select(Subscriber)).all()],
            [s.model_dump() for s in session.exec(select(Subscription)).all()],
        )


def test_help_on_every_command(cli: CliRunner) -> None:
    for args in (
        [], ["db"], ["config"], ["subscribers"], ["subscriptions"], ["subscribers", "add"], ["subscriptions", "add"],
        ["db", "upgrade"], ["demo"],
    ):
        code, out, _ = run(cli, *args, "--help")
        assert code == 0, args
        assert "Usage" in out


def test_config_show_redacts_secrets(cli: CliRunner) -> None:
    code, out, _ = run(cli, "config", "show", "--json")
    shown = json.loads(out)
    assert code == 0
    assert shown["PAPERBELL_SMTP_PASSWORD"] == "********"
    assert "hunter2" not in out


def test_invalid_setting_names_the_variable(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBELL_SMTP_PORT", "not-a-port")
    code, _, err = run(cli, "config", "show")
    assert code == 2
    assert "PAPERBELL_SMTP_PORT" in err


def test_db_upgrade_and_current(cli: CliRunner) -> None:
    assert run(cli, "db", "upgrade")[0] == 0
    code, out, _ = run(cli, "db", "current")
    assert code == 0 and "current: " in out


def test_subscriber_lifecycle_with_json(cli: CliRunner, db: Database) -> None:
    code, out, _ = run(cli, "subscribers", "add", "Ada@Example.org", "--timezone", "Europe/Berlin", "--json")
    assert code == 0
    added = json.loads(out)
    assert added["address"] == "ada@example.org" and added["confirmed_at"] is None
    code, out, _ = run(cli, "subscribers", "list", "--json")
    assert [s["address"] for s in json.loads(out)] == ["ada@example.org"]
    assert json.loads(run(cli, "subscribers", "pause", "ada@example.org", "--json")[1])["paused"] is True
    assert json.loads(run(cli, "subscribers", "resume", str(added["id"]), "--json")[1])["paused"] is False
    code, out, _ = run(cli, "subscribers", "list")
    assert code == 0 and "ada@example.org" in out
    assert run(cli, "subscribers", "remove", "ada@example.org")[0] == 0
    assert snapshot(db) == ([], [])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["subscribers", "add", "not-an-address"], "not an e-mail address"),
        (["subscribers", "add", "x3,evil3@evil.test"], "invalid characters before the @-sign: ','"),
        (["subscribers", "add", 'q"11@example.org'], "not an e-mail address"),
        (["subscribers", "add", "üser@exämple.org"], "Internationalized characters before the @-sign"),
        (["subscribers", "add", "ada@example.org\r\nBcc: eve@example.org"], "not an e-mail address"),
        (["subscribers", "add", "a@b.org", "--timezone", "Mars/Olympus"], "unknown IANA time zone"),
        (["subscribers", "add", "a@b.org", "--schedule", "hourly"], "unknown schedule"),
        (["subscribers", "add", "12", "--kind", "discord_user"], "not a Discord id"),
        (["subscribers", "add", "a@b.org", "--kind", "pigeon"], "unknown subscriber kind"),
        (["subscribers", "remove", "nobody@example.org"], "no subscriber"),
        (["subscribers", "pause", "999"], "no subscriber"),
        (["subscriptions", "add", "nobody@example.org", "llm"], "no subscriber"),
        (["subscriptions", "remove", "999"], "no subscription #999"),
        (["subscriptions", "pause", "999"], "no subscription #999"),
        (["subscriptions", "resume", "999"], "no subscription #999"),
    ],
)
def test_refusals_exit_non_zero_with_one_line(cli: CliRunner, db: Database, args: list[str], message: str) -> None:
    before = snapshot(db)
    code, _, err = run(cli, *args)
    assert code == 1
    assert message in err and err.count("\n") == 1
    assert snapshot(db) == before


def test_subscription_lifecycle(cli: CliRunner, db: Database) -> None:
    run(cli, "subscribers", "add", "ada@example.org")
    code, out, _ = run(cli, "subscriptions", "add", "ada@example.org", '"sparse autoencoder" -ti:survey', "--json")
    assert code == 0
    subscription = json.loads(out)
    assert subscription["query"] == '"sparse autoencoder" -ti:survey'
    sid = str(subscription["id"])
    code, out, _ = run(cli, "subscriptions", "list", "--subscriber", "ada@example.org", "--json")
    assert [s["id"] for s in json.loads(out)] == [subscription["id"]]
    assert "sparse autoencoder" in run(cli, "subscriptions", "list")[1]
    assert json.loads(run(cli, "subscriptions", "pause", sid, "--json")[1])["paused"] is True
    assert json.loads(run(cli, "subscriptions", "resume", sid, "--json")[1])["paused"] is False
    # the same query twice is a duplicate
    before = snapshot(db)
    code, _, err = run(cli, "subscriptions", "add", "ada@example.org", '"sparse autoencoder" -ti:survey')
    assert code == 1 and "already has the query" in err
    assert snapshot(db) == before
    assert run(cli, "subscriptions", "remove", sid)[0] == 0
    assert snapshot(db)[1] == []


@pytest.mark.parametrize("query", ['"sparse autoencoder', "(llm OR agents", "llm)", "llm AND", "-survey"])
def test_invalid_queries_are_refused_and_change_nothing(cli: CliRunner, db: Database, query: str) -> None:
    run(cli, "subscribers", "add", "ada@example.org")
    before = snapshot(db)
    # "--" ends the options, so a query may start with "-" as on any command line
    code, _, err = run(cli, "subscriptions", "add", "ada@example.org", "--", query)
    assert code == 1
    assert "invalid query" in err and "position" in err
    assert snapshot(db) == before


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://paperbell:hunter2@db.example.org/paperbell",
    "postgresql://paperbell:hun@ter2/x@db.example.org:5432/paperbell",  # unescaped @ and / in the password
    "postgresql://paperbell:hunter2@db.example.org:notaport/paperbell",  # does not parse
    "postgresql://paperbell:pa:hunter2@[db/paperbell",
    "postgresql://db.example.org/paperbell?password=hunter2&sslmode=require",
])
def test_config_show_never_prints_the_database_password(cli: CliRunner, monkeypatch: pytest.MonkeyPatch,
                                                         url: str) -> None:
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", url)
    _, out, err = run(cli, "config", "show", "--json")
    assert "hunter2" not in out + err and "ter2" not in out + err


def test_a_trending_subscription_from_the_cli(cli: CliRunner, db: Database) -> None:
    run(cli, "subscribers", "add", "ada@example.org")
    code, out, _ = run(cli, "subscriptions", "add", "ada@example.org", "--trending", "--top", "5")
    assert code == 0 and "the day's top 5 papers" in out
    code, out, _ = run(cli, "subscriptions", "list", "--json")
    assert [(s["query"], s["trending"], s["max_items"]) for s in json.loads(out)] == [("", True, 5)]
    assert "trending: the day's top 5 papers" in run(cli, "subscriptions", "list")[1]
    code, _, err = run(cli, "subscriptions", "add", "ada@example.org", "--trending")
    assert code == 1 and "already has the trending papers" in err
    code, _, err = run(cli, "subscriptions", "add", "ada@example.org", "llm", "--trending")
    assert code == 1 and err.startswith("error: --trending takes no query")
