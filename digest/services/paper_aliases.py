"""Finding the one stored paper a record belongs to, by any of its names (used by digest.services.ingest).

A record's keys are its canonical id, `doi:<its DOI>` and its aliases (a preprint's journal DOI,
a journal article's preprint DOI, an arXiv id, `pmid:`, `openalex:`, `s2:`). A key finds a paper
through `papers.canonical_id`, `papers.doi` or `paper_aliases`; the first key that finds one wins
(the canonical id first), except that two different preprints (arXiv ids, bioRxiv/medRxiv DOIs)
never share a row even when both report the same journal DOI. After a batch is flushed every key of
every stored record that does not already name a paper is remembered as an alias of its paper, so
the next source finds it too.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from digest.core.records import PaperRecord
from digest.sources.biorxiv import PREPRINT_PREFIXES
from storage.alias_models import PaperAlias
from storage.models import Paper

_CHUNK = 500


def record_keys(record: PaperRecord) -> list[str]:
    """Every name of the record, canonical id first, without repeats."""
    keys = [record.canonical_id]
    if record.doi:
        keys.append(f"doi:{record.doi}")
    keys.extend(record.aliases)
    return list(dict.fromkeys(key for key in keys if key and len(key) <= 255))


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def known_papers(session: Session, records: list[PaperRecord]) -> dict[str, Paper]:
    """key -> stored paper, for every key of `records` that names one."""
    keys = sorted({key for record in records for key in record_keys(record)})
    found: dict[str, Paper] = {}
    for chunk in _chunks(keys):
        for paper in session.exec(select(Paper).where(col(Paper.canonical_id).in_(chunk))):
            found[paper.canonical_id] = paper
    dois = sorted({key[4:] for key in keys if key.startswith("doi:")})
    for chunk in _chunks(dois):
        for paper in session.exec(select(Paper).where(col(Paper.doi).in_(chunk))):
            found.setdefault(f"doi:{paper.doi}", paper)
    alias_ids: dict[str, int] = {}
    for chunk in _chunks(keys):
        for row in session.exec(select(PaperAlias).where(col(PaperAlias.alias).in_(chunk))):
            alias_ids[row.alias] = row.paper_id
    missing = sorted(set(alias_ids.values()) - {p.id for p in found.values()})
    by_id = {p.id: p for p in found.values()}
    for chunk in _chunks([str(i) for i in missing]):
        for paper in session.exec(select(Paper).where(col(Paper.id).in_([int(i) for i in chunk]))):
            by_id[paper.id] = paper
    for name, paper_id in alias_ids.items():
        if paper_id in by_id:
            found.setdefault(name, by_id[paper_id])
    return found


def _preprint(canonical_id: str) -> bool:
    if canonical_id.startswith("doi:"):
        return canonical_id[4:].startswith(PREPRINT_PREFIXES)
    return not canonical_id.startswith("hash:")  # an arXiv id


def distinct_preprints(first: str, second: str) -> bool:
    """Two different arXiv ids or bioRxiv/medRxiv DOIs are two papers, even if they share a journal DOI."""
    return first != second and _preprint(first) and _preprint(second)


def paper_for(record: PaperRecord, known: dict[str, Paper]) -> Paper | None:
    """The stored paper one of the record's names points to (never another preprint's row)."""
    for key in record_keys(record):
        paper = known.get(key)
        if paper is not None and not distinct_preprints(paper.canonical_id, record.canonical_id):
            return paper
    return None


def remember(known: dict[str, Paper], paper: Paper, record: PaperRecord) -> list[str]:
    """Point the record's unclaimed keys at `paper` (in memory); returns the keys to store as aliases."""
    fresh = []
    for key in record_keys(record):
        if key not in known:
            known[key] = paper
            if key != paper.canonical_id and not (paper.doi and key == f"doi:{paper.doi}"):
                fresh.append(key)
    return fresh


def store_aliases(session: Session, pending: list[tuple[Paper, list[str]]]) -> None:
    """Insert the aliases collected by `remember` (after a flush, when new papers have ids)."""
    for paper, keys in pending:
        for key in keys:
            assert paper.id is not None
            session.add(PaperAlias(alias=key, paper_id=paper.id))
