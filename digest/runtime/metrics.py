"""Prometheus metrics of the running service, on a dedicated CollectorRegistry (never the global one).

Built once by `digest.runtime.app`; jobs record ingest/match/job-duration figures here, and the
ledger collector reads delivery totals, pending counts and the outbox age from the database at
scrape time, so every process's `/metrics` shows the cluster-wide outbox state.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from digest.email import failures as email_failures
from digest.services import match_sets, outbox_counts
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Subscriber

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class LedgerCollector(Collector):
    """Delivery figures straight from the ledger: sent/failed totals and pending per channel kind."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        sent = CounterMetricFamily("paperbell_deliveries_sent", "Deliveries sent (ledger)", labels=["kind"])
        failed = CounterMetricFamily("paperbell_deliveries_failed", "Deliveries failed for good", labels=["kind"])
        pending = GaugeMetricFamily("paperbell_deliveries_pending", "Deliveries waiting or in flight", labels=["kind"])
        age = GaugeMetricFamily("paperbell_outbox_oldest_pending_seconds", "Age of the oldest undelivered row")
        d, s = Delivery.__table__, Subscriber.__table__  # type: ignore[attr-defined]
        with self.db.session() as session:
            rows = session.execute(
                select(s.c.kind, d.c.status, func.count())
                .select_from(d.join(s, s.c.id == d.c.subscriber_id))
                .group_by(s.c.kind, d.c.status)
            ).all()
            waiting_sets = match_sets.waiting_by_kind(session)  # matched, not expanded into rows yet
        totals: dict[tuple[str, str], int] = {(str(k), str(st)): int(n) for k, st, n in rows}
        for kind, waiting in waiting_sets.items():
            key = (kind, DeliveryStatus.PENDING.value)
            totals[key] = totals.get(key, 0) + waiting
        kinds = sorted({kind for kind, _ in totals})
        for kind in kinds:
            sent.add_metric([kind], totals.get((kind, DeliveryStatus.SENT.value), 0))
            failed.add_metric([kind], totals.get((kind, DeliveryStatus.FAILED.value), 0))
            waiting = totals.get((kind, DeliveryStatus.PENDING.value), 0)
            pending.add_metric([kind], waiting + totals.get((kind, DeliveryStatus.SENDING.value), 0))
        age.add_metric([], outbox_counts.oldest_pending_age(self.db) or 0.0)
        mail = GaugeMetricFamily("paperbell_email_subscribers",
                                 "E-mail subscribers paused (any reason) or backing off", labels=["state"])
        for state, count in email_failures.failing_counts(self.db).items():
            mail.add_metric([state], count)
        yield from (sent, failed, pending, age, mail)


class Metrics:
    """The service's metrics; one instance per process."""

    def __init__(self, db: Database | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.papers_ingested = Counter("paperbell_papers_ingested", "New papers stored", ["source"], registry=r)
        self.papers_updated = Counter("paperbell_papers_updated", "Known papers updated", ["source"], registry=r)
        self.source_runs = Counter("paperbell_source_runs", "Source runs by outcome", ["source", "status"], registry=r)
        self.source_errors = Counter("paperbell_source_errors", "Source runs that failed", ["source"], registry=r)
        self.matches = Counter("paperbell_matches", "(subscriber, paper) matches recorded by matching", registry=r)
        self.job_duration = Histogram(
            "paperbell_job_duration_seconds",
            "Duration of scheduler jobs and sender passes",
            ["job"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
            registry=r,
        )
        self.job_runs = Counter("paperbell_job_runs", "Job runs by outcome", ["job", "status"], registry=r)
        self.messages_sent = Counter(
            "paperbell_messages_sent", "Messages sent by this process", ["kind"], registry=r
        )
        if db is not None:
            r.register(LedgerCollector(db))

    def render(self) -> bytes:
        """The text exposition (blocking: the ledger collector queries the database)."""
        from digest.summaries.llm import SUMMARY_REGISTRY

        return generate_latest(self.registry) + generate_latest(SUMMARY_REGISTRY)
