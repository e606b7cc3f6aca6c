"""Can paperbell reach and log in to its SMTP server? One line naming the setting to check when not.

Used by `paperbell mail test` and, before a cycle sends anything, by `paperbell run --once`: a
server that refuses the connection, a host name that does not resolve, a TLS/STARTTLS mismatch
or a refused login is the operator's configuration, not a subscriber's problem, so it is reported
once as `error: …` instead of as one failed digest per subscriber (which would also put each of
them in back-off). `problem_of` turns the exception into that line; it is pure and table-tested.
"""

from __future__ import annotations

import socket
import ssl

from digest.settings import Settings, SmtpSecurity

HOST_PORT = "PAPERBELL_SMTP_HOST and PAPERBELL_SMTP_PORT"
SECURITY = "PAPERBELL_SMTP_SECURITY (none, starttls or tls) and PAPERBELL_SMTP_PORT"
LOGIN = "PAPERBELL_SMTP_USERNAME and PAPERBELL_SMTP_PASSWORD"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def problem_of(settings: Settings, exc: BaseException) -> str:
    """The one line (without `error: `) for a failure to connect, secure or log in."""
    import aiosmtplib

    where = f"the SMTP server {settings.smtp_host}:{settings.smtp_port}"
    cause: BaseException | None = exc
    while cause is not None:  # aiosmtplib wraps the socket error it met
        if isinstance(cause, socket.gaierror):
            return f"the SMTP host {settings.smtp_host!r} does not resolve ({_first_line(cause)}): check {HOST_PORT}"
        if isinstance(cause, ConnectionRefusedError):
            return f"{where} refused the connection (is a mail server listening there?): check {HOST_PORT}"
        if isinstance(cause, ssl.SSLError):
            return (f"TLS with {where} failed ({_first_line(cause)}; security={settings.smtp_security.value}): "
                    f"check {SECURITY}")
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return f"{where} refused the login ({exc.code} {exc.message}): check {LOGIN}"
    if isinstance(exc, aiosmtplib.SMTPNotSupported) and "auth" in str(exc).lower():
        return f"{where} offers no login (AUTH) on this connection: check {LOGIN} and {SECURITY}"
    if isinstance(exc, aiosmtplib.SMTPException) and "starttls" in str(exc).lower():
        return (f"{where} does not offer STARTTLS (a plain server?): set PAPERBELL_SMTP_SECURITY=none for a "
                f"local relay, or check {SECURITY}")
    if isinstance(exc, (TimeoutError, aiosmtplib.SMTPTimeoutError)):
        return (f"{where} did not answer within {settings.smtp_timeout:g} s "
                f"(security={settings.smtp_security.value}): check {HOST_PORT} and PAPERBELL_SMTP_SECURITY")
    return f"cannot use {where} ({type(exc).__name__}: {_first_line(exc)}): check {HOST_PORT} and {SECURITY}"


async def probe(settings: Settings, *, tls_context: ssl.SSLContext | None = None) -> str | None:
    """Connect, secure and log in as the sender will, then quit; None when all went well, else the one line."""
    import aiosmtplib

    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port, timeout=settings.smtp_timeout,
        username=settings.smtp_username or None, password=password if settings.smtp_username else None,
        use_tls=settings.smtp_security is SmtpSecurity.TLS,
        start_tls=settings.smtp_security is SmtpSecurity.STARTTLS, tls_context=tls_context,
    )
    try:
        await client.connect()  # also upgrades (STARTTLS) and logs in when those are configured
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        client.close()
        return problem_of(settings, exc)
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        client.close()
    return None
