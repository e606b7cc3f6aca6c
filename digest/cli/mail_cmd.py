"""`paperbell mail check` (DNS records to publish + a local DKIM verification) and `paperbell suppression`.

`mail check` needs no database: it reads the settings, prints the DKIM TXT record built from the
configured key, SPF and DMARC suggestions (and the bounce domain's MX), then signs a test message
exactly as the senders do and verifies it with dkimpy against that record. Exit 1 when the local
verification fails. `suppression list|add|remove` is the admin's view of, and only override for,
the suppression list (digest.services.suppression).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from digest.cli.context import fail, get_settings, open_app, print_json, print_table

if TYPE_CHECKING:  # imported where used: `paperbell --help` should not pay for DKIM and the database
    from digest.email import dkim
    from digest.settings import Settings

mail_app = typer.Typer(help="Deliverability: DNS records to publish, local DKIM check, SMTP connection test.",
                       no_args_is_help=True)
suppression_app = typer.Typer(help="Addresses no mail may go to (hard bounces, complaints); admin override.",
                              no_args_is_help=True)


def _test_message(settings: Settings) -> bytes:
    from digest.email import dkim
    from digest.email.headers import outgoing_bytes
    from digest.email.message import build_message, sender_domain
    from digest.email.render import RenderedMail

    mail = RenderedMail(subject="paperbell DKIM test", text="test", html="<p>test</p>")
    message = build_message(
        settings, to_address="check@example.org", to_name=None, mail=mail,
        message_id=f"<check@{sender_domain(settings)}>", date=datetime.now(UTC),
        unsubscribe_url=f"{settings.public_url.rstrip('/')}/unsubscribe/test", subscriber_id=0,
    )
    return outgoing_bytes(message, dkim.load_key(settings))


def _records(settings: Settings, key: dkim.DkimKey | None) -> list[str]:
    from digest.email import dkim
    from digest.email.headers import unsubscribe_address, verp_sender
    from digest.email.message import sender_domain

    domain = sender_domain(settings)
    lines = []
    if key is not None:
        lines += [f"DKIM  {key.dns_name}. IN TXT {dkim.txt_strings(key.txt_record())}",
                  f"      ({key.bits}-bit RSA, selector {key.selector}, d={key.domain})"]
        if not (domain == key.domain or domain.endswith("." + key.domain)):
            lines.append(f"      warning: d={key.domain} is not aligned with the From domain {domain} (DMARC fails)")
    else:
        lines.append("DKIM  not configured: set PAPERBELL_DKIM_SELECTOR and PAPERBELL_DKIM_PRIVATE_KEY_PATH")
    envelope = settings.bounce_domain or domain
    relay = f" a:{settings.smtp_host}" if settings.smtp_host and settings.smtp_host not in ("localhost", "127.0.0.1") \
        else ""
    lines.append(f"SPF   {envelope}. IN TXT \"v=spf1 mx{relay} ~all\"   (add your relay's include: if it has one)")
    lines.append(f"DMARC _dmarc.{domain}. IN TXT \"v=DMARC1; p=none; rua=mailto:dmarc@{domain}; adkim=r; aspf=r\"")
    lines.append("      (start with p=none, read the reports, then move to p=quarantine)")
    if settings.bounce_domain:
        lines.append(f"MX    {settings.bounce_domain}. IN MX 10 <your MTA>   (forward it to the inbound role, "
                     f"{settings.inbound_host}:{settings.inbound_port} {settings.inbound_protocol.value})")
        lines.append(f"VERP  envelope sender e.g. {verp_sender(settings, 1, 'ada@example.org')}")
    lines.append(f"UNSUB mailto: unsubscribe goes to {unsubscribe_address(settings)}")
    return lines


@mail_app.command("check")
def mail_check() -> None:
    """Print the DNS records to publish and verify a signed test message locally with dkimpy."""
    from digest.email import dkim

    settings = get_settings()
    key = dkim.load_key(settings)
    for line in _records(settings, key):
        typer.echo(line)
    if key is None:
        return
    ok, signed = dkim.verify_locally(_test_message(settings), key)
    if not ok:
        fail("local DKIM verification of a signed test message failed")
    typer.echo(f"local DKIM verification: pass (h={':'.join(signed)})")


@mail_app.command("test")
def mail_test(
    to: Annotated[str | None, typer.Option("--to", help="Also send a short test message to this address.")] = None,
) -> None:
    """Connect, secure and log in to the SMTP server as the senders do (and send a test message with --to)."""
    import asyncio

    from digest.email.smtp_probe import probe

    settings = get_settings()
    if not settings.smtp_host:
        typer.echo(f"PAPERBELL_SMTP_HOST is not set: mail is written to {settings.resolved_outbox_dir() / 'email'} "
                   "instead of sent; set PAPERBELL_SMTP_HOST (and _PORT, _SECURITY) to send it")
        return
    problem = asyncio.run(probe(settings))
    if problem is not None:
        fail(problem)
    where = f"{settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security.value})"
    if to is None:
        typer.echo(f"SMTP server {where}: connected" + (", logged in" if settings.smtp_username else "") + ", ok")
        return
    sent = asyncio.run(_send_test(settings, to))
    if sent is not None:
        fail(f"the SMTP server {where} did not take the test message to {to}: {sent}")
    typer.echo(f"test message sent to {to} through {where}")


async def _send_test(settings: Settings, to: str) -> str | None:
    """None when the server accepted the message, else its reason."""
    from email.message import EmailMessage

    from digest.email.send import SendStatus, SmtpTransport

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.mail_from, to, "paperbell test message"
    message.set_content("paperbell can send mail through this server. Nothing else to do.\n")
    transport = SmtpTransport(settings, retry_base_delay=0.1)
    try:
        outcome = await transport.send(message)
    finally:
        await transport.close()
    return None if outcome.status is SendStatus.SENT else outcome.error or outcome.status.value


@suppression_app.command("list")
def suppression_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List suppressed addresses."""
    from digest.services import suppression as service

    with open_app() as app:
        rows = [row.model_dump(mode="json") for row in service.list_suppressions(app.db)]
    if as_json:
        print_json(rows)
        return
    print_table("suppressed", ("address", "reason", "source", "since", "events", "detail"),
                [(row["address"], row["reason"], row["source"], row["created_at"], row["events"], row["detail"])
                 for row in rows])


@suppression_app.command("add")
def suppression_add(address: Annotated[str, typer.Argument(help="Address to block.")],
                    note: Annotated[str | None, typer.Option(help="Why.")] = None) -> None:
    """Block an address by hand (its subscriber is paused)."""
    from digest.services import suppression as service

    with open_app() as app:
        row = service.suppress(app.db, address, service.SuppressionReason.MANUAL, source="admin", detail=note)
    typer.echo(f"suppressed {row.address}")


@suppression_app.command("remove")
def suppression_remove(address: Annotated[str, typer.Argument(help="Address to allow again.")]) -> None:
    """The admin override: allow mail to ADDRESS again (then `paperbell subscribers resume` it)."""
    from digest.services import suppression as service
    from digest.services.errors import ServiceError

    with open_app() as app:
        try:
            row = service.lift(app.db, address)
        except ServiceError as exc:
            fail(str(exc))
    typer.echo(f"removed {row.address} from the suppression list; resume its subscriber to mail it again")


def register(app: typer.Typer) -> None:
    app.add_typer(mail_app, name="mail")
    app.add_typer(suppression_app, name="suppression")
