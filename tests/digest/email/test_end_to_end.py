"""The issue's "done when": CLI subscriber → confirmed on the web app → exactly one digest per period over
real SMTP with every header → nothing more that period → one-click unsubscribe stops the next one."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from digest.cli.main import app
from digest.core.schedule import next_slot
from digest.runtime.web_app import web_app
from digest.services import subscribers as service
from digest.services.ingest import ingest_sources
from digest.services.matching import run_match_cycle
from digest.settings import Settings
from storage.db import Database
from tests.conftest import data_path
from tests.digest.email.smtp_double import SmtpDouble
from tests.digest.web.serve import serve


async def cli(*args: str) -> tuple[int, str]:
    # Typer commands call asyncio.run, so they run in a worker thread while this loop serves SMTP/HTTP.
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args))
    return result.exit_code, result.stdout + result.stderr


async def test_subscriber_from_cli_to_unsubscribe(
    settings: Settings, db: Database, smtp: SmtpDouble, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recorder = smtp.recorder
    async with serve(web_app(settings, db)) as base, httpx.AsyncClient() as http:
        monkeypatch.chdir(tmp_path)
        for name, value in {
            "DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.resolved_database_url(),
            "SECRET_KEY": "test-secret-key-0123456789-abcdefghij", "PUBLIC_URL": base, "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port), "SMTP_SECURITY": "none", "MAIL_FROM": "paperbell <bell@example.net>",
        }.items():
            monkeypatch.setenv(f"PAPERBELL_{name}", value)

        code, out = await cli("subscribers", "add", "ada@example.org", "--timezone", "Europe/Berlin", "--hour", "7")
        assert code == 0, out
        assert "next: confirmation mail sent to ada@example.org" in out  # sent at add time: mail is configured
        code, out = await cli("subscriptions", "add", "ada@example.org", '"sparse autoencoder" OR interpretab*')
        assert code == 0, out
        await ingest_sources(settings, db, [f"file:{data_path('corpus/seed_papers.jsonl')}"])
        assert (await db.run(run_match_cycle, db, settings)).matches_recorded > 0

        # 1. double opt-in: only the confirmation mail (sent by `subscribers add`), even with --now
        code, out = await cli("digest", "send", "--now", "--json")
        assert code == 0, out
        assert [r["status"] for r in json.loads(out)] == ["unconfirmed"]
        assert len(recorder.received) == 1
        confirm = re.search(rf"{re.escape(base)}/confirm/\S+", recorder.received[0].message.get_body(
            preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
        assert confirm is not None
        assert (await http.get(confirm.group(0))).status_code == 200
        assert (await http.post(confirm.group(0))).status_code == 200

        # 2. the first due slot: exactly one digest with every header
        subscriber = service.get_subscriber(db, "ada@example.org")
        slot = next_slot(subscriber, subscriber.created_at)
        at = (slot + timedelta(minutes=5)).isoformat()
        code, out = await cli("digest", "send", "--at", at, "--json")
        assert code == 0, out
        [result] = json.loads(out)
        assert result["status"] == "sent" and result["papers"] > 0
        assert len(recorder.received) == 2
        digest = recorder.received[1].message
        for header in ("From", "To", "Date", "Subject", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"):
            assert digest[header], header
        assert digest.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in digest.iter_parts()] == ["text/plain", "text/html"]
        assert digest["Message-ID"] == result["message_id"]

        # 3. same period again: nothing
        code, out = await cli("digest", "send", "--at", (slot + timedelta(hours=5)).isoformat(), "--json")
        assert [r["status"] for r in json.loads(out)] == ["not_due"]
        assert len(recorder.received) == 2

        # 4. one-click unsubscribe from the header stops the next one
        unsubscribe = re.match(r"<(http[^>]+)>", digest["List-Unsubscribe"].strip())
        assert unsubscribe is not None
        response = await http.post(unsubscribe.group(1), content=b"List-Unsubscribe=One-Click",
                                   headers={"content-type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200
        service.add_subscription(db, settings, "ada@example.org", "diffusion")
        await db.run(run_match_cycle, db, settings)
        code, out = await cli("digest", "send", "--at", (slot + timedelta(days=1, minutes=5)).isoformat(), "--json")
        assert code == 0 and json.loads(out) == []
        code, out = await cli("digest", "send", "--subscriber", "ada@example.org", "--now", "--json")
        assert [r["status"] for r in json.loads(out)] == ["paused"]
        assert len(recorder.received) == 2

        # preview still works and prints both paths
        code, out = await cli("digest", "preview", "ada@example.org")
        assert code == 0, out
        html_path, text_path = out.strip().splitlines()[-2:]
        assert Path(html_path).read_text().startswith("<!DOCTYPE html>") and Path(text_path).exists()
