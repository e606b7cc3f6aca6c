"""Atom feeds (RFC 4287): the recent day lists (`/feeds/days.atom`) and one per saved subscription
behind a private signed URL (`/feeds/subscription/{token}.atom`).

Feeds are built with xml.etree (never by string pasting) and every text is stripped of characters
XML 1.0 forbids, so one bad title cannot make the whole feed unreadable. A feed token signs the
subscription id and the owner's address fingerprint: it cannot be guessed, and stops working when
the subscription is deleted or its owner changes. Entry ids are stable (`urn:paperbell:paper:<id>`).
"""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digest.core.assembly import DigestItem
from digest.core.links import atom_href
from digest.query import QueryError
from digest.services import subscribers as service
from digest.services.errors import NotFound
from digest.services.tokens import address_fingerprint
from digest.settings import Settings
from digest.web.days import load_day
from digest.web.search import search_corpus
from digest.web.site import PAGE_HEADERS, PRIVATE_HEADERS, WebFront, notice_page

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
FEED_DAYS = 3  # the day feed carries the latest three days that have papers
SUBSCRIPTION_ENTRIES = 50
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
ET.register_namespace("", ATOM)


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.signing_key(), salt="paperbell.feed")


def feed_token(settings: Settings, subscription_id: int, address: str) -> str:
    return str(_serializer(settings).dumps([subscription_id, address_fingerprint(address)]))


def read_feed_token(settings: Settings, token: str) -> tuple[int, str] | None:
    try:
        payload = _serializer(settings).loads(token)
    except BadSignature:
        return None
    ok = isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)
    return (payload[0], str(payload[1])) if ok else None


def feed_url(settings: Settings, subscription_id: int, address: str) -> str:
    return f"{settings.public_url.rstrip('/')}/feeds/subscription/{feed_token(settings, subscription_id, address)}.atom"


def clean(text: object) -> str:
    return _NOT_XML.sub("", str(text))


def _stamp(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: object = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = clean(text)
    return element


def atom_feed(feed_id: str, title: str, self_url: str, alternate: str, items: list[DigestItem]) -> bytes:
    """A complete Atom document; `updated` is the newest entry's date."""
    root = ET.Element(f"{{{ATOM}}}feed")
    _sub(root, "id", feed_id)
    _sub(root, "title", title)
    _sub(root, "updated", _stamp(max((i.published_at for i in items if i.published_at), default=None)))
    _sub(root, "link", rel="self", href=self_url, type="application/atom+xml")
    _sub(root, "link", rel="alternate", href=alternate, type="text/html")
    _sub(_sub(root, "author"), "name", "paperbell")
    _sub(root, "generator", "paperbell")
    for item in items:
        entry = _sub(root, "entry")
        _sub(entry, "id", f"urn:paperbell:paper:{item.canonical_id}")
        _sub(entry, "title", item.title, type="text")
        _sub(entry, "updated", _stamp(item.published_at))
        for rel, url in (("alternate", item.abs_url), ("related", item.pdf_url), ("related", item.code_url)):
            href = atom_href(url)
            if href is not None:
                _sub(entry, "link", rel=rel, href=href)
        for name in item.authors[:20]:
            _sub(_sub(entry, "author"), "name", name)
        if not item.authors:
            _sub(_sub(entry, "author"), "name", "unknown")
        for category in item.categories[:10]:
            _sub(entry, "category", term=category)
        summary = item.summary + (f" (▲ {item.upvotes})" if item.upvotes is not None else "")
        _sub(entry, "summary", summary, type="text")
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


class FeedRoutes:
    def __init__(self, front: WebFront) -> None:
        self.front = front

    def _day_items(self) -> list[DigestItem]:
        items: list[DigestItem] = []
        day = None
        for _ in range(FEED_DAYS):
            listing = load_day(self.front.settings, self.front.db, day, self.front.now())
            if listing is None:
                break
            items.extend(listing.items)
            if listing.prev_day is None:
                break
            day = listing.prev_day
        return items

    async def days(self, request: Request) -> Response:
        version = await self.front.version()
        key = ("feed-days", version)
        body = self.front.renders.get(key)
        if body is None:
            base = self.front.settings.public_url.rstrip("/")
            items = await self.front.db.run(self._day_items)
            body = atom_feed(f"{base}/feeds/days.atom", "paperbell: daily papers", f"{base}/feeds/days.atom",
                             f"{base}/", items)
            self.front.renders.put(key, body)
        return Response(body, media_type=ATOM_TYPE, headers=PAGE_HEADERS)

    async def subscription(self, request: Request) -> Response:
        claims = read_feed_token(self.front.settings, request.path_params["token"])
        if claims is None:
            return notice_page("Feed not found", "This feed link is not valid.", 404, error=True)
        try:
            subscription = await self.front.db.run(service.get_subscription, self.front.db, claims[0])
            owner = await self.front.db.run(service.get_subscriber, self.front.db, subscription.subscriber_id)
        except NotFound:
            return notice_page("Feed not found", "This subscription no longer exists.", 404, error=True)
        if address_fingerprint(owner.address) != claims[1]:
            return notice_page("Feed not found", "This feed link is not valid.", 404, error=True)
        corpus = await self.front.corpus(await self.front.version())
        try:
            outcome = await asyncio.to_thread(search_corpus, self.front.settings, corpus, subscription.query,
                                              per_page=SUBSCRIPTION_ENTRIES, now=self.front.now())
        except QueryError:
            outcome = None  # a query saved under older rules: an empty feed, not an error page
        self_url = feed_url(self.front.settings, claims[0], owner.address)
        body = atom_feed(f"urn:paperbell:subscription:{request.path_params['token'][:16]}",
                         f"paperbell: {subscription.query[:80]}", self_url,
                         self.front.settings.public_url.rstrip("/") + "/", outcome.items if outcome else [])
        return Response(body, media_type=ATOM_TYPE, headers={**PRIVATE_HEADERS, "Referrer-Policy": "no-referrer"})


def feed_routes(front: WebFront) -> list[Route]:
    handlers = FeedRoutes(front)
    return [
        Route("/feeds/days.atom", handlers.days, methods=["GET"]),
        Route("/feeds/subscription/{token}.atom", handlers.subscription, methods=["GET"]),
    ]
