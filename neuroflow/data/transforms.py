"""Transformations of one dataset: batch, unbatch, map, filter, flat_map, take, skip, repeat.

Each keeps the vectorized index plan of its input where TensorFlow's
semantics allow (take, skip, repeat, prefetch) and otherwise works element
by element.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from neuroflow import dtypes
from neuroflow.abstract import Dim, InconclusiveDimension, SymbolicValueError
from neuroflow.data import plan as plans
from neuroflow.data import structure
from neuroflow.data.dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from neuroflow.data.structure import TensorSpec
from neuroflow.errors import InvalidArgumentError
from neuroflow.tensor import Tensor, TensorShape, convert_to_tensor


class _Unary(Dataset):
    """A transformation of one input dataset; by default it passes everything through."""

    def __init__(self, inner: Dataset):
        self._inner = inner

    def _cardinality(self) -> int:
        return self._inner._cardinality()

    def _compute_spec(self) -> Any:
        return self._inner.element_spec

    def _can_plan(self) -> bool:
        return self._inner._can_plan()

    def _plan(self) -> plans.Plan:
        return self._inner._plan()

    def _elements(self) -> Iterator[Any]:
        return self._inner._elements()


class PrefetchDataset(_Unary):
    """Passes elements through unchanged (see ``Dataset.prefetch``)."""


def _with_leading(spec: TensorSpec, dim: int | None) -> TensorSpec:
    shape = TensorShape(None) if spec.shape.rank is None else TensorShape([dim]) + spec.shape
    return TensorSpec(shape, spec.dtype)


class BatchDataset(_Unary):
    def __init__(self, inner: Dataset, batch_size: int, drop_remainder: bool):
        super().__init__(inner)
        self._size = int(batch_size)
        if self._size <= 0:
            raise InvalidArgumentError(f"Batch size must be greater than zero, received "
                                       f"{self._size}.", "BatchDataset")
        self._drop = bool(drop_remainder)

    def _cardinality(self) -> int:
        n = self._inner._cardinality()
        if n < 0:
            return n
        return n // self._size if self._drop else -(-n // self._size)

    def _compute_spec(self) -> Any:
        dim = self._size if self._drop else None
        return structure.map_leaves(lambda s: _with_leading(s, dim), self._inner.element_spec)

    def _can_plan(self) -> bool:
        return False  # the elements are batches, not rows of the input's arrays

    def _elements(self) -> Iterator[Any]:
        if self._inner._can_plan():
            yield from plans.blocks(self._inner._plan(), self._size, self._drop)
            return
        pending = []
        for element in self._inner._epoch():
            pending.append(element)
            if len(pending) == self._size:
                yield _stack(pending)
                pending = []
        if pending and not self._drop:
            yield _stack(pending)


def _stack(elements: list) -> Any:
    columns = zip(*(structure.flatten(e) for e in elements))
    leaves = []
    for component, column in enumerate(columns):
        first = column[0].shape
        for i, array in enumerate(column):
            if array.shape != first:
                raise InvalidArgumentError(
                    f"Cannot batch tensors with different shapes in component {component}. "
                    f"First element had shape {list(first)} and element {i} had shape "
                    f"{list(array.shape)}.", "BatchDataset")
        leaves.append(np.stack(column))
    return structure.pack(elements[0], leaves)


class UnbatchDataset(_Unary):
    def _cardinality(self) -> int:
        return UNKNOWN_CARDINALITY  # as TF reports, although it could often be known

    def _compute_spec(self) -> Any:
        def unbatched(spec: TensorSpec) -> TensorSpec:
            if spec.shape.rank == 0:
                raise ValueError("unbatch needs elements whose components have rank >= 1; "
                                 f"received a component with spec {spec}. Unbatch a dataset "
                                 f"of batches, e.g. ds.batch(n).unbatch().")
            shape = spec.shape if spec.shape.rank is None else spec.shape[1:]
            return TensorSpec(shape, spec.dtype)

        return structure.map_leaves(unbatched, self._inner.element_spec)

    def _can_plan(self) -> bool:
        return False

    def _elements(self) -> Iterator[Any]:
        for element in self._inner._epoch():
            leaves = structure.flatten(element)
            sizes = {leaf.shape[0] if leaf.ndim else None for leaf in leaves}
            if len(sizes) != 1 or None in sizes:
                raise InvalidArgumentError(
                    "unbatch: every component must have the same size in its first dimension; "
                    f"received shapes {[leaf.shape for leaf in leaves]}. Make each element "
                    f"hold as many rows in every component.", "UnbatchDataset")
            for i in range(sizes.pop()):
                yield structure.pack(element, [leaf[i, ...] for leaf in leaves])


class MapDataset(_Unary):
    def __init__(self, inner: Dataset, fn: Callable):
        super().__init__(inner)
        self._fn = fn

    def _can_plan(self) -> bool:
        return False  # TF calls the function once per element, so do we

    def _elements(self) -> Iterator[Any]:
        fn = self._fn
        for element in self._inner._epoch():
            yield structure.call(fn, element)

    def _compute_spec(self) -> Any:
        """Trace the function on symbolic elements of the input's spec, as TF does: a size
        that depends on the values (``tf.range(n)``) is unknown. A function that reads
        values (``.numpy()``, which TF refuses in ``map``) gets its spec from a run on the
        first element instead."""
        try:
            return _traced_spec(self._fn, self._inner.element_spec)
        except (SymbolicValueError, NotImplementedError, InconclusiveDimension):
            return self._sampled_spec()

    def _sampled_spec(self) -> Any:
        """The spec of the function's result on the first element. A leading output
        dimension equal to an input dimension TF would not know (the batch size, after
        ``batch``) is reported as ``None``, as TF would."""
        inner_spec = self._inner.element_spec
        sample = next(iter(self._inner._epoch()), None)
        if sample is None:  # an empty input: a stand-in element of the declared shapes
            sample = structure.map_leaves(_stand_in, inner_spec)
        unknown = {array.shape[0] for array, spec in
                   zip(structure.flatten(sample), structure.flatten(inner_spec))
                   if array.ndim and spec.shape.rank and spec.shape[0] is None}
        output = structure.call(self._fn, sample)

        def relaxed(array: np.ndarray) -> TensorSpec:
            dims = list(array.shape)
            if dims and dims[0] in unknown:
                dims[0] = None
            return TensorSpec(dims, dtypes.from_numpy(array.dtype))

        return structure.map_leaves(relaxed, output)


def _traced_spec(fn: Callable, inner_spec: Any) -> Any:
    """The spec of ``fn``'s result, from a trace on symbolic tensors of ``inner_spec``."""
    from neuroflow.graph.trace import Tracer, nested_tracing

    tracer = Tracer("map_spec")
    with nested_tracing(tracer):
        def symbolic(spec: TensorSpec):
            if spec.shape.rank is None:
                raise NotImplementedError("an input of unknown rank cannot be traced")
            return tracer.add_input(tuple(Dim.fresh("d") if d is None else d
                                          for d in spec.shape), spec.dtype.np)

        args = structure.map_leaves(symbolic, inner_spec)
        result = fn(*args) if type(args) is tuple else fn(args)
        result = tuple(result) if isinstance(result, list) else result
        return structure.map_leaves(_spec_of, _leaves_as_tensors(result))


def _leaves_as_tensors(value: Any) -> Any:
    if type(value) is tuple:
        return tuple(_leaves_as_tensors(v) for v in value)
    if isinstance(value, dict):
        return type(value)((k, _leaves_as_tensors(v)) for k, v in value.items())
    if isinstance(value, tuple):  # a namedtuple
        return type(value)(*(_leaves_as_tensors(v) for v in value))
    return value if isinstance(value, Tensor) else convert_to_tensor(value)


def _spec_of(tensor: Tensor) -> TensorSpec:
    array = tensor._value
    dims = [d if isinstance(d, int) else None for d in array.shape]
    return TensorSpec(dims, dtypes.from_numpy(array.dtype))


def _stand_in(spec: TensorSpec) -> np.ndarray:
    dims = [] if spec.shape.rank is None else [1 if d is None else d for d in spec.shape]
    return np.zeros(dims, dtype=spec.dtype.np)


class FilterDataset(_Unary):
    def __init__(self, inner: Dataset, predicate: Callable):
        super().__init__(inner)
        self._predicate = predicate

    def _cardinality(self) -> int:
        return UNKNOWN_CARDINALITY

    def _can_plan(self) -> bool:
        return False

    def _elements(self) -> Iterator[Any]:
        for element in self._inner._epoch():
            keep = structure.call(self._predicate, element)
            if not isinstance(keep, np.ndarray) or keep.shape != () or keep.dtype != np.bool_:
                raise ValueError("filter: `predicate` must return a scalar boolean tensor; "
                                 f"received {keep!r}.")
            if keep:
                yield element


class FlatMapDataset(_Unary):
    def __init__(self, inner: Dataset, fn: Callable):
        super().__init__(inner)
        self._fn = fn

    def _cardinality(self) -> int:
        return UNKNOWN_CARDINALITY

    def _can_plan(self) -> bool:
        return False

    def _datasets(self) -> Iterator[Dataset]:
        for element in self._inner._epoch():
            tensors = structure.to_tensors(element)
            result = self._fn(*tensors) if type(tensors) is tuple else self._fn(tensors)
            if not isinstance(result, Dataset):
                raise TypeError("flat_map: the function must return a Dataset, received "
                                f"{type(result).__name__}. Wrap its result, e.g. lambda x: "
                                f"Dataset.from_tensor_slices(x).")
            yield result

    def _elements(self) -> Iterator[Any]:
        for dataset in self._datasets():
            yield from dataset._epoch()

    def _compute_spec(self) -> Any:
        first = next(self._datasets(), None)
        if first is None:
            raise ValueError("flat_map: cannot tell the element spec of an empty dataset: "
                             "it comes from the dataset the function returns for the first "
                             "element, and there is none. Read element_spec of a non-empty "
                             "dataset.")
        return first.element_spec


class TakeDataset(_Unary):
    def __init__(self, inner: Dataset, count: int):
        super().__init__(inner)
        self._count = count

    def _cardinality(self) -> int:
        n = self._inner._cardinality()
        if self._count < 0:
            return n
        if n == INFINITE_CARDINALITY:
            return self._count
        return n if n == UNKNOWN_CARDINALITY else min(n, self._count)

    def _plan(self) -> plans.Plan:
        plan = self._inner._plan()
        return plan if self._count < 0 else plans.take(plan, self._count)

    def _elements(self) -> Iterator[Any]:
        elements = self._inner._epoch()
        return elements if self._count < 0 else itertools.islice(elements, self._count)


class SkipDataset(_Unary):
    def __init__(self, inner: Dataset, count: int):
        super().__init__(inner)
        self._count = count

    def _cardinality(self) -> int:
        n = self._inner._cardinality()
        if n < 0:
            return n
        return 0 if self._count < 0 else max(n - self._count, 0)

    def _plan(self) -> plans.Plan:
        plan = self._inner._plan()
        return plans.skip(plan, np.iinfo(np.int64).max if self._count < 0 else self._count)

    def _elements(self) -> Iterator[Any]:
        elements = self._inner._epoch()
        if self._count < 0:
            return iter(())
        return itertools.islice(elements, self._count, None)


class RepeatDataset(_Unary):
    """``count`` passes over the input (forever when ``count`` is -1); each pass restarts it."""

    def __init__(self, inner: Dataset, count: int):
        super().__init__(inner)
        self._count = count

    def _cardinality(self) -> int:
        n = self._inner._cardinality()
        if self._count == 0 or n == 0:
            return 0
        if self._count < 0 or n == INFINITE_CARDINALITY:
            return INFINITE_CARDINALITY
        return n if n == UNKNOWN_CARDINALITY else n * self._count

    def _passes(self) -> Iterator[int]:
        return itertools.count() if self._count < 0 else iter(range(self._count))

    def _plan(self) -> plans.Plan:
        for _ in self._passes():
            empty = True
            for gather, index in self._inner._plan():
                empty = empty and plans.length(index) == 0
                yield gather, index
            if empty:  # repeating an empty dataset gives an empty dataset, not a hang
                return

    def _elements(self) -> Iterator[Any]:
        for _ in self._passes():
            empty = True
            for element in self._inner._epoch():
                empty = False
                yield element
            if empty:
                return
