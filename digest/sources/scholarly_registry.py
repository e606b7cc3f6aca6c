"""Spec strings of the scholarly-API sources -> source objects (called by digest.sources.registry).

    biorxiv:SUBJECT / medrxiv:SUBJECT          details API; SUBJECT = all or a category (cell_biology)
    biorxiv-rss:SUBJECT / medrxiv-rss:SUBJECT  the RSS 1.0 feed, a fallback
    pubmed:QUERY                               PubMed search (any E-utilities term)
    openalex:FILTER                            OpenAlex works filter (e.g. topics.id:T10181)
    crossref:FILTER                            Crossref works filter (e.g. type:journal-article,prefix:10.1101)
    s2:author:ID / s2:recommend:PAPER_ID       Semantic Scholar author papers / recommendations
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

from digest.sources.base import Source

SCHOLARLY_KINDS = ("biorxiv", "medrxiv", "biorxiv-rss", "medrxiv-rss", "pubmed", "openalex", "crossref", "s2")
_SUBJECT = re.compile(r"^[A-Za-z][A-Za-z _\-]{0,63}$")
_FILTER = re.compile(r"^[A-Za-z_.\-]+:[^,\s]+(?:,[A-Za-z_.\-]+:[^,\s]+)*$")
_S2_ID = re.compile(r"^[A-Za-z0-9:./_\-]{1,200}$")


def build_scholarly(spec: str, kind: str, rest: str) -> Source:
    """The source for one spec; ValueError with a one-line reason when `rest` cannot be right."""
    if kind in ("biorxiv", "medrxiv", "biorxiv-rss", "medrxiv-rss"):
        if not _SUBJECT.match(rest):
            raise ValueError(f"bad subject in {spec!r}: expected {kind}:all or a category such as {kind}:neuroscience")
        server = kind.removesuffix("-rss")
        if kind.endswith("-rss"):
            from digest.sources.biorxiv_rss import BiorxivRssSource

            return BiorxivRssSource(spec, server, rest)
        from digest.sources.biorxiv import BiorxivSource

        return BiorxivSource(spec, server, rest)
    if kind == "pubmed":
        from digest.sources.pubmed import PubmedSource

        return PubmedSource(spec, unquote_plus(rest))
    if kind in ("openalex", "crossref"):
        if not _FILTER.match(rest):
            raise ValueError(f"bad filter in {spec!r}: expected name:value[,name:value…], e.g. {kind}:type:article")
        if kind == "openalex":
            from digest.sources.openalex import OpenAlexSource

            return OpenAlexSource(spec, rest)
        from digest.sources.crossref import CrossrefSource

        return CrossrefSource(spec, rest)
    mode, _, ident = rest.partition(":")
    if mode not in ("author", "recommend") or not _S2_ID.match(ident):
        raise ValueError(f"bad Semantic Scholar source {spec!r}: expected s2:author:ID or s2:recommend:PAPER_ID")
    from digest.sources.semantic_scholar import SemanticScholarSource

    return SemanticScholarSource(spec, mode, ident)
