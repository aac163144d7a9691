"""Neural-network ops (``tf.nn``): activations, softmax and cross-entropies.

All are composites of primitives and carry no gradient code of their own,
except ``relu``, which is a primitive because it runs on every hidden layer
and its fused gradient (one mask) is measurably cheaper than ``maximum``'s.
"""

from __future__ import annotations

import functools

import numpy as np

from neuroflow.abstract import AbstractArray, is_known, num_elements
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import elementwise as ew
from neuroflow.ops import reductions as red
from neuroflow.ops import shape_ops as so
from neuroflow.ops import shape_rules as rules
from neuroflow.ops import special
from neuroflow.ops.convert import DTypeMismatchError, as_tensor, check_same_dtype
from neuroflow.ops.random_ops import draw
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.tensor import Tensor


# relu is maximum(x, 0) elementwise: fusion chains it as the ufunc maximum with 0.
@primitive("relu", save_output=True, smooth=False, shape=rules.same,
           lowering=Lowering("np.maximum({0}, 0{out})", out=True, result="fresh",
                             in_place=True, ufunc="maximum"))
def _relu(xp, x):
    return xp.maximum(x, 0)


@_relu.defvjp
def _relu_vjp(ctx, g):
    # TF's rule: the gradient at exactly 0 is 0.
    return (ew.where(ew.greater(ctx.output, 0), g, ew.zeros_like_value(g)),)


def _float(x, op: str) -> Tensor:
    x = as_tensor(x)
    if x._value.dtype.kind not in "fc":
        # TensorFlow's kernels refuse the dtype with InvalidArgumentError (gelu with
        # ValueError); this error is both that and the TypeError older code expects.
        raise DTypeMismatchError(f"{op} expects a floating-point tensor, received "
                                 f"{x.dtype.name}. Use tf.cast(x, tf.float32) first.", op)
    return x


def _real_number(x, op: str) -> Tensor:
    """A tensor of integers or floats: what relu and relu6 accept (not bool or complex)."""
    x = as_tensor(x)
    if x._value.dtype.kind not in "iuf":
        raise DTypeMismatchError(f"{op} expects a tensor of numbers (integer or floating "
                                 f"point), received {x.dtype.name}.", op)
    return x


def relu(features, name=None) -> Tensor:
    return _relu(_real_number(features, "relu"))


def relu6(features, name=None) -> Tensor:
    """``min(max(x, 0), 6)``; the gradient is 0 at both kinks, as in TensorFlow.

    Tested as ``x >= 6`` so that NaN falls through to relu and stays NaN, as in TensorFlow.
    """
    x = _real_number(features, "relu6")
    return ew.where(ew.greater_equal(x, 6), ew.zeros_like_value(x) + 6, relu(x))


def leaky_relu(features, alpha=0.2, name=None) -> Tensor:
    x = as_tensor(features)
    if x._value.dtype.kind in "iu":
        x = ew.cast(x, np.float32)  # TensorFlow computes integer inputs in float32
    x = _float(x, "leaky_relu")
    if isinstance(alpha, (int, float)):
        alpha = float(np.float32(alpha))  # TensorFlow's alpha attribute is a float32
    return ew.where(ew.greater(x, 0), x, x * alpha)


def elu(features, name=None) -> Tensor:
    x = _float(features, "elu")
    negative = ew.expm1(ew.minimum(x, 0))  # min keeps exp finite on the unused branch
    return ew.where(ew.greater(x, 0), x, negative)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(features, name=None) -> Tensor:
    x = _float(features, "selu")
    negative = ew.expm1(ew.minimum(x, 0)) * _SELU_ALPHA
    # x >= 0, not x > 0: TensorFlow's gradient at exactly 0 is the scale, the linear side.
    return ew.where(ew.greater_equal(x, 0), x, negative) * _SELU_SCALE


def gelu(features, approximate=False, name=None) -> Tensor:
    x = _float(features, "gelu")
    if approximate:
        inner = (x + ew.pow(x, 3) * 0.044715) * float(np.sqrt(2 / np.pi))
        return x * 0.5 * (ew.tanh(inner) + 1)
    # erfc(-x / sqrt(2)), not 1 + erf(x / sqrt(2)): for negative x the sum cancels, which
    # float16 cannot afford (gelu(-2.5) would be 2% off).
    return x * 0.5 * special.erfc(x * float(-1 / np.sqrt(2)))


def _stable_softplus_parts(x: Tensor) -> tuple[Tensor, Tensor]:
    """``max(x, 0)`` and ``log1p(exp(-|x|))``, which add up to ``log(1 + exp(x))``.

    Both are split by one ``where(x >= 0)``, as TensorFlow does, rather than
    built from relu and abs: their kinks would give a gradient of 0 at x = 0
    instead of 1/2.
    """
    nonnegative = ew.greater_equal(x, 0)
    positive_part = ew.where(nonnegative, x, ew.zeros_like_value(x))
    negative_abs = ew.where(nonnegative, ew.negative(x), x)
    return positive_part, ew.log1p(ew.exp(negative_abs))


def softplus(features, name=None) -> Tensor:
    """``log(1 + exp(x))`` without overflow: ``max(x, 0) + log1p(exp(-|x|))``."""
    positive_part, tail = _stable_softplus_parts(_float(features, "softplus"))
    return positive_part + tail


def softsign(features, name=None) -> Tensor:
    x = _float(features, "softsign")
    return x / (ew.abs(x) + 1)


def silu(features, beta=1.0, name=None) -> Tensor:
    x = _float(features, "silu")
    one = isinstance(beta, (int, float)) and beta == 1.0  # a tensor beta is never compared
    return x * ew.sigmoid(x if one else x * beta)


swish = silu


def softmax(logits, axis=None, name=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis`` (default last), shifted by the max for safety."""
    x = _float(logits, "softmax")
    axis = _class_axis(x, axis, "softmax")
    shifted = x - so.stop_gradient(red.reduce_max(x, axis=axis, keepdims=True))
    e = ew.exp(shifted)
    return e / red.reduce_sum(e, axis=axis, keepdims=True)


def _class_axis(x: Tensor, axis, op: str):
    """The axis softmax normalizes over (default last), checked as TensorFlow does."""
    rank = x._value.ndim
    if rank == 0:
        raise InvalidArgumentError(f"{op}: logits must have >= 1 dimension, received a "
                                   f"scalar.", op)
    axis = -1 if axis is None else axis
    if isinstance(axis, (int, np.integer)) and not -rank <= axis < rank:
        raise InvalidArgumentError(f"{op}: axis must be in the range [{-rank}, {rank}) where "
                                   f"{rank} is the rank of logits, received axis={axis}.", op)
    return axis


def log_softmax(logits, axis=None, name=None) -> Tensor:
    x = _float(logits, "log_softmax")
    axis = _class_axis(x, axis, "log_softmax")
    shifted = x - so.stop_gradient(red.reduce_max(x, axis=axis, keepdims=True))
    return shifted - ew.log(red.reduce_sum(ew.exp(shifted), axis=axis, keepdims=True))


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None) -> Tensor:
    """Cross-entropy of integer class ``labels`` against unnormalized ``logits``.

    ``labels`` has shape ``logits.shape[:-1]`` and values in ``[0, classes)``.
    """
    if labels is None or logits is None:
        # TensorFlow's labels and logits are required arguments: a TypeError without them.
        raise TypeError(f"sparse_softmax_cross_entropy_with_logits needs labels= and logits=, "
                        f"received {_missing(labels, logits)}=None.")
    z = _float(logits, "sparse_softmax_cross_entropy_with_logits")
    y = as_tensor(labels)
    if y._value.dtype not in (np.int32, np.int64):
        raise DTypeMismatchError(f"sparse_softmax_cross_entropy_with_logits: labels must be "
                                 f"int32 or int64 (class indices), received {y.dtype.name}; "
                                 f"use tf.cast(labels, tf.int32).",
                                 "SparseSoftmaxCrossEntropyWithLogits")
    if z._value.ndim == 0:
        raise ValueError("sparse_softmax_cross_entropy_with_logits: logits cannot be a scalar; "
                         "they need a last axis of classes.")
    if rules.shapes_differ(y._value.shape, z._value.shape[:-1]):
        # TensorFlow raises ValueError here; InvalidArgumentError is one (and what the
        # same mismatch raises when only the running graph can see it).
        raise InvalidArgumentError(
            f"sparse_softmax_cross_entropy_with_logits: labels must have shape "
            f"{rules.shape_text(z._value.shape[:-1])} (the logits' shape without the last "
            f"axis), received {rules.shape_text(y._value.shape)}.",
            "SparseSoftmaxCrossEntropyWithLogits")
    return _sparse_softmax_xent(z, y)


def _missing(labels, logits) -> str:
    return "labels" if labels is None else "logits"


def _xent_shape(logits, labels):
    _check_xent_shapes(logits, labels)
    return AbstractArray(labels.shape, logits.dtype)


def _xent_grad_shape(logits, labels):
    _check_xent_shapes(logits, labels)
    return AbstractArray(logits.shape, logits.dtype)


def _check_xent_shapes(logits, labels) -> None:
    if labels.dtype.kind not in "iu":
        raise TypeError(f"sparse_softmax_xent: labels must be integers, received "
                        f"{labels.dtype.name}")
    if logits.ndim == 0 or rules.shapes_differ(labels.shape, logits.shape[:-1]):
        raise ValueError(f"sparse_softmax_xent: labels must have shape "
                         f"{rules.shape_text(logits.shape[:-1])} (the logits' shape without "
                         f"the last axis), received {rules.shape_text(labels.shape)}")


def _check_labels(xp, logits, labels) -> None:
    """Labels must index the classes of their logits' rows (checked when the op runs)."""
    if labels.shape != logits.shape[:-1]:
        # Sizes unknown while tracing are only compared here, when the graph runs.
        raise InvalidArgumentError(
            f"sparse_softmax_cross_entropy_with_logits: labels must have shape "
            f"{logits.shape[:-1]} (the logits' shape without the last axis), received "
            f"{labels.shape}.", "SparseSoftmaxCrossEntropyWithLogits")
    classes = logits.shape[-1]
    if classes == 0:
        raise InvalidArgumentError(
            f"sparse_softmax_cross_entropy_with_logits: must have at least one class, but got "
            f"logits shape {logits.shape}.", "SparseSoftmaxCrossEntropyWithLogits")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)].reshape(-1)[0]
        raise InvalidArgumentError(
            f"Received a label value of {int(bad)} which is outside the valid range of "
            f"[0, {classes}).", "SparseSoftmaxCrossEntropyWithLogits")


def _row_pick(xp, labels, classes: int):
    """Flat indices of ``[..., labels]`` in an array of shape ``labels.shape + (classes,)``."""
    return _row_starts(xp, labels.size, classes) + labels.reshape(-1)


@functools.lru_cache(maxsize=32)
def _row_starts(xp, rows: int, classes: int):
    # Cached: the training loop asks for the same batch size on every step.
    starts = xp.arange(rows) * classes
    starts.flags.writeable = False
    return starts


# Softmax + cross-entropy fused into one primitive: measurably cheaper than the
# composite (log_softmax, gather, negative) and its gradient, softmax - onehot, is
# one line. tests/ops/test_nn_ops.py checks both against the composite.
@primitive("sparse_softmax_xent", save_inputs=True, shape=_xent_shape,
           lowering=Lowering(result="fresh"))
def _sparse_softmax_xent(xp, logits, labels):
    classes = logits.shape[-1]
    _check_labels(xp, logits, labels)
    with np.errstate(invalid="ignore"):  # an infinite logit gives NaN, as in TensorFlow
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_sum = xp.log(xp.exp(shifted).sum(axis=-1))  # log-sum-exp of the shifted logits
        picked = shifted.reshape(-1)[_row_pick(xp, labels, classes)].reshape(labels.shape)
        return log_sum - picked


@_sparse_softmax_xent.defvjp
def _sparse_softmax_xent_vjp(ctx, g):
    logits, labels = ctx.inputs
    return so.expand_dims(g, -1) * _sparse_softmax_xent_grad(logits, labels), None


@primitive("sparse_softmax_xent_grad", save_inputs=True, shape=_xent_grad_shape,
           lowering=Lowering(result="fresh"))
def _sparse_softmax_xent_grad(xp, logits, labels):
    """softmax(logits) - onehot(labels): the gradient of the loss per logit."""
    if labels.shape != logits.shape[:-1]:
        _check_labels(xp, logits, labels)
    with np.errstate(invalid="ignore"):
        e = logits - logits.max(axis=-1, keepdims=True)
        xp.exp(e, out=e)
        e /= e.sum(axis=-1, keepdims=True)
    e.reshape(-1)[_row_pick(xp, labels, logits.shape[-1])] -= 1
    return e


@_sparse_softmax_xent_grad.defvjp
def _sparse_softmax_xent_grad_vjp(ctx, gg):
    # d(softmax)/d(logits) applied to gg: p * (gg - sum(gg * p)); the one-hot is constant.
    p = softmax(ctx.inputs[0])
    return p * (gg - red.reduce_sum(gg * p, axis=-1, keepdims=True)), None


def sparse_softmax_xent_with_grad(xp, logits, labels):
    """Both primitives above from one softmax: ``(loss, gradient)``, equal to each one's.

    Not a primitive (it makes two arrays and has no gradient rule): graph fusion puts
    it in place of the pair when a compiled step computes the loss and its gradient.
    """
    classes = logits.shape[-1]
    _check_labels(xp, logits, labels)
    pick = _row_pick(xp, labels, classes)
    with np.errstate(invalid="ignore"):  # an infinite logit gives NaN, as in TensorFlow
        # Ufunc reductions rather than the array methods: the same loops, less call overhead.
        e = xp.subtract(logits, xp.maximum.reduce(logits, axis=-1, keepdims=True))
        flat = e.reshape(-1)
        picked = flat[pick].reshape(labels.shape)
        xp.exp(e, out=e)
        total = xp.add.reduce(e, axis=-1, keepdims=True)
        loss = xp.log(total.reshape(labels.shape))
        loss -= picked
        e /= total
    flat[pick] -= 1
    return loss, e


def softmax_cross_entropy_with_logits(labels=None, logits=None, axis=-1, name=None) -> Tensor:
    """Cross-entropy of probability ``labels`` against unnormalized ``logits``."""
    if labels is None or logits is None:
        raise TypeError(f"softmax_cross_entropy_with_logits needs labels= and logits=, "
                        f"received {_missing(labels, logits)}=None.")
    z = _float(logits, "softmax_cross_entropy_with_logits")
    y = as_tensor(labels)
    if y._value.dtype != z._value.dtype:
        # TensorFlow casts the labels (integer one-hot, float64 probabilities) to the
        # logits' dtype; the result has the logits' dtype.
        y = ew.cast(y, z._value.dtype)
    if z._value.ndim == 0 or y._value.ndim == 0:
        raise InvalidArgumentError(
            f"softmax_cross_entropy_with_logits: labels and logits need a class axis, "
            f"received shapes {rules.shape_text(y._value.shape)} and "
            f"{rules.shape_text(z._value.shape)}.", "SoftmaxCrossEntropyWithLogits")
    if not _broadcastable(y._value.shape, z._value.shape):
        raise InvalidArgumentError(
            f"softmax_cross_entropy_with_logits: labels shape {rules.shape_text(y._value.shape)} "
            f"and logits shape {rules.shape_text(z._value.shape)} must be broadcastable.",
            "SoftmaxCrossEntropyWithLogits")
    loss = ew.negative(red.reduce_sum(y * log_softmax(z, axis=axis), axis=axis))
    # TensorFlow's kernel gives softmax - labels as the logits' gradient: the true gradient,
    # softmax * sum(labels) - labels, only where each row of labels sums to 1. A term whose
    # value is 0 and whose logits gradient is softmax * (sum(labels) - 1) takes it back.
    excess = so.stop_gradient(red.reduce_sum(y, axis=axis) - 1)
    log_total = red.reduce_logsumexp(z, axis=axis)
    return loss - excess * (log_total - so.stop_gradient(log_total))


def _broadcastable(a: tuple, b: tuple) -> bool:
    """False when the shapes certainly do not broadcast (unknown sizes are given the benefit)."""
    return not any(rules.dims_differ(p, q) and rules.dims_differ(p, 1) and rules.dims_differ(q, 1)
                   for p, q in zip(reversed(a), reversed(b)))


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None) -> Tensor:
    """``max(x, 0) - x * z + log(1 + exp(-|x|))``: stable for any logits ``x``."""
    if labels is None or logits is None:
        raise ValueError(f"sigmoid_cross_entropy_with_logits needs labels= and logits=, "
                         f"received {_missing(labels, logits)}=None.")
    x = _float(logits, "sigmoid_cross_entropy_with_logits")
    z = as_tensor(labels)
    check_same_dtype("sigmoid_cross_entropy_with_logits", z, x, names=("labels", "logits"))
    if rules.shapes_differ(z._value.shape, x._value.shape):
        raise InvalidArgumentError(
            f"sigmoid_cross_entropy_with_logits: labels shape {rules.shape_text(z._value.shape)} "
            f"and logits shape {rules.shape_text(x._value.shape)} must match.", "logistic_loss")
    positive_part, tail = _stable_softplus_parts(x)
    return positive_part - x * z + tail


def l2_loss(t, name=None) -> Tensor:
    """``sum(t ** 2) / 2``."""
    return red.reduce_sum(ew.square(_float(t, "l2_loss"))) / 2


def bias_add(value, bias, data_format=None, name=None) -> Tensor:
    x = as_tensor(value)
    if isinstance(bias, Tensor) and bias._value.dtype != x._value.dtype:
        raise DTypeMismatchError(f"bias_add: the bias has dtype {bias.dtype.name} but the value "
                                 f"has {x.dtype.name}; cast one to the other's dtype.",
                                 "BiasAdd")
    b = as_tensor(bias, dtype=x._value.dtype)  # TensorFlow converts bias to value's dtype
    if data_format is not None and not (data_format.startswith("NC") or (
            data_format.startswith("N") and data_format.endswith("C"))):
        raise ValueError(f"bias_add: `data_format` must be of the form `N...C` or `NC...`. "
                         f"Received: data_format={data_format}")
    if b._value.ndim != 1:
        raise InvalidArgumentError(f"bias_add: bias must be 1-D, received shape "
                                   f"{tuple(b._value.shape)}.", "BiasAdd")
    channel = 1 if data_format is not None and data_format.startswith("NC") else -1
    if x._value.ndim < 2:
        raise InvalidArgumentError(f"bias_add: the input must be at least 2-D, received shape "
                                   f"{rules.shape_text(x._value.shape)}.", "BiasAdd")
    if rules.dims_differ(x._value.shape[channel], b._value.shape[0]):
        raise InvalidArgumentError(
            f"bias_add: bias has {b._value.shape[0]} entries but the input's channel "
            f"dimension is {x._value.shape[channel]} (shape {rules.shape_text(x._value.shape)}).",
            "BiasAdd")
    if channel == 1:
        b = red._reshaped(b, (b._value.shape[0],) + (1,) * (x._value.ndim - 2))
    return ew.add(x, b)


def dropout(x, rate, noise_shape=None, seed=None, name=None) -> Tensor:
    """Zero each element with probability ``rate``, scaling the rest by ``1/(1-rate)``.

    ``rate`` may be a tensor computed in a traced function; it is then checked by nothing
    and used as it is when the graph runs.
    """
    x = _float(x, "dropout")
    dtype = x._value.dtype
    shape = x._value.shape if noise_shape is None else tuple(
        d if d is not None else s for d, s in zip(noise_shape, x._value.shape))
    if isinstance(rate, Tensor) or hasattr(rate, "_read_for_op"):
        rate = as_tensor(rate)  # a variable read while tracing is symbolic too
        if type(rate._value) is AbstractArray:
            rate = ew.cast(rate, dtype)
            keep = ew.greater_equal(draw("uniform", shape, dtype, seed), rate)
            return x * ew.cast(keep, dtype) / (1 - rate)
    rate = float(rate)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1), received {rate}.")
    if rate == 0:
        return x
    keep = ew.greater_equal(draw("uniform", shape, dtype, seed), rate)
    scale = np.asarray(1 / (1 - rate), dtype=dtype)
    return x * ew.cast(keep, dtype) * scale


def moments(x, axes, shift=None, keepdims=False, name=None) -> tuple[Tensor, Tensor]:
    mean = red.reduce_mean(x, axes, keepdims=True)
    variance = red.reduce_mean(ew.square(x - so.stop_gradient(mean)), axes, keepdims=True)
    if not keepdims:
        mean, variance = so.squeeze(mean, axes), so.squeeze(variance, axes)
    return mean, variance


def top_k(input, k=1, sorted=True, name=None):  # noqa: A002
    """The ``k`` largest entries along the last axis and their indices."""
    from collections import namedtuple

    x = _sortable(input, "top_k", "TopKV2")
    if x._value.ndim == 0:
        raise InvalidArgumentError("top_k: the input must have rank >= 1, received a scalar.",
                                   "TopKV2")
    n = x._value.shape[-1]
    k = _count(k)
    if k < 0 or is_known(n) and k > n:  # an unknown n is checked when the graph runs
        raise InvalidArgumentError(f"top_k: k={k} is out of range for a last axis of size {n}.",
                                   "TopKV2")
    order = _argsort_last(x, descending=True, k=k)
    values = _take_along_last(x, order)
    return namedtuple("TopKV2", ["values", "indices"])(values, order)


def _sortable(values, op: str, kernel: str) -> Tensor:
    x = as_tensor(values)
    if x._value.dtype.kind not in "iuf":
        # TensorFlow's TopKV2 kernel (which sorts too) has no bool or complex version.
        raise DTypeMismatchError(f"{op} expects integer or floating-point values, received "
                                 f"{x.dtype.name}.", kernel)
    return x


def _count(k) -> int:
    """top_k's ``k``: a Python or tensor integer (a traced tensor raises SymbolicValueError)."""
    kind = k._value.dtype.kind if isinstance(k, Tensor) else np.asarray(k).dtype.kind
    if kind not in "iu":
        raise DTypeMismatchError(f"top_k: k must be an integer, received {k!r}.", "TopKV2")
    return int(k)


def _argsort_shape(x, descending, k=None):
    if x.ndim == 0:
        raise ValueError("argsort: the input must have rank >= 1")
    last = x.shape[-1] if k is None else k
    return AbstractArray((*x.shape[:-1], last), np.int32)


@primitive("argsort", differentiable=False, shape=_argsort_shape)
def _argsort_last(xp, x, descending, k=None):
    if k is not None and k > x.shape[-1]:
        # top_k checks k while tracing when the size is known; an unknown size is checked here.
        raise InvalidArgumentError(f"top_k: k={k} is out of range for a last axis of size "
                                   f"{x.shape[-1]}.", "TopKV2")
    # Stable sorts keep the lower index first among equal values, as TF does. NaN ranks
    # above every number (NumPy's order): last ascending, first descending.
    if not descending:
        order = xp.argsort(x, axis=-1, kind="stable")
    elif x.dtype.kind in "iu":
        order = xp.argsort(~x, axis=-1, kind="stable")  # ~x reverses the order, never overflows
    else:
        order = xp.argsort(-x, axis=-1, kind="stable")
        nan_last = xp.isnan(xp.take_along_axis(x, order, axis=-1))
        order = xp.take_along_axis(order, xp.argsort(~nan_last, axis=-1, kind="stable"), -1)
    return (order if k is None else order[..., :k]).astype(np.int32)


def _take_along_last(x: Tensor, index: Tensor) -> Tensor:
    """``x[..., index]`` row by row, as a gather (so it is differentiable and traceable)."""
    n = x._value.shape[-1]
    shape = index._value.shape
    if all(is_known(d) for d in (*shape, n)):
        rows = np.arange(int(np.prod(shape[:-1], dtype=np.int64))).reshape(shape[:-1] + (1,))
        starts = Tensor((rows * n).astype(np.int32))
    else:
        starts = _row_offsets(x, index)
    flat_index = red._reshaped(ew.add(starts, index), (num_elements(shape),))
    picked = so._gather(red._reshaped(x, (num_elements(x._value.shape),)), flat_index, axis=0)
    return red._reshaped(picked, shape)


def _row_offsets_shape(x, index):
    if x.ndim == 0 or index.ndim != x.ndim:
        raise ValueError(f"row_offsets: x and index must have one rank >= 1, received ranks "
                         f"{x.ndim} and {index.ndim}")
    return AbstractArray((*index.shape[:-1], 1), np.int32)


# Where each row of ``x`` (the leading axes of ``index``) starts in ``x`` flattened: what
# _take_along_last adds to row-wise indices when sizes are unknown while tracing. It reads
# only the shapes, so graph passes fold it once the sizes are known.
@primitive("row_offsets", differentiable=False, shape_only=True, shape=_row_offsets_shape)
def _row_offsets(xp, x, index):
    rows = index.shape[:-1]
    starts = xp.arange(int(np.prod(rows, dtype=np.int64)), dtype=np.int32) * x.shape[-1]
    return starts.reshape(rows + (1,))


def sort(values, axis=-1, direction="ASCENDING", name=None) -> Tensor:
    x = _sortable(values, "sort", "TopKV2")
    order = argsort(x, axis=axis, direction=direction)
    moved = _move_last(x, axis)
    return _move_back(_take_along_last(moved, _move_last(order, axis)), axis)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None) -> Tensor:
    x = _sortable(values, "argsort", "TopKV2")
    if x._value.ndim == 0:
        raise InvalidArgumentError("argsort: the input must have rank >= 1, received a scalar; "
                                   "use tf.reshape(x, [1]) to sort one value.", "argsort")
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"Argument `direction` should be one of ASCENDING, DESCENDING. "
                         f"Received: direction={direction}")
    if not isinstance(axis, (int, np.integer)) or not -x._value.ndim <= axis < x._value.ndim:
        raise InvalidArgumentError(f"argsort: axis {axis!r} is out of range for a tensor of "
                                   f"rank {x._value.ndim}; pass an int in "
                                   f"[{-x._value.ndim}, {x._value.ndim}).", "argsort")
    moved = _move_last(x, axis)
    return _move_back(_argsort_last(moved, descending=direction == "DESCENDING"), axis)


def _move_last(x: Tensor, axis: int) -> Tensor:
    axis = axis % x._value.ndim
    perm = [i for i in range(x._value.ndim) if i != axis] + [axis]
    return so.transpose(x, perm)


def _move_back(x: Tensor, axis: int) -> Tensor:
    ndim = x._value.ndim
    axis = axis % ndim
    perm = list(range(ndim - 1))
    perm.insert(axis, ndim - 1)
    return so.transpose(x, perm)


# --- more losses and lookups ----------------------------------------------------------


def crelu(features, axis=-1, name=None) -> Tensor:
    """``relu(concat([x, -x], axis))``: keeps the negative part as channels of its own."""
    x = _real_number(features, "crelu")
    return relu(so.concat([x, ew.negative(x)], axis))


def _same_shape(a: Tensor, b: Tensor, op: str, names: tuple[str, str]) -> None:
    if rules.shapes_differ(a._value.shape, b._value.shape):
        raise ValueError(f"{op}: `{names[0]}` and `{names[1]}` must have the same shape, "
                         f"received {rules.shape_text(a._value.shape)} vs "
                         f"{rules.shape_text(b._value.shape)}.")


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None) -> Tensor:
    """Sigmoid cross-entropy with the positive term weighted by ``pos_weight``.

    ``(1 - z) * x + (1 + (q - 1) * z) * (log1p(exp(-|x|)) + relu(-x))``: TensorFlow's
    stable form, built from the same pieces so the gradient at the kink matches too.
    """
    x = _float(logits, "weighted_cross_entropy_with_logits")
    z = as_tensor(labels)
    check_same_dtype("weighted_cross_entropy_with_logits", z, x, names=("labels", "logits"))
    _same_shape(x, z, "weighted_cross_entropy_with_logits", ("logits", "labels"))
    weight = as_tensor(pos_weight)
    if weight._value.dtype != x._value.dtype:
        weight = ew.cast(weight, x._value.dtype)
    log_weight = (weight - 1) * z + 1
    softplus_of_negative = ew.log1p(ew.exp(ew.negative(ew.abs(x)))) + relu(ew.negative(x))
    return (1 - z) * x + log_weight * softplus_of_negative


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None) -> Tensor:
    """``exp(log_input) - log_input * targets``, plus Stirling's term for targets > 1."""
    c = _float(log_input, "log_poisson_loss")
    z = as_tensor(targets)
    check_same_dtype("log_poisson_loss", z, c, names=("targets", "log_input"))
    _same_shape(c, z, "log_poisson_loss", ("log_input", "targets"))
    loss = ew.exp(c) - c * z
    if not compute_full_loss:
        return loss
    # z log z - z + log(2 pi z) / 2, zero for targets in [0, 1] (where it would be wrong).
    with np.errstate(divide="ignore", invalid="ignore"):
        stirling = z * ew.log(z) - z + ew.log(z * (2 * np.pi)) * 0.5
    small = ew.logical_and(ew.greater_equal(z, 0), ew.less_equal(z, 1))
    return loss + ew.where(small, ew.zeros_like_value(z), stirling)


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """``sum(per_example_loss * sample_weight) / global_batch_size`` (0 when that is 0).

    ``global_batch_size`` defaults to the first size of ``per_example_loss`` (one replica;
    ``tf.nn.compute_average_loss`` multiplies it by the strategy's replicas).
    """
    return average_loss(per_example_loss, sample_weight, global_batch_size, 1)


def average_loss(per_example_loss, sample_weight, global_batch_size, replicas: int) -> Tensor:
    """:func:`compute_average_loss` for ``replicas`` replicas in sync: the default global
    batch is this replica's batch times ``replicas`` (the strategy lives above ops)."""
    loss = as_tensor(per_example_loss)
    dtype = loss._value.dtype
    if loss._value.ndim == 0:
        raise ValueError(f"compute_average_loss: `per_example_loss` must have rank >= 1 "
                         f"(one loss per example), received a scalar {loss}.")
    if global_batch_size is None:
        batch = so.shape(loss)[0]
        if replicas != 1:
            batch = batch * replicas
    else:
        batch = _batch_size(global_batch_size)
    if sample_weight is not None:
        weight = as_tensor(sample_weight)
        loss = loss * (weight if weight._value.dtype == dtype else ew.cast(weight, dtype))
    total = red.reduce_sum(loss)
    if dtype.kind in "iu":
        # TensorFlow divides integer losses with true division: a float64 result.
        return ew.cast(total, np.float64) / ew.cast(batch, np.float64)
    return ew.divide_no_nan(total, ew.cast(batch, dtype))


def _batch_size(value) -> Tensor:
    size = as_tensor(value)
    if size._value.dtype.kind not in "iu" or size._value.ndim != 0:
        raise TypeError(f"compute_average_loss: global_batch_size must be a scalar integer, "
                        f"received {value!r}.")
    if type(size._value) is not AbstractArray and int(size) < 0:
        raise InvalidArgumentError(f"compute_average_loss: global_batch_size must be "
                                   f"non-negative, received {int(size)}.",
                                   "compute_average_loss")
    return size


def scale_regularization_loss(regularization_loss, name=None) -> Tensor:
    """The summed regularization loss divided by the number of replicas (one here;
    ``tf.nn.scale_regularization_loss`` asks the strategy for them)."""
    return scaled_regularization_loss(regularization_loss, 1)


def scaled_regularization_loss(regularization_loss, replicas: int) -> Tensor:
    """The summed ``regularization_loss`` divided by ``replicas``."""
    total = red.reduce_sum(as_tensor(regularization_loss))
    if total._value.dtype.kind in "iu":
        total = ew.cast(total, np.float64)  # TensorFlow's true division of integers
    if replicas != 1:
        total = total / ew.cast(replicas, total.dtype)
    return total


def embedding_lookup(params, ids, max_norm=None, name=None) -> Tensor:
    """Rows of ``params`` at ``ids``; a list of tensors is one table split along axis 0.

    With ``max_norm``, each looked-up embedding is scaled down to that L2 norm at most.
    """
    from neuroflow.ops.normalization import clip_by_norm

    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError("embedding_lookup: `params` must not be empty.")
        parts = [as_tensor(p) for p in params]
        # TensorFlow's "div" partitioning puts consecutive ids in each part, in order:
        # the same rows as one table concatenated along axis 0.
        table = parts[0] if len(parts) == 1 else so.concat(parts, 0)
    else:
        table = as_tensor(params)
    index = as_tensor(ids)
    if index._value.dtype not in (np.int16, np.int32, np.int64):
        raise DTypeMismatchError(f"embedding_lookup: ids must be int32 or int64, received "
                                 f"{index.dtype.name}; use tf.cast(ids, tf.int32).", "GatherV2")
    rows = so.gather(table, index)
    if max_norm is None:
        return rows
    # The norm of each embedding: over the axes params adds (none for 1-D params, where
    # each entry is clipped alone, as in TensorFlow).
    embedding_axes = list(range(index._value.ndim, rows._value.ndim))
    return clip_by_norm(rows, max_norm, axes=embedding_axes)


def _in_top_k_shape(predictions, targets, k):
    if predictions.ndim != 2 or targets.ndim != 1:
        raise ValueError(f"in_top_k: predictions must be 2-D and targets 1-D, received ranks "
                         f"{predictions.ndim} and {targets.ndim}")
    return AbstractArray(targets.shape, np.bool_)


@primitive("in_top_k", differentiable=False, shape=_in_top_k_shape)
def _in_top_k(xp, predictions, targets, k):
    rows, classes = predictions.shape
    if targets.shape[0] != rows:
        raise InvalidArgumentError(f"in_top_k: the first dimension of predictions {rows} must "
                                   f"match the length of targets {targets.shape[0]}.", "InTopKV2")
    valid = (targets >= 0) & (targets < classes)
    if not classes:
        return valid
    target_value = predictions[xp.arange(rows), xp.where(valid, targets, 0)]
    above = (predictions > target_value[:, None]).sum(axis=-1)
    # TensorFlow cannot rank a row holding inf or NaN: the answer there is False.
    finite = xp.isfinite(predictions).all(axis=-1)
    return valid & finite & (above < k)


def in_top_k(targets, predictions, k, name=None) -> Tensor:
    """Whether each target class is among the ``k`` highest predictions of its row.

    Ties count in the target's favour: only strictly higher predictions push it out.
    """
    if isinstance(predictions, Tensor) and predictions._value.dtype != np.float32:
        # TensorFlow raises ValueError or InvalidArgumentError by argument types: both.
        raise DTypeMismatchError(f"in_top_k: predictions must be float32, received "
                                 f"{predictions.dtype.name}; use tf.cast(predictions, "
                                 f"tf.float32).", "InTopKV2")
    scores = as_tensor(predictions, dtype=np.float32)
    labels = as_tensor(targets)
    if labels._value.dtype not in (np.int32, np.int64):
        raise DTypeMismatchError(f"in_top_k: targets must be int32 or int64, received "
                                 f"{labels.dtype.name}.", "InTopKV2")
    # k takes the targets' dtype; a tensor k must already have it, as in TensorFlow.
    count = k if isinstance(k, Tensor) else as_tensor(k, dtype=labels._value.dtype)
    if count._value.dtype != labels._value.dtype:
        raise DTypeMismatchError(f"in_top_k: k must have the dtype of targets "
                                 f"({labels.dtype.name}), received {count.dtype.name}.",
                                 "InTopKV2")
    if count._value.ndim != 0:
        raise InvalidArgumentError(f"in_top_k: k must be a scalar, received shape "
                                   f"{rules.shape_text(count._value.shape)}.", "InTopKV2")
    if scores._value.ndim != 2:
        raise InvalidArgumentError(f"in_top_k: predictions must be 2-dimensional, received "
                                   f"shape {rules.shape_text(scores._value.shape)}.", "InTopKV2")
    if labels._value.ndim != 1 or rules.dims_differ(labels._value.shape[0],
                                                    scores._value.shape[0]):
        raise InvalidArgumentError(
            f"in_top_k: targets must be 1-D with one class per row of predictions "
            f"{rules.shape_text(scores._value.shape)}, received shape "
            f"{rules.shape_text(labels._value.shape)}.", "InTopKV2")
    return _in_top_k(scores, labels, count)
