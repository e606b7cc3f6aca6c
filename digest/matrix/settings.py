"""The Matrix channel's settings: the bot account on a homeserver and the pacing below its limits.

Composed by the composition root (digest.runtime.channels) into the settings class a process reads,
so each field is read from `PAPERBELL_<NAME>` and shown by `paperbell config show` (docs/guides/matrix.md).
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from digest.settings import Settings


class MatrixSettings(Settings):
    """Settings with the Matrix channel's fields."""

    # built once, as part of the composed class (digest.runtime.channels), not on its own at import
    model_config = SettingsConfigDict(defer_build=True)

    matrix_homeserver: str | None = Field(
        default=None, description="Matrix homeserver URL (https://matrix.org); unset = Matrix rooms stay pending."
    )
    matrix_user_id: str | None = Field(
        default=None, description="The bot account's Matrix id (@paperbell:example.org)."
    )
    matrix_access_token: SecretStr | None = Field(
        default=None, description="The bot account's access token (from a login; see the Matrix guide)."
    )
    matrix_device_id: str = Field(
        default="PAPERBELL", description="Device id of the access token; transaction ids are scoped to it."
    )
    matrix_rate: float = Field(
        default=0.18, gt=0, description="Events/s at most (Synapse's default rc_message: 0.2/s after a burst of 10)."
    )
    matrix_burst: int = Field(
        default=8, ge=1, description="Events sent at once before the rate applies (Synapse's default: 10; 2 spare)."
    )
