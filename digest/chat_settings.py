"""Settings of the chat channels (ntfy, Slack, and the other post-based channels).

Composed into `digest.settings.Settings` (which inherits these fields), so every field is still read
from `PAPERBELL_<NAME>` and shown by `paperbell config`. Each API base URL is a setting so tests and
benchmarks point the real client at a local double; each pacing field cites the platform limit it
stays below (docs/guides/ntfy.md, docs/guides/slack.md).
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class ChatSettings(BaseSettings):
    """Endpoints, credentials and pacing of the chat channels."""

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

    # --- ntfy ------------------------------------------------------------------------------
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

    # --- Slack -----------------------------------------------------------------------------
    slack_enabled: bool = Field(
        default=False, description="Post to Slack incoming webhooks (on by itself when a bot token is set)."
    )
    slack_bot_token: SecretStr | None = Field(
        default=None, description="Slack app bot token (xoxb-…); unset = Slack channels stay pending."
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Slack app signing secret; unset = /paperbell and buttons are refused."
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API base (tests point it at a double)."
    )
    slack_webhook_url: str = Field(
        default="https://hooks.slack.com/services/", description="Base of Slack incoming webhook URLs."
    )
    slack_rate: float = Field(
        default=1.0, gt=0, description="Posts/s per channel at most (chat.postMessage: about 1/s per channel)."
    )
    slack_global_rate: float = Field(
        default=20.0, gt=0, description="Web API calls/s at most across channels (well below Slack's per-app limits)."
    )

    # --- Telegram (a bot from @BotFather) ------------------------------------------------------
    telegram_token: SecretStr | None = Field(
        default=None, description="Telegram bot token from @BotFather; unset = Telegram chats stay pending."
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org/bot", description="Telegram Bot API base; the token follows (tests: a double)"
    )

    # --- Matrix (a bot account on a homeserver) --------------------------------------------------
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
