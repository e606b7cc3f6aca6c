"""Queries that say when they look wrong, and the syntax users reasonably type."""

from __future__ import annotations

import pytest

from digest.query import PaperDoc, QueryError, QueryLimits, compile_matcher, match_query, parse_query


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("diffusion or flow", '"or" is searched as a word; did you mean OR?'),
        ("diffusion and flow", "did you mean AND?"),
        ("diffusion not flow", "did you mean NOT?"),
        ("(a b) Or c", "did you mean OR?"),
        ('"tokeniz*"', "* inside quotes is not a wildcard"),
        ('ti:"pre train*"', "* inside quotes is not a wildcard"),
        ("cat:cs", "cat:cs names a whole archive: it matches every cs.* category"),
        ("cat:math llm", "every math.* category"),
        ("a NEAR b", '"NEAR" is not an operator'),
        ("a NEAR/3 b", '"NEAR/3" is not an operator'),
        ("a XOR b", "use OR"),
        ("+llm", "+ is ignored"),
        ("C++", 'symbols are not indexed, this searches "C"'),
        ("C# compiler", 'this searches "C"'),
        ("not survey llm", '"not" is searched as a word; to exclude, write NOT (upper-case) or -word'),
        ("(not survey) llm", "to exclude, write NOT"),
        ("llm, vlm", '"llm, vlm": a comma is not an operator, every word is required; did you mean llm OR vlm?'),
        ("llm, vlm, slm agents", "did you mean llm OR vlm OR slm?"),
        ("llm,vlm", '"llm,vlm" is searched as the phrase "llm vlm"; did you mean llm OR vlm?'),
        ("\u201csparse autoencoder\u201d, SAEs", "a comma is not an operator, every part is required; use OR"),
        ("the", '"the": only common words, which nearly every paper has; add a more specific word'),
        ('"the paper" OR results', '"the paper results": only common words'),
    ],
)
def test_warnings(query: str, fragment: str) -> None:
    warnings = parse_query(query).warnings
    assert any(fragment in w for w in warnings), warnings


@pytest.mark.parametrize(
    "query",
    ["diffusion OR flow", "rock and", "bad not", "cat:cs.LG", "cat:hep-th", "cat:cs.*", '"a b"~2', "pre-train*",
     "android", "Nearby", "gpt-4", "ti:(a OR b)"],
)
def test_no_warning_for_ordinary_queries(query: str) -> None:
    assert parse_query(query).warnings == ()


def test_warnings_are_bounded_for_replies() -> None:
    warnings = parse_query("a or b and c not d " + "x" * 300 + "++").warnings
    assert warnings[:3] == (
        '"or" is searched as a word; did you mean OR? (operators are upper-case)',
        '"and" is searched as a word; did you mean AND? (operators are upper-case)',
        '"not" is searched as a word; did you mean NOT? (operators are upper-case)',
    )
    assert warnings[3] == "… and 1 more warnings"
    long_word = parse_query("x" * 300 + "++").warnings[0]
    assert long_word.startswith('"' + "x" * 29 + '…": symbols') and len(long_word) <= 110


def test_warnings_do_not_change_equality_or_meaning() -> None:
    assert parse_query("a or b") == parse_query("a or b")  # warnings are not part of equality
    assert parse_query("a or b").root == parse_query("a  or  b").root
    assert str(parse_query("a or b")) == "a or b"  # still three words, as written


@pytest.mark.parametrize(
    ("query", "expected"),
    [("a && b", "AND instead"), ("a || b", "OR instead"), ("! a", "NOT instead"), ("a | b", "OR instead")],
)
def test_symbol_operators_are_refused_with_the_operator_meant(query: str, expected: str) -> None:
    with pytest.raises(QueryError, match=expected):
        parse_query(query)


DOC = PaperDoc(
    None,
    "Diffusion models for sparse deep autoencoders",
    "Flow matching with pretrained and pre-training encoders. Autoencoder sparse codes.",
    categories=["cs.LG"],
)


@pytest.mark.parametrize(
    ("query", "match"),
    [
        ("cat:cs", True),
        ("cat:CS", True),
        ("cat:stat", False),
        ("cat:(stat.ML OR cs.LG)", True),
        ("ti:(diffusion OR flow)", True),
        ("ti:(flow OR matching)", False),  # both only in the abstract
        ("abs:(flow matching)", True),
        ("ti:(diffusion -(sparse OR flow))", False),
        ("pre-train*", True),
        ("pre-trainingx*", False),
        ("ti:pre-train*", False),
        # Lucene slop: positions each word may move; "sparse deep autoencoders" needs 1
        ('"sparse autoencoders"', False),
        ('"sparse autoencoders"~0', False),
        ('"sparse autoencoders"~1', True),
        ('ti:"autoencoders sparse"~2', False),  # reversed, one word between: needs 3
        ('ti:"autoencoders sparse"~3', True),
        ('abs:"sparse autoencoder"~1', False),  # "Autoencoder sparse": reversed, adjacent: needs 2
        ('abs:"sparse autoencoder"~2', True),
        ('"diffusion"~3', True),
    ],
)
def test_new_syntax_matches(query: str, match: bool) -> None:
    parsed = parse_query(query)
    assert (match_query(parsed, DOC) is not None) == match
    assert bool(compile_matcher({1: parsed}).match([DOC])) == match


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("ti:(diffusion OR flow)", "ti:diffusion OR ti:flow"),
        ('"a b"~2', '"a b"~2'),
        ('"a"~2', '"a"'),
        ("pre-train*", "pre-train*"),
        ("cat:cs", "cat:cs"),
    ],
)
def test_new_syntax_round_trips(query: str, canonical: str) -> None:
    parsed = parse_query(query)
    assert str(parsed) == canonical
    assert parse_query(str(parsed)).root == parsed.root


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ('"a b"~', 5, "a number of positions"),
        ('"a b"~x', 5, "a number of positions"),
        ('"a b"~100', 5, "up to 99"),
        ('"model models"~5', 0, "a word repeats in a proximity phrase"),
        ("ti:(abs:x)", 4, "one field per group"),
        ("ti:()", 3, "empty parentheses"),
        ("pre-*", 0, "only letters, digits and hyphens"),
        ("x p-r*", 2, "at least 3 characters"),
    ],
)
def test_new_syntax_errors(query: str, position: int, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(query)
    assert fragment in str(info.value)
    assert info.value.position in (position, position + 1)


@pytest.mark.parametrize("depth", [17, 100, 249])
def test_deep_nesting_is_refused_with_a_pointed_error(depth: int) -> None:
    limits = QueryLimits(max_length=2000)
    for text in ("(" * depth + "a" + ")" * depth, "a " + "-" * depth + "b", "a " + "NOT " * depth + "b"):
        with pytest.raises(QueryError, match=r"nested too deeply.*at most 16 levels"):
            parse_query(text, limits)


def test_the_deepest_allowed_nesting_parses() -> None:
    assert str(parse_query("(" * 15 + "a" + ")" * 15)) == "a"
