"""A local Telegram Bot API double (see server.py)."""

from tests.digest.telegram.double.server import TelegramDouble

__all__ = ["TelegramDouble"]
