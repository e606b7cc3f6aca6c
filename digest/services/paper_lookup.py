"""Look up one stored paper by the id people type ("2410.17243", "arXiv:2410.17243v2", an abs URL, a DOI).

Called by the Discord bot's /paper command and its autocomplete (bot/cogs/search.py, bot/autocomplete.py).
"""

from __future__ import annotations

from sqlmodel import col, select

from digest.core.ids import arxiv_id, normalize_doi
from digest.services.errors import InvalidInput, NotFound
from storage.db import Database
from storage.models import Paper

CHOICE_VALUE_MAX = 100  # Discord: an autocomplete choice's string value is at most 100 characters


def canonical_ref(ref: str) -> str:
    """The stored canonical id for what was typed, by the same normalizer ingestion uses."""
    arxiv = arxiv_id(ref)
    if arxiv is not None:
        return arxiv[0]
    doi = normalize_doi(ref)
    if doi is not None:
        return f"doi:{doi}"
    raise InvalidInput(f"not an arXiv id or DOI: {ref!r} (e.g. 2410.17243)")


def choice_key(paper_id: int, canonical_id: str) -> str:
    """What an autocomplete choice carries for a paper: its id, or `#<row>` when the id is too long.

    Discord refuses a whole autocomplete answer when one string value is over 100 characters, and
    DOIs can be longer than that; `find_paper` reads both forms back.
    """
    return canonical_id if len(canonical_id) <= CHOICE_VALUE_MAX else f"#{paper_id}"


def find_paper(db: Database, ref: str) -> Paper:
    row = ref.strip()
    if row.startswith("#") and row[1:].isascii() and row[1:].isdigit() and len(row) <= 12:
        with db.session() as session:
            paper = session.get(Paper, int(row[1:]))
        if paper is None:
            raise NotFound(f"paper {row} is not stored here")
        return paper
    canonical = canonical_ref(ref)
    with db.session() as session:
        paper = session.exec(select(Paper).where(Paper.canonical_id == canonical)).first()
    if paper is None:
        raise NotFound(f"paper {canonical} is not stored here (yet)")
    return paper


def suggest_papers(db: Database, prefix: str, limit: int = 25) -> list[tuple[str, str]]:
    """(choice key, title) of stored papers whose id starts with `prefix`, newest first (autocomplete)."""
    text = prefix.strip()
    for head in ("arxiv:", "arXiv:"):
        text = text.removeprefix(head)
    with db.session() as session:
        statement = select(Paper.id, Paper.canonical_id, Paper.title)
        if text:
            statement = statement.where(col(Paper.canonical_id).startswith(text, autoescape=True))
        rows = session.exec(statement.order_by(col(Paper.id).desc()).limit(limit)).all()
    return [(choice_key(int(pid or 0), str(cid)), f"{cid} {title}") for pid, cid, title in rows]
