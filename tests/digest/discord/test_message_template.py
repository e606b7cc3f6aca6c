"""A channel's template: any text an admin types is either refused with one line or renders, for any paper,
into messages Discord accepts (the double's rules); the "N more" overflow message fits in one message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.core.assembly import DigestItem
from digest.discord.caps import more_message
from digest.discord.message_template import (
    PLACEHOLDERS,
    TEMPLATE_MAX,
    TemplateError,
    parse_color,
    templated,
    validate_template,
)
from digest.discord.render import instant_messages, pack, paper_embed
from digest.settings import Settings
from tests.bot.discord_double.rules import message_errors
from tests.digest.discord.test_styles import items, texts

templates = st.one_of(
    st.text(max_size=1200),
    st.lists(st.one_of(st.sampled_from(["{" + p + "}" for p in PLACEHOLDERS]), st.text(max_size=40),
                       st.sampled_from(["{", "}", "{{", "}}", "{x}", "{title!r}", "{0}", "{}"])),
             max_size=40).map("".join),
)


few_items = st.lists(st.builds(
    DigestItem, delivery_id=st.integers(1, 10**6), paper_id=st.integers(1, 10**6), subscription_id=st.none(),
    query=texts, title=texts, abs_url=st.sampled_from([None, "https://arxiv.org/abs/2501.00001", "javascript:x"]),
    authors=st.lists(texts, max_size=3).map(tuple), summary=texts, matched_words=st.lists(texts, max_size=3).map(tuple),
), min_size=1, max_size=10)


@settings(max_examples=60, deadline=None)
@given(templates, few_items)
def test_a_template_is_refused_or_renders_within_discord_limits(text: str, papers: list[DigestItem]) -> None:
    try:
        template = validate_template(text)
    except TemplateError as error:
        assert "\n" not in str(error) and str(error)
        return
    assert len(template) <= TEMPLATE_MAX
    for [message] in ([m for _, m in instant_messages(papers[:1])], pack(paper_embed(p) for p in papers[:10])):
        shaped = templated(message, papers[: len(message["embeds"])], template, 0x123456)
        code, problems = message_errors(shaped)
        assert code == 0, problems


@pytest.mark.parametrize(("text", "why"), [
    ("", "empty"), ("x" * (TEMPLATE_MAX + 1), f"at most {TEMPLATE_MAX}"), ("{tl;dr}", "unknown placeholder"),
    ("{}", "unknown placeholder {}"), ("{0}", "unknown placeholder {0}"), ("{link[0]}", "unknown placeholder"),
])
def test_bad_templates_name_their_problem(text: str, why: str) -> None:
    with pytest.raises(TemplateError, match=None) as refused:
        validate_template(text)
    assert why in str(refused.value)


@pytest.mark.parametrize(("text", "value"), [("#1e90ff", 0x1E90FF), ("FFFFFF", 0xFFFFFF), ("#000000", 0)])
def test_colours(text: str, value: int) -> None:
    assert parse_color(text) == value


@pytest.mark.parametrize("text", ["red", "#fff", "#1e90ffff", "0x1e90ff", "#gggggg"])
def test_bad_colours_are_refused(text: str) -> None:
    with pytest.raises(TemplateError, match="six hex digits"):
        parse_color(text)


@settings(max_examples=25, deadline=None)
@given(items(), st.integers(1, 1000))
def test_the_overflow_message_is_one_message_discord_accepts(papers: list[DigestItem], cap: int) -> None:
    message = more_message(Settings(), papers, cap, datetime(2026, 12, 7, tzinfo=UTC))
    assert message_errors(message) == (0, [])
    assert message["content"].startswith(f"**{len(papers)} more papers**") and "/day/2026-12-07" in message["content"]
    assert message["allowed_mentions"] == {"parse": []}


@given(texts)
def test_placeholders_values_cannot_break_out(title: str) -> None:
    item = DigestItem(delivery_id=1, paper_id=1, subscription_id=1, query="q", title=title,
                      abs_url="javascript:alert(1)")
    [(_, message)] = instant_messages([item])
    shaped = templated(message, [item], "{title}|{link}|", None)
    description = shaped["embeds"][0]["description"]
    assert description.endswith("||") or description.endswith("…")  # no link for a javascript: address
