"""Whether a paper record can be stored at all: numbers and text both databases accept.

Pure checks on a `PaperRecord`, run by ingest before it writes: a record that fails one is skipped
and counted with the reason (the rest of its source is stored), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import math
from typing import Any

from digest.core.records import PaperRecord

# the record fields ingest copies onto a stored paper
METADATA_FIELDS = ("title", "abstract", "authors", "categories", "primary_category", "doi", "abs_url", "pdf_url")
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
    fields = ("canonical_id", *METADATA_FIELDS, "source", "extras")
    return next((p for name in fields if (p := _bad_text(getattr(record, name, None), name))), None)
