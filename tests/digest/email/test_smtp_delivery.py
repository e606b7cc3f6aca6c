"""Digests over a real SMTP server: headers, both parts, links, escaping, size, ledger, failures, opt-in."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from sqlmodel import col, select

from digest.email.digests import send_due_digests
from digest.email.send import SmtpTransport
from digest.services import match_sets
from digest.services.tokens import Purpose, read_token
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, Subscriber
from tests.digest.email.conftest import NOW, add_papers, add_subscriber, match
from tests.digest.email.smtp_double import SmtpDouble, SmtpRecorder

LATER = NOW + timedelta(hours=7)  # past the longest backoff, still in the same daily period
EVIL_TITLE = "<script>alert('x')</script> Sparse autoencoders & friends"


def deliveries(db: Database) -> list[Delivery]:
    """The ledger as delivery reads it: recorded matches expanded into rows first."""
    match_sets.expand_now(db)
    with db.session() as session:
        return list(session.exec(select(Delivery).order_by(col(Delivery.id))).all())


def subscriber(db: Database, address: str) -> Subscriber:
    with db.session() as session:
        row = session.exec(select(Subscriber).where(Subscriber.address == address)).one()
        return row


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def transport(settings: Settings) -> SmtpTransport:
    return SmtpTransport(settings, retry_base_delay=0.001)


async def test_digest_arrives_with_every_header_both_parts_and_escaping(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder
) -> None:
    add_papers(db, [(EVIL_TITLE, "We train sparse autoencoders. It works well."),
                    ("Interpretability of transformers", "A study of interpretable circuits.")])
    add_subscriber(db, mail_settings, "ada@example.org", ['"sparse autoencoders" OR interpretab*'])
    assert match(db, mail_settings) == 2

    results = await send_due_digests(mail_settings, db, NOW, transport=transport(mail_settings))

    assert [(r.status, r.papers) for r in results] == [("sent", 2)]
    assert len(recorder.received) == 1
    got = recorder.received[0]
    assert got.rcpt_tos == ["ada@example.org"]
    message = got.message
    assert message.get_content_type() == "multipart/alternative"
    assert message["From"] == "paperbell <digest@paperbell.test>"
    assert message["To"] == "ada@example.org"
    assert parsedate_to_datetime(message["Date"]) == NOW
    assert re.fullmatch(r"<pb\.\d+\.[0-9a-f]{32}@paperbell\.test>", message["Message-ID"])
    assert message["Subject"] == "paperbell: 2 new papers — Mon 02 Mar 2026"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(https://paperbell\.test/unsubscribe/[^>]+)>, <(mailto:[^>]+)>",
                               message["List-Unsubscribe"].strip())
    assert unsubscribe is not None
    assert unsubscribe.group(2).startswith("mailto:digest@paperbell.test?subject=unsubscribe")
    token = unsubscribe.group(1).rsplit("/", 1)[1]
    assert read_token(mail_settings, Purpose.UNSUBSCRIBE, token).matches("ada@example.org")

    text, html = parts(message)
    # escaping: the title is shown as text in HTML, verbatim in the text part
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert EVIL_TITLE in text
    assert "&amp; friends" in html
    # links and highlighting
    assert unsubscribe.group(1) in html and unsubscribe.group(1) in text
    assert re.search(r'href="https://paperbell\.test/manage/[^"]+"', html)
    assert 'href="https://arxiv.org/abs/2603.' in html
    assert "<mark" in html and ">Interpretability</mark>" in html
    assert 'style="' in html  # CSS inlined
    assert "prefers-color-scheme: dark" in html  # dark mode kept as an at-rule
    assert len(html.encode()) < mail_settings.digest_max_html_bytes

    # ledger: recorded at once with the Message-ID that went out
    rows = deliveries(db)
    assert {(r.status, r.message_id) for r in rows} == {("sent", message["Message-ID"])}
    assert subscriber(db, "ada@example.org").last_digest_at == NOW

    # a second send in the same period sends nothing
    again = await send_due_digests(mail_settings, db, NOW.replace(hour=23), transport=transport(mail_settings))
    assert [r.status for r in again] == ["not_due"]
    forced = await send_due_digests(mail_settings, db, NOW.replace(hour=23), force=True,
                                    transport=transport(mail_settings))
    assert [(r.status, r.papers) for r in forced] == [("empty", 0)]
    assert len(recorder.received) == 1


async def test_one_connection_is_reused_for_many_messages(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder
) -> None:
    settings = mail_settings.model_copy(update={"smtp_concurrency": 1})
    add_papers(db, [("Diffusion for video", "Video diffusion models.")])
    for n in range(4):
        add_subscriber(db, settings, f"u{n}@example.org", ["diffusion"])
    match(db, settings)
    sender = transport(settings)
    results = await send_due_digests(settings, db, NOW, transport=sender)
    await sender.close()
    assert sorted(r.status for r in results) == ["sent"] * 4
    assert len(recorder.received) == 4
    assert recorder.connections == 1 and sender.connections_opened == 1


@pytest.mark.parametrize(
    ("plan", "drop", "retries", "status", "received", "pending_after"),
    [
        (["451 4.3.0 mailbox busy"], 0, 2, "sent", 1, 0),  # temporary, retried, delivered
        (["451 4.3.0 busy", "451 4.3.0 busy"], 0, 1, "failed", 0, 1),  # retries exhausted
        ([], 1, 2, "sent", 1, 0),  # connection dropped during DATA, retried on a new connection
        ([], 1, 0, "failed", 0, 1),
        (["550 5.1.1 no such user"], 0, 3, "bounced", 0, 1),  # permanent: never retried
    ],
)
async def test_failures_are_retried_or_counted(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder,
    plan: list[str], drop: int, retries: int, status: str, received: int, pending_after: int,
) -> None:
    settings = mail_settings.model_copy(update={"smtp_max_retries": retries})
    add_papers(db, [("Diffusion for video", "Video diffusion models.")])
    add_subscriber(db, settings, "bob@example.org", ["diffusion"])
    match(db, settings)
    recorder.plan["bob@example.org"] = list(plan)
    recorder.drop_data = drop

    results = await send_due_digests(settings, db, NOW, transport=transport(settings))

    assert [r.status for r in results] == [status]
    assert len(recorder.received) == received
    rows = deliveries(db)
    assert sum(r.status == "pending" for r in rows) == pending_after
    if pending_after:
        # "not sent" in the ledger, with why, and the next run delivers the same message
        assert rows[0].last_error and rows[0].attempts == 1
        assert subscriber(db, "bob@example.org").last_digest_at is None
        first_id = rows[0].message_id
        recorder.plan.clear()
        recorder.drop_data = 0
        # the failing subscriber backs off: the next pass at once leaves them alone
        assert [r.status for r in await send_due_digests(settings, db, NOW, transport=transport(settings))] == [
            "backoff"]
        retry = await send_due_digests(settings, db, LATER, transport=transport(settings))
        assert [r.status for r in retry] == ["sent"]
        assert recorder.received[-1].message["Message-ID"] == first_id
    if status == "bounced":
        assert subscriber(db, "bob@example.org").bounce_count == 0  # reset by the later success
    if drop and status == "sent":
        assert recorder.connections == 2


async def test_permanent_failures_pause_the_address_at_the_threshold(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder
) -> None:
    settings = mail_settings.model_copy(update={"bounce_pause_threshold": 2})
    add_papers(db, [("Diffusion for video", "Video diffusion models.")])
    add_subscriber(db, settings, "gone@example.org", ["diffusion"])
    match(db, settings)
    recorder.plan["gone@example.org"] = ["550 5.1.1 user unknown"] * 5

    first = await send_due_digests(settings, db, NOW, transport=transport(settings))
    assert [r.status for r in first] == ["bounced"]
    assert subscriber(db, "gone@example.org").paused is False
    second = await send_due_digests(settings, db, LATER, transport=transport(settings))
    assert [r.status for r in second] == ["bounced"]
    row = subscriber(db, "gone@example.org")
    assert row.paused and row.bounce_count == 2
    assert row.pause_reason and "550 5.1.1 user unknown" in row.pause_reason
    # paused: no more attempts, paper still waiting in the ledger
    assert await send_due_digests(settings, db, LATER, transport=transport(settings)) == []
    assert [r.status for r in deliveries(db)] == ["pending"]
    assert recorder.received == []


async def test_unconfirmed_address_gets_only_the_confirmation_mail(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder
) -> None:
    add_papers(db, [("Diffusion for video", "Video diffusion models.")])
    add_subscriber(db, mail_settings, "new@example.org", ["diffusion"], confirmed=False)
    match(db, mail_settings)

    for _ in range(2):
        await send_due_digests(mail_settings, db, NOW, force=True, transport=transport(mail_settings))

    assert len(recorder.received) == 1
    message = recorder.received[0].message
    assert message["Subject"] == "Confirm your paperbell subscription"
    text, html = parts(message)
    link = re.search(r"https://paperbell\.test/confirm/\S+", text)
    assert link is not None and link.group(0) in html
    claims = read_token(mail_settings, Purpose.CONFIRM, link.group(0).rsplit("/", 1)[1])
    assert claims.matches("new@example.org")
    assert message["List-Unsubscribe"] is not None
    assert [r.status for r in deliveries(db)] == ["pending"]  # the paper waits for consent
    assert subscriber(db, "new@example.org").confirmation_sent_at == NOW


async def test_oversized_digest_is_capped_and_the_rest_follows_next_time(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder
) -> None:
    settings = mail_settings.model_copy(update={"digest_max_html_bytes": 12_000})
    abstract = "We study diffusion models at length. " + "Details follow here. " * 20
    add_papers(db, [(f"Diffusion paper {n}", abstract) for n in range(40)],
               authors=[f"Author {n}" for n in range(30)])
    add_subscriber(db, settings, "big@example.org", ["diffusion"])
    assert match(db, settings) == 40

    result = (await send_due_digests(settings, db, NOW, transport=transport(settings)))[0]
    assert result.status == "sent" and 0 < result.papers < 40 and result.papers + result.held_back == 40
    _, html = parts(recorder.received[0].message)
    assert len(html.encode()) <= 12_000
    assert f"And {result.held_back} more" in html
    assert "et al. (30 authors)" in html  # long author lists are shortened
    rows = deliveries(db)
    held = [r for r in rows if r.status == "pending"]
    assert len(held) == result.held_back and all(r.message_id is None for r in held)

    following = await send_due_digests(settings, db, NOW, force=True, transport=transport(settings))
    assert following[0].papers > 0
    assert recorder.received[1].message["Message-ID"] != recorder.received[0].message["Message-ID"]


async def test_without_smtp_host_mail_goes_to_the_outbox(settings: Settings, db: Database) -> None:
    add_papers(db, [("Diffusion for video", "Video diffusion models.")])
    add_subscriber(db, settings, "ada@example.org", ["diffusion"])
    match(db, settings)
    results = await send_due_digests(settings, db, NOW)
    assert results[0].status == "sent" and results[0].path
    folder = settings.resolved_outbox_dir() / "email"
    emls, htmls = sorted(folder.glob("*.eml")), sorted(folder.glob("*.html"))
    assert len(emls) == 1 and len(htmls) == 1
    import email
    import email.policy

    message = email.message_from_bytes(emls[0].read_bytes(), policy=email.policy.default)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Diffusion for video" in htmls[0].read_text()


async def test_starttls_and_auth_use_the_same_path(
    mail_settings: Settings, db: Database, smtp: SmtpDouble
) -> None:
    # Security "none" against a server without TLS works; asking for STARTTLS there fails cleanly.
    from digest.settings import SmtpSecurity

    settings = mail_settings.model_copy(update={"smtp_security": SmtpSecurity.STARTTLS, "smtp_max_retries": 0})
    add_papers(db, [("Diffusion for video", "Video diffusion models.")])
    add_subscriber(db, settings, "ada@example.org", ["diffusion"])
    match(db, settings)
    results = await send_due_digests(settings, db, NOW, transport=transport(settings))
    assert results[0].status == "failed" and results[0].error
    assert [r.status for r in deliveries(db)] == ["pending"]


async def test_many_subscribers_in_chunks_with_dry_run_first(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder
) -> None:
    add_papers(db, [("Diffusion for video", "Video diffusion models."), ("Quantum error correction", "Qubits.")])
    addresses = [f"c{n}@example.org" for n in range(5)]
    for n, address in enumerate(addresses):
        add_subscriber(db, mail_settings, address, ["diffusion" if n % 2 == 0 else "graphene"])
    match(db, mail_settings)

    dry = await send_due_digests(mail_settings, db, NOW, dry_run=True, transport=transport(mail_settings))
    assert [(r.status, r.papers) for r in dry] == [("dry_run", 1), ("dry_run", 0)] * 2 + [("dry_run", 1)]
    assert recorder.received == [] and {r.status for r in deliveries(db)} == {"pending"}

    results = await send_due_digests(mail_settings, db, NOW, transport=transport(mail_settings))
    assert [(r.address, r.status, r.papers) for r in results] == [
        (address, "sent" if n % 2 == 0 else "empty", 1 if n % 2 == 0 else 0) for n, address in enumerate(addresses)
    ]
    assert sorted(r.rcpt_tos[0] for r in recorder.received) == addresses[0::2]
    assert all(subscriber(db, address).last_digest_at == NOW for address in addresses)
