"""Which `PAPERBELL_*` environment variables name no setting, and the closest one each probably meant.

Pure: names in, (unknown, suggestion) out. A misspelt variable (`PAPERBELL_SMTP_SERVER`,
`PAPERBELL_DISCORD_BOT_TOKEN`) is otherwise ignored in silence and the default quietly used.
The closest name shares the most words (after common synonyms: SERVER → HOST), then spells most alike (difflib).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

PREFIX = "PAPERBELL_"
NOT_SETTINGS = frozenset({"PAPERBELL_BENCH_PG_URL"})  # read by the benchmarks, not by paperbell


# words people write for what paperbell calls otherwise
SYNONYMS = {"SERVER": "HOST", "HOSTNAME": "HOST", "USER": "USERNAME", "PASS": "PASSWORD", "PWD": "PASSWORD",
            "DB": "DATABASE", "DIRECTORY": "DIR", "ADDRESS": "URL", "KEY": "KEY"}


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name most like `name` (shared words first, then spelling), or None when nothing is close."""
    suffix = name.upper().removeprefix(PREFIX)
    words = {SYNONYMS.get(word, word) for word in suffix.split("_") if word}
    best: str | None = None
    best_key = (0, 0.0)
    for candidate in sorted(known):
        rest = candidate.removeprefix(PREFIX)
        theirs = set(rest.split("_"))
        common = len(words & theirs)
        ratio = difflib.SequenceMatcher(None, suffix, rest).ratio()
        close = (common > 0 and 2 * common >= len(theirs)) or ratio >= 0.75
        if close and (common, ratio) > best_key:
            best, best_key = candidate, (common, ratio)
    return best


def unknown_variables(environ: Mapping[str, str], known: Iterable[str]) -> list[tuple[str, str | None]]:
    """(variable, closest known name or None) for each PAPERBELL_* variable that names no setting."""
    names = set(known)
    return [(name, closest(name, names)) for name in sorted(environ)
            if name.upper().startswith(PREFIX) and name.upper() not in names and name.upper() not in NOT_SETTINGS]
