"""Pending papers are re-checked against the subscription's CURRENT query when they are claimed: narrowing a
query (manage page, CLI) drops what it no longer matches, with the reason recorded, and "send now" sends
exactly what the preview showed. The bot's `/subscriptions edit:` is tested with the Discord double
(tests/bot/test_query_edits.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from digest.cli.main import app
from digest.email.digests import send_due_digests
from digest.email.preview import preview_digest
from digest.services import subscribers as service
from digest.services.claim_check import NO_LONGER_MATCHES
from digest.services.errors import Conflict
from digest.services.items import load_items
from digest.services.outbox import pending_rows
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Paper
from tests.digest.email.conftest import NOW, add_papers, add_subscriber, match
from tests.digest.email.smtp_double import SmtpDouble
from tests.digest.web.front import ORIGIN, asgi_client, mail_settings

PAPERS = [
    ("Diffusion models for protein design", "A diffusion model for proteins."),
    ("Video diffusion at scale", "A diffusion model for video."),
    ("Latent diffusion with fewer steps", "A faster diffusion sampler."),
]


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpDouble]:
    double = await SmtpDouble().start()
    yield double
    await double.stop()


@pytest.fixture
def web_settings(settings: Settings, smtp: SmtpDouble) -> Settings:
    return mail_settings(settings, smtp.port)


def ledger(db: Database, subscriber_id: int) -> dict[str, tuple[str, str | None]]:
    """Paper title → (delivery status, last error) for one subscriber."""
    with db.session() as session:
        rows = session.exec(select(Paper.title, Delivery.status, Delivery.last_error).join(
            Delivery, Delivery.paper_id == Paper.id).where(Delivery.subscriber_id == subscriber_id)).all()
    return {title: (status, error) for title, status, error in rows}


def narrowed(db: Database, subscriber_id: int) -> dict[str, tuple[str, str | None]]:
    return {title: state for title, state in ledger(db, subscriber_id).items() if "protein" not in title}


async def test_manage_page_edit_then_send_now_sends_what_the_preview_showed(
    web_settings: Settings, db: Database, smtp: SmtpDouble, tmp_path: Path
) -> None:
    from digest.services.tokens import Purpose, make_token

    ada = add_subscriber(db, web_settings, "ada@example.org", ["diffusion"])
    add_papers(db, PAPERS)
    assert match(db, web_settings) == 3
    [subscription] = service.list_subscriptions(db, subscriber_id=ada.id)
    url = f"/manage/{make_token(web_settings, Purpose.MANAGE, ada.id or 0, ada.address)}/settings"
    async for client in asgi_client(web_settings, db):
        edited = await client.post(url, data={"action": "query", "subscription_id": str(subscription.id),
                                              "query": "protein"}, headers=ORIGIN)
        assert edited.status_code == 303
        preview = await preview_digest(web_settings, db, ada.id or 0, out_dir=tmp_path)
        sent = await client.post(url, data={"action": "send_now"}, headers=ORIGIN)
        assert sent.headers["location"].endswith("done=sent")

    assert preview.papers == 1 and "protein design" in preview.text_path.read_text()
    [mail] = smtp.recorder.to("ada@example.org")
    body = mail.message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "protein design" in text and "Video diffusion" not in text and "fewer steps" not in text
    states = ledger(db, ada.id or 0)
    assert states["Diffusion models for protein design"][0] == DeliveryStatus.SENT
    assert narrowed(db, ada.id or 0) == {title: (DeliveryStatus.DROPPED.value, NO_LONGER_MATCHES)
                                         for title, _ in PAPERS[1:]}


@pytest.fixture
def cli(web_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(web_settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", web_settings.resolved_database_url())
    return CliRunner()


async def test_cli_edit_drops_pending_papers_at_the_next_send(
    cli: CliRunner, web_settings: Settings, db: Database, smtp: SmtpDouble
) -> None:
    ada = add_subscriber(db, web_settings, "ada@example.org", ["diffusion"])
    add_papers(db, PAPERS)
    match(db, web_settings)
    [subscription] = service.list_subscriptions(db, subscriber_id=ada.id)
    result = cli.invoke(app, ["subscriptions", "edit", str(subscription.id), "ti:protein"])
    assert result.exit_code == 0, result.output
    assert "ti:protein" in result.stdout and "will not be sent" in result.stdout
    assert len(pending_rows(db, ada.id or 0)) == 3, "nothing is touched until the papers are claimed"

    [outcome] = await send_due_digests(web_settings, db, NOW, subscriber_ref=ada.id, force=True)
    assert (outcome.status, outcome.papers) == ("sent", 1)
    assert narrowed(db, ada.id or 0) == {title: (DeliveryStatus.DROPPED.value, NO_LONGER_MATCHES)
                                         for title, _ in PAPERS[1:]}
    refused = cli.invoke(app, ["subscriptions", "edit", str(subscription.id), '"unclosed'])
    assert refused.exit_code != 0 and "Traceback" not in refused.output


async def test_a_digest_whose_papers_were_all_dropped_is_not_sent(
    web_settings: Settings, db: Database, smtp: SmtpDouble
) -> None:
    ada = add_subscriber(db, web_settings, "ada@example.org", ["diffusion"])
    add_papers(db, PAPERS)
    match(db, web_settings)
    [subscription] = service.list_subscriptions(db, subscriber_id=ada.id)
    service.edit_query(db, web_settings, subscription.id or 0, "ti:transformer")
    [outcome] = await send_due_digests(web_settings, db, NOW, subscriber_ref=ada.id, force=True)
    assert outcome.status == "empty" and smtp.recorder.received == []
    assert {state for state, _ in ledger(db, ada.id or 0).values()} == {DeliveryStatus.DROPPED.value}


async def test_widening_keeps_everything_and_removed_queries_still_deliver(
    web_settings: Settings, db: Database
) -> None:
    ada = add_subscriber(db, web_settings, "ada@example.org", ["diffusion", "ti:video"])
    add_papers(db, PAPERS)
    match(db, web_settings)
    first, second = service.list_subscriptions(db, subscriber_id=ada.id)
    service.edit_query(db, web_settings, first.id or 0, "diffusion OR protein")
    with pytest.raises(Conflict):
        service.edit_query(db, web_settings, first.id or 0, "ti:video")  # the other subscription's query
    service.remove_subscription(db, second.id or 0)
    items = await load_items(web_settings, db, pending_rows(db, ada.id or 0))
    assert sorted(i.title for i in items) == sorted(t for t, _ in PAPERS)
    assert DeliveryStatus.DROPPED.value not in {state for state, _ in ledger(db, ada.id or 0).values()}
