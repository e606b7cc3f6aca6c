"""Settings shared by every chat channel: how the shared posting loop retries and sits out rate limits.

Composed into `digest.settings.Settings` (which inherits these fields), so every field is read from
`PAPERBELL_<NAME>` and shown by `paperbell config`. Each chat channel's own fields (its server, token,
pacing) live in its package (`digest.<channel>.settings`) and are composed in by the composition root.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class ChatSettings(BaseSettings):
    """Retry and rate-limit waits of the shared chat posting loop (digest.services.posting)."""

    # --- shared by every chat channel (digest.services.posting) ------------------------------
    chat_retry_base_seconds: float = Field(
        default=30.0, gt=0, description="First wait after a chat post failed for a passing reason; doubles per failure."
    )
    chat_retry_max_seconds: float = Field(
        default=1800.0, gt=0, description="Longest wait between tries for one chat target."
    )
    chat_max_ratelimit_wait: float = Field(
        default=30.0, gt=0, description="Longest 429 wait a chat post sits out before giving up and retrying later."
    )
