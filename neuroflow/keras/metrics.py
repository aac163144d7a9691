"""Keras 3 metrics: stateful accumulators (``Mean``, accuracies, ...) and metric functions.

A :class:`Metric` keeps its state in non-trainable ``tf.Variable`` s and updates
them with neuroflow ops (``assign_add``), so a traced training step captures
metric updates like any other state change.

>>> m = Mean()
>>> m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
>>> float(m.result())
2.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuroflow.keras import initializers
from neuroflow.keras import losses as losses_module
from neuroflow.keras.losses import squeeze_or_expand_to_same_rank
from neuroflow.keras.utils.naming import get_by_name, to_snake_case
from neuroflow.ops import elementwise as ew
from neuroflow.ops import reductions as red
from neuroflow.ops import shape_ops as so
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.creation import zeros
from neuroflow.tensor import Tensor
from neuroflow.variables import Variable

# --- metric functions (one value per sample) ----------------------------------------------


def _as_pair(y_true, y_pred) -> tuple[Tensor, Tensor]:
    y_pred = as_tensor(y_pred)
    if y_pred._value.dtype.kind != "f":
        y_pred = ew.cast(y_pred, "float32")
    return ew.cast(as_tensor(y_true), y_pred.dtype), y_pred


def accuracy(y_true, y_pred) -> Tensor:
    """1.0 where ``y_true == y_pred`` exactly, else 0.0."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_as_pair(y_true, y_pred))
    return ew.cast(ew.equal(y_true, y_pred), "float32")


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> Tensor:
    """1.0 where ``y_pred > threshold`` agrees with the 0/1 label ``y_true``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_as_pair(y_true, y_pred))
    predicted = ew.cast(ew.greater(y_pred, float(threshold)), y_true.dtype)
    return ew.cast(ew.equal(y_true, predicted), "float32")


def categorical_accuracy(y_true, y_pred) -> Tensor:
    """1.0 where the arg-max of ``y_pred`` is the arg-max of the one-hot ``y_true``."""
    y_true, y_pred = _as_pair(y_true, y_pred)
    match = ew.equal(red.argmax(y_true, axis=-1), red.argmax(y_pred, axis=-1))
    return ew.cast(match, "float32")


def sparse_categorical_accuracy(y_true, y_pred) -> Tensor:
    """1.0 where the arg-max of ``y_pred`` equals the integer label ``y_true``."""
    y_true, y_pred = _as_pair(y_true, y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = so.squeeze(y_true, [-1])
    predicted = ew.cast(red.argmax(y_pred, axis=-1), y_true.dtype)
    return ew.cast(ew.equal(y_true, predicted), "float32")


def _in_top_k(labels: Tensor, y_pred: Tensor, k: int) -> Tensor:
    """Whether each label's score is among the ``k`` largest (ties count as in, as TF)."""
    classes = y_pred.shape[-1]
    hot = so.one_hot(ew.cast(labels, "int64"), classes, dtype=y_pred.dtype)
    target = red.reduce_sum(hot * y_pred, axis=-1, keepdims=True)
    higher = red.reduce_sum(ew.cast(ew.greater(y_pred, target), "float32"), axis=-1)
    return ew.cast(ew.less(higher, float(k)), "float32")


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> Tensor:
    """1.0 where the one-hot label's class is among the ``k`` highest predictions."""
    y_true, y_pred = _as_pair(y_true, y_pred)
    return _in_top_k(red.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> Tensor:
    """1.0 where the integer label is among the ``k`` highest predictions."""
    y_true, y_pred = _as_pair(y_true, y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = so.squeeze(y_true, [-1])
    return _in_top_k(y_true, y_pred, k)


# --- the Metric base class ----------------------------------------------------------------


class Metric:
    """A stateful metric: ``update_state`` accumulates, ``result`` reports, ``reset_state`` clears.

    Subclasses create their state with :meth:`add_variable` in ``__init__``.
    """

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or to_snake_case(type(self).__name__)
        self._dtype = "float32" if dtype is None else str(getattr(dtype, "name", dtype))
        self._variables: list[Variable] = []

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables)

    def add_variable(self, shape=(), initializer="zeros", dtype=None,
                     aggregation: str = "sum", name: str | None = None) -> Variable:
        """Create a non-trainable state variable of this metric."""
        init = initializers.get(initializer)
        value = init(tuple(shape), dtype=dtype or self._dtype)
        variable = Variable(value, trainable=False, name=name or "variable")
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None,
                   name: str | None = None) -> Variable:
        """Alias of :meth:`add_variable` (Keras keeps both names)."""
        return self.add_variable(shape=shape, initializer=initializer or "zeros", dtype=dtype,
                                 name=name)

    def reset_state(self) -> None:
        for variable in self._variables:
            variable.assign(zeros(variable.shape.as_list(), dtype=variable.dtype))

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update_state(): a "
                                  f"Metric subclass accumulates its state there.")

    def result(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement result(): a Metric "
                                  f"subclass computes its value from its state there.")

    def __call__(self, *args, **kwargs) -> Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


# --- reductions ---------------------------------------------------------------------------


def _samplewise(values, sample_weight, dtype: str,
                reduce_fn: Callable = red.reduce_mean) -> tuple[Tensor, Tensor | None]:
    """Reduce ``values`` to one value per sample, weighted (Keras' ``reduce_to_samplewise``).

    ``Mean`` averages the non-batch axes; ``Sum`` passes ``reduce_sum`` to add them up.
    """
    values = as_tensor(values)
    if values.dtype.name != dtype:
        values = ew.cast(values, dtype)
    weight = None
    if sample_weight is not None:
        weight = as_tensor(sample_weight)
        if weight.dtype.name != dtype:
            weight = ew.cast(weight, dtype)
        values, weight = squeeze_or_expand_to_same_rank(values, weight)
        if values.ndim > weight.ndim:
            values = reduce_fn(values, axis=list(range(weight.ndim, values.ndim)))
        if tuple(weight.shape) != tuple(values.shape):
            weight = so.broadcast_to(weight, values.shape.as_list())
        values = values * weight
        if weight.ndim > 1:
            weight = reduce_fn(weight, axis=list(range(1, weight.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=list(range(1, values.ndim)))
    return values, weight


class Sum(Metric):
    """The (weighted) sum of all values seen."""

    def __init__(self, name: str = "sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(name="total")

    def update_state(self, values, sample_weight=None) -> None:
        values, _ = _samplewise(values, sample_weight, self.dtype, red.reduce_sum)
        self.total.assign_add(red.reduce_sum(values) if values.ndim else values)

    def result(self) -> Tensor:
        return self.total.read_value()


class Mean(Metric):
    """The (weighted) mean of all values seen: ``total / count``."""

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_state(self, values, sample_weight=None) -> None:
        values, weight = _samplewise(values, sample_weight, self.dtype)
        self.total.assign_add(red.reduce_sum(values) if values.ndim else values)
        if weight is not None:
            self.count.assign_add(red.reduce_sum(weight) if weight.ndim else weight)
        else:
            self.count.assign_add(_sample_count(values, self.dtype))

    def result(self) -> Tensor:
        # total / count, and 0 before any sample: divide_no_nan's rule in four scalar ops.
        total, count = self.total.read_value(), self.count.read_value()
        empty = ew.equal(count, 0.0)
        return ew.where(empty, 0.0, total / ew.where(empty, 1.0, count))


def _sample_count(values: Tensor, dtype) -> Tensor:
    """How many samples ``values`` holds (its first size), as a scalar of ``dtype``."""
    samples = values.shape[0] if values.ndim else 1
    if samples is None:  # a traced batch of unknown size: counted when the graph runs
        return ew.cast(so.shape(values)[0], dtype)
    return as_tensor(float(samples), dtype=dtype)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    >>> m = MeanMetricWrapper(sparse_categorical_accuracy, name="acc")
    >>> float(m([1, 0], [[0.1, 0.9], [0.3, 0.7]]))
    0.5
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype=None, **kwargs: Any):
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"),
                         dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly."""

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return Metric.get_config(self)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches a 0/1 label."""

    def __init__(self, name: str = "binary_accuracy", dtype=None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class matches a one-hot label."""

    def __init__(self, name: str = "categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class matches an integer label."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often a one-hot label's class is among the top ``k`` predictions."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often an integer label is among the top ``k`` predictions."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class MeanSquaredError(MeanMetricWrapper):
    """Mean of squared errors."""

    def __init__(self, name: str = "mean_squared_error", dtype=None):
        super().__init__(losses_module.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of absolute errors."""

    def __init__(self, name: str = "mean_absolute_error", dtype=None):
        super().__init__(losses_module.mean_absolute_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """Square root of the mean squared error."""

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = squeeze_or_expand_to_same_rank(*_as_pair(y_true, y_pred))
        super().update_state(ew.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> Tensor:
        return ew.sqrt(super().result())


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy."""

    def __init__(self, name: str = "binary_crossentropy", dtype=None, from_logits: bool = False,
                 label_smoothing: float = 0.0):
        super().__init__(losses_module.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy."""

    def __init__(self, name: str = "categorical_crossentropy", dtype=None,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1):
        super().__init__(losses_module.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy."""

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype=None,
                 from_logits: bool = False, axis: int = -1):
        super().__init__(losses_module.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, axis=axis)


# --- "accuracy" in compile ----------------------------------------------------------------


def accuracy_for_shapes(y_true_shape, y_pred_shape) -> Callable:
    """The accuracy function Keras 3 picks for ``metrics=["accuracy"]``, from the shapes.

    Keras 3 decides from the first batch's shapes, not from the loss: a prediction
    with last dimension 1 gives ``binary_accuracy``; labels of lower rank, or with a
    last dimension of 1 against several classes, give ``sparse_categorical_accuracy``;
    anything else gives ``categorical_accuracy``.
    """
    y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
    if y_pred_shape[-1:] == (1,):
        return binary_accuracy
    last_true = y_true_shape[-1] if y_true_shape else None
    if len(y_true_shape) < len(y_pred_shape) or (last_true == 1 and y_pred_shape[-1] > 1):
        return sparse_categorical_accuracy
    return categorical_accuracy


class _ResolvedAccuracy(MeanMetricWrapper):
    """``metrics=["accuracy"]``: binary/sparse/categorical accuracy, chosen on the first update."""

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(self._first_call, name=name, dtype=dtype)

    def _first_call(self, y_true, y_pred) -> Tensor:
        y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
        self._fn = accuracy_for_shapes(y_true.shape, y_pred.shape)
        return self._fn(y_true, y_pred)


def resolve_accuracy(loss: Any = None, name: str = "accuracy") -> Metric:
    """The metric for ``"accuracy"``/``"acc"`` in ``compile``, named ``name``.

    ``loss`` is accepted for callers that have it, but, as in Keras 3, the choice
    is made from the shapes of the first batch (see :func:`accuracy_for_shapes`):
    with sparse labels it is sparse categorical accuracy, with one-hot labels
    categorical accuracy, and with one output unit binary accuracy.
    """
    return _ResolvedAccuracy(name=name)


# --- lookup -------------------------------------------------------------------------------

_CLASSES = (Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
            SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
            MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError, BinaryCrossentropy,
            CategoricalCrossentropy, SparseCategoricalCrossentropy)
_BY_NAME: dict[str, Any] = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
_BY_NAME.update(mse=MeanSquaredError, MSE=MeanSquaredError, mae=MeanAbsoluteError,
                MAE=MeanAbsoluteError, bce=BinaryCrossentropy, BCE=BinaryCrossentropy)


def get(identifier: Any) -> Any:
    """The metric for ``identifier`` (as ``keras.metrics.get``): a name gives an instance.

    Unknown names raise ``ValueError`` naming the closest valid names. Callables
    and ``Metric`` objects are returned as they are.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        cls = get_by_name("metric", identifier["class_name"], _BY_NAME)
        return cls.from_config(dict(identifier.get("config") or {}))
    obj = get_by_name("metric", identifier, _BY_NAME) if isinstance(identifier, str) \
        else identifier
    if isinstance(obj, type):
        return obj()
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}. Expected a name "
                     f"such as 'accuracy', a Metric, a function or a config dict.")


def resolve(identifier: Any) -> Metric:
    """A ``Metric`` for one entry of ``compile(metrics=[...])``, named as Keras names it.

    ``"accuracy"``/``"acc"`` pick the accuracy from the data's shapes; a string
    names the metric after itself (``"mse"`` reports as ``mse``); a function is
    wrapped in :class:`MeanMetricWrapper` under its ``__name__``.
    """
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        return resolve_accuracy(name=identifier)
    obj = get(identifier)
    if not isinstance(obj, Metric):
        obj = MeanMetricWrapper(obj, name=getattr(obj, "__name__", None))
    if isinstance(identifier, str):
        obj.name = identifier
    return obj


def serialize(metric: Metric) -> dict:
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: dict) -> Metric:
    return get(config)


# --- classification metrics ---------------------------------------------------------------
# They subclass Metric, so their module is imported here, after Metric exists (importing
# neuroflow.keras always imports this module first), and their names join the lookup.
from neuroflow.keras.metrics_classification import (  # noqa: E402
    AUC,
    F1Score,
    FBetaScore,
    Precision,
    Recall,
)

for _cls in (AUC, F1Score, FBetaScore, Precision, Recall):
    _BY_NAME[_cls.__name__] = _cls
    _BY_NAME[to_snake_case(_cls.__name__)] = _cls
