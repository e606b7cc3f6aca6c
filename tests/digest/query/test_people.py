"""Following a person: the name normaliser, `author:` clauses, both engines agreeing on them."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.query import PaperDoc, QueryError, analyze_doc, compile_matcher, parse_query
from digest.query import match_query as oracle
from digest.query.normal import normal_form
from digest.query.people import (
    author_keys,
    doc_people,
    identity_key_set,
    identity_keys,
    name_problem,
    normal_orcid,
    parse_identity,
)
from digest.query.prepared import PreparedBatch

BENGIO = 'author:"Yoshua Bengio"'

# (paper's author as written, matched by author:"Yoshua Bengio")
SPELLINGS = [
    ("Yoshua Bengio", True),
    ("Y. Bengio", True),
    ("Bengio, Yoshua", True),
    ("Bengio, Y.", True),
    ("Bengio Y", True),  # PubMed's "Surname Initials"
    ("YOSHUA BENGIO", True),
    ("Yoshua Bengió", True),  # accent added
    ("Yoshua J. Bengio", True),
    ("Samy Bengio", False),  # same surname, another person
    ("Yann Bengio", False),
    ("S. Bengio", False),
    ("Yoshua Bengioo", False),
    ("Bengio", False),  # no given name: cannot be told apart
]


@pytest.mark.parametrize(("author", "expected"), SPELLINGS)
def test_author_clause_matches_the_person_not_the_string(author: str, expected: bool) -> None:
    doc = PaperDoc("p", "A title", "An abstract", [author, "Aaron Courville"])
    query = parse_query(BENGIO)
    found = oracle(query, doc)
    assert (found is not None) is expected
    if found is not None:
        assert found.people == [author]
        assert found.to_dict()["people"] == [author]
        assert found.matched_words == []  # nothing to highlight in the text


@pytest.mark.parametrize(("query", "author", "expected"), [
    ('author:"Bernhard Schölkopf"', "B. Schoelkopf", True),
    ('author:"B. Schoelkopf"', "Bernhard Schölkopf", True),
    ('author:"María García-López"', "Garcia-Lopez, Maria", True),
    ('author:"Laurens van der Maaten"', "L. van der Maaten", True),
    ('author:"Jean-Pierre Dupont"', "J.-P. Dupont", True),
    ('author:"Jean-Pierre Dupont"', "Jacques Dupont", False),
    ('author:"Y. Bengio"', "Yann Bengio", True),  # initials only: every Y. Bengio
    ('author:"Y. Bengio"', "Samy Bengio", False),
])
def test_variants(query: str, author: str, expected: bool) -> None:
    assert (oracle(parse_query(query), PaperDoc(None, "t", "a", [author])) is not None) is expected


def test_orcid_matches_whatever_the_spelling() -> None:
    query = parse_query('author:"Yoshua Bengio; 0000-0002-9322-3515"')
    doc = PaperDoc(None, "t", "a", ["Й. Бенжио"], author_ids=[("Й. Бенжио", "0000-0002-9322-3515")])
    explanation = oracle(query, doc)
    assert explanation is not None and explanation.people == ["Й. Бенжио"]
    assert oracle(parse_query("author:0000-0002-9322-3515"), doc) is not None
    assert oracle(parse_query("author:0000-0002-1825-0097"), doc) is None


def test_author_combines_with_other_clauses_and_au_is_unchanged() -> None:
    docs = [
        PaperDoc("1", "Deep learning", "x", ["Y. Bengio"], ["cs.LG"]),
        PaperDoc("2", "Deep learning", "x", ["Samy Bengio"], ["cs.LG"]),
        PaperDoc("3", "Graphs", "x", ["Bengio, Yoshua"], ["cs.LG"]),
    ]
    cases = {
        f"{BENGIO} deep": ["1"],
        f"{BENGIO} -deep": ["3"],
        f"{BENGIO} OR au:samy": ["1", "2", "3"],
        "au:bengio": ["1", "2", "3"],  # text matching, as before
        'au:"samy bengio"': ["2"],
    }
    for text, expected in cases.items():
        query = parse_query(text)
        assert [d.id for d in docs if oracle(query, d) is not None] == expected, text
        matcher = compile_matcher({1: query})
        assert [docs[m.doc_index].id for m in matcher.match(docs)] == expected, text
        assert [docs[m.doc_index].id for m in matcher.match(PreparedBatch(docs))] == expected, text


@pytest.mark.parametrize(("text", "reason"), [
    ('author:""', "empty"),
    ("author:bengio", "no given name"),
    ('author:"Yoshua\x00Bengio"', "control"),
    ('author:"' + "a" * 300 + ' b"', "characters long"),
    ('author:"1234 5678"', "no letter"),
    ("author:0000-0002-9322-3516", "check digit"),
    ('author:(x y)', "one person"),
    ('author:"a b; c d; e f; g h; i j; k l; m n; o p; q r"', "at most 8"),
])
def test_poison_author_clauses_are_refused_in_one_line(text: str, reason: str) -> None:
    with pytest.raises(QueryError) as refused:
        parse_query(text)
    assert reason in str(refused.value) and "\n" not in str(refused.value)


def test_round_trip_and_normal_form() -> None:
    query = parse_query('author:"Bengio, Yoshua ; 0000-0002-9322-3515"')
    assert str(query) == 'author:"Bengio, Yoshua; 0000-0002-9322-3515"'
    assert parse_query(str(query)).root == query.root
    # the same person in other words is the same clause (a repeated subscription is refused)
    assert normal_form(parse_query('author:"Yoshua Bengio"').root) == normal_form(
        parse_query('author:"Bengio, Yoshua"').root)


def test_poison_names() -> None:
    assert name_problem("") == "the name is empty"
    assert "characters long" in (name_problem("x" * 10_000) or "")
    assert "control" in (name_problem("A\u200bB") or "")
    assert doc_people(["", "x" * 10_000, "Ada\x07 Lovelace", "Ada Lovelace"], [("Ada Lovelace", "nonsense")]) == (
        ("lovelace|ada", "Ada Lovelace"), ("lovelace|a*", "Ada Lovelace"))
    with pytest.raises(ValueError, match="empty"):
        parse_identity(" ; ")


def test_orcid_checksum() -> None:
    assert normal_orcid("https://orcid.org/0000-0002-1825-0097") == "0000-0002-1825-0097"
    assert normal_orcid("0000000218250097") == "0000-0002-1825-0097"
    assert normal_orcid("0000-0001-5109-3700") == "0000-0001-5109-3700"
    assert normal_orcid("0000-0002-1694-233x") == "0000-0002-1694-233X"
    assert normal_orcid("0000-0002-1825-0098") is None


# --- the normaliser's properties, on generated names -------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyzéèüößçñåø"
word = st.text(alphabet=LETTERS, min_size=2, max_size=10).map(str.capitalize)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@settings(max_examples=150, deadline=None)
@given(given_name=word, surname=word)
def test_every_spelling_of_a_name_is_the_same_identity(given_name: str, surname: str) -> None:
    accepted = set(identity_keys(f"{given_name} {surname}"))
    if not accepted:
        return  # nameparser read the name as one part (a title or a suffix, like "Jr")
    spellings = [f"{surname}, {given_name}", f"{given_name[0]}. {surname}", f"{surname}, {given_name[0]}.",
                 f"{given_name.upper()} {surname.upper()}", strip_accents(f"{given_name} {surname}")]
    for spelling in spellings:
        if set(identity_keys(spelling)) and len(strip_accents(given_name)) == len(given_name):
            assert accepted & set(author_keys(spelling)), spelling


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_the_normaliser_never_fails(text: str) -> None:
    problem = name_problem(text)
    assert problem is None or "\n" not in problem
    author_keys(text)
    identity_keys(text)
    try:
        names, orcids = parse_identity(text)
    except ValueError as refused:
        assert "\n" not in str(refused)
    else:
        assert identity_key_set(names, orcids)


@settings(max_examples=100, deadline=None)
@given(first=word, other=word, surname=word)
def test_another_given_name_is_another_person(first: str, other: str, surname: str) -> None:
    if first[0].lower() == other[0].lower() or not identity_keys(f"{first} {surname}"):
        return
    assert not set(identity_keys(f"{first} {surname}")) & set(author_keys(f"{other} {surname}"))


def test_the_fast_split_reads_real_names_as_nameparser_does() -> None:
    from nameparser import HumanName

    from digest.query.people import _split

    names = sorted({a for line in (Path(__file__).parent / "arxiv_2026_sample.jsonl").read_text().splitlines()
                    for a in json.loads(line)["authors"]})
    for name in [*names[::14], "Laurens van der Maaten", "Dr. John Smith", "Md Rakibul Islam", "Li Y"]:
        parsed = HumanName(name)
        assert _split(name) == (parsed.first, parsed.last, bool(parsed.middle)), name


@pytest.mark.parametrize(("one", "other"), [("Islam, Md Rakibul", "Md Rakibul Islam"),
                                            ("Widdershoven, Cas", "Cas Widdershoven")])
def test_given_names_nameparser_reads_as_suffixes(one: str, other: str) -> None:
    assert set(identity_keys(one)) & set(author_keys(other))
    assert set(identity_keys(other)) & set(author_keys(one))


def test_analysis_is_lazy() -> None:
    analysed = analyze_doc(PaperDoc(None, "t", "a", ["Ada Lovelace"]))
    assert analysed._people is None  # papers nobody follows by identity are not parsed for it
    assert analysed.people()
