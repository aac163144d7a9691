"""Tensors made from nothing or from a shape: zeros, ones, fill, range, eye, ...

Eagerly (and in a trace, from plain Python values) these make arrays directly. From
tensors only known when a ``tf.function`` runs (``tf.zeros(tf.shape(x))``,
``tf.range(n)``, ``tf.fill(dims, x[0])``) they become graph ops: a broadcast of the
value to the shape, or the ``range`` and ``linspace`` primitives.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neuroflow.abstract import AbstractArray, Dim, is_known
from neuroflow.dtypes import as_dtype
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.ops.shape_ops import (
    _broadcast_to,
    _check_nonnegative,
    _decided,
    _is_symbolic,
    _static_size,
    known_sizes,
    run_time_count,
    shape_argument,
)
from neuroflow.tensor import Tensor, host_array


def _dims(shape, op: str) -> tuple[tuple, Callable[[], Tensor] | None]:
    dims, sizes = shape_argument(shape, op)
    _check_nonnegative(dims, op)
    return dims, sizes


def _full(dims: tuple, sizes: Callable[[], Tensor] | None, value: Tensor,
          differentiable: bool = False) -> Tensor:
    """``value`` (0-d) at every position of ``dims``: an array when all is known, else a
    graph op broadcasting the value (taking the shape as a tensor, ``sizes()``, where it
    holds sizes only known when the graph runs). ``differentiable``: always the op, so a
    tape sees it (the value is the user's tensor)."""
    if all(type(d) is int for d in dims) and not _is_symbolic(value) and not differentiable:
        return Tensor(np.full(dims, value._value, dtype=value._value.dtype))
    run_time = sizes is not None and any(d is None for d in dims)
    return _broadcast_to(value, *([sizes()] if run_time else []), shape=dims)


def _zeros(dims, dtype) -> np.ndarray:
    # A string tensor's zero is the empty string (np.zeros would fill it with int 0).
    return np.full(dims, b"", dtype=object) if np.dtype(dtype).kind == "O" else \
        np.zeros(dims, dtype)


def _ones(dims, dtype) -> np.ndarray:
    if np.dtype(dtype).kind == "O":
        raise TypeError("Cannot convert 1 to EagerTensor of dtype string: strings have no "
                        "one. Use tf.fill(dims, value) with the string wanted.")
    return np.ones(dims, dtype)


def zeros(shape, dtype="float32", name=None) -> Tensor:
    dtype = as_dtype(dtype).np
    dims, sizes = _dims(shape, "zeros")
    if sizes is None and all(type(d) is int for d in dims):
        return Tensor(_zeros(dims, dtype))
    return _full(dims, sizes, Tensor(_zeros((), dtype)))


def ones(shape, dtype="float32", name=None) -> Tensor:
    dtype = as_dtype(dtype).np
    dims, sizes = _dims(shape, "ones")
    if sizes is None and all(type(d) is int for d in dims):
        return Tensor(_ones(dims, dtype))
    return _full(dims, sizes, Tensor(_ones((), dtype)))


def _like(x: Tensor, make, dtype) -> Tensor:
    """``make(shape, dtype)`` (_zeros, _ones) for ``x``'s shape; with unknown sizes, its
    one value broadcast to that shape."""
    dims = x._value.shape
    dtype = as_dtype(dtype or x.dtype).np
    if type(x._value) is not AbstractArray or all(type(d) is int for d in dims):
        return Tensor(make(dims, dtype))
    return _full(tuple(dims), None, Tensor(make((), dtype)))


def zeros_like(input, dtype=None, name=None) -> Tensor:  # noqa: A002
    return _like(as_tensor(input), _zeros, dtype)


def ones_like(input, dtype=None, name=None) -> Tensor:  # noqa: A002
    x = as_tensor(input)
    if np.dtype(as_dtype(dtype or x.dtype).np).kind == "O":
        # TensorFlow's OnesLike kernel has no string type.
        raise InvalidArgumentError("ones_like: Value for attr 'T' of string is not in the "
                                   "list of allowed values (numbers and bool). Use "
                                   "tf.fill(tf.shape(x), value) with the string wanted.",
                                   "OnesLike")
    return _like(x, _ones, dtype)


def fill(dims, value, name=None) -> Tensor:
    v = as_tensor(value)
    if v._value.ndim != 0:
        raise InvalidArgumentError(f"fill: value must represent a scalar, got shape "
                                   f"{list(v.shape)}. To repeat a vector, use tf.tile or "
                                   f"tf.broadcast_to.", "fill")
    shape, sizes = _dims(dims, "fill")
    given_tensor = isinstance(value, Tensor) or hasattr(value, "_read_for_op")
    return _full(shape, sizes, v, differentiable=given_tensor and v.dtype.is_floating)


def _range_dtype(values: list) -> str:
    kinds = {v.dtype.kind for v in values}
    if "f" in kinds:
        return "float64" if any(v.dtype == np.float64 for v in values) else "float32"
    return "int64" if any(v.dtype == np.int64 for v in values) else "int32"


def _check_range(start, limit, delta) -> None:
    if delta == 0:
        raise InvalidArgumentError("range: delta must not be zero.", "range")
    if (delta > 0 and start > limit) or (delta < 0 and start < limit):
        relation = "start <= limit when delta > 0" if delta > 0 else \
            "start >= limit when delta < 0"
        raise InvalidArgumentError(f"range: requires {relation}; received start={start}, "
                                   f"limit={limit}, delta={delta}.", "range")


def range_(start, limit=None, delta=1, dtype=None, name="range") -> Tensor:
    """``tf.range``: like Python's range; float arguments give float32."""
    if limit is None:
        start, limit = 0, start
    tensors = [as_tensor(v) for v in (start, limit, delta)]
    np_dtype = as_dtype(dtype or _range_dtype([t._value for t in tensors])).np
    if any(_is_symbolic(t) for t in tensors):
        return _traced_range(tensors, np.dtype(np_dtype))
    for t in tensors:
        if t._value.size != 1:  # TensorFlow takes a vector of one value too, eagerly
            raise InvalidArgumentError(f"range: start, limit and delta must be scalars, "
                                       f"received shape {tuple(t.shape)}; pass one number "
                                       f"each.", "range")
    start_, limit_, delta_ = (np.asarray(t._value).item() for t in tensors)
    _check_range(start_, limit_, delta_)
    return Tensor(np.arange(start_, limit_, delta_).astype(np_dtype))


def _traced_range(tensors: list, dtype: np.dtype) -> Tensor:
    for t in tensors:
        if t._value.ndim != 0:
            raise InvalidArgumentError(f"range: start, limit and delta must be scalars, "
                                       f"received shape {tuple(t.shape)}; pass one number "
                                       f"each.", "range")
    # The length, where the trace knows it: tf.range(tf.shape(x)[0]) has x's first size.
    start, limit, delta = (known_sizes(t) if t._value.dtype.kind in "iu" else None
                           for t in tensors)
    length = None
    if delta in (1, -1) and start is not None and limit is not None:
        span = (limit - start) * delta
        if not isinstance(span, Dim) or _decided(lambda: span >= 0):
            length = span
    return _range(*tensors, dtype=dtype, length=length)


def _range_shape(start, limit, delta, dtype, length=None):
    for a in (start, limit, delta):
        if a.ndim != 0:
            raise ValueError(f"range takes scalars, received shape {a.shape}")
    return AbstractArray((Dim.fresh("n") if length is None else length,), dtype)


# tf.range of tensors only known when the graph runs: its length depends on their values
# (``length``: what the trace knows of it, or None).
@primitive("range", differentiable=False, shape=_range_shape, lowering=Lowering(result="fresh"))
def _range(xp, start, limit, delta, dtype, length=None):
    start, limit, delta = (np.asarray(v).item() for v in (start, limit, delta))
    _check_range(start, limit, delta)
    return xp.arange(start, limit, delta).astype(dtype)


def linspace(start, stop, num, name=None, axis=0) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (integers give float64)."""
    a, b = as_tensor(start), as_tensor(stop)
    dtype = np.dtype(a._value.dtype if a._value.dtype.kind == "f" else np.float64)
    given = run_time_count(num, "linspace", "num")
    count = None if given else _static_size(num, "linspace", "num")
    if type(count) is int and count < 0:
        raise InvalidArgumentError(f"linspace: num must be non-negative, received {count}.",
                                   "linspace")
    if given or _is_symbolic(a) or _is_symbolic(b) or not is_known(count):
        return _linspace(a, b, *given, num=count, axis=int(axis), dtype=dtype)
    return Tensor(np.linspace(a._value, b._value, count, axis=axis).astype(dtype))


def _linspace_shape(start, stop, *count, num, axis, dtype):
    from neuroflow.ops.shape_rules import broadcast_shapes

    for c in count:
        if c.ndim != 0 or c.dtype.kind not in "iu":
            raise ValueError(f"num must be an integer scalar, received {c.dtype.name}"
                             f"{list(c.shape)}")
    shape = list(broadcast_shapes(start.shape, stop.shape))
    if not -len(shape) - 1 <= axis <= len(shape):
        raise ValueError(f"axis {axis} is out of range for rank {len(shape) + 1}")
    shape.insert(axis % (len(shape) + 1), Dim.fresh("n") if num is None else num)
    return AbstractArray(shape, dtype)


# np.linspace itself, so traced and eager values agree to the last bit. ``count``, given
# when ``num`` is None: the number of values as a 0-d tensor, only known when the graph runs.
@primitive("linspace", differentiable=False, shape=_linspace_shape,
           lowering=Lowering(result="fresh"))
def _linspace(xp, start, stop, *count, num, axis, dtype):
    if num is None:
        num = int(host_array(count[0]))
    return xp.linspace(start, stop, num, axis=axis).astype(dtype)


def eye(num_rows, num_columns=None, batch_shape=None, dtype="float32", name=None) -> Tensor:
    rows = _static_size(num_rows, "eye", "num_rows")
    columns = None if num_columns is None else _static_size(num_columns, "eye", "num_columns")
    batch = () if not batch_shape else _dims(batch_shape, "eye")[0]
    if not all(type(d) is int for d in (rows, columns or 0, *batch)):
        raise ValueError("eye: the sizes must be known when the function is traced.")
    negative = [d for d in (rows, columns or 0) if d < 0]
    if negative:
        raise InvalidArgumentError(f"eye: sizes must be non-negative (Dimension {negative[0]} "
                                   f"must be >= 0).", "eye")
    matrix = np.eye(rows, columns, dtype=as_dtype(dtype).np)
    if batch:
        matrix = np.broadcast_to(matrix, tuple(batch) + matrix.shape).copy()
    return Tensor(matrix)
