"""Ingestion service: run sources, merge their records into `papers`, record each run.

Called by `paperbell ingest`, `paperbell demo` and the scheduler. Sources run one after another
(politeness beats speed) and each is isolated: a failing source is recorded as `error` with its
reason and never stops the others. A source's records are stored in ONE transaction together
with its SourceState, so a bad run changes nothing already stored. Merging rules
(`merge_record`): one row per paper, found by its canonical id, DOI or any alias (a preprint's
journal DOI, a PMID…: digest.services.paper_aliases); a higher version updates version and metadata; other
sources fill gaps and add their extras (HF upvotes, AI summary…); `first_seen_at` is set once;
a replacement announcement for a paper never stored is not a new paper (skipped as
`replacement_of_unknown`); a record carrying NaN/Infinity or an out-of-range number is skipped
as `invalid_number`, one with a NUL character or a lone surrogate in any text as `unstorable_text`
(PostgreSQL stores neither; SQLite skips them too), and any other value the database refuses as
`refused_by_database`, while the rest of its file is stored. Every link passes the URL gate
(`digest.core.links.gated_record`) before it is stored: an unsafe abs_url/pdf_url is stored as None and an
unsafe URL extra (hf_url, github_repo, a thumbnail…) is dropped, the paper itself is kept.
Re-ingesting the same input creates and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlmodel import Session

from digest.core.links import gated_record
from digest.core.records import PaperRecord
from digest.services.paper_aliases import known_papers, paper_for, remember, store_aliases
from digest.services.paper_terms import store_terms
from digest.settings import Settings
from digest.sources.base import FetchContext, FetchResult, ProgressCallback, SourceError, SourceMemory
from digest.sources.http import HostClients
from digest.sources.registry import build_source
from storage.db import Database
from storage.models import Paper, SourceRun, SourceState
from storage.types import utcnow

log = logging.getLogger(__name__)
INVALID_NUMBER = "invalid_number"  # skipped_reasons key: NaN, Infinity or an out-of-range number
UNSTORABLE_TEXT = "unstorable_text"  # skipped_reasons key: a NUL character or a lone surrogate in a text field
UNSTORABLE = "refused_by_database"  # skipped_reasons key: any other value the database refused (e.g. too long)
_METADATA = ("title", "abstract", "authors", "categories", "primary_category", "doi", "abs_url", "pdf_url")


@dataclass
class IngestReport:
    source: str
    status: str = "ok"  # ok | empty | not_modified | error
    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0
    error: str | None = None
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    new_ids: list[str] = field(default_factory=list)
    unsafe_links: int = 0  # links refused by the URL gate (the papers themselves were stored)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "source": self.source, "status": self.status, "fetched": self.fetched, "new": self.new,
            "updated": self.updated, "skipped": self.skipped, "skipped_reasons": self.skipped_reasons,
            "error": self.error,
        }
        if self.unsafe_links:
            out["unsafe_links"] = self.unsafe_links
        return out


def _set(paper: Paper, name: str, value: Any) -> bool:
    if getattr(paper, name) == value:
        return False
    setattr(paper, name, value)
    return True


def merge_record(paper: Paper, record: PaperRecord) -> bool:
    """Fold one record into an existing paper; True when anything visible changed."""
    changed = False
    newer = record.version is not None and (paper.version is None or record.version > paper.version)
    if newer:
        changed |= _set(paper, "version", record.version)
        for name in _METADATA:
            value = getattr(record, name)
            if value not in (None, "", []):
                changed |= _set(paper, name, list(value) if isinstance(value, list) else value)
        if record.updated_at is not None:
            changed |= _set(paper, "updated_at", record.updated_at)
    else:
        for name in _METADATA:  # same or unknown version: only fill what is missing
            value = getattr(record, name)
            if getattr(paper, name) in (None, "", []) and value not in (None, "", []):
                changed |= _set(paper, name, list(value) if isinstance(value, list) else value)
        if paper.version is None and record.version is not None:
            changed |= _set(paper, "version", record.version)
    if paper.published_at is None and record.published_at is not None:
        changed |= _set(paper, "published_at", record.published_at)
    if paper.updated_at is None and record.updated_at is not None:
        changed |= _set(paper, "updated_at", record.updated_at)
    extras = {**paper.extras, **{k: v for k, v in record.extras.items() if v is not None}}
    if extras != paper.extras:
        paper.extras = extras  # a new dict so the JSON column is seen as changed
        changed = True
    if record.source and record.source not in paper.sources:
        paper.sources = [*paper.sources, record.source]
        changed = True
    return changed


def new_paper(record: PaperRecord, now: datetime) -> Paper:
    return Paper(
        canonical_id=record.canonical_id, version=record.version, title=record.title, abstract=record.abstract,
        authors=list(record.authors), categories=list(record.categories), primary_category=record.primary_category,
        doi=record.doi, abs_url=record.abs_url, pdf_url=record.pdf_url, published_at=record.published_at,
        updated_at=record.updated_at, first_seen_at=now, last_seen_at=now,
        sources=[record.source] if record.source else [], extras=dict(record.extras),
    )


MAX_SAFE_INT = 2**53 - 1  # beyond this JSON readers (and SQLite's JSON) lose precision
MAX_VERSION = 2**31 - 1  # papers.version is a 32-bit integer on PostgreSQL


def _bad_number(value: Any, where: str) -> str | None:
    """Where a NaN/Infinity or out-of-range number hides in a record's value, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and (not math.isfinite(value) or abs(value) > MAX_SAFE_INT):
        return f"{where}={value!r}"
    if isinstance(value, int) and abs(value) > MAX_SAFE_INT:
        return f"{where} out of range"
    if isinstance(value, dict):
        return next((p for k, v in value.items() if (p := _bad_number(v, f"{where}.{k}"))), None)
    if isinstance(value, list | tuple):
        return next((p for i, v in enumerate(value) if (p := _bad_number(v, f"{where}[{i}]"))), None)
    return None


def number_problem(record: PaperRecord) -> str | None:
    """Why a record cannot be stored because of a number (both databases alike), else None."""
    if record.version is not None and not 0 <= record.version <= MAX_VERSION:
        return "version out of range"
    return _bad_number(record.extras, "extras")


def _bad_text(value: Any, where: str) -> str | None:
    """Where a NUL character or an unencodable surrogate hides (PostgreSQL stores neither), else None."""
    if isinstance(value, str):
        if "\x00" in value:
            return f"{where} contains a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{where} is not valid Unicode"
        return None
    if isinstance(value, dict):
        return next((p for k, v in value.items() if (p := _bad_text(k, where) or _bad_text(v, f"{where}.{k}"))), None)
    if isinstance(value, list | tuple):
        return next((p for i, v in enumerate(value) if (p := _bad_text(v, f"{where}[{i}]"))), None)
    return None


def text_problem(record: PaperRecord) -> str | None:
    """Why a record's text cannot be stored (both databases alike), else None."""
    fields = ("canonical_id", *_METADATA, "source", "extras")
    return next((p for name in fields if (p := _bad_text(getattr(record, name, None), name))), None)


def store_records(session: Session, records: list[PaperRecord], report: IngestReport, *, dry_run: bool) -> None:
    """Upsert records (already de-duplicated by id) into `papers`, counting new/updated/skipped."""
    now = utcnow()
    # one paper, one row: a record joins the paper any of its names (id, DOI, aliases) already has
    known = known_papers(session, records)
    pending_aliases: list[tuple[Paper, list[str]]] = []
    changed: list[Paper] = []  # created or updated: their term counts are (re)computed
    for record in records:
        problem = number_problem(record)
        if problem is not None:  # one poisoned record is skipped; the rest of the file is stored
            log.warning("record %s skipped: invalid number (%s)", record.canonical_id, problem)
            report.skipped_reasons[INVALID_NUMBER] = report.skipped_reasons.get(INVALID_NUMBER, 0) + 1
            continue
        problem = text_problem(record)
        if problem is not None:
            log.warning("record %r skipped: %s", record.canonical_id[:200], problem)
            report.skipped_reasons[UNSTORABLE_TEXT] = report.skipped_reasons.get(UNSTORABLE_TEXT, 0) + 1
            continue
        record, refused = gated_record(record)
        if refused:  # the paper is stored without them
            log.warning("record %s: unsafe links dropped (%s)", record.canonical_id, ", ".join(refused))
            report.unsafe_links += len(refused)
        found = paper_for(record, known)
        if found is None:
            if record.is_replacement:
                report.skipped_reasons["replacement_of_unknown"] = (
                    report.skipped_reasons.get("replacement_of_unknown", 0) + 1
                )
                continue
            report.new += 1
            report.new_ids.append(record.canonical_id)
            if not dry_run:
                created = new_paper(record, now)
                session.add(created)  # the unit of work inserts in add() order: ids ascend in arrival order
                pending_aliases.append((created, remember(known, created, record)))
                changed.append(created)
            continue
        if not dry_run:
            pending_aliases.append((found, remember(known, found, record)))
        if merge_record(found, record):
            report.updated += 1
            changed.append(found)
        found.last_seen_at = now
        if not dry_run:
            session.add(found)
    if dry_run:
        session.rollback()
    else:
        session.flush()
        store_aliases(session, pending_aliases)
        store_terms(session, changed)  # the learned ranking's per-paper part, once


def _load_memory(db: Database, spec: str) -> SourceMemory:
    with db.session() as session:
        state = session.get(SourceState, spec)
        if state is None:
            return SourceMemory()
        return SourceMemory(watermark=state.watermark, etag=state.etag, last_modified=state.last_modified)


def _start_run(db: Database, spec: str) -> int:
    with db.session() as session:
        run = SourceRun(source=spec, started_at=utcnow())
        session.add(run)
        session.flush()
        assert run.id is not None
        return run.id


def _finish(
    session: Session, spec: str, run_id: int, report: IngestReport, result: FetchResult | None
) -> None:
    now = utcnow()
    run = session.get(SourceRun, run_id)
    if run is not None:
        run.finished_at, run.status, run.error = now, report.status, report.error
        run.fetched, run.new, run.updated, run.skipped = report.fetched, report.new, report.updated, report.skipped
        session.add(run)
    state = session.get(SourceState, spec) or SourceState(source=spec)
    state.last_run_at, state.last_status, state.last_error = now, report.status, report.error
    state.last_counts = {k: v for k, v in report.to_dict().items() if k not in ("source", "status", "error")}
    if result is not None and report.status != "error":
        # validators and watermark advance only with a stored, successful run
        # ISO-8601 UTC strings order by time; a backfill never moves the watermark back
        state.watermark = max(filter(None, (result.watermark, state.watermark)), default=None)
        if not result.not_modified:
            state.etag, state.last_modified = result.etag, result.last_modified
    session.add(state)


def _store_and_finish(
    db: Database, spec: str, run_id: int, report: IngestReport, result: FetchResult, dry_run: bool
) -> None:
    for attempt in range(3):
        try:
            with db.session() as session:
                store_records(session, result.records, report, dry_run=dry_run)
                if not dry_run:
                    _finish(session, spec, run_id, report, result)
            return
        except DataError:
            # a value this database refuses that no check above knew of: find those records, store the rest
            if attempt == 2:
                raise
            kept = _storable(db, result.records)
            _reset_counts(report)
            report.skipped_reasons[UNSTORABLE] = len(result.records) - len(kept)
            result.records = kept
        except IntegrityError:
            # another process inserted one of these papers concurrently: count again and merge
            if attempt == 2:
                raise
            _reset_counts(report)


def _reset_counts(report: IngestReport) -> None:
    """Before storing again: what `store_records` counts starts over (the source's own skips stay)."""
    report.new = report.updated = 0
    report.new_ids.clear()
    for reason in ("replacement_of_unknown", INVALID_NUMBER, UNSTORABLE_TEXT):
        report.skipped_reasons.pop(reason, None)


def _storable(db: Database, records: list[PaperRecord]) -> list[PaperRecord]:
    """The records the database accepts, each tried alone in a savepoint; nothing is kept from the trial."""
    kept: list[PaperRecord] = []
    with db.session() as session:
        for record in records:
            savepoint = session.begin_nested()
            try:
                store_records(session, [record], IngestReport(source=record.source or ""), dry_run=False)
                kept.append(record)
            except DataError as exc:
                log.warning("record %r skipped: the database refused it (%s)", record.canonical_id[:200],
                            str(exc.orig).splitlines()[0][:200])
            finally:
                savepoint.rollback()
        session.rollback()
    return kept


def _record_failure(db: Database, spec: str, run_id: int | None, report: IngestReport) -> None:
    if run_id is None:
        return
    with db.session() as session:
        _finish(session, spec, run_id, report, None)


async def ingest_one(
    settings: Settings, db: Database, spec: str, ctx: FetchContext, *, dry_run: bool
) -> IngestReport:
    report = IngestReport(source=spec)
    run_id: int | None = None
    try:
        source = build_source(spec, settings)
        ctx.memory = await db.run(_load_memory, db, spec) if ctx.since is None else SourceMemory()
        if not dry_run:
            run_id = await db.run(_start_run, db, spec)
        result = await source.fetch(ctx)
        report.fetched = len(result.records) + sum(result.skipped.values())
        report.skipped_reasons = dict(result.skipped)
        if result.not_modified:
            report.status = "not_modified"
        elif not result.records:
            report.status = "empty"  # arXiv is silent on weekends and holidays: normal, not an error
        await db.run(_store_and_finish, db, spec, run_id or 0, report, result, dry_run)
        report.skipped = sum(report.skipped_reasons.values())
    except asyncio.CancelledError:
        # shutdown: the run is recorded as interrupted (nothing was stored) and the cancellation goes on
        report.status, report.error = "error", "interrupted: the service was shutting down"
        report.new = report.updated = 0
        await db.run(_record_failure, db, spec, run_id, report)
        raise
    except SourceError as exc:
        report.status, report.error = "error", str(exc)
        report.new = report.updated = 0
        log.error("source %s failed: %s", spec, exc)
        await db.run(_record_failure, db, spec, run_id, report)
    except OperationalError:
        # the database cannot store anything now (disk full, connection lost): no source's fault, and
        # recording it as a source failure would fail the same way; the caller reports it in one line
        raise
    except Exception as exc:  # isolation: one broken source never stops the others
        report.status, report.error = "error", f"{exc.__class__.__name__}: {exc}"
        report.new = report.updated = 0
        log.exception("source %s failed unexpectedly", spec)
        await db.run(_record_failure, db, spec, run_id, report)
    log.info(
        "source %s: %s fetched=%d new=%d updated=%d skipped=%d",
        spec, report.status, report.fetched, report.new, report.updated, report.skipped,
    )
    return report


async def ingest_sources(
    settings: Settings,
    db: Database,
    specs: list[str],
    *,
    since: datetime | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    http: HostClients | None = None,
) -> list[IngestReport]:
    """Run each source spec in order; one report per spec, in the same order.

    `http` is the process's shared per-host clients (the service passes its own so pacing holds
    across jobs); without it a private set is built for this call and closed at the end.
    """
    pool = http if http is not None else HostClients(settings)
    reports: list[IngestReport] = []
    try:
        for spec in specs:
            ctx = FetchContext(settings=settings, arxiv_client=pool.view(arxiv=True), client=pool.view(arxiv=False),
                               since=since, progress=progress)
            reports.append(await ingest_one(settings, db, spec, ctx, dry_run=dry_run))
    finally:
        if http is None:
            await pool.aclose()
    return reports
