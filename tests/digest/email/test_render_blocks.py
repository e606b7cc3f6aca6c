"""Each paper's block is CSS-inlined on its own and put into the inlined page: the mail must be exactly what
inlining the whole page gives, for every part of a digest and for hostile text."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from digest.core.assembly import Digest, DigestItem, Recipient, build_digest
from digest.core.templating import jinja_env
from digest.email import render
from digest.email.render import Links, PaperBlocks, inline_css, render_capped, render_digest
from digest.settings import Settings

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
LINKS = Links(manage_url="https://p.test/manage/T", unsubscribe_url="https://p.test/unsubscribe/T")
WHO = Recipient(subscriber_id=1, address="a@example.org", timezone="Europe/Berlin")


class WholePage(PaperBlocks):
    """The reference: blocks written straight into the page, which is then inlined as a whole."""

    def __call__(self, item: DigestItem, feedback: Mapping[str, Any] | None, learned: bool) -> Markup:
        return Markup(self._macro(item, feedback, learned))


def whole_page(digest: Digest, extra: Any = None, notice: str | None = None) -> str:
    context = render._context(digest, LINKS, extra, notice, WholePage())
    return inline_css(jinja_env().get_template("email/digest.html").render(context))


def item(n: int, title: str = "Sparse attention", summary: str = "We study sparse attention.", **more: Any
         ) -> DigestItem:
    fields: dict[str, Any] = dict(
        delivery_id=n, paper_id=n, subscription_id=1 + n % 3, query=f"query {n % 3}", title=title,
        abs_url=f"https://arxiv.org/abs/{n}", pdf_url=f"https://arxiv.org/pdf/{n}",
        hf_url="https://huggingface.co/papers/1", code_url="https://github.com/x/y", summary=summary,
        snippet="Attention is sparse." if n % 2 else "", upvotes=n, matched_words=("sparse", "attention"),
        authors=("A. Author", "B. Author"), categories=("cs.LG",), reason="by A. Author, whom you follow" if n % 5 == 0
        else "", published_at=NOW)
    fields.update(more)
    return DigestItem(**fields)


def votes(learned: bool) -> Any:
    def extra(digest: Digest) -> dict[str, object]:
        feedback = {i.paper_id: {"up": f"https://p.test/vote/{i.paper_id}/up" if i.paper_id % 2 else "",
                                 "down": f"https://p.test/vote/{i.paper_id}/down",
                                 "reasons": ["you liked <b>sparse</b>"] if i.paper_id % 3 == 0 else [],
                                 "folded": i.paper_id % 7 == 0} for i in digest.items}
        return {"feedback": feedback, "top_picks": list(digest.items[:2]), "learned": learned,
                "vote_summary": "3 votes so far",
                "updates": [{"title": "Old paper", "url": "https://arxiv.org/abs/9", "line": "v2 is out"}],
                "updates_title": "Updates"}
    return extra


def test_the_page_of_blocks_is_the_whole_page_inlined() -> None:
    items = [item(n) for n in range(1, 30)]
    for extra in (None, votes(False), votes(True)):
        for notice in (None, "no arXiv announcement today"):
            digest = build_digest(WHO, items, now=NOW)
            assert render_digest(digest, LINKS, extra, notice).html == whole_page(digest, extra, notice)
    empty = build_digest(WHO, [], now=NOW)
    assert render_digest(empty, LINKS, None, "a quiet day").html == whole_page(empty, None, "a quiet day")


def test_a_capped_page_is_the_whole_page_of_the_papers_it_shows() -> None:
    settings_ = Settings(_env_file=None, secret_key="k" * 32, digest_max_html_bytes=40_000)
    items = [item(n, summary="word " * 60) for n in range(1, 150)]
    capped = render_capped(settings_, WHO, items, LINKS, now=NOW, extra=votes(True))
    assert capped.digest.more > 0
    shown = build_digest(WHO, items, now=NOW, max_items=capped.digest.shown)
    assert capped.mail.html == whole_page(shown, votes(True))


hostile = st.lists(st.sampled_from([*"ab <>&\"'-!/é\u00a0\u2028$\\", "<!--", "-->", "<!--paperbell-paper-", "<style>",
                                    "</div>", "<p>", "&amp;", "\r\n"]), max_size=20).map("".join)


@settings(max_examples=60, deadline=None)
@given(title=hostile, summary=hostile, url_tail=hostile)
def test_hostile_text_cannot_move_or_pose_as_a_block(title: str, summary: str, url_tail: str) -> None:
    items = [item(1, title=title, summary=summary), item(2, abs_url="https://arxiv.org/abs/" + url_tail),
             item(3, title=title, matched_words=(title.strip(),) if title.strip() else ())]
    digest = build_digest(WHO, items, now=NOW)
    assert render_digest(digest, LINKS, votes(True)).html == whole_page(digest, votes(True))


def test_a_stylesheet_that_styles_papers_by_their_surroundings_falls_back_to_whole_pages(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A self-hoster's edited stylesheet may say `.card .paper-title a`: that rule cannot apply to a paper
    inlined on its own, so the first page shows it and every page is then inlined whole, with a warning."""
    cases = ((".paper-title a { color: #123456; }", True), (".card .paper-title a { color: #654321; }", False))
    for css, alone in cases:
        blocks = PaperBlocks()
        page = (f"<html><head><style>{css}</style></head><body><div class=\"card\">"
                f"{blocks(item(1), None, False)}{blocks(item(2), None, False)}</div></body></html>")
        caplog.clear()
        for _ in range(2):  # the first page is checked, the next takes the way it chose
            assert render.inlined(page, blocks) == inline_css(blocks.written_in(page))
        assert render._BLOCKS_ALONE[css] is alone
        assert ("depend on what is around it" in caplog.text) is not alone
        assert css.split("color: ")[1].split(";")[0] in render.inlined(page, blocks)  # the rule reached the paper
