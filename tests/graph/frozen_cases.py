"""What the op-case tables share: argument makers, ``Case`` and ``bind``.

The cases live in ``test_no_frozen_values.py`` and, for newer op families, in
``frozen_cases_*.py`` beside it (each defines ``CASES`` and ``RANDOM_CASES``), so that
adding a family of ops adds a file instead of growing one table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import neuroflow as tf

# --- argument makers: (rng, n) -> arrays; n sets the sizes, the rng the values ---------------


def floats(r, *shape, low=-2.0, high=2.0, dtype=np.float32):
    return r.uniform(low, high, shape).astype(dtype)


def positive(r, *shape):
    return floats(r, *shape, low=0.5, high=2.0)


def nonzero(r, *shape):
    """|x| in [0.3, 2]: away from the kinks and poles of abs, sign, reciprocal."""
    return (floats(r, *shape, low=0.3, high=2.0) * r.choice([-1, 1], shape)).astype(np.float32)


def distinct(r, *shape):
    """Values 0.25 apart in a random order: sort, argmax and top_k have no ties."""
    size = int(np.prod(shape))
    return r.permutation(np.arange(size) * 0.25 - size / 8).reshape(shape).astype(np.float32)


def ints(r, *shape, low=-5, high=6):
    return r.integers(low, high, shape).astype(np.int32)


def bools(r, *shape, p=0.5):
    return r.random(shape) < p


def scalar(value, dtype=np.int32):
    return np.asarray(value, dtype)


def with_specials(r, n):
    """Floats with a NaN, an inf and a -inf at positions that change between calls."""
    x = floats(r, n, 4)
    flat = x.reshape(-1)
    flat[r.choice(flat.size, 3, replace=False)] = [np.nan, np.inf, -np.inf]
    return (x,)


def x_(r, n):
    return (floats(r, n, 4),)


def xy(r, n):
    return (floats(r, n, 4), floats(r, n, 4))


def x_positive(r, n):
    return (positive(r, n, 4),)


def x_nonzero(r, n):
    return (nonzero(r, n, 4),)


def x_ints(r, n):
    return (ints(r, n, 4),)


def xy_ints(r, n):
    """Small integers, so comparisons see ties."""
    return (ints(r, n, 4, low=-2, high=3), ints(r, n, 4, low=-2, high=3))


def x_int_y_nonzero(r, n):
    divisor = ints(r, n, 4, low=1, high=4) * r.choice(np.asarray([-1, 1], np.int32), (n, 4))
    return (ints(r, n, 4, low=-9, high=10), divisor)


def xy_bools(r, n):
    return (bools(r, n, 4), bools(r, n, 4))


def x_bools(r, n):
    return (bools(r, n, 4),)


def x_distinct(r, n):
    return (distinct(r, n, 5),)


def x_complex(r, n):
    return ((floats(r, n, 3) + 1j * floats(r, n, 3)).astype(np.complex64),)


def labels_logits(r, n):
    return (r.integers(0, 5, n).astype(np.int32), floats(r, n, 5))


def probabilities_logits(r, n):
    p = positive(r, n, 5)
    return (p / p.sum(axis=1, keepdims=True), floats(r, n, 5))


def x_ab(r, n):
    """x with two scalar bounds, the lower below the upper."""
    low = r.uniform(-1.0, 0.0)
    return (floats(r, n, 4), scalar(low, np.float32), scalar(low + r.uniform(0.2, 1.5), np.float32))


def x_scalar(r, n, low=0.05, high=0.5):
    return (floats(r, n, 4), scalar(r.uniform(low, high), np.float32))


# --- cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """``fn(*tensors)`` for ``tensors`` made from ``make(rng, n)``.

    ``varies``: calls with the same sizes give different results (so a frozen value would
    show). False for results that depend on shapes only (tf.shape, tf.zeros_like): those
    follow sizes, checked by the call with other sizes and by ``SIGNATURE_CASES``.
    """

    fn: Callable
    make: Callable
    id: str = "default"
    varies: bool = True


def bind(op, **kwargs):
    return functools.partial(op, **kwargs) if kwargs else op


def _xent(op):
    return lambda labels, logits: op(labels=labels, logits=logits)


def gradients_of(fn):
    """The gradients of ``sum(fn(*args) * weights)`` with respect to the float arguments."""

    def grads(*args):
        floating = [a for a in args if a.dtype.is_floating]
        with tf.GradientTape() as tape:
            tape.watch(floating)
            y = fn(*args)
            # Weights that differ per element, so each gradient entry is distinct.
            weights = tf.reshape(tf.cast(tf.range(tf.size(y)), y.dtype), tf.shape(y))
            loss = tf.reduce_sum(y * tf.cos(weights))
        return tape.gradient(loss, floating)

    return grads
