"""Text analysis shared by queries and papers: tokens, keys, hyphenated compounds, positions.

Used by the parser (to analyse query words), the one-by-one evaluator and the compiled matcher
(to analyse each paper once). Both engines read the same `AnalyzedDoc`, so they agree on what a
word is, and queries go through the same functions as text (symmetry: whatever variants the text
side indexes, the query side reaches). Pure: no I/O.

Analysis of one word, in order:
- Unicode: NFC for tokenising (an NFD "schro\u0308dinger" is one word), then each token is folded
  by NFKD (ligatures "ﬁ" and full-width "ＧＰＴ" become ASCII), combining marks dropped (accents)
  and `casefold`: "Schrödinger" and "schrodinger" are the same key.
- `stem`: an inflectional stemmer for scientific English (see `inflect`), chosen over Snowball and
  simplemma by precision/recall on the labelled ML queries in tests/digest/query/ (bench/stemmers.py).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat

from digest.query.names import name_tokens
from digest.query.people import doc_people
from digest.query.stemming import StemCache, acronym_core, acronym_key, fold

TITLE = "title"
ABSTRACT = "abstract"
AUTHORS = "authors"
CATEGORIES = "categories"
PEOPLE = "people"  # identity keys of the authors (`author:` clauses, digest.query.people)
TEXT_FIELDS: tuple[str, ...] = (TITLE, ABSTRACT, AUTHORS)

# A word is a run of letters/digits; hyphen-joined runs ("low-resource") form one compound.
WORD_RE = re.compile(r"[^\W_]+(?:[-\u2010\u2011][^\W_]+)*")
PART_RE = re.compile(r"[^\W_]+")
# For ASCII text `[^\W_]` is exactly [A-Za-z0-9]: everything else separates tokens.
_ASCII_SEPARATORS = {code: " " for code in range(128) if not chr(code).isalnum()}
_ASCII_CHUNK_SEPARATORS = {code: " " for code in range(128) if not chr(code).isalnum() and chr(code) != "-"}

# Folded token → key (bounded; see `StemCache`). Module-level so every engine shares the work.
stem_cache = StemCache()


def stem(token: str) -> str:
    """The matching key of a folded token (inflection removed; cached)."""
    return stem_cache[token]


def query_tokens(text: str) -> list[str]:
    """Folded tokens of a query word or phrase, parts of compounds only (they match as a phrase)."""
    return [fold(part) for part in PART_RE.findall(unicodedata.normalize("NFC", text))]


@dataclass(frozen=True)
class PaperDoc:
    """What the matcher needs of a paper; `id` is for the caller (may be None)."""

    id: str | None
    title: str
    abstract: str
    authors: Sequence[str] = ()
    categories: Sequence[str] = ()
    author_ids: Sequence[tuple[str, str]] = ()  # (author as written, ORCID) where a source gave one


# One occurrence of a token: first and last position it covers (a joined compound covers all
# its parts) and the surface text to highlight.
Occurrence = tuple[int, int, str]


@dataclass
class FieldDraft:
    """One field's tokens while `analyze_into` collects them (lists), before they become a `FieldText`."""

    sequence: list[str] = field(default_factory=list)
    surfaces: list[str] = field(default_factory=list)
    joined: list[tuple[int, int, str, str]] = field(default_factory=list)  # compounds and acronym keys


class FieldText:
    """The analysed text of one field.

    Analysis keeps only the token sequence (built with C-level calls: this runs on every word of
    every paper); the occurrence maps that phrase checks and explanations need are built on first
    use, i.e. only for the few papers a query is evaluated on or that matched.

    What an analysed paper keeps is stored as tuples of strings, never lists or sets: the cycle
    keeps a batch of papers analysed between cycles, and the garbage collector stops traversing
    a tuple of strings once it has seen it (lists and sets it traverses at every full collection,
    which cost about 0.2 s over 4,000 analysed papers held as lists and frozensets).
    """

    __slots__ = ("_pairs", "_raw", "_stem_sequence", "_stems", "_tokens", "joined", "sequence", "surfaces")

    def __init__(self, draft: FieldDraft) -> None:
        self.sequence = tuple(draft.sequence)  # lowercase raw token at each position ("" = gap between authors)
        self.surfaces = tuple(draft.surfaces)  # the same tokens as written
        # start, end, key, surface of compounds ("autoencoder" for "auto-encoder") and of the
        # acronym key of acronym-shaped tokens ("^SAM" for "SAMs"): extra keys over those positions
        self.joined = tuple(draft.joined)
        self._raw: dict[str, list[Occurrence]] | None = None
        self._tokens: tuple[str, ...] | None = None  # distinct
        self._stems: dict[str, list[Occurrence]] | None = None
        self._stem_sequence: tuple[str | None, ...] | None = None
        self._pairs: tuple[str, ...] | None = None  # distinct `pair_key`s

    def stem_sequence(self) -> tuple[str | None, ...]:
        """The stem at each position (None in author gaps), computed once with C-level maps."""
        if self._stem_sequence is None:
            stem_all(self.tokens())
            keys: list[str | None] = list(map(stem_cache.get, self.sequence))
            # None marks author gaps; another thread may have emptied the cache meanwhile
            position = -1
            try:
                while True:
                    position = keys.index(None, position + 1)
                    if self.sequence[position]:
                        keys[position] = stem_cache[self.sequence[position]]
            except ValueError:
                pass
            self._stem_sequence = tuple(keys)
        return self._stem_sequence

    def spans_of(self, key: str) -> list[tuple[int, int]]:
        """(start, end) of every occurrence of stem `key`, compounds included (unordered).

        `list.index` scans in C, so the cost grows with the occurrences of `key`, not the text:
        phrase checks only ask about a phrase's few, specific stems.
        """
        sequence = self.stem_sequence()
        spans: list[tuple[int, int]] = []
        position = -1
        try:
            while True:
                position = sequence.index(key, position + 1)
                spans.append((position, position))
        except ValueError:
            pass
        spans.extend((start, end) for start, end, token, _ in self.joined if stem(token) == key)
        return spans

    def tokens(self) -> tuple[str, ...]:
        """Distinct raw tokens, joined compounds included (computed once; read after analysis). A
        tuple, not a set (see the class docstring): callers probe their own sets with it."""
        if self._tokens is None:
            found = set(self.sequence)
            found.discard("")
            found.update(token for _, _, token, _ in self.joined)
            self._tokens = tuple(found)
        return self._tokens

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


def stem_all(tokens: Iterable[str]) -> None:
    """Make sure every token's stem is cached (then lookups can run as C-level maps)."""
    for token in list(itertools.filterfalse(stem_cache.__contains__, tokens)):
        stem_cache[token]


def analyze_into(target: FieldDraft, text: str, position: int) -> int:
    """Add `text`'s tokens to `target` starting at `position`; returns the next free position."""
    # every token in order, compounds split: all in C. ASCII text (nearly all papers) is split
    # twice as fast by mapping every non-alphanumeric character to a space (same tokens).
    ascii_text = text.isascii()
    if not ascii_text:
        text = unicodedata.normalize("NFC", text)  # combining accents join their letter
    parts = text.translate(_ASCII_SEPARATORS).split() if ascii_text else PART_RE.findall(text)
    # acronym candidates: tokens neither lower-case nor title-case ("SAMs", "MoE", "2024"), picked in C
    _add_acronyms(target, parts, [p for p in itertools.filterfalse(str.islower, parts) if not p.istitle()], position)
    target.surfaces.extend(parts)
    target.sequence.extend(map(str.lower if ascii_text else fold, parts))
    if ascii_text:
        if "-" in text:
            _add_ascii_compounds(target, text, position)
    elif "-" in text or "\u2010" in text or "\u2011" in text:
        # Only the compounds need work: flag them in C, then visit just those. A compound's
        # position is its word index plus the extra parts of the compounds before it.
        words = WORD_RE.findall(text)
        alnum = list(map(str.isalnum, words))
        extra, index = 0, -1
        try:
            while True:
                index = alnum.index(False, index + 1)
                surface = words[index]
                pieces = PART_RE.findall(surface)
                start = position + index + extra
                # "auto-encoder" is also the one word "autoencoder", spanning both part positions.
                target.joined.append((start, start + len(pieces) - 1, fold("".join(pieces)), surface))
                extra += len(pieces) - 1
        except ValueError:
            pass
    return position + len(parts)


def _add_acronyms(target: FieldDraft, parts: list[str], candidates: list[str], position: int) -> None:
    """The acronym key of each acronym-shaped part ("SAMs" → "^SAM"), over that part's position.
    `candidates` are the parts that may be acronyms, in text order."""
    index = -1
    for surface in candidates:
        core = acronym_core(surface)
        if core is not None:
            index = parts.index(surface, index + 1)
            target.joined.append((position + index, position + index, acronym_key(core), surface))


def _add_ascii_compounds(target: FieldDraft, text: str, position: int) -> None:
    """`analyze_into`'s compounds for ASCII text, without a regex pass over all of it.

    Splitting on everything but letters, digits and "-" gives chunks: a chunk without "-" is one
    part; only the few with "-" are searched for compounds (WORD_RE never spans two chunks).
    """
    chunks = text.translate(_ASCII_CHUNK_SEPARATORS).split()
    hyphenated = list(map(str.__contains__, chunks, repeat("-")))
    extra, index = 0, -1  # parts so far beyond one per chunk
    try:
        while True:
            index = hyphenated.index(True, index + 1)
            start = position + index + extra  # parts before this chunk
            for surface in WORD_RE.findall(chunks[index]):
                pieces = surface.split("-")
                if len(pieces) > 1:
                    # "auto-encoder" is also the one word "autoencoder", spanning both positions.
                    target.joined.append((start, start + len(pieces) - 1, "".join(pieces).lower(), surface))
                start += len(pieces)
            extra = start - position - index - 1
    except ValueError:
        pass


@dataclass
class AnalyzedDoc:
    """A paper analysed once: text fields, and lowercase categories with their surface form."""

    doc: PaperDoc
    fields: dict[str, FieldText]
    categories: list[tuple[str, str]]
    _people: tuple[tuple[str, str], ...] | None = None

    def people(self) -> tuple[tuple[str, str], ...]:
        """(identity key, author as written) pairs, computed on first use: only `author:` clauses read them."""
        if self._people is None:
            self._people = doc_people(self.doc.authors or (), self.doc.author_ids or ())
        return self._people


def analyze_doc(doc: PaperDoc) -> AnalyzedDoc:
    title, abstract, authors = FieldDraft(), FieldDraft(), FieldDraft()
    analyze_into(title, doc.title or "", 0)
    analyze_into(abstract, doc.abstract or "", 0)
    for name in doc.authors or ():
        keys, surfaces, extras = name_tokens(name)
        start = len(authors.sequence)
        authors.joined.extend((start + first, start + last, key, surface) for first, last, key, surface in extras)
        authors.sequence.extend(keys)
        authors.surfaces.extend(surfaces)
        # the gap keeps a phrase from running across two authors' names
        authors.sequence.append("")
        authors.surfaces.append("")
    categories = [(c.strip().lower(), c.strip()) for c in doc.categories or () if c.strip()]
    fields = {TITLE: FieldText(title), ABSTRACT: FieldText(abstract), AUTHORS: FieldText(authors)}
    return AnalyzedDoc(doc, fields, categories)


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


PAIR_SEPARATOR = "\x1f"  # no token holds it: tokens are letters, digits and hyphens (WORD_RE)


def pair_key(first: str, second: str) -> str:
    """One string for a (stem, next stem) pair: a string caches its hash, a tuple recomputes it at
    every set or dict lookup, and indexing a batch looks up hundreds of thousands of pairs."""
    return first + PAIR_SEPARATOR + second


def stem_pairs(text: FieldText) -> tuple[str, ...]:
    """Every (stem, next stem) of occurrences at consecutive positions, compounds included, as
    distinct `pair_key`s: a two-word phrase occurs exactly when its pair is here (used to index
    phrases, see compiled). Computed once per text (the paper's analysis, kept while the analysed paper is)."""
    if text._pairs is None:
        text._pairs = tuple({pair_key(first, second) for first, second in _stem_pairs(text) if first and second})
    return text._pairs


def prepare_for_matching(doc: AnalyzedDoc) -> AnalyzedDoc:
    """Compute now what matching reads of each text field (tokens, stems, stem pairs): the part of
    indexing a paper that no subscription changes, done once for a paper kept analysed."""
    for text in doc.fields.values():
        text.tokens()
        stem_pairs(text)
    return doc


def _stem_pairs(text: FieldText) -> set[tuple[str | None, str | None]]:
    stems = text.stem_sequence()  # None in author gaps
    pairs = set(itertools.pairwise(stems))
    if text.joined:
        starting: dict[int, list[str]] = {}
        for start, _end, token, _surface in text.joined:
            starting.setdefault(start, []).append(stem(token))
        for start, end, token, _surface in text.joined:
            joined = stem(token)
            if start > 0:
                pairs.add((stems[start - 1], joined))
            if end + 1 < len(stems):
                pairs.add((joined, stems[end + 1]))
            for following in starting.get(end + 1, ()):
                pairs.add((joined, following))
    return pairs


def phrase_in_sequence(text: FieldText, stems: Sequence[str]) -> bool:
    """`phrase_present` computed from the token sequence, without building the occurrence maps
    (the compiled matcher checks long phrases on candidate papers this way)."""
    ends: set[int] | None = None
    for key in stems:
        ends = {end for start, end in text.spans_of(key) if ends is None or start - 1 in ends}
        if not ends:
            return False
    return bool(ends)


def near_runs(text: FieldText, stems: Sequence[str], slop: int, limit: int | None = None) -> list[list[Occurrence]]:
    """Runs of `stems` within `slop` position moves of the exact phrase, in any order (Lucene's
    sloppy phrase: with word i at position p_i, max(p_i - i) - min(p_i - i) <= slop). The parser
    refuses repeated words, so each word is a different key. A compound counts at its first position.

    One sweep over every occurrence in offset order (p_i - i), keeping each word's latest one: a
    valid choice exists exactly when, at some occurrence, the latest of every word lies within
    `slop` of it (the latest are the tightest for that right end). O(occurrences x words), whatever
    the text; one run per such right end, at most `limit`.
    """
    options = [text.stems.get(s, []) for s in stems]
    if not all(options):
        return []
    events = sorted((occ[0] - i, i, occ) for i, found in enumerate(options) for occ in found)
    latest: list[Occurrence | None] = [None] * len(stems)
    offsets: list[int | None] = [None] * len(stems)
    runs: list[list[Occurrence]] = []
    for offset, i, occ in events:
        latest[i], offsets[i] = occ, offset
        if None in offsets or offset - min(o for o in offsets if o is not None) > slop:
            continue
        runs.append([o for o in latest if o is not None])
        if limit is not None and len(runs) >= limit:
            break
    return runs
