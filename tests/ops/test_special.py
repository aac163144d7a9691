"""Special functions (neuroflow/ops/special.py): values against the standard library and
known constants, edge values as TensorFlow gives them, gradients by finite differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from _opcheck import (
    Fwd,
    Grad,
    params,
    run_forward,
    run_gradient,
    run_second_derivative,
    smooth_params,
    uniform,
)

import neuroflow as tf
from neuroflow.ops import special

INF, NAN = np.inf, np.nan
EULER_GAMMA = 0.57721566490153286061
_rng = np.random.default_rng(11)


def _vectorized(fn):
    return np.vectorize(fn, otypes=[float])


def _math_lgamma(x):
    return math.lgamma(x)


def _digamma_reference(x):
    """digamma by the recurrence and a long asymptotic series (in Python floats)."""
    if x <= 0 and x == math.floor(x):
        return math.nan
    shift = 0.0
    if x < 0:
        return _digamma_reference(1 - x) - math.pi / math.tan(math.pi * x)
    while x < 20:
        shift -= 1 / x
        x += 1
    w = 1 / (x * x)
    series = w * (1 / 12 - w * (1 / 120 - w * (1 / 252 - w * (1 / 240 - w / 132))))
    return shift + math.log(x) - 0.5 / x - series


def _trigamma_reference(x):
    """polygamma(1, x) by summing 1/(x+k)^2 to 20 and the asymptotic tail."""
    total = 0.0
    while x < 20:
        total += 1 / (x * x)
        x += 1
    w = 1 / (x * x)
    return total + 1 / x + 0.5 * w + w / x * (1 / 6 - w * (1 / 30 - w * (1 / 42 - w / 30)))


def _ndtri_reference(p):
    return -math.sqrt(2) * _erfcinv(2 * p)


def _erfcinv(c):
    """erfc^-1 by bisection on math.erfc (slow, exact to the last bits)."""
    low, high = -40.0, 40.0
    for _ in range(200):
        middle = (low + high) / 2
        if math.erfc(middle) > c:
            low = middle
        else:
            high = middle
    return (low + high) / 2


SPREAD = np.concatenate([uniform(40, low=-9.7, high=20.0), np.array([0.5, 1.5, 2.5, 3.25])])
UNIT = np.concatenate([uniform(30, low=-0.999, high=0.999), [0.0, 0.5, -0.9999999]])
PROBABILITIES = np.concatenate([uniform(30, low=0.001, high=0.999), [1e-300, 1e-20, 0.975]])

FORWARD = {
    "erfc": [Fwd(tf.math.erfc, _vectorized(math.erfc),
                 (np.concatenate([uniform(40, low=-6, high=27), [2.0, -2.0, 0.0]]),), "range"),
             Fwd(tf.math.erfc, lambda x: _vectorized(math.erfc)(x).astype(np.float32),
                 (uniform(2, 3).astype(np.float32),), "float32")],
    "lgamma": [Fwd(tf.math.lgamma, _vectorized(_math_lgamma), (SPREAD,), "range"),
               Fwd(tf.math.lgamma, _vectorized(_math_lgamma),
                   (np.array([1e-12, 1e-5, 1e8, 1e200, -1e15 + 0.5, 0.9999999]),), "far")],
    "digamma": [Fwd(tf.math.digamma, _vectorized(_digamma_reference), (SPREAD,), "range")],
    "polygamma": [Fwd(tf.math.polygamma, lambda n, x: _vectorized(_trigamma_reference)(x),
                      (np.ones(10), _rng.uniform(0.1, 30, 10)), "trigamma"),
                  Fwd(tf.math.polygamma, lambda n, x: _vectorized(_digamma_reference)(x),
                      (np.zeros(5), _rng.uniform(-5, 5, 5)), "digamma")],
    "erfinv": [Fwd(tf.math.erfinv, lambda x: _vectorized(
        lambda v: math.copysign(_erfcinv(1 - abs(v)), v))(x), (UNIT,), "range")],
    "ndtri": [Fwd(tf.math.ndtri, _vectorized(_ndtri_reference), (PROBABILITIES,), "range")],
}

GRADIENTS = {
    "erfc": [Grad(tf.math.erfc, (uniform(2, 3),), "(2, 3)")],
    "lgamma": [Grad(tf.math.lgamma, (uniform(2, 3, low=0.3, high=6.0),), "positive"),
               Grad(tf.math.lgamma, (np.array([-0.5, -1.7, -2.3]),), "negative")],
    "digamma": [Grad(tf.math.digamma, (uniform(2, 3, low=0.3, high=6.0),), "positive")],
    "polygamma": [Grad(lambda x: tf.math.polygamma(tf.constant(2.0, tf.float64), x),
                       (uniform(4, low=0.5, high=4.0),), "n=2")],
    "erfinv": [Grad(tf.math.erfinv, (uniform(2, 3, low=-0.9, high=0.9),), "(2, 3)")],
    "ndtri": [Grad(tf.math.ndtri, (uniform(2, 3, low=0.05, high=0.95),), "(2, 3)")],
}


@pytest.mark.parametrize("name, case", params(FORWARD))
def test_forward(name, case):
    run_forward(name, case)


@pytest.mark.parametrize("name, case", params(GRADIENTS))
def test_gradient(name, case):
    run_gradient(name, case)


@pytest.mark.parametrize("name, case", smooth_params(GRADIENTS))
def test_second_derivative(name, case):
    run_second_derivative(case)


def _same(result, expected):
    got = np.asarray(result)
    np.testing.assert_array_equal(got, np.asarray(expected, got.dtype))


@pytest.fixture(autouse=True)
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_known_constants():
    x = tf.constant([0.5, 1.0, 2.0, 1.0 / 3.0], tf.float64)
    np.testing.assert_allclose(tf.math.lgamma(x).numpy()[:3], [0.5 * math.log(math.pi), 0, 0],
                               atol=1e-16)
    np.testing.assert_allclose(tf.math.digamma(x).numpy()[:3],
                               [-EULER_GAMMA - 2 * math.log(2), -EULER_GAMMA, 1 - EULER_GAMMA],
                               rtol=1e-15)
    np.testing.assert_allclose(tf.math.polygamma(tf.constant([1.0, 2.0], tf.float64),
                                                 tf.constant([1.0, 1.0], tf.float64)).numpy(),
                               [math.pi ** 2 / 6, -2 * 1.2020569031595942], rtol=1e-14)
    np.testing.assert_allclose(tf.math.ndtri(tf.constant([0.975, 0.5], tf.float64)).numpy(),
                               [1.959963984540054, 0.0], rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(tf.math.erfinv(tf.constant(1e-10, tf.float64)).numpy(),
                               1e-10 * math.sqrt(math.pi) / 2, rtol=1e-15)


def test_edge_values_are_tensorflows():
    x = tf.constant([0.0, -0.0, -1.0, -2.0, INF, -INF, NAN], tf.float64)
    _same(tf.math.lgamma(x), [INF, INF, INF, INF, INF, INF, NAN])
    _same(tf.math.digamma(x), [NAN, NAN, NAN, NAN, INF, NAN, NAN])
    _same(tf.math.erfc(tf.constant([-INF, 30.0, INF, NAN])), [2.0, 0.0, 0.0, NAN])
    _same(tf.math.erfinv(tf.constant([-1.0, 1.0, 1.5, -2.0, NAN])), [-INF, INF, NAN, NAN, NAN])
    _same(tf.math.ndtri(tf.constant([0.0, 1.0, -0.1, 1.1, NAN])), [-INF, INF, NAN, NAN, NAN])
    assert np.signbit(tf.math.erfinv(tf.constant(-0.0)).numpy())
    assert not np.signbit(tf.math.lgamma(tf.constant([1.0, 2.0])).numpy()).any()


def test_polygamma_orders_and_poles_as_tensorflow():
    n = tf.constant([1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 1.0, -1.0, 0.5], tf.float64)
    x = tf.constant([0.0, 0.0, -1.0, -2.0, -INF, INF, 1e10, 1.0, 1.0], tf.float64)
    got = tf.math.polygamma(n, x).numpy()
    _same(got[:6], [INF, NAN, INF, NAN, INF, -0.0])
    np.testing.assert_allclose(got[6], 1.00000000005e-10, rtol=1e-14)
    _same(got[7:], [NAN, NAN])
    # Negative non-integers sum far enough before the Euler-Maclaurin tail.
    np.testing.assert_allclose(
        tf.math.polygamma(tf.constant(1.0, tf.float64), tf.constant(-2.5, tf.float64)).numpy(),
        9.539246644989124, rtol=1e-14)


def test_gradients_are_tensorflows_rules():
    x = tf.constant([0.5, 3.0], tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        lg, dg = tf.math.lgamma(x), tf.math.digamma(x)
    np.testing.assert_allclose(tape.gradient(lg, x).numpy(), tf.math.digamma(x).numpy())
    np.testing.assert_allclose(tape.gradient(dg, x).numpy(), [math.pi ** 2 / 2, 0.3949340668482264],
                               rtol=1e-14)
    n = tf.constant([1.0, 2.0], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([n, x])
        y = tf.math.polygamma(n, x)
    gn, gx = tape.gradient(y, [n, x])
    assert gn is None
    np.testing.assert_allclose(gx.numpy(), tf.math.polygamma(n + 1, x).numpy())


def test_float32_and_float16_are_computed_in_float64():
    for dtype in (tf.float32, tf.float16):
        x = tf.constant([0.3, 2.5, -1.5], dtype)
        y = tf.math.lgamma(x)
        assert y.dtype == dtype
        want = np.array([math.lgamma(float(v)) for v in x.numpy()])
        np.testing.assert_allclose(y.numpy(), want.astype(dtype.np), rtol=1e-3)


def test_integer_inputs_are_refused():
    for op in (tf.math.lgamma, tf.math.digamma, tf.math.erfc, tf.math.erfinv, tf.math.ndtri):
        with pytest.raises(tf.errors.InvalidArgumentError, match="tf.cast"):
            op(tf.constant([1]))
    with pytest.raises(TypeError, match="polygamma"):
        tf.math.polygamma(tf.constant([1]), tf.constant([1]))


def test_hurwitz_zeta_gives_riemann_zeta_at_one():
    s = np.array([2.0, 3.0, 4.0, 10.0])
    np.testing.assert_allclose(special.hurwitz_zeta(np, s, np.ones(4)),
                               [math.pi ** 2 / 6, 1.2020569031595942, math.pi ** 4 / 90,
                                1.0009945751278180], rtol=1e-15)
