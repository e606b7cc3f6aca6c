"""The clause report every preview shows: which clause found nothing, and near-universal queries."""

from __future__ import annotations

import pytest

from digest.query import PaperDoc, analyze_doc, parse_query
from digest.query.report import SHARE_SAMPLE, ClauseReport

DOCS = [analyze_doc(PaperDoc(None, f"Diffusion models {i}", "We study flow matching.")) for i in range(4)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("diffusion ti:difusion", ['"ti:difusion" matched no paper in the last 30 days']),
        ("diffusion OR quantum OR au:nobody", ['"quantum" matched no paper in the last 30 days',
                                               '"au:nobody" matched no paper in the last 30 days']),
        ('"flow matching" -survey', ['"survey" matched no paper in the last 30 days']),
        ("diffusion flow", []),
    ],
)
def test_clauses_that_found_nothing_are_named(query: str, expected: list[str]) -> None:
    report = ClauseReport(parse_query(query))
    report.add(DOCS)
    assert report.warnings() == expected
    assert report.warnings(complete=False) == []  # a shorter scan proves nothing about absence


def test_a_query_matching_most_papers_says_so_once_the_sample_is_large_enough() -> None:
    report = ClauseReport(parse_query("diffusion OR flow"))
    report.add(DOCS)
    assert report.warnings() == [] and not report.settled
    report.add(DOCS * (SHARE_SAMPLE // len(DOCS)))
    assert report.settled
    assert report.warnings() == [
        "this query matches 100% of recent papers; add a more specific word or a field like ti:"
    ]


def test_nothing_read_reports_nothing() -> None:
    report = ClauseReport(parse_query("anything"))
    report.add([])
    assert report.warnings() == []
