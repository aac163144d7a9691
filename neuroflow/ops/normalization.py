"""Normalizing and clipping (``tf.nn`` statistics, ``tf.clip_by_norm``, ``tf.nn.lrn``).

All are composites of primitives with no gradient code of their own: each follows
TensorFlow's formula step by step, so values at the edges (a zero vector, an infinite
norm, a zero weight sum) and the gradients there come out as TensorFlow's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neuroflow.abstract import is_known
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import creation, linalg
from neuroflow.ops import elementwise as ew
from neuroflow.ops import reductions as red
from neuroflow.ops import shape_ops as so
from neuroflow.ops.convert import DTypeMismatchError, as_tensor
from neuroflow.tensor import Tensor


def _floating(x, op: str) -> Tensor:
    x = as_tensor(x)
    if x._value.dtype.kind != "f":
        raise DTypeMismatchError(f"{op} expects a floating-point tensor, received "
                                 f"{x.dtype.name}. Use tf.cast(x, tf.float32) first.", op)
    return x


def _like(value, x: Tensor) -> Tensor:
    """``value`` as a tensor of ``x``'s dtype (TensorFlow casts these arguments)."""
    value = as_tensor(value)
    return value if value._value.dtype == x._value.dtype else ew.cast(value, x._value.dtype)


def _axes(axis):
    """An axis argument as reduce_sum takes it (a list of ints stays a list)."""
    if isinstance(axis, (list, tuple)):
        return [int(a) for a in axis]
    return axis


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None) -> Tensor:
    """``x / sqrt(max(sum(x ** 2, axis), epsilon))``: unit L2 norm along ``axis``."""
    axis = dim if axis is None else axis
    x = _floating(x, "l2_normalize")
    square_sum = red.reduce_sum(ew.square(x), _axes(axis), keepdims=True)
    return x * ew.rsqrt(ew.maximum(square_sum, _like(epsilon, x)))


def clip_by_norm(t, clip_norm, axes=None, name=None) -> Tensor:
    """Scale ``t`` down so its L2 norm over ``axes`` is at most ``clip_norm``.

    A negative ``clip_norm`` counts as 0, as in TensorFlow. The norm of a zero ``t`` is
    taken without a square root of 0, so the gradient there is finite.
    """
    values = _floating(t, "clip_by_norm")
    if isinstance(clip_norm, (int, float, np.integer, np.floating)):
        clip_norm = max(float(clip_norm), 0.0)
    else:
        clip_norm = _like(ew.maximum(as_tensor(clip_norm), 0), values)
    l2sum = red.reduce_sum(values * values, _axes(axes), keepdims=True)
    positive = ew.greater(l2sum, 0)
    l2sum_safe = ew.where(positive, l2sum, ew.ones_like_value(l2sum))
    l2norm = ew.where(positive, ew.sqrt(l2sum_safe), l2sum)
    scaled = values * clip_norm
    if len(scaled._value.shape) != len(values._value.shape) or any(
            is_known(a) and is_known(b) and a != b
            for a, b in zip(scaled._value.shape, values._value.shape)):
        raise ValueError(f"clip_by_norm: clip_norm must broadcast to the shape of t "
                         f"{tuple(values._value.shape)}, but the product has shape "
                         f"{tuple(scaled._value.shape)}.")
    return scaled / ew.maximum(l2norm, clip_norm)


def _sequence(t_list, op: str) -> list:
    if not isinstance(t_list, Sequence) or isinstance(t_list, str):
        raise TypeError(f"{op}: `t_list` should be a sequence of tensors. Received "
                        f"{type(t_list).__name__}.")
    return list(t_list)


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scale every tensor of ``t_list`` by ``clip_norm / max(global_norm, clip_norm)``.

    Returns ``(clipped list, global norm)``; None entries stay None. An infinite or NaN
    norm makes every entry NaN, as in TensorFlow, rather than silently keeping them.
    """
    t_list = _sequence(t_list, "clip_by_global_norm")
    use_norm = linalg.global_norm(t_list) if use_norm is None else as_tensor(use_norm)
    one = np.asarray(1.0, use_norm._value.dtype)
    clip_norm = _like(clip_norm, use_norm)
    scale = clip_norm * ew.minimum(one / use_norm, one / clip_norm)
    scale = scale + (use_norm - use_norm)  # NaN when the norm is not finite
    clipped = [None if t is None else as_tensor(t) * _like(scale, as_tensor(t))
               for t in t_list]
    return clipped, use_norm


def sufficient_statistics(x, axes, shift=None, keepdims=False, name=None):
    """``(count, sum(x - shift), sum((x - shift) ** 2), shift)`` over ``axes``."""
    x = as_tensor(x)
    axes = _axes(list(axes) if isinstance(axes, (list, tuple)) else [axes])
    rank = x._value.ndim
    for a in axes:
        if not -rank <= a < rank:
            raise InvalidArgumentError(f"sufficient_statistics: axis {a} is out of range for "
                                       f"a tensor of rank {rank}.", "sufficient_statistics")
    sizes = [x._value.shape[a] for a in axes]
    if all(is_known(d) for d in sizes):
        counts = Tensor(np.asarray(np.prod(sizes, dtype=np.int64), x._value.dtype))
    else:
        dims = so.gather(ew.cast(so.shape(x), x._value.dtype), [a % rank for a in axes])
        counts = red.reduce_prod(dims)
    if shift is not None:
        shift = as_tensor(shift)  # a Python float is float32, as in TensorFlow
        mean_ss, variance_ss = x - shift, ew.squared_difference(x, shift)
    else:
        mean_ss, variance_ss = x, ew.square(x)
    return (counts, red.reduce_sum(mean_ss, axes, keepdims=keepdims),
            red.reduce_sum(variance_ss, axes, keepdims=keepdims), shift)


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """Mean and variance from the sums :func:`sufficient_statistics` returns."""
    divisor = ew.reciprocal(as_tensor(counts))
    shifted_mean = as_tensor(mean_ss) * divisor
    mean = shifted_mean if shift is None else shifted_mean + as_tensor(shift)
    variance = as_tensor(variance_ss) * divisor - ew.square(shifted_mean)
    return mean, variance


def weighted_moments(x, axes, frequency_weights, keepdims=False, name=None):
    """Mean and variance over ``axes`` with each entry counted ``frequency_weights`` times.

    A zero total weight gives 0 (not NaN), as TensorFlow's divide_no_nan does; float16
    inputs are computed in float32 and rounded back.
    """
    x = _floating(x, "weighted_moments")
    half = x._value.dtype == np.float16
    if half:
        x = ew.cast(x, np.float32)
    weights = _like(frequency_weights, x)
    axes = _axes(axes)
    weighted_sum = red.reduce_sum(weights * x, axes, keepdims=True)
    # Weights broadcast to x's shape first: each entry of x counts its weight once.
    total_weight = red.reduce_sum(weights + creation.zeros_like(x), axes, keepdims=True)
    mean = ew.divide_no_nan(weighted_sum, total_weight)
    distances = red.reduce_sum(weights * ew.squared_difference(x, mean), axes, keepdims=True)
    variance = ew.divide_no_nan(distances, total_weight)
    if not keepdims:
        mean, variance = so.squeeze(mean, axes), so.squeeze(variance, axes)
    if half:
        mean, variance = ew.cast(mean, np.float16), ew.cast(variance, np.float16)
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, in TensorFlow's order."""
    x = _floating(x, "batch_normalization")
    inv = ew.rsqrt(as_tensor(variance) + variance_epsilon)
    if scale is not None:
        inv = inv * scale
    shift = -(as_tensor(mean) * inv) if offset is None else offset - as_tensor(mean) * inv
    return x * _like(inv, x) + _like(shift, x)


def zero_fraction(value, name=None) -> Tensor:
    """The fraction of entries equal to zero, as float32 (NaN for an empty tensor)."""
    x = as_tensor(value)
    zero = ew.equal(x, ew.zeros_like_value(x))
    with np.errstate(invalid="ignore"):  # an empty tensor: 0 / 0 is NaN, as in TensorFlow
        return red.reduce_mean(ew.cast(zero, np.float32))


def local_response_normalization(input, depth_radius=5, bias=1.0, alpha=1.0,  # noqa: A002
                                 beta=0.5, name=None) -> Tensor:
    """``x / (bias + alpha * sum of x**2 over 2r+1 neighbouring channels) ** beta``.

    ``input`` is 4-D with channels last; the window is cut at the edges of the channels.
    """
    x = as_tensor(input)
    if x._value.dtype not in (np.float16, np.float32):
        raise DTypeMismatchError(f"local_response_normalization expects float16 or float32, "
                                 f"received {x.dtype.name}.", "LRN")
    if x._value.ndim != 4:
        raise InvalidArgumentError(f"local_response_normalization: the input must be "
                                   f"4-dimensional (batch, height, width, channels), received "
                                   f"rank {x._value.ndim}.", "LRN")
    radius = int(depth_radius)
    if radius < 0:
        raise InvalidArgumentError(f"local_response_normalization: depth_radius must be >= 0, "
                                   f"received {radius}.", "LRN")
    squares = so.pad(ew.square(x), [[0, 0], [0, 0], [0, 0], [radius, radius]])
    # Window sums as 2r+1 shifted slices, each ending 2r - offset before the end (so the
    # channel count, perhaps unknown while tracing, is never needed).
    window = None
    for offset in range(2 * radius + 1):
        end = offset - 2 * radius
        part = squares[..., offset:end if end else None]
        window = part if window is None else window + part
    return x / ew.pow(window * alpha + bias, _like(beta, x))


lrn = local_response_normalization

