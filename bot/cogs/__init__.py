"""The bot's slash commands, one cog per feature (subscriptions, search, digest, admin).

Loaded by `bot.client.create_bot`; each command validates its input, calls one `digest.services`
function and replies, with no matching or rendering logic of its own.
"""
