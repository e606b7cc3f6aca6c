"""The ntfy channel behind the `Channel` protocol: the shared posting loop over `NtfyPlatform`.

Built by the composition root (digest.runtime.channels) when `PAPERBELL_NTFY_URL` is set; without it
ntfy topics keep their papers pending and `paperbell status` says why.
"""

from __future__ import annotations

from digest.ntfy.client import NtfyPlatform
from digest.ntfy.settings import NtfySettings
from digest.services.posting import PostingChannel
from storage.db import Database


def ntfy_channel(settings: NtfySettings, db: Database) -> PostingChannel:
    """The ntfy channel on these settings (`PAPERBELL_NTFY_URL` must be set)."""
    return PostingChannel(settings, db, NtfyPlatform(settings), "ntfy")
