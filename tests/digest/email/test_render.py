"""Rendering: escaping, highlighting, text/HTML from the same data, CSS inlining, the size cap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.core.assembly import Digest, DigestItem, Recipient, build_digest
from digest.core.templating import highlight
from digest.email.render import Links, render_capped, render_confirmation, render_digest
from digest.settings import Settings

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
LINKS = Links(manage_url="https://p.test/manage/T", unsubscribe_url="https://p.test/unsubscribe/T")
WHO = Recipient(subscriber_id=1, address="a@example.org", timezone="Europe/Berlin")
SETTINGS = Settings(_env_file=None, secret_key="k" * 32)


@pytest.mark.parametrize(
    ("text", "words", "html"),
    [
        ("Sparse autoencoders", ["sparse"], "<mark>Sparse</mark> autoencoders"),
        ("<b>sparse</b>", ["sparse"], "&lt;b&gt;<mark>sparse</mark>&lt;/b&gt;"),
        ("sparsely sparse", ["sparse"], "sparsely <mark>sparse</mark>"),
        ("a & b", [], "a &amp; b"),
        ("x<script>", ["<script>"], "x&lt;script&gt;"),  # not a whole word: untouched, escaped
        ("C++ rocks", ["C++"], "<mark>C++</mark> rocks"),
    ],
)
def test_highlight_escapes_then_marks(text: str, words: list[str], html: str) -> None:
    assert str(highlight(text, words)) == html


def digest_item(n: int, title: str = "A title", summary: str = "Short summary.") -> DigestItem:
    return DigestItem(delivery_id=n, paper_id=n, subscription_id=1, query='"sparse" <b>q</b>', title=title,
                      abs_url=f"https://arxiv.org/abs/{n}", hf_url="https://huggingface.co/papers/1",
                      code_url="https://github.com/x/y", summary=summary, upvotes=12, matched_words=("title",))


def test_both_parts_carry_the_same_papers_and_links() -> None:
    mail = render_digest(build_digest(WHO, [digest_item(1, "<script>x</script> title")], now=NOW), LINKS)
    assert mail.subject == "paperbell: 1 new paper — Mon 02 Mar 2026"
    for part in (mail.html, mail.text):
        assert LINKS.manage_url in part and LINKS.unsubscribe_url in part
        assert "https://arxiv.org/abs/1" in part and "https://github.com/x/y" in part
    assert "&lt;script&gt;x&lt;/script&gt;" in mail.html and "<script>" not in mail.html
    assert "&lt;b&gt;q&lt;/b&gt;" in mail.html
    assert "<script>x</script> title" in mail.text
    assert "12" in mail.text and "▲ 12" in mail.html


def test_confirmation_mail() -> None:
    mail = render_confirmation(SETTINGS, "a@example.org", "https://p.test/confirm/X", "https://p.test/unsubscribe/Y")
    assert "https://p.test/confirm/X" in mail.html and "https://p.test/confirm/X" in mail.text
    assert "72 hours" in mail.text


@pytest.mark.parametrize("limit", [10_000, 30_000, 100_000])
def test_size_cap_keeps_html_under_the_limit(limit: int) -> None:
    settings = SETTINGS.model_copy(update={"digest_max_html_bytes": limit})
    items = [digest_item(n, summary="word " * 60) for n in range(300)]
    rendered = render_capped(settings, WHO, items, LINKS, now=NOW)
    size = len(rendered.mail.html.encode())
    assert size <= limit
    assert rendered.digest.more > 0 and f"And {rendered.digest.more} more" in rendered.mail.html
    # maximal: one more paper would not have fitted
    bigger = build_digest(WHO, items, now=NOW, max_items=rendered.digest.shown + 1)
    assert len(render_digest(bigger, LINKS).html.encode()) > limit


def test_a_capped_digest_is_the_page_of_the_papers_it_shows() -> None:
    """The size search reuses each paper's block between renders: what it sends is exactly the page
    rendered afresh for the papers shown, vote links and reasons included."""
    settings = SETTINGS.model_copy(update={"digest_max_html_bytes": 30_000})
    items = [digest_item(n, summary="word " * 60) for n in range(120)]

    def votes(digest: Digest) -> dict[str, object]:
        feedback = {i.paper_id: {"up": f"https://p.test/vote/{i.paper_id}/up" if i.paper_id % 2 else "",
                                 "down": f"https://p.test/vote/{i.paper_id}/down", "reasons": [],
                                 "folded": i.paper_id % 7 == 0} for i in digest.items}
        return {"feedback": feedback, "top_picks": [], "learned": False, "vote_summary": ""}

    capped = render_capped(settings, WHO, items, LINKS, now=NOW, extra=votes)
    assert capped.digest.more > 0
    fresh = render_digest(build_digest(WHO, items, now=NOW, max_items=capped.digest.shown), LINKS, extra=votes)
    assert capped.mail.html == fresh.html
    assert "https://p.test/vote/1/up" in fresh.html and "https://p.test/vote/2/up" not in fresh.html
    assert "(past this query's limit)" in fresh.html


@given(text=st.text(st.sampled_from(list("ab AB-é_1.\n")), max_size=60),
       words=st.lists(st.text(st.sampled_from(list("abAé1")), min_size=1, max_size=4), max_size=4))
def test_highlight_marks_the_same_with_or_without_text_to_escape(text: str, words: list[str]) -> None:
    """Text with nothing to escape takes a shorter way: it must mark exactly what the general way marks."""
    assert str(highlight(text + " &", words)) == str(highlight(text, words)) + " &amp;"
