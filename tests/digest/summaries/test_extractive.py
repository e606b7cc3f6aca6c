"""The extractive TL;DR and its sentence splitter: hard cases, properties, and all 393 seed papers."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.summaries.extractive import (
    ELLIPSIS,
    extractive_summary,
    has_contribution_cue,
    normalize_whitespace,
    split_sentences,
)
from tests.conftest import data_path

SEED = [json.loads(line) for line in data_path("corpus/seed_papers.jsonl").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We use e.g. transformers. Results are good.", ["We use e.g. transformers.", "Results are good."]),
        ("It holds, i.e. always. Next.", ["It holds, i.e. always.", "Next."]),
        ("Smith et al. propose X. We improve it.", ["Smith et al. propose X.", "We improve it."]),
        ("As in Smith et al. (2020), we fit. Done.", ["As in Smith et al. (2020), we fit.", "Done."]),
        ("See Fig. 3 for details. Then stop.", ["See Fig. 3 for details.", "Then stop."]),
        ("Figs. 2 and 3 agree. Yes.", ["Figs. 2 and 3 agree.", "Yes."]),
        ("We solve Eq. (2) exactly. It works.", ["We solve Eq. (2) exactly.", "It works."]),
        ("See Sec. 4 and Ref. [7]. Fine.", ["See Sec. 4 and Ref. [7].", "Fine."]),
        ("The answer is no. We explain why.", ["The answer is no.", "We explain why."]),
        ("It rose 3.5 points to 91.2%. We release code.", ["It rose 3.5 points to 91.2%.", "We release code."]),
        ("Version 2.0 is out. It is 1.5x faster.", ["Version 2.0 is out.", "It is 1.5x faster."]),
        ("Let $x \\in A. B$ be a set. Then $f$ is smooth.", ["Let $x \\in A. B$ be a set.", "Then $f$ is smooth."]),
        ("We bound $\\epsilon < 10^{-3}. T$ too. Next.", ["We bound $\\epsilon < 10^{-3}. T$ too.", "Next."]),
        ("Data from the U.S. Census is used. Done!", ["Data from the U.S. Census is used.", "Done!"]),
        ("Is it hard? Yes. Really!", ["Is it hard?", "Yes.", "Really!"]),
        ('He said "it works." Then left.', ['He said "it works."', "Then left."]),
        ("We study it (see App. A. It is long) here. End.", ["We study it (see App. A. It is long) here.", "End."]),
        ("Results w.r.t. the baseline improve. Good.", ["Results w.r.t. the baseline improve.", "Good."]),
        ("Models vs. humans differ. Ok.", ["Models vs. humans differ.", "Ok."]),
        ("We released it in 2020. 3D models followed.", ["We released it in 2020.", "3D models followed."]),
        ("No final period here", ["No final period here"]),
        ("  Spaces\n and\tnewlines.   Second  one. ", ["Spaces and newlines.", "Second one."]),
        ("", []),
    ],
)
def test_splitter_hard_cases(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcXYZ .?!$()e.g,0123\n")), max_size=200))
def test_splitter_keeps_every_character(text: str) -> None:
    sentences = split_sentences(text)
    assert " ".join(sentences) == normalize_whitespace(text)
    assert all(s and s == s.strip() for s in sentences)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=800), st.integers(min_value=20, max_value=400))
def test_summary_never_exceeds_the_limit(text: str, limit: int) -> None:
    summary = extractive_summary(text, limit)
    assert len(summary) <= limit
    assert bool(summary) == bool(text.strip())


def test_an_overlong_single_sentence_is_cut_at_a_word_boundary() -> None:
    sentence = "We propose " + " ".join(f"word{i}" for i in range(80)) + "."
    summary = extractive_summary(sentence, 300)
    assert len(summary) <= 300 and summary.endswith(ELLIPSIS)
    head = summary.removesuffix(ELLIPSIS)
    assert sentence.startswith(head) and sentence[len(head)] == " "


def test_picks_the_contribution_and_result_in_order() -> None:
    abstract = (
        "Large language models are widely used. However, they are slow. "
        "We propose FastLM, a decoding method for small devices. "
        "It uses caching. FastLM outperforms strong baselines by 12% on three benchmarks. "
        "Future work will study other settings."
    )
    assert extractive_summary(abstract) == (
        "We propose FastLM, a decoding method for small devices. "
        "FastLM outperforms strong baselines by 12% on three benchmarks."
    )


def test_without_cues_a_short_sentence_is_still_chosen() -> None:
    summary = extractive_summary("The sky is blue. Grass is green.")
    assert summary in {"The sky is blue.", "Grass is green.", "The sky is blue. Grass is green."}


@pytest.mark.parametrize("paper", SEED, ids=[str(i) for i in range(len(SEED))])
def test_seed_paper_summary_is_whole_sentences_of_the_abstract(paper: dict[str, str]) -> None:
    abstract = normalize_whitespace(paper["abstract"])
    summary = extractive_summary(paper["abstract"])
    assert summary and len(summary) <= 300
    assert not summary.endswith(ELLIPSIS)
    sentences = split_sentences(abstract)
    # The summary is a run of whole sentences, in abstract order: greedily consume them.
    rest, position = summary, 0
    while rest:
        for index in range(position, len(sentences)):
            if rest == sentences[index] or rest.startswith(sentences[index] + " "):
                rest = rest[len(sentences[index]) :].lstrip(" ")
                position = index + 1
                break
        else:
            pytest.fail(f"not whole sentences of the abstract: {rest!r}")
    # Independently of the splitter: each piece sits in the abstract between sentence ends, and
    # does not stop at an abbreviation.
    for piece in split_sentences(summary):
        start = abstract.find(piece)
        assert start >= 0, piece
        end = start + len(piece)
        assert start == 0 or re.search(r"[.!?][\"')\]”’]* $", abstract[: start]), piece
        assert end == len(abstract) or abstract[end] == " ", piece
        assert end == len(abstract) or re.search(r"[.!?][\"')\]”’]*$", piece), piece
        assert not re.search(r"\b(?:e\.g|i\.e|et al|Fig|Figs|Eq|Eqs|vs|cf)\.$", piece, re.IGNORECASE), piece


def test_most_seed_summaries_state_a_contribution() -> None:
    share = sum(has_contribution_cue(extractive_summary(p["abstract"])) for p in SEED) / len(SEED)
    assert len(SEED) == 393
    assert share >= 0.9
