"""The web front as `paperbell run` serves it: the web package's app with what other packages add.

The e-mail channel gives the front its subscriber actions (confirmation mail, "send my next digest
now") and its bounce webhook; each registered chat channel its routes (a slash command, buttons:
digest.runtime.channels.chat_routes); the runtime adds /healthz and /metrics. Tests and benchmarks build
the app here too, so they exercise what is served.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from digest.email.channel import EmailChannel
from digest.email.inbound.webhooks import webhook_routes
from digest.runtime.channels import chat_routes
from digest.settings import Settings
from digest.web.app import create_app
from storage.db import Database


def web_app(settings: Settings, db: Database, *, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The whole web front on these settings and database."""
    routes = [*webhook_routes(settings, db), *chat_routes(settings, db), *extra_routes]
    return create_app(settings, db, mail=EmailChannel(settings, db), extra_routes=routes)
