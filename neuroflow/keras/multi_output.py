"""Losses and metrics for models with several outputs, as Keras 3 compiles them.

``compile(loss=[...] or {...}, loss_weights=..., metrics=[[...], [...]] or {...})`` on a
model with outputs named ``cls`` and ``reg`` trains on the weighted sum of the per-output
losses and logs ``loss``, ``cls_loss``, ``reg_loss``, ``cls_accuracy``, ``reg_mae``.
Labels come as a list in output order or a dict by output name.
"""

from __future__ import annotations

from typing import Any

from neuroflow.keras import losses as losses_module
from neuroflow.keras import metrics as metrics_module
from neuroflow.ops import reductions as red


def _by_output(value: Any, names: list[str], what: str, allow_single: bool) -> list:
    """One entry per output from a single value, a list in output order or a dict by name."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"`{what}` names outputs {unknown} that the model does not have; "
                             f"its outputs are {names}.")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"`{what}` has {len(value)} entries but the model has "
                             f"{len(names)} outputs {names}; give one entry per output, or a "
                             f"dict keyed by output name.")
        return list(value)
    if allow_single:
        return [value] * len(names)
    raise ValueError(f"For a model with outputs {names}, `{what}` must be a list with one "
                     f"entry per output or a dict keyed by output name; received {value!r}.")


def select(value, index: int, names: list[str]):
    """Output ``index`` of labels or predictions given as a list or a dict by name."""
    if isinstance(value, dict):
        return value[names[index]]
    if isinstance(value, (list, tuple)):
        return value[index]
    raise ValueError(f"The model has {len(names)} outputs {names}: labels must be a list with "
                     f"one array per output or a dict keyed by output name; received one "
                     f"{type(value).__name__}.")


class OutputLosses:
    """The compiled loss of a multi-output model: ``sum(weight_i * loss_i(y_i, y_pred_i))``."""

    def __init__(self, loss, loss_weights, names: list[str]):
        self.names = list(names)
        chosen = _by_output(loss, self.names, "loss", allow_single=True)
        weights = ([1.0] * len(self.names) if loss_weights is None else
                   _by_output(loss_weights, self.names, "loss_weights", allow_single=False))
        self.terms = []  # (output index, Loss, weight)
        for index, (entry, weight) in enumerate(zip(chosen, weights)):
            if entry is None:
                continue
            self.terms.append((index, losses_module.resolve(entry), 1.0 if weight is None
                               else float(weight)))
        if not self.terms:
            raise ValueError(f"`loss` gives no loss for any of the outputs {self.names}.")
        self.trackers = {index: metrics_module.Mean(name=f"{self.names[index]}_loss")
                         for index, _, _ in self.terms}

    def per_output(self, y, y_pred, sample_weight=None) -> list[tuple[int, Any]]:
        """``(output index, loss value)`` for every output that has a loss."""
        values = []
        for index, loss, _ in self.terms:
            weight = (select(sample_weight, index, self.names)
                      if isinstance(sample_weight, (list, tuple, dict)) else sample_weight)
            values.append((index, loss(select(y, index, self.names),
                                       select(y_pred, index, self.names),
                                       sample_weight=weight)))
        return values

    def __call__(self, y, y_pred, sample_weight=None):
        total = None
        weights = {index: weight for index, _, weight in self.terms}
        for index, value in self.per_output(y, y_pred, sample_weight):
            term = value * weights[index] if weights[index] != 1.0 else value
            total = term if total is None else total + term
        return total

    def track(self, y, y_pred, sample_weight, batch) -> None:
        """Add this batch's per-output losses to their trackers (weighted by batch size)."""
        for index, value in self.per_output(y, y_pred, sample_weight):
            tracker = self.trackers[index]
            value = red.reduce_mean(value) if value.ndim else value
            tracker.total.assign_add(value * batch)
            tracker.count.assign_add(batch)


class OutputMetric:
    """A metric of one output: named ``{output}_{metric}``, fed that output's labels."""

    def __init__(self, metric, index: int, names: list[str]):
        self._metric = metric
        self._index = index
        self._names = names
        metric.name = f"{names[index]}_{metric.name}"

    def update_state(self, y_true, y_pred, sample_weight=None):
        if isinstance(sample_weight, (list, tuple, dict)):
            sample_weight = select(sample_weight, self._index, self._names)
        return self._metric.update_state(select(y_true, self._index, self._names),
                                         select(y_pred, self._index, self._names),
                                         sample_weight=sample_weight)

    def __getattr__(self, name):
        return getattr(self._metric, name)


def output_metrics(metrics, names: list[str]) -> list[OutputMetric]:
    """Keras 3's forms: a list with one entry (a metric or a list) per output, or a dict."""
    if metrics is None:
        return []
    if not isinstance(metrics, (list, tuple, dict)):
        raise ValueError(f"`metrics` must be a list or a dict, received {metrics!r}.")
    if isinstance(metrics, (list, tuple)) and len(metrics) != len(names):
        raise ValueError(f"For a model with outputs {names}, `metrics` must have one entry per "
                         f"output (a metric or a list of metrics), or be a dict keyed by output "
                         f"name; received {len(metrics)} entries: {list(metrics)!r}.")
    made = []
    for index, entry in enumerate(_by_output(metrics, names, "metrics", allow_single=False)):
        entries = [] if entry is None else (list(entry) if isinstance(entry, (list, tuple))
                                            else [entry])
        made += [OutputMetric(metrics_module.resolve(m), index, names) for m in entries]
    return made
