"""Author names as the matcher sees them: folded for case and accents, never stemmed.

Used by `digest.query.analysis` (the authors field of every paper) and the parser (`au:` clauses).
A name token's key is `name_key` ("Roberts" → "@roberts", so `au:roberts` never finds "Robert");
a lone letter is an initial and every given name is also indexed by its initial (`au:"y bengio"`
finds "Yoshua Bengio" and "Y. Bengio"), a hyphenated surname also as one closed-up token
("Garcia-Lopez" → "garcialopez", its parts stay searchable), and a name written with an umlaut
also with the umlaut spelled out ("Schölkopf" is found by `au:schoelkopf` as well as
`au:scholkopf`). Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata

from digest.query.stemming import fold, initial_key, name_key, umlauts_written_out

PART_RE = re.compile(r"[^\W_]+")
WORD_RE = re.compile(r"[^\W_]+(?:[-\u2010\u2011][^\W_]+)*")

# (start, end, key, surface): one extra key covering positions start..end (relative to the name)
Extra = tuple[int, int, str, str]


def name_tokens(name: str) -> tuple[list[str], list[str], list[Extra]]:
    """One author's name → (key at each position, surface at each position, extra keys)."""
    keys: list[str] = []
    surfaces: list[str] = []
    extras: list[Extra] = []
    words = WORD_RE.findall(unicodedata.normalize("NFC", name))
    for number, word in enumerate(words):
        start = len(keys)
        parts = PART_RE.findall(word)
        for offset, part in enumerate(parts):
            folded = fold(part)
            # a lone letter is an initial; a given name (not the name's last word) is also indexed
            # by its initial, so `au:"y bengio"` finds "Y. Bengio" and "Yoshua Bengio"
            keys.append(initial_key(folded) if len(folded) == 1 else name_key(folded))
            surfaces.append(part)
            if len(folded) > 1 and (offset < len(parts) - 1 or number < len(words) - 1):
                extras.append((start + offset, start + offset, initial_key(folded), part))
            spelled = umlauts_written_out(part)
            if spelled is not None:
                extras.append((start + offset, start + offset, name_key(spelled), part))
        if len(parts) > 1:
            extras.append((start, start + len(parts) - 1, name_key("".join(map(fold, parts))), word))
    return keys, surfaces, extras


def query_name_keys(surface: str) -> tuple[str, ...]:
    """Keys of an `au:` query word or phrase: one per token; a single letter is an initial."""
    return tuple(initial_key(token) if len(token) == 1 else name_key(token)
                 for token in map(fold, PART_RE.findall(unicodedata.normalize("NFC", surface))))
