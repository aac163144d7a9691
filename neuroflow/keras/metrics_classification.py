"""Keras 3 classification metrics counted from a confusion matrix: Precision, Recall, AUC,
FBetaScore and F1Score.

Counts (true/false positives/negatives) live in metric variables, one per threshold,
and are updated with neuroflow ops, so they work in a compiled training step.

>>> m = Precision()
>>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
>>> round(float(m.result()), 4)
0.6667
"""

from __future__ import annotations

import numpy as np

from neuroflow.keras.losses import squeeze_or_expand_to_same_rank
from neuroflow.keras.metrics import Metric
from neuroflow.ops import elementwise as ew
from neuroflow.ops import nn_ops
from neuroflow.ops import reductions as red
from neuroflow.ops import shape_ops as so
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.creation import ones_like
from neuroflow.ops.registry import init_scope
from neuroflow.tensor import Tensor

NEG_INF = -1e10  # the score Keras gives predictions outside the top k
EPSILON = 1e-7  # keras.backend.epsilon()


def _check_thresholds(thresholds) -> list[float]:
    values = list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds]
    invalid = [t for t in values if t is None or t < 0 or t > 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return values


def _evenly_distributed(thresholds) -> bool:
    """Whether thresholds are ``0, 1/(n-1), ..., 1`` (Keras then counts by buckets)."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


def _keep_top_k(y_pred: Tensor, k: int) -> Tensor:
    """``y_pred`` with all but each row's ``k`` largest scores set to -1e10."""
    indices = nn_ops.top_k(y_pred, k).indices
    mask = red.reduce_sum(so.one_hot(indices, y_pred.shape[-1], dtype=y_pred.dtype), axis=-2)
    return y_pred * mask + NEG_INF * (1 - mask)


def confusion_counts(y_true, y_pred, thresholds, dtype: str = "float32", sample_weight=None,
                     top_k: int | None = None, class_id: int | None = None,
                     multi_label: bool = False, label_weights=None,
                     evenly_distributed: bool = False) -> dict[str, Tensor]:
    """Weighted true/false positive/negative counts of one batch at each threshold.

    A prediction is positive at a threshold when it is greater than it; a label is
    positive when nonzero. The counts have shape ``[thresholds]``, or
    ``[thresholds, labels]`` with ``multi_label``. With evenly distributed thresholds
    Keras clips predictions to [0, 1] and counts by bucket; the same is done here so
    that predictions exactly on a threshold count as Keras counts them.
    """
    y_true = ew.cast(as_tensor(y_true), dtype)
    y_pred = ew.cast(as_tensor(y_pred), dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = so.expand_dims(ew.cast(as_tensor(sample_weight), dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = _keep_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(f"When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {y_pred.shape}")
        y_true = y_true[..., class_id:class_id + 1]
        y_pred = y_pred[..., class_id:class_id + 1]
    weights = None
    if sample_weight is not None:
        weights = so.broadcast_to(sample_weight, so.shape(y_pred))
    if label_weights is not None and not multi_label:
        lw = so.broadcast_to(so.expand_dims(ew.cast(as_tensor(label_weights), dtype), 0),
                             so.shape(y_pred))
        weights = lw if weights is None else weights * lw
    if not multi_label:
        y_true, y_pred = so.reshape(y_true, [-1]), so.reshape(y_pred, [-1])
        if weights is not None:
            weights = so.reshape(weights, [-1])
    count = len(thresholds)
    # Thresholds on axis 0, the data's axes after it: [T, N] or [T, N, L].
    column = [count] + [1] * y_pred.ndim
    if evenly_distributed:
        bucket = ew.ceil(ew.clip_by_value(y_pred, 0.0, 1.0) * float(count - 1)) - 1.0
        if thresholds[0] < 0.0 or thresholds[-1] > 1.0:
            bucket = ew.maximum(bucket, 0.0)
        index = ew.cast(as_tensor(np.arange(count, dtype=np.float32).reshape(column)), dtype)
        pred_is_pos = ew.greater_equal(so.expand_dims(bucket, 0), index)
    else:
        limits = ew.cast(as_tensor(np.asarray(thresholds, np.float32).reshape(column)), dtype)
        pred_is_pos = ew.greater(so.expand_dims(y_pred, 0), limits)
    label_is_pos = so.expand_dims(ew.not_equal(y_true, 0.0), 0)
    label_is_neg = ew.logical_not(label_is_pos)
    pred_is_neg = ew.logical_not(pred_is_pos)

    def count_where(label: Tensor, pred: Tensor) -> Tensor:
        both = ew.cast(ew.logical_and(label, pred), dtype)
        if weights is not None:
            both = both * so.expand_dims(weights, 0)
        return red.reduce_sum(both, axis=1)

    return {"tp": count_where(label_is_pos, pred_is_pos),
            "fp": count_where(label_is_neg, pred_is_pos),
            "tn": count_where(label_is_neg, pred_is_neg),
            "fn": count_where(label_is_pos, pred_is_neg)}


class _ThresholdMetric(Metric):
    """Precision/Recall: counts at ``thresholds`` (default 0.5, or -1e10 with ``top_k``)."""

    _counts: tuple[str, str] = ("tp", "fp")
    _direction = "up"  # larger is better (callbacks in mode="auto" read this, as in Keras)

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        if thresholds is None:
            self.thresholds = [0.5 if top_k is None else NEG_INF]
        else:
            self.thresholds = _check_thresholds(thresholds)
        self._evenly = _evenly_distributed(self.thresholds)
        size = (len(self.thresholds),)
        self.true_positives = self.add_variable(size, name="true_positives")
        second = "false_positives" if self._counts[1] == "fp" else "false_negatives"
        self._second = self.add_variable(size, name=second)
        setattr(self, second, self._second)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        counts = confusion_counts(y_true, y_pred, self.thresholds, self.dtype,
                                  sample_weight=sample_weight, top_k=self.top_k,
                                  class_id=self.class_id, evenly_distributed=self._evenly)
        self.true_positives.assign_add(counts["tp"])
        self._second.assign_add(counts[self._counts[1]])

    def result(self) -> Tensor:
        tp = self.true_positives.read_value()
        value = ew.divide_no_nan(tp, tp + self._second.read_value())
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_ThresholdMetric):
    """``true_positives / (true_positives + false_positives)`` at each threshold.

    ``top_k`` counts only each row's ``k`` highest scores as predicted; ``class_id``
    looks at one class's column only.
    """

    _counts = ("tp", "fp")


class Recall(_ThresholdMetric):
    """``true_positives / (true_positives + false_negatives)`` at each threshold."""

    _counts = ("tp", "fn")


_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "minoring", "majoring")


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from counts at ``num_thresholds``
    thresholds (Keras 3's: ``i / (num_thresholds - 1)``, the ends moved out by 1e-7).

    ``summation_method="interpolation"`` uses the trapezoid rule for ROC and Davis &
    Goadrich's interpolation for PR; ``"minoring"``/``"majoring"`` use lower/upper
    Riemann sums. ``multi_label`` keeps one curve per label and averages their areas
    (weighted by ``label_weights``).
    """

    _direction = "up"

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None, dtype=None,
                 thresholds=None, multi_label: bool = False, num_labels: int | None = None,
                 label_weights=None, from_logits: bool = False):
        if str(curve).lower() not in _CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are '
                             f'["PR", "ROC", "PRGAIN"]')
        if str(summation_method).lower() not in _SUMMATIONS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             f'Expected values are ["interpolation", "majoring", "minoring"]')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(_check_thresholds(thresholds))
            self._evenly = _evenly_distributed(np.array([0.0] + thresholds + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1)
                          for i in range(num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + thresholds + [1.0 + EPSILON])
        self.curve = _CURVES[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = (None if label_weights is None
                              else as_tensor(np.asarray(label_weights, dtype=self.dtype)))
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self) -> list[float]:
        return list(self._thresholds)

    def _build(self, shape) -> None:
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found "
                                 f"rank {len(shape)}. Full shape received for `y_pred`: "
                                 f"{shape}")
            self._num_labels = shape[1]
            size = [self.num_thresholds, self._num_labels]
        else:
            size = [self.num_thresholds]
        with init_scope():  # built on the first batch, which may be inside a trace
            self.true_positives = self.add_variable(size, name="true_positives")
            self.false_positives = self.add_variable(size, name="false_positives")
            self.true_negatives = self.add_variable(size, name="true_negatives")
            self.false_negatives = self.add_variable(size, name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = as_tensor(y_pred)
        if not self._built:
            self._build(y_pred.shape.as_list())
        if self._from_logits:
            y_pred = ew.sigmoid(y_pred)
        counts = confusion_counts(y_true, y_pred, self.thresholds, self.dtype,
                                  sample_weight=sample_weight, multi_label=self.multi_label,
                                  label_weights=None if self.multi_label else self.label_weights,
                                  evenly_distributed=self._evenly)
        self.true_positives.assign_add(counts["tp"])
        self.false_positives.assign_add(counts["fp"])
        self.true_negatives.assign_add(counts["tn"])
        self.false_negatives.assign_add(counts["fn"])

    def _average_over_labels(self, terms: Tensor) -> Tensor:
        if not self.multi_label:
            return red.reduce_sum(terms)
        by_label = red.reduce_sum(terms, axis=0)
        if self.label_weights is None:
            return red.reduce_mean(by_label)
        return ew.divide_no_nan(red.reduce_sum(by_label * self.label_weights),
                                red.reduce_sum(self.label_weights))

    def _interpolated_pr_auc(self, tp: Tensor, fp: Tensor, fn: Tensor) -> Tensor:
        # Davis & Goadrich (2006): precision is interpolated between thresholds along the
        # line through the true-positive counts, integrated in closed form.
        n = self.num_thresholds
        dtp = tp[:n - 1] - tp[1:]
        p = tp + fp
        dp = p[:n - 1] - p[1:]
        slope = ew.divide_no_nan(dtp, ew.maximum(dp, 0.0))
        intercept = tp[1:] - slope * p[1:]
        both_positive = ew.logical_and(ew.greater(p[:n - 1], 0.0), ew.greater(p[1:], 0.0))
        ratio = ew.where(both_positive, ew.divide_no_nan(p[:n - 1], ew.maximum(p[1:], 0.0)),
                         ones_like(p[1:]))
        increments = ew.divide_no_nan(slope * (dtp + intercept * ew.log(ratio)),
                                      ew.maximum(tp[1:] + fn[1:], 0.0))
        return self._average_over_labels(increments)

    def result(self) -> Tensor:
        tp = self.true_positives.read_value()
        fp = self.false_positives.read_value()
        tn = self.true_negatives.read_value()
        fn = self.false_negatives.read_value()
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr_auc(tp, fp, fn)
        recall = ew.divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = ew.divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, ew.divide_no_nan(tp, tp + fp)
        else:
            scale = ew.divide_no_nan(tp + fn, tn + fp)
            no_tp = ew.equal(tp, 0.0)
            recall_gain = ew.where(no_tp, 0.0, 1.0 - scale * ew.divide_no_nan(fn, tp))
            x = ew.maximum(recall_gain, 0.0)
            y = ew.where(no_tp, 1.0, 1.0 - scale * ew.divide_no_nan(fp, tp))
        n = self.num_thresholds
        if self.summation_method == "interpolation":
            heights = (y[:n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = ew.minimum(y[:n - 1], y[1:])
        else:
            heights = ew.maximum(y[:n - 1], y[1:])
        return self._average_over_labels((x[:n - 1] - x[1:]) * heights)

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        label_weights = self.label_weights
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": None if label_weights is None
                  else label_weights.numpy().tolist(),
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


class FBetaScore(Metric):
    """``(1 + beta^2) * precision * recall / (beta^2 * precision + recall)`` per class.

    ``threshold=None`` takes each row's highest score as its predicted class;
    otherwise scores above ``threshold`` are predicted. ``average``: None (one score
    per class), ``"micro"`` (counts pooled over classes), ``"macro"`` (mean of the
    classes' scores) or ``"weighted"`` (mean weighted by each class's true count).
    """

    _direction = "up"

    def __init__(self, average: str | None = None, beta: float = 1.0,
                 threshold: float | None = None, name: str = "fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"Invalid `average` argument value. Expected one of: {{None, "
                             f"'micro', 'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: "
                             f"beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(f"Invalid `threshold` argument value. It should be a Python "
                                 f"float. Received: threshold={threshold} of type "
                                 f"'{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(f"Invalid `threshold` argument value. It should verify 0 < "
                                 f"threshold <= 1. Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape) -> None:
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(f"FBetaScore expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape={y_pred_shape} "
                             f"and y_true.shape={y_true_shape}.")
        if y_pred_shape[-1] is None or y_true_shape[-1] is None:
            raise ValueError(f"FBetaScore expects 2D inputs with shape (batch_size, "
                             f"output_dim), with output_dim fully defined (not None). Received "
                             f"input shapes: y_pred.shape={y_pred_shape} and "
                             f"y_true.shape={y_true_shape}.")
        size = () if self.average == "micro" else (y_pred_shape[-1],)
        with init_scope():  # built on the first batch, which may be inside a trace
            self.true_positives = self.add_variable(size, name="true_positives")
            self.false_positives = self.add_variable(size, name="false_positives")
            self.false_negatives = self.add_variable(size, name="false_negatives")
            self.intermediate_weights = self.add_variable(size, name="intermediate_weights")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true = ew.cast(as_tensor(y_true), self.dtype)
        y_pred = ew.cast(as_tensor(y_pred), self.dtype)
        if not self._built:
            self._build(y_true.shape.as_list(), y_pred.shape.as_list())
        if self.threshold is None:
            row_max = red.reduce_max(y_pred, axis=-1, keepdims=True)
            predicted = ew.logical_and(ew.greater_equal(y_pred, row_max),
                                       ew.greater(ew.abs(y_pred), 1e-9))
        else:
            predicted = ew.greater(y_pred, self.threshold)
        y_pred = ew.cast(predicted, self.dtype)
        weight = None
        if sample_weight is not None:
            weight = so.expand_dims(ew.cast(as_tensor(sample_weight), self.dtype), 1)

        def weighted_sum(values: Tensor) -> Tensor:
            if weight is not None:
                values = values * weight
            return red.reduce_sum(values, axis=self.axis)

        self.true_positives.assign_add(weighted_sum(y_pred * y_true))
        self.false_positives.assign_add(weighted_sum(y_pred * (1 - y_true)))
        self.false_negatives.assign_add(weighted_sum((1 - y_pred) * y_true))
        self.intermediate_weights.assign_add(weighted_sum(y_true))

    def result(self) -> Tensor:
        if not self._built:
            raise ValueError(f"{type(self).__name__} has no result before its first "
                             f"update_state(): the number of classes comes from the first "
                             f"batch. Call update_state(y_true, y_pred) first.")
        tp = self.true_positives.read_value()
        precision = tp / (tp + self.false_positives.read_value() + EPSILON)
        recall = tp / (tp + self.false_negatives.read_value() + EPSILON)
        beta_squared = self.beta ** 2
        score = (precision * recall / (beta_squared * precision + recall + EPSILON)
                 * (1 + beta_squared))
        if self.average == "weighted":
            counts = self.intermediate_weights.read_value()
            return red.reduce_sum(score * (counts / (red.reduce_sum(counts) + EPSILON)))
        if self.average is not None:
            return red.reduce_mean(score)
        return score

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F-beta score with ``beta = 1``: the harmonic mean of precision and recall."""

    def __init__(self, average: str | None = None, threshold: float | None = None,
                 name: str = "f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name,
                         dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config


__all__ = ["AUC", "F1Score", "FBetaScore", "Precision", "Recall", "confusion_counts"]
