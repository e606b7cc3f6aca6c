"""Near misses: papers of a batch that satisfied every top-level clause of a query but one.

Called by `Matcher.match_pairs_near` (digest.query.compiled) for the few narrow queries the match
cycle names, on the bit matrix it has just evaluated for the batch: no re-indexing, no per-paper
Python work. A query whose root is an AND of n ≥ 2 clauses (a NOT clause fails when its child is
present) has a near miss where exactly one clause fails: counted with two running bitsets ("failed
at least once", "failed at least twice"), word by word. A one-clause query or an OR at the root has
no "all but one" to speak of and is skipped. `node_text` words the failed clause from the program.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from digest.query.ast import Atom, format_atom
from digest.query.program import AND, ATOM, NOT, OR

NearMiss = tuple[int, int]  # (paper index in the batch, the failed clause's node)


def _universe(width: int, words: int) -> npt.NDArray[np.uint64]:
    return np.frombuffer(((1 << width) - 1).to_bytes(words * 8, "little"), np.uint64)


def _last_bits(row: npt.NDArray[np.uint64], limit: int) -> list[int]:
    """Indexes of the highest `limit` set bits (the batch's newest papers first)."""
    found: list[int] = []
    for word in np.flatnonzero(row)[::-1].tolist():
        value = int(row[word])
        while value and len(found) < limit:
            bit = value.bit_length() - 1
            found.append(word * 64 + bit)
            value ^= 1 << bit
        if len(found) >= limit:
            break
    return found


def _root_misses(
    program: Sequence[tuple[int, Any]], matrix: npt.NDArray[np.uint64], universe: npt.NDArray[np.uint64],
    root: int, limit: int,
) -> list[NearMiss]:
    op, arg = program[root]
    if op != AND or len(arg[0]) + len(arg[1]) < 2:
        return []
    clauses = [*arg[0], *arg[1]]
    fails = np.concatenate([universe & ~matrix[list(arg[0])], matrix[list(arg[1])]]) if arg[1] else (
        universe & ~matrix[list(arg[0])])
    once = np.zeros_like(universe)
    twice = np.zeros_like(universe)
    for row in fails:
        twice |= once & row
        once |= row
    exact = once & ~twice
    if not exact.any():
        return []
    misses = []
    for index in _last_bits(exact, limit):
        word, bit = divmod(index, 64)
        failed = int(np.flatnonzero((fails[:, word] >> np.uint64(bit)) & np.uint64(1))[0])
        misses.append((index, clauses[failed]))
    return misses


def near_misses(
    program: Sequence[tuple[int, Any]], matrix: npt.NDArray[np.uint64], width: int, roots: Mapping[int, int],
    limit: int = 3,
) -> dict[int, list[NearMiss]]:
    """subscription id -> up to `limit` (paper index, failed clause node), newest paper first."""
    if not roots or width == 0:
        return {}
    universe = _universe(width, matrix.shape[1])
    by_root: dict[int, list[NearMiss]] = {}
    out: dict[int, list[NearMiss]] = {}
    for sid, root in roots.items():
        if root not in by_root:  # many readers save the same query: computed once
            by_root[root] = _root_misses(program, matrix, universe, root, limit)
        if by_root[root]:
            out[sid] = by_root[root]
    return out


def node_text(program: Sequence[tuple[int, Any]], atoms: Sequence[Atom], node: int) -> str:
    """A compiled clause as query text (`-x` for a NOT clause's child, which was present)."""
    op, arg = program[node]
    if op == ATOM:
        return format_atom(atoms[arg])
    if op == NOT:
        return f"-{node_text(program, atoms, arg)}"
    if op == OR:
        return "(" + " OR ".join(node_text(program, atoms, child) for child in arg) + ")"
    words = [node_text(program, atoms, c) for c in arg[0]] + [f"-{node_text(program, atoms, c)}" for c in arg[1]]
    return "(" + " ".join(words) + ")"
