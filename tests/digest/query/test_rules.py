"""Every rule of the query language, table-driven, on the one-by-one evaluator (the reference)."""

from __future__ import annotations

import pytest

from digest.query import PaperDoc, analyze_doc, compile_matcher, match_query, parse_query

DOC = PaperDoc(
    id="2410.00001",
    title="Sparse Autoencoders (SAEs) for Low-Resource Tokenization",
    abstract=(
        "We study hallucinations of large language models and an auto-encoder trained on low resource "
        "languages. The tokenizer is state-of-the-art; GPT-4 agrees."
    ),
    authors=["Ada Lovelace", "Geoffrey Hinton"],
    categories=["cs.LG", "stat.ML"],
)


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        # terms: case-insensitive, stemmed
        ("autoencoder", True),
        ("Autoencoders", True),
        ("hallucination", True),
        ("language", True),
        ("transformer", False),
        # hyphenated words: parts and joined
        ("autoencoder", True),  # "auto-encoder" in the abstract also counts
        ("encoder", True),
        ("lowresource", True),
        ('"low resource"', True),
        ('"low-resource"', True),
        ("low-resource", True),
        ("ti:lowresource", True),
        ("abs:lowresource", False),  # the abstract writes "low resource" apart
        ('"state of the art"', True),
        ("stateoftheart", True),
        ("gpt-4", True),
        ("gpt4", True),
        # phrases: consecutive tokens
        ('"sparse autoencoder"', True),
        ('"autoencoder sparse"', False),
        ('"sparse tokenization"', False),
        ('"large language models"', True),
        ('"an autoencoder trained"', True),  # across the joined "auto-encoder"
        ('"an auto encoder trained"', True),
        ('"an autoencoder"', True),  # two-word phrases go through the pair index
        ('"autoencoder trained"', True),
        ('"auto encoder"', True),
        ('"resource tokenization"', True),  # "Low-Resource Tokenization"
        ('"lowresource tokenization"', True),
        ('"for lowresource"', True),
        ('"sae for"', True),  # parentheses between words do not break a phrase
        ('"is stateoftheart"', True),
        ('"stateoftheart gpt"', True),
        ('"stateoftheart gpt4"', True),  # two adjacent compounds, both joined
        ('"languages the tokenizer"', True),  # punctuation does not break consecutiveness
        # boolean
        ("sparse hallucination", True),
        ("sparse AND transformer", False),
        ("sparse OR transformer", True),
        ("transformer OR diffusion", False),
        ("sparse -transformer", True),
        ("sparse -hallucination", False),
        ("sparse NOT hallucination", False),
        ("transformer OR sparse -hallucination", False),
        ("(transformer OR sparse) -diffusion", True),
        ("sparse -(transformer OR diffusion)", True),
        ("sparse -(transformer OR hallucination)", False),
        ("and", True),  # lower-case operator words are plain terms
        # fields
        ("ti:sparse", True),
        ("abs:sparse", False),
        ("ti:hallucination", False),
        ("abs:hallucination", True),
        ('ti:"sparse autoencoders"', True),
        ("au:hinton", True),
        ('au:"geoffrey hinton"', True),
        ('au:"lovelace geoffrey"', False),  # a phrase never runs across two authors
        ("hinton", False),  # no field = title and abstract only
        ("cat:cs.LG", True),
        ("cat:CS.lg", True),
        ("cat:cs.AI", False),
        ("cat:cs.*", True),
        ("cat:stat.*", True),
        ("cat:math.*", False),
        ("cat:cs", True),  # an archive name means the whole archive (with a warning)
        # prefix wildcard on unstemmed tokens
        ("tokeniz*", True),
        ("ti:tokeniz*", True),
        ("abs:tokeniz*", True),
        ("halluc*", True),
        ("hallucinationz*", False),
        ("autoenc*", True),  # joined form of auto-encoder
        ("au:hint*", True),
    ],
)
def test_rule(query: str, matches: bool) -> None:
    parsed = parse_query(query)
    result = match_query(parsed, DOC)
    assert (result is not None) == matches
    compiled = compile_matcher({7: parsed}).match([DOC])
    assert [(m.subscription_id, m.doc_index, m.explanation) for m in compiled] == ([(7, 0, result)] if matches else [])


@pytest.mark.parametrize(
    ("query", "words", "clauses", "title_hits", "abstract_hits"),
    [
        ("autoencoder", ["Autoencoders", "auto-encoder"], [("autoencoder", ["title", "abstract"])], 1, 1),
        ('"sparse autoencoder"', ["Sparse", "Autoencoders"], [('"sparse autoencoder"', ["title"])], 1, 0),
        ("low-resource", ["Low", "Resource", "low", "resource"], [("low-resource", ["title", "abstract"])], 1, 1),
        ("ti:lowresource", ["Low-Resource"], [("ti:lowresource", ["title"])], 1, 0),
        ("transformer OR tokeniz*", ["Tokenization", "tokenizer"], [("tokeniz*", ["title", "abstract"])], 1, 1),
        ("sparse -diffusion", ["Sparse"], [("sparse", ["title"])], 1, 0),
        ("au:hinton cat:cs.*", ["Hinton", "cs.LG"], [("au:hinton", ["authors"]), ("cat:cs.*", ["categories"])], 0, 0),
        ("language", ["language", "languages"], [("language", ["abstract"])], 0, 2),
    ],
)
def test_explanation(
    query: str, words: list[str], clauses: list[tuple[str, list[str]]], title_hits: int, abstract_hits: int
) -> None:
    explanation = match_query(parse_query(query), DOC)
    assert explanation is not None
    assert explanation.matched_words == words
    assert [(c.clause, c.fields) for c in explanation.clauses] == clauses
    assert (explanation.title_hits, explanation.abstract_hits) == (title_hits, abstract_hits)
    data = explanation.to_dict()
    assert data["matched_words"] == words and data["clauses"][0]["clause"] == clauses[0][0]


def test_empty_fields_and_documents() -> None:
    empty = PaperDoc(id=None, title="", abstract="")
    assert match_query(parse_query("anything"), empty) is None
    assert compile_matcher({1: parse_query("anything")}).match([empty]) == []
    assert compile_matcher({1: parse_query("anything")}).match([]) == []


@pytest.mark.parametrize(
    ("query", "matches"),
    [('"lowresource tokenfree"', True), ('"resource tokenfree"', True), ('"lowresource token"', True),
     ('"resource token"', True), ('"lowresource free"', False), ('"free low"', False)],
)
def test_adjacent_compounds(query: str, matches: bool) -> None:
    doc = PaperDoc(None, "low-resource token-free", "")
    assert (match_query(parse_query(query), doc) is not None) == matches
    assert bool(compile_matcher({1: parse_query(query)}).match([doc])) == matches


def test_analysis_indexes_each_occurrence_once() -> None:
    doc = analyze_doc(PaperDoc(None, "Sparse sparsity", "auto-encoder", ["Ada Hinton", "Bo Hinton"], [" cs.LG "]))
    assert doc.fields["authors"].stems["@hinton"] == [(1, 1, "Hinton"), (4, 4, "Hinton")]
    assert doc.fields["abstract"].raw["autoencoder"] == [(0, 1, "auto-encoder")]
    assert doc.fields["title"].stems["spars"] == [(0, 0, "Sparse")]
    assert doc.categories == [("cs.lg", "cs.LG")]


def test_match_objects() -> None:
    matcher = compile_matcher({3: parse_query("sparse"), 5: parse_query("diffusion OR sparse")})
    matches = matcher.match([DOC, PaperDoc(None, "Diffusion", "")])
    assert [(m.subscription_id, m.doc_index) for m in matches] == [(3, 0), (5, 0), (5, 1)]
    subscription_id, doc_index, explanation = matches[2]
    assert (subscription_id, doc_index, explanation.matched_words) == (5, 1, ["Diffusion"])
    assert matches[0] == matches[0] and matches[0] != matches[1]
    assert matcher.match([DOC])[:1] == compile_matcher({3: parse_query("sparse")}).match([DOC])
