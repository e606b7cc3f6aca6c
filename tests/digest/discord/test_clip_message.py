"""clip_message: whatever a message holds, the clipped one passes Discord's limits (checked by the double's rules)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.discord.render import clip_message
from tests.bot.discord_double.rules import message_errors

texts = st.one_of(st.text(max_size=40), st.text(alphabet="ab *\\_`~é", min_size=0, max_size=9000),
                  st.builds(lambda w, n: (w + " ") * n, st.sampled_from(["**bold**", "word", "\\*"]),
                            st.integers(0, 3000)))
fields = st.fixed_dictionaries({"name": texts, "value": texts, "inline": st.booleans()})
embeds = st.fixed_dictionaries(
    {},
    optional={
        "title": texts, "description": texts, "fields": st.lists(fields, max_size=30),
        "footer": st.fixed_dictionaries({"text": texts}), "author": st.fixed_dictionaries({"name": texts}),
    },
)
messages = st.fixed_dictionaries({}, optional={"content": texts, "embeds": st.lists(embeds, max_size=13)})


@settings(max_examples=150, deadline=None)
@given(messages)
def test_nothing_clipped_exceeds_a_discord_limit(message: dict[str, Any]) -> None:
    clipped = clip_message(message)
    code, problems = message_errors({**clipped, "components": [1]})  # emptiness is not a limit
    assert code == 0, problems
    assert len(clipped.get("embeds", [])) == min(len(message.get("embeds", [])), 10) or \
        sum(len(str(e)) for e in message.get("embeds", [])) > 6000  # embeds only dropped for the 6000 total


def test_a_message_within_limits_is_unchanged() -> None:
    message = {"content": "hello", "embeds": [{"title": "t", "description": "d",
                                               "fields": [{"name": "n", "value": "v", "inline": True}]}]}
    assert clip_message(message) == message
