"""`file:` detection of saved scholarly-API responses: each goes through its live source's parser.

bioRxiv/medRxiv `details` JSON (versions folded), bioRxiv/medRxiv RSS 1.0, PubMed efetch XML
(a saved esearch reply holds only PMIDs: refused with the command that fetches the papers),
OpenAlex `/works` pages, Crossref work lists and single works, Semantic Scholar search, bulk
search, author-papers and recommendation pages. Each returns (format name, parsed document), or
None when the document is none of these.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from digest.sources.base import ParsedDocument, SourceError


def parse_scholarly_json(data: Any, source: str) -> tuple[str, ParsedDocument] | None:
    from digest.sources.biorxiv import looks_like_details, parse_details
    from digest.sources.crossref import looks_like_crossref, parse_crossref
    from digest.sources.openalex import looks_like_openalex, parse_openalex
    from digest.sources.pubmed import looks_like_esearch
    from digest.sources.semantic_scholar import looks_like_s2, parse_s2

    if looks_like_details(data):
        return "biorxiv-details", parse_details(data, source)[0]
    if looks_like_openalex(data):
        return "openalex", parse_openalex(data, source)[0]
    if looks_like_crossref(data):
        return "crossref", parse_crossref(data, source)[0]
    if looks_like_s2(data):
        return "semantic-scholar", parse_s2(data, source)[0]
    if looks_like_esearch(data):
        raise SourceError("a PubMed esearch reply lists PMIDs only: save the efetch response for them instead")
    return None


def parse_scholarly_xml(body: bytes, root: Element, source: str) -> tuple[str, ParsedDocument] | None:
    from digest.sources.biorxiv_rss import looks_like_biorxiv_rss, parse_biorxiv_rss
    from digest.sources.pubmed import is_efetch, parse_efetch

    if is_efetch(root):
        return "pubmed-efetch", parse_efetch(body, source)
    if root.tag == "eSearchResult":
        raise SourceError("a PubMed esearch reply lists PMIDs only: save the efetch response for them instead")
    if looks_like_biorxiv_rss(body):
        return "biorxiv-rss", parse_biorxiv_rss(body, source)
    return None
