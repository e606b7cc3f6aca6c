"""LaTeX to Unicode, query-biased snippets and readable source names (pure functions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.core.readable import latex_to_unicode, snippet, source_label


@pytest.mark.parametrize(("raw", "shown"), [
    (r"Hajdu\v{s}ek", "Hajdušek"),
    (r"S\'ebastien Bubeck", "Sébastien Bubeck"),
    (r"Schr\"odinger bridges", "Schrödinger bridges"),
    (r"$\alpha$-divergence in $O(n^2)$ time", "α-divergence in O(n^2) time"),
    (r"a \emph{new} method", "a new method"),
    ("improves by 50% over the baseline", "improves by 50% over the baseline"),  # % is not a comment here
    ("Plain title: no markup", "Plain title: no markup"),
    ("", ""),
])
def test_latex_becomes_unicode(raw: str, shown: str) -> None:
    assert latex_to_unicode(raw) == shown


@given(st.text(max_size=200))
def test_latex_never_raises_and_never_empties_text(text: str) -> None:
    shown = latex_to_unicode(text)
    assert isinstance(shown, str)
    assert bool(shown.strip()) or not text.strip() or not any(c.isalnum() for c in text)


ABSTRACT = ("We study web agents. These agents, proficient in many tasks, still fail on long horizons. "
            "We propose retrieval augmented planning, which improves success by 12 points. Code is released.")


@pytest.mark.parametrize(("summary", "words", "expected"), [
    ("These agents, proficient in many tasks.", ["retrieval", "planning"],
     "We propose retrieval augmented planning, which improves success by 12 points."),
    ("We propose retrieval augmented planning.", ["retrieval"], ""),  # the summary already says why
    ("Anything.", [], ""),
    ("Anything.", ["absent"], ""),
])
def test_snippet_only_when_the_summary_lacks_the_matched_words(summary: str, words: list[str], expected: str) -> None:
    assert snippet(summary, ABSTRACT, words) == expected


def test_snippet_prefers_sentences_with_more_matched_words_and_stays_short() -> None:
    text = snippet("Nothing.", ABSTRACT, ["agents", "long", "horizons"], max_chars=80)
    assert text == "These agents, proficient in many tasks, still fail on long horizons."


def test_snippet_shows_the_abstract_as_readers_see_it_and_converts_only_when_needed() -> None:
    from digest.core import readable

    abstract = r"Schr\"odinger bridges are slow. We make Schr\"odinger bridges fast with $\alpha$-flows."
    assert snippet("Nothing.", abstract, ["fast"]) == "We make Schrödinger bridges fast with α-flows."
    other = abstract.replace("slow", "slow today")  # a text never converted before
    before = readable._converted.cache_info().misses
    assert snippet("Bridges made fast.", other, ["fast"]) == ""  # the summary says why: no conversion
    assert readable._converted.cache_info().misses == before


_LETTERS = st.sampled_from([*"aAkKsS -.é", "\u212a", "\u0130", "i", "ß", "ss"])


@given(text=st.lists(_LETTERS, max_size=30).map("".join),
       words=st.lists(st.lists(_LETTERS, min_size=1, max_size=3).map("".join), max_size=4))
def test_counting_matched_words_takes_no_shortcut_that_changes_the_count(text: str, words: list[str]) -> None:
    """ASCII text is searched for each word's lower case before any regular expression: never a different count
    (the Kelvin sign matches k, dotted İ matches i, whatever the shortcut would think)."""
    from digest.core import readable

    assert readable._words_in(text, words) == sum(readable._has_word(text, w) for w in words)


@pytest.mark.parametrize(("spec", "title", "label"), [
    ("arxiv:cs.LG+cs.CL", None, "arXiv"), ("arxiv-api:cat:cs.CL", None, "arXiv"), ("hf:daily", None, "Hugging Face"),
    ("feed:https://blog.example.org/rss.xml", "Example Lab blog", "Example Lab blog"),
    ("feed:https://blog.example.org/rss.xml", None, "blog.example.org"),
    ("file:/data/seed_papers.jsonl", None, "seed_papers.jsonl"),
])
def test_source_label(spec: str, title: str | None, label: str) -> None:
    assert source_label(spec, title) == label
