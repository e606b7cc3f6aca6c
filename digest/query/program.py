"""The compiled program run for every node at once: a bit matrix (numpy), one vectorised step per level.

Used by digest.query.compiled (`Matcher`). Row n of the matrix is node n's set of papers (bit i =
paper i, in 64-bit words). Nodes are grouped by depth (an atom is depth 0; an operator is one
more than its deepest child) and, within a depth, by operator and number of children, so each
group is a few numpy calls whatever its size: AND combines its positive children's rows with `&`
then removes the OR of its negative ones, OR combines with `|`, NOT is the complement within the
batch. The plan depends only on the program (append-only), so it is rebuilt only after
subscriptions change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

ATOM, AND, OR, NOT = 0, 1, 2, 3
Ids = npt.NDArray[np.int64]


SMALL_FANIN = 8  # nodes with up to this many children are combined by gathers, one per child slot


@dataclass(frozen=True)
class _Fanin:
    """Nodes with their children: bucketed by number of children (an n × k array of child ids, combined
    by k row gathers, four times faster than `reduceat` on the typical two or three children), and
    the few nodes with more as flat lists for `reduceat`."""

    buckets: list[tuple[Ids, Ids]]
    wide: tuple[Ids, Ids, Ids]  # nodes, flattened children, where each node's children start

    def rows(self, op: Any, matrix: npt.NDArray[np.uint64]) -> Iterator[tuple[Ids, npt.NDArray[np.uint64]]]:
        """(nodes, their rows combined by `op` over their children) for every bucket."""
        for nodes, children in self.buckets:
            combined = matrix[children[:, 0]]
            for slot in range(1, children.shape[1]):
                op(combined, matrix[children[:, slot]], out=combined)
            yield nodes, combined
        nodes, flat, offsets = self.wide
        if len(nodes):
            yield nodes, op.reduceat(matrix[flat], offsets, axis=0)


def _fanin(nodes: Sequence[int], children: Sequence[Sequence[int]]) -> _Fanin:
    by_count: dict[int, list[int]] = {}
    for position, kids in enumerate(children):
        by_count.setdefault(min(len(kids), SMALL_FANIN + 1), []).append(position)
    buckets = [
        (_ids([nodes[i] for i in positions]), np.asarray([children[i] for i in positions], np.int64))
        for count, positions in sorted(by_count.items()) if count <= SMALL_FANIN
    ]
    wide = by_count.get(SMALL_FANIN + 1, [])
    flat, offsets = _flatten([children[i] for i in wide])
    return _Fanin(buckets, (_ids([nodes[i] for i in wide]), flat, offsets))


@dataclass(frozen=True)
class _Group:
    """Nodes of one depth and operator. AND: `fanin` over the positive children, `negatives` over the
    negative ones, `whole` the nodes without positive children (they start from every paper)."""

    op: int
    fanin: _Fanin
    negatives: _Fanin | None = None
    whole: Ids | None = None
    complement_of: tuple[Ids, Ids] | None = None  # NOT: (nodes, their child)


def _flatten(lists: Sequence[Sequence[int]]) -> tuple[Ids, Ids]:
    if not lists:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    sizes = np.fromiter(map(len, lists), np.int64, len(lists))
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    flat = np.fromiter((c for children in lists for c in children), np.int64, int(sizes.sum()))
    return flat, offsets


def _ids(values: Sequence[int]) -> Ids:
    return np.asarray(values, np.int64)


class LevelPlan:
    """The program as groups of nodes evaluable together; build once per program length."""

    def __init__(self, program: Sequence[tuple[int, Any]]) -> None:
        self.size = len(program)
        depth = [0] * len(program)
        atom_nodes, atoms = [], []
        groups: dict[tuple[int, int], list[int]] = {}
        for node, (op, arg) in enumerate(program):
            if op == ATOM:
                atom_nodes.append(node)
                atoms.append(arg)
                continue
            children = (*arg[0], *arg[1]) if op == AND else (arg,) if op == NOT else arg
            depth[node] = 1 + max((depth[c] for c in children), default=0)
            groups.setdefault((depth[node], op), []).append(node)
        self.atom_nodes, self.atoms = _ids(atom_nodes), _ids(atoms)
        self.groups = [self._group(op, nodes, program) for (_depth, op), nodes in sorted(groups.items())]

    @staticmethod
    def _group(op: int, nodes: list[int], program: Sequence[tuple[int, Any]]) -> _Group:
        empty = _fanin([], [])
        if op == NOT:
            return _Group(op, empty, complement_of=(_ids(nodes), _ids([program[n][1] for n in nodes])))
        if op == OR:
            return _Group(op, _fanin(nodes, [program[n][1] for n in nodes]))
        positive = [n for n in nodes if program[n][1][0]]
        negated = [n for n in nodes if program[n][1][1]]
        return _Group(
            op, _fanin(positive, [program[n][1][0] for n in positive]),
            negatives=_fanin(negated, [program[n][1][1] for n in negated]),
            whole=_ids([n for n in nodes if not program[n][1][0]]),
        )

    def evaluate(self, atom_values: Sequence[int], width: int) -> npt.NDArray[np.uint64]:
        """Every node's bitset over `width` papers, as rows of 64-bit words, from its atoms' bitsets."""
        words = max(1, (width + 63) // 64)
        matrix = np.zeros((self.size, words), np.uint64)
        universe = np.frombuffer(((1 << width) - 1).to_bytes(words * 8, "little"), np.uint64)
        atoms = self.atoms.tolist()
        present = [i for i, atom in enumerate(atoms) if atom_values[atom]]
        if present:
            raw = b"".join(atom_values[atoms[i]].to_bytes(words * 8, "little") for i in present)
            matrix[self.atom_nodes[present]] = np.frombuffer(raw, np.uint64).reshape(len(present), words)
        for group in self.groups:
            if group.complement_of is not None:
                nodes, children = group.complement_of
                matrix[nodes] = universe & ~matrix[children]
                continue
            combine = np.bitwise_or if group.op == OR else np.bitwise_and
            for nodes, rows in group.fanin.rows(combine, matrix):
                matrix[nodes] = rows
            if group.whole is not None:
                matrix[group.whole] = universe
            if group.negatives is not None:
                for nodes, rows in group.negatives.rows(np.bitwise_or, matrix):
                    matrix[nodes] &= ~rows
        return matrix
