"""Argument conversion shared by the op wrappers, with TensorFlow's dtype rules.

TensorFlow never promotes between operands of different dtypes. The one
implicit conversion is a non-tensor operand (Python number, list, NumPy value)
taking the dtype of the tensor it meets: NumPy values are cast (as TF casts
them), Python values must keep their kind (``int32 + 1.5`` is an error, as in TF).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuroflow.backend import device_of
from neuroflow.errors import InvalidArgumentError
from neuroflow.tensor import Tensor, convert_to_tensor


class DTypeMismatchError(InvalidArgumentError, TypeError):
    """Operands whose dtypes do not match.

    TensorFlow raises InvalidArgumentError for some ops and operand orders and
    TypeError for others; this error is both, so either ``except`` clause catches it.
    """


class UnsupportedDTypeError(InvalidArgumentError, TypeError):
    """A tensor of a dtype the op has no kernel for.

    TensorFlow raises InvalidArgumentError when it runs the op eagerly and TypeError when
    it builds a graph; this error is both.
    """


_KIND_NAMES = {"f": "floating-point", "c": "complex", "i": "signed integer",
               "u": "unsigned integer", "b": "bool"}


def check_dtype_kind(op: str, tensor: Tensor, kinds: str, name: str = "x",
                     refused: tuple[str, ...] = ()) -> None:
    """Refuse ``tensor`` unless its dtype's NumPy kind is one of ``kinds`` (e.g. ``"fc"``)
    and its dtype is not named in ``refused`` (dtypes of those kinds TF has no kernel for)."""
    dtype = tensor._value.dtype
    # (dtype.name costs microseconds in NumPy: read only when some dtype is refused)
    if dtype.kind in kinds and not (refused and dtype.name in refused):
        return
    accepted = ", ".join(_KIND_NAMES[k] for k in kinds)
    if refused:
        accepted += f" (but not {', '.join(refused)})"
    target = "float32" if "f" in kinds else ("int32" if "i" in kinds else "bool")
    raise UnsupportedDTypeError(
        f"{op} does not support {tensor.dtype.name} tensors ({name} has dtype "
        f"{tensor.dtype.name}); it accepts {accepted} tensors. Use tf.cast({name}, "
        f"tf.{target}) first.", op)


def as_tensor(value: Any, dtype=None) -> Tensor:
    """Fast path of :func:`convert_to_tensor` for op arguments."""
    if type(value) is Tensor and dtype is None:
        return value
    return convert_to_tensor(value, dtype=dtype)


_PYTHON_SCALARS = frozenset((float, int, bool))


def _beside(array: np.ndarray, like) -> Tensor:
    """A tensor of ``array`` on the device of the array ``like`` (host arrays stay put)."""
    if type(like) is not np.ndarray:
        array = device_of(like).asarray(array)
    return Tensor(array)


def _scalar_in(value: Any, like, op: str) -> Tensor:
    """A Python number as a tensor like the array ``like`` (dtype, device), refusing to
    change the number's kind, as TF does."""
    np_dtype = like.dtype
    kind = np_dtype.kind
    number = type(value)
    if kind in "fc" and number is not complex or number is bool or kind == "c":
        if number is float and np_dtype.itemsize < 8 and not -65504.0 <= value <= 65504.0:
            with np.errstate(over="ignore"):  # too large for float16/32: inf, as in TF
                return _beside(np.array(value, dtype=np_dtype), like)
        return _beside(np.array(value, dtype=np_dtype), like)
    if number is int and kind in "iu":
        try:
            return _beside(np.array(value, dtype=np_dtype), like)
        except OverflowError:  # TF wraps out-of-range integers around; so does this
            bits = 8 * np_dtype.itemsize
            wrapped = value & ((1 << bits) - 1)
            if kind == "i" and wrapped >= 1 << (bits - 1):
                wrapped -= 1 << bits
            return _beside(np.array(wrapped, dtype=np_dtype), like)
    name = np_dtype.name
    if kind == "O":  # NumPy's object arrays are tf.string tensors
        raise DTypeMismatchError(
            f"{op}: cannot use the Python {number.__name__} {value!r} with a tensor of dtype "
            f"string; text and numbers do not mix. Convert one side, e.g. "
            f"tf.strings.as_string(number) or tf.strings.to_number(x).", op)
    if kind == "b":
        hint = "Use True/False with bool tensors, or compare first (e.g. x > 0)"
    else:
        target = "float32" if number is float else "complex64"
        hint = f"Cast the tensor first, e.g. tf.cast(x, tf.{target})"
    raise DTypeMismatchError(
        f"{op}: cannot use the Python {number.__name__} {value!r} with a tensor of dtype {name}; "
        f"TensorFlow converts it to {name}, which would change its value. {hint}.", op)


def _is_tensor(value: Any) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "_read_for_op")


def _like(value: Any, tensor: Tensor, op: str) -> Tensor:
    """Convert a non-tensor operand to the dtype of the tensor operand."""
    like = tensor._value
    if type(value) in _PYTHON_SCALARS or type(value) is complex:
        return _scalar_in(value, like, op)
    if isinstance(value, (np.ndarray, np.generic)):
        return _beside(np.asarray(value).astype(like.dtype), like)  # astype copies
    try:
        converted = convert_to_tensor(value, dtype=like.dtype)
    except TypeError as error:
        raise DTypeMismatchError(f"{op}: {error}", op) from None
    if type(like) is not np.ndarray and type(converted._value) is np.ndarray:
        return _beside(converted._value, like)
    return converted


def binary_operands(x: Any, y: Any, op: str) -> tuple[Tensor, Tensor]:
    """Convert two operands the way TensorFlow's binary ops do.

    Two tensors (or variables) must share a dtype; a non-tensor operand takes the
    dtype of the tensor operand; with no tensor operand, ``x`` converts with the
    default dtypes and ``y`` takes its dtype.
    """
    tx, ty = type(x), type(y)
    if tx is Tensor:  # the common cases first, kept fast
        if ty is Tensor:
            if x._value.dtype == y._value.dtype:
                return x, y
        elif ty in _PYTHON_SCALARS:
            return x, _scalar_in(y, x._value, op)
    elif ty is Tensor and tx in _PYTHON_SCALARS:
        return _scalar_in(x, y._value, op), y
    x_is_tensor, y_is_tensor = _is_tensor(x), _is_tensor(y)
    if x_is_tensor and y_is_tensor:
        x, y = as_tensor(x), as_tensor(y)
        check_same_dtype(op, x, y)
        return x, y
    if y_is_tensor:
        y = as_tensor(y)
        return _like(x, y, op), y
    x = as_tensor(x)
    return x, _like(y, x, op)


def check_same_dtype(op: str, *tensors: Tensor, names: tuple[str, ...] = ("x", "y")) -> None:
    """Raise :class:`DTypeMismatchError`, naming both dtypes, unless all dtypes match."""
    first = tensors[0]._value.dtype
    for index, t in enumerate(tensors[1:], start=1):
        if t._value.dtype != first:
            a = names[0] if len(names) > 0 else "input 0"
            b = names[index] if index < len(names) else f"input {index}"
            expected = tensors[0].dtype.name
            raise DTypeMismatchError(
                f"{op}: {a} has dtype {expected} but {b} has dtype {t.dtype.name}. "
                f"neuroflow, like TensorFlow, does not convert dtypes implicitly; "
                f"use tf.cast({b}, tf.{expected}) (or cast {a}) so they match.", op)


def normalize_axis(axis: Any, ndim: int, op: str, *, duplicates: bool = True
                   ) -> tuple[int, ...] | None:
    """Turn ``axis`` (None, int, list or tensor) into a sorted tuple of non-negative axes.

    ``duplicates=False`` refuses an axis named twice (``[0, 0]`` or ``[1, -1]``), as
    TensorFlow's reductions do.
    """
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        axis = axis.numpy().tolist()
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    result = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise InvalidArgumentError(
                f"{op}: axis {a} is out of range for a tensor of rank {ndim} "
                f"(valid axes are {-ndim} to {max(ndim - 1, 0)}).", op)
        result.append(a % ndim if ndim else 0)
    if not duplicates and len(set(result)) != len(result):
        repeated = next(a for a in result if result.count(a) > 1)
        raise InvalidArgumentError(f"{op}: invalid reduction arguments: axes contains "
                                   f"duplicate dimension {repeated} (received axis={axes}).",
                                   op)
    return tuple(sorted(set(result)))
