"""Each paper's metadata for the learned ranking, read from its row (digest.feedback.features).

Categories (primary first), authors, Hugging Face upvotes and a code link are a dozen features per
paper, built in microseconds from columns every paper row has, so nothing is stored for them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from digest.feedback.meta import PaperMeta, has_code, upvotes_of
from storage.db import Database
from storage.models import Paper


def paper_metas(db: Database, paper_ids: Sequence[int]) -> list[PaperMeta]:
    with db.session() as session:
        papers = session.exec(select(Paper).where(col(Paper.id).in_(sorted(set(paper_ids))))).all()
        rows = [(p.id, p.categories, p.primary_category, p.authors, p.extras, p.abstract) for p in papers]
    out = []
    for pid, categories, primary, authors, extras, abstract in rows:
        ordered = list(dict.fromkeys([*([primary] if primary else []), *(categories or [])]))
        out.append(PaperMeta(int(pid or 0), tuple(str(c) for c in ordered), tuple(str(a) for a in authors or ()),
                             upvotes_of(extras), has_code(extras, abstract or "")))
    return out
