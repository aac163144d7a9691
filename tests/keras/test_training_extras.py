"""Tests of the Keras training extras: AdamW, Nadam, Adamax, Adadelta, Lion, Ftrl; the learning-rate
schedules; Precision, Recall, AUC, F1Score/FBetaScore; ReduceLROnPlateau and
LearningRateScheduler. Values are checked against NumPy formulas; Keras itself is the
oracle in tests/oracle/test_tf_keras_training_extras.py.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras
from neuroflow.keras import callbacks, metrics, optimizers
from neuroflow.keras.optimizers import schedules
from tests.ops._opcheck import raises_with_message

RNG = np.random.default_rng(5)
W0 = RNG.normal(size=(3, 2))
GRADS = [RNG.normal(size=(3, 2)) for _ in range(5)]
LR = float(np.float32(0.01))  # the learning rate lives in a float32 variable


def _run(optimizer, w0=W0, grads=GRADS) -> np.ndarray:
    w = tf.Variable(w0)
    for g in grads:
        optimizer.apply_gradients([(tf.constant(g), w)])
    return w.numpy()


# --- optimizers: update rules in NumPy ----------------------------------------------------------

def test_adamw_is_adam_after_decoupled_decay():
    b1, b2, eps, wd = 0.9, 0.999, 1e-7, 0.05
    w, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for t, g in enumerate(GRADS, start=1):
        w = w - w * wd * LR
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        alpha = LR * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - m * alpha / (np.sqrt(v) + eps)
    np.testing.assert_allclose(_run(optimizers.AdamW(0.01, weight_decay=wd)), w, rtol=1e-10)


def test_nadam_with_its_momentum_schedule():
    b1, b2, eps = 0.9, 0.999, 1e-7
    w, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    u_product = 1.0
    for t, g in enumerate(GRADS, start=1):
        u_t = b1 * (1 - 0.5 * 0.96 ** t)
        u_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        u_product *= u_t
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / (1 - b2 ** t)
        w = w - m_hat * LR / (np.sqrt(v_hat) + eps)
    np.testing.assert_allclose(_run(optimizers.Nadam(0.01)), w, rtol=1e-6)


def test_adamax_uses_the_infinity_norm():
    b1, b2, eps = 0.9, 0.999, 1e-7
    w, m, u = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for t, g in enumerate(GRADS, start=1):
        m += (g - m) * (1 - b1)
        u = np.maximum(b2 * u, np.abs(g))
        w = w - LR * m / ((1 - b1 ** t) * (u + eps))
    np.testing.assert_allclose(_run(optimizers.Adamax(0.01)), w, rtol=1e-10)


def test_adadelta_accumulates_gradients_and_updates():
    rho, eps, lr = 0.95, 1e-7, 1.0
    w, acc_g, acc_d = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for g in GRADS:
        acc_g = rho * acc_g + (1 - rho) * g * g
        delta = -np.sqrt(acc_d + eps) * g / np.sqrt(acc_g + eps)
        acc_d = rho * acc_d + (1 - rho) * delta * delta
        w = w + lr * delta
    np.testing.assert_allclose(_run(optimizers.Adadelta(1.0)), w, rtol=1e-10)


def test_lion_steps_by_the_sign_of_the_interpolated_momentum():
    b1, b2 = 0.9, 0.99
    w, m = W0.copy(), np.zeros_like(W0)
    for g in GRADS:
        w = w - LR * np.sign(m * b1 + g * (1 - b1))
        m = m * b2 + g * (1 - b2)
    np.testing.assert_allclose(_run(optimizers.Lion(0.01)), w, rtol=1e-12)


def test_ftrl_proximal_update():
    lr, power, l1, l2, shrink, beta = 0.1, 0.7, 0.05, 0.1, 0.02, 0.3
    lr = float(np.float32(lr))
    w, n, z = W0.copy(), np.full_like(W0, 0.5), np.zeros_like(W0)
    for g in GRADS:
        new_n = n + g * g
        z += g + 2 * shrink * w - (new_n ** power - n ** power) / lr * w
        quadratic = new_n ** power / lr + 2 * (l2 + beta / (2 * lr))
        w = (np.clip(z, -l1, l1) - z) / quadratic
        n = new_n
    optimizer = optimizers.Ftrl(0.1, learning_rate_power=-power, initial_accumulator_value=0.5,
                                l1_regularization_strength=l1, l2_regularization_strength=l2,
                                l2_shrinkage_regularization_strength=shrink, beta=beta)
    np.testing.assert_allclose(_run(optimizer), w, rtol=1e-10, atol=1e-12)


def test_ftrl_argument_errors():
    raises_with_message(ValueError, lambda: optimizers.Ftrl(learning_rate_power=0.5),
                        "`learning_rate_power` needs to be negative or zero")
    for name in ("initial_accumulator_value", "l1_regularization_strength",
                 "l2_regularization_strength", "l2_shrinkage_regularization_strength"):
        raises_with_message(ValueError, lambda name=name: optimizers.Ftrl(**{name: -0.1}),
                            f"`{name}` needs to be positive or zero", f"{name}=-0.1")


NEW_OPTIMIZERS = ["AdamW", "Nadam", "Adamax", "Adadelta", "Lion", "Ftrl"]


@pytest.mark.parametrize("name", NEW_OPTIMIZERS)
def test_get_by_name_and_config_round_trip(name):
    by_name = optimizers.get(name.lower())
    assert type(by_name).__name__ == name
    optimizer = getattr(optimizers, name)(learning_rate=0.05, clipnorm=1.0)
    config = optimizer.get_config()
    assert config["learning_rate"] == pytest.approx(0.05)
    again = type(optimizer).from_config(config)
    assert again.get_config() == config
    assert type(optimizers.deserialize(optimizers.serialize(optimizer))) is type(optimizer)


def test_keras_defaults_and_config_keys():
    assert optimizers.AdamW().weight_decay == 0.004
    assert optimizers.Adadelta().rho == 0.95
    assert optimizers.Lion().beta_2 == 0.99
    assert {"beta_1", "beta_2", "epsilon"} <= set(optimizers.Nadam().get_config())
    assert {"beta_1", "beta_2"} <= set(optimizers.Lion().get_config())
    assert "amsgrad" in optimizers.AdamW().get_config()


def test_optimizer_argument_errors():
    raises_with_message(ValueError, lambda: optimizers.AdamW(weight_decay=None),
                        "`weight_decay` must be a float", "weight_decay=None")
    raises_with_message(ValueError, lambda: optimizers.Lion(beta_1=0.0),
                        "`beta_1` must be in the [0, 1] range", "beta_1=0.0")
    raises_with_message(ValueError, lambda: optimizers.Lion(beta_1=1.5), "SignSGD")


@pytest.mark.parametrize("name", NEW_OPTIMIZERS)
def test_optimizer_in_a_traced_step_matches_eager(name):
    eager = getattr(optimizers, name)(learning_rate=0.01)
    traced = getattr(optimizers, name)(learning_rate=0.01)
    w_eager, w_traced = tf.Variable(W0), tf.Variable(W0)

    @tf.function
    def step(g):
        traced.apply_gradients([(g, w_traced)])

    for g in GRADS:
        eager.apply_gradients([(tf.constant(g), w_eager)])
        step(tf.constant(g))
    np.testing.assert_allclose(w_traced.numpy(), w_eager.numpy(), rtol=1e-12)
    assert int(traced.iterations.numpy()) == len(GRADS)


def test_nadam_float32_variable_keeps_its_dtype():
    optimizer = optimizers.Nadam()
    w = tf.Variable(np.ones(3, np.float32))
    optimizer.apply_gradients([(tf.constant(np.ones(3, np.float32)), w)])
    assert w.dtype == tf.float32
    assert optimizer._u_product.dtype == tf.float32


# --- schedules ----------------------------------------------------------------------------------

def _values(schedule, steps=range(0, 40)) -> np.ndarray:
    return np.array([float(schedule(step)) for step in steps])


def test_piecewise_constant_decay():
    schedule = schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1])
    got = _values(schedule, range(13))
    np.testing.assert_allclose(got, [1.0] * 6 + [0.5] * 5 + [0.1] * 2, rtol=1e-7)
    assert schedule(np.int64(3)).dtype == tf.float32


def test_polynomial_decay_plain_and_cycling():
    steps = np.arange(40)
    got = _values(schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0))
    p = np.minimum(steps, 10) / 10
    np.testing.assert_allclose(got, (0.1 - 0.01) * (1 - p) ** 2 + 0.01, rtol=1e-5)
    got = _values(schedules.PolynomialDecay(0.1, 10, cycle=True))
    period = 10 * np.where(steps == 0, 1, np.ceil(steps / 10))
    np.testing.assert_allclose(got, (0.1 - 1e-4) * (1 - steps / period) + 1e-4,
                               rtol=1e-5, atol=1e-8)


def test_inverse_time_decay():
    steps = np.arange(40)
    got = _values(schedules.InverseTimeDecay(0.1, 4, 0.5))
    np.testing.assert_allclose(got, 0.1 / (1 + 0.5 * steps / 4), rtol=1e-6)
    got = _values(schedules.InverseTimeDecay(0.1, 4, 0.5, staircase=True))
    np.testing.assert_allclose(got, 0.1 / (1 + 0.5 * np.floor(steps / 4)), rtol=1e-6)


def test_cosine_decay_with_and_without_warmup():
    steps = np.arange(40)
    got = _values(schedules.CosineDecay(0.1, 20, alpha=0.1))
    cosine = 0.5 * (1 + np.cos(np.pi * np.minimum(steps, 20) / 20))
    np.testing.assert_allclose(got, 0.1 * (0.9 * cosine + 0.1), rtol=1e-5)
    got = _values(schedules.CosineDecay(0.0, 20, warmup_target=0.2, warmup_steps=10))
    capped = np.minimum(steps, 30)
    warm = 0.2 * capped / 10
    decay = 0.2 * 0.5 * (1 + np.cos(np.pi * (capped - 10) / 20))
    np.testing.assert_allclose(got, np.where(capped < 10, warm, decay), rtol=1e-5, atol=1e-8)


def test_cosine_decay_restarts():
    steps = np.arange(60)
    got = _values(schedules.CosineDecayRestarts(0.1, 5, t_mul=1.0, m_mul=0.5), steps)
    restart, fraction = np.floor(steps / 5), steps / 5 - np.floor(steps / 5)
    want = 0.1 * 0.5 ** restart * 0.5 * (1 + np.cos(np.pi * fraction))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)
    got = _values(schedules.CosineDecayRestarts(0.1, 5), steps)
    # Periods 5, 10, 20, ...: restarts begin at steps 0, 5, 15, 35.
    starts, lengths = np.array([0, 5, 15, 35]), np.array([5, 10, 20, 40])
    index = np.searchsorted(starts, steps, side="right") - 1
    want = 0.1 * 0.5 * (1 + np.cos(np.pi * (steps - starts[index]) / lengths[index]))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)


ALL_SCHEDULES = [
    schedules.PiecewiseConstantDecay([3, 7], [0.3, 0.2, 0.1]),
    schedules.PolynomialDecay(0.1, 10, power=0.5, cycle=True),
    schedules.InverseTimeDecay(0.1, 3, 0.2, staircase=True),
    schedules.CosineDecay(0.1, 10, alpha=0.2, warmup_target=0.3, warmup_steps=2),
    schedules.CosineDecayRestarts(0.1, 4, t_mul=1.5, m_mul=0.9, alpha=0.01),
]


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=lambda s: type(s).__name__)
def test_schedule_config_round_trip_and_traced_step(schedule):
    config = schedules.serialize(schedule)
    again = schedules.deserialize(config)
    assert again.get_config() == schedule.get_config()
    np.testing.assert_allclose(_values(again, range(20)), _values(schedule, range(20)))
    optimizer_config = optimizers.AdamW(schedule).get_config()
    restored = optimizers.AdamW.from_config(optimizer_config)
    assert type(restored._learning_rate) is type(schedule)
    assert restored.get_config() == optimizer_config

    @tf.function
    def at(step):
        return schedule(step)

    for step in (0, 3, 11):
        np.testing.assert_allclose(float(at(tf.constant(step, tf.int64))),
                                   float(schedule(step)), rtol=1e-6)


def test_schedule_errors():
    raises_with_message(ValueError, lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1]),
                        "boundaries should be 1 less than the length of values")
    for make in (lambda: schedules.PolynomialDecay(0.1, 0),
                 lambda: schedules.InverseTimeDecay(0.1, -1, 0.5),
                 lambda: schedules.CosineDecay(0.1, 0)):
        raises_with_message(ValueError, make, "Argument `decay_steps` must be > 0")
    raises_with_message(ValueError, lambda: schedules.CosineDecayRestarts(0.1, 0),
                        "Argument `first_decay_steps` must be > 0")


def test_schedule_as_learning_rate_in_compiled_fit():
    x = RNG.normal(size=(32, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    schedule = schedules.PiecewiseConstantDecay([4], [0.1, 0.01])
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer=optimizers.AdamW(schedule), loss="mse")
    seen = []
    record = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(float(model.optimizer.learning_rate)))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[record])
    assert int(model.optimizer.iterations.numpy()) == 12
    np.testing.assert_allclose(seen, [0.1, 0.01, 0.01], rtol=1e-6)


# --- metrics: confusion counts by hand ----------------------------------------------------------

Y_TRUE = np.array([1, 0, 1, 1, 0, 0, 1, 0], np.float32)
Y_PRED = np.array([0.9, 0.8, 0.3, 0.6, 0.1, 0.55, 0.45, 0.2], np.float32)
WEIGHTS = np.array([1.0, 2.0, 0.5, 1.0, 1.0, 3.0, 2.0, 1.0], np.float32)


def _counts(threshold, weights=None):
    weights = np.ones_like(Y_TRUE) if weights is None else weights
    predicted = Y_PRED > threshold
    tp = np.sum(weights * (predicted & (Y_TRUE == 1)))
    fp = np.sum(weights * (predicted & (Y_TRUE == 0)))
    fn = np.sum(weights * (~predicted & (Y_TRUE == 1)))
    tn = np.sum(weights * (~predicted & (Y_TRUE == 0)))
    return tp, fp, fn, tn


def test_precision_and_recall_at_thresholds_with_weights():
    precision = metrics.Precision(thresholds=[0.3, 0.5])
    recall = metrics.Recall(thresholds=[0.3, 0.5])
    for m in (precision, recall):
        m.update_state(Y_TRUE[:4], Y_PRED[:4], sample_weight=WEIGHTS[:4])
        m.update_state(Y_TRUE[4:], Y_PRED[4:], sample_weight=WEIGHTS[4:])
    want_p, want_r = [], []
    for t in (0.3, 0.5):
        tp, fp, fn, _ = _counts(t, WEIGHTS)
        want_p.append(tp / (tp + fp))
        want_r.append(tp / (tp + fn))
    np.testing.assert_allclose(precision.result().numpy(), want_p, rtol=1e-6)
    np.testing.assert_allclose(recall.result().numpy(), want_r, rtol=1e-6)
    precision.reset_state()
    assert float(precision.result()[0]) == 0.0


def test_precision_top_k_and_class_id():
    y_true = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], np.float32)
    y_pred = np.array([[0.1, 0.5, 0.4], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]], np.float32)
    top1 = metrics.Precision(top_k=1)
    top1.update_state(y_true, y_pred)
    assert float(top1.result()) == pytest.approx(2 / 3)
    recall = metrics.Recall(class_id=2)
    recall.update_state(y_true, y_pred)  # class 2's only positive scores 0.4 < 0.5
    assert float(recall.result()) == 0.0
    raises_with_message(ValueError, lambda: metrics.Recall(class_id=0).update_state(
        Y_TRUE, Y_PRED), "When class_id is provided, y_pred must be a 2D array")


def _trapezoid_roc(weights=None):
    thresholds = [-1e-7] + [(i + 1) / 199 for i in range(198)] + [1 + 1e-7]
    counts = np.array([_counts(t, weights) for t in thresholds])
    tp, fp, fn, tn = counts.T
    tpr, fpr = tp / (tp + fn), fp / (fp + tn)
    return float(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2))


def test_auc_roc_is_the_trapezoid_over_keras_thresholds():
    auc = metrics.AUC()
    auc.update_state(Y_TRUE, Y_PRED, sample_weight=WEIGHTS)
    assert float(auc.result()) == pytest.approx(_trapezoid_roc(WEIGHTS), rel=1e-6)
    assert len(auc.thresholds) == 200
    assert auc.thresholds[0] < 0 and auc.thresholds[-1] > 1


def test_auc_perfect_ranking_and_pr_curve():
    y_true = np.array([0, 0, 1, 1], np.float32)
    y_pred = np.array([0.1, 0.2, 0.8, 0.9], np.float32)
    # PR minoring takes the zero precision past the last prediction over recall [0, 1]'s
    # last step, as Keras does.
    expected = {("PR", "minoring"): 0.5}
    for curve in ("ROC", "PR"):
        for method in ("interpolation", "minoring", "majoring"):
            auc = metrics.AUC(curve=curve, summation_method=method)
            auc.update_state(y_true, y_pred)
            want = expected.get((curve, method), 1.0)
            assert float(auc.result()) == pytest.approx(want, abs=1e-6), (curve, method)


def test_auc_multi_label_and_label_weights():
    y_true = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], np.float32)
    y_pred = np.array([[0.9, 0.2], [0.1, 0.3], [0.8, 0.1], [0.3, 0.6]], np.float32)
    per_label = []
    for j in range(2):
        one = metrics.AUC()
        one.update_state(y_true[:, j], y_pred[:, j])
        per_label.append(float(one.result()))
    both = metrics.AUC(multi_label=True)
    both.update_state(y_true, y_pred)
    assert float(both.result()) == pytest.approx(np.mean(per_label), rel=1e-6)
    weighted = metrics.AUC(multi_label=True, num_labels=2, label_weights=[3.0, 1.0],
                           curve="PRGAIN")
    weighted.update_state(y_true, y_pred)
    assert np.isfinite(float(weighted.result()))
    weighted.reset_state()
    assert float(weighted.true_positives.numpy().sum()) == 0.0


def test_auc_from_logits_matches_probabilities():
    logits = np.log(Y_PRED / (1 - Y_PRED))
    a, b = metrics.AUC(from_logits=True), metrics.AUC()
    a.update_state(Y_TRUE, logits)
    b.update_state(Y_TRUE, Y_PRED)
    assert float(a.result()) == pytest.approx(float(b.result()), rel=1e-6)


def test_auc_config_round_trip():
    auc = metrics.AUC(thresholds=[0.7, 0.2], curve="pr", summation_method="minoring")
    config = auc.get_config()
    assert config["curve"] == "PR" and config["num_thresholds"] == 4
    assert config["thresholds"] == [0.2, 0.7]
    again = metrics.AUC.from_config(config)
    assert again.get_config() == config


def test_metric_argument_errors():
    raises_with_message(ValueError, lambda: metrics.AUC(curve="XY"), "Invalid AUC curve")
    raises_with_message(ValueError, lambda: metrics.AUC(summation_method="simpson"),
                        "Invalid AUC summation method")
    raises_with_message(ValueError, lambda: metrics.AUC(num_thresholds=1),
                        "`num_thresholds` must be an integer > 1")
    raises_with_message(ValueError, lambda: metrics.AUC(num_labels=3),
                        "`num_labels` is needed only when `multi_label` is True")
    raises_with_message(ValueError,
                        lambda: metrics.AUC(multi_label=True).update_state(Y_TRUE, Y_PRED),
                        "`y_pred` must have rank 2 when `multi_label=True`")
    raises_with_message(ValueError, lambda: metrics.Precision(thresholds=[0.5, 1.5]),
                        "Threshold values must be in [0, 1]", "1.5")
    raises_with_message(ValueError, lambda: metrics.FBetaScore(average="median"),
                        "Invalid `average` argument value")
    raises_with_message(ValueError, lambda: metrics.FBetaScore(beta=2),
                        "It should be a Python float")
    raises_with_message(ValueError, lambda: metrics.FBetaScore(beta=-1.0), "It should be > 0")
    raises_with_message(ValueError, lambda: metrics.F1Score(threshold=1),
                        "Invalid `threshold` argument value. It should be a Python float")
    raises_with_message(ValueError, lambda: metrics.F1Score(threshold=0.0),
                        "It should verify 0 < threshold <= 1")
    raises_with_message(ValueError, lambda: metrics.F1Score().update_state(Y_TRUE, Y_PRED),
                        "FBetaScore expects 2D inputs")
    raises_with_message(ValueError, lambda: metrics.F1Score().result(),
                        "no result before its first update_state()")


def test_fbeta_output_dim_must_be_known():
    score = metrics.F1Score()
    spec = tf.TensorSpec([None, None], tf.float32)

    @tf.function(input_signature=[spec, spec])
    def update(y_true, y_pred):
        score.update_state(y_true, y_pred)

    batch = tf.constant(Y3_TRUE)
    raises_with_message(ValueError, lambda: update(batch, batch),
                        "with output_dim fully defined")


Y3_TRUE = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]], np.float32)
Y3_PRED = np.array([[0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [0.5, 0.1, 0.4], [0.2, 0.5, 0.3],
                    [0.1, 0.8, 0.1]], np.float32)


def _fbeta(tp, fp, fn, beta):
    eps = 1e-7
    p, r = tp / (tp + fp + eps), tp / (tp + fn + eps)
    return p * r / (beta ** 2 * p + r + eps) * (1 + beta ** 2)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_and_fbeta_scores(average):
    predicted = (Y3_PRED == Y3_PRED.max(axis=1, keepdims=True)).astype(np.float32)
    axis = None if average == "micro" else 0
    tp = np.sum(predicted * Y3_TRUE, axis=axis)
    fp = np.sum(predicted * (1 - Y3_TRUE), axis=axis)
    fn = np.sum((1 - predicted) * Y3_TRUE, axis=axis)
    for beta, metric in ((1.0, metrics.F1Score(average=average)),
                         (2.0, metrics.FBetaScore(average=average, beta=2.0))):
        metric.update_state(Y3_TRUE[:2], Y3_PRED[:2])
        metric.update_state(Y3_TRUE[2:], Y3_PRED[2:])
        score = _fbeta(tp, fp, fn, beta)
        if average == "weighted":
            support = Y3_TRUE.sum(axis=0)
            score = np.sum(score * support / (support.sum() + 1e-7))
        elif average is not None:
            score = np.mean(score)
        np.testing.assert_allclose(metric.result().numpy(), score, rtol=1e-5)
    config = metrics.F1Score(average=average, threshold=0.4).get_config()
    assert "beta" not in config and config["threshold"] == 0.4
    assert metrics.F1Score.from_config(config).get_config() == config


def test_fbeta_threshold_and_sample_weight():
    metric = metrics.FBetaScore(average="micro", threshold=0.35, beta=0.5)
    weights = np.array([1.0, 0.0, 2.0, 1.0, 0.5], np.float32)
    metric.update_state(Y3_TRUE, Y3_PRED, sample_weight=weights)
    predicted = (Y3_PRED > 0.35).astype(np.float32)
    w = weights[:, None]
    tp = np.sum(predicted * Y3_TRUE * w)
    fp = np.sum(predicted * (1 - Y3_TRUE) * w)
    fn = np.sum((1 - predicted) * Y3_TRUE * w)
    assert float(metric.result()) == pytest.approx(_fbeta(tp, fp, fn, 0.5), rel=1e-5)
    metric.reset_state()
    assert float(metric.true_positives.numpy()) == 0.0


def test_metric_names_resolve_as_keras():
    for name, cls in (("auc", metrics.AUC), ("precision", metrics.Precision),
                      ("recall", metrics.Recall), ("f1_score", metrics.F1Score),
                      ("AUC", metrics.AUC), ("f_beta_score", metrics.FBetaScore),
                      ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy)):
        assert type(metrics.get(name)) is cls
    assert metrics.AUC().name == "auc" and metrics.FBetaScore().name == "fbeta_score"
    assert type(metrics.deserialize(metrics.serialize(metrics.Recall(thresholds=0.3)))) \
        is metrics.Recall


def test_classification_metrics_in_compiled_fit_match_a_later_evaluation():
    x = RNG.normal(size=(48, 4)).astype("float32")
    y = (x[:, :1] + 0.3 * x[:, 1:2] > 0).astype("float32")
    model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid")])
    f1 = metrics.F1Score(average="micro", threshold=0.5)
    model.compile(optimizer=optimizers.Nadam(0.05), loss="binary_crossentropy",
                  metrics=["auc", "precision", "recall", f1])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert {"auc", "precision", "recall", "f1_score"} <= set(history.history)
    results = model.evaluate(x, y, batch_size=48, verbose=0, return_dict=True)
    probabilities = model.predict(x, verbose=0)
    auc = metrics.AUC()
    auc.update_state(y, probabilities)
    precision = metrics.Precision()
    precision.update_state(y, probabilities)
    assert results["auc"] == pytest.approx(float(auc.result()), rel=1e-5)
    assert results["precision"] == pytest.approx(float(precision.result()), rel=1e-5)


# --- callbacks ----------------------------------------------------------------------------------

class _FakeModel:
    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.stop_training = False


def _drive(callback, optimizer, losses):
    """Run the callback over epochs whose monitored loss is ``losses``; the rates seen."""
    callback.set_model(_FakeModel(optimizer))
    callback.on_train_begin()
    rates = []
    for epoch, loss in enumerate(losses):
        callback.on_epoch_begin(epoch)
        logs = {"loss": loss}
        callback.on_epoch_end(epoch, logs)
        rates.append(logs.get("learning_rate"))
    return rates


def test_reduce_lr_on_plateau_with_patience_cooldown_and_floor():
    optimizer = optimizers.SGD(1.0)
    callback = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, cooldown=1,
                                           min_lr=0.2)
    rates = _drive(callback, optimizer, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    # Logged rates are those before the epoch's reduction. Reduced at epochs 2, 4, 6: the
    # cooldown epoch after a reduction ends its cooldown and counts as a first bad epoch.
    np.testing.assert_allclose(rates, [1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2], rtol=1e-6)
    assert float(optimizer.learning_rate) == pytest.approx(0.2)


def test_reduce_lr_on_plateau_mode_and_missing_monitor():
    optimizer = optimizers.SGD(1.0)
    callback = callbacks.ReduceLROnPlateau(monitor="acc", patience=1, verbose=1)
    callback.set_model(_FakeModel(optimizer))
    callback.on_train_begin()
    callback.on_epoch_end(0, {"acc": 0.5})
    callback.on_epoch_end(1, {"acc": 0.6})  # larger accuracy is better: no reduction
    assert float(optimizer.learning_rate) == pytest.approx(1.0)
    callback.on_epoch_end(2, {"acc": 0.6})
    assert float(optimizer.learning_rate) == pytest.approx(0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        callback.on_epoch_end(3, {"loss": 0.1})
    assert any("conditioned on metric `acc`" in str(w.message) for w in caught)
    raises_with_message(ValueError, lambda: callbacks.ReduceLROnPlateau(factor=1.0),
                        "does not support a factor >= 1.0")


def test_learning_rate_scheduler_new_and_old_signatures():
    optimizer = optimizers.Adam(0.1)
    callback = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5, verbose=1)
    rates = _drive(callback, optimizer, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(rates, [0.05, 0.025, 0.0125], rtol=1e-6)
    callback = callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    rates = _drive(callback, optimizer, [1.0, 1.0])
    np.testing.assert_allclose(rates, [0.1, 0.05], rtol=1e-6)
    callback = callbacks.LearningRateScheduler(lambda epoch: 1)
    callback.set_model(_FakeModel(optimizer))
    raises_with_message(ValueError, lambda: callback.on_epoch_begin(0),
                        "output of the `schedule` function should be a float")
    callback.set_model(_FakeModel(object()))
    raises_with_message(ValueError, lambda: callback.on_epoch_begin(0),
                        'Optimizer must have a "learning_rate" attribute')


def test_learning_rate_callbacks_in_compiled_fit():
    x = RNG.normal(size=(32, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer=optimizers.Adamax(0.1), loss="mse")
    history = model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch),
        callbacks.ReduceLROnPlateau(monitor="loss", patience=1, min_delta=1e9, factor=0.5)])
    # The scheduler sets 0.1 * 0.5^epoch at each epoch's start, and the plateau callback
    # (nothing counts as an improvement) halves it again at every epoch's end.
    np.testing.assert_allclose(history.history["learning_rate"],
                               [0.1, 0.05, 0.025, 0.0125], rtol=1e-6)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.00625)


def test_logged_learning_rate_is_the_scheduled_one_in_compiled_fit():
    x = RNG.normal(size=(32, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    schedule = schedules.CosineDecay(0.1, decay_steps=12, warmup_target=0.2, warmup_steps=4)
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer=optimizers.Lion(schedule), loss="mse")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0,
                        callbacks=[callbacks.ReduceLROnPlateau(monitor="loss", patience=100)])
    want = [float(schedule(4 * (epoch + 1))) for epoch in range(3)]
    np.testing.assert_allclose(history.history["learning_rate"], want, rtol=1e-6)
    # A schedule cannot be overwritten: reducing it raises, as in Keras.
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", patience=0)
    reduce.set_model(model)
    reduce.on_train_begin()
    reduce.on_epoch_end(0, {"loss": 1.0})
    raises_with_message(TypeError, lambda: reduce.on_epoch_end(1, {"loss": 1.0}),
                        "created with a `LearningRateSchedule`")


def test_reduce_lr_on_plateau_auto_mode_reads_the_metric_direction():
    optimizer = optimizers.SGD(1.0)
    model = _FakeModel(optimizer)
    model.metrics = [metrics.Mean(name="loss"), metrics.Precision()]
    callback = callbacks.ReduceLROnPlateau(monitor="val_precision", patience=1)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate([0.5, 0.6, 0.7]):  # rising precision is improving
        callback.on_epoch_end(epoch, {"val_precision": value})
    assert callback.direction == 1
    assert float(optimizer.learning_rate) == pytest.approx(1.0)
    callback.on_epoch_end(3, {"val_precision": 0.65})
    assert float(optimizer.learning_rate) == pytest.approx(0.1)
    with pytest.warns(UserWarning, match="mode 'sideways' is unknown, fallback to auto mode"):
        unknown = callbacks.ReduceLROnPlateau(mode="sideways")
    assert unknown.mode == "auto"
    loss_monitor = callbacks.ReduceLROnPlateau(monitor="val_loss", mode="auto")
    loss_monitor.set_model(model)
    loss_monitor.on_epoch_end(0, {"val_loss": 1.0})
    assert loss_monitor.direction == -1


def test_metrics_with_a_value_per_class_log_arrays_in_fit_and_evaluate():
    r = np.random.default_rng(0)
    x = r.random((64, 4)).astype("float32")
    y = np.eye(3)[r.integers(0, 3, 64)].astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy",
                  metrics=[keras.metrics.F1Score(average=None),
                           keras.metrics.Precision(thresholds=[0.3, 0.6])])
    history = model.fit(x, y, epochs=2, verbose=2, validation_split=0.25).history
    assert np.shape(history["f1_score"][-1]) == (3,)
    assert np.shape(history["val_precision"][-1]) == (2,)
    assert isinstance(history["loss"][-1], float)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    expected = keras.metrics.F1Score(average=None)
    expected.update_state(y, model.predict(x, verbose=0))
    np.testing.assert_allclose(logs["f1_score"], expected.result().numpy(), rtol=1e-5)
