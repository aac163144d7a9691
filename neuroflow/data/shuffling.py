"""``Dataset.shuffle``: TensorFlow's buffer semantics and seeding, vectorized where possible.

TensorFlow fills a buffer with the first ``buffer_size`` elements, then
repeatedly emits a uniformly chosen buffer slot and refills that slot with the
next input element; once the input is exhausted the rest of the buffer comes
out in random order. With a buffer at least as large as the (finite) dataset
that is exactly a uniform random permutation, which the fast path computes in
one call; smaller buffers are emulated step by step, on indices when the input
has an index plan and on elements otherwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from neuroflow.data import plan as plans
from neuroflow.data.dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from neuroflow.data.transforms import _Unary
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import random_ops

_CHUNK = 1024
_SEED_BOUND = 2**63


def _seed_source(seed: int | None) -> np.random.Generator:
    """The generator of per-pass seeds, fixed by TF's global and op seed rules.

    Without any seed every dataset shuffles differently. With an op seed, two
    datasets built alike shuffle alike (as in TF, unlike repeated random ops);
    with only the global seed, the op seed comes from the sequence of random ops.
    """
    global_seed = random_ops.get_global_seed()
    if seed is None:
        return np.random.default_rng() if global_seed is None else random_ops.generator(None)
    if global_seed is None:
        global_seed = random_ops._DEFAULT_GLOBAL_SEED
    words = [global_seed & 0xFFFFFFFF, int(seed) & 0xFFFFFFFF]
    return np.random.Generator(np.random.Philox(np.random.SeedSequence(words)))


class ShuffleDataset(_Unary):
    def __init__(self, inner: Dataset, buffer_size: int, seed: int | None, reshuffle: bool):
        super().__init__(inner)
        size = int(buffer_size)
        if size <= 0 and size != UNKNOWN_CARDINALITY:
            raise InvalidArgumentError("buffer_size must be greater than zero or "
                                       f"UNKNOWN_CARDINALITY, received {size}.", "ShuffleDataset")
        # UNKNOWN_CARDINALITY asks for a buffer that holds the whole dataset, as in TF.
        self._buffer = None if size == UNKNOWN_CARDINALITY else size
        self._seeds = _seed_source(seed)
        self._fixed_seed = None if reshuffle else int(self._seeds.integers(_SEED_BOUND))

    def _rng(self) -> np.random.Generator:
        """A generator for one pass: fresh each pass, or the same one when not reshuffling."""
        seed = self._fixed_seed
        return np.random.default_rng(int(self._seeds.integers(_SEED_BOUND)) if seed is None
                                     else seed)

    def _plan(self) -> plans.Plan:
        rng, plan = self._rng(), self._inner._plan()
        if self._inner._cardinality() == INFINITE_CARDINALITY:
            items = ((gather, i) for gather, index in plan
                     for i in plans.as_array(index).tolist())
            return _regroup(buffer_shuffle(items, self._buffer, rng))
        gather, order = plans.materialize(plan)
        n = len(order)
        if self._buffer is None or n <= self._buffer:
            positions = rng.permutation(n)
        else:
            shuffled = buffer_shuffle(iter(range(n)), self._buffer, rng)
            positions = np.fromiter(shuffled, dtype=np.int64, count=n)
        return iter([(gather, order[positions])])

    def _elements(self) -> Iterator[Any]:
        return buffer_shuffle(self._inner._epoch(), self._buffer, self._rng())


def buffer_shuffle(items: Iterator, size: int | None, rng: np.random.Generator) -> Iterator:
    """TF's shuffle buffer over any iterator (``size=None``: the buffer holds everything)."""
    buffer = list(itertools.islice(items, size))
    draws: Iterator[int] = iter(())
    for item in items:
        slot = next(draws, None)
        if slot is None:  # draw slots in blocks: one generator call per element is slow
            draws = iter(rng.integers(0, len(buffer), _CHUNK).tolist())
            slot = next(draws)
        yield buffer[slot]
        buffer[slot] = item
    for slot in rng.permutation(len(buffer)).tolist():
        yield buffer[slot]


def _regroup(pairs: Iterable[tuple[plans.Gather, int]]) -> plans.Plan:
    """Turn a stream of ``(gather, row)`` pairs back into chunks of index arrays."""
    gather, block = None, []
    for g, row in pairs:
        if g is not gather or len(block) == _CHUNK:
            if block:
                yield gather, np.array(block, dtype=np.int64)
            gather, block = g, []
        block.append(row)
    if block:
        yield gather, np.array(block, dtype=np.int64)
