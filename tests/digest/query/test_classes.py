"""Acronyms, author names, -ing nouns and typographic quotes: table-driven cases on both engines,
and property tests (hypothesis) that the compiled matcher, the prepared batch of web search and the
one-by-one evaluator agree on random queries and papers drawn from each class's words."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.query import PaperDoc, analyze_doc, compile_matcher, match_query, parse_query
from tests.digest.query.test_differential import assert_same, parse_valid, queries


def matched_words(query: str, title: str, authors: tuple[str, ...] = ()) -> list[str] | None:
    """The words the query highlights in a paper (None: no match), the same from both engines."""
    doc = PaperDoc(None, title, "", authors)
    parsed = parse_query(query)
    explanation = match_query(parsed, doc)
    compiled = compile_matcher({1: parsed}).match([doc])
    assert [m.explanation for m in compiled] == ([explanation] if explanation else []), (query, title)
    return None if explanation is None else explanation.matched_words


ACRONYMS = [
    ("SAM", "Segment Anything (SAM) and SAMs", ["SAM", "SAMs"]),
    ("SAM", "SAM2 beats SAM-2 and SAM 3", ["SAM2", "SAM"]),
    ("SAM", "the same results, said Sam", None),  # not a word, not a name
    ("SAMs", "a SAM", ["SAM"]),  # the plural typed is the acronym too
    ("CLIP", "CLIP features", ["CLIP"]),
    ("CLIP", "video clips, clipping and clipped gradients", None),
    ("MoE", "sparse MOE layers and MoEs", ["MOE", "MoEs"]),
    ("MoE", "moe", None),
    ("SAM2", "SAM 2 and SAM-2 and SAM2", ["SAM", "2", "SAM2"]),
    ("SAM2", "the same 2 results", None),
    ("ＧＰＴ", "GPT", ["GPT"]),  # full-width capitals fold to the same acronym
    ('"LLM agents"', "LLMs agents", ["LLMs", "agents"]),
    # lower case keeps today's behaviour: every spelling, stemmed
    ("llm", "llms and LLMs", ["llms", "LLMs"]),
    ("sam", "the same SAM", ["same", "SAM"]),
    ("clip", "video clips", ["clips"]),
]
NAMES = [
    ("au:roberts", ("Jane Roberts",), ["Roberts"]),
    ("au:roberts", ("Robert Smith",), None),  # a name is never stemmed
    ("au:robert", ("Jane Roberts",), None),
    ("au:ROBERTS", ("Jane Roberts",), ["Roberts"]),  # capitals are not acronyms in names
    ("au:schölkopf", ("Bernhard Schölkopf",), ["Schölkopf"]),
    ("au:schölkopf", ("B. Schoelkopf",), ["Schoelkopf"]),
    ("au:schölkopf", ("A. Scholkopf",), ["Scholkopf"]),
    ("au:schoelkopf", ("Bernhard Schölkopf",), ["Schölkopf"]),
    ("au:scholkopf", ("Bernhard Schölkopf",), ["Schölkopf"]),
    ("au:yu", ("Yue Zhang",), None),  # no "ue" → "u" folding outside umlauts
    ('au:"y bengio"', ("Yoshua Bengio",), ["Yoshua", "Bengio"]),
    ('au:"y. bengio"', ("Y. Bengio",), ["Y", "Bengio"]),
    ('au:"y bengio"', ("Samy Bengio",), None),
    ("au:lopez", ("Maria Garcia-Lopez",), ["Lopez"]),
    ("au:garcia-lopez", ("Maria Garcia-Lopez",), ["Garcia", "Lopez"]),
    ("au:garcialopez", ("Maria Garcia-Lopez",), ["Garcia-Lopez"]),
    ('au:"maria garcia-lopez"', ("Maria Garcia-Lopez",), ["Maria", "Garcia", "Lopez"]),
    ("au:schö*", ("Bernhard Schölkopf",), ["Schölkopf"]),
    ("au:rob*", ("Robert Smith", "Jane Roberts"), ["Robert", "Roberts"]),
]
ING_NOUNS = [
    ("grounding", "visual grounding", ["grounding"]),
    ("grounding", "ground truth", None),
    ("ground", "visual groundings", None),
    ("pooling", "mean pooling", ["pooling"]),
    ("pooling", "a pool of candidates", None),
    ("modeling", "language modelling", ["modelling"]),  # one key for both spellings
    ("modeling", "language models", None),
    ("training", "trained models", ["trained"]),  # not a thing: still one word with its verb
]
QUOTES = [
    ("\u201csparse autoencoder\u201d", "sparse autoencoders", ["sparse", "autoencoders"]),
    ("\u201csparse autoencoder\u201d", "autoencoder, sparse", None),  # a phrase, not two words
    ("\u00absparse autoencoder\u00bb", "sparse autoencoders", ["sparse", "autoencoders"]),
    ("\u201esparse autoencoder\u201c", "sparse autoencoders", ["sparse", "autoencoders"]),
    ("\u201csparse autoencoder\u201d~2", "sparse deep autoencoder", ["sparse", "autoencoder"]),
]


@pytest.mark.parametrize(("query", "title", "expected"), ACRONYMS + ING_NOUNS + QUOTES)
def test_words(query: str, title: str, expected: list[str] | None) -> None:
    assert matched_words(query, title) == expected


@pytest.mark.parametrize(("query", "authors", "expected"), NAMES)
def test_names(query: str, authors: tuple[str, ...], expected: list[str] | None) -> None:
    assert matched_words(query, "", authors) == expected


def test_typographic_quotes_parse_like_straight_ones() -> None:
    curly = parse_query("\u201csparse autoencoder\u201d -ti:survey")
    assert curly.root == parse_query('"sparse autoencoder" -ti:survey').root
    assert parse_query("\u00ab sparse autoencoder \u00bb").root == parse_query('" sparse autoencoder "').root


CLASS_WORDS = {
    "acronym": ["SAM", "SAMs", "SAM2", "SAM-2", "same", "Sam", "sam", "CLIP", "clips", "MoE", "MOE", "moe", "LLMs",
                "llm", "GPT4o", "ＧＰＴ", "2"],
    "-ing noun": ["grounding", "groundings", "ground", "grounded", "pooling", "pool", "pooled", "modelling",
                  "modeling", "models", "training", "trained"],
    "name": ["Roberts", "Robert", "Schölkopf", "Schoelkopf", "Bengio", "Y", "Garcia-Lopez", "Lopez", "Yue", "Yu"],
}
AUTHORS = ["Bernhard Schölkopf", "B. Schoelkopf", "Yoshua Bengio", "Y. Bengio", "Maria Garcia-Lopez",
           "Robert Smith", "Jane Roberts", "Jean-Pierre Roberts", "Yue Yu"]


def class_docs(words: list[str]) -> st.SearchStrategy[list[PaperDoc]]:
    text = st.lists(st.tuples(st.sampled_from(words), st.sampled_from([" ", ", ", "-", " ("])), max_size=10).map(
        lambda parts: "".join(w + s for w, s in parts))
    return st.lists(st.builds(PaperDoc, id=st.none(), title=text, abstract=text,
                              authors=st.lists(st.sampled_from(AUTHORS), max_size=3), categories=st.just(())),
                    min_size=1, max_size=10)


def typographic(text: str) -> str:
    """Some straight quotes as phones type them: the query must mean the same."""
    out, opening = [], True
    for char in text:
        if char == '"':
            out.append("\u201c" if opening else "\u201d")
            opening = not opening
        else:
            out.append(char)
    return "".join(out)


@pytest.mark.parametrize("name", sorted(CLASS_WORDS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_both_engines_agree_on_each_class(name: str, data: st.DataObject) -> None:
    words = CLASS_WORDS[name]
    texts = data.draw(st.lists(queries(st.sampled_from(words)), min_size=1, max_size=6))
    docs = [analyze_doc(d) for d in data.draw(class_docs(words))]
    assert_same(parse_valid(texts), docs)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_typographic_quotes_agree_with_straight_ones(data: st.DataObject) -> None:
    words = CLASS_WORDS["acronym"] + CLASS_WORDS["-ing noun"]
    texts = data.draw(st.lists(queries(st.sampled_from(words)), min_size=1, max_size=6))
    docs = [analyze_doc(d) for d in data.draw(class_docs(words))]
    straight = parse_valid(texts)
    curly = parse_valid([typographic(t) for t in texts])
    assert {sid: q.root for sid, q in curly.items()} == {sid: q.root for sid, q in straight.items()}
    assert_same(curly, docs)
