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

import gc
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from itertools import accumulate, chain, repeat
from operator import add
from typing import Any

from digest.query.analysis import (
    CATEGORIES,
    TEXT_FIELDS,
    AnalyzedDoc,
    PaperDoc,
    _stem_cache,
    analyze_doc,
    near_runs,
    phrase_in_sequence,
    stem_all,
    stem_pairs,
)
from digest.query.ast import ATOM_TYPES, And, Atom, Category, Node, Not, Or, Phrase, Prefix, Query, Term, atom_key
from digest.query.explain import Explanation, build_explanation

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


class _Batch:
    """One `match` call's analysed papers and per-clause, per-field bitsets (kept for explanations)."""

    def __init__(self, matcher: Matcher, docs: Sequence[PaperDoc | AnalyzedDoc]) -> None:
        self.docs = [d if isinstance(d, AnalyzedDoc) else analyze_doc(d) for d in docs]
        self.atom_index = matcher.atom_index
        stems: dict[str, dict[str, int]] = {f: {} for f in TEXT_FIELDS}
        pairs: dict[str, dict[tuple[str, str], int]] = {f: {} for f in TEXT_FIELDS}
        raws: dict[str, dict[str, int]] = {f: {} for f in TEXT_FIELDS}
        cats: dict[str, int] = {}
        # Each distinct token of the batch is classified once: its stem if some clause on a field
        # uses it, and whether some wildcard prefix on a field matches it. Per paper, only set
        # operations in C then pick the few tokens that matter; Python loops run over those only.
        usage = matcher.field_usage
        active = [name for name in TEXT_FIELDS if any(usage[name])]  # fields some clause searches
        judged: set[str] = set()
        stem_of: dict[str, str] = {}  # token -> its stem, for stems some clause uses
        stem_hits: dict[str, set[str]] = {name: set() for name in TEXT_FIELDS}
        prefix_hits: dict[str, set[str]] = {name: set() for name in TEXT_FIELDS}
        for i, doc in enumerate(self.docs):
            bit = 1 << i
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
                index = stems[name]
                for token in stem_hits[name] & tokens:
                    stemmed = stem_of[token]
                    index[stemmed] = index.get(stemmed, 0) | bit
                if field_pairs:
                    pair_index = pairs[name]
                    for pair in stem_pairs(text) & field_pairs:
                        pair_index[pair] = pair_index.get(pair, 0) | bit
                if field_prefixes:
                    index = raws[name]
                    for token in prefix_hits[name] & tokens:
                        index[token] = index.get(token, 0) | bit
            for value, _surface in doc.categories:
                cats[value] = cats.get(value, 0) | bit
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


def _field_usage(atoms: Sequence[Atom]) -> dict[str, FieldUsage]:
    """What the index must hold for each field, so a batch indexes nothing no clause reads."""
    stems: dict[str, set[str]] = {name: set() for name in TEXT_FIELDS}
    pairs: dict[str, set[tuple[str, str]]] = {name: set() for name in TEXT_FIELDS}
    prefixes: dict[str, set[str]] = {name: set() for name in TEXT_FIELDS}
    for atom in atoms:
        for name in atom.fields if not isinstance(atom, Category) else ():
            if isinstance(atom, Term):
                stems[name].add(atom.stem)
            elif isinstance(atom, Phrase) and (len(atom.stems) == 1 or atom.slop):
                stems[name].update(atom.stems)
            elif isinstance(atom, Phrase):
                pairs[name].update(zip(atom.stems, atom.stems[1:], strict=False))
                if atom.joined is not None:
                    stems[name].add(atom.joined)
            elif isinstance(atom, Prefix):
                prefixes[name].add(atom.prefix)
    return {name: (stems[name], pairs[name], tuple(sorted(prefixes[name]))) for name in TEXT_FIELDS}


class Matcher:
    """Compiled subscriptions; `match(docs)` returns matches ordered by subscription, then paper."""

    def __init__(self, queries: Mapping[int, Query]) -> None:
        self.atoms: list[Atom] = []
        self.atom_index: dict[tuple[object, ...], int] = {}
        self.program: list[tuple[int, Any]] = []
        self._node_ids: dict[tuple[Any, ...], int] = {}
        self.subscriptions: list[tuple[int, int, Query]] = [
            (sid, self._compile(query.root), query) for sid, query in queries.items()
        ]
        self.field_usage = _field_usage(self.atoms)
        del self._node_ids

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

    def match(self, docs: Sequence[PaperDoc | AnalyzedDoc]) -> list[Match]:
        if not docs:
            return []
        # Millions of small acyclic objects are created here; with tens of thousands of compiled
        # queries alive, the cyclic GC would rescan them all again and again (10x slower overall).
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._match(docs)
        finally:
            if enabled:
                gc.enable()

    def _match(self, docs: Sequence[PaperDoc | AnalyzedDoc]) -> list[Match]:
        batch = _Batch(self, docs)
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
        # Collect, per matching subscription, its id, context and papers (shared by subscriptions
        # with the same root), then build every Match in one C-level pass.
        found: dict[int, list[int]] = {}
        sids: list[int] = []
        contexts: list[_Subscription] = []
        hits: list[list[int]] = []
        for sid, root, query in self.subscriptions:
            value = values[root]
            if value:
                indexes = found.get(root)
                if indexes is None:
                    indexes = found[root] = _bits(value)
                sids.append(sid)
                contexts.append(_Subscription(query, batch))
                hits.append(indexes)
        counts = list(map(len, hits))
        rows = zip(
            chain.from_iterable(map(repeat, sids, counts)),
            chain.from_iterable(hits),
            chain.from_iterable(map(repeat, contexts, counts)),
            strict=True,
        )
        return list(map(Match, rows))


def compile_matcher(queries: Mapping[int, Query]) -> Matcher:
    """Compile `{subscription_id: Query}` once; reuse the matcher for every batch of papers."""
    return Matcher(queries)
