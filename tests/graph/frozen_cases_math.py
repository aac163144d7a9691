"""Compiled-versus-eager cases of the elementwise and special math ops added for the
TensorFlow-oracle work (neuroflow/ops/elementwise.py, special.py)."""

from __future__ import annotations

import numpy as np
from frozen_cases import Case, bind, floats, ints, nonzero, positive, scalar, x_

import neuroflow as tf


def unit(r, n):
    """Inside (-1, 1): the domain of asin, acos, atanh and erfinv."""
    return (floats(r, n, 4, low=-0.95, high=0.95),)


def above_one(r, n):
    return (1.0 + positive(r, n, 4),)


def probabilities(r, n):
    return (floats(r, n, 4, low=0.02, high=0.98),)


def with_zeros(r, n):
    """x with zeros in changing places, y positive: the x == 0 branch of xlogy and kin."""
    x = floats(r, n, 4) * (r.random((n, 4)) < 0.7)
    return (x.astype(np.float32), positive(r, n, 4))


def x_y_with_zeros(r, n):
    """y with zeros in changing places, x with an inf: multiply_no_nan's 0 wins."""
    x = floats(r, n, 4)
    x[0, r.integers(0, 4)] = np.inf
    y = (floats(r, n, 4) * (r.random((n, 4)) < 0.6)).astype(np.float32)
    y[0, :] = 0.0
    return (x, y)


def int_pair(r, n):
    divisor = ints(r, n, 4, low=1, high=4) * r.choice(np.asarray([-1, 1], np.int32), (n, 4))
    return (ints(r, n, 4, low=-9, high=10), divisor)


def float_pair(r, n):
    return (floats(r, n, 4) * 5, nonzero(r, n, 4))


CASES = {
    "tf.tan": [Case(tf.tan, x_)],
    "tf.asin": [Case(tf.asin, unit)],
    "tf.acos": [Case(tf.acos, unit)],
    "tf.atan": [Case(tf.atan, x_)],
    "tf.sinh": [Case(tf.sinh, x_)],
    "tf.cosh": [Case(tf.cosh, x_)],
    "tf.asinh": [Case(tf.asinh, x_)],
    "tf.acosh": [Case(tf.acosh, above_one)],
    "tf.atanh": [Case(tf.atanh, unit)],
    "tf.atan2": [Case(tf.atan2, lambda r, n: (floats(r, n, 4), nonzero(r, n, 4)))],
    "tf.truncatediv": [Case(tf.truncatediv, int_pair, "int"), Case(tf.truncatediv, float_pair)],
    "tf.truncatemod": [Case(tf.truncatemod, int_pair, "int"), Case(tf.truncatemod, float_pair)],
    "tf.realdiv": [Case(tf.realdiv, lambda r, n: (floats(r, n, 4), nonzero(r, n, 4)))],
    "tf.scalar_mul": [Case(tf.scalar_mul, lambda r, n: (scalar(r.normal(), np.float32),
                                                        floats(r, n, 4)))],
    "tf.saturate_cast": [
        Case(bind(tf.saturate_cast, dtype=tf.uint8), lambda r, n: (floats(r, n, 4) * 300,)),
        Case(bind(tf.saturate_cast, dtype=tf.int8), lambda r, n: (ints(r, n, 4) * 40,), "int")],
    "tf.math.xlogy": [Case(tf.math.xlogy, with_zeros)],
    "tf.math.xlog1py": [Case(tf.math.xlog1py, with_zeros)],
    "tf.math.xdivy": [Case(tf.math.xdivy, with_zeros)],
    "tf.math.multiply_no_nan": [Case(tf.math.multiply_no_nan, x_y_with_zeros)],
    "tf.math.reciprocal_no_nan": [Case(tf.math.reciprocal_no_nan, lambda r, n: (
        (floats(r, n, 4) * (r.random((n, 4)) < 0.7)).astype(np.float32),))],
    "tf.math.rint": [Case(tf.math.rint, lambda r, n: (floats(r, n, 4, low=-5, high=5),))],
    "tf.math.conj": [Case(tf.math.conj, lambda r, n: (
        (floats(r, n, 3) + 1j * floats(r, n, 3)).astype(np.complex64),))],
    "tf.math.imag": [Case(tf.math.imag, lambda r, n: (
        (floats(r, n, 3) + 1j * floats(r, n, 3)).astype(np.complex64),))],
    "tf.complex": [Case(tf.complex, lambda r, n: (floats(r, n, 3), floats(r, 3)))],
    "tf.math.erfc": [Case(tf.math.erfc, lambda r, n: (floats(r, n, 4, low=-3, high=5),))],
    "tf.math.lgamma": [Case(tf.math.lgamma, lambda r, n: (floats(r, n, 4, low=-4, high=8),))],
    "tf.math.digamma": [Case(tf.math.digamma, lambda r, n: (floats(r, n, 4, low=-4, high=8),))],
    "tf.math.polygamma": [Case(tf.math.polygamma, lambda r, n: (
        r.integers(0, 4, (n, 4)).astype(np.float32), floats(r, n, 4, low=0.2, high=6)))],
    "tf.math.erfinv": [Case(tf.math.erfinv, unit)],
    "tf.math.ndtri": [Case(tf.math.ndtri, probabilities)],
}

