"""tf.debugging: numeric checks of every op (eager and compiled) and assertions in functions.

TensorFlow's own texts are compared in ``tests/oracle/test_tf_debugging.py``; here, what
neuroflow adds (the Keras layer, the user's line, the epoch and batch) and how compiled
code behaves: checked on every call, re-keyed when the setting changes, plain code kept.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.ops import registry

LINE = "test_debugging.py:"


@pytest.fixture
def checking():
    tf.debugging.enable_check_numerics()
    try:
        yield
    finally:
        tf.debugging.disable_check_numerics()


def _error(call) -> str:
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        call()
    return str(info.value)


def test_an_eager_op_making_an_infinity_is_named(checking):
    x = tf.constant([1.0, 0.0])
    text = _error(lambda: tf.math.log(x))
    lines = text.splitlines()
    assert lines[0] == ('!!! Detected Infinity or NaN in output 0 of eagerly-executing op '
                        '"log" (# of outputs: 1) !!!')
    assert "  # of -Inf elements: 1" in lines
    assert any(line.startswith(f"  Called at: {LINE}") for line in lines)
    assert " : Tensor had -Inf values" in text


def test_checks_stop_when_disabled_and_cost_nothing_then():
    tf.debugging.enable_check_numerics()
    tf.debugging.enable_check_numerics()  # idempotent, as in TensorFlow
    tf.debugging.disable_check_numerics()
    assert registry.op_watchers == []
    np.testing.assert_array_equal(tf.math.log(tf.constant([0.0])).numpy(), [-np.inf])


def test_checks_are_per_thread(checking):
    results = []
    thread = threading.Thread(target=lambda: results.append(tf.math.log(tf.constant(0.0))))
    thread.start()
    thread.join()
    assert results and np.isneginf(results[0].numpy())
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.math.log(tf.constant(0.0))


def test_a_compiled_function_is_checked_without_retracing_and_keeps_its_plain_code():
    @tf.function
    def f(x):
        y = tf.math.log(x)
        return y * 2.0 + 1.0

    plain = f(tf.constant([1.0, 0.0]))
    source = f.source
    tf.debugging.enable_check_numerics()
    try:
        text = _error(lambda: f(tf.constant([1.0, 0.0])))
        assert f(tf.constant([1.0, 2.0])).shape == (2,)  # finite values pass
    finally:
        tf.debugging.disable_check_numerics()
    assert text.splitlines()[0] == ('!!! Detected Infinity or NaN in output 0 of graph op '
                                    '"log" (# of outputs: 1) !!!')
    assert '  Graph name: "f"' in text and f"  Created at: {LINE}" in text
    assert f.experimental_get_tracing_count() == 1
    assert f.source == source and "isfinite" not in source
    np.testing.assert_array_equal(f(tf.constant([1.0, 0.0])).numpy(), plain.numpy())


def test_the_first_op_is_named_even_where_ops_are_fused(checking):
    @tf.function
    def f(x, w, b):
        return tf.nn.relu(tf.matmul(x, w) + b)  # fused into one dense node when not checking

    w = tf.constant([[3e38], [3e38]])
    text = _error(lambda: f(tf.constant([[1.0, 1.0]]), w, tf.constant([0.0])))
    assert '"matmul"' in text.splitlines()[0]


def test_float16_sums_that_overflow_are_not_infinities(checking):
    @tf.function
    def f(x):
        return x * 1.0

    x = tf.constant(np.full(8, 60000.0, np.float16))
    np.testing.assert_array_equal(f(x).numpy(), x.numpy())
    np.testing.assert_array_equal((x * 1.0).numpy(), x.numpy())


def test_ops_inside_loops_are_checked(checking):
    @tf.function
    def f(x, n):
        return tf.while_loop(lambda i, v: i < n, lambda i, v: (i + 1, v * 1e30),
                             (tf.constant(0), x))[1]

    assert np.isfinite(f(tf.constant([1.0]), tf.constant(1)).numpy()).all()
    text = _error(lambda: f(tf.constant([1.0]), tf.constant(3)))
    assert '"multiply"' in text.splitlines()[0]


def _model():
    keras = tf.keras
    model = keras.Sequential([keras.layers.Input((4,)),
                              keras.layers.Dense(3, activation="relu", name="hidden",
                                                 kernel_initializer="ones"),
                              keras.layers.Dense(2, name="overflowing")])
    model.compile("sgd", "mse")
    model.layers[1].set_weights([np.full((3, 2), 3e38, np.float32), np.zeros(2, np.float32)])
    return model


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_keras_fit_errors_name_the_layer_and_the_batch(checking, run_eagerly):
    model = _model()
    model.compile("sgd", "mse", run_eagerly=run_eagerly)
    x = np.zeros((8, 4), np.float32)
    x[5:] = 1.0  # only the second batch of four makes the hidden layer's output positive
    y = np.zeros((8, 2), np.float32)
    text = _error(lambda: model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0))
    assert '"matmul"' in text.splitlines()[0]
    assert '  Keras layer: "overflowing" (in sequential' in text
    assert "  Keras fit: epoch 1, batch 1" in text


def test_enable_check_numerics_checks_its_arguments():
    with pytest.raises(ValueError, match="stack_height_limit"):
        tf.debugging.enable_check_numerics(stack_height_limit=-1)


# --- assertions in compiled functions ---------------------------------------------------------


def test_assertions_in_a_function_check_every_call():
    @tf.function
    def f(x, y):
        tf.debugging.assert_less(x, y, message="x must stay below y")
        tf.debugging.Assert(tf.reduce_all(x > 0), [x, "x must be positive"])
        return y - x

    np.testing.assert_array_equal(f(tf.constant([1, 2]), tf.constant([3, 3])).numpy(), [2, 1])
    text = _error(lambda: f(tf.constant([1, 4]), tf.constant([3, 3])))
    assert "x must stay below y" in text and "Condition x < y did not hold" in text
    assert "[1 4]" in text
    text = _error(lambda: f(tf.constant([-1, 2]), tf.constant([3, 3])))
    assert "assertion failed: [[-1 2]] [x must be positive]" in text
    assert f.experimental_get_tracing_count() == 1


def test_values_known_while_tracing_are_checked_while_tracing():
    @tf.function
    def f(x):
        tf.debugging.assert_equal(tf.constant([1, 2]), tf.constant([1, 3]))
        return x

    text = _error(lambda: f(tf.constant(1)))
    assert text.startswith("Condition x == y did not hold element-wise:")


def test_check_numerics_in_a_function_checks_every_call():
    @tf.function
    def f(x):
        return tf.debugging.check_numerics(x, "in f") * 2.0

    assert f(tf.constant([1.0])).numpy() == 2.0
    assert "in f : Tensor had NaN values" in _error(lambda: f(tf.constant([np.nan])))


def test_assert_shapes_checks_unknown_sizes_when_the_function_runs():
    spec = [tf.TensorSpec([None, 3]), tf.TensorSpec([None])]

    @tf.function(input_signature=spec)
    def f(x, y):
        tf.debugging.assert_shapes([(x, ("N", 3)), (y, ("N",))])
        return tf.reduce_sum(x) + tf.reduce_sum(y)

    assert f(tf.ones([2, 3]), tf.ones([2])).numpy() == 8.0
    with pytest.raises(ValueError):  # a known size is checked while tracing
        tf.debugging.assert_shapes([(tf.ones([2, 3]), ("N", 4))])
    text = _error(lambda: f(tf.ones([2, 3]), tf.ones([5])))
    assert "must have size" in text


def test_assert_rank_reads_a_tensor_rank_by_value_in_a_function():
    @tf.function
    def f(x, rank):
        tf.debugging.assert_rank(x, rank)
        return x

    assert f(tf.ones([2]), tf.constant(1)).shape == (2,)
    with pytest.raises(ValueError, match="must have rank 2"):
        f(tf.ones([2]), tf.constant(2))
