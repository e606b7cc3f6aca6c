"""`cat:` reaches the categories of the scholarly sources: bioRxiv subjects and MeSH terms (`_` for a space)."""

from __future__ import annotations

import pytest

from digest.query import PaperDoc, compile_matcher, parse_query
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
