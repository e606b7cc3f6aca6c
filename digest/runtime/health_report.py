"""After every cycle, a short delivery health report to the admins: by e-mail and/or the Discord notify channel.

Papers per source, deliveries per channel, failures with their reasons, the arrival calendar's
word on a quiet day, readers' queries that matched nothing in 30 days. `report_lines` is pure;
`send_health_report` delivers it through the
configured mail transport (`PAPERBELL_ADMIN_EMAILS`) and Discord's REST API
(`PAPERBELL_ADMIN_DISCORD_CHANNEL`, needs `PAPERBELL_DISCORD_TOKEN`). A report that cannot be
delivered is logged and never fails the cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING, Any

from digest.core.arrivals import arxiv_notice, uses_arxiv
from storage.types import utcnow

if TYPE_CHECKING:
    from digest.runtime.once import CycleReport
    from digest.settings import Settings
    from storage.db import Database

log = logging.getLogger(__name__)
DISCORD_CONTENT_MAX = 2000  # Discord's limit on a message's content


def report_lines(report: CycleReport, sources: list[str], silent: Sequence[dict[str, Any]] = ()) -> list[str]:
    """The report as plain lines (email body; Discord content); `silent`: queries that matched nothing in 30 days."""
    state = "ok" if report.ok else f"{len(report.failures)} problem(s)"
    lines = [f"paperbell cycle {report.started_at:%Y-%m-%d %H:%M} UTC: {state}"]
    notice = arxiv_notice(report.started_at) if uses_arxiv(sources) else None
    if notice:
        lines.append(notice[0].upper() + notice[1:])
    lines.append("Papers per source:")
    lines += [f"  {r.source}: {r.new} new, {r.updated} updated ({r.status})" for r in report.ingest] or ["  none"]
    lines.append(f"Matching: {report.new_deliveries} new matches")
    email = ", ".join(f"{n} {status}" for status, n in sorted(report.email.items())) or "none due"
    lines.append(f"Deliveries: email {email}; Discord {report.discord_messages} message(s)")
    if report.failures:
        lines.append("Failures:")
        lines += [f"  {reason}" for reason in report.failures]
    if silent:  # their readers get a weekly note with near misses; an admin may want to help
        lines.append(f"Queries that matched nothing in 30 days: {len(silent)}{'+' if len(silent) >= 50 else ''}")
        lines += [f"  #{q['subscription_id']} (subscriber #{q['subscriber_id']}): {q['query']}" for q in silent[:5]]
    return lines


async def send_health_report(settings: Settings, report: CycleReport, db: Database | None = None) -> list[str]:
    """Send the report to every configured admin destination; returns the ones that failed, with reasons."""
    from digest.services.query_health import silent_queries

    try:
        silent = await db.run(silent_queries, db, utcnow()) if db is not None else []
    except Exception:  # the report goes out without that list rather than not at all
        log.exception("health report: silent queries not read")
        silent = []
    lines = report_lines(report, list(settings.sources), silent)
    problems: list[str] = []
    if settings.admin_emails:
        problems += await _mail(settings, lines)
    if settings.admin_discord_channel:
        problems += await _discord(settings, lines)
    for problem in problems:
        log.warning("health report not delivered: %s", problem)
    return problems


async def _mail(settings: Settings, lines: list[str]) -> list[str]:
    from digest.email.send import make_transport

    transport = make_transport(settings)
    problems = []
    try:
        for address in settings.admin_emails:
            message = EmailMessage()
            message["From"] = settings.mail_from
            message["To"] = address
            message["Subject"] = lines[0]
            message["Date"] = format_datetime(utcnow())
            message["Message-ID"] = make_msgid("health")
            message["Auto-Submitted"] = "auto-generated"
            message.set_content("\n".join(lines) + "\n")
            outcome = await transport.send(message)
            if not outcome.ok:
                problems.append(f"mail to {address}: {outcome.error}")
    finally:
        await transport.close()
    return problems


async def _discord(settings: Settings, lines: list[str]) -> list[str]:
    if settings.discord_token is None:
        return ["Discord notify channel set but PAPERBELL_DISCORD_TOKEN is not"]
    import httpx

    content = "\n".join(lines)
    if len(content) > DISCORD_CONTENT_MAX:
        content = content[: DISCORD_CONTENT_MAX - 1] + "…"
    url = f"{settings.discord_api_base.rstrip('/')}/channels/{settings.admin_discord_channel}/messages"
    headers = {"Authorization": f"Bot {settings.discord_token.get_secret_value()}"}
    body = {"content": content, "allowed_mentions": {"parse": []}}  # a report never pings anyone
    try:
        async with httpx.AsyncClient(timeout=settings.http_timeout) as client:
            response = await client.post(url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        return [f"Discord: {exc.__class__.__name__}: {exc}"]
    if response.status_code >= 300:
        return [f"Discord answered HTTP {response.status_code}: {response.text[:200]}"]
    return []
