"""Bitsets of matching papers → arrays of (subscription, paper) pairs, without a Python object per pair.

Used by `digest.query.compiled.Matcher.match_pairs`. Each distinct matching expression's bitset (a
row of the bit matrix of digest.query.program) is turned into paper indexes once, in chunks: numpy
finds the non-zero bytes and unpacks only those; subscriptions sharing an expression share those indexes,
and every subscription's run of papers is gathered with one vectorised index computation. Memory
is the pairs (12 bytes each) plus one chunk of bits, whatever the number of matches.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_CHUNK_BYTES = 8 << 20  # packed bytes per chunk: bounds the temporary memory


def set_bits(matrix: npt.NDArray[np.uint64], rows: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64],
                                                                                  npt.NDArray[np.int32]]:
    """For bit-matrix rows `rows` (64-bit words, bit i = paper i): (index into `rows`, bit) of every
    set bit, in row order then bit order."""
    if not len(rows):
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    row_bits = matrix.shape[1] * 64
    rows_per_chunk = max(1, _CHUNK_BYTES // (matrix.shape[1] * 8))
    row_parts, bit_parts = [], []
    for start in range(0, len(rows), rows_per_chunk):
        # little-endian words: byte k of a row holds bits 8k..8k+7, least significant first
        packed = matrix[rows[start : start + rows_per_chunk]].view(np.uint8).ravel()
        # only the non-zero bytes are unpacked: the work follows the matches, not rows × papers
        where = np.flatnonzero(packed)
        set_in = np.flatnonzero(np.unpackbits(packed[where], bitorder="little"))
        position = where[set_in >> 3] * 8 + (set_in & 7)
        row_parts.append(position // row_bits + start)
        bit_parts.append((position % row_bits).astype(np.int32))
    return np.concatenate(row_parts), np.concatenate(bit_parts)


def expand(
    owner_ids: npt.NDArray[np.int64], owner_rows: npt.NDArray[np.int64], rows: npt.NDArray[np.int64],
    bits: npt.NDArray[np.int32], n_rows: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """Pairs (owner id, bit) for owners pointing at rows of `set_bits`' output (rows sorted)."""
    counts = np.bincount(rows, minlength=n_rows)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    per_owner = counts[owner_rows]
    total = int(per_owner.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    # index of each pair in `bits`: the owner's row start plus its rank within the owner's run
    run_starts = np.cumsum(per_owner) - per_owner
    index = np.arange(total, dtype=np.int64) + np.repeat(starts[owner_rows] - run_starts, per_owner)
    return np.repeat(owner_ids, per_owner), bits[index]
