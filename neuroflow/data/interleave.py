"""``Dataset.interleave``: map each element to a dataset and take turns between them.

The order is TensorFlow's: ``cycle_length`` slots each hold an open dataset,
visited in turn, ``block_length`` elements at a time. A slot whose dataset is
exhausted is refilled from the input when the cycle next reaches it, so
``cycle_length=1`` is ``flat_map``.

>>> import neuroflow as tf
>>> ds = tf.data.Dataset.range(1, 4).interleave(
...     lambda x: tf.data.Dataset.from_tensors(x).repeat(3), cycle_length=2, block_length=2)
>>> [int(v) for v in ds]
[1, 1, 2, 2, 1, 2, 3, 3, 3]
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from neuroflow.data import structure
from neuroflow.data.dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from neuroflow.data.structure import TensorSpec
from neuroflow.errors import InvalidArgumentError
from neuroflow.tensor import TensorShape

_END = object()  # what next() returns for an exhausted iterator: no element is this object


def schedulable_cpus() -> int:
    """The CPU cores this process may run on, as TensorFlow counts them (``port::MaxParallelism``).

    TensorFlow reads the scheduler's affinity mask, so ``taskset`` and container
    CPU sets lower it; where the mask cannot be read it assumes 4.
    """
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux: no affinity mask to read
        return os.cpu_count() or 4


def default_cycle_length(num_parallel_calls: int | None) -> int:
    """TensorFlow's ``cycle_length`` when it is None or AUTOTUNE (it depends on the machine).

    Without ``num_parallel_calls``: one slot per schedulable core. With a fixed
    ``num_parallel_calls``: that many, at most one per core. With AUTOTUNE: a third
    of the cores, rounded up, since TF then prefetches two future datasets per slot.
    """
    cores = schedulable_cpus()
    if num_parallel_calls is None:
        return cores
    if num_parallel_calls == AUTOTUNE:
        return -(-cores // 3)
    return min(num_parallel_calls, cores)


class InterleaveDataset(Dataset):
    """The elements of ``map_func(x)`` for each input ``x``, taken in turns (see module doc).

    ``num_parallel_calls`` is None unless the caller gave it: TF then runs its
    parallel kernel, whose default cycle length and cardinality differ (the
    order of the elements does not).
    """

    def __init__(self, inner: Dataset, fn: Callable, cycle_length: int, block_length: int,
                 num_parallel_calls: int | None):
        self._inner = inner
        self._fn = fn
        self._parallel = num_parallel_calls is not None
        if self._parallel and num_parallel_calls <= 0 and num_parallel_calls != AUTOTUNE:
            raise InvalidArgumentError("num_parallel_calls must be greater than zero, or "
                                       f"tf.data.AUTOTUNE; received {num_parallel_calls}.",
                                       "ParallelInterleaveDatasetV4")
        if cycle_length <= 0 and cycle_length != AUTOTUNE:
            raise InvalidArgumentError("cycle_length must be greater than zero (or None or "
                                       f"tf.data.AUTOTUNE for the default); received "
                                       f"{cycle_length}.", _op_name(self._parallel))
        if block_length <= 0:
            raise InvalidArgumentError("block_length must be greater than zero; received "
                                       f"{block_length}.", _op_name(self._parallel))
        given = cycle_length != AUTOTUNE
        self._cycle = cycle_length if given else default_cycle_length(num_parallel_calls)
        self._block = block_length
        # TF checks a cycle length it derived only when an iterator starts, a given one here.
        self._too_parallel = None
        if self._parallel and num_parallel_calls != AUTOTUNE and num_parallel_calls > self._cycle:
            self._too_parallel = InvalidArgumentError(
                "If `cycle_length` is set to a fixed value, `num_parallel_calls` must be either "
                "`tf.data.AUTOTUNE` or a value less than or equal to `cycle_length`. However, "
                f"`num_parallel_calls` is {num_parallel_calls} and `cycle_length` is "
                f"{self._cycle}. Lower num_parallel_calls or raise cycle_length.",
                "ParallelInterleaveDatasetV4")
            if given:
                raise self._too_parallel

    def _cardinality(self) -> int:
        if self._parallel and self._inner._cardinality() == INFINITE_CARDINALITY:
            return INFINITE_CARDINALITY  # only TF's parallel kernel passes this on
        return UNKNOWN_CARDINALITY

    def _dataset_for(self, element: Any) -> Dataset:
        tensors = structure.to_tensors(element)
        result = self._fn(*tensors) if type(tensors) is tuple else self._fn(tensors)
        if not isinstance(result, Dataset):
            raise TypeError("The `map_func` argument must return a `Dataset` object. Got "
                            f"{type(result).__name__!r}. interleave chains the datasets the "
                            f"function returns; to transform elements use map, or wrap the "
                            f"result, e.g. lambda x: tf.data.Dataset.from_tensors(x).")
        return result

    def _elements(self) -> Iterator[Any]:
        if self._too_parallel is not None:
            raise self._too_parallel
        inputs = self._inner._epoch()
        # Slots are created as the cycle first reaches them, so a huge cycle_length over a
        # short input costs nothing; None marks a slot whose dataset is exhausted.
        slots: list[Iterator[Any] | None] = []
        index = block = 0
        open_slots = 0
        ended = False
        while True:
            current = slots[index] if index < len(slots) else None
            if current is not None:
                element = next(current, _END)
                if element is not _END:
                    block += 1
                    if block == self._block:
                        index, block = (index + 1) % self._cycle, 0
                    yield element
                    continue
                slots[index] = None
                open_slots -= 1
                index, block = (index + 1) % self._cycle, 0
            elif not ended:
                value = next(inputs, _END)
                if value is _END:
                    ended = True
                    continue
                iterator = self._dataset_for(value)._epoch()
                if index == len(slots):
                    slots.append(iterator)
                else:
                    slots[index] = iterator
                open_slots += 1
            elif open_slots == 0:
                return
            else:
                # After the input ends, empty slots are only passed over: jump to the next
                # open one (TF steps through each; the order is the same).
                order = itertools.chain(range(index + 1, len(slots)), range(index + 1))
                index, block = next(i for i in order if slots[i] is not None), 0

    def _compute_spec(self) -> Any:
        """The spec of the datasets ``map_func`` returns for the first two input elements.

        TF traces the function once with symbolic inputs, so a size computed from
        an element's values (``Dataset.from_tensors(tf.range(x))``) is unknown.
        Running it on real elements instead, a dimension is reported as ``None``
        where the two datasets differ in it, or where it equals a dimension of the
        input element that the input's spec leaves unknown. So ``map_func`` runs
        on up to two extra elements when the spec is first read.
        """
        inner_spec = self._inner.element_spec
        samples = list(itertools.islice(self._inner._epoch(), 2))
        if not samples:  # an empty input: a stand-in element of the declared shapes
            samples = [structure.map_leaves(_stand_in, inner_spec)]
        specs = [self._dataset_for(sample).element_spec for sample in samples]
        unknown = {size for sample in samples
                   for array, spec in zip(structure.flatten(sample), structure.flatten(inner_spec))
                   for size, dim in zip(array.shape, _dims(spec, array.ndim)) if dim is None}
        first = structure.flatten(specs[0])
        for other in specs[1:]:
            if (structure.map_leaves(lambda s: None, other)
                    != structure.map_leaves(lambda s: None, specs[0])
                    or [s.dtype for s in structure.flatten(other)] != [s.dtype for s in first]):
                raise TypeError("interleave: `map_func` returned datasets of different element "
                                f"types for different elements: {specs[0]} and {other}. It must "
                                "return datasets of one structure and dtype; cast with .map(), "
                                "e.g. .map(lambda v: tf.cast(v, tf.float32)).")
            first = [_common(a, b) for a, b in zip(first, structure.flatten(other))]
        return structure.pack(specs[0], [_relaxed(s, unknown) for s in first])


def _op_name(parallel: bool) -> str:
    return "ParallelInterleaveDatasetV4" if parallel else "InterleaveDataset"


def _stand_in(spec: TensorSpec) -> np.ndarray:
    dims = [] if spec.shape.rank is None else [1 if d is None else d for d in spec.shape]
    return np.zeros(dims, dtype=spec.dtype.np)


def _dims(spec: TensorSpec, ndim: int) -> list:
    """The spec's dims (all unknown when its rank is)."""
    return [None] * ndim if spec.shape.rank is None else list(spec.shape)


def _common(a: TensorSpec, b: TensorSpec) -> TensorSpec:
    """The most specific spec both fit: differing dims unknown, differing ranks an unknown rank."""
    if a.shape.rank is None or a.shape.rank != b.shape.rank:
        return TensorSpec(TensorShape(None), a.dtype)
    return TensorSpec([x if x == y else None for x, y in zip(a.shape, b.shape)], a.dtype)


def _relaxed(spec: TensorSpec, unknown: set[int]) -> TensorSpec:
    if spec.shape.rank is None:
        return spec
    return TensorSpec([None if d in unknown else d for d in spec.shape], spec.dtype)
