"""Eager execution, the IR interpreter and the compiled code agree, call after call.

Each case is a function and a maker of arguments; ``check_agreement`` runs three
calls with fresh values in each mode, on fresh variables, comparing outputs
(gradients included: cases return them) and variables after every call.
"""

from __future__ import annotations

import numpy as np
import pytest
from _graphcheck import calls_of, check_agreement, floats

import neuroflow as tf


def stateless(fn):
    """A build for a function without variables."""
    return lambda: (fn, [])


def _elementwise(x, y):
    return [tf.exp(x) - tf.tanh(y), tf.sqrt(tf.abs(x) + 1.0) * tf.square(y),
            tf.math.log1p(tf.abs(y)), tf.maximum(x, y) / (tf.minimum(x, y) - 10.0),
            tf.sigmoid(x) + tf.pow(tf.abs(y) + 1.0, 1.5), tf.clip_by_value(x, -0.5, 0.5),
            -x + tf.sin(y) * tf.cos(x)]


def _broadcasting(x, row, col, s):
    return x + row, x * col, row - col, x / (s * s + 1.0), tf.maximum(x, 0.0) * 2.0


def _reductions(x):
    return [tf.reduce_sum(x), tf.reduce_mean(x, axis=0), tf.reduce_max(x, axis=1, keepdims=True),
            tf.reduce_min(x, axis=-1), tf.reduce_prod(x[:2], axis=0),
            tf.reduce_logsumexp(x, axis=1), tf.math.reduce_std(x, axis=0),
            tf.argmax(x, axis=1), tf.argmin(x, axis=0), tf.cumsum(x, axis=1)]


def _matmul(a, b, batch):
    return (tf.matmul(a, b), tf.matmul(a, a, transpose_b=True), tf.matmul(batch, b),
            tf.einsum("ij,jk->ik", a, b), tf.tensordot(a, b, axes=1))


def _softmax_xent(logits, labels):
    onehot = tf.one_hot(labels, 5)
    return (tf.nn.softmax(logits), tf.nn.log_softmax(logits, axis=0),
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits),
            tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits),
            tf.nn.sigmoid_cross_entropy_with_logits(labels=onehot, logits=logits),
            tf.argmax(tf.nn.softmax(logits), axis=-1))


def _indexing(x):
    return (x[1:3, ::2], x[:, 0], x[..., None], x[-1], x[::-1, 1:], tf.slice(x, [1, 0], [2, 3]),
            x[1, 2], tf.reverse(x, axis=[1]))


def _shapes(x, y):
    parts = tf.split(x, 2, axis=1)
    return (tf.concat([x, y], axis=0), tf.stack([x, y], axis=1), parts[0] * parts[1],
            tf.unstack(y)[2], tf.tile(x[:1], [2, 1]), tf.pad(x, [[1, 0], [0, 2]]),
            tf.reshape(x, [-1]), tf.transpose(y), tf.squeeze(tf.expand_dims(x, 0), 0))


def _where_cast(x, y):
    big = x > y
    return (tf.where(big, x, y), tf.where(x > 0.0, x, 0.0), tf.where(big[:, :1], x, -y),
            tf.cast(x, tf.int32), tf.cast(x, tf.bool), tf.cast(big, tf.float32) * y,
            tf.cast(tf.cast(big, tf.int32), tf.float32), tf.logical_and(big, y > 0.0),
            tf.reduce_any(big, axis=1), tf.math.equal(tf.round(x), tf.round(y)),
            tf.cast(tf.cast(tf.round(x), tf.bool), tf.float32) * y)  # a bool in a buffer


def _gather(params, indices):
    return (tf.gather(params, indices), tf.gather(params, indices[:2], axis=1),
            tf.one_hot(indices, 4) * 2.0, tf.gather(params, indices) * 3.0 + 1.0)


def _random(x):
    noise = tf.random.normal([4, 3], seed=1)
    drop = tf.nn.dropout(x, 0.5, seed=2)
    return x + noise, drop, tf.random.uniform([2], -1.0, 1.0, seed=3)


def _scalars(s, t):
    u = s * t + 1.0
    return u, tf.exp(u) / (1.0 + u * u), tf.cast(u > 0.0, tf.float32), tf.reduce_sum(u)


def _gradients(x, w):
    with tf.GradientTape() as tape:
        tape.watch([x, w])
        y = tf.reduce_sum(tf.tanh(tf.matmul(x, w)) ** 2)
    return tape.gradient(y, [x, w])


def _higher_order(x):
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.sin(x) * x ** 3)
        dy = inner.gradient(y, x)
        z = tf.reduce_sum(dy * dy)
    return dy, outer.gradient(z, x)


STATELESS = {
    "elementwise": (_elementwise, lambda r: (floats(r, 4, 3), floats(r, 4, 3))),
    "broadcasting": (_broadcasting, lambda r: (floats(r, 4, 3), floats(r, 3), floats(r, 4, 1),
                                               floats(r))),
    "reductions": (_reductions, lambda r: (floats(r, 3, 4),)),
    "matmul": (_matmul, lambda r: (floats(r, 3, 4), floats(r, 4, 2), floats(r, 5, 3, 4))),
    "softmax_xent": (_softmax_xent, lambda r: (floats(r, 6, 5),
                                               tf.constant(r.integers(0, 5, 6), tf.int32))),
    "indexing": (_indexing, lambda r: (floats(r, 4, 5),)),
    "shapes": (_shapes, lambda r: (floats(r, 3, 4), floats(r, 3, 4))),
    "where_cast": (_where_cast, lambda r: (floats(r, 4, 3) * 3.0, floats(r, 4, 3) * 3.0)),
    "gather": (_gather, lambda r: (floats(r, 5, 4),
                                   tf.constant(r.integers(0, 4, 3), tf.int32))),
    "scalars": (_scalars, lambda r: (floats(r), floats(r))),
    "gradients": (_gradients, lambda r: (floats(r, 3, 4), floats(r, 4, 2))),
    "higher_order_gradients": (_higher_order, lambda r: (floats(r, 5),)),
}


@pytest.mark.parametrize("name", sorted(STATELESS))
def test_stateless_functions_agree(name):
    fn, make_args = STATELESS[name]
    check_agreement(stateless(fn), calls_of(make_args))


def test_seeded_random_ops_agree_and_draw_anew_each_call():
    function = check_agreement(stateless(_random), calls_of(lambda r: (floats(r, 4, 3),)),
                               seed=7)
    x = tf.ones([4, 3])
    first, second = function(x)[0].numpy(), function(x)[0].numpy()
    assert not np.array_equal(first, second)


# --- functions with state -------------------------------------------------------------------


def _variable_updates():
    v = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
    count = tf.Variable(0, dtype=tf.int32)

    def fn(x):
        before = v * 1.0
        v.assign_add(x)
        after_add = tf.reduce_sum(v)  # read after assign sees the new value
        v.assign(v * 0.5)
        v.assign_sub(tf.ones_like(x))
        count.assign_add(1)
        return before, after_add, v + 0.0, count.read_value()

    return fn, [v, count]


def _sgd_mlp():
    rng = np.random.default_rng(3)
    w1 = tf.Variable(rng.standard_normal((4, 8)).astype(np.float32) * 0.5)
    b1 = tf.Variable(np.zeros(8, np.float32))
    w2 = tf.Variable(rng.standard_normal((8, 3)).astype(np.float32) * 0.5)
    b2 = tf.Variable(np.zeros(3, np.float32))
    params = [w1, b1, w2, b2]

    def step(x, labels):
        with tf.GradientTape() as tape:
            hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
            logits = tf.matmul(hidden, w2) + b2
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits))
        grads = tape.gradient(loss, params)
        for p, g in zip(params, grads):
            p.assign_sub(0.1 * g)
        accuracy = tf.reduce_mean(tf.cast(
            tf.equal(tf.argmax(tf.nn.softmax(logits), axis=-1, output_type=tf.int32), labels),
            tf.float32))
        return loss, accuracy

    return step, params


def _momentum():
    w = tf.Variable(np.ones((3, 2), np.float32))
    velocity = tf.Variable(np.zeros((3, 2), np.float32))

    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
        g = tape.gradient(loss, w)
        velocity.assign(0.9 * velocity - 0.05 * g)
        w.assign_add(velocity)
        return loss

    return step, [w, velocity]


def _keras_optimizer(kind):
    def build():
        w = tf.Variable(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2))
        optimizer = tf.keras.optimizers.get(kind)
        optimizer.build([w])

        def step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.tanh(tf.matmul(x, w)))
            optimizer.apply_gradients([(tape.gradient(loss, w), w)])
            return loss

        return step, [w, *optimizer.variables]

    return build


def _returns_variable():
    v = tf.Variable(np.zeros(3, np.float32))

    def fn(x):
        v.assign_add(x)
        return v

    return fn, [v]


def test_variable_updates_agree():
    function = check_agreement(_variable_updates, calls_of(lambda r: (floats(r, 2, 3),)))
    ops = [node.op for node in function.graph.nodes]
    assert ops.count("assign_add") == 2 and ops.count("assign") == 1


def test_mlp_training_step_agrees_and_fuses():
    function = check_agreement(_sgd_mlp, calls_of(lambda r: (
        floats(r, 16, 4), tf.constant(r.integers(0, 3, 16), tf.int32))))
    ops = {node.op for node in function.graph.nodes}
    assert {"dense", "relu_grad"} <= ops, ops
    # The softmax feeding accuracy's argmax is gone: argmax of softmax is argmax of logits.
    assert "exp" not in ops and "argmax_of_softmax" in ops, ops
    assert sum(node.op == "assign_sub" for node in function.graph.nodes) == 4


def test_momentum_step_agrees():
    check_agreement(_momentum, calls_of(lambda r: (floats(r, 5, 3), floats(r, 5, 2))))


@pytest.mark.parametrize("kind", ["sgd", "adam", "rmsprop"])
def test_keras_optimizer_step_agrees(kind):
    check_agreement(_keras_optimizer(kind), calls_of(lambda r: (floats(r, 4, 3),)))


def test_returned_variable_is_its_value_after_the_call():
    function = check_agreement(_returns_variable, calls_of(lambda r: (floats(r, 3),)))
    first = function(tf.ones([3]))
    function(tf.ones([3]))
    assert isinstance(first, tf.Tensor) and not isinstance(first, tf.Variable)
