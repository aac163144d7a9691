"""Argument conversion shared by the op wrappers, with TensorFlow's dtype rules."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuroflow import dtypes
from neuroflow.errors import InvalidArgumentError
from neuroflow.tensor import Tensor, convert_to_tensor


def as_tensor(value: Any, dtype=None) -> Tensor:
    """Fast path of :func:`convert_to_tensor` for op arguments."""
    if type(value) is Tensor and dtype is None:
        return value
    return convert_to_tensor(value, dtype=dtype)


def _is_python_number(value: Any) -> bool:
    return isinstance(value, (bool, int, float, complex)) or (
        isinstance(value, (list, tuple)) and not any(_has_tensor(v) for v in value))


def _has_tensor(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_has_tensor(v) for v in value)
    return isinstance(value, Tensor) or hasattr(value, "_read_for_op")


def _scalar_in(value: Any, dtype: dtypes.DType, op: str) -> Tensor:
    """Convert a Python number to ``dtype``, refusing to lose its value (as TF does)."""
    array = np.asarray(value)
    if array.dtype.kind == "f" and dtype.is_integer and np.any(array != np.round(array)):
        raise TypeError(f"{op}: cannot convert {value!r} to a {dtype.name} tensor without "
                        f"losing its fractional part. Cast the tensor first: "
                        f"tf.cast(x, tf.float32).")
    if array.dtype.kind == "c" and not dtype.is_complex:
        raise TypeError(f"{op}: cannot combine the complex number {value!r} with a "
                        f"{dtype.name} tensor.")
    return Tensor(array.astype(dtype.np))


def binary_operands(x: Any, y: Any, op: str) -> tuple[Tensor, Tensor]:
    """Convert two operands the way TensorFlow's binary ops do.

    A Python number takes the dtype of the tensor it meets; two tensors (or a
    tensor and a NumPy array) must already share a dtype.
    """
    if type(x) is Tensor and type(y) is Tensor and x._value.dtype == y._value.dtype:
        return x, y  # the common case, kept fast
    if _is_python_number(y) and not _is_python_number(x):
        x = as_tensor(x)
        return x, _scalar_in(y, x.dtype, op)
    if _is_python_number(x) and not _is_python_number(y):
        y = as_tensor(y)
        return _scalar_in(x, y.dtype, op), y
    x, y = as_tensor(x), as_tensor(y)
    check_same_dtype(op, x, y)
    return x, y


def check_same_dtype(op: str, *tensors: Tensor, names: tuple[str, ...] = ("x", "y")) -> None:
    first = tensors[0].dtype
    for index, t in enumerate(tensors[1:], start=1):
        if t.dtype != first:
            a = names[0] if len(names) > 0 else "input 0"
            b = names[index] if index < len(names) else f"input {index}"
            raise InvalidArgumentError(
                f"{op}: {a} has dtype {first.name} but {b} has dtype {t.dtype.name}. "
                f"neuroflow, like TensorFlow, does not convert dtypes implicitly; "
                f"use tf.cast({b}, tf.{first.name}) (or cast {a}) so they match.", op)


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """Turn ``axis`` (None, int, list or tensor) into a sorted tuple of non-negative axes."""
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
    return tuple(sorted(set(result)))
