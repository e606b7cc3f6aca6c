"""Text analysis shared by queries and papers: tokens, stems, hyphenated compounds, positions.

Used by the parser (to analyse query words), the one-by-one evaluator and the compiled matcher
(to analyse each paper once). Both engines read the same `AnalyzedDoc`, so they agree on what a
word is. Pure: no I/O.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import snowballstemmer

TITLE = "title"
ABSTRACT = "abstract"
AUTHORS = "authors"
CATEGORIES = "categories"
TEXT_FIELDS: tuple[str, ...] = (TITLE, ABSTRACT, AUTHORS)

# A word is a run of letters/digits; hyphen-joined runs ("low-resource") form one compound.
WORD_RE = re.compile(r"[^\W_]+(?:[-\u2010\u2011][^\W_]+)*")
PART_RE = re.compile(r"[^\W_]+")

_stemmer = snowballstemmer.stemmer("english")
_stem_cache: dict[str, str] = {}


def stem(token: str) -> str:
    """English Snowball stem of a lowercase token (cached: stemming dominates analysis time)."""
    cached = _stem_cache.get(token)
    if cached is None:
        cached = _stemmer.stemWord(token)
        _stem_cache[token] = cached
    return cached


def query_tokens(text: str) -> list[str]:
    """Lowercase tokens of a query word or phrase, parts of compounds only (they match as a phrase)."""
    return [part.lower() for part in PART_RE.findall(text)]


@dataclass(frozen=True)
class PaperDoc:
    """What the matcher needs of a paper; `id` is for the caller (may be None)."""

    id: str | None
    title: str
    abstract: str
    authors: Sequence[str] = ()
    categories: Sequence[str] = ()


# One occurrence of a token: first and last position it covers (a joined compound covers all
# its parts) and the surface text to highlight.
Occurrence = tuple[int, int, str]


class FieldText:
    """The analysed text of one field.

    Analysis keeps only the token sequence (built with C-level calls: this runs on every word of
    every paper); the occurrence maps that phrase checks and explanations need are built on first
    use, i.e. only for the few papers a query is evaluated on or that matched.
    """

    def __init__(self) -> None:
        self.sequence: list[str] = []  # lowercase raw token at each position ("" = gap between authors)
        self.surfaces: list[str] = []  # the same tokens as written
        self.joined: list[tuple[int, int, str, str]] = []  # compounds: start, end, joined token, surface
        self._raw: dict[str, list[Occurrence]] | None = None
        self._stems: dict[str, list[Occurrence]] | None = None
        self._spans: dict[str, list[tuple[int, int]]] | None = None

    def stem_spans(self) -> dict[str, list[tuple[int, int]]]:
        """Stem → (start, end) of its occurrences; lighter than `stems` (no surfaces, no sorting)."""
        if self._spans is None:
            stem_all(self.tokens())
            spans: dict[str, list[tuple[int, int]]] = {}
            for position, key in enumerate(map(_stem_cache.get, self.sequence)):
                if key is not None:
                    spans.setdefault(key, []).append((position, position))
            for start, end, token, _ in self.joined:
                spans.setdefault(_stem_cache[token], []).append((start, end))
            self._spans = spans
        return self._spans

    def tokens(self) -> set[str]:
        """Distinct raw tokens, joined compounds included."""
        found = set(self.sequence)
        found.discard("")
        found.update(token for _, _, token, _ in self.joined)
        return found

    def stem_set(self) -> set[str]:
        tokens = self.tokens()
        stem_all(tokens)
        return set(map(_stem_cache.__getitem__, tokens))

    @property
    def raw(self) -> dict[str, list[Occurrence]]:
        """Raw lowercase token → occurrences in text order."""
        if self._raw is None:
            index: dict[str, list[Occurrence]] = {}
            for position, (token, surface) in enumerate(zip(self.sequence, self.surfaces, strict=True)):
                if token:
                    index.setdefault(token, []).append((position, position, surface))
            for start, end, token, surface in self.joined:
                index.setdefault(token, []).append((start, end, surface))
                index[token].sort()
            self._raw = index
        return self._raw

    @property
    def stems(self) -> dict[str, list[Occurrence]]:
        """Stem → occurrences in text order."""
        if self._stems is None:
            index: dict[str, list[Occurrence]] = {}
            for token, occurrences in self.raw.items():
                key = stem(token)
                found = index.get(key)
                if found is None:
                    index[key] = list(occurrences)
                else:
                    found.extend(occurrences)
                    found.sort()  # several spellings of one stem
            self._stems = index
        return self._stems


def stem_all(tokens: set[str]) -> None:
    """Make sure every token's stem is cached (then lookups can run as C-level maps)."""
    for token in list(itertools.filterfalse(_stem_cache.__contains__, tokens)):
        _stem_cache[token] = _stemmer.stemWord(token)


def analyze_into(target: FieldText, text: str, position: int) -> int:
    """Add `text`'s tokens to `target` starting at `position`; returns the next free position."""
    parts = PART_RE.findall(text)  # every token in order, compounds split: all in C
    target.surfaces.extend(parts)
    target.sequence.extend(map(str.lower, parts))
    if "-" in text or "\u2010" in text or "\u2011" in text:
        for surface in WORD_RE.findall(text):
            if surface.isalnum():
                position += 1
                continue
            pieces = PART_RE.findall(surface)
            # "auto-encoder" is also the one word "autoencoder", spanning both part positions.
            target.joined.append((position, position + len(pieces) - 1, "".join(pieces).lower(), surface))
            position += len(pieces)
        return position
    return position + len(parts)


@dataclass
class AnalyzedDoc:
    """A paper analysed once: text fields, and lowercase categories with their surface form."""

    doc: PaperDoc
    fields: dict[str, FieldText]
    categories: list[tuple[str, str]]


def analyze_doc(doc: PaperDoc) -> AnalyzedDoc:
    title, abstract, authors = FieldText(), FieldText(), FieldText()
    analyze_into(title, doc.title or "", 0)
    analyze_into(abstract, doc.abstract or "", 0)
    position = 0
    for name in doc.authors or ():
        # the gap keeps a phrase from running across two authors' names
        position = analyze_into(authors, name, position) + 1
        authors.sequence.append("")
        authors.surfaces.append("")
    categories = [(c.strip().lower(), c.strip()) for c in doc.categories or () if c.strip()]
    return AnalyzedDoc(doc, {TITLE: title, ABSTRACT: abstract, AUTHORS: authors}, categories)


def phrase_paths(text: FieldText, stems: Sequence[str]) -> list[list[Occurrence]]:
    """Every run of occurrences spelling `stems` at consecutive positions (spans chain end→start)."""
    occurrences = [text.stems.get(s) for s in stems]
    if not all(occurrences):
        return []
    paths: list[list[Occurrence]] = [[occ] for occ in occurrences[0] or ()]
    for following in occurrences[1:]:
        by_start: dict[int, list[Occurrence]] = {}
        for occ in following or ():
            by_start.setdefault(occ[0], []).append(occ)
        paths = [[*path, nxt] for path in paths for nxt in by_start.get(path[-1][1] + 1, ())]
        if not paths:
            break
    return paths


def phrase_present(text: FieldText, stems: Sequence[str]) -> bool:
    """Whether `phrase_paths` would find a run; cheaper (tracks reachable end positions only)."""
    ends = {occ[1] for occ in text.stems.get(stems[0], ())}
    for token in stems[1:]:
        if not ends:
            return False
        ends = {end for start, end, _ in text.stems.get(token, ()) if start - 1 in ends}
    return bool(ends)


def stem_pairs(text: FieldText) -> set[tuple[str, str]]:
    """Every (stem, next stem) of occurrences at consecutive positions, compounds included: a
    two-word phrase occurs exactly when its pair is here (used to index phrases, see compiled)."""
    stem_all(text.tokens())
    stems: list[str | None] = list(map(_stem_cache.get, text.sequence))  # None in author gaps
    pairs = set(itertools.pairwise(stems))
    if text.joined:
        starting: dict[int, list[str]] = {}
        for start, _end, token, _surface in text.joined:
            starting.setdefault(start, []).append(_stem_cache[token])
        for start, end, token, _surface in text.joined:
            joined = _stem_cache[token]
            if start > 0:
                pairs.add((stems[start - 1], joined))
            if end + 1 < len(stems):
                pairs.add((joined, stems[end + 1]))
            for following in starting.get(end + 1, ()):
                pairs.add((joined, following))
    return pairs  # type: ignore[return-value]


def phrase_in_sequence(text: FieldText, stems: Sequence[str]) -> bool:
    """`phrase_present` computed from the token sequence, without building the occurrence maps
    (the compiled matcher checks long phrases on candidate papers this way)."""
    spans = text.stem_spans()
    ends: set[int] | None = None
    for key in stems:
        ends = {end for start, end in spans.get(key, ()) if ends is None or start - 1 in ends}
        if not ends:
            return False
    return bool(ends)
