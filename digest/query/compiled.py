"""Many subscriptions against a batch of papers at once, by set algebra on bitsets.

Called by the match cycle (digest.services.matching) and the benchmark. `compile_matcher` dedupes
every clause and sub-expression across all subscriptions (hash-consing) into one straight-line
program. `Matcher.match` analyses each paper once, builds an inverted index term → bitset of
papers (a Python int, bit i = paper i), computes each distinct clause once (phrase positions are
checked only on papers holding all the phrase's terms), runs the program (AND = &, OR = |,
NOT = andnot) and enumerates the set bits. The cost grows with the papers' text, the distinct
clauses and the matches found — not with subscriptions × papers. Results (and explanations, built
lazily per match from the same bitsets) are identical to `digest.query.oracle.match_query`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from itertools import accumulate, repeat
from operator import add
from typing import Any

import numpy as np

from digest.query.analysis import (
    CATEGORIES,
    TEXT_FIELDS,
    AnalyzedDoc,
    PaperDoc,
    _stem_cache,
    analyze_doc,
    phrase_in_sequence,
    stem_all,
    stem_pairs,
)
from digest.query.ast import ATOM_TYPES, And, Atom, Category, Node, Not, Or, Phrase, Prefix, Query, Term, atom_key
from digest.query.explain import Explanation, build_explanation
from digest.query.pairs import expand, set_bits

ATOM, AND, OR, NOT = 0, 1, 2, 3
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


def _bitsets(keys: Sequence[Any], docs: Sequence[int], width: int) -> dict[Any, int]:
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


class _Batch:
    """One `match` call's analysed papers and per-clause, per-field bitsets (kept for explanations)."""

    def __init__(self, matcher: Matcher, docs: Sequence[PaperDoc | AnalyzedDoc]) -> None:
        self.docs = [d if isinstance(d, AnalyzedDoc) else analyze_doc(d) for d in docs]
        self.atom_index = matcher.atom_index
        # postings (key, paper) per field, gathered with C-level calls, turned into bitsets at the end
        stem_keys: dict[str, list[str]] = {f: [] for f in TEXT_FIELDS}
        stem_docs: dict[str, list[int]] = {f: [] for f in TEXT_FIELDS}
        pair_keys: dict[str, list[tuple[str, str]]] = {f: [] for f in TEXT_FIELDS}
        pair_docs: dict[str, list[int]] = {f: [] for f in TEXT_FIELDS}
        raw_keys: dict[str, list[str]] = {f: [] for f in TEXT_FIELDS}
        raw_docs: dict[str, list[int]] = {f: [] for f in TEXT_FIELDS}
        cats: dict[str, int] = {}
        # Each distinct token of the batch is classified once: its stem if some clause on a field
        # uses it, and whether some wildcard prefix on a field matches it. Per paper, only set
        # operations in C then pick the few tokens that matter.
        usage = matcher.field_usage
        active = [name for name in TEXT_FIELDS if any(usage[name])]  # fields some clause searches
        judged, stem_of, stem_hits, prefix_hits = matcher.token_classes()
        for i, doc in enumerate(self.docs):
            for name in active:
                text = doc.fields[name]
                tokens = text.tokens()
                new = tokens - judged
                if new:
                    judged |= new
                    stem_all(new)
                    for token in new:
                        stemmed = _stem_cache[token]
                        for field in active:
                            field_stems, _pairs, field_prefixes = usage[field]
                            if stemmed in field_stems:
                                stem_of[token] = stemmed
                                stem_hits[field].add(token)
                            if field_prefixes and token.startswith(field_prefixes):
                                prefix_hits[field].add(token)
                field_stems, field_pairs, field_prefixes = usage[name]
                hits = stem_hits[name] & tokens
                stem_keys[name].extend(map(stem_of.__getitem__, hits))
                stem_docs[name].extend(repeat(i, len(hits)))
                if field_pairs:
                    found = stem_pairs(text) & field_pairs
                    pair_keys[name].extend(found)
                    pair_docs[name].extend(repeat(i, len(found)))
                if field_prefixes:
                    hits = prefix_hits[name] & tokens
                    raw_keys[name].extend(hits)
                    raw_docs[name].extend(repeat(i, len(hits)))
            for value, _surface in doc.categories:
                cats[value] = cats.get(value, 0) | 1 << i
        width = len(self.docs)
        stems = {f: _bitsets(stem_keys[f], stem_docs[f], width) for f in TEXT_FIELDS}
        pairs = {f: _bitsets(pair_keys[f], pair_docs[f], width) for f in TEXT_FIELDS}
        raws = {f: _bitsets(raw_keys[f], raw_docs[f], width) for f in TEXT_FIELDS}
        self.stems, self.pairs, self.raws, self.cats = stems, pairs, raws, cats
        # only tokens some prefix matches are indexed: enough for `_prefix_bits`' range scans
        self.vocab = {f: sorted(raws[f]) for f in TEXT_FIELDS}
        # per atom: bitset per field it searches, and their union
        self.field_bits: list[dict[str, int]] = [self._atom_bits(atom) for atom in matcher.atoms]

    def _atom_bits(self, atom: Atom) -> dict[str, int]:
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
        if len(atom.stems) == 1:
            return self.stems[name].get(atom.stems[0], 0)
        # papers where each consecutive pair of the phrase occurs: exact for two words
        index = self.pairs[name]
        candidates = -1
        for pair in zip(atom.stems, atom.stems[1:], strict=False):
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
        bits = self.field_bits[self.atom_index[atom_key(atom)]].get(field_name, 0)
        return bool(bits >> doc_index & 1)


class _Subscription:
    """Per subscription and batch: what a `Match` needs to explain itself, with a cache."""

    __slots__ = ("batch", "cache", "query")

    def __init__(self, query: Query, batch: _Batch) -> None:
        self.query = query
        self.batch = batch
        self.cache: dict[int, Explanation] = {}

    def explain(self, index: int) -> Explanation:
        explanation = self.cache.get(index)
        if explanation is None:
            batch = self.batch
            explanation = self.cache[index] = build_explanation(
                self.query.root, batch.docs[index], lambda atom, name: batch.present(atom, name, index)
            )
        return explanation


class Match(tuple):
    """One subscription matching one paper: `.subscription_id`, `.doc_index`, `.explanation`.

    A tuple subclass so that creating millions of them costs no Python call; the explanation is
    built on first access (most callers read a few) and cached. Unpacks as
    (subscription_id, doc_index, explanation).
    """

    __slots__ = ()

    @property
    def subscription_id(self) -> int:
        return int(tuple.__getitem__(self, 0))

    @property
    def doc_index(self) -> int:
        return int(tuple.__getitem__(self, 1))

    @property
    def explanation(self) -> Explanation:
        context: _Subscription = tuple.__getitem__(self, 2)
        return context.explain(tuple.__getitem__(self, 1))

    def __iter__(self) -> Iterator[Any]:
        return iter((self.subscription_id, self.doc_index, self.explanation))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Match) and tuple(iter(self)) == tuple(iter(other))

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Match(subscription_id={self.subscription_id}, doc_index={self.doc_index})"


# Per text field: the stems its Term and one-word Phrase clauses look up, the consecutive stem
# pairs its longer Phrase clauses look up, and its wildcard prefixes (sorted).
FieldUsage = tuple[set[str], set[tuple[str, str]], tuple[str, ...]]
TokenClasses = tuple[set[str], dict[str, str], dict[str, set[str]], dict[str, set[str]]]


def _field_usage(atoms: Sequence[Atom]) -> dict[str, FieldUsage]:
    """What the index must hold for each field, so a batch indexes nothing no clause reads."""
    stems: dict[str, set[str]] = {name: set() for name in TEXT_FIELDS}
    pairs: dict[str, set[tuple[str, str]]] = {name: set() for name in TEXT_FIELDS}
    prefixes: dict[str, set[str]] = {name: set() for name in TEXT_FIELDS}
    for atom in atoms:
        for name in atom.fields if not isinstance(atom, Category) else ():
            if isinstance(atom, Term):
                stems[name].add(atom.stem)
            elif isinstance(atom, Phrase) and len(atom.stems) == 1:
                stems[name].add(atom.stems[0])
            elif isinstance(atom, Phrase):
                pairs[name].update(zip(atom.stems, atom.stems[1:], strict=False))
            elif isinstance(atom, Prefix):
                prefixes[name].add(atom.prefix)
    return {name: (stems[name], pairs[name], tuple(sorted(prefixes[name]))) for name in TEXT_FIELDS}


class Matcher:
    """Compiled subscriptions; `match(docs)` returns matches ordered by subscription, then paper.

    Kept between cycles by the match service: `add`/`remove` change one subscription, compiling
    only the nodes no other subscription shares (the program is append-only; nodes left unused by
    removals still run until `garbage` says a fresh compile is worth it).
    """

    def __init__(self, queries: Mapping[int, Query]) -> None:
        self.atoms: list[Atom] = []
        self.atom_index: dict[tuple[object, ...], int] = {}
        self.program: list[tuple[int, Any]] = []
        self._node_ids: dict[tuple[Any, ...], int] = {}
        self.queries: dict[int, tuple[int, Query]] = {}  # subscription id -> (root node, query)
        self._usage_atoms = -1  # number of atoms `field_usage` was computed for
        self._usage: dict[str, FieldUsage] = {}
        self._classes: TokenClasses = (set(), {}, {}, {})
        self._arrays: tuple[Any, Any] | None = None
        self._dropped = 0
        for sid, query in queries.items():
            self.add(sid, query)

    def add(self, sid: int, query: Query) -> None:
        """Compile one subscription (replacing any previous query of that id)."""
        if sid in self.queries:
            self._dropped += 1
        self.queries[sid] = (self._compile(query.root), query)
        self._arrays = None

    def remove(self, sid: int) -> None:
        if self.queries.pop(sid, None) is not None:
            self._dropped += 1
            self._arrays = None

    @property
    def garbage(self) -> float:
        """Share of compiled subscriptions since removed or replaced (their nodes may be unused)."""
        return self._dropped / max(1, self._dropped + len(self.queries))

    @property
    def subscriptions(self) -> list[tuple[int, int, Query]]:
        return [(sid, root, query) for sid, (root, query) in self.queries.items()]

    @property
    def field_usage(self) -> dict[str, FieldUsage]:
        if self._usage_atoms != len(self.atoms):
            self._usage = _field_usage(self.atoms)
            self._usage_atoms = len(self.atoms)
            self._classes = (set(), {}, {name: set() for name in TEXT_FIELDS}, {name: set() for name in TEXT_FIELDS})
        return self._usage

    def token_classes(self) -> TokenClasses:
        """Tokens already classified, kept across batches while the clauses' usage is unchanged:
        (judged tokens, token -> stem some clause uses, per field: tokens with such a stem, tokens
        some wildcard matches). Most of a day's words were seen the day before."""
        self.field_usage  # noqa: B018 -- resets the classes when atoms were added
        return self._classes

    def _intern(self, key: tuple[Any, ...], op: int, arg: Any) -> int:
        node_id = self._node_ids.get(key)
        if node_id is None:
            node_id = self._node_ids[key] = len(self.program)
            self.program.append((op, arg))
        return node_id

    def _compile(self, node: Node) -> int:
        if isinstance(node, ATOM_TYPES):
            key = atom_key(node)
            index = self.atom_index.get(key)
            if index is None:
                index = self.atom_index[key] = len(self.atoms)
                self.atoms.append(node)
            return self._intern(("a", index), ATOM, index)
        if isinstance(node, Not):
            child = self._compile(node.child)
            return self._intern(("n", child), NOT, child)
        if isinstance(node, And):
            # NOT children become "and not", so `a -b` is one & and one andnot, no complement
            positive = tuple(sorted({self._compile(c) for c in node.children if not isinstance(c, Not)}))
            negative = tuple(sorted({self._compile(c.child) for c in node.children if isinstance(c, Not)}))
            return self._intern(("&", positive, negative), AND, (positive, negative))
        assert isinstance(node, Or)
        children = tuple(sorted({self._compile(c) for c in node.children}))
        return self._intern(("|", children), OR, children)

    def _sorted_arrays(self) -> tuple[Any, Any]:
        """Live subscription ids (ascending) and their roots, as numpy arrays (cached until a change)."""
        if self._arrays is None:
            sids = np.fromiter(sorted(self.queries), np.int64, len(self.queries))
            roots = np.fromiter((self.queries[int(s)][0] for s in sids), np.int64, len(sids))
            self._arrays = (sids, roots)
        return self._arrays

    def match_pairs(self, docs: Sequence[PaperDoc | AnalyzedDoc]) -> tuple[Any, Any]:
        """(subscription ids, paper indexes) of every match as two numpy arrays, by subscription then paper."""
        return self._pairs(docs)[1:]

    def _pairs(self, docs: Sequence[PaperDoc | AnalyzedDoc]) -> tuple[_Batch | None, Any, Any]:
        if not docs or not self.queries:
            return None, np.zeros(0, np.int64), np.zeros(0, np.int32)
        batch = _Batch(self, docs)
        values = self._evaluate(batch)
        sids, roots = self._sorted_arrays()
        distinct = np.unique(roots)
        hit_roots = [int(r) for r in distinct if values[r]]
        if not hit_roots:
            return batch, np.zeros(0, np.int64), np.zeros(0, np.int32)
        rows, bits = set_bits([values[r] for r in hit_roots], len(batch.docs))
        hit = np.asarray(hit_roots, np.int64)
        position = np.searchsorted(hit, roots)
        position[position >= len(hit)] = 0
        matched = hit[position] == roots
        pair_sids, pair_docs = expand(sids[matched], position[matched], rows, bits, len(hit))
        return batch, pair_sids, pair_docs

    def _evaluate(self, batch: _Batch) -> list[int]:
        """The bitset of papers of every program node."""
        universe = (1 << len(batch.docs)) - 1
        totals = [0] * len(self.atoms)
        for index, bits in enumerate(batch.field_bits):
            total = 0
            for value in bits.values():
                total |= value
            totals[index] = total
        values: list[int] = []
        append = values.append
        for op, arg in self.program:
            if op == ATOM:
                append(totals[arg])
            elif op == AND:
                positive, negative = arg
                value = universe
                for child in positive:
                    value &= values[child]
                    if not value:
                        break
                if value:
                    for child in negative:
                        value &= ~values[child]
                append(value)
            elif op == OR:
                value = 0
                for child in arg:
                    value |= values[child]
                append(value)
            else:
                append(universe & ~values[arg])
        return values

    def match(self, docs: Sequence[PaperDoc | AnalyzedDoc]) -> list[Match]:
        """Every match as a `Match` (explanations built on access): for the preview, CLI and tests."""
        batch, sids, indexes = self._pairs(docs)
        if batch is None:
            return []
        contexts: dict[int, _Subscription] = {}
        out: list[Match] = []
        for sid, index in zip(sids.tolist(), indexes.tolist(), strict=True):
            context = contexts.get(sid)
            if context is None:
                context = contexts[sid] = _Subscription(self.queries[sid][1], batch)
            out.append(Match((sid, index, context)))
        return out


def compile_matcher(queries: Mapping[int, Query]) -> Matcher:
    """Compile `{subscription_id: Query}` once; reuse the matcher for every batch of papers."""
    return Matcher(queries)
