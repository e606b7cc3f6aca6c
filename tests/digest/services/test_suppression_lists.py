"""Suppression is looked up for every e-mail subscriber of a pass at once: a list longer than one SQL
statement's bound parameters (PostgreSQL: 65,535; SQLite by default 32,766) must be read in slices, not fail
the pass."""

from __future__ import annotations

from digest.services.suppression import SuppressionReason, suppress, suppressed_among
from storage.db import IN_LIST_MAX, Database, in_slices


def test_seventy_thousand_addresses_are_looked_up_in_slices(db: Database) -> None:
    suppress(db, "Bounced@Example.org", SuppressionReason.HARD_BOUNCE, source="test")
    suppress(db, "reader69999@example.org", SuppressionReason.COMPLAINT, source="test")
    addresses = [f"reader{n}@example.org" for n in range(70_000)] + ["bounced@example.org"]
    assert suppressed_among(db, addresses) == {"bounced@example.org", "reader69999@example.org"}


def test_slices_cover_every_value_once_and_stay_under_the_bound() -> None:
    for count in (0, 1, IN_LIST_MAX, IN_LIST_MAX + 1, 3 * IN_LIST_MAX + 7):
        slices = list(in_slices(list(range(count))))
        assert [v for some in slices for v in some] == list(range(count))
        assert all(0 < len(some) <= IN_LIST_MAX for some in slices)
