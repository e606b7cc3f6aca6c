"""The Slack channel's settings: the app's token and signing secret, the API bases, the pacing.

Composed by the composition root (digest.runtime.channels) into the settings class a process reads,
so each field is read from `PAPERBELL_<NAME>` and shown by `paperbell config show` (docs/guides/slack.md).
The API bases are settings so tests and benchmarks point the real client at a local double.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from digest.settings import Settings


class SlackSettings(Settings):
    """Settings with the Slack channel's fields."""

    # built once, as part of the composed class (digest.runtime.channels), not on its own at import
    model_config = SettingsConfigDict(defer_build=True)

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
