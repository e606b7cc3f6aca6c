"""Renders digests and confirmation mails to HTML + plain text from the same data (Jinja2).

Called by digest.email.digests and bench/email.py. Autoescaping is on for HTML
(titles and abstracts come from outside), CSS is inlined with `css-inline` for mail clients
that drop <style> (media queries for phones and dark mode are kept), and the HTML stays under
`settings.digest_max_html_bytes`: past that, fewer papers are shown and the rest counted as
"and N more" (those stay pending and arrive in the next digest).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import css_inline
from markupsafe import Markup

from digest.core.arrivals import arxiv_notice, uses_arxiv
from digest.core.assembly import Digest, DigestItem, Recipient, build_digest, rank_digest_items
from digest.core.links import with_safe_links
from digest.core.templating import jinja_env
from digest.settings import Settings


@dataclass(frozen=True)
class Links:
    manage_url: str
    unsubscribe_url: str


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class RenderedDigest:
    digest: Digest
    mail: RenderedMail

    @property
    def shown_delivery_ids(self) -> list[int]:
        return [item.delivery_id for item in self.digest.items]


GLANCE_MIN = 8  # digests with at least this many papers open with an "at a glance" list of titles
GLANCE_MAX = 12  # titles in that list (the strongest of each query first); the rest are counted


def _glance(digest: Digest) -> list[DigestItem]:
    """Up to GLANCE_MAX titles, taken from the groups in turn so every query is represented."""
    queues = [list(group.items) for group in digest.groups]
    chosen: list[DigestItem] = []
    while len(chosen) < GLANCE_MAX and any(queues):
        for queue in queues:
            if queue and len(chosen) < GLANCE_MAX:
                chosen.append(queue.pop(0))
    return chosen


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    # keep_at_rules: @media rules (phone width, dark mode) cannot be inlined and must stay in <style>.
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def inline_css(html: str) -> str:
    return str(_inliner().inline(html))


def _period(schedule: str) -> str:
    return "weekly" if schedule == "weekly" else "daily"


def digest_subject(digest: Digest, date_label: str, notice: str | None = None) -> str:
    if digest.is_empty and notice:  # the quiet-day note: say why there is nothing
        return f"paperbell: {notice[:1].upper()}{notice[1:]} — {date_label}"
    count = digest.total
    noun = "paper" if count == 1 else "papers"
    return f"paperbell: {count} new {noun} — {date_label}"


# Extra template context computed from the assembled digest (e.g. feedback links and reasons).
ContextHook = Callable[[Digest], Mapping[str, Any]]
Ranker = Callable[[Sequence[DigestItem], datetime], list[DigestItem]]


PaperBlock = Callable[[DigestItem, Mapping[str, Any] | None, bool], Markup]


def _paper_blocks() -> PaperBlock:
    """`paper_block` for digest.html: each paper's HTML (templates/email/paper.html) made once per digest.

    The size cap may render a digest several times with fewer papers; the papers' blocks (most of the
    page) are the same each time, only the page around them changes. A block depends on the item, its
    vote links and reasons, and whether the order was learned: all three are its key."""
    macro = jinja_env().get_template("email/paper.html").module.paper  # type: ignore[attr-defined]
    made: dict[tuple[Any, ...], Markup] = {}

    def paper_block(item: DigestItem, feedback: Mapping[str, Any] | None, learned: bool) -> Markup:
        shown = None if feedback is None else (
            feedback["up"], feedback["down"], tuple(feedback["reasons"]), feedback["folded"])
        key = (item, shown, learned)
        if key not in made:
            made[key] = macro(item, feedback, learned)
        return made[key]

    return paper_block


def _context(digest: Digest, links: Links, extra: ContextHook | None, notice: str | None,
             paper_block: PaperBlock | None = None) -> dict[str, Any]:
    zone = _zone(digest.recipient.timezone)
    date_label = digest.generated_at.astimezone(zone).strftime("%a %d %b %Y")
    context = {
        "digest": digest,
        "recipient": digest.recipient,
        "period": _period(digest.recipient.schedule),
        "date_label": date_label,
        "subject": digest_subject(digest, date_label, notice),
        "preheader": ", ".join(item.title for item in digest.items[:3])[:140],
        "glance": _glance(digest) if digest.shown >= GLANCE_MIN else [],
        "glance_more": max(0, digest.shown - GLANCE_MAX),
        "notice": notice[0].upper() + notice[1:] + "." if notice else None,
        "manage_url": links.manage_url,
        "unsubscribe_url": links.unsubscribe_url,
        "paper_block": paper_block or _paper_blocks(),
    }
    if extra is not None:
        context.update(extra(digest))
    return context


def _html(context: Mapping[str, Any]) -> str:
    return inline_css(jinja_env().get_template("email/digest.html").render(context))


def _mail(context: Mapping[str, Any], html: str) -> RenderedMail:
    text = jinja_env().get_template("email/digest.txt").render(context)
    return RenderedMail(subject=context["subject"], html=html, text=text)


def render_digest(digest: Digest, links: Links, extra: ContextHook | None = None, notice: str | None = None
                  ) -> RenderedMail:
    """HTML (CSS inlined) and text of one assembled digest, no size cap; `notice`: e.g. a quiet arXiv day."""
    context = _context(digest, links, extra, notice)
    return _mail(context, _html(context))


def _wire_size(html: str) -> int:
    """Bytes of the HTML as sent: mail transports turn every LF into CRLF (Gmail clips on what arrives)."""
    return len(html.encode()) + html.count("\n")


def _ranked_once(rank: Ranker) -> Ranker:
    """`rank`, remembered per group: the size search assembles the same groups several times."""
    seen: dict[tuple[int, ...], list[DigestItem]] = {}

    def ranked(items: Sequence[DigestItem], now: datetime) -> list[DigestItem]:
        key = tuple(item.delivery_id for item in items)
        if key not in seen:
            seen[key] = rank(items, now)
        return list(seen[key])

    return ranked


def render_capped(
    settings: Settings,
    recipient: Recipient,
    items: Sequence[DigestItem],
    links: Links,
    *,
    now: datetime,
    max_items: int | None = None,
    rank: Ranker = rank_digest_items,
    extra: ContextHook | None = None,
    notice: str | None = None,
) -> RenderedDigest:
    """Assemble and render, showing as many papers as fit under `digest_max_html_bytes`.

    `rank` orders each group (default: today's ranking); `extra` adds template context; `notice`
    (e.g. a quiet trending day) replaces the quiet-arXiv-day note.
    """
    # Source links are hostile input: only http(s) URLs reach an href (javascript: etc. are dropped).
    items = [with_safe_links(item) for item in items]
    limit = settings.digest_max_html_bytes
    cap = len(items) if max_items is None else min(max_items, len(items))
    # a daily digest on a day without arXiv announcement says so (weekly ones span several days)
    if notice is None:
        notice = arxiv_notice(now) if recipient.schedule == "daily" and uses_arxiv(list(settings.sources)) else None
    rank = _ranked_once(rank)
    tried: dict[int, tuple[Digest, dict[str, Any], str]] = {}
    paper_block = _paper_blocks()

    def attempt(count: int) -> int:
        """Assemble and render the HTML with at most `count` papers; its size on the wire."""
        digest = build_digest(recipient, items, now=now, max_items=count, rank=rank)
        context = _context(digest, links, extra, notice, paper_block)
        tried[count] = (digest, context, _html(context))
        return _wire_size(tried[count][2])

    chosen = _largest_fitting(attempt, cap, limit)
    if chosen not in tried:
        attempt(chosen)
    digest, context, html = tried[chosen]
    return RenderedDigest(digest, _mail(context, html))


def _largest_fitting(attempt: Callable[[int], int], cap: int, limit: int) -> int:
    """The largest paper count in 1..cap whose HTML fits under `limit` (1 when none does).

    Sizes grow with the count, nearly linearly: the first guesses interpolate between the sizes seen
    (a digest over the cap usually needs two or three renders, not a dozen), then it bisects.
    """
    size_high = attempt(cap)
    if size_high <= limit or cap <= 1:
        return cap
    low, high = 1, cap  # the answer is in [low, high - 1] or is 1; `high` is known not to fit
    best, size_best = 0, 0  # the largest count known to fit (0: none yet)
    for step in range(64):
        if low >= high:
            break
        if step < 3 and size_high > size_best:  # interpolate between what fits and what does not
            guess = best + int((limit - size_best) * (high - best) / (size_high - size_best))
        else:
            guess = (low + high - 1) // 2
        guess = min(max(guess, low), high - 1)
        size = attempt(guess)
        if size <= limit:
            best, size_best, low = guess, size, guess + 1
        else:
            high, size_high = guess, size
    return max(best, 1)


def render_confirmation(settings: Settings, address: str, confirm_url: str, unsubscribe_url: str, *,
                        manage_url: str | None = None, first_digest: str | None = None) -> RenderedMail:
    """The double opt-in mail; `first_digest` ("Tue 08 Dec 2026, 08:00 UTC") and the manage link say what follows."""
    subject = "Confirm your paperbell subscription"
    context = {
        "manage_url": manage_url,
        "first_digest": first_digest,
        "subject": subject,
        "address": address,
        "confirm_url": confirm_url,
        "unsubscribe_url": unsubscribe_url,
        "max_age_hours": settings.confirm_token_max_age_hours,
        "preheader": "One click to start receiving paper digests.",
    }
    env = jinja_env()
    html = inline_css(env.get_template("email/confirmation.html").render(context))
    text = env.get_template("email/confirmation.txt").render(context)
    return RenderedMail(subject=subject, html=html, text=text)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")
