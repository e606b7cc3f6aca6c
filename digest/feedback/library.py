"""Reading a reader's library export (BibTeX, or Zotero's CSV export) into paper references.

Pure: text in, `LibraryImport` out. BibTeX is parsed with bibtexparser (v2); Zotero CSV with the
csv module (Zotero's export has "Title", "Url", "DOI" and "Extra" columns; arXiv items carry
"arXiv: 2410.17243" in Extra). Each entry yields an arXiv id or DOI when one is anywhere in it,
and its title (stored papers without ids are found by title). Hostile input: a file over
MAX_BYTES or MAX_ENTRIES is refused whole with one line; a bad entry is skipped with its reason.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import bibtexparser
from pylatexenc.latex2text import LatexNodes2Text

from digest.core.ids import arxiv_id, normalize_doi, normalize_text

MAX_BYTES = 5_000_000
MAX_ENTRIES = 5_000
MAX_TITLE = 1_000
ID_FIELDS = ("eprint", "arxiv", "arxivid", "url", "journal", "note", "howpublished", "extra", "archive location")


class LibraryError(ValueError):
    """The whole file is refused (too big, not text, not the format); str = one line for a person."""


@dataclass(frozen=True)
class LibraryEntry:
    ref: str | None  # "2410.17243" or "doi:10.…", None when the entry names no id
    title: str


@dataclass
class LibraryImport:
    entries: list[LibraryEntry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line per entry left out, saying why


def _ref(fields: Mapping[str, str]) -> str | None:
    lowered = {key.strip().lower(): value for key, value in fields.items() if isinstance(value, str)}
    for name in ID_FIELDS:
        value = str(lowered.get(name, ""))
        # A bare number in a journal or note field is a page or volume unless arXiv is named there.
        if name not in ("eprint", "arxiv", "arxivid") and "arxiv" not in value.lower():
            continue
        for piece in re.split(r"[\s,;{}()\[\]]+", value):
            found = arxiv_id(piece)
            if found is not None:
                return found[0]
    doi = normalize_doi(lowered.get("doi"))
    return f"doi:{doi}" if doi else None


def _title(raw: str) -> str:
    try:
        text = LatexNodes2Text().latex_to_text(raw)  # "Sparse {A}utoencoders" → "Sparse Autoencoders"
    except Exception:  # pylatexenc is lenient, but a library is hostile input
        text = raw
    return normalize_text(text)[:MAX_TITLE]


def _collect(rows: Iterable[tuple[str, Mapping[str, str]]]) -> LibraryImport:
    result = LibraryImport()
    for number, (label, fields) in enumerate(rows, start=1):
        if number > MAX_ENTRIES:
            raise LibraryError(f"more than {MAX_ENTRIES} entries: export a collection instead of the whole library")
        title = _title(str(next((v for k, v in fields.items() if k.strip().lower() == "title"), "")))
        ref = _ref(fields)
        if not title and ref is None:
            result.skipped.append(f"entry {number} ({label or 'no key'}): neither a title nor an arXiv id/DOI")
            continue
        result.entries.append(LibraryEntry(ref, title))
    return result


def _text(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise LibraryError(f"the file is larger than {MAX_BYTES // 1_000_000} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LibraryError("the file is not UTF-8 text (export it again as UTF-8)") from None


def parse_bibtex(data: bytes) -> LibraryImport:
    library = bibtexparser.parse_string(_text(data))
    result = _collect((entry.key, {f.key: str(f.value) for f in entry.fields}) for entry in library.entries)
    result.skipped += [f"unreadable BibTeX block at line {getattr(block, 'start_line', '?')}"
                       for block in library.failed_blocks]
    if not result.entries and not result.skipped:
        raise LibraryError("no BibTeX entries found")
    return result


def parse_zotero_csv(data: bytes) -> LibraryImport:
    reader = csv.DictReader(io.StringIO(_text(data), newline=""))
    if not reader.fieldnames or "title" not in {name.strip().lower() for name in reader.fieldnames}:
        raise LibraryError("not a Zotero CSV export: no 'Title' column")
    try:
        return _collect((str(row.get("Key", "")), {k: v for k, v in row.items() if k}) for row in reader)
    except csv.Error as exc:
        raise LibraryError(f"unreadable CSV: {exc}") from None


def parse_library(name: str, data: bytes) -> LibraryImport:
    """By file name: `.bib` → BibTeX, `.csv` → Zotero CSV."""
    lowered = name.lower()
    if lowered.endswith((".bib", ".bibtex")):
        return parse_bibtex(data)
    if lowered.endswith(".csv"):
        return parse_zotero_csv(data)
    raise LibraryError("a library is a BibTeX (.bib) or Zotero CSV (.csv) export")
