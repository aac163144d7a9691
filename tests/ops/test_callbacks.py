"""run_callback: a Python callable a graph runs with each call's concrete values."""

from __future__ import annotations

import numpy as np

import neuroflow as tf
from neuroflow.ops.callbacks import run_callback

FORWARD: dict = {}
GRADIENTS: dict = {}


def test_run_callback_sees_each_calls_values_eagerly_and_compiled():
    seen = []

    def positive_sum(x, y):
        seen.append((x.tolist(), int(y)))
        return x.sum() > 0

    f = tf.function(lambda x, y: run_callback(x, y, callback=positive_sum))
    assert bool(run_callback(tf.constant([1.0]), tf.constant(2), callback=positive_sum))
    assert not bool(f(tf.constant([-1.0, 0.5]), tf.constant(3)))
    assert bool(f(tf.constant([2.0, 0.5]), tf.constant(4)))
    # A constant input is still a node: it runs on every call, not once while tracing.
    g = tf.function(lambda: run_callback(tf.constant([5.0]), tf.constant(0),
                                         callback=positive_sum))
    g()
    g()
    assert seen == [([1.0], 2), ([-1.0, 0.5], 3), ([2.0, 0.5], 4), ([5.0], 0), ([5.0], 0)]
    assert np.asarray(f(tf.constant([1.0]), tf.constant(1))).dtype == np.bool_


COVERED_ELSEWHERE = {"run_callback": test_run_callback_sees_each_calls_values_eagerly_and_compiled}
