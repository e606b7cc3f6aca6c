"""ORCIDs the scholarly sources carry, kept per author in a paper's extras (what `author:` matches)."""

from __future__ import annotations

import json

import pytest

from digest.query.people import ORCIDS_EXTRA, orcid_pairs
from digest.sources.crossref import parse_crossref
from digest.sources.openalex import parse_openalex
from digest.sources.pubmed import parse_efetch
from tests.digest.sources.test_scholarly_parsers import body


def test_openalex_crossref_and_pubmed_keep_each_authors_orcid() -> None:
    openalex = parse_openalex(body("openalex/works_search_ml_nlp_subset.json"), "s")[0].records
    crossref = parse_crossref(body("crossref/works_query_widget_cursor_page1.json"), "s")[0].records
    pubmed = parse_efetch(body("pubmed/efetch_ml_nlp_subset.xml"), "s").records
    for records in (openalex, crossref, pubmed):
        with_ids = [r for r in records if ORCIDS_EXTRA in r.extras]
        assert with_ids, records[0].source
        for record in with_ids:  # every pair names one of the paper's authors, with a valid ORCID
            for name, orcid in record.extras[ORCIDS_EXTRA]:
                assert name in record.authors and len(orcid) == 19
    willighagen = next(r for r in crossref if "Egon Willighagen" in r.authors)
    assert ["Egon Willighagen", "0000-0001-7542-0286"] in willighagen.extras[ORCIDS_EXTRA]
    wang = next(r for r in pubmed if r.extras["pmid"] == "36006759")
    assert wang.extras[ORCIDS_EXTRA][0] == ["Yilei Wang", "0000-0002-3082-3038"]


@pytest.mark.parametrize("poison", [None, 12, "", "0000-0002-3082-3039", "x" * 10_000, "0000-0002-3082-3038\x00"])
def test_bad_orcids_are_dropped(poison: object) -> None:
    assert orcid_pairs([("A Name", poison)]) == []  # type: ignore[list-item]


def test_a_work_with_bad_authorships_still_parses() -> None:
    page = json.loads(body("openalex/works_search_ml_nlp_subset.json"))
    page["results"][0]["authorships"] = [None, {"author": {"orcid": ["0000"], "display_name": "A B"}}]
    records = parse_openalex(json.dumps(page).encode(), "s")[0].records
    assert ORCIDS_EXTRA not in records[0].extras
