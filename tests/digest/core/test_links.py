"""The one URL gate and its per-format escapes: table-driven poison cases, and properties over any string."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.core.links import (
    embed_url,
    gated_record,
    html_href,
    markdown_link_target,
    safe_http_url,
)
from digest.core.records import PaperRecord


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://arxiv.org/abs/2501.00001", "https://arxiv.org/abs/2501.00001"),
        ("  http://example.org/a?b=c&d=e#f  ", "http://example.org/a?b=c&d=e#f"),
        ("HTTPS://EXAMPLE.ORG/", "HTTPS://EXAMPLE.ORG/"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("https://example.org/a_(b)", "https://example.org/a_(b)"),  # legal; escaped per format
        ("/posts/3", None),  # relative
        ("//evil.example/x", None),  # scheme-relative
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("file:///etc/passwd", None),
        ("ftp://example.org/x", None),
        ("https://u:p@host.example/", None),  # credentials
        ("https://user@host.example/", None),
        ("https://exa mple.org/", None),
        ("https://example.org/\x00", None),
        ("https://example.org/\u202e", None),  # bidi override
        ("https://example.org/\u200b", None),  # zero-width space
        ('https://example.org/"onmouseover="x', None),
        ("https://example.org/<script>", None),
        ("https://example.org:99999/", None),  # port out of range
        ("https://exa(mple).org/", None),  # not a host name
        ("https:///path-only", None),
        ("https://" + "a" * 2050 + ".org/", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_the_gate(url: object, expected: str | None) -> None:
    assert safe_http_url(url) == expected
    assert html_href(url) == embed_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a_(b)", "https://example.org/a_%28b%29"),
        ("https://example.org/x)%20[Free](https://evil.example", "https://example.org/x%29%20%5BFree%5D%28https://evil.example"),
        ("https://example.org/a|b", "https://example.org/a%7Cb"),
        ("javascript:alert(1)", None),
    ],
)
def test_markdown_targets_cannot_end_or_nest_a_link(url: str, expected: str | None) -> None:
    assert markdown_link_target(url) == expected


def test_a_record_keeps_the_paper_and_loses_only_its_unsafe_links() -> None:
    record = PaperRecord(
        canonical_id="2501.00001", title="A paper", abs_url="/posts/3", pdf_url="https://arxiv.org/pdf/2501.00001",
        extras={"hf_url": "javascript:alert(1)", "github_repo": "https://github.com/o/r)", "upvotes": 3,
                "project_page": "https://u:p@evil.example/", "thumbnail": "data:image/png;base64,AA"},
    )
    gated, refused = gated_record(record)
    assert (gated.canonical_id, gated.title, gated.abs_url, gated.pdf_url) == (
        "2501.00001", "A paper", None, "https://arxiv.org/pdf/2501.00001")
    assert gated.extras == {"github_repo": "https://github.com/o/r)", "upvotes": 3}  # `)` is escaped when rendered
    assert sorted(refused) == ["abs_url", "extras.hf_url", "extras.project_page", "extras.thumbnail"]
    assert gated_record(gated) == (gated, [])


@given(st.text(max_size=80) | st.from_regex(r"\A(https?|javascript|data):[^\n]{0,60}\Z"))
def test_whatever_passes_the_gate_is_an_absolute_http_url_without_credentials(url: str) -> None:
    passed = safe_http_url(url)
    if passed is None:
        return
    parts = urlsplit(passed)
    assert parts.scheme.lower() in {"http", "https"} and parts.hostname
    assert parts.username is None and parts.password is None
    assert not any(ch.isspace() or ord(ch) < 0x20 or ch in '"<>\\`' for ch in passed)


@given(st.builds(lambda tail: "https://example.org/" + tail, st.text(max_size=60)))
def test_a_markdown_target_never_holds_a_character_that_ends_a_link(url: str) -> None:
    target = markdown_link_target(url)
    assert target is None or not any(ch in target for ch in "()[]<>| \\`")
