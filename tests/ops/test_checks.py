"""The check primitives (``ops/checks.py``): each decides as NumPy does, and raises then.

TensorFlow's messages are compared in ``tests/oracle/test_tf_debugging.py``; here the
forwards are checked against NumPy (a case returns whether the check passed) and the
gradient of ``check_numerics`` against finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from _opcheck import Fwd, Grad, params, run_forward, run_gradient, uniform

import neuroflow as tf


def _passes(check, *args) -> tf.Tensor:
    """Whether ``check(*args)`` passes, as a boolean tensor (it raises when it fails)."""
    try:
        check(*args)
    except tf.errors.InvalidArgumentError:
        return tf.constant(False)
    return tf.constant(True)


def _finite_or_zero(x):
    """``check_numerics``'s result where it passes, zeros where it raises."""
    try:
        return tf.debugging.check_numerics(x, "checked")
    except tf.errors.InvalidArgumentError:
        return tf.zeros_like(x)


def _with_specials(*shape):
    x = uniform(*shape)
    x.reshape(-1)[::3] = [np.nan, np.inf, -np.inf][: x.reshape(-1)[::3].size]
    return x


_RELATIONS = [("assert_equal", np.equal), ("assert_none_equal", np.not_equal),
              ("assert_less", np.less), ("assert_less_equal", np.less_equal),
              ("assert_greater", np.greater), ("assert_greater_equal", np.greater_equal)]
_PAIRS = [(np.array([1, 2, 3], np.int32), np.array([1, 2, 3], np.int32), "same"),
          (np.array([1, 2, 3], np.int32), np.array([2, 3, 4], np.int32), "below"),
          (np.array([[1.5], [2.0]]), np.array([1.5, 2.5]), "broadcast"),
          (np.array([np.nan, 1.0]), np.array([1.0, 1.0]), "nan")]

FORWARD = {
    "check_numerics": [
        Fwd(_finite_or_zero, lambda x: x, (uniform(3, 4).astype(np.float32),), "finite"),
        Fwd(_finite_or_zero, np.zeros_like, (_with_specials(5),), "specials"),
        Fwd(_finite_or_zero, lambda x: x, (np.array([60000.0] * 4, np.float16),),
            "float16-sum-overflows")],
    "assert_compare": [
        Fwd(lambda x, y, a=assertion: _passes(getattr(tf.debugging, a), x, y),
            lambda x, y, r=relation: np.all(r(x, y)), (x, y), f"{assertion}-{pair}", "bool")
        for assertion, relation in _RELATIONS for x, y, pair in _PAIRS],
    "assert_true": [
        Fwd(lambda c, d: _passes(tf.debugging.Assert, c, [d]), lambda c, d: np.bool_(c),
            (np.bool_(value), uniform(3)), f"condition-{value}", "bool")
        for value in (True, False)],
}

GRADIENTS = {
    "check_numerics": [Grad(lambda x: tf.debugging.check_numerics(x * x, "squared"),
                            (uniform(2, 3),), "of-square")],
}


@pytest.mark.parametrize("name, case", params(FORWARD))
def test_forward(name, case):
    run_forward(name, case)


@pytest.mark.parametrize("name, case", params(GRADIENTS))
def test_gradient(name, case):
    run_gradient(name, case)


def test_a_nan_gradient_is_caught_on_the_way_back():
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.debugging.check_numerics(x * 2.0, "forward")
        loss = tf.reduce_sum(y * tf.constant([np.nan, 1.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="detected in gradient"):
        tape.gradient(loss, x)


def test_checks_are_effects_that_passes_keep():
    @tf.function
    def f(x):
        tf.debugging.check_numerics(x, "unused result")  # nothing reads it
        tf.debugging.assert_less(x, 10.0)
        return x + 1.0

    f(tf.constant([1.0]))
    ops = [node.op for node in f.graph.nodes]
    assert "check_numerics" in ops and "assert_compare" in ops
    with pytest.raises(tf.errors.InvalidArgumentError):
        f(tf.constant([np.inf]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="x < y did not hold"):
        f(tf.constant([11.0]))
