"""Look up one stored paper by the id people type ("2410.17243", "arXiv:2410.17243v2", an abs URL, a DOI).

Called by the Discord bot's /paper command (bot/cogs/search.py).
"""

from __future__ import annotations

from sqlmodel import select

from digest.services.errors import InvalidInput, NotFound
from digest.sources.ids import arxiv_id, normalize_doi
from storage.db import Database
from storage.models import Paper


def canonical_ref(ref: str) -> str:
    """The stored canonical id for what was typed, by the same normalizer ingestion uses."""
    arxiv = arxiv_id(ref)
    if arxiv is not None:
        return arxiv[0]
    doi = normalize_doi(ref)
    if doi is not None:
        return f"doi:{doi}"
    raise InvalidInput(f"not an arXiv id or DOI: {ref!r} (e.g. 2410.17243)")


def find_paper(db: Database, ref: str) -> Paper:
    canonical = canonical_ref(ref)
    with db.session() as session:
        paper = session.exec(select(Paper).where(Paper.canonical_id == canonical)).first()
    if paper is None:
        raise NotFound(f"paper {canonical} is not stored here (yet)")
    return paper
