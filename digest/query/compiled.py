"""Many subscriptions against a batch of papers at once, by set algebra on bitsets.

Called by the match cycle (digest.services.matching) and the benchmark. `compile_matcher` dedupes
every clause and sub-expression across all subscriptions (hash-consing) into one straight-line
program, kept between cycles and changed one subscription at a time (`add`/`remove`).
`Matcher.match_pairs` indexes the batch (digest.query.batch: term → bitset of papers, a Python
int, bit i = paper i), computes each distinct clause once (phrase positions are checked only on
papers holding all the phrase's terms), runs the program for all nodes at once, level by level,
on a numpy bit matrix (digest.query.program: AND, OR, and-not, NOT) and enumerates the set bits
as arrays of (subscription, paper) (digest.query.pairs), with no Python object per match;
`Matcher.match` wraps them in `Match` objects for small callers. The cost grows with the papers'
text, the distinct clauses and the matches found — not with subscriptions × papers. Results (and
explanations, built lazily per match from the batch's bitsets) are identical to
`digest.query.oracle.match_query`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from digest.query.analysis import TEXT_FIELDS, AnalyzedDoc, PaperDoc
from digest.query.ast import ATOM_TYPES, And, Atom, Node, Not, Or, Query, atom_key
from digest.query.batch import AtomRoutes, Batch, FieldUsage, TokenClasses, atom_routes, field_usage_of
from digest.query.explain import Explanation, build_explanation
from digest.query.pairs import expand, set_bits
from digest.query.prepared import PreparedBatch
from digest.query.program import AND, ATOM, NOT, OR, LevelPlan

__all__ = ["AND", "ATOM", "NOT", "OR", "Match", "Matcher", "compile_matcher"]
_ANY_CHUNK = 1 << 16  # matrix rows tested for any match at once: bounds the temporary copy


class _Subscription:
    """Per subscription and batch: what a `Match` needs to explain itself, with a cache."""

    __slots__ = ("batch", "cache", "query")

    def __init__(self, query: Query, batch: Batch) -> None:
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
        # subscription id -> (root node, query; None when not kept: only `match` explanations need it)
        self.queries: dict[int, tuple[int, Query | None]] = {}
        self._usage_atoms = -1  # number of atoms `field_usage` was computed for
        self._usage: dict[str, FieldUsage] = {}
        self._classes: TokenClasses = (set(), {}, {}, {}, [], {})
        self._arrays: tuple[Any, Any, Any] | None = None
        self._plan: LevelPlan | None = None
        self._routes: tuple[int, AtomRoutes] | None = None
        self._people_keys: tuple[int, frozenset[str]] | None = None
        self._dropped = 0
        for sid, query in queries.items():
            self.add(sid, query)

    def add(self, sid: int, query: Query, *, keep_query: bool = True) -> int:
        """Compile one subscription (replacing any previous query of that id); returns its root node.

        `keep_query=False` keeps only the compiled form (a million parsed queries weigh a gigabyte):
        `match_pairs` works, `match` (which explains) does not."""
        root = self._compile(query.root)
        self.add_root(sid, root, query if keep_query else None)
        return root

    def add_root(self, sid: int, root: int, query: Query | None = None) -> None:
        """Point a subscription at an already compiled node (another subscription's same query)."""
        if sid in self.queries:
            self._dropped += 1
        self.queries[sid] = (root, query)
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
    def subscriptions(self) -> list[tuple[int, int, Query | None]]:
        return [(sid, root, query) for sid, (root, query) in self.queries.items()]

    @property
    def field_usage(self) -> dict[str, FieldUsage]:
        if self._usage_atoms != len(self.atoms):
            self._usage = field_usage_of(self.atoms)
            self._usage_atoms = len(self.atoms)
            self._classes = (set(), {}, {name: set() for name in TEXT_FIELDS}, {name: set() for name in TEXT_FIELDS},
                             [], {})
        return self._usage

    def people_keys(self) -> frozenset[str]:
        """Every identity key some `author:` clause accepts (what a batch indexes of its authors)."""
        routes = self.atom_routes()
        if self._people_keys is None or self._people_keys[0] != len(self.atoms):
            keys = frozenset(key for index in routes.people for key in self.atoms[index].keys)  # type: ignore[union-attr]
            self._people_keys = (len(self.atoms), keys)
        return self._people_keys[1]

    def atom_routes(self) -> AtomRoutes:
        """`digest.query.batch.atom_routes` of the current atoms (rebuilt when atoms were added)."""
        if self._routes is None or self._routes[0] != len(self.atoms):
            self._routes = (len(self.atoms), atom_routes(self.atoms))
        return self._routes[1]

    def token_classes(self) -> TokenClasses:
        """Tokens already classified, kept across batches while the clauses' usage is unchanged:
        (judged tokens, token -> number of a stem some clause uses, per field: tokens with such a
        stem, per field: tokens some wildcard matches, the stem of each number, the number of each
        stem). Most of a day's words were seen the day before."""
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

    def _sorted_arrays(self) -> tuple[Any, Any, Any]:
        """Live subscription ids (ascending), their roots, and the distinct roots, as numpy arrays
        (cached until a change)."""
        if self._arrays is None:
            sids = np.fromiter(sorted(self.queries), np.int64, len(self.queries))
            roots = np.fromiter((self.queries[int(s)][0] for s in sids), np.int64, len(sids))
            self._arrays = (sids, roots, np.unique(roots))
        return self._arrays

    def _level_plan(self) -> LevelPlan:
        if self._plan is None or self._plan.size != len(self.program):
            self._plan = LevelPlan(self.program)
        return self._plan

    def match_pairs(self, docs: Sequence[PaperDoc | AnalyzedDoc]) -> tuple[Any, Any]:
        """(subscription ids, paper indexes) of every match as two numpy arrays, by subscription then paper."""
        return self._pairs(docs)[1:]

    def _pairs(self, docs: Sequence[PaperDoc | AnalyzedDoc] | PreparedBatch) -> tuple[Batch | None, Any, Any]:
        if not len(docs) or not self.queries:
            return None, np.zeros(0, np.int64), np.zeros(0, np.int32)
        # a batch indexed once for any query (web search) is looked up, not re-indexed
        batch = docs.batch_for(self) if isinstance(docs, PreparedBatch) else Batch(self, docs)
        matrix = self._level_plan().evaluate(batch.values, len(batch.docs))
        sids, roots, distinct = self._sorted_arrays()
        hit = np.concatenate([
            part[matrix[part].any(axis=1)] for part in np.array_split(distinct, len(distinct) // _ANY_CHUNK + 1)
        ])
        if not len(hit):
            return batch, np.zeros(0, np.int64), np.zeros(0, np.int32)
        rows, bits = set_bits(matrix, hit)
        position = np.searchsorted(hit, roots)
        position[position >= len(hit)] = 0
        matched = hit[position] == roots
        pair_sids, pair_docs = expand(sids[matched], position[matched], rows, bits, len(hit))
        return batch, pair_sids, pair_docs

    def match(self, docs: Sequence[PaperDoc | AnalyzedDoc] | PreparedBatch) -> list[Match]:
        """Every match as a `Match` (explanations built on access): for the preview, CLI and tests."""
        batch, sids, indexes = self._pairs(docs)
        if batch is None:
            return []
        contexts: dict[int, _Subscription] = {}
        out: list[Match] = []
        for sid, index in zip(sids.tolist(), indexes.tolist(), strict=True):
            context = contexts.get(sid)
            if context is None:
                query = self.queries[sid][1]
                assert query is not None, "match() needs the queries kept (keep_query=True)"
                context = contexts[sid] = _Subscription(query, batch)
            out.append(Match((sid, index, context)))
        return out


def compile_matcher(queries: Mapping[int, Query]) -> Matcher:
    """Compile `{subscription_id: Query}` once; reuse the matcher for every batch of papers."""
    return Matcher(queries)
