"""Compiled-versus-eager cases of the checks (``tf.debugging``, ``ops/checks.py``).

The checks pass for every value the makers give, so each call returns what eager code
returns; ``tests/test_debugging.py`` checks that a compiled check fails on every call whose
values break it.
"""

from __future__ import annotations

import numpy as np
from frozen_cases import Case, floats, positive, x_

import neuroflow as tf


def _checked_square(x):
    return tf.debugging.check_numerics(x * x, "square")


def _asserted(x, y):
    # y - x is always positive (see _x_above): every comparison holds, in every call.
    tf.debugging.assert_less(x, y, message="ordered")
    tf.debugging.assert_greater_equal(y, x)
    tf.debugging.assert_none_equal(x, y)
    tf.debugging.Assert(tf.reduce_all(x < y), [x, "x below y"])
    return y - x


def _x_above(r, n):
    x = floats(r, n, 3)
    return (x, x + positive(r, n, 3))


EXTRA_CASES = {
    "tf.debugging.check_numerics": [Case(_checked_square, x_)],
    "tf.debugging assertions": [Case(_asserted, _x_above)],
    "tf.debugging.assert_shapes": [Case(
        lambda x, y: (tf.debugging.assert_shapes([(x, ("N", 3)), (y, ("N", 3))]), x + y)[1],
        lambda r, n: (floats(r, n, 3), floats(r, n, 3).astype(np.float32)))],
}
