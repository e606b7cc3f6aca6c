"""The ntfy channel's settings: the server, its token and the pacing below ntfy.sh's limits.

Composed by the composition root (digest.runtime.channels) into the settings class a process reads,
so each field is read from `PAPERBELL_<NAME>` and shown by `paperbell config show` (docs/guides/ntfy.md).
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from digest.settings import Settings


class NtfySettings(Settings):
    """Settings with the ntfy channel's fields."""

    # built once, as part of the composed class (digest.runtime.channels), not on its own at import
    model_config = SettingsConfigDict(defer_build=True)

    ntfy_url: str | None = Field(
        default=None, description="ntfy server (e.g. https://ntfy.sh); unset = ntfy topics stay pending."
    )
    ntfy_token: SecretStr | None = Field(
        default=None, description="ntfy access token (Bearer) for protected topics; unset = anonymous."
    )
    ntfy_rate: float = Field(
        default=0.2, gt=0, description="Publishes/s at most (ntfy.sh: a burst of 60, then one per 5 s per visitor)."
    )
    ntfy_burst: int = Field(
        default=50, ge=1, le=60, description="Publishes sent at once before the rate applies (ntfy.sh bucket: 60)."
    )
