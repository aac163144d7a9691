"""``Dataset.padded_batch``: batch elements of different shapes by padding them to one.

Each component is padded at the end of each dimension, to its ``padded_shapes``
entry: a fixed size, or ``None`` / ``-1`` for the largest size in that batch.
Without ``padded_shapes`` every dimension the element spec leaves unknown is
padded to the batch's largest.

>>> import neuroflow as tf
>>> ds = tf.data.Dataset.range(1, 4).map(lambda n: tf.range(n)).padded_batch(2)
>>> [b.numpy().tolist() for b in ds]
[[[0, 0], [0, 1]], [[0, 1, 2]]]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from neuroflow.data import structure
from neuroflow.data.dataset import Dataset
from neuroflow.data.structure import TensorSpec
from neuroflow.errors import DataLossError, InvalidArgumentError
from neuroflow.tensor import Tensor, TensorShape


class PaddedBatchDataset(Dataset):
    """Batches of ``batch_size`` elements, each component padded to a common shape."""

    def __init__(self, inner: Dataset, batch_size: int, padded_shapes: Any, padding_values: Any,
                 drop_remainder: Any):
        self._inner = inner
        spec = inner.element_spec
        specs = structure.flatten(spec)
        given_values = _padding_structure(padding_values, spec)
        if padded_shapes is None:
            for i, component in enumerate(specs):
                if component.shape.rank is None:
                    raise ValueError(f"You must provide `padded_shapes` argument because "
                                     f"component {i} has unknown rank. Give its shape, e.g. "
                                     f"padded_shapes=[None] to pad a vector to the longest in "
                                     f"each batch.")
            shapes = [list(component.shape) for component in specs]
            # Pad to each batch's largest: the same as padding to the spec's known sizes for
            # elements that match their spec, and right for those whose spec was guessed
            # from a sample (``map`` reads the spec off the first element).
            self._targets = [[-1] * len(shape) for shape in shapes]
        else:
            shapes = [_padded_shape(value, component, i) for i, (value, component) in
                      enumerate(zip(_flatten_up_to(spec, padded_shapes, "padded_shapes"), specs))]
            self._targets = [[-1 if d is None else d for d in shape] for shape in shapes]
        self._values = [_padding_value(value, component)
                        for value, component in zip(given_values, specs)]
        self._drop = _as_bool(drop_remainder)
        if batch_size <= 0:
            raise InvalidArgumentError(f"Batch size must be greater than zero, received "
                                       f"{batch_size}.", "PaddedBatchDatasetV2")
        self._size = batch_size
        dim = batch_size if self._drop else None
        self._spec = structure.pack(spec, [TensorSpec([dim] + shape, component.dtype)
                                           for shape, component in zip(shapes, specs)])

    def _cardinality(self) -> int:
        n = self._inner._cardinality()
        if n < 0:
            return n
        return n // self._size if self._drop else -(-n // self._size)

    def _elements(self) -> Iterator[Any]:
        pending = []
        for element in self._inner._epoch():
            pending.append(element)
            if len(pending) == self._size:
                yield self._pad(pending)
                pending = []
        if pending and not self._drop:
            yield self._pad(pending)

    def _pad(self, elements: list) -> Any:
        columns = zip(*(structure.flatten(e) for e in elements))
        return structure.pack(elements[0], [self._pad_component(i, list(column))
                                            for i, column in enumerate(columns)])

    def _pad_component(self, component: int, column: list) -> np.ndarray:
        target = self._targets[component]
        for array in column:
            if array.ndim != len(target):
                raise InvalidArgumentError(
                    "All elements in a batch must have the same rank as the padded shape for "
                    f"component{component}: expected rank {len(target)} but got element with "
                    f"rank {array.ndim}. Give padded_shapes of the elements' rank.",
                    "PaddedBatchDatasetV2")
        dims = [size if size >= 0 else max(array.shape[d] for array in column)
                for d, size in enumerate(target)]
        value = self._values[component]
        if all(array.shape == tuple(dims) for array in column):
            return np.stack(column).astype(value.dtype, copy=False)
        batch = np.full([len(column)] + dims, value, dtype=value.dtype)
        for row, array in enumerate(column):
            if any(size > limit for size, limit in zip(array.shape, dims)):
                raise DataLossError(
                    "Attempted to pad to a smaller size than the input element: component "
                    f"{component} has an element of shape {list(array.shape)}, larger than its "
                    f"padded shape {dims}. Give a larger size in padded_shapes, or None to pad "
                    f"to the largest element of each batch.", "PaddedBatchDatasetV2")
            batch[(row, *(slice(0, size) for size in array.shape))] = array
        return batch


def _is_nested(value: Any) -> bool:
    return isinstance(value, (tuple, dict))  # a list is one tensor (or one shape), as in tf.data


def _flatten_up_to(template: Any, value: Any, argument: str) -> list:
    """``value``'s parts matching the leaves of ``template`` (the element spec), in its order."""
    if not _is_nested(template):
        return [value]
    if value is None and argument == "padding_values":  # each leaf of it takes its default
        return [None] * len(structure.flatten(template))
    kind = "dict" if isinstance(template, dict) else "tuple"
    if not isinstance(value, dict if kind == "dict" else tuple):
        raise TypeError(f"padded_batch: `{argument}` must have the structure of the dataset's "
                        f"elements, {template}; received {value!r} where a {kind} was "
                        f"expected. A list is one shape or one tensor: use tuples for "
                        f"structure, e.g. padded_shapes=([None], [None, 5]).")
    if kind == "dict":
        if set(value) != set(template):
            raise ValueError(f"padded_batch: `{argument}` must have the keys of the dataset's "
                             f"elements, {sorted(template)}; received keys {sorted(value)}.")
        parts = [(template[k], value[k]) for k in sorted(template)]
    else:
        if len(value) != len(template):
            raise ValueError(f"padded_batch: `{argument}` must have as many parts as the "
                             f"dataset's elements ({len(template)}); received {len(value)}: "
                             f"{value!r}.")
        parts = list(zip(template, value))
    return [leaf for t, v in parts for leaf in _flatten_up_to(t, v, argument)]


def _padding_structure(values: Any, spec: Any) -> list:
    """One padding value (or None for the default) per component."""
    count = len(structure.flatten(spec))
    if values is None:
        return [None] * count
    if not _is_nested(values):
        return [values] * count  # one value pads every component, as in TF
    if not _is_nested(spec):
        raise TypeError(f"padded_batch: the elements are single tensors, so `padding_values` "
                        f"must be one scalar; received the structure {values!r}.")
    return _flatten_up_to(spec, values, "padding_values")


def _padding_value(value: Any, spec: TensorSpec) -> np.ndarray:
    if value is None:  # TF's default: zero of the dtype (False for bool, b"" for strings)
        if np.dtype(spec.dtype.np).kind == "O":
            return np.array(b"", dtype=object)
        return np.zeros((), dtype=spec.dtype.np)
    array = structure.to_array(value)
    if array.shape != ():
        raise ValueError("Invalid `padding_values`. `padding_values` values should be scalars, "
                         f"but got {TensorShape(array.shape)}. Give one value per component, "
                         f"e.g. padding_values=-1.")
    if array.dtype != spec.dtype.np:
        raise TypeError(f"Invalid `padding_values`. `padding_values` values type "
                        f"{array.dtype.name} does not match type {spec.dtype.name} of the "
                        f"corresponding input component. Give a value of that dtype, e.g. "
                        f"tf.constant({array.item()!r}, tf.{spec.dtype.name}).")
    return array


def _padded_shape(value: Any, spec: TensorSpec, component: int) -> list:
    """A padded shape as a list of sizes, ``None`` for "the largest in the batch"."""
    if isinstance(value, TensorShape):
        if value.rank is None:
            raise ValueError(f"padded_batch: the padded shape of component {component} has "
                             f"unknown rank. Give one size (or None) per dimension.")
        dims = list(value)
    else:
        if value is None:
            raise ValueError(f"padded_batch: component {component} has no padded shape "
                             f"(None). Give one, e.g. [None] to pad a vector to the longest "
                             f"in each batch, or leave padded_shapes=None for all components.")
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            value = [value]  # TensorShape(4) is the vector shape (4,)
        if isinstance(value, (list, tuple)):
            value = [-1 if d is None else d for d in value]
        array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.kind not in "iu" and array.size:
            raise TypeError(f"Padded shape {value} must be a `tf.int64` vector tensor, but its "
                            f"element type was {array.dtype.name}. Give integer sizes or None.")
        if array.ndim != 1:
            raise ValueError(f"Padded shape {value} must be a `tf.int64` vector tensor, but its "
                             f"shape was {TensorShape(array.shape)}. Give one size per "
                             f"dimension, e.g. [None, 5].")
        for d in array.tolist():
            if d < -1:
                raise ValueError(f"Dimension {d} must be >= 0 (padded shape {value} of "
                                 f"component {component}); use -1 or None to pad to the "
                                 f"largest in each batch.")
        dims = [None if d == -1 else int(d) for d in array.tolist()]
    if spec.shape.rank is not None and (
            len(dims) != spec.shape.rank
            or any(p is not None and s is not None and p < s for p, s in zip(dims, spec.shape))):
        raise ValueError(f"The padded shape {TensorShape(dims)} is not compatible with the "
                         f"shape {spec.shape} of the corresponding input component. Give one "
                         f"size per dimension, at least the element's size (or None).")
    return dims


def _as_bool(value: Any) -> bool:
    """``drop_remainder``: TF converts it to a bool tensor, refusing numbers."""
    if isinstance(value, Tensor) and value.dtype.np == np.bool_ and value.shape.rank == 0:
        return bool(value.numpy())
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype bool (drop_remainder "
                        f"must be True or False).")
    return bool(value)

