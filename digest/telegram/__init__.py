"""Telegram channel: a bot posting paper alerts to private chats, groups and channels in Telegram's HTML."""
