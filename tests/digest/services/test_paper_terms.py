"""Term counts computed once at ingest and stored; rankings read them (real database, real ingest)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sqlmodel import select

from digest.feedback import PaperText
from digest.feedback.term_counts import decode, represent_hashed
from digest.services.ingest import ingest_sources
from digest.services.paper_terms import _encoded, representations
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper, PaperTerms
from tests.conftest import data_path


def stored_terms(db: Database) -> dict[int, bytes]:
    with db.session() as session:
        return dict(session.exec(select(PaperTerms.paper_id, PaperTerms.counts)).all())


def texts(db: Database) -> list[PaperText]:
    with db.session() as session:
        return [PaperText(p.id or 0, p.title, p.abstract or "") for p in session.exec(select(Paper)).all()]


async def test_ingest_stores_counts_once_and_recomputes_them_when_a_paper_changes(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    seed = data_path("corpus/seed_papers.jsonl")
    records = [json.loads(line) for line in seed.read_text(encoding="utf-8").splitlines()[:30]]
    feed = tmp_path / "papers.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    await ingest_sources(settings, db, [f"file:{feed}"])
    first = stored_terms(db)
    assert len(first) == 30 and all(decode(blob)[0].size for blob in first.values())
    # the same file again changes nothing; an edited abstract gets fresh counts
    records[0].update(abstract="Entirely new words: zanzibarian xylophones.", version="v2")  # a revised paper
    feed.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    await ingest_sources(settings, db, [f"file:{feed}"])
    second = stored_terms(db)
    changed = [pid for pid in first if first[pid] != second[pid]]
    assert len(changed) == 1 and len(second) == 30


async def test_a_ranking_reads_stored_counts_and_fills_in_missing_or_damaged_ones(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    await ingest_sources(settings, db, [f"file:{data_path('corpus/seed_papers.jsonl')}"])
    papers = texts(db)
    with db.session() as session:  # papers stored before the table existed, and one damaged row
        for row in session.exec(select(PaperTerms).where(PaperTerms.paper_id > papers[200].paper_id)).all():
            session.delete(row)
        damaged = session.get(PaperTerms, papers[0].paper_id)
        assert damaged is not None
        damaged.counts = b"\x01\x00"
        session.add(damaged)
    reps = representations(db, papers)
    fresh = represent_hashed(papers)
    ids = [p.paper_id for p in papers]
    assert np.allclose(reps.cosine(ids[:40], ids), fresh.cosine(ids[:40], ids))  # same vectors as from the texts
    assert len(stored_terms(db)) == len(papers)  # the missing and damaged rows are stored now
    decode(stored_terms(db)[papers[0].paper_id])


def test_one_text_that_cannot_be_counted_costs_the_others_nothing() -> None:
    poisoned = PaperText(2, None, "")  # type: ignore[arg-type]  # what a broken row would hand over
    papers = [PaperText(1, "Sparse autoencoders", "features"), poisoned, PaperText(3, "Diffusion models", "images")]
    blobs = _encoded(papers)
    assert sorted(blobs) == [1, 3]
