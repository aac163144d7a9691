"""Reductions over axes: sum, max, min, prod, and the composites built on them."""

from __future__ import annotations

import numpy as np

from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import elementwise as ew
from neuroflow.ops.convert import as_tensor, normalize_axis
from neuroflow.ops.registry import primitive
from neuroflow.tensor import Tensor


def _kept_shape(shape: tuple, axes: tuple | None) -> tuple:
    """``shape`` with the reduced axes set to 1 (what keepdims=True gives)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


@primitive("reduce_sum")
def _reduce_sum(xp, x, axes, keepdims):
    # dtype=: NumPy would widen int32 sums to int64; TensorFlow keeps the input's dtype.
    return xp.sum(x, axis=axes, keepdims=keepdims, dtype=x.dtype)


@_reduce_sum.defvjp
def _reduce_sum_vjp(ctx, g):
    from neuroflow.ops.shape_ops import broadcast_to, reshape

    shape = ctx.input_shapes[0]
    g = reshape(g, _kept_shape(shape, ctx.attrs["axes"]))
    return (broadcast_to(g, shape),)


def _extremum(name, reducer):
    def forward(xp, x, axes, keepdims):
        if x.size == 0:
            # TensorFlow reduces an empty axis to the identity: the dtype's lowest value
            # for max, its highest for min; NumPy would raise.
            if x.dtype.kind == "f":
                initial = -np.inf if reducer == "max" else np.inf
            else:
                info = np.iinfo(x.dtype)
                initial = info.min if reducer == "max" else info.max
            return getattr(xp, reducer)(x, axis=axes, keepdims=keepdims, initial=initial)
        return getattr(xp, reducer)(x, axis=axes, keepdims=keepdims)

    prim = primitive(name, save_inputs=True, save_output=True, smooth=False)(forward)

    @prim.defvjp
    def vjp(ctx, g):
        from neuroflow.ops.shape_ops import reshape

        x = ctx.inputs[0]
        kept = _kept_shape(ctx.input_shapes[0], ctx.attrs["axes"])
        winners = ew.cast(ew.equal(x, reshape(ctx.output, kept)), x.dtype)
        # Ties share the gradient equally, as in TensorFlow.
        count = _reduce_sum(winners, axes=ctx.attrs["axes"], keepdims=True)
        return (winners * (reshape(g, kept) / count),)

    return prim


_reduce_max = _extremum("reduce_max", "max")
_reduce_min = _extremum("reduce_min", "min")


@primitive("reduce_prod", save_inputs=True)
def _reduce_prod(xp, x, axes, keepdims):
    return xp.prod(x, axis=axes, keepdims=keepdims, dtype=x.dtype)


@_reduce_prod.defvjp
def _reduce_prod_vjp(ctx, g):
    # The product of all *other* elements, computed without dividing by x so
    # that zeros are handled: move reduced axes last, take exclusive cumulative
    # products from both ends and multiply them.
    from neuroflow.ops.shape_ops import broadcast_to, reshape, transpose

    x = ctx.inputs[0]
    shape = ctx.input_shapes[0]
    axes = ctx.attrs["axes"] if ctx.attrs["axes"] is not None else tuple(range(len(shape)))
    kept = [i for i in range(len(shape)) if i not in axes]
    perm = kept + list(axes)
    flat = reshape(transpose(x, perm), [*(shape[i] for i in kept), -1])
    left = cumprod(flat, axis=-1, exclusive=True)
    right = cumprod(flat, axis=-1, exclusive=True, reverse=True)
    others = reshape(left * right, [shape[i] for i in perm])
    inverse = np.argsort(perm).tolist()
    others = transpose(others, inverse)
    g = broadcast_to(reshape(g, _kept_shape(shape, ctx.attrs["axes"])), shape)
    return (g * others,)


def _scan(xp, x, accumulate, identity, axis, exclusive, reverse):
    """Cumulative ``accumulate`` along ``axis``, optionally exclusive and/or reversed."""
    if reverse:
        x = xp.flip(x, axis)
    out = accumulate(x, axis=axis, dtype=x.dtype)
    if exclusive:
        out = _shift(xp, out, axis, identity)
    return xp.flip(out, axis) if reverse else out


@primitive("cumsum")
def _cumsum(xp, x, axis, exclusive, reverse):
    return _scan(xp, x, xp.cumsum, 0, axis, exclusive, reverse)


@_cumsum.defvjp
def _cumsum_vjp(ctx, g):
    a = ctx.attrs
    return (_cumsum(g, axis=a["axis"], exclusive=a["exclusive"], reverse=not a["reverse"]),)


@primitive("cumprod", save_inputs=True, save_output=True)
def _cumprod(xp, x, axis, exclusive, reverse):
    return _scan(xp, x, xp.cumprod, 1, axis, exclusive, reverse)


@_cumprod.defvjp
def _cumprod_vjp(ctx, g):
    # d out_j / d x_i = out_j / x_i for j including i; exact where x has no zeros.
    a = ctx.attrs
    x, out = ctx.inputs[0], ctx.output
    summed = _cumsum(g * out, axis=a["axis"], exclusive=a["exclusive"], reverse=not a["reverse"])
    return (ew.divide_no_nan(summed, x),)


def _shift(xp, out, axis, fill):
    """Shift ``out`` one step along ``axis``, filling the front with ``fill``."""
    shifted = xp.roll(out, 1, axis=axis)
    index = [slice(None)] * out.ndim
    index[axis] = 0
    shifted[tuple(index)] = fill
    return shifted


@primitive("reduce_any", differentiable=False)
def _reduce_any(xp, x, axes, keepdims):
    return xp.any(x, axis=axes, keepdims=keepdims)


@primitive("reduce_all", differentiable=False)
def _reduce_all(xp, x, axes, keepdims):
    return xp.all(x, axis=axes, keepdims=keepdims)


@primitive("argmax", differentiable=False)
def _argmax(xp, x, axis, output_type):
    return xp.argmax(x, axis=axis).astype(output_type)


@primitive("argmin", differentiable=False)
def _argmin(xp, x, axis, output_type):
    return xp.argmin(x, axis=axis).astype(output_type)


# --- public wrappers -----------------------------------------------------------------


def _reduce(prim, x, axis, keepdims, name):
    x = _numeric(x, name)
    axes = normalize_axis(axis, x._value.ndim, name)
    return prim(x, axes=axes, keepdims=bool(keepdims))


def _numeric(x, op: str) -> Tensor:
    x = as_tensor(x)
    if x._value.dtype.kind == "b":
        raise TypeError(f"{op} does not accept bool tensors (TensorFlow has no kernel for "
                        f"them); use tf.cast(x, tf.int32) first, or tf.reduce_any/reduce_all.")
    return x


def _boolean(x, op: str) -> Tensor:
    x = as_tensor(x)
    if x._value.dtype.kind != "b":
        raise TypeError(f"{op} expects a bool tensor, received {x.dtype.name}. Compare "
                        f"first, e.g. tf.{op}(x > 0).")
    return x


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Sum over ``axis`` (all axes when None).

    >>> import neuroflow as tf
    >>> tf.reduce_sum(tf.constant([[1, 2], [3, 4]]), axis=0).numpy()
    array([4, 6], dtype=int32)
    """
    return _reduce(_reduce_sum, input_tensor, axis, keepdims, "reduce_sum")


def reduce_max(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    return _reduce(_reduce_max, input_tensor, axis, keepdims, "reduce_max")


def reduce_min(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    return _reduce(_reduce_min, input_tensor, axis, keepdims, "reduce_min")


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    return _reduce(_reduce_prod, input_tensor, axis, keepdims, "reduce_prod")


def _count(x: Tensor, axes) -> int:
    shape = x._value.shape
    return int(np.prod([shape[a] for a in axes] if axes is not None else shape, dtype=np.int64))


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Mean over ``axis``. Integer tensors give an integer mean truncated toward zero, as TF."""
    x = _numeric(input_tensor, "reduce_mean")
    axes = normalize_axis(axis, x._value.ndim, "reduce_mean")
    total = _reduce_sum(x, axes=axes, keepdims=bool(keepdims))
    count = _count(x, axes)
    if x._value.dtype.kind in "iu":
        # floordiv rounds toward -inf; step negative inexact quotients back up by one.
        floor = ew.floordiv(total, count)
        inexact = ew.logical_and(ew.less(total, 0), ew.not_equal(ew.floormod(total, count), 0))
        return ew.where(inexact, floor + 1, floor)
    return total / count


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    x = as_tensor(input_tensor)
    if x._value.dtype.kind not in "fc":
        raise TypeError(f"reduce_variance expects a floating tensor, received {x.dtype.name}.")
    mean = reduce_mean(x, axis, keepdims=True)
    return reduce_mean(ew.square(x - mean), axis, keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    return ew.sqrt(reduce_variance(input_tensor, axis, keepdims))


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """``log(sum(exp(x)))`` computed stably by subtracting the maximum first."""
    from neuroflow.ops.shape_ops import stop_gradient

    x = as_tensor(input_tensor)
    axes = normalize_axis(axis, x._value.ndim, "reduce_logsumexp")
    peak = stop_gradient(_reduce_max(x, axes=axes, keepdims=True))
    # An all -inf row has max -inf; shift by 0 there so the result is -inf, not nan.
    peak = ew.where(ew.is_finite(peak), peak, ew.zeros_like_value(peak))
    total = _reduce_sum(ew.exp(x - peak), axes=axes, keepdims=True)
    result = ew.log(total) + peak
    if not keepdims:
        from neuroflow.ops.shape_ops import squeeze

        result = squeeze(result, axes) if axes is not None else squeeze(result)
    return result


def reduce_any(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Logical or over ``axis`` of a bool tensor."""
    x = _boolean(input_tensor, "reduce_any")
    axes = normalize_axis(axis, x._value.ndim, "reduce_any")
    return _reduce_any(x, axes=axes, keepdims=bool(keepdims))


def reduce_all(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Logical and over ``axis`` of a bool tensor."""
    x = _boolean(input_tensor, "reduce_all")
    axes = normalize_axis(axis, x._value.ndim, "reduce_all")
    return _reduce_all(x, axes=axes, keepdims=bool(keepdims))


def _single_axis(x: Tensor, axis, op: str) -> int:
    if x._value.ndim == 0:
        raise InvalidArgumentError(f"{op} needs a tensor of rank >= 1 to pick axis {axis} "
                                   f"from, received a scalar.", op)
    (a,) = normalize_axis(axis, x._value.ndim, op)
    return a


def argmax(input, axis=None, output_type="int64", name=None) -> Tensor:  # noqa: A002
    """Index of the largest value along ``axis`` (default 0, as TF)."""
    from neuroflow.dtypes import as_dtype

    x = as_tensor(input)
    return _argmax(x, axis=_single_axis(x, 0 if axis is None else axis, "argmax"),
                   output_type=as_dtype(output_type).np)


def argmin(input, axis=None, output_type="int64", name=None) -> Tensor:  # noqa: A002
    from neuroflow.dtypes import as_dtype

    x = as_tensor(input)
    return _argmin(x, axis=_single_axis(x, 0 if axis is None else axis, "argmin"),
                   output_type=as_dtype(output_type).np)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    x = as_tensor(x)
    return _cumsum(x, axis=_single_axis(x, axis, "cumsum"), exclusive=bool(exclusive),
                   reverse=bool(reverse))


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    x = as_tensor(x)
    return _cumprod(x, axis=_single_axis(x, axis, "cumprod"), exclusive=bool(exclusive),
                    reverse=bool(reverse))
