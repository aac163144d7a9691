"""Tensors made from nothing or from a shape: zeros, ones, fill, range, eye, ..."""

from __future__ import annotations

import numpy as np

from neuroflow.dtypes import as_dtype
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.shape_ops import _shape_list
from neuroflow.tensor import Tensor


def _dims(shape, op: str) -> tuple[int, ...]:
    dims = tuple(_shape_list(shape))
    if any(d < 0 for d in dims):
        raise InvalidArgumentError(f"{op}: dimensions must be non-negative, received "
                                   f"{list(dims)}.", op)
    return dims


def zeros(shape, dtype="float32", name=None) -> Tensor:
    return Tensor(np.zeros(_dims(shape, "zeros"), dtype=as_dtype(dtype).np))


def ones(shape, dtype="float32", name=None) -> Tensor:
    return Tensor(np.ones(_dims(shape, "ones"), dtype=as_dtype(dtype).np))


def zeros_like(input, dtype=None, name=None) -> Tensor:  # noqa: A002
    x = as_tensor(input)
    return Tensor(np.zeros(x._value.shape, dtype=as_dtype(dtype or x.dtype).np))


def ones_like(input, dtype=None, name=None) -> Tensor:  # noqa: A002
    x = as_tensor(input)
    return Tensor(np.ones(x._value.shape, dtype=as_dtype(dtype or x.dtype).np))


def fill(dims, value, name=None) -> Tensor:
    v = as_tensor(value)
    return Tensor(np.full(_dims(dims, "fill"), v._value, dtype=v._value.dtype))


def range_(start, limit=None, delta=1, dtype=None, name="range") -> Tensor:
    """``tf.range``: like Python's range; float arguments give float32."""
    if limit is None:
        start, limit = 0, start
    values = [np.asarray(as_tensor(v)) for v in (start, limit, delta)]
    if float(values[2]) == 0:
        raise InvalidArgumentError("range: delta must not be zero.", "range")
    if dtype is None:
        kinds = {v.dtype.kind for v in values}
        dtype = ("float64" if any(v.dtype == np.float64 for v in values) else "float32") \
            if "f" in kinds else ("int64" if any(v.dtype == np.int64 for v in values)
                                  else "int32")
    np_dtype = as_dtype(dtype).np
    start_, limit_, delta_ = (v.item() for v in values)
    if (delta_ > 0 and start_ > limit_) or (delta_ < 0 and start_ < limit_):
        relation = "start <= limit when delta > 0" if delta_ > 0 else \
            "start >= limit when delta < 0"
        raise InvalidArgumentError(f"range: requires {relation}; received start={start_}, "
                                   f"limit={limit_}, delta={delta_}.", "range")
    return Tensor(np.arange(start_, limit_, delta_).astype(np_dtype))


def linspace(start, stop, num, name=None, axis=0) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (integers give float64)."""
    a, b = as_tensor(start), as_tensor(stop)
    dtype = a._value.dtype if a._value.dtype.kind == "f" else np.float64
    return Tensor(np.linspace(a._value, b._value, int(num), axis=axis).astype(dtype))


def eye(num_rows, num_columns=None, batch_shape=None, dtype="float32", name=None) -> Tensor:
    matrix = np.eye(int(num_rows), None if num_columns is None else int(num_columns),
                    dtype=as_dtype(dtype).np)
    if batch_shape:
        matrix = np.broadcast_to(matrix, tuple(_shape_list(batch_shape)) + matrix.shape).copy()
    return Tensor(matrix)
