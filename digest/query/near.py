"""Near misses: papers of a batch that satisfied every top-level clause of a query but one.

Called by `Matcher.match_pairs_near` (digest.query.compiled) for the narrow queries the match
cycle names, on the bit matrix it has just evaluated for the batch: no re-indexing, no per-paper
or per-query Python work. A query whose root is an AND of n ≥ 2 clauses (a NOT clause fails when its
child is present) has a near miss where exactly one clause fails: counted with two running bitsets
("failed at least once", "failed at least twice"), for all roots with n clauses at once. A one-clause
query or an OR at the root has no "all but one" to speak of and is skipped. `node_text` words the
failed clause from the program.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from digest.query.ast import Atom, format_atom
from digest.query.program import AND, ATOM, NOT, OR

NearMiss = tuple[int, int]  # (paper index in the batch, the failed clause's node)


_CHUNK = 8192  # roots evaluated at once: bounds the (roots × clauses × words) temporary


def _universe(width: int, words: int) -> npt.NDArray[np.uint64]:
    return np.frombuffer(((1 << width) - 1).to_bytes(words * 8, "little"), np.uint64)


def _highest_bit(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """Position of each (non-zero) word's highest set bit; halves of 32 bits are exact as floats."""
    high = (values >> np.uint64(32)).astype(np.float64)
    low = (values & np.uint64(0xFFFFFFFF)).astype(np.float64)
    return np.where(high > 0, 32 + np.floor(np.log2(np.maximum(high, 1))),
                    np.floor(np.log2(np.maximum(low, 1)))).astype(np.int64)


def _last_set(exact: npt.NDArray[np.uint64], limit: int) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """(row, paper index) of each row's highest `limit` set bits, newest paper first within a row: `limit`
    rounds over (rows × words), never over every set bit (a broad clause can leave hundreds per row)."""
    work = exact.copy()
    rows_found, papers_found = [], []
    for _ in range(limit):
        nonzero = work != 0
        rows = np.flatnonzero(nonzero.any(axis=1))
        if not len(rows):
            break
        words = work.shape[1] - 1 - np.argmax(nonzero[rows, ::-1], axis=1)
        bits = _highest_bit(work[rows, words])
        rows_found.append(rows)
        papers_found.append(words * 64 + bits)
        work[rows, words] &= ~(np.uint64(1) << bits.astype(np.uint64))
    rows, papers = np.concatenate(rows_found), np.concatenate(papers_found)
    order = np.lexsort((-papers, rows))
    return rows[order], papers[order]


def _group_misses(
    matrix: npt.NDArray[np.uint64], width: int, roots: list[int], clauses: list[list[int]],
    negated: list[list[bool]], limit: int, out: dict[int, list[NearMiss]],
) -> None:
    """Roots with the same number of clauses, all at once: (roots, clauses, words) bit arrays, no per-root loop."""
    universe = _universe(width, matrix.shape[1])
    children = np.array(clauses, np.int64)
    fails = matrix[children]  # (roots, clauses, words): a clause fails where its bit is 0 (1 for a NOT clause)
    positive = ~np.array(negated, bool)
    fails[positive] = universe & ~fails[positive]
    once = np.zeros((len(roots), matrix.shape[1]), np.uint64)
    twice = np.zeros_like(once)
    for j in range(children.shape[1]):
        twice |= once & fails[:, j]
        once |= fails[:, j]
    exact = once & ~twice
    hit = np.flatnonzero(exact.any(axis=1))
    if not len(hit):
        return
    rows, papers = _last_set(exact[hit], limit)
    word, bit = papers // 64, (papers % 64).astype(np.uint64)
    failed = np.argmax((fails[hit[rows], :, word] >> bit[:, None]) & np.uint64(1), axis=1)
    for row, paper, clause in zip(hit[rows].tolist(), papers.tolist(), failed.tolist(), strict=True):
        out.setdefault(roots[row], []).append((int(paper), clauses[row][clause]))


def near_misses(
    program: Sequence[tuple[int, Any]], matrix: npt.NDArray[np.uint64], width: int, roots: Mapping[int, int],
    limit: int = 3,
) -> dict[int, list[NearMiss]]:
    """subscription id -> up to `limit` (paper index, failed clause node), newest paper first."""
    if not roots or width == 0:
        return {}
    groups: dict[int, tuple[list[int], list[list[int]], list[list[bool]]]] = {}
    for root in set(roots.values()):  # many readers save the same query: computed once
        op, arg = program[root]
        if op != AND or len(arg[0]) + len(arg[1]) < 2:
            continue  # one clause or an OR at the top: no "all but one"
        group = groups.setdefault(len(arg[0]) + len(arg[1]), ([], [], []))
        group[0].append(root)
        group[1].append([*arg[0], *arg[1]])
        group[2].append([False] * len(arg[0]) + [True] * len(arg[1]))
    by_root: dict[int, list[NearMiss]] = {}
    for found, clauses, negated in groups.values():
        for start in range(0, len(found), _CHUNK):
            end = start + _CHUNK
            _group_misses(matrix, width, found[start:end], clauses[start:end], negated[start:end], limit, by_root)
    return {sid: by_root[root] for sid, root in roots.items() if root in by_root}


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
