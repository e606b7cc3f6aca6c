"""What this process is working on: the claims it holds, and sends it could not record yet.

Used by digest.services.outbox (`claim` registers what it took; `mark_sent`/`release`/`mark_failed`
let go), the delivery services (`let_go` when a subscriber's turn ends, however it ends) and
digest.services.outbox_liveness (`recover_abandoned` gives back this process's own SENDING rows
that nothing here holds any more: a pass that failed half-way through a database restart leaves
them behind, and the process is the one witness that can prove they are not being sent).

A message the server accepted whose "sent" could not be written (the database stayed away past
the outage retry) is kept in `unrecorded`: those rows stay held, so no recovery hands them to
another sender, and the next recovery writes them as sent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

_guard = threading.Lock()
_held: set[int] = set()
_unrecorded: dict[int, str | None] = {}  # delivery id -> message id to record (None: keep the claim's)


def hold(delivery_ids: Iterable[int]) -> None:
    with _guard:
        _held.update(delivery_ids)


def let_go(delivery_ids: Iterable[int]) -> None:
    """This process no longer works on these rows (unless their "sent" still waits to be written)."""
    with _guard:
        for delivery_id in delivery_ids:
            if delivery_id not in _unrecorded:
                _held.discard(delivery_id)


def held() -> frozenset[int]:
    with _guard:
        return frozenset(_held)


def sent_but_unrecorded(delivery_ids: Iterable[int], message_id: str | None) -> None:
    """The server accepted these rows' message but the ledger write failed: keep them, record them later."""
    with _guard:
        for delivery_id in delivery_ids:
            _unrecorded[delivery_id] = message_id
            _held.add(delivery_id)


def unrecorded() -> dict[str | None, list[int]]:
    """Rows to write as sent, grouped by the message id to record."""
    with _guard:
        groups: dict[str | None, list[int]] = {}
        for delivery_id, message_id in _unrecorded.items():
            groups.setdefault(message_id, []).append(delivery_id)
        return groups


def recorded(delivery_ids: Iterable[int]) -> None:
    with _guard:
        for delivery_id in delivery_ids:
            _unrecorded.pop(delivery_id, None)
            _held.discard(delivery_id)
