"""Service functions: the one place the CLI, the Discord bot and the scheduler change state.

Each function takes the `Database` (and `Settings` where needed) explicitly, runs one
transaction, and raises `digest.services.errors.ServiceError` subclasses with a one-line
message on refusal, so every front end can show the same reason.
"""
