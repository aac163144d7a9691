"""Keras 3 (with TensorFlow 2.21) as the oracle for neuroflow's training extras.

From the same weights and gradients each optimizer's updates must match Keras's step by
step; schedules must give Keras's values at many steps; metrics Keras's results on the
same batches (several ``update_state`` calls, with sample weights); the learning-rate
callbacks must change the rate at the same epochs as Keras's. Configs must agree too.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")
K = pytest.importorskip("keras")

import neuroflow as N  # noqa: E402
from neuroflow.keras import callbacks as ncallbacks  # noqa: E402
from neuroflow.keras import metrics as nmetrics  # noqa: E402
from neuroflow.keras import optimizers as noptimizers  # noqa: E402
from neuroflow.keras.optimizers import schedules as nschedules  # noqa: E402

# Keras converts its own learning-rate variable with np.array(), which NumPy 2 flags.
pytestmark = [pytest.mark.tensorflow,
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]

RNG = np.random.default_rng(2026)


def _same_config(keras_config: dict, ours: dict, skip=("name",)) -> None:
    assert set(keras_config) == set(ours)
    for key in keras_config:
        if key not in skip:
            assert keras_config[key] == ours[key], key


# --- optimizers ---------------------------------------------------------------------------------

OPTIMIZERS = [
    ("AdamW", {}),
    ("AdamW", {"weight_decay": 0.1, "amsgrad": True, "learning_rate": 0.01}),
    ("Nadam", {}),
    ("Nadam", {"learning_rate": 0.02, "beta_1": 0.8, "epsilon": 1e-4}),
    ("Adamax", {}),
    ("Adamax", {"learning_rate": 0.05, "beta_2": 0.9, "weight_decay": 0.01}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"rho": 0.8, "epsilon": 1e-5, "clipnorm": 0.5}),
    ("Lion", {}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.95, "clipvalue": 0.3}),
    ("Ftrl", {}),
    ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.05,
              "l2_regularization_strength": 0.1, "l2_shrinkage_regularization_strength": 0.02,
              "beta": 0.3, "learning_rate_power": -0.7, "initial_accumulator_value": 0.5}),
    ("Ftrl", {"learning_rate_power": 0.0}),
]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=lambda v: str(v))
def test_optimizer_updates_match_keras_step_by_step(name, kwargs, dtype):
    w0 = [RNG.normal(size=(3, 4)).astype(dtype), RNG.normal(size=(5,)).astype(dtype)]
    grads = [[RNG.normal(size=w.shape).astype(dtype) for w in w0] for _ in range(6)]
    theirs = getattr(K.optimizers, name)(**kwargs)
    ours = getattr(noptimizers, name)(**kwargs)
    keras_vars = [K.Variable(w.copy(), dtype=dtype) for w in w0]
    our_vars = [N.Variable(w.copy()) for w in w0]
    for step in grads:
        theirs.apply([T.constant(g) for g in step], keras_vars)
        ours.apply([N.constant(g) for g in step], our_vars)
        for kv, nv in zip(keras_vars, our_vars):
            assert nv.dtype.name == dtype
            # float16: the order of float16 roundings may differ by one unit in the last place.
            tolerance = 2e-3 if dtype == "float16" else 1e-6
            np.testing.assert_allclose(nv.numpy().astype(float), kv.numpy().astype(float),
                                       rtol=tolerance, atol=tolerance)
    _same_config(theirs.get_config(), ours.get_config())


@pytest.mark.parametrize("name", ["adamw", "nadam", "adamax", "adadelta", "lion", "ftrl"])
def test_optimizer_names_and_defaults_match_keras(name):
    theirs, ours = K.optimizers.get(name), noptimizers.get(name)
    assert type(theirs).__name__ == type(ours).__name__
    _same_config(theirs.get_config(), ours.get_config())


def test_optimizer_errors_match_keras():
    for make in (lambda m: m.optimizers.AdamW(weight_decay=None),
                 lambda m: m.optimizers.Lion(beta_1=0.0),
                 lambda m: m.optimizers.Ftrl(learning_rate_power=0.5),
                 lambda m: m.optimizers.Ftrl(l2_regularization_strength=-1.0)):
        with pytest.raises(ValueError) as theirs:
            make(K)
        with pytest.raises(ValueError) as ours:
            make(N.keras)
        assert str(theirs.value).split(".")[0] in str(ours.value)


# --- schedules ----------------------------------------------------------------------------------

SCHEDULES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5,
                              staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[10, 20, 35], values=[1.0, 0.5, 0.1, 0.01])),
    ("PiecewiseConstantDecay", dict(boundaries=[5], values=[0.3, 0.2])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=25, power=2.0)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=25, power=0.5,
                             cycle=True, end_learning_rate=0.01)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5,
                              staircase=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=30, alpha=0.1)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=30, warmup_target=0.2,
                         warmup_steps=10)),
    ("CosineDecay", dict(initial_learning_rate=0.05, decay_steps=12, alpha=0.3,
                         warmup_target=0.1, warmup_steps=3)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=7)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=5, t_mul=1.0,
                                 m_mul=0.5, alpha=0.1)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.2, first_decay_steps=4, t_mul=1.5,
                                 m_mul=0.8, alpha=0.01)),
]


@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=lambda v: str(v))
def test_schedule_values_and_config_match_keras(name, kwargs):
    theirs = getattr(K.optimizers.schedules, name)(**kwargs)
    ours = getattr(nschedules, name)(**kwargs)
    for step in range(0, 80):
        want = theirs(step)
        got = ours(np.int64(step))
        assert got.dtype.name == want.dtype.name
        np.testing.assert_allclose(float(got), float(want), rtol=1e-6, atol=1e-8)
    assert theirs.get_config() == ours.get_config()


def test_schedule_errors_match_keras():
    for make in (lambda s: s.PolynomialDecay(0.1, 0),
                 lambda s: s.InverseTimeDecay(0.1, 0, 0.5),
                 lambda s: s.CosineDecay(0.1, -3),
                 lambda s: s.CosineDecayRestarts(0.1, 0),
                 lambda s: s.PiecewiseConstantDecay([1, 2], [0.1, 0.2])):
        with pytest.raises(ValueError) as theirs:
            make(K.optimizers.schedules)
        with pytest.raises(ValueError) as ours:
            make(nschedules)
        assert str(theirs.value)[:30] == str(ours.value)[:30]


def test_scheduled_optimizer_matches_keras():
    kwargs = dict(initial_learning_rate=0.1, decay_steps=4, warmup_target=0.3, warmup_steps=2)
    theirs = K.optimizers.Nadam(K.optimizers.schedules.CosineDecay(**kwargs))
    ours = noptimizers.Nadam(nschedules.CosineDecay(**kwargs))
    w0 = RNG.normal(size=(4,)).astype("float32")
    kv, nv = K.Variable(w0.copy()), N.Variable(w0.copy())
    for _ in range(8):
        g = RNG.normal(size=(4,)).astype("float32")
        theirs.apply([T.constant(g)], [kv])
        ours.apply([N.constant(g)], [nv])
        np.testing.assert_allclose(float(ours.learning_rate), float(theirs.learning_rate),
                                   rtol=1e-6)
        # Rates up to 0.3 scale float32 rounding (about 1e-7 per step at rate 1e-3) up.
        np.testing.assert_allclose(nv.numpy(), kv.numpy(), rtol=1e-5, atol=1e-5)


# --- metrics ------------------------------------------------------------------------------------

def _batches(shape, count=3, seed=0, integer_labels=False):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        y_pred = rng.random(shape).astype("float32")
        y_true = (rng.random(shape) > 0.5).astype("float32")
        weight = rng.random(shape[0]).astype("float32")
        out.append((y_true, y_pred, weight))
    return out


EDGE = [(np.array([1, 0, 1, 0, 1, 1, 0], np.float32),
         np.array([0.0, 1.0, 0.5, 50 / 199, -0.2, 1.3, 0.25], np.float32),
         np.array([1, 2, 1, 0, 1, 1, 3], np.float32))]

METRICS = [
    ("AUC", {}, "flat"),
    ("AUC", {"curve": "PR"}, "flat"),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, "flat"),
    ("AUC", {"summation_method": "majoring", "num_thresholds": 13}, "flat"),
    ("AUC", {"curve": "PRGAIN", "num_thresholds": 50}, "flat"),
    ("AUC", {"thresholds": [0.1, 0.3, 0.77]}, "flat"),
    ("AUC", {"thresholds": [0.25, 0.5, 0.75]}, "flat"),
    ("AUC", {"from_logits": True}, "flat"),
    ("AUC", {}, "edge"),
    ("AUC", {"curve": "PR"}, "edge"),
    ("AUC", {"multi_label": True}, "classes"),
    ("AUC", {"multi_label": True, "num_labels": 5, "curve": "PR",
             "label_weights": [1, 2, 0, 1, 3]}, "classes"),
    ("AUC", {"label_weights": [1, 2, 0, 1, 3]}, "classes"),
    ("AUC", {}, "classes"),
    ("Precision", {}, "flat"),
    ("Precision", {}, "edge"),
    ("Precision", {"thresholds": [0.2, 0.5, 0.9]}, "classes"),
    ("Precision", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "classes"),
    ("Precision", {"top_k": 2, "class_id": 3}, "classes"),
    ("Precision", {"top_k": 1}, "classes"),
    ("Recall", {}, "flat"),
    ("Recall", {"thresholds": [0.0, 0.5, 1.0]}, "edge"),
    ("Recall", {"top_k": 2}, "classes"),
    ("Recall", {"class_id": 1, "thresholds": 0.3}, "classes"),
    ("F1Score", {}, "classes"),
    ("F1Score", {"average": "micro"}, "classes"),
    ("F1Score", {"average": "macro", "threshold": 0.5}, "classes"),
    ("F1Score", {"average": "weighted"}, "classes"),
    ("FBetaScore", {"beta": 2.0}, "classes"),
    ("FBetaScore", {"beta": 0.5, "average": "micro", "threshold": 0.4}, "classes"),
    ("FBetaScore", {"beta": 2.0, "average": "macro"}, "classes"),
    ("FBetaScore", {"beta": 3.0, "average": "weighted", "threshold": 0.7}, "classes"),
]
DATA = {"flat": _batches((50,)), "classes": _batches((40, 5), seed=1), "edge": EDGE}


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("name,kwargs,data", METRICS, ids=lambda v: str(v))
def test_metric_results_match_keras(name, kwargs, data, weighted):
    theirs = getattr(K.metrics, name)(**kwargs)
    ours = getattr(nmetrics, name)(**kwargs)
    for y_true, y_pred, weight in DATA[data]:
        sample_weight = weight if weighted else None
        theirs.update_state(y_true, y_pred, sample_weight=sample_weight)
        ours.update_state(y_true, y_pred, sample_weight=sample_weight)
        want, got = np.asarray(theirs.result()), ours.result()
        assert got.dtype.name == want.dtype.name
        assert tuple(got.shape) == want.shape
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    theirs.reset_state()
    ours.reset_state()
    np.testing.assert_allclose(ours.result().numpy(), np.asarray(theirs.result()), atol=1e-7)
    _same_config(theirs.get_config(), ours.get_config(), skip=("name", "label_weights"))


@pytest.mark.parametrize("name", ["auc", "precision", "recall", "f1_score", "f_beta_score",
                                  "top_k_categorical_accuracy",
                                  "sparse_top_k_categorical_accuracy"])
def test_metric_names_match_keras(name):
    theirs, ours = K.metrics.get(name), nmetrics.get(name)
    assert type(theirs).__name__ == type(ours).__name__
    # Keras numbers repeated names (auc_1, auc_2, ...); neuroflow does not (see report).
    assert re.sub(r"_\d+$", "", theirs.name) == ours.name


def test_top_k_accuracies_match_keras():
    y_pred = RNG.random((30, 6)).astype("float32")
    labels = RNG.integers(0, 6, size=30)
    one_hot = np.eye(6, dtype="float32")[labels]
    weight = RNG.random(30).astype("float32")
    for name, y_true, kwargs in (("TopKCategoricalAccuracy", one_hot, {"k": 2}),
                                 ("SparseTopKCategoricalAccuracy", labels, {"k": 3}),
                                 ("TopKCategoricalAccuracy", one_hot, {})):
        theirs, ours = getattr(K.metrics, name)(**kwargs), getattr(nmetrics, name)(**kwargs)
        for part in (slice(0, 10), slice(10, 30)):
            theirs.update_state(y_true[part], y_pred[part], sample_weight=weight[part])
            ours.update_state(y_true[part], y_pred[part], sample_weight=weight[part])
        np.testing.assert_allclose(float(ours.result()), float(theirs.result()), rtol=1e-6)


def test_metric_errors_match_keras():
    for make in (lambda m: m.AUC(num_thresholds=1),
                 lambda m: m.AUC(num_labels=3),
                 lambda m: m.Precision(thresholds=[0.5, 1.5]),
                 lambda m: m.FBetaScore(average="median"),
                 lambda m: m.FBetaScore(beta=2),
                 lambda m: m.F1Score(threshold=0.0),
                 lambda m: m.F1Score().update_state(np.ones(3), np.ones(3))):
        with pytest.raises(ValueError) as theirs:
            make(K.metrics)
        with pytest.raises(ValueError) as ours:
            make(nmetrics)
        assert str(theirs.value)[:25] == str(ours.value)[:25]


# --- callbacks ----------------------------------------------------------------------------------

class _Model:
    """Just enough of a model for the learning-rate callbacks: an optimizer."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.stop_training = False


def _drive(callback, optimizer, values, monitor):
    callback.set_model(_Model(optimizer))
    callback.on_train_begin()
    seen = []
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch)
        logs = {monitor: value}
        callback.on_epoch_end(epoch, logs)
        seen.append(float(np.float32(logs["learning_rate"])))
    return seen


PLATEAU = [
    (dict(monitor="val_loss", factor=0.5, patience=2), "val_loss",
     [1.0, 0.9, 0.95, 0.92, 0.91, 0.95, 0.8, 0.85, 0.86, 0.87, 0.88, 0.9]),
    (dict(monitor="val_loss", factor=0.2, patience=1, cooldown=2, min_lr=0.01), "val_loss",
     [1.0] * 12),
    (dict(monitor="val_accuracy", mode="max", factor=0.5, patience=2, min_delta=0.01),
     "val_accuracy",
     [0.5, 0.6, 0.605, 0.61, 0.7, 0.7, 0.69, 0.71, 0.72, 0.72]),
    (dict(monitor="loss", mode="max", factor=0.1, patience=0), "loss",
     [1.0, 0.9, 1.1, 1.1, 0.5]),
]


@pytest.mark.parametrize("kwargs,monitor,values", PLATEAU, ids=lambda v: str(v)[:40])
def test_reduce_lr_on_plateau_matches_keras(kwargs, monitor, values):
    theirs = _drive(K.callbacks.ReduceLROnPlateau(**kwargs), K.optimizers.SGD(1.0), values,
                    monitor)
    ours = _drive(ncallbacks.ReduceLROnPlateau(**kwargs), noptimizers.SGD(1.0), values,
                  monitor)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("schedule", [
    lambda epoch, lr: lr * 0.5 if epoch % 2 else lr,
    lambda epoch: 0.1 / (1.0 + epoch),
    lambda epoch, lr: float(np.float32(0.3) * np.float32(0.9) ** epoch),
])
def test_learning_rate_scheduler_matches_keras(schedule):
    theirs = _drive(K.callbacks.LearningRateScheduler(schedule), K.optimizers.Adam(0.2),
                    [0.0] * 6, "loss")
    ours = _drive(ncallbacks.LearningRateScheduler(schedule), noptimizers.Adam(0.2),
                  [0.0] * 6, "loss")
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
