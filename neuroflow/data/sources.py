"""Datasets that create elements: slices of arrays, integer ranges, Python generators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from neuroflow import dtypes
from neuroflow.data import plan as plans
from neuroflow.data import structure
from neuroflow.data.dataset import UNKNOWN_CARDINALITY, Dataset
from neuroflow.data.structure import TensorSpec
from neuroflow.errors import InvalidArgumentError
from neuroflow.tensor import TensorShape, convert_to_tensor


class TensorSlicesDataset(Dataset):
    """The rows of a structure of arrays that share their first dimension."""

    def __init__(self, element: Any):
        leaves = structure.flatten(element)
        if not leaves:
            raise ValueError(f"from_tensor_slices needs at least one tensor to slice; received "
                             f"the empty structure {element!r}. Pass an array or a structure "
                             f"of arrays, e.g. from_tensor_slices((x, y)).")
        for leaf in leaves:
            if leaf.ndim == 0:
                raise ValueError("from_tensor_slices slices its tensors along their first "
                                 f"dimension; received a scalar (rank-0) tensor {leaf!r}.")
        sizes = [leaf.shape[0] for leaf in leaves]
        for leaf, size in zip(leaves, sizes):
            if size != sizes[0]:
                raise ValueError("from_tensor_slices: all tensors must have the same size in "
                                 f"their first dimension; received sizes {sizes[0]} and {size} "
                                 f"(shapes {leaves[0].shape} and {leaf.shape}).")
        self._size = sizes[0]
        # Made once, so that plans of different passes share one gather (see plan._combine).
        self._gather = plans.rows_of(element)
        self._spec = structure.map_leaves(
            lambda a: TensorSpec(a.shape[1:], dtypes.from_numpy(a.dtype)), element)

    def _cardinality(self) -> int:
        return self._size

    def _can_plan(self) -> bool:
        return True

    def _plan(self) -> plans.Plan:
        return iter([(self._gather, slice(0, self._size))])


class RangeDataset(Dataset):
    """``start, start + step, ...`` up to (excluding) ``stop``, as Python's ``range``."""

    def __init__(self, *args: int, output_type=None):
        if not 1 <= len(args) <= 3:
            raise ValueError(f"range takes 1 to 3 arguments (start, stop, step), received "
                             f"{len(args)}: {args!r}. E.g. Dataset.range(10) or "
                             f"Dataset.range(0, 10, 2).")
        ints = [int(a) for a in args]
        if len(ints) == 3 and ints[2] == 0:
            raise InvalidArgumentError("range: step must be a non-zero integer.", "RangeDataset")
        self._range = range(*ints)
        self._dtype = dtypes.as_dtype(dtypes.int64 if output_type is None else output_type)
        self._spec = TensorSpec([], self._dtype)
        self._gather = self._values

    def _values(self, index: plans.Index) -> np.ndarray:
        positions = plans.as_array(index).astype(np.int64)
        return (self._range.start + self._range.step * positions).astype(self._dtype.np)

    def _cardinality(self) -> int:
        return len(self._range)

    def _can_plan(self) -> bool:
        return True

    def _plan(self) -> plans.Plan:
        return iter([(self._gather, slice(0, len(self._range)))])


class GeneratorDataset(Dataset):
    """Elements yielded by a Python generator, checked against the declared signature."""

    def __init__(self, generator: Callable, output_types, output_shapes, args,
                 output_signature):
        if not callable(generator):
            raise TypeError("from_generator: `generator` must be a callable that returns an "
                            f"iterator; received {generator!r}. Pass the generator function "
                            f"itself, e.g. from_generator(gen, ...) rather than gen().")
        if output_signature is None:
            if output_types is None:
                raise TypeError("from_generator needs `output_signature` (or `output_types`) "
                                "describing the elements; received neither. Pass e.g. "
                                "output_signature=tf.TensorSpec(shape=(), dtype=tf.int32).")
            output_signature = _specs_from(output_types, output_shapes)
        self._generator = generator
        self._args = () if args is None else tuple(args)
        self._spec = _data_specs(output_signature)

    def _cardinality(self) -> int:
        return UNKNOWN_CARDINALITY

    def _elements(self) -> Iterator[Any]:
        for value in self._generator(*self._args):
            yield _conform(self._spec, value)


def _specs_from(types: Any, shapes: Any) -> Any:
    """The signature for the legacy ``output_types`` / ``output_shapes`` arguments."""
    if isinstance(types, dict):
        return {k: _specs_from(t, None if shapes is None else shapes[k]) for k, t in types.items()}
    if isinstance(types, (tuple, list)):
        return tuple(_specs_from(t, None if shapes is None else shapes[i])
                     for i, t in enumerate(types))
    return TensorSpec(TensorShape(None) if shapes is None else shapes, types)


def _data_specs(signature: Any) -> Any:
    """The signature with every spec as a data TensorSpec (``tf.TensorSpec`` is tf.function's)."""
    if isinstance(signature, dict):
        return {k: _data_specs(s) for k, s in signature.items()}
    if isinstance(signature, (tuple, list)):
        return tuple(_data_specs(s) for s in signature)
    if isinstance(signature, TensorSpec) or not hasattr(signature, "shape"):
        return signature
    return TensorSpec(TensorShape(signature.shape), signature.dtype, signature.name)


def _conform(spec: Any, value: Any) -> Any:
    """Convert one generated element to arrays of the signature's dtypes, checking shapes."""
    if isinstance(spec, dict):
        if not isinstance(value, dict) or set(value) != set(spec):
            raise _structure_error(spec, value)
        return {k: _conform(s, value[k]) for k, s in spec.items()}
    if isinstance(spec, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(spec):
            raise _structure_error(spec, value)
        return tuple(_conform(s, v) for s, v in zip(spec, value))
    if np.dtype(spec.dtype.np).kind == "O":
        # A string tensor holds bytes: str is encoded as UTF-8, as tf.constant does.
        array = convert_to_tensor(value, dtype="string")._value
    else:
        array = np.asarray(value, dtype=spec.dtype.np)
    if not spec.shape.is_compatible_with(array.shape):
        raise InvalidArgumentError(f"from_generator: the generator yielded an element of shape "
                                   f"{array.shape} where an element of shape {spec.shape} was "
                                   "expected.", "GeneratorDataset")
    return array


def _structure_error(spec: Any, value: Any) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"from_generator: the generator yielded {value!r}, which does not match the expected "
        f"structure {spec!r}. Make the generator yield elements of that structure, or change "
        f"output_signature to describe what it yields.", "GeneratorDataset")
