"""Parsers of the scholarly-API sources on their recorded responses (and `file:` detecting each one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.core import ids
from digest.sources.base import SourceError
from digest.sources.biorxiv import clean_abstract, parse_details, preprint_doi
from digest.sources.crossref import parse_crossref, parts_date
from digest.sources.files import parse_file_bytes
from digest.sources.openalex import parse_openalex, rebuild_abstract
from digest.sources.pubmed import parse_efetch, parse_esearch
from digest.sources.scholarly import markup_to_text
from digest.sources.semantic_scholar import parse_s2

FIXTURES = Path(__file__).parent / "fixtures"


def body(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


@pytest.mark.parametrize(
    ("relative", "kind", "records", "malformed"),
    [
        ("biorxiv/details_biorxiv_2020-01-01_2022-12-31_cursor0.json", "biorxiv-details", 40, 0),
        ("biorxiv/details_biorxiv_doi_10.1101_2021.09.30.462652.json", "biorxiv-details", 1, 0),
        ("biorxiv/rss_connect_biorxiv_xml_subject_all_2018-03-23.xml", "biorxiv-rss", 30, 0),
        ("medrxiv/details_medrxiv_2020-01-01_2022-12-31_cursor0.json", "biorxiv-details", 49, 0),
        ("medrxiv/details_medrxiv_doi_10.1101_2021.12.11.21267504.json", "biorxiv-details", 1, 0),
        ("pubmed/efetch_ml_nlp_subset.xml", "pubmed-efetch", 12, 0),
        ("pubmed/efetch_27797938_inline_html_tags.xml", "pubmed-efetch", 1, 0),
        ("pubmed/efetch_29963580_mathml.xml", "pubmed-efetch", 1, 0),
        ("openalex/works_search_ml_nlp_subset.json", "openalex", 10, 0),
        ("crossref/works_query_ecology_rows2.json", "crossref", 2, 0),
        ("crossref/works_query_widget_cursor_page1.json", "crossref", 20, 0),
        ("crossref/work_10.1371_journal.pone.0033693.json", "crossref", 1, 0),
        ("semantic_scholar/paper_search_relevance_subset.json", "semantic-scholar", 20, 0),
        ("semantic_scholar/paper_search_bulk_subset.json", "semantic-scholar", 19, 0),
        ("semantic_scholar/author_1723755_papers_offset800_last.json", "semantic-scholar", 75, 0),
        ("semantic_scholar/recommendations_forpaper_10.2139_ssrn.2250500.json", "semantic-scholar", 100, 0),
    ],
)
def test_file_recognises_each_saved_response(relative: str, kind: str, records: int, malformed: int) -> None:
    detected, parsed = parse_file_bytes(body(relative), "file:x", papers_url="https://huggingface.co/papers")
    assert (detected, len(parsed.records), parsed.malformed) == (kind, records, malformed)
    assert all(r.title and r.canonical_id for r in parsed.records)


@pytest.mark.parametrize("relative", ["pubmed/esearch_biopython.xml", "pubmed/esearch_ml_nlp_2020-2022_retmax50.json"])
def test_a_saved_esearch_reply_is_refused_with_what_to_save_instead(relative: str) -> None:
    with pytest.raises(SourceError, match="efetch"):
        parse_file_bytes(body(relative), "file:x", papers_url="")


def test_biorxiv_versions_fold_into_one_paper_with_published_doi() -> None:
    parsed, received = parse_details(body("biorxiv/details_biorxiv_doi_10.1101_2021.09.30.462652.json"), "s")
    [paper] = parsed.records
    assert received == 2 and paper.canonical_id == "doi:10.1101/2021.09.30.462652" and paper.version == 2
    assert [v["version"] for v in paper.extras["versions"]] == [1, 2]
    assert paper.published_at is not None and paper.published_at.date().isoformat() == "2021-09-30"
    medrxiv, _ = parse_details(body("medrxiv/details_medrxiv_doi_10.1101_2021.12.11.21267504.json"), "s")
    [three] = medrxiv.records
    assert three.version == 3 and three.aliases == ["doi:10.1016/j.jbi.2022.104265"]
    assert three.extras["published_doi"] == "10.1016/j.jbi.2022.104265" and three.extras["server"] == "medRxiv"


def test_biorxiv_interval_page_keeps_licence_category_and_highest_version() -> None:
    parsed, received = parse_details(body("biorxiv/details_biorxiv_2020-01-01_2022-12-31_cursor0.json"), "s")
    assert received == 50 and parsed.total_results == 152918  # `total` is a string in the response
    assert (len(parsed.records), parsed.folded) == (40, 10)  # 10 DOIs listed twice (v3+v4, v9+v10, …)
    old = next(r for r in parsed.records if r.canonical_id == "doi:10.1101/001768")
    assert old.categories == ["systems biology"] and old.extras["license"] == "cc_by_nc_nd"
    assert old.aliases == ["doi:10.1016/j.isci.2022.105906"]
    assert "license" not in next(r for r in parsed.records if r.extras.get("license") is None).extras
    assert all("NA" not in r.aliases for r in parsed.records)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ObjectivesTo evaluate x.\n\nMethodsWe did.", "Objectives: To evaluate x. Methods: We did."),
        ("TGF{beta} and 67{+/-}8 with {mu}M", "TGFβ and 67±8 with μM"),
        ("BP [&ge;] 140 and T-score[&le;]-2.5, p<0.001", "BP ≥ 140 and T-score≤-2.5, p<0.001"),
        ("AO_SCPLOWBSTRACTC_SCPLOWWhen pathogens", "When pathogens"),
        ("Key pointsO_ST_ABSQuestionC_ST_ABSHow did it?", "Key points Question: How did it?"),
        ("HighlightsO_LIOne.\nC_LIO_LITwo.\nC_LI", "Highlights: • One. • Two."),
        ("{unknownname} stays", "{unknownname} stays"),
        ("Aim of the studyTo assess teams.", "Aim of the study: To assess teams."),
        ("McGurk effect.\n\nO_LIOne.\nC_LI", "McGurk effect. • One."),
    ],
)
def test_biorxiv_jats_leftovers_become_readable_text(raw: str, clean: str) -> None:
    assert clean_abstract(raw) == clean


def test_preprint_dois_in_every_form_name_the_same_paper() -> None:
    forms = [
        "10.1101/2020.06.11.145425",
        "https://doi.org/10.1101/2020.06.11.145425",
        "doi:10.1101/2020.06.11.145425v3",
        "10.1101%2F2020.06.11.145425",
        "HTTPS://DOI.ORG/10.1101/2020.06.11.145425",
    ]
    assert {preprint_doi(form)[0] for form in forms if preprint_doi(form)} == {"10.1101/2020.06.11.145425"}
    assert preprint_doi("https://doi.org/10.64898/2025.01.02.631234v2") == ("10.64898/2025.01.02.631234", 2)
    assert ids.canonical_id(None, doi="https://doi.org/10.48550/arXiv.2301.00236") == ("2301.00236", None)


def test_pubmed_structured_abstract_markup_mathml_and_dates() -> None:
    [tags] = parse_efetch(body("pubmed/efetch_27797938_inline_html_tags.xml"), "s").records
    assert tags.title.startswith("Leucocyte telomere length, genetic variants at the TERT gene region")
    assert tags.abstract.startswith("OBJECTIVE: Telomere shortening") and " DESIGN: " in tags.abstract
    assert tags.aliases == ["pmid:27797938"] and tags.doi == "10.1136/gutjnl-2016-312510"
    [math] = parse_efetch(body("pubmed/efetch_29963580_mathml.xml"), "s").records
    assert "inhaled 3He/129Xe MRI ventilation" in math.abstract and "ultrashort echo-time 1H MRI" in math.abstract
    batch = parse_efetch(body("pubmed/efetch_ml_nlp_subset.xml"), "s").records
    assert any(not r.abstract for r in batch) and all(r.published_at is not None for r in batch)
    first = batch[0]
    assert first.canonical_id == "doi:10.1037/met0000518" and "Natural Language Processing" in first.categories
    assert first.extras["pmid"] == "36006759"


def test_pubmed_esearch_json_and_xml() -> None:
    pmids, count = parse_esearch(body("pubmed/esearch_ml_nlp_2020-2022_retmax50.json"))
    assert (len(pmids), count) == (50, 1834)
    pmids, count = parse_esearch(body("pubmed/esearch_biopython.xml"))
    assert (len(pmids), count) == (20, 63)


def test_openalex_abstract_arxiv_location_and_aliases() -> None:
    parsed, cursor = parse_openalex(body("openalex/works_search_ml_nlp_subset.json"), "s")
    assert cursor is None  # a page/per-page page has no next_cursor
    by_id = {r.canonical_id: r for r in parsed.records}
    speech = by_id["2308.11589"]  # journal DOI, arXiv location: the arXiv id wins, the DOI is an alias
    assert "doi:10.18280/isi.270614" in speech.aliases and "openalex:W4315645596" in speech.aliases
    assert by_id["2301.00236"].doi is None  # arXiv's own DataCite DOI is not a journal DOI
    assert sum(1 for r in parsed.records if not r.abstract) == 1
    assert rebuild_abstract({"world": [1], "Hello": [0], "bad": ["x"]}) == "Hello world"


def test_crossref_dates_abstracts_and_missing_fields() -> None:
    parsed, cursor = parse_crossref(body("crossref/works_query_widget_cursor_page1.json"), "s")
    assert cursor is not None and len(parsed.records) == 20
    assert any(not r.authors for r in parsed.records) and all("<" not in r.abstract for r in parsed.records)
    assert parts_date({"date-parts": [[None]]}) is None and parts_date({"date-parts": [[2020]]}).year == 2020
    assert markup_to_text("<jats:title>Abstract</jats:title><jats:p>One.</jats:p><jats:p>Two.</jats:p>") == "One. Two."
    [single] = parse_crossref(body("crossref/work_10.1371_journal.pone.0033693.json"), "s")[0].records
    assert single.canonical_id == "doi:10.1371/journal.pone.0033693"


def test_semantic_scholar_pages_and_ids() -> None:
    parsed, following = parse_s2(body("semantic_scholar/author_1723755_papers_offset0.json"), "s")
    assert (len(parsed.records), following) == (100, 100)
    assert parse_s2(body("semantic_scholar/author_1723755_papers_offset800_last.json"), "s")[1] is None
    search, _ = parse_s2(body("semantic_scholar/paper_search_relevance_subset.json"), "s")
    arxiv = [r for r in search.records if not r.canonical_id.startswith(("doi:", "hash:"))]
    assert arxiv and all(r.abs_url and "arxiv.org/abs/" in r.abs_url for r in arxiv)
    assert all(r.pdf_url != "" for r in search.records)  # openAccessPdf.url "" is no link


@pytest.mark.parametrize(
    "poison",
    [
        {
            "messages": [{"status": "ok"}],
            "collection": [{"doi": "", "title": "x"}, 5, {"doi": "10.1101/1", "title": ""}],
        },
        {"meta": {"count": 1}, "results": [{"id": "nope"}, None, {"id": "https://openalex.org/W1", "title": None}]},
        {"message-type": "work-list", "status": "ok", "message": {"items": [{"DOI": "x"}, [], {"title": ["t"]}]}},
        {"data": [{"paperId": 5}, {"paperId": "a", "title": None}, {"paperId": "b", "title": "  "}], "offset": 0},
    ],
)
def test_bad_records_are_counted_never_crash(poison: dict) -> None:
    kind, parsed = parse_file_bytes(json.dumps(poison).encode(), "file:x", papers_url="")
    assert parsed.records == [] and parsed.malformed == 3, kind


GOOD_WORK = {"id": "https://openalex.org/W2", "title": "A clean neighbour",
             "authorships": [{"author": {"display_name": "Ada Lovelace"}}]}
ODD_FIELDS = [  # any JSON type where an object or a list belongs
    {"authorships": [{"author": "Ada Lovelace"}]}, {"authorships": ["Ada"]}, {"authorships": [{"author": 5}]},
    {"primary_location": {"source": "venue"}}, {"topics": "cs"}, {"ids": "pmid"},
]


@pytest.mark.parametrize("odd", ODD_FIELDS)
def test_an_oddly_typed_field_never_costs_the_page(odd: dict) -> None:
    """One work with a string where an object belongs: it is stored without that field or counted, never the page."""
    page = {"meta": {"count": 2}, "results": [{"id": "https://openalex.org/W1", "title": "Odd one", **odd}, GOOD_WORK]}
    _, parsed = parse_file_bytes(json.dumps(page).encode(), "file:x", papers_url="")
    assert "A clean neighbour" in [r.title for r in parsed.records]
    assert len(parsed.records) + parsed.malformed == 2


@given(st.text(max_size=200))
def test_clean_abstract_never_fails(text: str) -> None:
    assert isinstance(clean_abstract(text), str) and isinstance(markup_to_text(text), str)
