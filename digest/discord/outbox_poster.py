"""The Discord poster used when no bot token is set: each message written as JSON into <outbox>/discord/.

`paperbell demo` and the tests post through it; files are named by the message's nonce, so a re-send
of the same papers overwrites its file instead of adding one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from digest.discord.delivery import TransientBackoff
from digest.discord.placement import Placement
from digest.settings import Settings
from storage.models import Subscriber

log = logging.getLogger(__name__)


class OutboxPoster:
    """Writes each message as JSON into <outbox>/discord/ (used when no bot token is set; the demo relies on it)."""

    def __init__(self, settings: Settings) -> None:
        self.folder = settings.resolved_outbox_dir() / "discord"
        self.backoff = TransientBackoff()

    async def post(self, kind: str, address: str, message: dict[str, Any], *, nonce: str,
                   placement: Placement | None = None) -> str:
        # Named by the nonce: a re-send of the same papers overwrites the same file instead of adding one.
        name = f"{kind}-{re.sub(r'[^0-9A-Za-z]', '_', address)}-{nonce}.json"
        record = {"target": {"kind": kind, "address": address}, "nonce": nonce, "message": message,
                  "placement": asdict(placement) if placement else None}
        await asyncio.to_thread(_write_atomically, self.folder / name, json.dumps(record, indent=2, ensure_ascii=False))
        return f"outbox:{name}"

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        log.warning("discord subscriber %s paused: %s", subscriber.address, reason)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
