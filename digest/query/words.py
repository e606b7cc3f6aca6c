"""A query word or phrase → the keys it matches: stems, acronym keys, name keys.

Used by the parser. Text and queries meet on the same keys (`digest.query.analysis` indexes the
text side): a word typed with two capitals is an acronym ("SAM", "SAMs", "MoE" → acronym-shaped
tokens only: "SAM", "SAMs", "SAM2", "SAM-2", never "same" or "Sam"); any other word is stemmed
("sam" = "SAM" = "same", as written in lower case); under `au:` every word is a name (folded, never
stemmed; a single letter is an initial).
"""

from __future__ import annotations

import re
import unicodedata

from digest.query.analysis import AUTHORS, PART_RE, WORD_RE, stem
from digest.query.ast import Phrase, Term
from digest.query.names import query_name_keys
from digest.query.stemming import acronym_core, acronym_key, fold, name_key, umlauts_written_out

LETTERS_DIGITS_RE = re.compile(r"[a-z]+[0-9]+|[0-9]+[a-z]+")  # one letters/digits boundary: "gpt4", "3d"
LETTER_DIGIT_RE = re.compile(r"[^\W\d_]+|[0-9]+")


def surfaces_of(text: str) -> list[str]:
    """The tokens of query text as typed (case kept), compounds split."""
    return PART_RE.findall(unicodedata.normalize("NFC", text))


def word_key(surface: str) -> str:
    """The key of one typed token: its acronym key when typed with two capitals, else its stem."""
    core = acronym_core(surface)
    return acronym_key(core) if core is not None else stem(fold(surface))


def is_names(fields: tuple[str, ...]) -> bool:
    return fields == (AUTHORS,)


def phrase_keys(fields: tuple[str, ...], text: str) -> tuple[str, ...]:
    """Keys of a quoted phrase's words, in order."""
    return query_name_keys(text) if is_names(fields) else tuple(map(word_key, surfaces_of(text)))


def word_atom(fields: tuple[str, ...], word: str) -> Term | Phrase | None:
    """The clause of an unquoted word (None when it holds no letter or digit). A hyphenated word is
    a phrase of its parts that also matches the closed-up spelling ("fine-tuning" = "finetuning");
    a word with one letters/digits boundary likewise ("gpt4" = "GPT-4", "SAM2" = "SAM 2")."""
    surfaces = surfaces_of(word)
    if not surfaces:
        return None
    joined_text = "".join(map(fold, surfaces))
    closed = WORD_RE.fullmatch(word) is not None
    if is_names(fields):
        keys = query_name_keys(word)
        if len(keys) > 1:
            return Phrase(fields, word, keys, False, name_key(joined_text) if closed else None)
        spelled = umlauts_written_out(surfaces[0])
        # "au:schölkopf" also finds "Schoelkopf" (its text key is "@scholkopf", one of "@schoelkopf")
        return Phrase(fields, word, keys, False, name_key(spelled)) if spelled else Term(fields, word, keys[0])
    if len(surfaces) == 1 and LETTERS_DIGITS_RE.fullmatch(joined_text):
        pieces = LETTER_DIGIT_RE.findall(surfaces[0])
        return Phrase(fields, word, tuple(map(word_key, pieces)), False, stem(joined_text))
    if len(surfaces) == 1:
        return Term(fields, word, word_key(surfaces[0]))
    return Phrase(fields, word, tuple(map(word_key, surfaces)), False, stem(joined_text) if closed else None)


def prefix_key(fields: tuple[str, ...], core: str) -> tuple[str, int]:
    """The raw-token prefix a `core*` wildcard matches, and its number of letters/digits."""
    prefix = "".join(map(fold, surfaces_of(core)))
    return (name_key(prefix) if is_names(fields) else prefix), len(prefix)
