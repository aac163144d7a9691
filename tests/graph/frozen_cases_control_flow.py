"""Compiled-versus-eager cases of graph control flow (``tf.cond``, ``tf.while_loop``).

The predicate, the loop count and the iteration limit are tensors whose values change
between calls, so a branch or a count frozen into the graph would show.
"""

from __future__ import annotations

import numpy as np
from frozen_cases import Case, floats, gradients_of, scalar

import neuroflow as tf


def _x_threshold(r, n):
    return (floats(r, n, 4), scalar(r.uniform(-1.0, 1.0), np.float32))


def _x_count(r, n):
    return (floats(r, n, 4, low=-1.0, high=1.0), scalar(r.integers(0, 5)))


def _x_count_limit(r, n):
    return (*_x_count(r, n), scalar(r.integers(0, 4)))


def _branches(x, t):
    return tf.cond(tf.reduce_mean(x) > t, lambda: x * 2.0 + t, lambda: tf.sin(x) - t)


def _branches_of_other_shapes(x, t):
    # The branches make results of different sizes: the result's size is known per call.
    return tf.cond(tf.reduce_mean(x) > t, lambda: tf.reduce_sum(x, axis=1),
                   lambda: tf.reduce_max(x, axis=0))


def _loop(x, k):
    return tf.while_loop(lambda i, y: i < k, lambda i, y: (i + 1, y * 0.5 + tf.sin(y)),
                         (0, x))[1]


def _limited_loop(x, k, limit):
    return tf.while_loop(lambda i, y: i < k, lambda i, y: (i + 1, tf.tanh(y) * x),
                         (tf.constant(0), x), maximum_iterations=limit)


def _x_index(r, n):
    return (floats(r, n, 4), scalar(r.integers(-1, 4)))


def _switch(x, k):
    return tf.switch_case(k, [lambda: x + 1.0, lambda: tf.exp(x), lambda: x * x],
                          default=lambda: -x)


CASES = {
    "tf.switch_case": [Case(_switch, _x_index, "branches")],
    "tf.cond": [Case(_branches, _x_threshold, "elementwise"),
             Case(_branches_of_other_shapes, _x_threshold, "other-shapes")],
    "tf.while_loop": [Case(_loop, _x_count, "count"),
                   Case(lambda x, k, limit: _limited_loop(x, k, limit)[1], _x_count_limit,
                        "maximum-iterations")],
}

EXTRA_CASES = {
    "gradient of cond and while_loop": [
        Case(gradients_of(_branches), _x_threshold, "cond"),
        Case(gradients_of(_loop), _x_count, "while"),
        Case(gradients_of(lambda x, k, limit: _limited_loop(x, k, limit)[1]), _x_count_limit,
             "while-limited")],
}
