"""Say at start when the address the web front listens on and `PAPERBELL_PUBLIC_URL` disagree.

Links in mail (confirm, manage, unsubscribe) and the forms' same-origin check use the public URL.
When it names this machine (localhost, 127.0.0.1) but another port, or the front listens for other
machines while the links say localhost, a newcomer's first confirmation link leads nowhere. A public
URL naming another host is left alone: a reverse proxy usually sits in front, which paperbell cannot see.
"""

from __future__ import annotations

import logging

from digest.settings import Settings
from digest.web.security import LOOPBACK_HOSTS, origin_of

log = logging.getLogger(__name__)
_EVERYWHERE = {"0.0.0.0", "::", ""}


def public_url_problem(settings: Settings, port: int) -> str | None:
    """One line saying what disagrees and what to set, or None."""
    public = origin_of(settings.public_url)
    if public is None:
        return (f"PAPERBELL_PUBLIC_URL={settings.public_url!r} is not an http(s) URL: links in mail will not work; "
                f"set it to the address people open, e.g. http://127.0.0.1:{port}")
    _scheme, host, public_port = public
    listen_host = settings.web_host.strip("[]")
    if host not in LOOPBACK_HOSTS:
        return None
    if public_port != port:
        shown = "127.0.0.1" if listen_host in _EVERYWHERE else listen_host
        return (f"PAPERBELL_PUBLIC_URL is {settings.public_url} but the web front listens on port {port}: links in "
                f"mail lead nowhere; set PAPERBELL_PUBLIC_URL=http://{shown}:{port}")
    if listen_host not in LOOPBACK_HOSTS:
        return (f"the web front listens on {listen_host or 'every address'} but PAPERBELL_PUBLIC_URL is "
                f"{settings.public_url}, which only works on this machine: set PAPERBELL_PUBLIC_URL to the address "
                "other people open (e.g. http://this-host.example:8080)")
    return None


def warn_about_public_url(settings: Settings, port: int) -> None:
    problem = public_url_problem(settings, port)
    if problem:
        log.warning("web: %s", problem)
