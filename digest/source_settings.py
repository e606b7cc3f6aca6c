"""Settings of the scholarly-API sources (bioRxiv/medRxiv, PubMed, OpenAlex, Crossref, Semantic Scholar).

Composed into `digest.settings.Settings` (which inherits these fields), so every field is still
read from `PAPERBELL_<NAME>` and shown by `paperbell config`. Kept apart so the main settings
module stays small; each field cites the service limit it encodes (see docs/guides/sources.md).
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class SourceSettings(BaseSettings):
    """Endpoints, keys, contact parameters and pacing of the scholarly-API sources."""

    biorxiv_api_url: str = Field(default="https://api.biorxiv.org", description="bioRxiv/medRxiv API base.")
    biorxiv_rss_url: str = Field(
        default="https://connect.biorxiv.org", description="bioRxiv RSS base (biorxiv_xml.php); `biorxiv-rss:`."
    )
    medrxiv_rss_url: str = Field(
        default="https://connect.medrxiv.org", description="medRxiv RSS base (medrxiv_xml.php); `medrxiv-rss:`."
    )
    biorxiv_min_interval: float = Field(
        default=1.0, ge=0, description="Seconds between requests to api.biorxiv.org (no published limit)."
    )
    pubmed_eutils_url: str = Field(
        default="https://eutils.ncbi.nlm.nih.gov/entrez/eutils", description="NCBI E-utilities base."
    )
    ncbi_api_key: SecretStr | None = Field(
        default=None, description="NCBI API key: 10 requests/s instead of 3 (sent as `api_key`)."
    )
    ncbi_tool: str = Field(default="paperbell", description="NCBI `tool` parameter naming this software.")
    ncbi_email: str | None = Field(
        default=None, description="NCBI `email` parameter; default: PAPERBELL_CONTACT_EMAIL."
    )
    pubmed_batch_size: int = Field(default=200, ge=1, le=500, description="PMIDs per efetch request.")
    openalex_api_url: str = Field(default="https://api.openalex.org", description="OpenAlex API base.")
    openalex_api_key: SecretStr | None = Field(
        default=None, description="OpenAlex API key (`api_key`), required by OpenAlex since February 2026."
    )
    openalex_min_interval: float = Field(
        default=0.1, ge=0, description="Seconds between OpenAlex requests (OpenAlex allows 10/s)."
    )
    crossref_api_url: str = Field(default="https://api.crossref.org", description="Crossref REST API base.")
    crossref_min_interval: float = Field(
        default=0.2, ge=0, description="Seconds between Crossref requests (polite pool: mailto = contact)."
    )
    semantic_scholar_api_url: str = Field(
        default="https://api.semanticscholar.org", description="Semantic Scholar API base."
    )
    semantic_scholar_api_key: SecretStr | None = Field(
        default=None, description="Semantic Scholar key (`x-api-key`): 1 request/s of your own, not the shared pool."
    )
    semantic_scholar_min_interval: float = Field(
        default=1.0, ge=0, description="Seconds between Semantic Scholar requests (keyed limit: 1/s)."
    )
    source_first_run_days: int = Field(
        default=2, ge=0, le=366, description="Days a dated source reads back on its first run (no watermark)."
    )
    source_max_pages: int = Field(
        default=50, ge=1, le=10_000, description="Most pages one run of a paged source reads."
    )
