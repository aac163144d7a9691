"""Compiled-versus-eager cases of the arrangement ops (neuroflow/ops/arrangement.py).

Counts, shifts, lengths and shapes are tensors whose values change between calls, so a
value frozen into the graph would show.
"""

from __future__ import annotations

import numpy as np
from frozen_cases import Case, bind, floats, ints, scalar, x_, xy

import neuroflow as tf


def _small_ints(r, n):
    """Values with repeats, so unique has something to merge."""
    return (r.integers(0, 4, 2 * n).astype(np.int32),)


def _rows_counts(r, n):
    return (floats(r, n, 2), r.integers(0, 3, n).astype(np.int32))


def _rows_lengths(r, n):
    return (floats(r, n, 4), r.integers(0, 5, n).astype(np.int32))


def _two_shapes(r, n):
    return (np.asarray([r.integers(1, 5), 1, n], np.int32),
            np.asarray([r.integers(1, 5), 1], np.int32))


CASES = {
    "tf.unique": [Case(tf.unique, _small_ints),
                  Case(bind(tf.unique, out_idx=tf.int64), lambda r, n: (floats(r, n).round(),),
                       "float-int64")],
    "tf.unique_with_counts": [Case(tf.unique_with_counts, _small_ints)],
    "tf.repeat": [Case(bind(tf.repeat, axis=0), _rows_counts),
                  Case(tf.repeat, lambda r, n: (floats(r, n, 2), scalar(r.integers(0, 4))),
                       "scalar-count-flattened")],
    "tf.roll": [Case(lambda x, s: tf.roll(x, s, 1),
                     lambda r, n: (floats(r, n, 4), scalar(r.integers(-6, 6)))),
                Case(lambda x, s: tf.roll(x, s, [0, 1]),
                     lambda r, n: (floats(r, n, 4), ints(r, 2)), "two-axes")],
    "tf.meshgrid": [Case(lambda a, b: tf.meshgrid(a, b), lambda r, n: (floats(r, n),
                                                                       floats(r, 3))),
                    Case(lambda a, b: tf.meshgrid(a, b, indexing="ij"),
                         lambda r, n: (floats(r, 2), floats(r, n)), "ij")],
    "tf.sequence_mask": [Case(tf.sequence_mask, lambda r, n: (ints(r, n, low=0, high=6),)),
                         Case(lambda lengths, m: tf.sequence_mask(lengths, m, tf.float32),
                              lambda r, n: (ints(r, n, low=-1, high=5), scalar(r.integers(1, 6))),
                              "tensor-maxlen")],
    "tf.reverse_sequence": [Case(lambda x, n: tf.reverse_sequence(x, n, seq_axis=1),
                                 _rows_lengths)],
    "tf.identity_n": [Case(lambda x, y: tf.identity_n([x, y]), xy)],
    "tf.shape_n": [Case(lambda x, y: tf.shape_n([x, y[:1]], out_type=tf.int64), xy,
                        varies=False)],
    "tf.ensure_shape": [Case(bind(tf.ensure_shape, shape=[None, 4]), x_)],
    "tf.broadcast_dynamic_shape": [
        Case(tf.broadcast_dynamic_shape, _two_shapes),
        Case(lambda x, y: tf.zeros(tf.broadcast_dynamic_shape(tf.shape(x), tf.shape(y[:1]))),
             xy, "from-shapes", varies=False)],
    "tf.broadcast_static_shape": [
        Case(lambda x, y: tf.zeros(tf.broadcast_static_shape(x.shape, y[:1].shape)), xy,
             varies=False)],
    "tf.get_static_value": [Case(lambda x: tf.zeros(tf.get_static_value(tf.shape(x))), x_,
                                 varies=False)],
    "tf.parallel_stack": [Case(lambda x, y: tf.parallel_stack([x, y]), xy)],
}
