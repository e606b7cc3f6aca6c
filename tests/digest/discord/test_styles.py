"""Every Discord style (full, compact, titles), instant or digest, with or without a role mention, stays within
every limit the double enforces, carries each paper exactly once, and never pings anyone but the role."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.core.assembly import DigestItem, Recipient, build_digest
from digest.discord.render import digest_messages, instant_messages
from digest.discord.styles import (
    forum_tags,
    paper_line,
    styled_digest,
    styled_instant,
    thread_name,
    with_role_mention,
)
from tests.bot.discord_double.rules import message_errors
from tests.bot.discord_double.threads import mention_errors

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
texts = st.one_of(st.text(max_size=60), st.text(alphabet="ab *\\_`~[]()<>@&é\n", max_size=3000))
urls = st.one_of(st.none(), st.just("https://arxiv.org/abs/2501.00001"), st.just("javascript:alert(1)"),
                 st.text(max_size=30))


@st.composite
def items(draw: st.DrawFn) -> list[DigestItem]:
    count = draw(st.integers(1, 60))
    return [DigestItem(delivery_id=n, paper_id=n, subscription_id=n % 3, query=draw(texts), title=draw(texts),
                       abs_url=draw(urls), authors=tuple(draw(st.lists(texts, max_size=4))), summary=draw(texts),
                       canonical_id=f"2501.{n:05d}")
            for n in range(1, count + 1)]


def rendered(style: str, papers: list[DigestItem], instant: bool) -> list[tuple[list[int], dict]]:
    if instant:
        return instant_messages(papers) if style == "full" else styled_instant(papers, style)
    digest = build_digest(Recipient(subscriber_id=1, address="1"), papers, now=NOW,
                          max_items=len(papers))
    return digest_messages(digest, "daily") if style == "full" else styled_digest(digest, "daily", style)


@settings(max_examples=60, deadline=None)
@given(items(), st.sampled_from(["full", "compact", "titles"]), st.booleans(), st.sampled_from([None, "42"]))
def test_every_style_within_every_limit(papers: list[DigestItem], style: str, instant: bool, role: str | None
                                        ) -> None:
    parts = rendered(style, papers, instant)
    carried = [i for ids, _ in parts for i in ids]
    assert sorted(carried) == [p.delivery_id for p in papers], "each paper in exactly one message"
    for number, (ids, message) in enumerate(parts):
        if style != "full":  # nothing clipped away: one whole line per paper (+ the digest's header)
            assert len(message["content"].splitlines()) == len(ids) + (0 if instant else 1)
            assert not message["content"].endswith("…") or len(message["content"]) < 2000
        message = with_role_mention(message, role) if (instant or number == 0) else message
        code, problems = message_errors(message)
        assert code == 0 and not mention_errors(message), problems
        allowed = message["allowed_mentions"]
        assert "everyone" not in allowed.get("parse", []) and allowed.get("roles", []) in ([], [role])


@given(texts)
def test_thread_names_fit_discord(text: str) -> None:
    assert 1 <= len(thread_name(text)) <= 100


def test_compact_line_links_safe_addresses_only() -> None:
    item = DigestItem(delivery_id=1, paper_id=1, subscription_id=1, query="diffusion", title="A [title]",
                      abs_url="javascript:alert(1)", authors=("Ada", "Grace"))
    assert paper_line(item, "compact") == r"**A \[title\]** — Ada et al. · matched `diffusion`"
    safe = DigestItem(delivery_id=1, paper_id=1, subscription_id=1, query="", title="T",
                      abs_url="https://arxiv.org/abs/1")
    assert paper_line(safe, "titles") == "• [T](<https://arxiv.org/abs/1>)"


def test_forum_tags_match_names_case_insensitively_at_most_five() -> None:
    available = [{"id": str(n), "name": name} for n, name in enumerate(["cs.LG", "Diffusion", "x", "a", "b", "c",
                                                                        "d"])]
    assert forum_tags(available, ["CS.lg", "diffusion", "nope"]) == ["0", "1"]
    assert len(forum_tags(available, ["cs.lg", "diffusion", "x", "a", "b", "c", "d"])) == 5
