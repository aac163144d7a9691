"""Index plans: the vectorized fast path of the input pipeline.

A dataset whose elements are rows of arrays it holds (``from_tensor_slices``,
``range``, and shuffles, takes, skips, repeats, zips and caches of those) does
not have to produce its elements one by one. For one pass it describes them as
a *plan*: a stream of chunks ``(gather, index)``, where ``gather(index)``
returns the rows at ``index`` (a ``slice`` or an integer array) stacked along a
new leading axis. Shuffling permutes indices instead of elements, and
``batch`` gathers one index block per batch with a single fancy-indexing call
per component, so no Python code runs per element.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from neuroflow.data import structure

Index = slice | np.ndarray
Gather = Callable[[Index], Any]
Plan = Iterator[tuple[Gather, Index]]

# Rows are handed out one by one from blocks of this many, gathered at once.
_ROW_BLOCK = 256


def length(index: Index) -> int:
    return index.stop - index.start if isinstance(index, slice) else len(index)


def part(index: Index, start: int, stop: int) -> Index:
    """``index[start:stop]``, keeping a slice a slice (so gathering it makes views, not copies)."""
    if isinstance(index, slice):
        return slice(index.start + start, min(index.start + stop, index.stop))
    return index[start:stop]


def as_array(index: Index) -> np.ndarray:
    return np.arange(index.start, index.stop) if isinstance(index, slice) else index


def rows_of(arrays: Any) -> Gather:
    """The gather function over the rows of a structure of arrays."""
    leaves = structure.flatten(arrays)
    return lambda index: structure.pack(arrays, [leaf[index] for leaf in leaves])


def take(plan: Plan, count: int) -> Plan:
    for gather, index in plan:
        if count <= 0:
            return
        n = length(index)
        yield gather, (index if n <= count else part(index, 0, count))
        count -= n


def skip(plan: Plan, count: int) -> Plan:
    for gather, index in plan:
        n = length(index)
        if count < n:
            yield gather, (index if count <= 0 else part(index, count, n))
        count -= n


def rows(plan: Plan) -> Iterator[Any]:
    """The plan's elements one at a time (the per-element path, e.g. before ``map``)."""
    for gather, index in plan:
        n = length(index)
        for start in range(0, n, _ROW_BLOCK):
            block = gather(part(index, start, start + _ROW_BLOCK))
            leaves = structure.flatten(block)
            for i in range(min(_ROW_BLOCK, n - start)):
                # `[i, ...]` keeps rank-0 rows as arrays (plain `[i]` would give NumPy scalars).
                yield structure.pack(block, [leaf[i, ...] for leaf in leaves])


def blocks(plan: Plan, size: int, drop_remainder: bool) -> Iterator[Any]:
    """Batches of ``size`` consecutive elements; a batch may span chunks (as across epochs)."""
    pending: list[tuple[Gather, Index]] = []
    pending_len = 0
    for gather, index in plan:
        n, start = length(index), 0
        if pending:
            start = min(size - pending_len, n)
            pending.append((gather, part(index, 0, start)))
            pending_len += start
            if pending_len < size:
                continue
            yield _combine(pending)
            pending, pending_len = [], 0
        while n - start >= size:
            yield gather(part(index, start, start + size))
            start += size
        if start < n:
            pending, pending_len = [(gather, part(index, start, n))], n - start
    if pending and not drop_remainder:
        yield _combine(pending)


def _combine(pieces: list[tuple[Gather, Index]]) -> Any:
    """Gather several index pieces as one block."""
    gather = pieces[0][0]
    if all(g is gather for g, _ in pieces):
        if len(pieces) == 1:
            return gather(pieces[0][1])
        return gather(np.concatenate([as_array(index) for _, index in pieces]))
    parts = [gather(index) for gather, index in pieces]
    flat = [structure.flatten(p) for p in parts]
    leaves = [np.concatenate(column) for column in zip(*flat)]
    return structure.pack(parts[0], leaves)


def materialize(plan: Plan, limit: int | None = None) -> tuple[Gather, np.ndarray]:
    """One gather function and one index array for a finite plan (at most ``limit`` rows)."""
    pieces = list(plan if limit is None else take(plan, limit))
    if not pieces:
        return (lambda index: None), np.zeros(0, dtype=np.int64)
    gather = pieces[0][0]
    if all(g is gather for g, _ in pieces):
        return gather, np.concatenate([as_array(index) for _, index in pieces])
    # Pieces from different sources (e.g. a repeat of a zip of shuffled datasets): copy the rows.
    data = _combine(pieces)
    return rows_of(data), np.arange(sum(length(index) for _, index in pieces))
