"""Source spec strings -> source objects (used by digest.services.ingest and the CLI).

    arxiv:cs.LG+cs.CL            arXiv announcement feed for those categories
    arxiv-api:QUERY              arXiv API search_query (e.g. arxiv-api:cat:cs.CL AND ti:retrieval)
    hf:daily[?date=YYYY-MM-DD]   Hugging Face Daily Papers
    feed:URL                     any RSS 2.0 / Atom feed
    file:PATH                    a local file (format detected)
    biorxiv:SUBJECT, medrxiv:…   bioRxiv/medRxiv details API (SUBJECT = all or a category)
    biorxiv-rss:SUBJECT, medrxiv-rss:…   their RSS feed (fallback)
    pubmed:QUERY                 PubMed E-utilities search
    openalex:FILTER              OpenAlex works filter
    crossref:FILTER              Crossref works filter
    s2:author:ID, s2:recommend:PAPER_ID   Semantic Scholar author papers / recommendations
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs

from digest.settings import Settings
from digest.sources.arxiv_api import ArxivApiSource
from digest.sources.base import Source, SourceError
from digest.sources.feeds import FeedSource, arxiv_feed_url
from digest.sources.files import FileSource
from digest.sources.hf_daily import HfDailySource
from digest.sources.scholarly_registry import SCHOLARLY_KINDS, build_scholarly

KINDS = ("arxiv", "arxiv-api", "hf", "feed", "file", *SCHOLARLY_KINDS)
_CATEGORIES = re.compile(r"^[A-Za-z\-]+(?:\.[A-Za-z\-]+)?(?:\+[A-Za-z\-]+(?:\.[A-Za-z\-]+)?)*$")


class SpecError(SourceError):
    """A source spec string that cannot be understood."""


def build_source(spec: str, settings: Settings) -> Source:
    kind, sep, rest = spec.strip().partition(":")
    rest = rest.strip()
    if not sep or kind not in KINDS:
        raise SpecError(f"unknown source {spec!r}: expected one of {', '.join(k + ':' for k in KINDS)}")
    if not rest:
        raise SpecError(f"source {spec!r} needs a value after '{kind}:'")
    if kind == "arxiv":
        if not _CATEGORIES.match(rest):
            raise SpecError(f"bad arXiv categories in {spec!r}: expected e.g. arxiv:cs.LG+cs.CL")
        return FeedSource(spec, arxiv_feed_url(settings.arxiv_rss_url, rest), arxiv=True)
    if kind in SCHOLARLY_KINDS:
        try:
            return build_scholarly(spec, kind, rest)
        except ValueError as exc:
            raise SpecError(str(exc)) from None
    if kind == "arxiv-api":
        return ArxivApiSource(spec, rest)
    if kind == "hf":
        name, _, query = rest.partition("?")
        if name != "daily":
            raise SpecError(f"unknown Hugging Face source {spec!r}: expected hf:daily[?date=YYYY-MM-DD]")
        values = parse_qs(query).get("date")
        try:
            day = date.fromisoformat(values[0]) if values else None
        except ValueError:
            raise SpecError(f"bad date in {spec!r}: expected YYYY-MM-DD") from None
        return HfDailySource(spec, day)
    if kind == "feed":
        if not rest.startswith(("http://", "https://")):
            raise SpecError(f"feed source {spec!r} needs an http(s) URL")
        return FeedSource(spec, rest)
    return FileSource(spec, rest)
