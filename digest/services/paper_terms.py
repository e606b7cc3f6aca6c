"""Store and load each paper's hashed term counts (digest.feedback.term_counts, table `paper_terms`).

`store_terms` is called by ingestion for the papers it created or changed, in the same transaction;
a paper whose counts cannot be computed is skipped with a log line (its row is made later, when
it is first ranked), never failing the ingest. `representations` gives the learned ranking its
TF-IDF vectors from the stored counts, computing and storing what is missing (papers stored before
the table existed, or of an older encoding), so a ranking never analyses a stored text twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from storage.db import Database, insert_for
from storage.models import Paper, PaperTerms

if TYPE_CHECKING:  # the counts (scikit-learn, scipy) are imported where used: importing ingest stays cheap
    from digest.feedback.representation import PaperText, Representations

log = logging.getLogger(__name__)


def _encoded(papers: Sequence[PaperText]) -> dict[int, bytes]:
    """paper id -> encoded counts; a paper that fails alone is left out (logged)."""
    from digest.feedback.term_counts import counts_matrix, encode

    try:
        matrix = counts_matrix(papers)
        return {paper.paper_id: encode(matrix[row]) for row, paper in enumerate(papers)}
    except Exception:  # find the culprit: one bad text never costs the others their counts
        out: dict[int, bytes] = {}
        for paper in papers:
            try:
                out[paper.paper_id] = encode(counts_matrix([paper])[0])
            except Exception as exc:
                log.warning("paper #%s: term counts not computed (%s); made when first ranked", paper.paper_id, exc)
        return out


def _replace(session: Session, blobs: dict[int, bytes]) -> None:
    """Upsert (the same paper may be stored by two rankings, or an ingest and a ranking, at once)."""
    if not blobs:
        return
    from digest.feedback.term_counts import VERSION

    table = PaperTerms.__table__  # type: ignore[attr-defined]
    statement = insert_for(session.get_bind().dialect.name, table)
    statement = statement.on_conflict_do_update(
        index_elements=["paper_id"], set_={"version": statement.excluded.version, "counts": statement.excluded.counts}
    )
    session.execute(statement, [{"paper_id": pid, "version": VERSION, "counts": blob} for pid, blob in blobs.items()])


def store_terms(session: Session, papers: Sequence[Paper]) -> int:
    """Compute and store the counts of these (flushed) papers in the caller's transaction; returns how many."""
    from digest.feedback.representation import PaperText

    texts = [PaperText(int(p.id), p.title or "", p.abstract or "") for p in papers if p.id is not None]
    blobs = _encoded(texts)
    _replace(session, blobs)
    return len(blobs)


def representations(db: Database, papers: Sequence[PaperText]) -> Representations:
    """TF-IDF vectors of `papers` from their stored counts (missing ones computed and stored)."""
    from digest.feedback.term_counts import VERSION, decode, stack, tfidf_from_counts

    ordered = list({p.paper_id: p for p in reversed(papers)}.values())[::-1]  # first of each id, in order
    ids = [p.paper_id for p in ordered]
    with db.session() as session:
        stored = dict(session.exec(
            select(PaperTerms.paper_id, PaperTerms.counts)
            .where(col(PaperTerms.paper_id).in_(ids), PaperTerms.version == VERSION)
        ).all())
    rows = {}
    for paper_id, blob in stored.items():
        try:
            rows[paper_id] = decode(blob)
        except ValueError:
            log.warning("paper #%s: stored term counts are damaged; recomputed", paper_id)
    missing = [p for p in ordered if p.paper_id not in rows]
    if missing:
        fresh = _encoded(missing)
        with db.session() as session:
            _replace(session, fresh)
        rows.update({pid: decode(blob) for pid, blob in fresh.items()})
    ids = [pid for pid in ids if pid in rows]
    return tfidf_from_counts(ids, stack([rows[pid] for pid in ids]))
