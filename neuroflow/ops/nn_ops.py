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
        raise TypeError(f"{op} expects a floating-point tensor, received {x.dtype.name}. "
                        f"Use tf.cast(x, tf.float32) first.")
    return x


def relu(features, name=None) -> Tensor:
    x = as_tensor(features)
    return _relu(x)


def relu6(features, name=None) -> Tensor:
    """``min(max(x, 0), 6)``; the gradient is 0 at both kinks, as in TensorFlow."""
    x = as_tensor(features)
    return ew.where(ew.less(x, 6), relu(x), 6)


def leaky_relu(features, alpha=0.2, name=None) -> Tensor:
    x = _float(features, "leaky_relu")
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
    return ew.where(ew.greater(x, 0), x, negative) * _SELU_SCALE


def gelu(features, approximate=False, name=None) -> Tensor:
    x = _float(features, "gelu")
    if approximate:
        inner = (x + ew.pow(x, 3) * 0.044715) * float(np.sqrt(2 / np.pi))
        return x * 0.5 * (ew.tanh(inner) + 1)
    return x * 0.5 * (ew.erf(x * float(1 / np.sqrt(2))) + 1)


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
    axis = -1 if axis is None else axis
    shifted = x - so.stop_gradient(red.reduce_max(x, axis=axis, keepdims=True))
    e = ew.exp(shifted)
    return e / red.reduce_sum(e, axis=axis, keepdims=True)


def log_softmax(logits, axis=None, name=None) -> Tensor:
    x = _float(logits, "log_softmax")
    axis = -1 if axis is None else axis
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
    if y._value.dtype.kind not in "iu":
        raise DTypeMismatchError(f"sparse_softmax_cross_entropy_with_logits: labels must be "
                                 f"integers (class indices), received {y.dtype.name}; use "
                                 f"tf.cast(labels, tf.int32).",
                                 "SparseSoftmaxCrossEntropyWithLogits")
    if z._value.ndim == 0 or rules.shapes_differ(y._value.shape, z._value.shape[:-1]):
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
    check_same_dtype("softmax_cross_entropy_with_logits", y, z, names=("labels", "logits"))
    if rules.shapes_differ(y._value.shape, z._value.shape):
        raise InvalidArgumentError(
            f"softmax_cross_entropy_with_logits: labels shape {rules.shape_text(y._value.shape)} "
            f"and logits shape {rules.shape_text(z._value.shape)} must match.",
            "SoftmaxCrossEntropyWithLogits")
    return ew.negative(red.reduce_sum(y * log_softmax(z, axis=axis), axis=axis))


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
    x, b = as_tensor(value), as_tensor(bias)
    if b._value.ndim != 1:
        raise InvalidArgumentError(f"bias_add: bias must be 1-D, received shape "
                                   f"{tuple(b._value.shape)}.", "BiasAdd")
    channel = 1 if data_format in ("NCHW", "NCDHW", "NCW") else -1
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

    x = as_tensor(input)
    if x._value.ndim == 0:
        raise InvalidArgumentError("top_k: the input must have rank >= 1, received a scalar.",
                                   "TopKV2")
    n = x._value.shape[-1]
    k = int(k)  # an output size: a traced tensor k raises SymbolicValueError here
    if k < 0 or is_known(n) and k > n:  # an unknown n is checked when the graph runs
        raise InvalidArgumentError(f"top_k: k={k} is out of range for a last axis of size {n}.",
                                   "TopKV2")
    order = _argsort_last(x, descending=True, k=k)
    values = _take_along_last(x, order)
    return namedtuple("TopKV2", ["values", "indices"])(values, order)


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
    # A stable sort of -x keeps the lower index first among equal values, as TF does.
    order = xp.argsort(-x if descending else x, axis=-1, kind="stable")
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
    x = as_tensor(values)
    order = argsort(x, axis=axis, direction=direction)
    moved = _move_last(x, axis)
    return _move_back(_take_along_last(moved, _move_last(order, axis)), axis)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None) -> Tensor:
    x = as_tensor(values)
    if x._value.ndim == 0:
        raise InvalidArgumentError("argsort: the input must have rank >= 1, received a scalar; "
                                   "use tf.reshape(x, [1]) to sort one value.", "argsort")
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"direction must be 'ASCENDING' or 'DESCENDING', received "
                         f"{direction!r}.")
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
