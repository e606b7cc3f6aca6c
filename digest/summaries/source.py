"""Source summaries: the TL;DR a source already ships with a paper (Hugging Face's `ai_summary`).

First link of the summary chain in `digest.summaries`; pure (reads `Paper.extras`, returns text or None).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from digest.summaries.extractive import normalize_whitespace

# extras keys, in order of preference, that sources fill with a ready-made summary
SOURCE_SUMMARY_KEYS = ("ai_summary",)


def source_summary(extras: Mapping[str, Any] | None, max_chars: int = 300) -> str | None:
    """The source's own summary when present, non-empty and short enough to show as a TL;DR."""
    if not extras:
        return None
    for key in SOURCE_SUMMARY_KEYS:
        value = extras.get(key)
        if isinstance(value, str):
            text = normalize_whitespace(value)
            # An overlong "summary" is not a TL;DR; the extractive one is better than a cut one.
            if text and len(text) <= max_chars:
                return text
    return None
