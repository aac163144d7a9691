"""Dataset elements: nested structures of arrays, their specs, and conversions.

Inside the pipeline an element is a nested structure (tuples, namedtuples,
dicts) of NumPy arrays; tensors appear only at the boundaries, where a user
function is called or the iterator hands an element out. As in ``tf.data``, a
Python *list* is one tensor, not a structure, except that a list returned by a
``map`` function becomes a tuple.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neuroflow import dtypes
from neuroflow.dtypes import DType
from neuroflow.tensor import Tensor, TensorShape, convert_to_tensor
from neuroflow.util import nest


class TensorSpec:
    """The shape and dtype of one component of a dataset element, as ``tf.TensorSpec``.

    >>> import neuroflow as tf
    >>> tf.data.Dataset.from_tensor_slices([[1.0, 2.0]]).batch(4).element_spec
    TensorSpec(shape=(None, 2), dtype=tf.float32, name=None)
    """

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape, dtype=dtypes.float32, name: str | None = None):
        self._shape = shape if isinstance(shape, TensorShape) else TensorShape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._name = name

    @classmethod
    def from_tensor(cls, tensor, name: str | None = None) -> TensorSpec:
        tensor = convert_to_tensor(tensor)
        return cls(tensor.shape, tensor.dtype, name)

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def dtype(self) -> DType:
        return self._dtype

    @property
    def name(self) -> str | None:
        return self._name

    def is_compatible_with(self, other) -> bool:
        """Whether ``other`` (a spec or a tensor) has this dtype and a compatible shape."""
        if not isinstance(other, TensorSpec):
            other = TensorSpec.from_tensor(other)
        return self._dtype == other.dtype and self._shape.is_compatible_with(other.shape)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TensorSpec):
            return NotImplemented
        return (self._shape, self._dtype, self._name) == (other.shape, other.dtype, other.name)

    def __hash__(self) -> int:
        return hash((self._shape, self._dtype.name, self._name))

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self._shape}, dtype={self._dtype!r}, name={self._name!r})"


def to_array(value: Any, copy: bool = False) -> np.ndarray:
    """One component as a host NumPy array, with TensorFlow's dtype rules for Python values.

    ``copy`` copies a NumPy array argument, which would otherwise be shared.
    """
    if type(value) is Tensor and type(value._value) is np.ndarray:
        return value._value  # the common case: a map function returned tensors
    if copy and isinstance(value, np.ndarray):
        value = value.copy()
    array = convert_to_tensor(value)._value
    return array if type(array) is np.ndarray else np.asarray(array.get())


def normalize(value: Any, copy: bool = False) -> Any:
    """``value`` as an element: the same nesting, every leaf an array (a list is one leaf)."""
    if type(value) is tuple:
        return tuple(normalize(v, copy) for v in value)
    if isinstance(value, dict):
        return type(value)((k, normalize(v, copy)) for k, v in value.items())
    if isinstance(value, tuple):  # a namedtuple
        return type(value)(*(normalize(v, copy) for v in value))
    return to_array(value, copy)


# The helpers below special-case one leaf and a flat tuple: they run per element.
def _is_flat_tuple(value: Any) -> bool:
    if type(value) is not tuple:
        return False
    for item in value:
        if isinstance(item, (tuple, dict)):
            return False
    return True


def pack(template: Any, leaves: list) -> Any:
    """Rebuild ``template``'s nesting from its flattened leaves."""
    if not isinstance(template, (tuple, dict)):
        return leaves[0]
    if _is_flat_tuple(template):
        return tuple(leaves)
    return nest.pack_sequence_as(template, leaves)


def flatten(element: Any) -> list:
    """The leaves of an element, in ``tf.nest`` order (dicts by sorted key)."""
    if not isinstance(element, (tuple, dict)):
        return [element]
    if _is_flat_tuple(element):
        return list(element)
    return nest.flatten(element)


def map_leaves(fn: Callable, element: Any) -> Any:
    if not isinstance(element, (tuple, dict)):
        return fn(element)
    if _is_flat_tuple(element):
        return tuple(map(fn, element))
    return pack(element, [fn(leaf) for leaf in flatten(element)])


def to_tensors(element: Any) -> Any:
    return map_leaves(Tensor, element)


def to_numpy(element: Any) -> Any:
    """Element as NumPy values; rank-0 leaves become NumPy scalars, as in TensorFlow."""
    return map_leaves(_numpy_value, element)


def _numpy_value(array: np.ndarray):
    if array.ndim == 0:
        return array[()]
    # A view would alias the dataset's own storage; hand out a copy the caller may change.
    return array if array.flags.owndata else array.copy()


def call(fn: Callable, element: Any) -> Any:
    """Call a user function on an element the way ``Dataset.map`` does, and normalize its result.

    A plain tuple is unpacked into positional arguments; anything else (a
    dict, a namedtuple, one tensor) is passed as one argument.
    """
    tensors = to_tensors(element)
    result = fn(*tensors) if type(tensors) is tuple else fn(tensors)
    # TF turns a returned list into a tuple; lists nested deeper are tensors.
    return normalize(tuple(result) if isinstance(result, list) else result)

