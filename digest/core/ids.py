"""Canonical paper identifiers and text normalization shared by every source parser.

`arxiv_id()` finds an arXiv id (new style `2410.17243`, old style `hep-ph/9411242`) in a bare id,
an `oai:arXiv.org:` guid, an `arXiv:` prefix, an `http(s)://arxiv.org/abs|pdf/` URL or arXiv's
DataCite DOI (`10.48550/arXiv.…`) and splits off the version. Items without an arXiv id use
`doi:<lower-case doi>`; items with neither use `hash:<16 hex>` = SHA-256 of a normalized
link/guid, or of the normalized title for local
records that have no link at all (the seed corpus) — stable across runs and machines.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import unquote

# new style: YYMM.NNNN (2007-2014) or YYMM.NNNNN (2015-); old style: archive(.SUBJ)/YYMMNNN
_NEW = r"(?P<new>\d{4}\.\d{4,5})"
_OLD = r"(?P<old>[a-z][a-z\-]*(?:\.[A-Za-z\-]{2,})?/\d{7})"
_VERSION = r"(?:v(?P<version>\d+))?"
_BARE = re.compile(rf"^(?:arxiv:)?(?:{_NEW}|{_OLD}){_VERSION}(?:\.pdf)?$", re.IGNORECASE)
_EMBEDDED = re.compile(
    rf"(?:oai:arxiv\.org:|arxiv\.org/(?:abs|pdf|html)/|^arxiv:)(?:{_NEW}|{_OLD}){_VERSION}(?![\d])",
    re.IGNORECASE,
)
_DOI = re.compile(r"(10\.\d{4,9}/\S+)", re.IGNORECASE)
ARXIV_DOI_PREFIX = "10.48550/arxiv."


def _split(match: re.Match[str]) -> tuple[str, int | None]:
    new, old, version = match.group("new"), match.group("old"), match.group("version")
    if new:
        ident = new
    else:
        archive, _, number = old.partition("/")
        # the archive is lower-case ("hep-ph"); a subject class keeps arXiv's spelling ("math.AG")
        name, dot, subject = archive.partition(".")
        ident = f"{name.lower()}{dot}{subject.upper() if len(subject) == 2 else subject}/{number}"
    return ident, int(version) if version else None


def arxiv_id(text: str | None) -> tuple[str, int | None] | None:
    """(id without version, version or None) for anything that names an arXiv paper, else None."""
    if not text:
        return None
    candidate = text.strip()
    match = _BARE.match(candidate) or _EMBEDDED.search(candidate)
    if match is None:
        return None
    return _split(match)


def normalize_doi(text: str | None) -> str | None:
    """A DOI in lower case without resolver prefix, or None ("https://doi.org/10.1/X" -> "10.1/x")."""
    if not text:
        return None
    candidate = text.strip()
    if "%2f" in candidate.lower():  # a DOI copied from a URL query: 10.1101%2F2020.01.01.1
        candidate = unquote(candidate)
    match = _DOI.search(candidate)
    if match is None:
        return None
    return match.group(1).rstrip(".,;").lower()


def arxiv_from_doi(doi: str | None) -> tuple[str, int | None] | None:
    """The arXiv id of arXiv's own DataCite DOI (`10.48550/arXiv.2301.00236`), else None."""
    clean = normalize_doi(doi)
    if clean is None or not clean.startswith(ARXIV_DOI_PREFIX):
        return None
    return arxiv_id(clean[len(ARXIV_DOI_PREFIX) :])


def normalize_text(text: str | None) -> str:
    """Collapse runs of whitespace (arXiv wraps lines) and trim; LaTeX and case are kept as written."""
    if not text:
        return ""
    return " ".join(text.split())  # str.split() splits on exactly what isspace() says: ~5x faster than re


def title_key(title: str) -> str:
    """A comparison key for titles: NFKC, case-folded, whitespace collapsed."""
    return normalize_text(unicodedata.normalize("NFKC", title)).casefold()


def hash_id(text: str) -> str:
    """`hash:` + the first 16 hex digits of SHA-256 over the normalized text (link, guid or title)."""
    digest = hashlib.sha256(title_key(text).encode("utf-8")).hexdigest()
    return f"hash:{digest[:16]}"


def canonical_id(
    *candidates: str | None, doi: str | None = None, fallback: str | None = None
) -> tuple[str, int | None] | None:
    """The canonical id from the first candidate naming an arXiv paper, else the DOI, else a hash.

    Returns None when nothing at all identifies the item (no id, no DOI, no fallback text).
    """
    for candidate in candidates:
        found = arxiv_id(candidate)
        if found is not None:
            return found
    from_doi = arxiv_from_doi(doi)
    if from_doi is not None:
        return from_doi
    clean_doi = normalize_doi(doi)
    if clean_doi:
        return f"doi:{clean_doi}", None
    for candidate in (*candidates, fallback):
        if candidate and candidate.strip():
            return hash_id(candidate), None
    return None


def abs_url(ident: str, version: int | None = None) -> str:
    return f"https://arxiv.org/abs/{ident}{f'v{version}' if version else ''}"


def pdf_url(ident: str, version: int | None = None) -> str:
    return f"https://arxiv.org/pdf/{ident}{f'v{version}' if version else ''}"
