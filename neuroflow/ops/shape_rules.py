"""Shape rules shared by many primitives (each primitive names its rule where it is declared).

A shape rule takes the abstract inputs (``shape`` and ``dtype``; sizes may be
unknown :class:`~neuroflow.abstract.Dim`) and the primitive's attributes, and
returns the abstract result. It must agree with the forward for every input the
forward accepts (``tests/ops/test_shape_rules.py`` checks it against eager runs),
and raise ``ValueError`` for inputs the forward would refuse.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from neuroflow.abstract import AbstractArray, Dim, InconclusiveDimension


def same(x: AbstractArray, **attrs) -> AbstractArray:
    """The result has the input's shape and dtype."""
    return AbstractArray(x.shape, x.dtype)


def same_shape_as(dtype) -> callable:
    """A rule for results shaped like the input with a fixed dtype (``is_nan`` -> bool)."""
    dtype = np.dtype(dtype)

    def rule(x: AbstractArray, *rest, **attrs) -> AbstractArray:
        return AbstractArray(x.shape, dtype)

    return rule


def broadcast_shapes(*shapes: tuple) -> tuple:
    """NumPy's broadcasting of shapes whose sizes may be unknown."""
    rank = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(rank):
        size = 1
        for shape in shapes:
            offset = axis - (rank - len(shape))
            if offset >= 0:
                size = Dim.broadcast(size, shape[offset])
        result.append(size)
    return tuple(result)


def broadcast(*inputs: AbstractArray, **attrs) -> AbstractArray:
    """Elementwise over broadcast inputs; the dtype of the first (inputs share one)."""
    return AbstractArray(broadcast_shapes(*(x.shape for x in inputs)), inputs[0].dtype)


def comparison(*inputs: AbstractArray, **attrs) -> AbstractArray:
    """Elementwise over broadcast inputs, with a bool result."""
    return AbstractArray(broadcast_shapes(*(x.shape for x in inputs)), np.bool_)


def check_axes(axes: tuple | None, ndim: int) -> None:
    """Refuse axes outside ``0 .. ndim-1`` (primitives take normalized, sorted axes)."""
    if axes is not None and any(not 0 <= a < ndim for a in axes):
        raise ValueError(f"axes {axes} are out of range for a tensor of rank {ndim}")


def reduced_shape(shape: tuple, axes: tuple | None, keepdims: bool) -> tuple:
    """``shape`` reduced over ``axes`` (None: all), keeping them as 1 if ``keepdims``."""
    check_axes(axes, len(shape))
    axes = range(len(shape)) if axes is None else axes
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def reduction(x: AbstractArray, axes=None, keepdims=False, **attrs) -> AbstractArray:
    """A reduction over ``axes`` that keeps the input's dtype."""
    return AbstractArray(reduced_shape(x.shape, axes, keepdims), x.dtype)


def bool_reduction(x: AbstractArray, axes=None, keepdims=False, **attrs) -> AbstractArray:
    """A reduction over ``axes`` with a bool result (any, all)."""
    return AbstractArray(reduced_shape(x.shape, axes, keepdims), np.bool_)


# --- size comparisons ------------------------------------------------------------------------


def dims_differ(a, b) -> bool:
    """Whether two sizes certainly differ (False when it depends on the sizes)."""
    try:
        return not a == b
    except InconclusiveDimension:
        return False


def shapes_differ(a: tuple, b: tuple) -> bool:
    """Whether two shapes certainly differ: other ranks, or sizes that certainly differ.

    Wrappers refuse such inputs at trace time; shapes that may differ only for some sizes
    are left to the forward, which checks them when it runs.
    """
    return len(a) != len(b) or any(dims_differ(p, q) for p, q in zip(a, b))


def shape_text(shape: tuple) -> str:
    """``(None, 784)``: a shape as an error message shows it (None for unknown sizes)."""
    return str(tuple(None if isinstance(d, Dim) else d for d in shape))


# --- elementwise ufuncs ----------------------------------------------------------------------


@functools.cache
def ufunc_dtype(ufunc: str, dtypes: tuple) -> np.dtype:
    """The result dtype of ``np.<ufunc>`` on arrays of ``dtypes`` (TypeError if it has none)."""
    # Ask NumPy itself: the ufunc on empty arrays of the inputs' dtypes resolves its loop
    # exactly as the forward will (int32 / int32 -> float64, comparisons -> bool).
    try:
        return getattr(np, ufunc)(*(np.empty((0,), d) for d in dtypes)).dtype
    except TypeError as error:
        names = ", ".join(d.name for d in dtypes)
        raise TypeError(f"np.{ufunc} has no kernel for dtypes {names}: {error}. Use "
                        f"tf.cast to give the inputs a dtype it supports.") from None


def ufunc_result(ufunc: str) -> Callable:
    """A rule for a primitive computed by the NumPy ufunc ``ufunc`` on broadcast inputs."""

    def rule(*inputs: AbstractArray, **attrs) -> AbstractArray:
        dtype = ufunc_dtype(ufunc, tuple(x.dtype for x in inputs))
        return AbstractArray(broadcast_shapes(*(x.shape for x in inputs)), dtype)

    rule.__name__ = f"ufunc_result_{ufunc}"
    return rule
