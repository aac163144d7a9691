"""Tensor and TensorShape, and conversion of Python and NumPy values to tensors.

A :class:`Tensor` is an immutable wrapper around one array on one device.
Its operators (``+``, ``@``, indexing, comparisons) call the ops in
:mod:`neuroflow.ops`, which record onto active gradient tapes. The ops module
fills in the operator table at import (see ``ops/operators.py``), so this module
stays free of op logic.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuroflow import dtypes
from neuroflow.backend import device_of
from neuroflow.dtypes import DType


class TensorShape:
    """The shape of a tensor: tuple-like, with ``None`` for unknown dimensions.

    >>> import neuroflow as tf
    >>> s = tf.zeros([2, 3]).shape
    >>> s, s.as_list(), s[0], s == (2, 3), s.rank
    (TensorShape([2, 3]), [2, 3], 2, True, 2)
    """

    __slots__ = ("_dims",)

    def __init__(self, dims: Iterable[int | None] | None):
        self._dims = None if dims is None else tuple(None if d is None else int(d) for d in dims)

    @property
    def rank(self) -> int | None:
        return None if self._dims is None else len(self._dims)

    ndims = rank

    @property
    def dims(self):
        return None if self._dims is None else list(self._dims)

    def as_list(self) -> list[int | None]:
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self._dims)

    def is_fully_defined(self) -> bool:
        return self._dims is not None and None not in self._dims

    def num_elements(self) -> int | None:
        if not self.is_fully_defined():
            return None
        return int(np.prod(self._dims, dtype=np.int64))

    def is_compatible_with(self, other) -> bool:
        other = other if isinstance(other, TensorShape) else TensorShape(other)
        if self._dims is None or other._dims is None:
            return True
        return len(self._dims) == len(other._dims) and all(
            a is None or b is None or a == b for a, b in zip(self._dims, other._dims)
        )

    def __len__(self) -> int:
        if self._dims is None:
            raise ValueError("Cannot take the length of a shape with unknown rank.")
        return len(self._dims)

    def __iter__(self):
        return iter(self._dims or ())

    def __getitem__(self, key):
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return self._dims[key]

    def __eq__(self, other) -> bool:
        if isinstance(other, TensorShape):
            return self._dims == other._dims
        try:
            return self._dims == tuple(other)
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self._dims)

    def __add__(self, other) -> TensorShape:
        return TensorShape(tuple(self) + tuple(other))

    def __repr__(self) -> str:
        return "TensorShape(None)" if self._dims is None else f"TensorShape({list(self._dims)})"

    def __str__(self) -> str:
        if self._dims is None:
            return "<unknown>"
        inner = ", ".join("None" if d is None else str(d) for d in self._dims)
        return f"({inner},)" if len(self._dims) == 1 else f"({inner})"


class Tensor:
    """An immutable multi-dimensional array with a dtype and a device.

    >>> import neuroflow as tf
    >>> x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    >>> (x * 2 + 1).numpy()
    array([[3., 5.],
           [7., 9.]], dtype=float32)
    """

    __slots__ = ("_value", "__weakref__")
    # Makes NumPy defer to Tensor's reflected operators (ndarray + Tensor).
    __array_priority__ = 100

    def __init__(self, value):
        self._value = value

    # --- what a tensor is -------------------------------------------------
    @property
    def dtype(self) -> DType:
        return dtypes.from_numpy(self._value.dtype)

    @property
    def shape(self) -> TensorShape:
        return TensorShape(self._value.shape)

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def device(self) -> str:
        return device_of(self._value).name

    def get_shape(self) -> TensorShape:
        return self.shape

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (a scalar for rank-0 tensors, as in TF)."""
        value = self._value
        if type(value) is not np.ndarray:
            value = value.get()  # a GPU array: copy to the host
        return value.copy() if value.ndim else value[()]

    def __array__(self, dtype=None, copy=None):
        value = self._value if type(self._value) is np.ndarray else self._value.get()
        return value if dtype is None else value.astype(dtype, copy=False)

    # --- Python protocol ---------------------------------------------------
    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("len() of a scalar (rank-0) tensor is not defined.")
        return self._value.shape[0]

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("Cannot iterate over a scalar (rank-0) tensor.")
        from neuroflow.ops.shape_ops import unstack

        return iter(unstack(self))

    def __bool__(self) -> bool:
        if self._value.size != 1:
            raise ValueError(
                f"The truth value of a tensor with shape {tuple(self._value.shape)} is "
                "ambiguous. Use tf.reduce_any(...) or tf.reduce_all(...)."
            )
        return bool(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __index__(self) -> int:
        if not self.dtype.is_integer or self._value.ndim:
            raise TypeError(f"Only scalar integer tensors can be used as an index, "
                            f"received {self.dtype.name} with shape {tuple(self._value.shape)}.")
        return int(self._value)

    def __hash__(self) -> int:
        # Tensors are hashable by identity, as in TensorFlow 2 (``==`` is elementwise).
        return id(self)

    def __repr__(self) -> str:
        value = np.asarray(self)
        body = repr(value[()]) if value.ndim == 0 else "\n" + repr(value)
        if value.ndim == 0 and isinstance(value[()], np.generic):
            body = str(value[()].item()) if value.dtype.kind != "f" else repr(float(value))
        return f"<tf.Tensor: shape={self.shape}, dtype={self.dtype.name}, numpy={body}>"

    def __str__(self) -> str:
        value = np.asarray(self)
        body = str(value) if value.ndim == 0 else "\n" + str(value)
        return f"tf.Tensor({body}, shape={self.shape}, dtype={self.dtype.name})"

    def __format__(self, spec: str) -> str:
        if self._value.ndim == 0:
            return format(self._value[()], spec)
        return str(self)

    # Operators are installed by neuroflow.ops.operators.


def _as_array(value: Any, dtype: DType | None) -> np.ndarray:
    """The NumPy array for a Python/NumPy value, with TensorFlow's default dtypes."""
    target = None if dtype is None else dtype.np
    if isinstance(value, np.ndarray):
        if target is not None and value.dtype != target:
            return _cast_checked(value, target)
        return value
    if isinstance(value, (bool, int, float, complex)) and target is None:
        return np.asarray(value, dtype=dtypes.default_for_python(value))
    if isinstance(value, np.generic):
        array = np.asarray(value)
        return array if target is None else _cast_checked(array, target)
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"Cannot convert {value!r} to a tensor: its elements are not numbers "
                        "of one kind, or its nested lists have different lengths.")
    if target is not None:
        return _cast_checked(array, target)
    if array.dtype.kind == "f" and array.dtype != np.float32 and not isinstance(value, np.ndarray):
        return array.astype(np.float32)  # Python floats become float32, as in TF
    if array.dtype.kind == "i" and array.dtype != np.int32:
        fits = array.size == 0 or (array.min() >= -(2**31) and array.max() < 2**31)
        return array.astype(np.int32) if fits else array.astype(np.int64)
    if array.dtype.kind in "US":
        raise TypeError(f"neuroflow tensors hold numbers; received strings {value!r}.")
    return array


def _cast_checked(array: np.ndarray, target: np.dtype) -> np.ndarray:
    """Convert for an explicit ``dtype=``; like TF, refuse to silently lose values."""
    if array.dtype == target:
        return array
    if array.dtype.kind == "f" and np.dtype(target).kind in "iub" and array.size:
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise TypeError(f"Cannot convert {array.dtype} values with a fractional part to "
                            f"{np.dtype(target)}; use tf.cast to truncate explicitly.")
    return array.astype(target)


def convert_to_tensor(value: Any, dtype=None, dtype_hint=None, name: str | None = None) -> Tensor:
    """Convert a Python value, NumPy array, Tensor or Variable to a Tensor.

    Python floats become float32 and ints int32; NumPy arrays keep their dtype.
    ``dtype`` forces a dtype (and refuses a tensor of another dtype, as TF does);
    ``dtype_hint`` is used only for Python values without a dtype of their own.

    >>> import neuroflow as tf
    >>> tf.convert_to_tensor(1.5).dtype, tf.convert_to_tensor([1, 2]).dtype
    (tf.float32, tf.int32)
    """
    want = None if dtype is None else dtypes.as_dtype(dtype)
    if isinstance(value, Tensor):
        if want is not None and value.dtype != want:
            raise ValueError(f"Tensor conversion requested dtype {want.name} for a Tensor with "
                             f"dtype {value.dtype.name}. Use tf.cast(x, tf.{want.name}).")
        return value
    read = getattr(value, "_read_for_op", None)
    if read is not None:  # a Variable: reading it is what the tape records
        tensor = read()
        if want is not None and tensor.dtype != want:
            raise ValueError(f"Variable conversion requested dtype {want.name} for a variable "
                             f"of dtype {tensor.dtype.name}. Use tf.cast.")
        return tensor
    if want is None and dtype_hint is not None and not isinstance(value, (np.ndarray, np.generic)):
        hint = dtypes.as_dtype(dtype_hint)
        try:
            return Tensor(_as_array(value, hint))
        except (TypeError, ValueError):
            pass
    if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in _flat(value)):
        from neuroflow.ops.shape_ops import stack_nested

        result = stack_nested(value)
        return result if want is None else convert_to_tensor(result, want)
    return Tensor(_as_array(value, want))


def _flat(value):
    for item in value:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        else:
            yield item


def constant(value: Any, dtype=None, shape=None, name: str | None = None) -> Tensor:
    """Create a constant tensor, as ``tf.constant``.

    Unlike :func:`convert_to_tensor`, ``dtype`` converts values (``tf.constant(1, tf.float32)``)
    and ``shape`` broadcasts a scalar or reshapes a list of matching size.

    >>> import neuroflow as tf
    >>> tf.constant(0.5, shape=[2, 2]).numpy()
    array([[0.5, 0.5],
           [0.5, 0.5]], dtype=float32)
    """
    want = None if dtype is None else dtypes.as_dtype(dtype)
    if isinstance(value, Tensor) or hasattr(value, "_read_for_op"):
        value = np.asarray(convert_to_tensor(value))
    array = _as_array(value, None)
    if want is not None and array.dtype != want.np:
        array = array.astype(want.np)
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        if array.size == 1:
            array = np.broadcast_to(array.reshape(()), shape).copy()
        elif array.size == int(np.prod(shape)):
            array = array.reshape(shape)
        else:
            raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tensor "
                            f"{value!r} (converted from {array.shape}) has {array.size} elements, "
                            f"but got `shape` {shape} with {int(np.prod(shape))} elements).")
    elif isinstance(value, np.ndarray) and array is value:
        array = array.copy()  # a constant must not change when the caller's array does
    return Tensor(array)


def is_tensor(value: Any) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "_read_for_op")
