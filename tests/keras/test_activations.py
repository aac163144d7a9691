"""Tests of neuroflow.keras.activations: values against NumPy formulas, lookup, logits link."""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras import activations

X = np.linspace(-6.0, 6.0, 49)  # float64, so the formulas below are exact references


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.log1p(np.exp(x))


_ERF = np.vectorize(math.erf)

EXPECTED = {
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "linear": lambda x: x,
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1 + _ERF(x / np.sqrt(2))),
    "softplus": _softplus,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "relu6": lambda x: np.clip(x, 0, 6),
    "exponential": np.exp,
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hard_silu": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "log_sigmoid": lambda x: -_softplus(-x),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_activation_values_match_numpy(name):
    got = activations.get(name)(tf.constant(X)).numpy()
    np.testing.assert_allclose(got, EXPECTED[name](X), rtol=1e-7, atol=1e-10)


def test_softmax_and_log_softmax_along_an_axis():
    x = np.random.default_rng(0).normal(size=(3, 4)) * 5
    e = np.exp(x - x.max(axis=0, keepdims=True))
    expected = e / e.sum(axis=0, keepdims=True)
    np.testing.assert_allclose(activations.softmax(tf.constant(x), axis=0).numpy(), expected,
                               rtol=1e-12)
    np.testing.assert_allclose(activations.log_softmax(tf.constant(x), axis=0).numpy(),
                               np.log(expected), rtol=1e-12)


def test_relu_options_follow_keras():
    x = tf.constant(X)
    got = activations.relu(x, negative_slope=0.1, max_value=3.0, threshold=1.0).numpy()
    expected = np.where(X > 1, np.minimum(X, 3.0), 0.0) - 0.1 * np.maximum(1.0 - X, 0)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(activations.relu(x, max_value=2.5).numpy(), np.clip(X, 0, 2.5))
    np.testing.assert_allclose(activations.elu(x, alpha=0.5).numpy(),
                               np.where(X > 0, X, 0.5 * np.expm1(X)), rtol=1e-12)


def test_gradient_of_mish_matches_finite_differences():
    x = tf.Variable(np.array([-2.0, -0.3, 0.4, 1.7]))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(activations.mish(x))
    grad = tape.gradient(y, x).numpy()
    h = 1e-6
    numeric = (EXPECTED["mish"](x.numpy() + h) - EXPECTED["mish"](x.numpy() - h)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)


def test_get_resolves_names_callables_and_none():
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu

    def custom(x):
        return x

    assert activations.get(custom) is custom
    with pytest.raises(ValueError, match="Could not interpret"):
        activations.get(3)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError) as info:
        activations.get("rellu")
    message = str(info.value)
    assert "Unknown activation function: 'rellu'" in message
    assert "Did you mean 'relu'" in message
    assert "'softmax'" in message  # the valid names are listed


def test_serialize_round_trip():
    assert activations.serialize(activations.gelu) == "gelu"
    assert activations.deserialize("gelu") is activations.gelu
    keras_form = {"module": "keras.activations", "class_name": "function", "config": "tanh"}
    assert activations.deserialize(keras_form) is activations.tanh


def test_softmax_remembers_its_logits_only_while_the_output_lives():
    logits = tf.constant([[1.0, 2.0, 3.0]])
    out = activations.softmax(logits)
    assert activations.logits_of(out, "softmax") is logits
    assert activations.logits_of(out, "sigmoid") is None
    assert activations.logits_of(tf.nn.softmax(logits), "softmax") is None
    before = len(activations._LOGITS)
    for _ in range(50):
        activations.sigmoid(logits)
    gc.collect()
    assert len(activations._LOGITS) <= before  # entries leave with their outputs


@pytest.mark.tensorflow
def test_activations_match_tensorflow():
    keras = pytest.importorskip("keras")
    x = X.astype(np.float32)
    for name in sorted(EXPECTED):
        ours = activations.get(name)(tf.constant(x)).numpy()
        theirs = np.asarray(keras.activations.get(name)(x))
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6, err_msg=name)
