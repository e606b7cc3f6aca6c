"""A paper's life after a reader received it: which changes count as events and how they are worded.

Pure (plain data in, plain data out). Ingest (digest.services.ingest) snapshots a stored paper's
`PaperFacts` before a record merges into it and again after; `detect_events` compares the two.
Three kinds, each opted in per subscription (none by default):
  - `new-version`: the version number went up (an arXiv `replace` announcement, a newer API entry),
    with arXiv's comment line and whether the title or abstract changed;
  - `published`: a journal reference or a DOI appeared (once per paper: the first of the two counts);
  - `code`: a code or artifact link appeared (Hugging Face's `githubRepo`, a `code_url`), once per link.
`describe` words one event for a reader and says why they get it ("you received this on 3 Dec").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

NEW_VERSION, PUBLISHED, CODE = "new-version", "published", "code"
KINDS = (NEW_VERSION, PUBLISHED, CODE)
# what readers may type for each kind (CLI, Discord, web): the canonical name and a few spellings
_SPELLINGS = {"new-version": NEW_VERSION, "version": NEW_VERSION, "versions": NEW_VERSION,
              "published": PUBLISHED, "publication": PUBLISHED, "doi": PUBLISHED,
              "code": CODE, "model": CODE, "dataset": CODE, "artifacts": CODE}
CODE_EXTRAS = ("github_repo", "code_url")  # extras keys holding a code/model/dataset link (already URL-gated)
SECTION_TITLE = "Updates to papers you received"
_SHORT = 300  # characters of a comment or journal reference shown


class UpdateKindsError(ValueError):
    """The reader named an event kind that does not exist; str() is one line saying which are valid."""


def parse_kinds(text: str) -> tuple[str, ...]:
    """'new-version,code' → ('new-version', 'code'); '' or 'none' → (); 'all' → every kind."""
    words = [w.strip().lower() for w in text.replace(" ", ",").split(",") if w.strip()]
    if words in ([], ["none"], ["off"]):
        return ()
    if words == ["all"]:
        return KINDS
    unknown = [w for w in words if w not in _SPELLINGS]
    if unknown:
        raise UpdateKindsError(f"unknown update kind {unknown[0]!r}: use any of {', '.join(KINDS)}, all or none")
    chosen = {_SPELLINGS[w] for w in words}
    return tuple(kind for kind in KINDS if kind in chosen)


def format_kinds(kinds: Iterable[str]) -> str:
    chosen = set(kinds)
    return ",".join(kind for kind in KINDS if kind in chosen)


@dataclass(frozen=True)
class PaperFacts:
    """What of a stored paper the events compare."""

    version: int | None
    title: str
    abstract: str
    doi: str | None
    journal_ref: str | None
    code_links: tuple[str, ...]


def facts(version: int | None, title: str, abstract: str, doi: str | None, extras: Mapping[str, Any]) -> PaperFacts:
    links = tuple(str(extras[key]) for key in CODE_EXTRAS if extras.get(key))
    ref = extras.get("journal_ref")
    return PaperFacts(version, title or "", abstract or "", doi, str(ref) if ref else None, links)


@dataclass(frozen=True)
class LifecycleEvent:
    kind: str
    key: str  # tells two events of one kind apart: "v2", "published", the link
    detail: dict[str, Any]


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def detect_events(before: PaperFacts, after: PaperFacts, comment: str | None = None) -> list[LifecycleEvent]:
    """The events between two snapshots of one paper (nothing for a paper seen for the first time)."""
    events: list[LifecycleEvent] = []
    if before.version is not None and after.version is not None and after.version > before.version:
        detail: dict[str, Any] = {"version": after.version, "previous": before.version}
        if comment:
            detail["comment"] = " ".join(comment.split())[:_SHORT]
        if not _same(before.title, after.title):
            detail["old_title"], detail["new_title"] = before.title[:_SHORT], after.title[:_SHORT]
        if before.abstract and not _same(before.abstract, after.abstract):
            detail["abstract_changed"] = True
        events.append(LifecycleEvent(NEW_VERSION, f"v{after.version}", detail))
    if not (before.doi or before.journal_ref) and (after.doi or after.journal_ref):
        published = {k: v for k, v in (("doi", after.doi), ("journal_ref", after.journal_ref)) if v}
        events.append(LifecycleEvent(PUBLISHED, PUBLISHED, {k: str(v)[:_SHORT] for k, v in published.items()}))
    for link in after.code_links:
        if link not in before.code_links and len(link) <= 255:
            events.append(LifecycleEvent(CODE, link, {"url": link}))
    return events


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment.strftime('%b')}"


def describe(kind: str, detail: Mapping[str, Any], received_at: datetime) -> str:
    """One line for the reader: what happened and why they hear of it."""
    why = f"you received this on {_day(received_at)}"
    if kind == NEW_VERSION:
        parts = [f"v{detail.get('version')} appeared ({why})"]
        if detail.get("new_title"):
            parts.append(f"title now “{detail['new_title']}” (was “{detail.get('old_title', '')}”)")
        if detail.get("abstract_changed"):
            parts.append("the abstract changed")
        if detail.get("comment"):
            parts.append(f"comment: {detail['comment']}")
        return "; ".join(parts)
    if kind == PUBLISHED:
        where = ", ".join(
            text for text in (detail.get("journal_ref"), f"DOI {detail['doi']}" if detail.get("doi") else None) if text
        )
        return f"published: {where} ({why})"
    if kind == CODE:
        return f"code released: {detail.get('url')} ({why})"
    return f"{kind} ({why})"
