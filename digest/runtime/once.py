"""`paperbell run --once`: one whole cycle (ingest every configured source, match, deliver what is due), then exit.

For cron, a systemd timer or CI instead of the long-running service. Built on the same parts
(digest.runtime.parts) and the same services the scheduler's jobs call; each stage is isolated,
so a failing source does not stop matching or delivery, and every failure is reported with its
reason. Exit code: 0 when every stage succeeded, 1 otherwise (the reasons are printed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError

from digest.runtime.channels import discord_poster
from digest.runtime.metrics import Metrics
from digest.runtime.parts import Parts
from digest.services.channels import ChannelPass
from digest.services.ingest import IngestReport, ingest_sources
from storage.outage import storage_reason
from storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    """What one cycle did, in plain data (printed by the CLI, sent to admins as the health report)."""

    started_at: datetime
    ingest: list[IngestReport] = field(default_factory=list)
    matched_papers: int = 0
    new_deliveries: int = 0
    email: dict[str, int] = field(default_factory=dict)  # digest results per status
    discord_messages: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. why Discord posts were left for the bot
    failures: list[str] = field(default_factory=list)  # "stage: reason", one line each

    def record(self, delivered: ChannelPass) -> None:
        """One channel's pass, in the report's words."""
        if delivered.channel == "email":
            self.email = dict(delivered.statuses)
            self.failures += [f"email: {n} digest(s) {status}" for status, n in self.email.items()
                              if status in ("failed", "bounced")]
        else:
            self.discord_messages += delivered.messages
            self.failures += [f"{delivered.channel}: {line}" for line in delivered.failures]
        self.notes += delivered.notes

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "started_at": self.started_at.isoformat(),
            "sources": [r.to_dict() for r in self.ingest],
            "match": {"papers": self.matched_papers, "new_deliveries": self.new_deliveries},
            "email": self.email, "discord_messages": self.discord_messages,
            "notes": self.notes, "failures": self.failures,
        }


def _stage_failure(stage: str, exc: Exception) -> str:
    """The reason in one line; a storage error (disk full, database away) is logged without a traceback."""
    if isinstance(exc, DBAPIError):
        reason = storage_reason(exc)
        log.error("%s stage failed: %s", stage, reason)
        return reason
    log.exception("%s stage failed", stage)
    return f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"


async def run_cycle(parts: Parts, now: datetime | None = None) -> CycleReport:
    """Ingest → match → deliver once; never raises for a stage failure (it is recorded in `failures`)."""
    from digest.services.matching import run_match_cycle

    report = CycleReport(started_at=now or utcnow())
    settings, db = parts.settings, parts.db
    if not settings.sources:
        report.notes.append("no sources configured (PAPERBELL_SOURCES): nothing was fetched")
    report.ingest = await ingest_sources(settings, db, list(settings.sources), http=parts.http)
    report.failures += [f"source {r.source}: {r.error}" for r in report.ingest if r.status == "error"]
    matched = False
    try:
        match = await db.run(run_match_cycle, db, settings)
        report.matched_papers, report.new_deliveries = match.papers, match.matches_recorded
        matched = True
    except Exception as exc:
        report.failures.append(f"match: {_stage_failure('match', exc)}")
    poster, note = discord_poster(parts.settings, db)
    if note:
        report.notes.append(note)
    senders = parts.senders(Metrics(db), discord_poster=poster)
    try:
        for channel in senders.channels:
            try:
                # after a failed match "nothing pending" is not known: no digest period is used up on it
                delivered = await senders.deliver(channel.name, spend_empty_slots=matched)
            except Exception as exc:
                report.failures.append(f"delivery {channel.name}: {_stage_failure('delivery', exc)}")
                continue
            report.record(delivered)
    finally:
        await senders.close_channels()
    from digest.runtime.health_report import send_health_report

    report.notes += [f"health report not delivered: {p}" for p in await send_health_report(settings, report, db)]
    return report
