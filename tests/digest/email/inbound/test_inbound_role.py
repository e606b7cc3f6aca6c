"""The inbound role over real SMTP/LMTP: DSNs, a non-standard bounce, an ARF complaint and mailto unsubscribes
change exactly the subscribers they are about; forgeries and everything else change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiosmtplib
import pytest
from sqlmodel import col, select

from digest.email.headers import verp_sender
from digest.email.inbound.server import InboundServer
from digest.services import subscribers as service
from digest.services.tokens import Purpose, make_token
from digest.settings import InboundProtocol, Settings
from storage.db import Database
from storage.deliverability_models import Suppression
from storage.models import Subscriber
from tests.digest.email.inbound import samples

NAMES = ("ada", "bob", "carol", "dave", "eve", "frank")


@pytest.fixture
def inbound_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"bounce_domain": "bounces.paperbell.test", "inbound_port": 0,
                                       "public_url": "https://paperbell.test"})


@pytest.fixture
async def server(inbound_settings: Settings, db: Database) -> AsyncIterator[InboundServer]:
    running = await InboundServer(inbound_settings, db).start()
    yield running
    await running.stop()


def people(db: Database, settings: Settings) -> dict[str, Subscriber]:
    return {n: service.add_subscriber(db, settings, "email", f"{n}@example.org", confirmed=True) for n in NAMES}


def state(db: Database) -> dict[str, Any]:
    with db.session() as session:
        rows = session.exec(select(Subscriber).order_by(col(Subscriber.id))).all()
        suppressed = session.exec(select(Suppression.address, Suppression.reason)).all()
    return {"subscribers": {r.address.split("@")[0]: (r.paused, r.bounce_count) for r in rows},
            "suppressed": dict(suppressed)}


async def deliver(server: InboundServer, raw: bytes, rcpt: str, sender: str = "") -> None:
    # bounces travel with the null reverse path (MAIL FROM:<>), as RFC 5321 §4.5.5 requires
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port, start_tls=False)
    async with client:
        await client.sendmail(sender, [rcpt], raw)


def verp(settings: Settings, subscriber: Subscriber) -> str:
    address = verp_sender(settings, subscriber.id or 0, subscriber.address)
    assert address is not None
    return address


def token(settings: Settings, subscriber: Subscriber) -> str:
    return make_token(settings, Purpose.UNSUBSCRIBE, subscriber.id or 0, subscriber.address)


async def test_each_report_changes_its_subscriber_and_nothing_else(
    inbound_settings: Settings, db: Database, server: InboundServer
) -> None:
    s = inbound_settings
    p = people(db, s)
    cases = [  # (mail, envelope recipient, who changes, expected (paused, bounce_count), suppression)
        (samples.dsn("ada@example.org", "failed", "5.1.1", "550 5.1.1 <ada@example.org>: User unknown",
                     verp(s, p["ada"])), verp(s, p["ada"]), "ada", (True, 0), "hard_bounce"),
        (samples.dsn("bob@example.org", "failed", "4.2.2", "452 4.2.2 Mailbox full", verp(s, p["bob"])),
         verp(s, p["bob"]), "bob", (False, 1), None),
        (samples.exim_bounce("carol@example.org", verp(s, p["carol"])), verp(s, p["carol"]), "carol", (True, 0),
         "hard_bounce"),
        (samples.arf("dave@example.org", token(s, p["dave"]), verp(s, p["dave"])), "fbl@bounces.paperbell.test",
         "dave", (True, 0), "complaint"),
        (samples.plain(f"unsubscribe {token(s, p['eve'])}", "unsubscribe@bounces.paperbell.test"),
         "unsubscribe@bounces.paperbell.test", "eve", (True, 0), None),
    ]
    for raw, rcpt, who, expected, suppression in cases:
        before = state(db)
        await deliver(server, raw, rcpt)
        after = state(db)
        assert after["subscribers"][who] == expected, (who, server.handler.outcomes[-1])
        changed = {n for n in NAMES if after["subscribers"][n] != before["subscribers"][n]}
        assert changed == {who}
        new = {a: r for a, r in after["suppressed"].items() if a not in before["suppressed"]}
        assert new == ({f"{who}@example.org": suppression} if suppression else {})
    assert state(db)["subscribers"]["frank"] == (False, 0)


async def test_forgeries_delays_and_auto_replies_change_nothing(
    inbound_settings: Settings, db: Database, server: InboundServer
) -> None:
    s = inbound_settings
    p = people(db, s)
    good = token(s, p["frank"])
    forged_token = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    forged_verp = verp(s, p["frank"]).replace("+", "+").split("-")[0] + "-0123456789abcdef@bounces.paperbell.test"
    before = state(db)
    await deliver(server, samples.plain(f"unsubscribe {forged_token}", "unsubscribe@bounces.paperbell.test"),
                  "unsubscribe@bounces.paperbell.test")
    await deliver(server, samples.plain("Re: unsubscribe me please", "unsubscribe@bounces.paperbell.test"),
                  "unsubscribe@bounces.paperbell.test")
    await deliver(server, samples.dsn("frank@example.org", "failed", "5.1.1", "550 5.1.1 unknown", forged_verp),
                  forged_verp)
    await deliver(server, samples.dsn("frank@example.org", "delayed", "4.4.7", "451 4.4.7 still trying",
                                      verp(s, p["frank"])), verp(s, p["frank"]))
    await deliver(server, samples.plain("Out of office", verp(s, p["frank"]), "I am away until Monday."),
                  verp(s, p["frank"]))
    # without a signed identifier, a complaint naming an address is not trusted when VERP is configured
    await deliver(server, samples.arf("frank@example.org", "x.y.z", "someone@else.org"),
                  "fbl@bounces.paperbell.test")
    assert state(db) == before
    assert [o.action for o in server.handler.outcomes] == ["ignored"] * 6
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await deliver(server, samples.plain("hi", "x@elsewhere.org"), "x@elsewhere.org")


async def test_lmtp_and_a_database_outage_asks_the_mta_to_retry(
    inbound_settings: Settings, db: Database
) -> None:
    s = inbound_settings.model_copy(update={"inbound_protocol": InboundProtocol.LMTP})
    p = people(db, s)
    lmtp = await InboundServer(s, db).start()
    try:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=lmtp.port, start_tls=False)
        await client.connect()
        greeting = await client.execute_command(b"LHLO", b"mx.test")
        assert greeting.code == 250
        client.last_ehlo_response = greeting  # LMTP's LHLO stands in for EHLO (aiosmtplib speaks SMTP)
        broken = Database("sqlite:////nonexistent/dir/db.sqlite")
        lmtp.handler.db = broken
        raw = samples.dsn("ada@example.org", "failed", "5.1.1", "550 unknown", verp(s, p["ada"]))
        await client.mail("")
        await client.rcpt(verp(s, p["ada"]))
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await client.data(raw)
        assert refused.value.code == 451
        client.close()
    finally:
        await lmtp.stop()
    assert state(db)["subscribers"]["ada"] == (False, 0)


async def test_the_inbound_role_of_paperbell_run_serves_and_stops(inbound_settings: Settings, db: Database) -> None:
    """`run --role inbound` through the runtime's composition root: a hard DSN lands, then a clean stop."""
    import asyncio
    import socket

    from digest.runtime.app import run_service

    with socket.socket() as probe:  # an ephemeral port the role can bind (the runtime reads the setting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    s = inbound_settings.model_copy(update={"inbound_port": port, "auto_migrate": False})
    p = people(db, s)
    stop = asyncio.Event()
    service_task = asyncio.create_task(run_service(s, {"inbound"}, stop=stop))
    raw = samples.dsn("ada@example.org", "failed", "5.1.1", "550 5.1.1 unknown", verp(s, p["ada"]))
    for _ in range(200):  # the role binds its port shortly after start-up
        try:
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
            await client.connect()
            break
        except (aiosmtplib.SMTPConnectError, OSError):
            await asyncio.sleep(0.05)
    async with client:
        await client.sendmail("", [verp(s, p["ada"])], raw)
    stop.set()
    assert await asyncio.wait_for(service_task, 30) == 0
    assert state(db)["subscribers"]["ada"] == (True, 0)
