"""Renders digests and confirmation mails to HTML + plain text from the same data (Jinja2).

Called by digest.email.digests and bench/email.py. Autoescaping is on for HTML
(titles and abstracts come from outside), CSS is inlined with `css-inline` for mail clients
that drop <style> (media queries for phones and dark mode are kept), and the HTML stays under
`settings.digest_max_html_bytes`: past that, fewer papers are shown and the rest counted as
"and N more" (those stay pending and arrive in the next digest).
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
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

log = logging.getLogger(__name__)


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


def inline_fragment(html: str, css: str) -> str:
    """`html` (a part of a page, no <head>) with the rules of `css` inlined."""
    return str(_inliner().inline_fragment(html, css))


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


_PROCESS_NONCE = secrets.token_hex(8)  # with a count per digest: markers no text from outside can guess
_DIGESTS = itertools.count()
_MARKER = re.compile(r"<!--paperbell-paper-([0-9a-f]{16}[0-9]+)-([0-9]+)-->")


class PaperBlocks:
    """`paper_block` for digest.html: each paper's HTML (templates/email/paper.html) made and CSS-inlined
    once per digest.

    The size cap may render a digest several times with fewer papers; the papers' blocks (most of the
    page) are the same each time, only the page around them changes. So the page is rendered and inlined
    with a marker where each paper goes, and each block, inlined once with the page's own stylesheet, is
    put in its place (`fill`): the same HTML as inlining the whole page, for a fraction of the parsing, as
    long as the rules for a paper's elements do not depend on what is around the paper (tests compare).
    A block depends on the item, its vote links and reasons, and whether the order was learned: all three
    are its key. The markers carry a random nonce, so no text from outside can pose as one."""

    def __init__(self) -> None:
        self._macro = jinja_env().get_template("email/paper.html").module.paper  # type: ignore[attr-defined]
        self._nonce = f"{_PROCESS_NONCE}{next(_DIGESTS)}"
        self._index: dict[tuple[Any, ...], int] = {}
        self._made: list[str] = []  # rendered, by index
        self._inlined: dict[int, str] = {}

    def __call__(self, item: DigestItem, feedback: Mapping[str, Any] | None, learned: bool) -> Markup:
        shown = None if feedback is None else (
            feedback["up"], feedback["down"], tuple(feedback["reasons"]), feedback["folded"])
        key = (item, shown, learned)
        number = self._index.get(key)
        if number is None:
            number = self._index[key] = len(self._made)
            self._made.append(str(self._macro(item, feedback, learned)))
        return Markup(f"<!--paperbell-paper-{self._nonce}-{number}-->")

    def fill(self, page: str, css: str) -> str:
        """`page` (CSS already inlined) with each marker replaced by its paper's block, `css` inlined."""
        wanted = [n for n in dict.fromkeys(int(number) for nonce, number in _MARKER.findall(page)
                                           if nonce == self._nonce) if n not in self._inlined]
        if wanted:  # the new blocks in one call: the stylesheet is parsed once
            split = f"<!--paperbell-split-{self._nonce}-->"
            joined = inline_fragment(split.join(self._made[n] for n in wanted), css)
            self._inlined.update(zip(wanted, joined.split(split), strict=True))

        return self._put(page, self._inlined)

    def written_in(self, page: str) -> str:
        """`page` (not inlined) with each marker replaced by its paper's block as rendered."""
        return self._put(page, self._made)

    def _put(self, page: str, blocks: Mapping[int, str] | Sequence[str]) -> str:
        def block(found: re.Match[str]) -> str:
            return blocks[int(found.group(2))] if found.group(1) == self._nonce else found.group(0)

        return _MARKER.sub(block, page)


_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)


def _stylesheet(page: str) -> str:
    """The CSS of a rendered page's <style> elements (read before inlining, which keeps only @-rules there)."""
    return "\n".join(_STYLE.findall(page))


def _context(digest: Digest, links: Links, extra: ContextHook | None, notice: str | None,
             paper_block: PaperBlocks | None = None) -> dict[str, Any]:
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
        "paper_block": paper_block or PaperBlocks(),
    }
    if extra is not None:
        context.update(extra(digest))
    return context


# stylesheet -> whether inlining each paper on its own gave the whole page's HTML (checked once per process)
_BLOCKS_ALONE: dict[str, bool] = {}


def _html(context: Mapping[str, Any]) -> str:
    return inlined(jinja_env().get_template("email/digest.html").render(context), context["paper_block"])


def inlined(page: str, blocks: PaperBlocks) -> str:
    """`page` with its CSS inlined and its papers' blocks in place, each block inlined on its own; whole
    pages when the stylesheet styles a paper by what is around it (found on its first page)."""
    css = _stylesheet(page)
    alone = _BLOCKS_ALONE.get(css)
    if alone is None:  # an edited stylesheet may style a paper by what is around it: then whole pages it is
        whole = inline_css(blocks.written_in(page))
        alone = _BLOCKS_ALONE[css] = blocks.fill(inline_css(page), css) == whole
        if not alone:
            log.warning("templates/email: a paper's styles depend on what is around it (e.g. `.card .paper`); "
                        "inlining whole pages, which is slower")
        return whole
    return blocks.fill(inline_css(page), css) if alone else inline_css(blocks.written_in(page))


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
    paper_block = PaperBlocks()

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
