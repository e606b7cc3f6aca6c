"""One batch of papers indexed for the compiled matcher: per clause and field, the bitset of papers.

Used by digest.query.compiled (`Matcher`). Each paper is analysed once; each distinct token of
the batch is classified once (kept across batches by the matcher); postings (key, paper) are
gathered with C-level calls and turned into bitsets (a Python int, bit i = paper i) by numpy.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import accumulate, repeat
from operator import add
from typing import TYPE_CHECKING, Any

import numpy as np

from digest.query.analysis import (
    CATEGORIES,
    PEOPLE,
    TEXT_FIELDS,
    AnalyzedDoc,
    PaperDoc,
    analyze_doc,
    near_runs,
    pair_key,
    phrase_in_sequence,
    stem_all,
    stem_cache,
    stem_pairs,
)
from digest.query.ast import Atom, Category, Person, Phrase, Prefix, Term, atom_key

if TYPE_CHECKING:
    from digest.query.compiled import Matcher

FieldUsage = tuple[set[str], set[str], tuple[str, ...]]  # stems, `pair_key`s, wildcard prefixes
# (judged tokens, token -> number of its stem, per field: tokens with a used stem, per field: tokens some
# wildcard matches, stem of each number, number of each stem)
TokenClasses = tuple[set[str], dict[str, int], dict[str, set[str]], dict[str, set[str]], list[str], dict[str, int]]


def field_usage_of(atoms: Sequence[Atom]) -> dict[str, FieldUsage]:
    """What the index must hold for each field, so a batch indexes nothing no clause reads."""
    stems: dict[str, set[str]] = {name: set() for name in TEXT_FIELDS}
    pairs: dict[str, set[str]] = {name: set() for name in TEXT_FIELDS}
    prefixes: dict[str, set[str]] = {name: set() for name in TEXT_FIELDS}
    for atom in atoms:
        for name in atom.fields if not isinstance(atom, (Category, Person)) else ():
            if isinstance(atom, Term):
                stems[name].add(atom.stem)
            elif isinstance(atom, Phrase) and (len(atom.stems) == 1 or atom.slop):
                stems[name].update(atom.stems)
                if atom.joined is not None:
                    stems[name].add(atom.joined)  # "au:schölkopf" also reads "@schoelkopf"
            elif isinstance(atom, Phrase):
                pairs[name].update(map(pair_key, atom.stems, atom.stems[1:]))
                if atom.joined is not None:
                    stems[name].add(atom.joined)
            elif isinstance(atom, Prefix):
                prefixes[name].add(atom.prefix)
    return {name: (stems[name], pairs[name], tuple(sorted(prefixes[name]))) for name in TEXT_FIELDS}



@dataclass(frozen=True)
class AtomRoutes:
    """Per text field, the atoms one indexed key decides on its own: a Term or one-word phrase by its
    stem (or a phrase's closed-up spelling), a two-word phrase by its stem pair (exact). The rest
    (longer or sloppy phrases, wildcards, categories, people) are `others`, computed one by one;
    `people` lists the `author:` atoms (a batch indexes its authors' identities only when there are some)."""

    stems: dict[str, dict[str, tuple[int, ...]]]
    pairs: dict[str, dict[str, tuple[int, ...]]]  # by `pair_key`
    others: list[int]
    people: tuple[int, ...] = ()


def atom_routes(atoms: Sequence[Atom]) -> AtomRoutes:
    stems: dict[str, dict[str, list[int]]] = {name: {} for name in TEXT_FIELDS}
    pairs: dict[str, dict[str, list[int]]] = {name: {} for name in TEXT_FIELDS}
    others: list[int] = []
    for index, atom in enumerate(atoms):
        if isinstance(atom, Term):
            for name in atom.fields:
                stems[name].setdefault(atom.stem, []).append(index)
        elif isinstance(atom, Phrase) and not atom.slop and len(atom.stems) <= 2:
            for name in atom.fields:
                if len(atom.stems) == 1:
                    stems[name].setdefault(atom.stems[0], []).append(index)
                else:
                    pairs[name].setdefault(pair_key(atom.stems[0], atom.stems[1]), []).append(index)
                if atom.joined is not None:
                    stems[name].setdefault(atom.joined, []).append(index)
        else:
            others.append(index)
    # kept with the matcher between cycles: tuples of ints, which the garbage collector stops
    # traversing once seen (tens of thousands of small lists it would traverse at every full collection)
    people = tuple(index for index, atom in enumerate(atoms) if isinstance(atom, Person))
    return AtomRoutes(_frozen(stems), _frozen(pairs), others, people)


def _frozen(routes: dict[str, dict[str, list[int]]]) -> dict[str, dict[str, tuple[int, ...]]]:
    return {name: {key: tuple(atoms) for key, atoms in by_key.items()} for name, by_key in routes.items()}


_SPARSE = 40  # set bits up to which `_bits` peels bits one by one (measured crossover)


def _bits(value: int) -> list[int]:
    """Indexes of the set bits, ascending.

    Sparse sets (most subscriptions match a few papers) peel off the top bit with int operations,
    a few per bit; dense ones go through the binary digits, whose gaps `str.split` measures and
    `accumulate` turns into positions, all in C (formatting 2,000 digits costs more than a few peels).
    """
    if value.bit_count() <= _SPARSE:
        out: list[int] = []
        append = out.append
        while value:
            top = value.bit_length() - 1
            append(top)
            value ^= 1 << top
        out.reverse()
        return out
    gaps = format(value, "b")[::-1].split("1")
    gaps.pop()  # the zeros after the highest set bit
    # position of the k-th set bit = sum over the gaps before it of (gap + 1), minus 1
    positions = list(accumulate(map(add, map(len, gaps), repeat(1)), initial=-1))
    del positions[0]
    return positions


def bitsets(keys: Sequence[Any], docs: Sequence[int], width: int) -> dict[Any, int]:
    """key -> bitset of the papers listed with it in the postings (keys[j], docs[j])."""
    if not keys:
        return {}
    order = dict.fromkeys(keys)  # distinct keys, numbered below without a Python loop per posting
    number = dict(zip(order, range(len(order)), strict=True))
    nbytes = (width + 7) // 8
    table = np.zeros((len(number), nbytes), np.uint8)
    where = np.fromiter(map(number.__getitem__, keys), np.int64, len(keys))
    papers = np.asarray(docs, np.int64)
    np.bitwise_or.at(table, (where, papers >> 3), np.left_shift(1, papers & 7).astype(np.uint8))
    raw = table.tobytes()
    return {key: int.from_bytes(raw[j * nbytes : (j + 1) * nbytes], "little") for j, key in enumerate(number)}


def _numbered_bitsets(numbers: Sequence[int], docs: Sequence[int], width: int, names: list[str]) -> dict[str, int]:
    """`bitsets` for keys given as numbers (of `names`): numpy groups them without hashing strings."""
    if not numbers:
        return {}
    distinct, row = np.unique(np.asarray(numbers, np.int64), return_inverse=True)
    nbytes = (width + 7) // 8
    table = np.zeros((len(distinct), nbytes), np.uint8)
    papers = np.asarray(docs, np.int64)
    np.bitwise_or.at(table, (row, papers >> 3), np.left_shift(1, papers & 7).astype(np.uint8))
    raw = table.tobytes()
    return {names[k]: int.from_bytes(raw[j * nbytes : (j + 1) * nbytes], "little")
            for j, k in enumerate(distinct.tolist())}


def _classify(new: AbstractSet[str], active: list[str], usage: dict[str, FieldUsage], classes: TokenClasses) -> None:
    """Record, for tokens not seen before, the number of their stem where some clause on a field
    uses it, and which fields' wildcards match them."""
    judged, stem_of, stem_hits, prefix_hits, names, numbers = classes
    judged |= new
    stem_all(new)
    for token in new:
        stemmed = stem_cache[token]
        for field in active:
            field_stems, _pairs, field_prefixes = usage[field]
            if stemmed in field_stems:
                number = numbers.get(stemmed)
                if number is None:
                    number = numbers[stemmed] = len(names)
                    names.append(stemmed)
                stem_of[token] = number
                stem_hits[field].add(token)
            if field_prefixes and token.startswith(field_prefixes):
                prefix_hits[field].add(token)


def people_bitsets(docs: Sequence[AnalyzedDoc], wanted: AbstractSet[str] | None = None) -> dict[str, int]:
    """Identity key → bitset of the papers with such an author (for `author:` clauses); only the
    `wanted` keys (those some clause accepts) when given: a day's authors hold ~100k keys."""
    found: dict[str, int] = {}
    for i, doc in enumerate(docs):
        for key, _name in doc.people():
            if wanted is None or key in wanted:
                found[key] = found.get(key, 0) | 1 << i
    return found


def _spread(values: list[int], atoms_of: Mapping[Any, Sequence[int]], present: Mapping[Any, int]) -> None:
    """OR each present key's bitset into the atoms it decides."""
    for key, bits in present.items():
        for index in atoms_of.get(key, ()):
            values[index] |= bits


class Batch:
    """One `match` call's analysed papers and per-clause, per-field bitsets (kept for explanations)."""

    def __init__(self, matcher: Matcher, docs: Sequence[PaperDoc | AnalyzedDoc]) -> None:
        self.docs = [d if isinstance(d, AnalyzedDoc) else analyze_doc(d) for d in docs]
        self.atom_index = matcher.atom_index
        # postings (key, paper) per field, gathered with C-level calls, turned into bitsets at the end
        stem_keys: dict[str, list[int]] = {f: [] for f in TEXT_FIELDS}  # stem numbers (token_classes)
        stem_docs: dict[str, list[int]] = {f: [] for f in TEXT_FIELDS}
        pair_keys: dict[str, list[str]] = {f: [] for f in TEXT_FIELDS}
        pair_docs: dict[str, list[int]] = {f: [] for f in TEXT_FIELDS}
        raw_keys: dict[str, list[str]] = {f: [] for f in TEXT_FIELDS}
        raw_docs: dict[str, list[int]] = {f: [] for f in TEXT_FIELDS}
        cats: dict[str, int] = {}
        # Each distinct token of the batch is classified once: its stem if some clause on a field
        # uses it, and whether some wildcard prefix on a field matches it. Per paper, only set
        # operations in C then pick the few tokens that matter.
        usage = matcher.field_usage
        active = [name for name in TEXT_FIELDS if any(usage[name])]  # fields some clause searches
        classes = matcher.token_classes()
        judged, stem_of, stem_hits, prefix_hits, names, _numbers = classes
        for i, doc in enumerate(self.docs):
            for name in active:
                text = doc.fields[name]
                tokens = text.tokens()  # distinct, as a tuple: our sets are probed with it
                if not judged.issuperset(tokens):  # allocates nothing: most papers bring no new word
                    _classify(set(tokens).difference(judged), active, usage, classes)
                _stems, field_pairs, field_prefixes = usage[name]
                hits = stem_hits[name].intersection(tokens)
                stem_keys[name].extend(map(stem_of.__getitem__, hits))
                stem_docs[name].extend(repeat(i, len(hits)))
                if field_pairs:
                    found = field_pairs.intersection(stem_pairs(text))
                    pair_keys[name].extend(found)
                    pair_docs[name].extend(repeat(i, len(found)))
                if field_prefixes:
                    hits = prefix_hits[name].intersection(tokens)
                    raw_keys[name].extend(hits)
                    raw_docs[name].extend(repeat(i, len(hits)))
            for value, _surface in doc.categories:
                cats[value] = cats.get(value, 0) | 1 << i
        width = len(self.docs)
        stems = {f: _numbered_bitsets(stem_keys[f], stem_docs[f], width, names) for f in TEXT_FIELDS}
        pairs = {f: bitsets(pair_keys[f], pair_docs[f], width) for f in TEXT_FIELDS}
        raws = {f: bitsets(raw_keys[f], raw_docs[f], width) for f in TEXT_FIELDS}
        self.stems, self.pairs, self.raws, self.cats = stems, pairs, raws, cats
        # only tokens some prefix matches are indexed: enough for `_prefix_bits`' range scans
        self.vocab = {f: sorted(raws[f]) for f in TEXT_FIELDS}
        self.atoms = matcher.atoms
        self.per_field: dict[int, dict[str, int]] = {}  # atom -> bitset per field it searches (explanations)
        routes = matcher.atom_routes()
        self.people = people_bitsets(self.docs, matcher.people_keys()) if routes.people else {}
        self.values = self._atom_values(routes)

    def _atom_values(self, routes: AtomRoutes) -> list[int]:
        """Each atom's bitset of papers (the union over its fields). Atoms a single indexed key decides
        are reached from the keys this batch holds, so an atom whose words are absent costs nothing."""
        values = [0] * len(self.atoms)
        for name in TEXT_FIELDS:
            _spread(values, routes.stems[name], self.stems[name])
            _spread(values, routes.pairs[name], self.pairs[name])
        for index in routes.others:
            total = 0
            for bits in self.fields_of(index).values():
                total |= bits
            values[index] = total
        return values

    def fields_of(self, index: int) -> dict[str, int]:
        """Atom `index`'s bitset per field it searches (computed on first use: explanations)."""
        found = self.per_field.get(index)
        if found is None:
            found = self.per_field[index] = self.atom_bits(self.atoms[index])
        return found

    def atom_bits(self, atom: Atom) -> dict[str, int]:
        if isinstance(atom, Person):
            total = 0
            for key in atom.keys:
                total |= self.people.get(key, 0)
            return {PEOPLE: total}
        if isinstance(atom, Category):
            if atom.archive:
                head = atom.value + "."
                total = 0
                for value, bits in self.cats.items():
                    if value == atom.value or value.startswith(head):
                        total |= bits
                return {CATEGORIES: total}
            return {CATEGORIES: self.cats.get(atom.value, 0)}
        out: dict[str, int] = {}
        for name in atom.fields:
            if isinstance(atom, Term):
                out[name] = self.stems[name].get(atom.stem, 0)
            elif isinstance(atom, Phrase):
                out[name] = self._phrase_bits(atom, name)
            else:
                assert isinstance(atom, Prefix)
                out[name] = self._prefix_bits(atom.prefix, name)
        return out

    def _phrase_bits(self, atom: Phrase, name: str) -> int:
        if atom.slop:
            # "a b"~N: papers holding every word, then positions checked on those only
            candidates = -1
            for key in atom.stems:
                candidates &= self.stems[name].get(key, 0)
            return sum(
                1 << i for i in _bits(candidates) if near_runs(self.docs[i].fields[name], atom.stems, atom.slop, 1)
            ) if candidates > 0 else 0
        bits = self._consecutive_bits(atom, name)
        if atom.joined is not None:
            bits |= self.stems[name].get(atom.joined, 0)  # the closed-up spelling ("finetuned")
        return bits

    def _consecutive_bits(self, atom: Phrase, name: str) -> int:
        if len(atom.stems) == 1:
            return self.stems[name].get(atom.stems[0], 0)
        # papers where each consecutive pair of the phrase occurs: exact for two words
        index = self.pairs[name]
        candidates = -1
        for pair in map(pair_key, atom.stems, atom.stems[1:]):
            candidates &= index.get(pair, 0)
            if not candidates:
                return 0
        if len(atom.stems) == 2:
            return candidates
        # longer phrases: positions checked only for the candidates
        result = 0
        for i in _bits(candidates):
            if phrase_in_sequence(self.docs[i].fields[name], atom.stems):
                result |= 1 << i
        return result

    def _prefix_bits(self, prefix: str, name: str) -> int:
        vocab, index = self.vocab[name], self.raws[name]
        total = 0
        position = bisect_left(vocab, prefix)
        while position < len(vocab) and vocab[position].startswith(prefix):
            total |= index[vocab[position]]
            position += 1
        return total

    def present(self, atom: Atom, field_name: str, doc_index: int) -> bool:
        bits = self.fields_of(self.atom_index[atom_key(atom)]).get(field_name, 0)
        return bool(bits >> doc_index & 1)


