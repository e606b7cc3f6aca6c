"""The web app factory: `create_app(settings, db)` → a Starlette ASGI app served by uvicorn.

Called by the runtime's composition root (`digest.runtime.web_app`), which hands it the e-mail
channel's subscriber actions (`mail`: confirmation, send now) and the routes other packages own
(the bounce webhook, /healthz and /metrics) as `extra_routes`. Errors never show a stack trace: 404, 405 and 500
are plain pages.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from digest.services.channels import SubscriberMail
from digest.settings import Settings
from digest.web.api_routes import api_routes
from digest.web.conditional import ConditionalGet
from digest.web.day_routes import day_routes
from digest.web.email_routes import email_routes, message_page
from digest.web.feedback_routes import feedback_routes
from digest.web.feeds import feed_routes
from digest.web.limits import BodyLimit
from digest.web.manage_routes import manage_routes
from digest.web.reader_routes import reader_routes
from digest.web.site import WebFront
from digest.web.subscribe_routes import subscribe_routes
from digest.web.visitor_votes import visitor_vote_routes
from storage.db import Database

log = logging.getLogger(__name__)


async def _http_error(request: Request, exc: Exception) -> Response:
    code = exc.status_code if isinstance(exc, HTTPException) else 500
    titles = {404: "Page not found", 405: "Method not allowed", 403: "Request refused"}
    detail = exc.detail if code == 403 and isinstance(exc, HTTPException) else None  # says what to set
    return message_page(titles.get(code, "Error"), detail or titles.get(code, "The request could not be handled."),
                        status_code=code, error=True)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("web request %s %s failed", request.method, request.url.path, exc_info=exc)
    return message_page("Something went wrong", "The request could not be completed; nothing was changed.",
                        status_code=500, error=True)


def create_app(settings: Settings, db: Database, *, mail: SubscriberMail,
               extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    front = WebFront(settings, db, mail)  # the public pages' shared caches and rate limits
    routes: list[BaseRoute] = [
        *email_routes(settings, db), *day_routes(front), *subscribe_routes(front), *manage_routes(front),
        *feed_routes(front), *api_routes(front), *feedback_routes(settings, db), *reader_routes(front),
        *visitor_vote_routes(front),
        *extra_routes,
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        # gzip outermost, so the ETag (digest.web.conditional) is of the page, not of one encoding; bodies
        # counted while they stream, before any route parses them (chunked bodies too)
        middleware=[Middleware(GZipMiddleware, minimum_size=1000), Middleware(ConditionalGet),
                    Middleware(BodyLimit, default_max=settings.web_max_body_bytes)],
    )
    app.state.settings = settings
    app.state.db = db
    app.state.front = front  # bench/web.py reaches the render cache to measure without it
    return app
