"""Shared services: the state changes every channel and front end goes through.

Ingest, matching (match_cache, match_sets, ledger_writes), the outbox and its liveness, subscribers,
suppression, feedback and likes, preview and backfill, signed tokens and vote links, and `items`
(pending ledger rows → digest items). The CLI, the Discord bot, the web front and the channels
call these; services never import a channel package or `bot` (the import contracts say so).
Functions take the `Database` (and `Settings` where needed) explicitly and raise
`digest.services.errors.ServiceError` subclasses with a one-line message on refusal, so every
front end can show the same reason. `channels` holds the `Channel` protocol channels implement.
"""
