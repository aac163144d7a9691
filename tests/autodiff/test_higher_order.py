"""Higher-order derivatives through nested tapes, checked against analytic formulas."""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf

rng = np.random.default_rng(11)


def test_second_derivative_of_a_cubic():
    a = tf.Variable(2.0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = a ** 3
        dy = inner.gradient(y, a)
    d2y = outer.gradient(dy, a)
    assert dy.numpy() == pytest.approx(3 * 2.0**2) and d2y.numpy() == pytest.approx(6 * 2.0)


@pytest.mark.parametrize("x0", [-1.3, 0.4, 2.0])
def test_first_three_derivatives_of_x_sin_x(x0):
    x = tf.constant(x0, tf.float64)
    with tf.GradientTape() as t3:
        t3.watch(x)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = tf.sin(x) * x
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    s, c = np.sin(x0), np.cos(x0)
    assert d1.numpy() == pytest.approx(c * x0 + s, rel=1e-12)
    assert d2.numpy() == pytest.approx(2 * c - s * x0, rel=1e-12)
    assert d3.numpy() == pytest.approx(-3 * s - c * x0, rel=1e-12)


def test_third_derivative_of_exp_and_tanh():
    values = rng.uniform(-1, 1, 5)
    x = tf.constant(values)
    with tf.GradientTape() as t3:
        t3.watch(x)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = tf.exp(2 * x) + tf.tanh(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    th = np.tanh(values)
    # tanh''' = -2 (1 - th^2)(1 - 3 th^2)
    expected = 8 * np.exp(2 * values) - 2 * (1 - th**2) * (1 - 3 * th**2)
    np.testing.assert_allclose(d3.numpy(), expected, rtol=1e-10)


def test_mixed_partial_derivative():
    x, y = tf.Variable(1.5, dtype=tf.float64), tf.Variable(-0.7, dtype=tf.float64)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            f = x**2 * y**3
        dfdx = inner.gradient(f, x)
    d2f = outer.gradient(dfdx, y)
    assert d2f.numpy() == pytest.approx(6 * 1.5 * (-0.7) ** 2, rel=1e-12)


def test_hessian_as_the_jacobian_of_the_gradient():
    matrix = rng.normal(size=(3, 3))
    values = rng.normal(size=3)
    x = tf.Variable(values)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            # f(x) = x^T A x + sum(x^3)  ->  H = A + A^T + diag(6 x)
            ax = tf.reshape(tf.matmul(tf.constant(matrix), tf.reshape(x, [3, 1])), [3])
            f = tf.reduce_sum(x * ax) + tf.reduce_sum(x**3)
        grad = inner.gradient(f, x)
    hessian = outer.jacobian(grad, x)
    np.testing.assert_allclose(grad.numpy(), (matrix + matrix.T) @ values + 3 * values**2,
                               rtol=1e-10)
    np.testing.assert_allclose(hessian.numpy(), matrix + matrix.T + np.diag(6 * values),
                               rtol=1e-10)


def test_hessian_vector_product_through_a_persistent_outer_tape():
    values = rng.normal(size=4)
    vector = rng.normal(size=4)
    x = tf.Variable(values)
    with tf.GradientTape(persistent=True) as outer:
        with tf.GradientTape() as inner:
            f = tf.reduce_sum(tf.sin(x) * x)
        grad = inner.gradient(f, x)
        directional = tf.reduce_sum(grad * tf.constant(vector))
    hvp = outer.gradient(directional, x)
    # d2/dx2 (x sin x) = 2 cos x - x sin x (the Hessian is diagonal)
    np.testing.assert_allclose(hvp.numpy(), (2 * np.cos(values) - values * np.sin(values))
                               * vector, rtol=1e-10)
    assert outer.gradient(grad, x) is not None  # the outer tape is still usable


def test_inner_tape_sees_nothing_of_the_outer_computation_after_stop_gradient():
    a = tf.Variable(3.0, dtype=tf.float64)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = a**2
        dy = tf.stop_gradient(inner.gradient(y, a))
    assert outer.gradient(dy, a) is None
