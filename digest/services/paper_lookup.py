"""Look up one stored paper by the id people type ("2410.17243", "arXiv:2410.17243v2", an abs URL, a DOI).

Called by the Discord bot's /paper command (bot/cogs/search.py).
"""

from __future__ import annotations

import re

from sqlmodel import select

from digest.services.errors import InvalidInput, NotFound
from storage.db import Database
from storage.models import Paper

_ARXIV = re.compile(r"(?:arxiv:|https?://arxiv\.org/(?:abs|pdf)/)?(?P<id>\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})"
                    r"(?:v\d+)?(?:\.pdf)?$", re.IGNORECASE)


def canonical_ref(ref: str) -> str:
    text = ref.strip()
    match = _ARXIV.match(text)
    if match:
        return match.group("id")
    if text.lower().startswith(("doi:", "10.")):
        return "doi:" + text.split(":", 1)[-1] if text.lower().startswith("doi:") else "doi:" + text
    raise InvalidInput(f"not an arXiv id or DOI: {ref!r} (e.g. 2410.17243)")


def find_paper(db: Database, ref: str) -> Paper:
    canonical = canonical_ref(ref)
    with db.session() as session:
        paper = session.exec(select(Paper).where(Paper.canonical_id == canonical)).first()
    if paper is None:
        raise NotFound(f"paper {canonical} is not stored here (yet)")
    return paper
