"""Fixtures for ingestion tests: the local HTTP server and settings pointing every source at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from digest.settings import Settings
from tests.digest.sources.http_server import FixtureServer


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        yield running


@pytest.fixture
def net_settings(settings: Settings, server: FixtureServer) -> Settings:
    """The test settings with all source URLs on the local server, fast retries and short timeouts."""
    return settings.model_copy(
        update={
            "arxiv_api_url": server.url("/api/query"),
            "arxiv_rss_url": server.url("/rss"),
            "hf_api_url": server.url("/hf/api"),
            "hf_papers_url": "https://huggingface.co/papers",
            "biorxiv_api_url": server.url("/biorxiv"),
            "biorxiv_rss_url": server.url("/connect"),
            "pubmed_eutils_url": server.url("/eutils"),
            "openalex_api_url": server.url("/openalex"),
            "openalex_api_key": "test-openalex-key",
            "crossref_api_url": server.url("/crossref"),
            "semantic_scholar_api_url": server.url("/s2"),
            "biorxiv_min_interval": 0.0,
            "semantic_scholar_min_interval": 0.0,
            "http_backoff_base": 0.01,
            "http_max_retries": 2,
            "http_timeout": 2.0,
            "contact_email": "ops@example.org",
        }
    )
