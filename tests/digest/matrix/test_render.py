"""Matrix contents: HTML and plain bodies, hostile text stays text, every event within the size limit."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.core.assembly import Digest, DigestGroup, Recipient
from digest.matrix.render import CONTENT_MAX, content_bytes, digest_contents, instant_contents, paper
from tests.digest.chat_items import item

texts = st.text(max_size=5000)


def test_a_paper_has_html_and_plain_bodies_with_gated_links() -> None:
    [(ids, body)] = instant_contents([item(3, title="<img src=x onerror=alert(1)>", pdf_url="javascript:x")])
    assert ids == [3] and body["msgtype"] == "m.notice" and body["format"] == "org.matrix.custom.html"
    assert "&lt;img" in body["formatted_body"] and "<img" not in body["formatted_body"]
    assert "javascript" not in body["formatted_body"] and "<img src=x" in body["body"]  # plain text stays as written
    assert '<a href="https://arxiv.org/abs/2601.00003">' in body["formatted_body"]
    assert "<strong>diffusion</strong>" in body["formatted_body"]


@settings(max_examples=40, deadline=None)
@given(title=texts, summary=texts, query=texts, cats=st.lists(st.text(max_size=300), max_size=50))
def test_hostile_fields_never_exceed_the_event_limit(title: str, summary: str, query: str, cats: list[str]) -> None:
    tricky = item(title=title, summary=summary, query=query, categories=tuple(cats), reason=summary,
                  authors=tuple(cats))
    for _, body in instant_contents([tricky]):
        assert content_bytes(body) <= CONTENT_MAX


def test_control_characters_that_json_escapes_six_fold_still_fit() -> None:
    [(_, body)] = instant_contents([item(title="\x01" * 5000, summary="\x02" * 5000, query="\x03" * 5000,
                                         categories=tuple("\x04" * 300 for _ in range(50)))])
    assert content_bytes(body) <= CONTENT_MAX


def test_a_big_digest_is_split_within_the_limit_and_keeps_every_paper() -> None:
    items = [item(n, summary="\u00e9" * 3000) for n in range(1, 51)]
    digest = Digest(Recipient(1, "!r:x"), datetime(2026, 1, 5, tzinfo=UTC), [DigestGroup(1, "q", items, 50)])
    parts = digest_contents(digest, "daily")
    assert len(parts) > 1 and sorted(i for ids, _ in parts for i in ids) == list(range(1, 51))
    assert all(content_bytes(body) <= CONTENT_MAX for _, body in parts)
    assert "part 1/" in parts[0][1]["body"]


def test_numbered_papers_in_a_digest() -> None:
    html, plain = paper(item(), number=2)
    assert html.startswith("2. <strong>") and plain.startswith("2. Paper 1")
