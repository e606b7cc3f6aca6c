"""`cat:` reaches bioRxiv subjects and MeSH terms (`_` for a space); `src:` selects by the reporting sources."""

from __future__ import annotations

import pytest

from digest.core.records import matcher_categories
from digest.query import PaperDoc, QueryError, compile_matcher, parse_query
from digest.query.oracle import match_query

DOC = PaperDoc("doi:10.1101/1", "Tumour growth", "Cells divide.", [], ["cell biology", "Natural Language Processing"])


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("cat:cell_biology", True),
        ("cat:Cell_Biology AND tumour", True),
        ("cat:natural_language_processing", True),
        ("cat:cell", False),
        ("cat:cs.LG", False),
    ],
)
def test_subjects_and_mesh_terms(text: str, matches: bool) -> None:
    query = parse_query(text)
    assert bool(match_query(query, DOC)) is matches
    assert bool(compile_matcher({1: query}).match([DOC])) is matches


@pytest.mark.parametrize(
    ("text", "sources", "matches"),
    [
        ("src:biorxiv", ["biorxiv:neuroscience"], True),
        ("src:biorxiv", ["biorxiv-rss:all"], True),
        ("src:arxiv AND tumour", ["arxiv-api:cat:q-bio"], True),
        ("src:pubmed", ["biorxiv:all", "crossref:type:journal-article"], False),
        ("tumour -src:hf", ["hf:daily"], False),
    ],
)
def test_src_selects_papers_by_the_sources_that_reported_them(text: str, sources: list[str], matches: bool) -> None:
    doc = PaperDoc("x", "Tumour growth", "Cells.", [], matcher_categories(["cell biology"], sources))
    query = parse_query(text)
    assert bool(match_query(query, doc)) is matches
    assert bool(compile_matcher({1: query}).match([doc])) is matches
    assert parse_query(str(query)).root == query.root  # the normal form parses back the same


def test_unknown_source_is_refused_with_the_known_ones() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("src:scholar")
    assert "src:pubmed" in caught.value.expected and caught.value.position == 4


def test_a_source_cannot_fake_a_src_tag_through_its_categories() -> None:
    assert matcher_categories(["src:pubmed", "x"], ["file:/tmp/a.json"]) == ["x", "src:file"]
