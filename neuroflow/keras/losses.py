"""Keras 3 losses: per-sample loss functions and ``Loss`` classes that reduce them.

Every function returns one loss per sample (the last axis reduced) and is
written in neuroflow ops, so a GradientTape differentiates it and a traced
step captures it. The classes add Keras' reduction: ``"sum_over_batch_size"``
(the default) divides the weighted sum by the *number of loss values*, not by
the sum of the sample weights.

Probability inputs are clipped to ``[1e-7, 1 - 1e-7]`` (Keras' epsilon). When
``y_pred`` came out of :func:`neuroflow.keras.activations.softmax` or
``sigmoid``, the cross-entropies use the logits behind it instead, as Keras 3
does, which is both exact and stable.

>>> import numpy as np
>>> loss = SparseCategoricalCrossentropy()
>>> round(float(loss(np.array([1, 2]), np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]],
...                                               dtype="float32"))), 4)
1.1769
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from neuroflow.keras.activations import logits_of
from neuroflow.keras.utils.naming import get_by_name, to_snake_case
from neuroflow.ops import elementwise as ew
from neuroflow.ops import nn_ops as nn
from neuroflow.ops import reductions as red
from neuroflow.ops import shape_ops as so
from neuroflow.ops.convert import as_tensor
from neuroflow.tensor import Tensor

EPSILON = 1e-7  # keras.backend.epsilon()
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# --- helpers ------------------------------------------------------------------------------


def _float_tensor(x: Any) -> Tensor:
    """``x`` as a tensor; integer and boolean values become float32 (Keras' floatx)."""
    t = as_tensor(x)
    return t if t._value.dtype.kind == "f" else ew.cast(t, "float32")


def _pair(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    """``y_pred`` as a float tensor and ``y_true`` cast to its dtype."""
    y_pred = _float_tensor(y_pred)
    return ew.cast(as_tensor(y_true), y_pred.dtype), y_pred


def squeeze_or_expand_to_same_rank(x1: Tensor, x2: Tensor,
                                   expand_rank_1: bool = True) -> tuple[Tensor, Tensor]:
    """Make ranks equal when they differ by one trailing axis of size 1 (Keras' rule)."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = so.expand_dims(x2, -1)
        else:
            x1 = so.squeeze(x1, [-1])
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = so.expand_dims(x1, -1)
        else:
            x2 = so.squeeze(x2, [-1])
    return x1, x2


def _clip_probabilities(p: Tensor) -> Tensor:
    return ew.clip_by_value(p, EPSILON, 1.0 - EPSILON)


def _logits_behind(y_pred: Tensor, from_logits: bool, kind: str, fn: str) -> tuple[Tensor, bool]:
    """The logits ``y_pred`` was made from by a Keras softmax/sigmoid, if any (as Keras 3)."""
    logits = logits_of(y_pred, kind)
    if logits is None:
        return y_pred, from_logits
    if from_logits:
        warnings.warn(f"`{fn}` received `from_logits=True`, but the `output` argument was "
                      f"produced by a {kind} activation and thus does not represent logits. "
                      f"Was this intended?", stacklevel=3)
    return logits, True


# --- regression ---------------------------------------------------------------------------


def mean_squared_error(y_true, y_pred) -> Tensor:
    """``mean(square(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    return red.reduce_mean(ew.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred) -> Tensor:
    """``mean(abs(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    return red.reduce_mean(ew.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred) -> Tensor:
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    diff = ew.abs((y_true - y_pred) / ew.maximum(ew.abs(y_true), EPSILON))
    return red.reduce_mean(diff, axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true, y_pred) -> Tensor:
    """``mean(square(log(y_pred + 1) - log(y_true + 1)), axis=-1)``, inputs floored at epsilon."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    first = ew.log(ew.maximum(y_pred, EPSILON) + 1.0)
    second = ew.log(ew.maximum(y_true, EPSILON) + 1.0)
    return red.reduce_mean(ew.square(first - second), axis=-1)


def huber(y_true, y_pred, delta: float = 1.0) -> Tensor:
    """``0.5 e^2`` where ``|e| <= delta``, else ``delta |e| - 0.5 delta^2`` (last-axis mean)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    error = y_pred - y_true
    abs_error = ew.abs(error)
    delta = float(delta)
    quadratic = ew.square(error) * 0.5
    linear = abs_error * delta - 0.5 * delta * delta
    return red.reduce_mean(ew.where(ew.less_equal(abs_error, delta), quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred) -> Tensor:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed stably via softplus."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    x = y_pred - y_true
    return red.reduce_mean(x + nn.softplus(x * -2.0) - float(np.log(2.0)), axis=-1)


def cosine_similarity(y_true, y_pred, axis: int = -1) -> Tensor:
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))

    def normalize(x):
        inv_norm = ew.rsqrt(red.reduce_sum(ew.square(x), axis=axis, keepdims=True))
        return x * ew.minimum(inv_norm, 1.0 / EPSILON)

    return ew.negative(red.reduce_sum(normalize(y_true) * normalize(y_pred), axis=axis))


# --- probabilistic ------------------------------------------------------------------------


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Cross-entropy of one-hot (or soft) ``y_true`` against ``y_pred``.

    Probabilities are first renormalized to sum to one along ``axis``, then clipped.
    """
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis}. Pass the "
                         f"class axis as an integer, e.g. axis=-1.")
    y_true, y_pred = _pair(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"Arguments `target` and `output` must have the same shape. Received: "
                         f"target.shape={y_true.shape}, output.shape={y_pred.shape}. Labels "
                         f"must be one-hot, one column per class; for integer class labels "
                         f"use sparse_categorical_crossentropy.")
    if label_smoothing:
        classes = y_true.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / classes
    y_pred, from_logits = _logits_behind(y_pred, from_logits, "softmax",
                                         "categorical_crossentropy")
    if from_logits:
        return nn.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred, axis=axis)
    y_pred = y_pred / red.reduce_sum(y_pred, axis=axis, keepdims=True)
    return ew.negative(red.reduce_sum(y_true * ew.log(_clip_probabilities(y_pred)), axis=axis))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> Tensor:
    """Cross-entropy of integer class labels against ``y_pred`` (probabilities or logits).

    Labels may be floats holding integers, and may have a trailing axis of size 1.
    """
    if ignore_class is not None:
        raise NotImplementedError(f"sparse_categorical_crossentropy: ignore_class is not "
                                  f"supported yet; received ignore_class={ignore_class!r}. "
                                  f"Leave it None and drop those samples, or give them "
                                  f"sample_weight 0.")
    y_pred = _float_tensor(y_pred)
    if axis not in (-1, y_pred.ndim - 1):
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}. Move "
                         f"the class axis last, e.g. with tf.transpose.")
    labels = as_tensor(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = so.squeeze(labels, [-1])
    labels = ew.cast(labels, "int64")
    if labels.ndim != y_pred.ndim - 1:
        raise ValueError(sparse_labels_message(tuple(labels.shape), tuple(y_pred.shape)))
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(f"Arguments `target` and `output` must have the same shape up until "
                         f"the last dimension: target.shape={labels.shape}, "
                         f"output.shape={y_pred.shape}. Pass one class index per sample of "
                         f"the output.")
    y_pred, from_logits = _logits_behind(y_pred, from_logits, "softmax",
                                         "sparse_categorical_crossentropy")
    if not from_logits:
        # Keras takes the log of the clipped probabilities as logits, which also
        # renormalizes them (log_softmax of log p is log(p / sum p)).
        y_pred = ew.log(_clip_probabilities(y_pred))
    return nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=y_pred)


def sparse_labels_message(target_shape: tuple, output_shape: tuple) -> str:
    """Keras 3's error for sparse labels of the wrong rank, with the likely cause and fix."""
    expected = target_shape[:len(output_shape) - 1]
    text = (f"Argument `output` must have rank (ndim) `target.ndim - 1`. Received: "
            f"target.shape={target_shape}, output.shape={output_shape}. A sparse categorical "
            f"crossentropy expects one class index per sample (labels of shape {expected}).")
    if len(target_shape) == len(output_shape) and target_shape[-1] == output_shape[-1]:
        text += (" These labels look one-hot encoded (one column per class): use "
                 "loss='categorical_crossentropy' instead, or turn them into class indices "
                 "with y = np.argmax(y, axis=-1).")
    return text


def binary_crossentropy(y_true, y_pred, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Mean over ``axis`` of ``-(y log p + (1 - y) log(1 - p))``."""
    y_true, y_pred = _pair(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"Arguments `target` and `output` must have the same shape. Received: "
                         f"target.shape={y_true.shape}, output.shape={y_pred.shape}. Give the "
                         f"labels the output's shape, e.g. y.reshape(-1, 1) for one unit.")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    y_pred, from_logits = _logits_behind(y_pred, from_logits, "sigmoid", "binary_crossentropy")
    if from_logits:
        per_value = nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        p = _clip_probabilities(y_pred)
        per_value = ew.negative(y_true * ew.log(p) + (1.0 - y_true) * ew.log(1.0 - p))
    return red.reduce_mean(per_value, axis=axis)


def kl_divergence(y_true, y_pred) -> Tensor:
    """``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to ``[epsilon, 1]``."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = ew.clip_by_value(y_true, EPSILON, 1.0)
    y_pred = ew.clip_by_value(y_pred, EPSILON, 1.0)
    return red.reduce_sum(y_true * ew.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred) -> Tensor:
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return red.reduce_mean(y_pred - y_true * ew.log(y_pred + EPSILON), axis=-1)


def _hinge_labels(y_true: Tensor) -> Tensor:
    """Map 0/1 labels to -1/1; leave other labels as they are (as Keras)."""
    binary = red.reduce_all(ew.logical_or(ew.equal(y_true, 0.0), ew.equal(y_true, 1.0)))
    return ew.where(binary, y_true * 2.0 - 1.0, y_true)


def hinge(y_true, y_pred) -> Tensor:
    """``mean(maximum(1 - y_true * y_pred, 0), axis=-1)`` with labels in {-1, 1} (or {0, 1})."""
    y_true, y_pred = _pair(y_true, y_pred)
    return red.reduce_mean(ew.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred) -> Tensor:
    """``mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    margin = ew.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)
    return red.reduce_mean(ew.square(margin), axis=-1)


# --- reduction and Loss classes -----------------------------------------------------------


def reduce_weighted_values(values: Tensor, sample_weight=None,
                           reduction: str | None = "sum_over_batch_size") -> Tensor:
    """Weight per-sample ``values`` and reduce them as a Keras ``Loss`` does."""
    values = as_tensor(values)
    if sample_weight is not None:
        weight = ew.cast(as_tensor(sample_weight), values.dtype)
        values, weight = squeeze_or_expand_to_same_rank(values, weight)
        values = values * weight
    if reduction in (None, "none") or values.ndim == 0 or tuple(values.shape) == (0,):
        return values
    total = red.reduce_sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return ew.divide_no_nan(total, red.reduce_sum(weight))
    count = values.shape.num_elements()
    if count is None:  # a traced batch of unknown size: counted when the graph runs
        # (an empty batch gives 0, as below); a constant once compiled for a size.
        return total / ew.maximum(ew.cast(so.size(values), values.dtype), 1.0)
    return total / float(count) if count else total


class Loss:
    """Base class of losses: ``loss(y_true, y_pred, sample_weight=None)`` -> reduced loss.

    Subclasses implement ``call(y_true, y_pred)`` returning per-sample losses.
    ``reduction`` is ``"sum_over_batch_size"`` (default; also ``"mean"``),
    ``"sum"``, ``"mean_with_sample_weight"`` or ``None``/``"none"``.
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`. Expected one of "
                             f"{list(REDUCTIONS)}. Received: reduction={reduction!r}")
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = "float32" if dtype is None else str(getattr(dtype, "name", dtype))

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        y_pred = self._converted(y_pred)
        y_true = self._converted(y_true)
        losses = self.call(y_true, y_pred)
        return reduce_weighted_values(losses, sample_weight, self.reduction)

    def _converted(self, x) -> Tensor:
        t = as_tensor(x)
        return t if t.dtype.name == self.dtype else ew.cast(t, self.dtype)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred): "
                                  f"a Loss subclass defines it to return the per-sample "
                                  f"losses.")

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn: Callable, reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, dtype=None, **kwargs: Any):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}

    def __repr__(self) -> str:
        return f"<LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}, " \
               f"kwargs={self._fn_kwargs})>"


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors over the last axis, reduced over the batch."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors over the last axis, reduced over the batch."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name,
                         dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name,
                         dtype=dtype)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for errors within ``delta``, linear beyond."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """Logarithm of the hyperbolic cosine of the error."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis``."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype,
                         axis=axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot labels.

    >>> loss = CategoricalCrossentropy(from_logits=True)
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer labels."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class)


class BinaryCrossentropy(LossFunctionWrapper):
    """Cross-entropy for 0/1 labels, averaged over the last axis."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """Poisson loss."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class Hinge(LossFunctionWrapper):
    """Hinge loss."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


# --- lookup -------------------------------------------------------------------------------

_CLASSES = (Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError,
            MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Huber, LogCosh,
            CosineSimilarity, CategoricalCrossentropy, SparseCategoricalCrossentropy,
            BinaryCrossentropy, KLDivergence, Poisson, Hinge, SquaredHinge)
_FUNCTIONS = (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
              mean_squared_logarithmic_error, huber, log_cosh, cosine_similarity,
              categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
              kl_divergence, poisson, hinge, squared_hinge)
_BY_NAME: dict[str, Any] = {obj.__name__: obj for obj in _CLASSES + _FUNCTIONS}
MSE = mse = mean_squared_error
MAE = mae = mean_absolute_error
MAPE = mape = mean_absolute_percentage_error
MSLE = msle = mean_squared_logarithmic_error
KLD = kld = kl_divergence
logcosh = log_cosh
for _alias, _fn in (("mse", mse), ("mae", mae), ("mape", mape), ("msle", msle), ("kld", kld),
                    ("bce", binary_crossentropy)):
    _BY_NAME[_alias] = _BY_NAME[_alias.upper()] = _fn
_BY_NAME["logcosh"] = log_cosh


def get(identifier: Any) -> Any:
    """The loss for ``identifier``, as ``keras.losses.get``.

    A function name (``"mse"``, ``"sparse_categorical_crossentropy"``) gives the
    function; a class name (``"MeanSquaredError"``) an instance; a dict
    ``{"class_name": ..., "config": ...}`` a configured instance; a callable or a
    ``Loss`` is returned as is. Unknown names raise ``ValueError`` naming the
    closest valid names.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    obj = get_by_name("loss function", identifier, _BY_NAME) \
        if isinstance(identifier, str) else identifier
    if isinstance(obj, type):
        return obj()
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}. Expected a loss "
                     f"name such as 'mse', a Loss, a function or a config dict.")


def resolve(identifier: Any, name: str | None = None) -> Loss | None:
    """A ``Loss`` object for ``compile(loss=identifier)``: functions are wrapped, as Keras does.

    The wrapped loss is named after the string identifier (or the function's name),
    and accepts ``sample_weight``. ``"crossentropy"``/``"ce"`` pick binary, sparse or
    categorical cross-entropy from the shapes of ``y_true`` and ``y_pred``, as Keras 3 does.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        return LossFunctionWrapper(_auto_crossentropy, name=name or identifier)
    obj = get(identifier)
    if isinstance(obj, Loss):
        return obj
    loss_name = name or (identifier if isinstance(identifier, str)
                         else getattr(obj, "__name__", None))
    return LossFunctionWrapper(obj, name=loss_name)


def _auto_crossentropy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    is_binary = y_pred.shape[-1] == 1
    is_sparse = y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1)
    if is_binary:
        return binary_crossentropy(y_true, y_pred)
    if is_sparse:
        return sparse_categorical_crossentropy(y_true, y_pred)
    return categorical_crossentropy(y_true, y_pred)


def serialize(loss: Any) -> Any:
    """A ``Loss`` as ``{"class_name", "config"}``; a built-in function as its name."""
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    name = getattr(loss, "__name__", None)
    if name in _BY_NAME and _BY_NAME[name] is loss:
        return name
    raise ValueError(f"Cannot serialize the loss {loss!r}: it is not a built-in loss. Use a "
                     f"built-in loss (by name or as a Loss object), or a Loss subclass.")


def deserialize(config: Any) -> Any:
    """Inverse of :func:`serialize`."""
    if isinstance(config, str):
        return get(config)
    obj = get_by_name("loss function", config["class_name"], _BY_NAME)
    if isinstance(obj, type):
        return obj.from_config(dict(config.get("config") or {}))
    return obj
