"""After a failed match (disk full), the delivery stage uses up no digest period on a "nothing pending" it cannot know.

Both databases. The match stage fails with the storage error a full disk gives; a due subscriber with
nothing pending yet keeps its period (the papers the next match finds go out today, not tomorrow),
and the failure is one line. The control case: with a successful match the empty period is used up.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from digest.runtime.once import run_cycle
from digest.runtime.parts import build_parts
from digest.services import matching
from digest.services import subscribers as service
from digest.settings import Settings
from storage.types import utcnow
from tests.digest.runtime.procs import SmtpSink


def _disk_full(*_: object, **__: object) -> None:
    raise OperationalError("INSERT INTO match_sets …", {}, Exception("database or disk is full"))


@pytest.mark.parametrize("match_fails", [True, False], ids=["match-failed", "control"])
async def test_delivery_after_a_failed_match_uses_no_slot(settings: Settings, match_fails: bool,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with SmtpSink() as smtp:
        configured = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                                 "smtp_security": "none", "sources": []})
        parts = build_parts(configured, migrate=False)
        try:
            subscriber = service.add_subscriber(parts.db, configured, "email", "ada@example.org", confirmed=True,
                                                digest_hour=0)
            with parts.db.session() as session:  # due: created days ago, never sent
                row = session.get(type(subscriber), subscriber.id)
                assert row is not None
                row.created_at = utcnow() - timedelta(days=2)
                session.add(row)
            service.add_subscription(parts.db, configured, subscriber.id or 0, "diffusion")
            if match_fails:
                monkeypatch.setattr(matching, "run_match_cycle", _disk_full)
            report = await run_cycle(parts)
        finally:
            await parts.aclose()
        after = service.get_subscriber(parts.db, "ada@example.org")
    if match_fails:
        assert report.failures == ["match: database or disk is full (builtins.Exception)"]
        assert report.email == {"not_known": 1}
        assert after.last_digest_at is None  # the period stays open for the papers of the next match
    else:
        assert report.ok and report.email == {"empty": 1}
        assert after.last_digest_at is not None  # nothing pending, known: the period is used up
