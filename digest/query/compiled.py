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
from itertools import repeat
from typing import Any

from digest.query.analysis import (
    CATEGORIES,
    TEXT_FIELDS,
    AnalyzedDoc,
    PaperDoc,
    analyze_doc,
    phrase_in_sequence,
    stem_pairs,
)
from digest.query.ast import ATOM_TYPES, And, Atom, Category, Node, Not, Or, Phrase, Prefix, Query, Term, atom_key
from digest.query.explain import Explanation, build_explanation

ATOM, AND, OR, NOT = 0, 1, 2, 3


def _bits(value: int) -> list[int]:
    """Indexes of the set bits, ascending (str.find skips the zeros in C)."""
    digits = format(value, "b")[::-1]
    out = []
    position = digits.find("1")
    while position >= 0:
        out.append(position)
        position = digits.find("1", position + 1)
    return out


class _Batch:
    """One `match` call's analysed papers and per-clause, per-field bitsets (kept for explanations)."""

    def __init__(self, matcher: Matcher, docs: Sequence[PaperDoc | AnalyzedDoc]) -> None:
        self.docs = [d if isinstance(d, AnalyzedDoc) else analyze_doc(d) for d in docs]
        self.atom_index = matcher.atom_index
        stems: dict[str, dict[str, int]] = {f: {} for f in TEXT_FIELDS}
        pairs: dict[str, dict[tuple[str, str], int]] = {f: {} for f in TEXT_FIELDS}
        raws: dict[str, dict[str, int]] = {f: {} for f in TEXT_FIELDS}
        cats: dict[str, int] = {}
        for i, doc in enumerate(self.docs):
            bit = 1 << i
            for name in TEXT_FIELDS:
                text = doc.fields[name]
                index = stems[name]
                # only the stems some subscription uses (set intersection runs in C)
                for token in text.stem_set() & matcher.stems_used:
                    index[token] = index.get(token, 0) | bit
                if matcher.pairs_used:
                    pair_index = pairs[name]
                    for pair in stem_pairs(text) & matcher.pairs_used:
                        pair_index[pair] = pair_index.get(pair, 0) | bit
                if matcher.needs_raw:
                    index = raws[name]
                    for token in text.tokens():
                        index[token] = index.get(token, 0) | bit
            for value, _surface in doc.categories:
                cats[value] = cats.get(value, 0) | bit
        self.stems, self.pairs, self.raws, self.cats = stems, pairs, raws, cats
        self.vocab = {f: sorted(raws[f]) for f in TEXT_FIELDS} if matcher.needs_raw else {}
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
        self.needs_raw = any(isinstance(a, Prefix) for a in self.atoms)
        self.stems_used: set[str] = {a.stem for a in self.atoms if isinstance(a, Term)} | {
            s for a in self.atoms if isinstance(a, Phrase) for s in a.stems
        }
        self.pairs_used: set[tuple[str, str]] = {
            pair for a in self.atoms if isinstance(a, Phrase) for pair in zip(a.stems, a.stems[1:], strict=False)
        }
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
        matches: list[Match] = []
        found: dict[int, list[int]] = {}
        for sid, root, query in self.subscriptions:
            value = values[root]
            if value:
                indexes = found.get(root)
                if indexes is None:
                    indexes = found[root] = _bits(value)
                matches.extend(map(Match, zip(repeat(sid), indexes, repeat(_Subscription(query, batch)))))
        return matches


def compile_matcher(queries: Mapping[int, Query]) -> Matcher:
    """Compile `{subscription_id: Query}` once; reuse the matcher for every batch of papers."""
    return Matcher(queries)
