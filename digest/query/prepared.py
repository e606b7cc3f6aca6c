"""A batch of papers indexed once for ANY query, for many short-lived matchers (web search).

`digest.query.batch.Batch` indexes only what one matcher's clauses read, which is right for the
match cycle (one matcher, many batches). Web search is the opposite: one batch (the newest
candidates), a new one-query matcher per request. `PreparedBatch` indexes every stem, every
consecutive stem pair and every raw token of each field once; `batch_for(matcher)` then resolves
that matcher's clauses by dictionary lookups, giving a `Batch` with the same bitsets (and so the
same matches and explanations) as a fresh `Batch(matcher, docs)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any

from digest.query.analysis import TEXT_FIELDS, AnalyzedDoc, PaperDoc, analyze_doc, stem_all, stem_cache, stem_pairs
from digest.query.ast import Atom, atom_key
from digest.query.batch import Batch, bitsets, people_bitsets

ATOM_MEMO_SIZE = 20_000  # clauses remembered per prepared batch (a few MB at most)

if TYPE_CHECKING:
    from digest.query.compiled import Matcher


class PreparedBatch:
    """Analysed papers with full per-field indexes (stem, stem pair, raw token → bitset of papers)."""

    def __init__(self, docs: Sequence[PaperDoc | AnalyzedDoc]) -> None:
        self.docs = [d if isinstance(d, AnalyzedDoc) else analyze_doc(d) for d in docs]
        postings: dict[str, tuple[list[Any], list[int], list[Any], list[int], list[str], list[int]]] = {
            name: ([], [], [], [], [], []) for name in TEXT_FIELDS
        }
        cats: dict[str, int] = {}
        for i, doc in enumerate(self.docs):
            for name in TEXT_FIELDS:
                stem_keys, stem_docs, pair_keys, pair_docs, raw_keys, raw_docs = postings[name]
                text = doc.fields[name]
                tokens = text.tokens()
                stem_all(tokens)
                stems = set(map(stem_cache.__getitem__, tokens))
                stem_keys.extend(stems)
                stem_docs.extend(repeat(i, len(stems)))
                pairs = stem_pairs(text)
                pair_keys.extend(pairs)
                pair_docs.extend(repeat(i, len(pairs)))
                raw_keys.extend(tokens)
                raw_docs.extend(repeat(i, len(tokens)))
            for value, _surface in doc.categories:
                cats[value] = cats.get(value, 0) | 1 << i
        width = len(self.docs)
        self.stems = {f: bitsets(p[0], p[1], width) for f, p in postings.items()}
        self.pairs = {f: bitsets(p[2], p[3], width) for f, p in postings.items()}
        self.raws = {f: bitsets(p[4], p[5], width) for f, p in postings.items()}
        self.cats = cats
        self.vocab = {f: sorted(self.raws[f]) for f in TEXT_FIELDS}
        self._atom_bits: dict[tuple[object, ...], dict[str, int]] = {}
        self._people: dict[str, int] | None = None  # indexed on the first `author:` query

    def __len__(self) -> int:
        return len(self.docs)

    def batch_for(self, matcher: Matcher) -> Batch:
        """This matcher's view: the bitsets of its clauses, looked up instead of re-indexed."""
        batch = Batch.__new__(Batch)
        batch.docs = self.docs
        batch.atom_index = matcher.atom_index
        batch.stems, batch.pairs, batch.raws, batch.cats, batch.vocab = (
            self.stems, self.pairs, self.raws, self.cats, self.vocab,
        )
        batch.atoms = matcher.atoms
        if matcher.atom_routes().people and self._people is None:
            self._people = people_bitsets(self.docs)
        batch.people = self._people or {}
        batch.per_field = {index: self._bits_of(batch, atom) for index, atom in enumerate(matcher.atoms)}
        batch.values = [_union(bits) for bits in batch.per_field.values()]
        return batch

    def _bits_of(self, batch: Batch, atom: Atom) -> dict[str, int]:
        """An atom's bitsets, remembered: distinct queries share clauses (`llm` is a three-word phrase
        whose positions are checked on every candidate), and the papers do not change under us."""
        key = atom_key(atom)
        found = self._atom_bits.get(key)
        if found is None:
            if len(self._atom_bits) >= ATOM_MEMO_SIZE:
                self._atom_bits.clear()
            found = self._atom_bits[key] = batch.atom_bits(atom)
        return found


def _union(bits: dict[str, int]) -> int:
    total = 0
    for value in bits.values():
        total |= value
    return total
