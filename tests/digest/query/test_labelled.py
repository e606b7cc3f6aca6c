"""The labelled ML queries: precision and recall >= 0.95 each on the seed corpus, both engines.

The truth (labelled_queries.json) comes from hand-written regexes and reviewed exceptions in
labelled_truth.py, never from the analyser; a test keeps the stored file equal to those rules.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from digest.query import PaperDoc, analyze_doc, compile_matcher, match_query, parse_query
from tests.digest.query import labelled_truth

LABELLED = json.loads(Path(__file__).with_name("labelled_queries.json").read_text(encoding="utf-8"))


@cache
def corpus_docs() -> list[PaperDoc]:
    return [PaperDoc(None, r["title"], r["abstract"]) for r in labelled_truth.load_corpus()]


@cache
def compiled_hits() -> dict[int, set[int]]:
    queries = {number: parse_query(entry["query"]) for number, entry in enumerate(LABELLED)}
    hits: dict[int, set[int]] = {number: set() for number in queries}
    for match in compile_matcher(queries).match(corpus_docs()):
        hits[match.subscription_id].add(match.doc_index)
    return hits


def test_the_set_is_large_and_equal_to_its_rules() -> None:
    assert len(LABELLED) >= 40
    assert json.loads(json.dumps(labelled_truth.build())) == LABELLED


@pytest.mark.parametrize("number", range(len(LABELLED)), ids=[e["query"] for e in LABELLED])
def test_precision_and_recall(number: int) -> None:
    entry = LABELLED[number]
    found, truth = compiled_hits()[number], set(entry["papers"])
    true_positives = len(found & truth)
    precision = true_positives / len(found) if found else 1.0
    recall = true_positives / len(truth) if truth else 1.0
    assert precision >= 0.95, (entry["query"], sorted(found - truth))
    assert recall >= 0.95, (entry["query"], sorted(truth - found))


def test_the_oracle_finds_the_same_papers() -> None:
    docs = [analyze_doc(d) for d in corpus_docs()]
    for number, entry in enumerate(LABELLED[:12]):  # a sample: the differential tests cover the rest
        query = parse_query(entry["query"])
        assert {i for i, d in enumerate(docs) if match_query(query, d)} == compiled_hits()[number]
