"""Tests of neuroflow.keras.regularizers: penalties against NumPy, gradients, lookup."""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras import regularizers

W = np.array([[0.5, -1.5], [2.0, -0.25]])


def test_penalties_match_numpy():
    assert float(regularizers.L1(0.3)(tf.constant(W))) == pytest.approx(0.3 * np.abs(W).sum())
    assert float(regularizers.L2(0.2)(tf.constant(W))) == pytest.approx(0.2 * (W**2).sum())
    both = regularizers.L1L2(l1=0.1, l2=0.2)(tf.constant(W))
    assert float(both) == pytest.approx(0.1 * np.abs(W).sum() + 0.2 * (W**2).sum())
    assert float(regularizers.L1L2()(tf.constant(W))) == 0.0  # Keras defaults: both 0.0


def test_gradient_of_l2_penalty():
    w = tf.Variable(W)
    with tf.GradientTape() as tape:
        penalty = regularizers.L2(0.5)(w)
    np.testing.assert_allclose(tape.gradient(penalty, w).numpy(), 2 * 0.5 * W)


def test_get_and_config():
    assert regularizers.get("l2").l2 == 0.01
    assert regularizers.get("L1").l1 == 0.01
    assert regularizers.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}
    restored = regularizers.get(regularizers.serialize(regularizers.L1L2(0.3, 0.4)))
    assert restored.get_config() == {"l1": 0.3, "l2": 0.4}
    assert regularizers.get(None) is None
    with pytest.raises(ValueError, match="Did you mean 'l2'"):
        regularizers.get("l22")
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L2(-1.0)
