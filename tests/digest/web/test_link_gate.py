"""The web front links only what the one URL gate passes: pages (the `safe_url` filter) and Atom feeds."""

from __future__ import annotations

import re

import pytest

from digest.core.assembly import DigestItem
from digest.web.feeds import atom_feed
from digest.web.site import front_env

UNSAFE = ["https://user:pass@host.example/x", "/posts/3", "javascript:alert(1)", "https://example.org/\u202e"]


def card(item: DigestItem) -> str:
    return str(front_env().get_template("web/_paper.html").module.paper_card(item))  # type: ignore[attr-defined]


def entry_links(feed: bytes) -> list[str]:
    entry = feed.decode().split("entry>", 1)[1]
    return re.findall(r'<(?:\w+:)?link [^>]*href="([^"]*)"', entry)


def paper(url: str) -> DigestItem:
    return DigestItem(delivery_id=0, paper_id=1, subscription_id=None, query="", title="A paper", abs_url=url,
                      pdf_url=url, hf_url=url, code_url=url, canonical_id="2501.00001")


@pytest.mark.parametrize("url", UNSAFE)
def test_pages_and_feeds_never_link_an_unsafe_url(url: str) -> None:
    html = card(paper(url))
    assert re.findall(r'href="([^"]*)"', html) == ["/api/papers/2501.00001"] and "A paper" in html
    assert entry_links(atom_feed("urn:x", "Feed", "https://p.test/f", "https://p.test/", [paper(url)])) == []


def test_a_safe_url_is_linked_and_escaped_for_the_attribute() -> None:
    url = "https://example.org/a?b=1&c=2"
    assert 'href="https://example.org/a?b=1&amp;c=2">A paper' in card(paper(url))
    feed = atom_feed("urn:x", "Feed", "https://p.test/f", "https://p.test/", [paper(url)])
    assert entry_links(feed) == ["https://example.org/a?b=1&amp;c=2"] * 3
