"""The Slack channel: incoming webhooks and a Slack app (`/paperbell`, vote buttons) (docs/guides/slack.md)."""
