"""Datasets combined from several: concatenate, zip and enumerate (a zip with a counter)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from neuroflow.data import plan as plans
from neuroflow.data import structure
from neuroflow.data.dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from neuroflow.data.sources import RangeDataset
from neuroflow.data.structure import TensorSpec
from neuroflow.tensor import TensorShape


class ConcatenateDataset(Dataset):
    def __init__(self, first: Dataset, second: Dataset):
        if not isinstance(second, Dataset):
            raise TypeError("concatenate expects a Dataset, received "
                            f"{type(second).__name__}. Make one first, e.g. "
                            f"ds.concatenate(Dataset.from_tensor_slices(values)).")
        self._parts = (first, second)
        self._spec = self._compute_spec()  # as TF: mismatched elements fail here, not later

    def _cardinality(self) -> int:
        a, b = (d._cardinality() for d in self._parts)
        if INFINITE_CARDINALITY in (a, b):
            return INFINITE_CARDINALITY
        return UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in (a, b) else a + b

    def _compute_spec(self) -> Any:
        a, b = (d.element_spec for d in self._parts)
        flat_a, flat_b = structure.flatten(a), structure.flatten(b)
        if len(flat_a) != len(flat_b) or any(x.dtype != y.dtype for x, y in zip(flat_a, flat_b)):
            raise TypeError(f"concatenate: the datasets have different element types: {a} "
                            f"and {b}. Both must yield the same structure and dtypes; convert "
                            f"one with .map(), e.g. .map(lambda x: tf.cast(x, tf.float32)).")
        return structure.pack(a, [_common(x, y) for x, y in zip(flat_a, flat_b)])

    def _can_plan(self) -> bool:
        return all(d._can_plan() for d in self._parts)

    def _plan(self) -> plans.Plan:
        for dataset in self._parts:
            yield from dataset._plan()

    def _elements(self) -> Iterator[Any]:
        for dataset in self._parts:
            yield from dataset._epoch()


def _common(a: TensorSpec, b: TensorSpec) -> TensorSpec:
    if a.shape.rank is None or a.shape.rank != b.shape.rank:
        return TensorSpec(TensorShape(None), a.dtype)
    return TensorSpec([x if x == y else None for x, y in zip(a.shape, b.shape)], a.dtype)


class ZipDataset(Dataset):
    """Elements of a (nested) tuple or dict of datasets side by side."""

    def __init__(self, datasets: Any):
        self._members = structure.flatten(datasets)
        if not self._members or not all(isinstance(d, Dataset) for d in self._members):
            raise TypeError("zip expects a (nested) tuple or dict of datasets, received "
                            f"{datasets!r}.")
        self._structure = datasets

    def _cardinality(self) -> int:
        sizes = [d._cardinality() for d in self._members]
        if UNKNOWN_CARDINALITY in sizes:
            return UNKNOWN_CARDINALITY
        finite = [n for n in sizes if n >= 0]
        return min(finite) if finite else INFINITE_CARDINALITY

    def _compute_spec(self) -> Any:
        return structure.pack(self._structure, [d.element_spec for d in self._members])

    def _can_plan(self) -> bool:
        # Each member's order is drawn up to the shortest length, so that must be finite.
        sizes = [d._cardinality() for d in self._members]
        bounded = any(n >= 0 for n in sizes) or INFINITE_CARDINALITY not in sizes
        return bounded and all(d._can_plan() for d in self._members)

    def _plan(self) -> plans.Plan:
        finite = [n for n in (d._cardinality() for d in self._members) if n >= 0]
        limit = min(finite) if finite else None
        members = [plans.materialize(d._plan(), limit) for d in self._members]
        length = min(len(order) for _, order in members)
        template = self._structure

        def gather(index: plans.Index) -> Any:
            return structure.pack(template, [g(order[index]) for g, order in members])

        return iter([(gather, slice(0, length))])

    def _elements(self) -> Iterator[Any]:
        iterators = [d._epoch() for d in self._members]
        for parts in zip(*iterators):
            yield structure.pack(self._structure, list(parts))


class EnumerateDataset(ZipDataset):
    def __init__(self, inner: Dataset, start: int):
        # The counter runs to the end of int64; from a negative start its length
        # (stop - start) would not fit in one, so it stops that much earlier.
        stop = np.iinfo(np.int64).max + min(start, 0)
        super().__init__((RangeDataset(start, stop), inner))
        self._inner = inner

    def _cardinality(self) -> int:
        return self._inner._cardinality()

    def _can_plan(self) -> bool:
        return self._inner._can_plan() and self._inner._cardinality() != INFINITE_CARDINALITY
