"""Tests of neuroflow.keras.losses: NumPy reference formulas, reductions, gradients, lookup."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.errors import InvalidArgumentError
from neuroflow.keras import activations, losses
from neuroflow.keras.utils.naming import closest_names, get_by_name

EPS = 1e-7
RNG = np.random.default_rng(7)
Y_REG = RNG.normal(size=(5, 3))
P_REG = RNG.normal(size=(5, 3)) * 2
LOGITS = RNG.normal(size=(5, 4)) * 3
LABELS = np.array([0, 3, 1, 1, 2])
ONE_HOT = np.eye(4)[LABELS]
PROBS = RNG.uniform(0.0, 1.0, size=(5, 4))  # not normalized: Keras renormalizes
PROBS[0, 0] = 0.0  # exercises the clipping


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _np(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


# --- per-sample functions against NumPy -------------------------------------------------------

def test_regression_losses():
    d = P_REG - Y_REG
    np.testing.assert_allclose(_np(losses.mse(Y_REG, P_REG)), (d**2).mean(-1), rtol=1e-12)
    np.testing.assert_allclose(_np(losses.mae(Y_REG, P_REG)), np.abs(d).mean(-1), rtol=1e-12)
    huber = np.where(np.abs(d) <= 0.7, 0.5 * d**2, 0.7 * np.abs(d) - 0.5 * 0.49).mean(-1)
    np.testing.assert_allclose(_np(losses.huber(Y_REG, P_REG, delta=0.7)), huber, rtol=1e-12)
    np.testing.assert_allclose(_np(losses.log_cosh(Y_REG, P_REG)),
                               np.log(np.cosh(d)).mean(-1), rtol=1e-10)
    mape = 100 * np.abs(d / np.maximum(np.abs(Y_REG), EPS)).mean(-1)
    np.testing.assert_allclose(_np(losses.mape(Y_REG, P_REG)), mape, rtol=1e-12)
    msle = ((np.log(np.maximum(P_REG, EPS) + 1) - np.log(np.maximum(Y_REG, EPS) + 1))**2).mean(-1)
    np.testing.assert_allclose(_np(losses.msle(Y_REG, P_REG)), msle, rtol=1e-12)
    cos = -(Y_REG * P_REG).sum(-1) / np.linalg.norm(Y_REG, axis=-1) / np.linalg.norm(P_REG, axis=-1)
    np.testing.assert_allclose(_np(losses.cosine_similarity(Y_REG, P_REG)), cos, rtol=1e-10)


def test_regression_losses_align_a_trailing_unit_axis():
    y, p = Y_REG[:, 0], P_REG[:, :1]  # (5,) labels against (5, 1) predictions
    np.testing.assert_allclose(_np(losses.mse(y, p)), (p[:, 0] - y) ** 2, rtol=1e-12)


def test_categorical_crossentropy_on_probabilities_renormalizes_then_clips():
    p = np.clip(PROBS / PROBS.sum(-1, keepdims=True), EPS, 1 - EPS)
    expected = -(ONE_HOT * np.log(p)).sum(-1)
    np.testing.assert_allclose(_np(losses.categorical_crossentropy(ONE_HOT, PROBS)), expected,
                               rtol=1e-10)


def test_categorical_crossentropy_from_logits_and_label_smoothing():
    smooth = ONE_HOT * 0.8 + 0.2 / 4
    expected = -(smooth * _log_softmax(LOGITS)).sum(-1)
    got = losses.categorical_crossentropy(ONE_HOT, LOGITS, from_logits=True, label_smoothing=0.2)
    np.testing.assert_allclose(_np(got), expected, rtol=1e-10)


def test_sparse_categorical_crossentropy_matches_the_one_hot_version():
    from_logits = losses.sparse_categorical_crossentropy(LABELS, LOGITS, from_logits=True)
    np.testing.assert_allclose(_np(from_logits), -_log_softmax(LOGITS)[np.arange(5), LABELS],
                               rtol=1e-10)
    # On probabilities Keras takes log(clip(p)) as logits, which renormalizes.
    clipped = np.clip(PROBS, EPS, 1 - EPS)
    expected = -np.log(clipped[np.arange(5), LABELS] / clipped.sum(-1))
    np.testing.assert_allclose(_np(losses.sparse_categorical_crossentropy(LABELS, PROBS)),
                               expected, rtol=1e-10)


def test_sparse_labels_may_be_floats_with_a_trailing_axis():
    float_labels = LABELS.astype(np.float32)[:, None]
    got = losses.sparse_categorical_crossentropy(float_labels, LOGITS.astype(np.float32),
                                                 from_logits=True)
    np.testing.assert_allclose(_np(got), -_log_softmax(LOGITS)[np.arange(5), LABELS], rtol=1e-5)


def test_sparse_label_out_of_range_is_an_error():
    with pytest.raises(InvalidArgumentError, match="label value of 4"):
        losses.sparse_categorical_crossentropy(np.array([0, 4, 1, 1, 2]), LOGITS, from_logits=True)


def test_binary_crossentropy_probabilities_logits_and_smoothing():
    y = (RNG.uniform(size=(5, 3)) > 0.5).astype(np.float64)
    p = RNG.uniform(size=(5, 3))
    p[0, 0] = 1.0
    pc = np.clip(p, EPS, 1 - EPS)
    expected = -(y * np.log(pc) + (1 - y) * np.log(1 - pc)).mean(-1)
    np.testing.assert_allclose(_np(losses.binary_crossentropy(y, p)), expected, rtol=1e-10)
    z = LOGITS[:, :3]
    ys = y * 0.9 + 0.05
    sig = 1 / (1 + np.exp(-z))
    expected = -(ys * np.log(sig) + (1 - ys) * np.log(1 - sig)).mean(-1)
    got = losses.binary_crossentropy(y, z, from_logits=True, label_smoothing=0.1)
    np.testing.assert_allclose(_np(got), expected, rtol=1e-9)


def test_other_probabilistic_losses():
    y, p = np.abs(Y_REG), np.abs(P_REG)
    yc, pc = np.clip(y, EPS, 1), np.clip(p, EPS, 1)
    np.testing.assert_allclose(_np(losses.kld(y, p)), (yc * np.log(yc / pc)).sum(-1),
                               rtol=1e-10)
    np.testing.assert_allclose(_np(losses.poisson(y, p)), (p - y * np.log(p + EPS)).mean(-1),
                               rtol=1e-10)
    labels01 = (Y_REG > 0).astype(np.float64)
    margin = np.maximum(1 - (2 * labels01 - 1) * P_REG, 0)
    np.testing.assert_allclose(_np(losses.hinge(labels01, P_REG)), margin.mean(-1), rtol=1e-12)
    np.testing.assert_allclose(_np(losses.squared_hinge(labels01, P_REG)),
                               (margin**2).mean(-1), rtol=1e-12)


# --- the softmax/sigmoid logits link ------------------------------------------------------------

def test_loss_on_a_keras_softmax_uses_its_logits():
    z = tf.constant([[1.0, 2.0, 30.0]])
    # Clipping would give -log(1e-7) = 16.1; the logits give the exact 29.
    got = losses.sparse_categorical_crossentropy(np.array([0]), activations.softmax(z))
    np.testing.assert_allclose(_np(got), [29.0], rtol=1e-6)
    plain = losses.sparse_categorical_crossentropy(np.array([0]), tf.nn.softmax(z))
    np.testing.assert_allclose(_np(plain), [-np.log(EPS)], rtol=1e-4)
    with pytest.warns(UserWarning, match="from_logits=True"):
        losses.categorical_crossentropy(np.array([[1.0, 0, 0]], np.float32),
                                        activations.softmax(z), from_logits=True)
    big = tf.constant([[-40.0], [40.0]])
    got = losses.binary_crossentropy(np.array([[1.0], [0.0]], np.float32), activations.sigmoid(big))
    np.testing.assert_allclose(_np(got), [40.0, 40.0], rtol=1e-6)


# --- Loss classes and reductions --------------------------------------------------------------

def test_reductions_divide_by_the_number_of_values_not_the_weight_sum():
    per_sample = ((P_REG - Y_REG) ** 2).mean(-1)
    w = np.array([1.0, 0.0, 2.0, 0.5, 1.0])
    cases = {
        "sum_over_batch_size": (per_sample * w).sum() / 5,
        "sum": (per_sample * w).sum(),
        "mean_with_sample_weight": (per_sample * w).sum() / w.sum(),
    }
    for reduction, expected in cases.items():
        loss = losses.MeanSquaredError(reduction=reduction)
        np.testing.assert_allclose(_np(loss(Y_REG, P_REG, sample_weight=w)), expected, rtol=1e-6)
    none = losses.MeanSquaredError(reduction=None)(Y_REG, P_REG, sample_weight=w[:, None])
    # As in Keras, (batch,) losses meet (batch, 1) weights by gaining the trailing axis.
    np.testing.assert_allclose(_np(none), (per_sample * w)[:, None], rtol=1e-6)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")


def test_loss_classes_compute_in_float32_and_accept_numpy_labels():
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    value = loss(LABELS.astype(np.uint8), LOGITS)
    assert value.dtype == tf.float32 and value.shape == ()
    expected = -_log_softmax(LOGITS)[np.arange(5), LABELS].mean()
    np.testing.assert_allclose(_np(value), expected, rtol=1e-5)
    assert loss.name == "sparse_categorical_crossentropy"
    assert losses.Huber().name == "huber_loss"
    assert losses.Huber(0.5).get_config()["delta"] == 0.5


def test_gradient_of_a_loss_matches_finite_differences():
    logits = tf.Variable(LOGITS)
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, dtype="float64")
    with tf.GradientTape() as tape:
        value = loss(ONE_HOT, logits)
    grad = tape.gradient(value, logits).numpy()
    assert np.all(np.isfinite(grad))

    def f(z):
        smooth = ONE_HOT * 0.9 + 0.1 / 4
        return -(smooth * _log_softmax(z)).sum(-1).mean()

    numeric = np.zeros_like(LOGITS)
    h = 1e-6
    for index in np.ndindex(LOGITS.shape):
        step = np.zeros_like(LOGITS)
        step[index] = h
        numeric[index] = (f(LOGITS + step) - f(LOGITS - step)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_gradient_through_probability_losses_is_finite():
    z = tf.Variable(LOGITS.astype(np.float32))
    with tf.GradientTape() as tape:
        value = losses.SparseCategoricalCrossentropy()(LABELS, tf.nn.softmax(z * 20))
    grad = tape.gradient(value, z).numpy()
    assert grad.shape == (5, 4) and np.all(np.isfinite(grad))


# --- lookup --------------------------------------------------------------------------------

def test_get_returns_functions_for_function_names_and_instances_for_class_names():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("MSE") is losses.mean_squared_error
    assert isinstance(losses.get("MeanSquaredError"), losses.MeanSquaredError)
    configured = losses.get({"class_name": "CategoricalCrossentropy",
                             "config": {"from_logits": True}})
    assert configured.get_config()["from_logits"] is True
    assert losses.get(None) is None
    assert losses.deserialize(losses.serialize(losses.Huber(0.3))).get_config()["delta"] == 0.3


def test_unknown_loss_name_suggests_the_closest():
    with pytest.raises(ValueError) as info:
        losses.get("spars_categorical_crossentropy")
    message = str(info.value)
    assert message.startswith("Unknown loss function: 'spars_categorical_crossentropy'. "
                              "Did you mean 'sparse_categorical_crossentropy'")
    assert "Valid names:" in message and "'mse'" in message


def test_naming_helpers():
    assert closest_names("ADAM", ["adam", "sgd"]) == ["adam"]
    assert closest_names("zzz", ["adam", "sgd"]) == []
    with pytest.raises(ValueError, match=r"Unknown optimizer: 'zzz'\. Valid names: 'a', 'b'\."):
        get_by_name("optimizer", "zzz", {"b": 1, "a": 2})


def test_resolve_wraps_functions_for_compile():
    loss = losses.resolve("mse")
    assert isinstance(loss, losses.Loss) and loss.name == "mse"
    w = np.array([2.0, 0.0, 1.0, 1.0, 1.0])
    expected = (((P_REG - Y_REG) ** 2).mean(-1) * w).mean()
    np.testing.assert_allclose(_np(loss(Y_REG, P_REG, sample_weight=w)), expected, rtol=1e-6)
    auto = losses.resolve("crossentropy")
    sparse = _np(auto(LABELS, PROBS.astype(np.float32)))
    np.testing.assert_allclose(sparse, _np(losses.SparseCategoricalCrossentropy()(LABELS, PROBS)),
                               rtol=1e-6)


@pytest.mark.tensorflow
def test_losses_match_tensorflow():
    keras = pytest.importorskip("keras")
    y, p = LABELS, PROBS.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("SparseCategoricalCrossentropy", "CategoricalCrossentropy"):
            target = y if name.startswith("Sparse") else ONE_HOT.astype(np.float32)
            w = np.array([1.0, 0.5, 0.0, 2.0, 1.0], np.float32)
            ours = getattr(losses, name)()(target, p, sample_weight=w)
            theirs = getattr(keras.losses, name)()(target, p, sample_weight=w)
            np.testing.assert_allclose(_np(ours), np.asarray(theirs), rtol=1e-5, err_msg=name)
        for name in ("mean_squared_error", "mean_absolute_error", "huber", "log_cosh",
                     "binary_crossentropy"):
            a, b = np.abs(Y_REG).clip(0, 1).astype(np.float32), P_REG.astype(np.float32)
            if name == "binary_crossentropy":
                b = np.clip(np.abs(b), 0, 1)
            np.testing.assert_allclose(_np(getattr(losses, name)(a, b)),
                                       np.asarray(getattr(keras.losses, name)(a, b)),
                                       rtol=1e-5, err_msg=name)
