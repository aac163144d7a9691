"""Data types, as TensorFlow names and treats them.

A :class:`DType` wraps a NumPy dtype with TensorFlow's name and predicates.
TensorFlow never promotes silently between two tensors of different dtypes;
the one implicit conversion it makes is a Python scalar taking the dtype of the
tensor it meets. :func:`result_dtype` encodes exactly that rule.

``tf.string`` is a NumPy object dtype: a string tensor holds an object array whose
elements are Python ``bytes``, which is what TensorFlow's ``.numpy()`` returns, so
values pass to and from users without conversion. Its ``size`` is 0, as in TF (the
bytes live outside the array), and it has no ``min``/``max``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class DType:
    """A tensor element type, e.g. ``tf.float32``.

    >>> import neuroflow as tf
    >>> tf.float32.name, tf.float32.is_floating, tf.int32.size
    ('float32', True, 4)
    """

    __slots__ = ("name", "as_numpy_dtype", "_np")

    def __init__(self, name: str, np_dtype: Any):
        self.name = name
        self._np = np.dtype(np_dtype)
        # TF's tf.string.as_numpy_dtype is the builtin `object`, not NumPy's alias of it.
        self.as_numpy_dtype = object if self._np.kind == "O" else self._np.type

    @property
    def np(self) -> np.dtype:
        """The NumPy dtype object."""
        return self._np

    @property
    def is_floating(self) -> bool:
        return self._np.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self._np.kind in "iu"

    @property
    def is_unsigned(self) -> bool:
        return self._np.kind == "u"

    @property
    def is_bool(self) -> bool:
        return self._np.kind == "b"

    @property
    def is_complex(self) -> bool:
        return self._np.kind == "c"

    @property
    def size(self) -> int:
        return 0 if self._np.kind == "O" else self._np.itemsize

    @property
    def base_dtype(self) -> DType:
        return self

    @property
    def is_numpy_compatible(self) -> bool:
        return True

    @property
    def real_dtype(self) -> DType:
        """The dtype of the real part: float32 for complex64, the dtype itself otherwise."""
        if self.is_complex:
            return float32 if self._np == np.complex64 else float64
        return self

    def is_compatible_with(self, other: Any) -> bool:
        """True if a tensor of ``other``'s dtype can be used where this dtype is expected."""
        return self == as_dtype(other)

    @property
    def min(self):
        self._check_ordered("minimum")
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        self._check_ordered("maximum")
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    def _check_ordered(self, what: str) -> None:
        if self._np.kind == "O":
            raise TypeError(f"Cannot find {what} value of <dtype: '{self.name}'> with type "
                            f"<dtype: '{self.name}'>.")

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self._np == other._np
        try:
            return self._np == as_dtype(other)._np
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self._np)

    def __reduce__(self):
        return as_dtype, (self.name,)


bool_ = DType("bool", np.bool_)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
uint16 = DType("uint16", np.uint16)
uint32 = DType("uint32", np.uint32)
uint64 = DType("uint64", np.uint64)
float16 = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
complex64 = DType("complex64", np.complex64)
complex128 = DType("complex128", np.complex128)
string = DType("string", object)

ALL = (bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
       float16, float32, float64, complex64, complex128)
_BY_NUMPY = {d.np: d for d in ALL}
_BY_NUMPY[string.np] = string
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME["string"] = string
_BY_NAME.update({"half": float16, "float": float32, "double": float64})


def as_dtype(value: Any) -> DType:
    """Convert a name, NumPy dtype, Python type or :class:`DType` to a DType."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    if value is float:
        return float32
    if value is int:
        return int32
    if value is bool:
        return bool_
    if value is str or value is bytes:
        raise TypeError(f"Cannot convert {value!r} to a neuroflow dtype: TensorFlow does "
                        f"not take Python's {value.__name__} type as a dtype. Use tf.string.")
    try:
        np_dtype = np.dtype(value)
        # NumPy's fixed-width text dtypes ('<U5', 'S3') name tf.string, as in TensorFlow.
        if np_dtype.kind in "SU" and not isinstance(value, str):
            return string
        return _BY_NUMPY[np_dtype]
    except (TypeError, KeyError):
        raise TypeError(
            f"Cannot convert {value!r} to a neuroflow dtype. Expected one of "
            f"{sorted(_BY_NAME)} or a NumPy dtype."
        ) from None


def from_numpy(np_dtype: np.dtype) -> DType:
    """The DType of a NumPy dtype (fast path for arrays)."""
    try:
        return _BY_NUMPY[np_dtype]
    except KeyError:
        raise TypeError(f"neuroflow does not support arrays of dtype {np_dtype}.") from None


def default_for_python(value: Any) -> np.dtype:
    """TensorFlow's dtype for a Python scalar: float32, int32 or bool."""
    if isinstance(value, bool):
        return bool_.np
    if isinstance(value, int):
        # TensorFlow falls back to int64 only when the value does not fit int32.
        return int32.np if -(2**31) <= value < 2**31 else int64.np
    if isinstance(value, float):
        return float32.np
    if isinstance(value, complex):
        return complex128.np
    raise TypeError(f"Cannot infer a dtype for {value!r} of type {type(value).__name__}: "
                    f"expected a Python bool, int, float or complex. Pass a number, or give "
                    f"the dtype explicitly.")


def is_differentiable(dtype: DType | np.dtype) -> bool:
    """Gradients flow only through floating (and complex) tensors."""
    kind = dtype.np.kind if isinstance(dtype, DType) else np.dtype(dtype).kind
    return kind in "fc"
