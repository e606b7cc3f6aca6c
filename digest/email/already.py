"""The mail a confirmed address gets when someone subscribes it again: "already subscribed — manage here".

Sent instead of a confirmation (digest.email.digests.send_confirmation), so a subscriber who forgot
they signed up gets a way forward instead of silence, and nothing about the subscription changes:
a stranger typing someone's address learns nothing and can add nothing. The web front's abuse
limits (per network, per address) apply before this is ever sent.
"""

from __future__ import annotations

from digest.core.templating import jinja_env
from digest.email.render import RenderedMail, inline_css


def render_already_subscribed(address: str, manage_url: str, unsubscribe_url: str, next_digest: str) -> RenderedMail:
    subject = "You are already subscribed to paperbell"
    context = {
        "subject": subject,
        "address": address,
        "manage_url": manage_url,
        "unsubscribe_url": unsubscribe_url,
        "next_digest": next_digest,
        "preheader": "Manage your digests from the link inside.",
    }
    env = jinja_env()
    html = inline_css(env.get_template("email/already_subscribed.html").render(context))
    text = env.get_template("email/already_subscribed.txt").render(context)
    return RenderedMail(subject=subject, html=html, text=text)
