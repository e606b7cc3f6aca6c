"""The parser: valid queries and their canonical form, pointed errors, limits, property tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.query import Query, QueryError, QueryLimits, parse_query
from digest.query.ast import And, Category, Not, Or, Phrase, Prefix, Term


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("autoencoder", "autoencoder"),
        ("  sparse   autoencoder ", "sparse autoencoder"),
        ("a AND b", "a b"),
        ("a OR b c", "a OR b c"),  # OR binds looser than AND
        ("(a OR b) c", "(a OR b) c"),
        ("a NOT b", "a -b"),
        ("a -(b OR c)", "a -(b OR c)"),
        ('ti:"sparse autoencoder"', 'ti:"sparse autoencoder"'),
        ("abs:diffusion au:hinton", "abs:diffusion au:hinton"),
        ("TI:x", "ti:x"),
        ("cat:cs.LG", "cat:cs.LG"),
        ("cat:cs.* llm", "cat:cs.* llm"),
        ("tokeniz*", "tokeniz*"),
        ("ti:tok*", "ti:tok*"),
        ("low-resource", "low-resource"),
        ("and or not", "and or not"),  # lower-case operators are words
        ("((a))", "a"),
        ("a --b", "a --b"),
    ],
)
def test_valid_queries_and_their_canonical_form(text: str, canonical: str) -> None:
    query = parse_query(text)
    assert str(query) == canonical
    assert parse_query(str(query)).root == query.root


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("Autoencoders", Term(("title", "abstract"), "Autoencoders", "autoencoder")),
        ("low-resource", Phrase(("title", "abstract"), "low-resource", ("low", "resourc"), False, "lowresourc")),
        ('ti:"Sparse Autoencoders"', Phrase(("title",), "Sparse Autoencoders", ("spars", "autoencoder"), True)),
        ("au:Hinton*", Prefix(("authors",), "Hinton", "@hinton")),
        ("cat:CS.*", Category("CS.*", "cs", True)),
        ("a OR b c", Or((Term(("title", "abstract"), "a", "a"), And((Term(("title", "abstract"), "b", "b"),
                                                                         Term(("title", "abstract"), "c", "c")))))),
        ("x NOT y", And((Term(("title", "abstract"), "x", "x"), Not(Term(("title", "abstract"), "y", "y"))))),
    ],
)
def test_tree_shape(text: str, node: object) -> None:
    assert parse_query(text).root == node


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ('"sparse autoencoder', 0, 'expected a closing "'),
        ('a "b', 2, 'expected a closing "'),
        ("(a b", 0, "expected a closing )"),
        ("a b)", 3, "expected an opening ("),
        ("()", 1, "inside ( )"),
        ("a AND", 2, "dangling operator AND"),
        ("a OR", 2, "dangling operator OR"),
        ("OR a", 0, "dangling operator OR"),
        ("a OR OR b", 2, "dangling operator OR"),
        ("a NOT", 2, "dangling operator NOT"),
        ("a -", 2, "dangling -"),
        ("a - b", 2, "dangling -"),
        ("foo:bar", 0, "unknown field foo:"),
        ("ti: x", 3, "right after ti:"),
        ("ti:)", 3, "right after ti:"),
        ("ti:(abs:x)", 4, "one field per group"),
        ("to*", 0, "at least 3 characters before *"),
        ("ab*", 0, "prefix too short"),
        ("to*ken", 2, "* only at the end"),
        ("lo_w*", 0, "only letters, digits and hyphens before *"),
        ('cat:"cs lg"', 4, "a category like"),
        ("cat:cs*", 4, "a category like"),
        ("-a", 0, "can only exclude"),
        ("NOT a", 0, "can only exclude"),
        ("-a -b", 0, "can only exclude"),
        ("a OR -b", 5, "can only exclude"),
        ("x OR (-a -b)", 6, "can only exclude"),
        ('""', 0, "empty phrase"),
        ("+++", 0, "letters or digits"),
        ("   ", 0, "empty query"),
        ("", 0, "empty query"),
    ],
)
def test_invalid_queries_point_at_the_problem(text: str, position: int, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(text)
    error = info.value
    assert error.position == position
    assert fragment in str(error)
    assert f"at position {position + 1}: expected " in str(error)
    assert "\n" not in str(error)


def test_exclusion_inside_a_required_part_is_fine() -> None:
    assert str(parse_query("x (a OR -b)")) == "x (a OR -b)"


@pytest.mark.parametrize(
    ("text", "limits", "fragment"),
    [
        ("a" * 11, QueryLimits(max_length=10, max_clauses=5), "at most 10 characters"),
        ("a b c", QueryLimits(max_length=100, max_clauses=2), "at most 2 terms or phrases"),
        ('a "b c" d', QueryLimits(max_length=100, max_clauses=2), "too many clauses"),
    ],
)
def test_limits(text: str, limits: QueryLimits, fragment: str) -> None:
    with pytest.raises(QueryError, match=fragment):
        parse_query(text, limits)
    parse_query(text, QueryLimits(max_length=100, max_clauses=3))


def test_too_many_clauses_points_at_the_first_extra_one() -> None:
    with pytest.raises(QueryError) as info:
        parse_query("a b c", QueryLimits(max_length=100, max_clauses=2))
    assert info.value.position == 4


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab -()"*:ORNDTtiascu.AE\u00e9\t~2+&|')), max_size=30)
       | st.text(max_size=30))
def test_parser_raises_only_query_error(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError as exc:
        assert 0 <= exc.position <= len(text)
        assert "\n" not in str(exc)
        return
    assert parse_query(str(query)).root == query.root


WORDS = st.sampled_from(["sparse", "Autoencoders", "low-resource", "LLM", "gpt-4", "diffusion", "and", "x1", "café"])


def _atom() -> st.SearchStrategy[str]:
    field = st.sampled_from(["", "ti:", "abs:", "au:"])
    term = st.builds(lambda f, w: f + w, field, WORDS)
    phrase = st.builds(lambda f, ws: f + '"' + " ".join(ws) + '"', field, st.lists(WORDS, min_size=1, max_size=3))
    prefix = st.builds(lambda f, p: f + p + "*", field, st.sampled_from(["tok", "spars", "Diff"]))
    category = st.sampled_from(["cat:cs.LG", "cat:cs.*", "cat:hep-ph", "cat:cs", "cat:(cs.LG OR stat)"])
    words = st.lists(WORDS, min_size=1, max_size=3, unique=True)
    near = st.builds(lambda f, ws, n: f'{f}"{" ".join(ws)}"~{n}', field, words, st.integers(0, 99))
    group = st.builds(lambda f, a, b: f"{f or 'abs:'}({a} -{b})", field, WORDS, WORDS)
    hyphen_prefix = st.builds(lambda f, p: f + p + "*", field, st.sampled_from(["pre-tr", "fine-tun", "gpt-4"]))
    return term | phrase | prefix | category | near | group | hyphen_prefix


queries = st.recursive(
    _atom(),
    lambda inner: st.builds(lambda a, b: f"{a} {b}", inner, inner)
    | st.builds(lambda a, b: f"{a} AND {b}", inner, inner)
    | st.builds(lambda a, b: f"({a} OR {b})", inner, inner)
    | st.builds(lambda a, b: f"{a} -{b}", inner, _atom())
    | st.builds(lambda a, b: f"{a} NOT ({b})", inner, inner),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(queries)
def test_generated_queries_parse_and_round_trip(text: str) -> None:
    query = parse_query(text, QueryLimits(max_length=1000, max_clauses=100))
    assert isinstance(query, Query)
    again = parse_query(str(query), QueryLimits(max_length=1000, max_clauses=100))
    assert again.root == query.root
    assert str(again) == str(query)


def test_any_unicode_space_separates_words() -> None:
    assert str(parse_query("sparse\u2003autoencoder\u00a0x")) == "sparse autoencoder x"
