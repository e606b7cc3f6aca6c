"""People, not strings: an author's name → identity keys, for `author:` clauses and followed authors.

Used by the parser (an `author:"Yoshua Bengio; 0000-0002-9322-3515"` clause), the matcher (each
paper's authors, see `doc_people`) and the author resolver (digest.services.authors). Pure: no I/O.

A name is split into a surname and a first given name: a plain "Given [Middle] Surname" directly,
anything else ("Bengio, Yoshua", "Dr. Laurens van der Maaten", "García-López, María") by
`nameparser`; both parts are folded (case, accents, umlauts
written out, hyphens and spaces closed up). A paper's author gives the key of what is written:
"bengio|yoshua" for "Yoshua Bengio", "bengio|y" for "Y. Bengio", plus "bengio|y*" (a given name
starting with y) for the full spelling. An identity's keys say what it accepts: "Yoshua Bengio"
accepts "bengio|yoshua" and "bengio|y" (every spelling of him, never "Samy Bengio" nor "Yann
Bengio"); one known by initials only ("Y. Bengio") accepts "bengio|y" and "bengio|y*". An ORCID
is a key of its own ("orcid:0000-0002-9322-3515") on both sides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from digest.query.stemming import UMLAUTS, fold

MAX_NAME_LENGTH = 200  # characters in one name: the longest real author names are far shorter
MAX_PARTS = 8  # names and ORCIDs in one `author:` clause
ORCID_RE = re.compile(r"(?:https?://orcid\.org/)?(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dXx])")
_ALNUM_RE = re.compile(r"[^\W_]+")
_NOT_ALNUM_RE = re.compile(r"[\W_]+")
_BARE_INITIALS_RE = re.compile(r"[A-Z]{1,3}")  # "Bengio Y", "Smith JA": PubMed's "Surname Initials"
_PLAIN_WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*\.?")  # "Yoshua", "Y.", "Jean-Pierre", "O'Neil"
ORCID_PREFIX = "orcid:"


def name_problem(text: str) -> str | None:
    """Why `text` cannot be a person's name (one line), or None."""
    if not text or not text.strip():
        return "the name is empty"
    if len(text) > MAX_NAME_LENGTH:
        return f"the name is {len(text)} characters long; at most {MAX_NAME_LENGTH}"
    if not text.isprintable() and any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text):
        return "the name holds control or invisible characters"
    if not any(c.isalpha() for c in text):
        return "the name holds no letter"
    if '"' in text or ";" in text:
        return 'the name holds a " or a ;'  # they would end the `author:"…"` clause or split it
    return None


def normal_orcid(text: str) -> str | None:
    """"https://orcid.org/0000-0002-9322-3515" → "0000-0002-9322-3515" when the checksum holds, else None."""
    found = ORCID_RE.fullmatch(text.strip())
    if not found:
        return None
    digits = "".join(found.groups()).upper()
    total = 0
    for char in digits[:-1]:
        total = (total + int(char)) * 2
    check = (12 - total % 11) % 11  # ISO 7064 MOD 11-2, as ORCID defines its last character
    if digits[-1] != ("X" if check == 10 else str(check)):
        return None
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


def orcid_key(orcid: str) -> str:
    return ORCID_PREFIX + orcid


def closed_name(text: str) -> str:
    """Folded, letters and digits only: "van der Maaten" → "vandermaaten", "García-López" → "garcialopez"."""
    return _NOT_ALNUM_RE.sub("", fold(text))


def _surnames(surname: str) -> tuple[str, ...]:
    """The surname's keys: as folded, and with umlauts written out ("Schölkopf" → "schoelkopf")."""
    keys = [closed_name(surname)]
    spelled = closed_name(surname.translate(UMLAUTS))
    if spelled != keys[0]:
        keys.append(spelled)
    return tuple(keys)


@lru_cache(maxsize=1)
def _special_words() -> frozenset[str]:
    """Words that make a name need nameparser: titles, suffixes, particles ("van", "de"), conjunctions."""
    from nameparser.config import CONSTANTS  # loaded only when someone follows an author

    return frozenset().union(CONSTANTS.titles, CONSTANTS.suffix_acronyms, CONSTANTS.suffix_not_acronyms,
                             CONSTANTS.prefixes, CONSTANTS.conjunctions, CONSTANTS.first_name_titles)


def _split(text: str) -> tuple[str, str, bool]:
    """(first given name, surname, whether there are middle names) as nameparser reads them.

    The plain "Given [Middle] Surname" of most author lists (2-4 words of letters, no comma, no title,
    suffix or particle) is split directly: nameparser costs about a millisecond a name, and a day
    brings thousands of new ones. Tests check both ways agree on the real names of an arXiv sample."""
    words = text.split()
    special = _special_words()
    if "," not in text and 2 <= len(words) <= 4 and all(_PLAIN_WORD_RE.fullmatch(w) for w in words) \
            and not any(w.lower().strip(".") in special for w in words):
        return words[0], words[-1], len(words) > 2
    from nameparser import HumanName

    parsed = HumanName(text)
    first, last = parsed.first, parsed.last
    if not first and text.count(",") == 1:  # "Islam, Md Rakibul": nameparser took "Md" (M.D.) for a suffix
        last, _, given_names = text.partition(",")
        first = given_names.split()[0] if given_names.split() else ""
    return first, last, bool(parsed.middle)


@lru_cache(maxsize=65_536)  # the same authors come back day after day
def parse_name(name: str) -> tuple[tuple[str, ...], str, bool]:
    """(surname keys, first given name key, whether that given name is only an initial)."""
    text = " ".join(unicodedata.normalize("NFC", name).split())
    first, last, middle = _split(text)
    shouting = text.isupper()  # "KAI LI": capitals say nothing about initials
    if "," not in text and not shouting and _BARE_INITIALS_RE.fullmatch(last) and len(closed_name(first)) > 1 \
            and not middle:
        first, last = last, first  # "Bengio Y" is Y. Bengio
    if not last:  # one word ("Bengio"): a surname alone names nobody in particular
        return _surnames(first), "", False
    given = _ALNUM_RE.findall(first)
    capitals = first.isupper() and len(first) <= 3 and not shouting  # "YJ Bengio"
    initial = bool(given) and (all(len(part) == 1 for part in given) or capitals)
    key = fold(given[0][0]) if initial else closed_name(first)
    return _surnames(last), key, initial


@lru_cache(maxsize=65_536)  # co-author lists repeat the same names many times
def author_keys(name: str) -> tuple[str, ...]:
    """What one paper author, as written, is: "Yoshua Bengio" → ("bengio|yoshua", "bengio|y*")."""
    surnames, given, initial = parse_name(name)
    if not given:
        return tuple(f"{s}|" for s in surnames)
    if initial:
        return tuple(f"{s}|{given}" for s in surnames)
    return tuple(key for s in surnames for key in (f"{s}|{given}", f"{s}|{given[0]}*"))


def identity_keys(name: str) -> tuple[str, ...]:
    """What an identity known by `name` accepts: "Yoshua Bengio" → ("bengio|yoshua", "bengio|y")."""
    surnames, given, initial = parse_name(name)
    if not given:
        return ()
    if initial:
        return tuple(key for s in surnames for key in (f"{s}|{given}", f"{s}|{given}*"))
    return tuple(key for s in surnames for key in (f"{s}|{given}", f"{s}|{given[0]}"))


def parse_identity(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """"Yoshua Bengio; Y. Bengio; 0000-0002-9322-3515" → (names, ORCIDs); ValueError (one line) if refused."""
    names: list[str] = []
    orcids: list[str] = []
    parts = [part.strip() for part in text.split(";")]
    if len(parts) > MAX_PARTS:
        raise ValueError(f"at most {MAX_PARTS} names and ORCIDs separated by ;")
    for part in parts:
        if not part:
            continue
        orcid = normal_orcid(part)
        if orcid is not None:
            orcids.append(orcid)
            continue
        problem = name_problem(part)
        if ORCID_RE.fullmatch(part):
            problem = f"{part} is not a valid ORCID (its check digit is wrong)"
        if problem is None and not identity_keys(part):
            problem = f"{part!r} has no given name; write it like \"Yoshua Bengio\" (au:{part} finds any)"
        if problem is not None:
            raise ValueError(problem)
        names.append(" ".join(part.split()))
    if not names and not orcids:
        raise ValueError("the name is empty")
    return tuple(dict.fromkeys(names)), tuple(dict.fromkeys(orcids))


def identity_key_set(names: Iterable[str], orcids: Iterable[str]) -> frozenset[str]:
    return frozenset([*(k for n in names for k in identity_keys(n)), *map(orcid_key, orcids)])


ORCIDS_EXTRA = "orcids"  # a paper's extras key: [[author as written, ORCID], ...] from sources that give them


def orcid_pairs(pairs: Iterable[tuple[str, Any]]) -> list[list[str]]:
    """The (author, ORCID) pairs a source reported whose ORCID is valid, normalised, for a paper's extras."""
    out: list[list[str]] = []
    for name, value in pairs:
        orcid = normal_orcid(value) if isinstance(value, str) and len(value) < 100 else None
        if orcid is not None and name:
            out.append([name, orcid])
    return out


def author_ids(stored: Any) -> tuple[tuple[str, str], ...]:
    """A paper's stored ORCID pairs (extras JSON: anything) as the matcher's `PaperDoc.author_ids`."""
    if not isinstance(stored, list):
        return ()
    return tuple((p[0], p[1]) for p in stored[:1000]
                 if isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], str))


def doc_people(authors: Sequence[str], orcids: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """A paper's (key, author as written) pairs: each author's name keys, and the ORCIDs a source gave."""
    out: list[tuple[str, str]] = []
    for name in authors:
        if name_problem(name) is None:
            out.extend((key, name) for key in author_keys(name))
    for pair in orcids:  # stored JSON: checked again, a row may predate this code or be hand-edited
        if len(pair) == 2 and isinstance(pair[0], str) and isinstance(pair[1], str):
            normal = normal_orcid(pair[1]) if len(pair[1]) < 100 else None
            if normal is not None:
                out.append((orcid_key(normal), pair[0]))
    return tuple(out)
