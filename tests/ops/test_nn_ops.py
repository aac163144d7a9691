"""tf.nn ops: activations, softmax and losses vs NumPy formulas; gradients vs finite differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from _opcheck import (
    Fwd,
    Grad,
    distinct,
    ints,
    nonzero,
    params,
    run_forward,
    run_gradient,
    uniform,
)

import neuroflow as tf
from neuroflow.autodiff.gradcheck import check_gradients, check_second_derivatives
from neuroflow.ops import nn_ops

LABELS = np.array([0, 3, 4, 1], dtype=np.int32)
WEIGHTS = np.array([1.0, 2.0, 3.0, 4.0])
ENTRY_WEIGHTS = uniform(4, 5)


def _xent_gradient(z, y):
    """The fused gradient primitive, reached through a tape on the fused loss."""
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(y, z))
    return tape.gradient(loss, z)


def _softmax_rows(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


FORWARD = {
    "relu": [Fwd(tf.nn.relu, lambda v: np.maximum(v, 0), (np.asarray(x, dtype),), f"{dtype}-{i}")
             for i, x in enumerate((uniform(), uniform(2, 3), uniform(0, 2)))
             for dtype in ("float32", "float64")]
    + [Fwd(tf.nn.relu, lambda v: np.maximum(v, 0), (ints(5),), "int32")],
    "sparse_softmax_xent": [
        Fwd(lambda z, y: tf.nn.sparse_softmax_cross_entropy_with_logits(y, z),
            lambda z, y: -np.log(_softmax_rows(z))[np.arange(len(y)), y], (uniform(4, 5), LABELS),
            "float64"),
        Fwd(lambda z, y: tf.nn.sparse_softmax_cross_entropy_with_logits(y, z),
            lambda z, y: -np.log(_softmax_rows(z))[np.arange(len(y)), y],
            (uniform(4, 5).astype(np.float32), LABELS), "float32")],
    "sparse_softmax_xent_grad": [
        Fwd(_xent_gradient, lambda z, y: _softmax_rows(z) - np.eye(5)[y], (uniform(4, 5), LABELS),
            "softmax-minus-onehot")],
    "argsort": [
        Fwd(lambda t: tf.argsort(t), lambda v: np.argsort(v, kind="stable"), (distinct(2, 5),),
            "ascending", dtype="int32"),
        Fwd(lambda t: tf.argsort(t, direction="DESCENDING", axis=0),
            lambda v: np.argsort(-v, axis=0, kind="stable"), (distinct(4, 3),), "descending-0",
            dtype="int32")],
    # Row starts for top_k/sort when traced sizes are unknown; called directly here.
    "row_offsets": [
        Fwd(nn_ops._row_offsets,
            lambda x, i: (np.arange(int(np.prod(i.shape[:-1]))) * x.shape[-1])
            .reshape(i.shape[:-1] + (1,)).astype(np.int32),
            (uniform(*shape), np.zeros(shape[:-1] + (k,), np.int32)), f"{shape}-k{k}", "int32")
        for shape, k in (((2, 3, 5), 2), ((4,), 4), ((0, 3), 1))],
}

GRADIENTS = {
    "relu": [Grad(tf.nn.relu, (nonzero(2, 3),), "away-from-zero"),
             Grad(lambda x: tf.nn.relu(x) * x, (nonzero(4),), "product")],
    "sparse_softmax_xent": [
        Grad(lambda z, y: tf.nn.sparse_softmax_cross_entropy_with_logits(y, z) * WEIGHTS,
             (uniform(4, 5), LABELS), "weighted-rows")],
    "sparse_softmax_xent_grad": [
        Grad(lambda z, y: _xent_gradient(z, y) * ENTRY_WEIGHTS, (uniform(4, 5), LABELS),
             "weighted-entries")],
}


@pytest.mark.parametrize("name, case", params(FORWARD))
def test_forward(name, case):
    run_forward(name, case)


@pytest.mark.parametrize("name, case", params(GRADIENTS))
def test_gradient(name, case):
    run_gradient(name, case)


# --- composites: values vs NumPy formulas, gradients vs finite differences --------------


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_erf = np.vectorize(math.erf, otypes=[float])
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805

# name -> (op on tensors, NumPy reference, smooth enough for second derivatives)
ACTIVATIONS = {
    "softmax": (tf.nn.softmax, _softmax, True),
    "softmax-axis0": (lambda x: tf.nn.softmax(x, axis=0), lambda x: _softmax(x, 0), True),
    "log_softmax": (tf.nn.log_softmax, lambda x: np.log(_softmax(x)), True),
    "softplus": (tf.nn.softplus, lambda x: np.logaddexp(0, x), True),
    "softsign": (tf.nn.softsign, lambda x: x / (1 + np.abs(x)), False),
    "gelu": (tf.nn.gelu, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), True),
    "gelu-approximate": (lambda x: tf.nn.gelu(x, approximate=True),
                         lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi)
                                                          * (x + 0.044715 * x ** 3))), True),
    "elu": (tf.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x)), False),
    "selu": (tf.nn.selu, lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(x)),
             False),
    "leaky_relu": (tf.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), False),
    "leaky_relu-alpha": (lambda x: tf.nn.leaky_relu(x, alpha=0.01),
                         lambda x: np.where(x > 0, x, 0.01 * x), False),
    "silu": (tf.nn.silu, lambda x: x * _sigmoid(x), True),
    "swish-beta": (lambda x: tf.nn.silu(x, beta=1.5), lambda x: x * _sigmoid(1.5 * x), True),
    "relu6": (tf.nn.relu6, lambda x: np.clip(x, 0, 6), False),
    "log_sigmoid": (tf.math.log_sigmoid, lambda x: -np.logaddexp(0, -x), True),
    "sigmoid": (tf.nn.sigmoid, _sigmoid, True),
    "tanh": (tf.nn.tanh, np.tanh, True),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation(name):
    op, ref, smooth = ACTIVATIONS[name]
    # nonzero() keeps away from the kinks at 0; scaling spreads values past relu6's 6.
    x = nonzero(3, 4) * 4
    for dtype in (np.float32, np.float64):
        result = op(x.astype(dtype))
        assert result.dtype == tf.as_dtype(dtype)
        tight = dtype == np.float64
        np.testing.assert_allclose(result.numpy(), ref(x), rtol=1e-12 if tight else 2e-6,
                                   atol=1e-12 if tight else 2e-6)
    x = x[:, :3] / 2  # smaller values: the finite differences stay on one side of each kink
    check_gradients(op, [x])
    if smooth:
        check_second_derivatives(op, [x])


def test_activation_gradients_at_their_kinks_follow_tensorflow():
    x = tf.constant([0.0, 6.0, -1.0, 3.0])
    rules = {
        tf.nn.relu: [0, 1, 0, 1], tf.nn.relu6: [0, 0, 0, 1], tf.nn.leaky_relu: [0.2, 1, 0.2, 1],
        tf.nn.elu: [1, 1, np.exp(-1), 1], tf.nn.softplus: _sigmoid(np.array([0, 6, -1, 3.0])),
        lambda t: tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros(4), logits=t):
            _sigmoid(np.array([0, 6, -1, 3.0])),
    }
    for op, want in rules.items():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = op(x)
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), want, rtol=1e-6)


def test_stable_at_extreme_values_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = tf.constant([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0]])
        probs = tf.nn.softmax(big).numpy()
        np.testing.assert_allclose(probs, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
        np.testing.assert_allclose(tf.nn.log_softmax(big).numpy()[0], [0, -1000, -2000])
        np.testing.assert_array_equal(tf.nn.softplus(tf.constant([1000.0, -1000.0])).numpy(),
                                      [1000.0, 0.0])
        assert float(tf.sigmoid(tf.constant(-1000.0))) == 0.0
        loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant([0.0, 1.0]),
                                                       logits=tf.constant([1000.0, -1000.0]))
        np.testing.assert_allclose(loss.numpy(), [1000.0, 1000.0])
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 1], logits=big[:, :2])
        np.testing.assert_allclose(ce.numpy(), [0.0, np.log(2)], atol=1e-6)
        with tf.GradientTape() as tape:
            tape.watch(big)
            y = tf.nn.softmax(big)
        assert np.all(np.isfinite(tape.gradient(y, big, output_gradients=uniform(2, 3)
                                                .astype(np.float32)).numpy()))


# What TensorFlow 2.21 gives for infinite and NaN logits (float32, softmax over the row).
@pytest.mark.parametrize("logits, softmax, log_softmax", [
    ([np.inf, 0.0], [np.nan, np.nan], [np.nan, np.nan]),
    ([-np.inf, 0.0], [0.0, 1.0], [-np.inf, 0.0]),
    ([np.nan, 0.0], [np.nan, np.nan], [np.nan, np.nan]),
    ([np.inf, np.inf], [np.nan, np.nan], [np.nan, np.nan]),
    ([-np.inf, -np.inf], [np.nan, np.nan], [np.nan, np.nan]),
    ([np.inf, -np.inf], [np.nan, np.nan], [np.nan, np.nan]),
    ([0.0, -np.inf, np.inf], [np.nan] * 3, [np.nan] * 3),
])
def test_softmax_of_infinite_and_nan_logits_follows_tensorflow(logits, softmax, log_softmax):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf, as NumPy reports it
        for x, axis in ((tf.constant([logits]), -1), (tf.transpose(tf.constant([logits])), 0)):
            got = tf.nn.softmax(x, axis=axis).numpy().reshape(-1)
            np.testing.assert_array_equal(got, np.asarray(softmax, np.float32))
            got = tf.nn.log_softmax(x, axis=axis).numpy().reshape(-1)
            np.testing.assert_array_equal(got, np.asarray(log_softmax, np.float32))


# --- losses ---------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [(4,), (2, 3), ()])
def test_sparse_softmax_cross_entropy(batch):
    logits = uniform(*batch, 5)
    labels = np.asarray(ints(*batch, low=0, high=5))
    want = -np.take_along_axis(np.log(_softmax(logits)), labels[..., None], -1)[..., 0]
    result = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    np.testing.assert_allclose(result.numpy(), want, rtol=1e-12)

    def loss(z):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=z)

    check_gradients(loss, [logits])
    check_second_derivatives(loss, [logits])


def test_sparse_softmax_cross_entropy_names_a_bad_label():
    with pytest.raises(tf.errors.InvalidArgumentError, match="label value of 5"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[5], logits=tf.zeros([1, 3]))


def test_softmax_cross_entropy_with_logits():
    logits, labels = uniform(4, 5), _softmax(uniform(4, 5))
    want = -np.sum(labels * np.log(_softmax(logits)), -1)
    result = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    np.testing.assert_allclose(result.numpy(), want, rtol=1e-12)

    def loss(y, z):
        return tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z)

    check_gradients(loss, [labels, logits])
    check_second_derivatives(loss, [labels, logits])
    axis0 = tf.nn.softmax_cross_entropy_with_logits(labels=labels.T, logits=logits.T, axis=0)
    np.testing.assert_allclose(axis0.numpy(), want, rtol=1e-12)


def test_sigmoid_cross_entropy_with_logits():
    logits, labels = uniform(3, 4) * 3, uniform(3, 4, low=0.0, high=1.0)
    p = _sigmoid(logits)
    want = -labels * np.log(p) - (1 - labels) * np.log(1 - p)
    result = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    np.testing.assert_allclose(result.numpy(), want, rtol=1e-10)

    def loss(y, z):
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z)

    check_gradients(loss, [labels, logits])
    check_second_derivatives(loss, [labels, logits])


def test_l2_loss_and_bias_add():
    x = uniform(2, 3, 4)
    np.testing.assert_allclose(tf.nn.l2_loss(x).numpy(), np.sum(x ** 2) / 2)
    check_gradients(tf.nn.l2_loss, [x])
    check_second_derivatives(tf.nn.l2_loss, [x])
    b = uniform(4)
    np.testing.assert_allclose(tf.nn.bias_add(x, b).numpy(), x + b)
    check_gradients(tf.nn.bias_add, [x, b])
    c = uniform(3)
    np.testing.assert_allclose(tf.nn.bias_add(x, c, data_format="NCHW").numpy(),
                               x + c[:, None])
    check_gradients(lambda t, v: tf.nn.bias_add(t, v, data_format="NCHW"), [x, c])
    with pytest.raises(tf.errors.InvalidArgumentError, match="channel"):
        tf.nn.bias_add(x, c)


def test_moments():
    x = uniform(4, 3, 2)
    mean, variance = tf.nn.moments(x, axes=[0, 1])
    np.testing.assert_allclose(mean.numpy(), x.mean((0, 1)))
    np.testing.assert_allclose(variance.numpy(), x.var((0, 1)))
    check_gradients(lambda t: tf.nn.moments(t, axes=[0])[0], [x])


# --- sorting --------------------------------------------------------------------------


def test_top_k_values_indices_and_gradient():
    x = distinct(3, 6)
    result = tf.math.top_k(x, k=3)
    order = np.argsort(-x, axis=-1, kind="stable")[:, :3]
    np.testing.assert_array_equal(result.indices.numpy(), order)
    assert result.indices.dtype == tf.int32
    np.testing.assert_array_equal(result.values.numpy(), np.take_along_axis(x, order, -1))
    check_gradients(lambda t: tf.math.top_k(t, k=3).values, [x])
    ties = tf.math.top_k(tf.constant([1.0, 3.0, 3.0, 2.0]), 2)
    np.testing.assert_array_equal(ties.indices.numpy(), [1, 2])  # lower index first, as TF


@pytest.mark.parametrize("axis, direction", [(-1, "ASCENDING"), (0, "DESCENDING"),
                                             (1, "DESCENDING")])
def test_sort_and_argsort(axis, direction):
    x = distinct(3, 4, 2)
    order = np.argsort(x if direction == "ASCENDING" else -x, axis=axis, kind="stable")
    np.testing.assert_array_equal(tf.argsort(x, axis=axis, direction=direction).numpy(), order)
    np.testing.assert_array_equal(tf.sort(x, axis=axis, direction=direction).numpy(),
                                  np.take_along_axis(x, order, axis))
    check_gradients(lambda t: tf.sort(t, axis=axis, direction=direction), [x])


def test_sort_of_integers():
    x = ints(7)
    np.testing.assert_array_equal(tf.sort(x, direction="DESCENDING").numpy(), np.sort(x)[::-1])


# --- dropout --------------------------------------------------------------------------


def test_dropout_scales_kept_values_and_zeroes_about_rate():
    x = tf.ones([200, 100])
    y = tf.nn.dropout(x, rate=0.25, seed=3).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.02
    assert tf.nn.dropout(x, rate=0.0) is x
    with pytest.raises(ValueError, match="rate"):
        tf.nn.dropout(x, rate=1.0)
    noise = tf.nn.dropout(x, rate=0.5, noise_shape=[200, 1], seed=1).numpy()
    assert np.all(noise == noise[:, :1])  # one draw per row, broadcast along it


def test_fused_softmax_cross_entropy_matches_the_composite():
    """The fused primitive, its gradient and second derivative equal log_softmax + pick."""
    z = tf.constant(uniform(6, 7))
    y = tf.constant(np.array([0, 6, 3, 3, 1, 5], dtype=np.int32))
    weights = tf.constant(uniform(6))

    def both(loss_fn):
        with tf.GradientTape(persistent=True) as outer:
            outer.watch(z)
            with tf.GradientTape() as inner:
                inner.watch(z)
                loss = tf.reduce_sum(loss_fn() * weights)
            grad = inner.gradient(loss, z)
            curvature = tf.reduce_sum(grad * grad)
        return loss, grad, outer.gradient(curvature, z)

    fused = both(lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(y, z))
    composite = both(lambda: -tf.reduce_sum(tf.nn.log_softmax(z) * tf.one_hot(y, 7,
                                                                            dtype=tf.float64),
                                             axis=-1))
    for a, b in zip(fused, composite):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)
