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
    positive,
    raises_with_message,
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


# Ties (rows 1 and 2), a non-finite row (row 3), and targets out of range (rows 4 and 5).
_TIED_PREDICTIONS = np.array([[0.1, 0.5, 0.4, 0.0], [0.3, 0.3, 0.4, 0.3], [1.0, 2.0, 2.0, 0.5],
                              [np.inf, 0.2, 0.1, 0.3], [0.1, 0.2, 0.3, 0.4],
                              [0.1, 0.2, 0.3, 0.4]], np.float32)


def _in_top_k_reference(targets, predictions, k):
    out = []
    for target, row in zip(targets, predictions):
        valid = 0 <= target < len(row) and np.all(np.isfinite(row))
        out.append(bool(valid and np.sum(row > row[target]) < k))
    return np.array(out)


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
    "in_top_k": [
        Fwd(lambda t, p, k: tf.nn.in_top_k(t, p, k), _in_top_k_reference,
            (np.array([0, 2, 1, 3, 5, -1], np.int32), _TIED_PREDICTIONS, np.int32(k)),
            f"k{k}", "bool") for k in (0, 1, 2, 4)],
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
    # TensorFlow's alpha is a float32 attribute, even for float64 inputs.
    "leaky_relu": (tf.nn.leaky_relu, lambda x: np.where(x > 0, x, float(np.float32(0.2)) * x),
                   False),
    "leaky_relu-alpha": (lambda x: tf.nn.leaky_relu(x, alpha=0.01),
                         lambda x: np.where(x > 0, x, float(np.float32(0.01)) * x), False),
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
    # TensorFlow's logits gradient is softmax - labels, whose derivative in the labels is
    # -1 (it ignores that unnormalized labels scale the softmax): second derivatives are
    # checked in the logits only.
    check_second_derivatives(lambda z: loss(labels, z), [logits])
    unnormalized = labels * 3
    with tf.GradientTape() as tape:
        z = tf.constant(logits)
        tape.watch(z)
        y = loss(unnormalized, z)
    np.testing.assert_allclose(tape.gradient(y, z).numpy(), _softmax(logits) - unnormalized,
                               rtol=1e-12, atol=1e-12)
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
    # TensorFlow converts a bias that is not a tensor to the value's dtype.
    np.testing.assert_array_equal(tf.nn.bias_add(x.astype(np.float32), b).numpy(),
                                  x.astype(np.float32) + b.astype(np.float32))
    raises_with_message(ValueError, lambda: tf.nn.bias_add(x, b, data_format="XX"),
                        "N...C", "data_format=XX")


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


# --- what TensorFlow 2.21 does at the edges (checked against it) ----------------------


def test_relu6_keeps_nan_and_refuses_bool():
    got = tf.nn.relu6(tf.constant([np.nan, -1.0, 7.0, 3.0, 6.0])).numpy()
    np.testing.assert_array_equal(got, [np.nan, 0.0, 6.0, 3.0, 6.0])
    np.testing.assert_array_equal(tf.nn.relu6(tf.constant([1, -2, 9])).numpy(), [1, 0, 6])
    raises_with_message(tf.errors.InvalidArgumentError, lambda: tf.nn.relu6([True]),
                        "relu6", "bool")
    raises_with_message(TypeError, lambda: tf.nn.relu(tf.constant([True])), "relu", "bool")


def test_selu_gradient_at_zero_is_the_scale():
    x = tf.constant([0.0, -0.0, 1.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.selu(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [_SELU_SCALE] * 3, rtol=1e-6)


def test_leaky_relu_computes_integers_in_float32():
    got = tf.nn.leaky_relu(tf.constant([1, -2]))
    assert got.dtype == tf.float32
    np.testing.assert_allclose(got.numpy(), [1.0, -0.4])


def test_softmax_checks_its_axis():
    x = tf.zeros([2, 3])
    for op in (tf.nn.softmax, tf.nn.log_softmax):
        raises_with_message(tf.errors.InvalidArgumentError, lambda op=op: op(x, axis=2),
                            "range [-2, 2)", "axis=2")
        raises_with_message(tf.errors.InvalidArgumentError, lambda op=op: op(tf.constant(1.0)),
                            ">= 1 dimension")


def test_activations_refuse_integers_with_tensorflows_error():
    for op in (tf.nn.elu, tf.nn.softmax, tf.nn.gelu, tf.nn.softplus):
        raises_with_message(tf.errors.InvalidArgumentError, lambda op=op: op(tf.constant([1])),
                            "floating-point", "int32")


def test_sorting_ranks_nan_above_every_number():
    x = tf.constant([1.0, np.nan, 3.0, -np.inf, np.inf])
    np.testing.assert_array_equal(tf.argsort(x).numpy(), [3, 0, 2, 4, 1])
    np.testing.assert_array_equal(tf.argsort(x, direction="DESCENDING").numpy(), [1, 4, 2, 0, 3])
    np.testing.assert_array_equal(tf.math.top_k(x, 2).indices.numpy(), [1, 4])


def test_descending_sort_of_integers_does_not_overflow():
    for dtype, values in ((np.int8, [3, -128, 1, 127]), (np.uint8, [3, 0, 255, 1]),
                          (np.int32, [-2 ** 31, 0, 5, 2 ** 31 - 1])):
        x = np.array(values, dtype)
        got = tf.sort(tf.constant(x), direction="DESCENDING")
        np.testing.assert_array_equal(got.numpy(), np.sort(x)[::-1])
        assert got.dtype == tf.as_dtype(dtype)


def test_sorting_refuses_what_tensorflow_refuses():
    raises_with_message(tf.errors.InvalidArgumentError, lambda: tf.sort([True, False]),
                        "sort", "bool")
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.math.top_k(tf.constant([1.0, 2.0]), k=1.5),
                        "k must be an integer")
    raises_with_message(tf.errors.InvalidArgumentError, lambda: tf.sort([1.0, 2.0], axis=2),
                        "axis 2", "rank 1")
    raises_with_message(ValueError, lambda: tf.sort([1.0], direction="UP"),
                        "ASCENDING, DESCENDING", "direction=UP")


def test_softmax_cross_entropy_casts_and_broadcasts_labels_as_tensorflow():
    logits = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    want = -np.log(_softmax(np.array([[1.0, 2.0], [3.0, 4.0]])))[:, 1]
    for labels in ([[0, 1], [0, 1]], tf.constant([[0.0, 1.0]], tf.float64), [0.0, 1.0]):
        got = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        assert got.dtype == tf.float32 and got.shape == (2,)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    half = tf.nn.softmax_cross_entropy_with_logits(labels=[[0.0, 1.0]],
                                                   logits=tf.constant([[1.0, 2.0]], tf.float16))
    assert half.dtype == tf.float16
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.nn.softmax_cross_entropy_with_logits(labels=0.5, logits=1.0),
                        "class axis", "()")


def test_sparse_cross_entropy_errors_follow_tensorflow():
    logits = tf.zeros([1, 2])
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
                            labels=tf.constant([1], tf.uint8), logits=logits),
                        "int32 or int64", "uint8")
    raises_with_message(ValueError, lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=0, logits=1.0), "cannot be a scalar")
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
                            labels=[0], logits=tf.zeros([1, 0])), "at least one class")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=[1], logits=tf.constant([[np.inf, 2.0]]))
    assert np.isnan(loss.numpy()).all()


# --- newer tf.nn ops: values vs formulas, gradients vs finite differences --------------


def test_crelu():
    x = nonzero(2, 3)
    np.testing.assert_array_equal(tf.nn.crelu(x).numpy(),
                                  np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], -1))
    np.testing.assert_array_equal(tf.nn.crelu(x, axis=0).numpy(),
                                  np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], 0))
    check_gradients(tf.nn.crelu, [x])


def test_weighted_cross_entropy_with_logits():
    labels, logits = uniform(3, 4, low=0.0, high=1.0), uniform(3, 4) * 3
    p = _sigmoid(logits)
    want = -(2.5 * labels * np.log(p) + (1 - labels) * np.log(1 - p))
    got = tf.nn.weighted_cross_entropy_with_logits(labels, logits, pos_weight=2.5)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)

    def loss(y, z):
        return tf.nn.weighted_cross_entropy_with_logits(y, z, pos_weight=2.5)

    check_gradients(loss, [labels, logits])
    raises_with_message(ValueError, lambda: loss(labels[:, :2], logits), "same shape",
                        "(3, 4) vs (3, 2)")


def test_log_poisson_loss():
    targets, log_input = np.array([0.0, 0.5, 1.0, 3.0, 7.0]), uniform(5)
    plain = np.exp(log_input) - log_input * targets
    got = tf.nn.log_poisson_loss(targets, log_input)
    np.testing.assert_allclose(got.numpy(), plain, rtol=1e-12)
    stirling = np.where(targets > 1, targets * np.log(np.maximum(targets, 1)) - targets
                        + 0.5 * np.log(2 * np.pi * np.maximum(targets, 1)), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = tf.nn.log_poisson_loss(targets, log_input, compute_full_loss=True)
    np.testing.assert_allclose(full.numpy(), plain + stirling, rtol=1e-12)
    check_gradients(lambda c: tf.nn.log_poisson_loss(targets, c, compute_full_loss=True),
                    [log_input])
    raises_with_message(ValueError, lambda: tf.nn.log_poisson_loss(targets[:2], log_input),
                        "same shape")


def test_compute_average_loss_and_scale_regularization_loss():
    loss = uniform(4, 3)
    np.testing.assert_allclose(tf.nn.compute_average_loss(loss).numpy(), loss.sum() / 4)
    weights = uniform(4, 1)
    got = tf.nn.compute_average_loss(loss, sample_weight=weights, global_batch_size=8)
    np.testing.assert_allclose(got.numpy(), (loss * weights).sum() / 8)
    assert float(tf.nn.compute_average_loss(loss, global_batch_size=0)) == 0.0
    ints_loss = tf.nn.compute_average_loss(tf.constant([1, 2, 4]))
    assert ints_loss.dtype == tf.float64 and float(ints_loss) == pytest.approx(7 / 3)
    check_gradients(lambda t: tf.nn.compute_average_loss(t, global_batch_size=6), [loss])
    raises_with_message(ValueError, lambda: tf.nn.compute_average_loss(2.0), "rank >= 1")
    raises_with_message(TypeError, lambda: tf.nn.compute_average_loss(loss, global_batch_size=2.5),
                        "integer", "2.5")
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.nn.compute_average_loss(loss, global_batch_size=-1),
                        "non-negative", "-1")
    assert float(tf.nn.scale_regularization_loss(tf.constant([1.5, 2.0]))) == 3.5
    assert tf.nn.scale_regularization_loss(3).dtype == tf.float64


def test_embedding_lookup():
    table = uniform(5, 3)
    ids = np.array([[4, 0], [2, 2]], np.int32)
    np.testing.assert_array_equal(tf.nn.embedding_lookup(table, ids).numpy(), table[ids])
    parts = tf.nn.embedding_lookup([table[:3], table[3:]], ids)
    np.testing.assert_array_equal(parts.numpy(), table[ids])
    clipped = tf.nn.embedding_lookup(table * 3, ids, max_norm=1.0).numpy()
    norms = np.linalg.norm(table[ids] * 3, axis=-1, keepdims=True)
    np.testing.assert_allclose(clipped, table[ids] * 3 / np.maximum(norms, 1.0), rtol=1e-12)
    check_gradients(lambda p: tf.nn.embedding_lookup(p, ids, max_norm=1.5), [table])
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.nn.embedding_lookup(table, [5]), "index 5")
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.nn.embedding_lookup(table, tf.constant([1], tf.uint8)),
                        "int32 or int64", "uint8")
    raises_with_message(ValueError, lambda: tf.nn.embedding_lookup([], [0]), "must not be empty")


def test_in_top_k_errors():
    predictions = tf.constant(_TIED_PREDICTIONS[:2])
    raises_with_message(ValueError, lambda: tf.math.in_top_k([0, 1], tf.cast(predictions,
                                                                             tf.float64), 1),
                        "float32", "float64")
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.nn.in_top_k([0.0, 1.0], predictions, 1), "targets", "float32")
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.nn.in_top_k([0, 1], predictions, [1, 2]), "k must be a scalar")
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.nn.in_top_k(tf.constant([0, 1], tf.int64), predictions,
                                               tf.constant(1)), "dtype of targets", "int64")
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.nn.in_top_k([0, 1], [0.1, 0.5], 1), "2-dimensional")
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.nn.in_top_k([0], predictions, 1), "one class per row")
    # Sizes known only when the graph runs are compared then.
    spec = [tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, 4], tf.float32)]
    f = tf.function(lambda t, p: tf.nn.in_top_k(t, p, 1), input_signature=spec)
    raises_with_message(tf.errors.InvalidArgumentError, lambda: f(tf.constant([0]), predictions),
                        "length of targets 1")
    # The primitive's shape rule, reached by tracing it directly on targets of rank 2.
    traced = tf.function(lambda p, t: nn_ops._in_top_k(p, t, tf.constant(1)))
    raises_with_message(ValueError, lambda: traced(predictions, tf.constant([[0], [1]])), "1-D")
    empty = tf.nn.in_top_k(tf.constant([0, 0]), tf.zeros([2, 0]), 1)
    np.testing.assert_array_equal(empty.numpy(), [False, False])


def test_l2_normalize():
    x = uniform(3, 4)
    np.testing.assert_allclose(tf.nn.l2_normalize(x, axis=1).numpy(),
                               x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(tf.math.l2_normalize(x).numpy(), x / np.linalg.norm(x),
                               rtol=1e-12)
    np.testing.assert_allclose(tf.linalg.l2_normalize(x, axis=[0, 1]).numpy(),
                               x / np.linalg.norm(x), rtol=1e-12)
    np.testing.assert_array_equal(tf.nn.l2_normalize(np.zeros(2)).numpy(), [0.0, 0.0])
    check_gradients(lambda t: tf.nn.l2_normalize(t, axis=-1), [x])
    raises_with_message(TypeError, lambda: tf.nn.l2_normalize([3, 4]), "floating-point", "int32")


def test_clip_by_norm():
    x = uniform(3, 4)
    norm = np.linalg.norm(x)
    np.testing.assert_allclose(tf.clip_by_norm(x, 1.0).numpy(), x / norm, rtol=1e-12)
    np.testing.assert_allclose(tf.clip_by_norm(x, 100.0).numpy(), x, rtol=1e-12)
    rows = np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(tf.clip_by_norm(x, 1.0, axes=[1]).numpy(),
                               x / np.maximum(rows, 1.0), rtol=1e-12)
    np.testing.assert_array_equal(tf.clip_by_norm(x, -1.0).numpy(), np.zeros((3, 4)))
    np.testing.assert_array_equal(tf.clip_by_norm(x, tf.constant(-1.0, tf.float64)).numpy(),
                                  np.zeros((3, 4)))
    zero = tf.zeros([2])
    with tf.GradientTape() as tape:
        tape.watch(zero)
        y = tf.clip_by_norm(zero, 1.0)
    np.testing.assert_array_equal(tape.gradient(y, zero).numpy(), [1.0, 1.0])
    check_gradients(lambda t: tf.clip_by_norm(t, 1.0, axes=[1]), [x])
    raises_with_message(ValueError, lambda: tf.clip_by_norm([3.0, 4.0], [[1.0], [2.0]]),
                        "broadcast", "(2, 2)")
    raises_with_message(TypeError, lambda: tf.clip_by_norm([3, 4], 1), "floating-point")


def test_clip_by_global_norm():
    a, b = uniform(3), uniform(2, 2)
    norm = np.sqrt(np.sum(a ** 2) + np.sum(b ** 2))
    (ca, missing, cb), got_norm = tf.clip_by_global_norm([a, None, b], 1.0)
    assert missing is None
    np.testing.assert_allclose(float(got_norm), norm, rtol=1e-12)
    np.testing.assert_allclose(ca.numpy(), a / norm, rtol=1e-12)
    np.testing.assert_allclose(cb.numpy(), b / norm, rtol=1e-12)
    kept, _ = tf.clip_by_global_norm((a,), 100.0)
    np.testing.assert_allclose(kept[0].numpy(), a, rtol=1e-12)
    (scaled,), used = tf.clip_by_global_norm([a], 1.0, use_norm=10.0)
    np.testing.assert_allclose(scaled.numpy(), a / 10, rtol=1e-6)  # a float32 use_norm
    (nan,), inf_norm = tf.clip_by_global_norm([tf.constant([3.0, np.inf])], 1.0)
    assert np.isinf(float(inf_norm)) and np.isnan(nan.numpy()).all()
    empty, zero = tf.clip_by_global_norm([], 1.0)
    assert empty == [] and float(zero) == 0.0 and zero.dtype == tf.float32
    check_gradients(lambda s, t: tf.clip_by_global_norm([s, t], 1.0)[0], [a, b])
    raises_with_message(TypeError, lambda: tf.clip_by_global_norm(tf.constant(a), 1.0),
                        "sequence of tensors")


def test_sufficient_statistics_and_normalize_moments():
    x = uniform(3, 4)
    counts, mean_ss, var_ss, shift = tf.nn.sufficient_statistics(x, [0])
    assert float(counts) == 3 and shift is None and counts.dtype == tf.float64
    np.testing.assert_allclose(mean_ss.numpy(), x.sum(0), rtol=1e-12)
    np.testing.assert_allclose(var_ss.numpy(), (x ** 2).sum(0), rtol=1e-12)
    mean, variance = tf.nn.normalize_moments(counts, mean_ss, var_ss, None)
    np.testing.assert_allclose(mean.numpy(), x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(variance.numpy(), x.var(0), rtol=1e-10)
    counts, mean_ss, var_ss, shift = tf.nn.sufficient_statistics(
        x, [0, 1], shift=tf.constant(0.5, tf.float64), keepdims=True)
    assert mean_ss.shape == (1, 1)
    mean, variance = tf.nn.normalize_moments(counts, mean_ss, var_ss, shift)
    np.testing.assert_allclose(mean.numpy(), [[x.mean()]], rtol=1e-12)
    np.testing.assert_allclose(variance.numpy(), [[x.var()]], rtol=1e-10)
    check_gradients(lambda t: tf.nn.normalize_moments(
        *tf.nn.sufficient_statistics(t, [1], shift=tf.constant(0.2, tf.float64)))[1], [x])
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tf.nn.sufficient_statistics(x, [5]), "axis 5", "rank 2")
    # A size unknown while tracing is counted when the graph runs.
    f = tf.function(lambda t: tf.nn.sufficient_statistics(t, [0])[0],
                    input_signature=[tf.TensorSpec([None, 4], tf.float64)])
    assert float(f(tf.constant(x))) == 3.0


def test_weighted_moments():
    x, w = uniform(3, 4), np.array([[1.0], [3.0], [0.5]])
    mean, variance = tf.nn.weighted_moments(x, [0], w)
    want_mean = (w * x).sum(0) / w.sum()
    np.testing.assert_allclose(mean.numpy(), want_mean, rtol=1e-12)
    np.testing.assert_allclose(variance.numpy(), (w * (x - want_mean) ** 2).sum(0) / w.sum(),
                               rtol=1e-12)
    zero_mean, zero_var = tf.nn.weighted_moments(x, [0], np.zeros((3, 1)))
    np.testing.assert_array_equal(zero_mean.numpy(), np.zeros(4))
    half, _ = tf.nn.weighted_moments(tf.constant(x, tf.float16), [0, 1], w, keepdims=True)
    assert half.dtype == tf.float16 and half.shape == (1, 1)
    check_gradients(lambda t: tf.nn.weighted_moments(t, [0], w)[1], [x])
    raises_with_message(TypeError, lambda: tf.nn.weighted_moments([[1, 2]], [0], [[1]]),
                        "floating-point")


def test_batch_normalization():
    x, mean, var = uniform(3, 4), uniform(4), positive(4)
    offset, scale = uniform(4), positive(4)
    want = (x - mean) / np.sqrt(var + 1e-3) * scale + offset
    got = tf.nn.batch_normalization(x, mean, var, offset, scale, 1e-3)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)
    bare = tf.nn.batch_normalization(x, mean, var, None, None, 1e-3)
    np.testing.assert_allclose(bare.numpy(), (x - mean) / np.sqrt(var + 1e-3), rtol=1e-10)
    check_gradients(lambda t, m, v, o, s: tf.nn.batch_normalization(t, m, v, o, s, 1e-3),
                    [x, mean, var, offset, scale])


def test_zero_fraction():
    assert float(tf.nn.zero_fraction(tf.constant([0.0, 1.0, -0.0, 2.0]))) == 0.5
    third = tf.math.zero_fraction(tf.constant([0, 1, 2]))
    assert third.dtype == tf.float32 and float(third) == pytest.approx(1 / 3)
    assert float(tf.math.zero_fraction(tf.constant([True, False]))) == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(float(tf.math.zero_fraction(tf.zeros([0]))))


def _lrn_reference(x, radius, bias, alpha, beta):
    squares = np.pad(x ** 2, [(0, 0)] * 3 + [(radius, radius)])
    window = sum(squares[..., k:k + x.shape[-1]] for k in range(2 * radius + 1))
    return x / (bias + alpha * window) ** beta


def test_local_response_normalization():
    x = uniform(2, 2, 3, 6).astype(np.float32)
    got = tf.nn.local_response_normalization(x, depth_radius=2, bias=1.0, alpha=0.5, beta=0.75)
    np.testing.assert_allclose(got.numpy(), _lrn_reference(x, 2, 1.0, 0.5, 0.75), rtol=1e-5)
    np.testing.assert_allclose(tf.nn.lrn(x).numpy(), _lrn_reference(x, 5, 1.0, 1.0, 0.5),
                               rtol=1e-5)
    check_gradients(lambda t: tf.cast(tf.nn.lrn(tf.cast(t, tf.float32), 1, 1.0, 0.5, 0.75),
                                      tf.float64), [uniform(1, 1, 2, 4)], eps=1e-3, atol=1e-3)
    raises_with_message(tf.errors.InvalidArgumentError, lambda: tf.nn.lrn(x[0]),
                        "4-dimensional", "rank 3")
    raises_with_message(tf.errors.InvalidArgumentError, lambda: tf.nn.lrn(x.astype(np.float64)),
                        "float16 or float32", "float64")
    raises_with_message(tf.errors.InvalidArgumentError, lambda: tf.nn.lrn(x, depth_radius=-1),
                        "depth_radius", "-1")


def test_bias_add_refuses_a_bias_tensor_of_another_dtype():
    with pytest.raises(tf.errors.InvalidArgumentError, match="bias has dtype float64"):
        tf.nn.bias_add(tf.ones([2, 3]), tf.ones([3], tf.float64))
    # A list or array bias takes the value's dtype, as in TensorFlow.
    assert tf.nn.bias_add(tf.ones([2, 3]), [1.0, 2.0, 3.0]).dtype == tf.float32
