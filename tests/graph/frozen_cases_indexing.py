"""Compiled-versus-eager cases of the index-tensor ops (neuroflow/ops/indexing.py).

Indices, segment ids, segment counts, scatter shapes, slice bounds and bincount lengths
are tensors whose values change between calls, so a value frozen into the graph would show.
"""

from __future__ import annotations

import numpy as np
from frozen_cases import Case, bind, floats, scalar

import neuroflow as tf


def _rows(r, n, high):
    return r.integers(0, high, (n, 1)).astype(np.int32)


def _pairs(r, n, shape=(4, 3)):
    return np.stack([r.integers(0, shape[0], n), r.integers(0, shape[1], n)], 1).astype(np.int32)


def _params_pairs(r, n):
    return (floats(r, 4, 3), _pairs(r, n))


def _batched(r, n):
    return (floats(r, n, 3, 2), r.integers(0, 3, (n, 2, 1)).astype(np.int64))


def _scatter_args(r, n):
    return (_rows(r, n, 5), floats(r, n, 2), np.asarray([r.integers(5, 7), 2], np.int32))


def _tensor_pairs_updates(r, n):
    return (floats(r, 4, 3), _pairs(r, n), floats(r, n))


def _segments(r, n):
    """Rows with ids in [-1, 4) (a negative id drops its row) and a count of 4 or 5."""
    return (floats(r, 2 * n, 2), r.integers(-1, 4, 2 * n).astype(np.int32),
            scalar(r.integers(4, 6)))


def _sorted_segments(r, n):
    return (floats(r, 2 * n, 2), np.sort(r.integers(0, 4, 2 * n)).astype(np.int32))


def _sorted_values(r, n):
    return (np.sort(floats(r, 2, 6), axis=1), floats(r, 2, n))


def _counts(r, n):
    return (r.integers(0, 6, 3 * n).astype(np.int32), scalar(r.integers(0, 9)))


def _permutation(r, n):
    return (r.permutation(n + 2).astype(np.int32),)


def _flat_indices(r, n):
    return (r.integers(0, 24, n).astype(np.int32), np.asarray([2, 3, 4], np.int32))


def _labels(r, n):
    return (r.integers(0, 4, 3 * n).astype(np.int32), r.integers(0, 4, 3 * n).astype(np.int32),
            scalar(r.integers(4, 6)))


def _slice_bounds(r, n):
    return (floats(r, n + 2, 4), np.asarray([r.integers(0, 2), r.integers(0, 2)], np.int32),
            np.asarray([r.integers(2, 6), r.choice([4, -1])], np.int32),
            np.asarray([r.choice([1, 2]), 1], np.int32))


CASES = {
    "tf.gather_nd": [Case(tf.gather_nd, _params_pairs),
                     Case(bind(tf.gather_nd, batch_dims=1), _batched, "batch-dims")],
    "tf.scatter_nd": [Case(tf.scatter_nd, _scatter_args)],
    "tf.tensor_scatter_nd_update": [Case(tf.tensor_scatter_nd_update, _tensor_pairs_updates)],
    "tf.tensor_scatter_nd_add": [Case(tf.tensor_scatter_nd_add, _tensor_pairs_updates)],
    "tf.tensor_scatter_nd_sub": [Case(tf.tensor_scatter_nd_sub, _tensor_pairs_updates)],
    "tf.tensor_scatter_nd_max": [Case(tf.tensor_scatter_nd_max, _tensor_pairs_updates)],
    "tf.tensor_scatter_nd_min": [Case(tf.tensor_scatter_nd_min, _tensor_pairs_updates)],
    "tf.math.unsorted_segment_sum": [Case(tf.math.unsorted_segment_sum, _segments)],
    "tf.math.unsorted_segment_prod": [Case(tf.math.unsorted_segment_prod, _segments)],
    "tf.math.unsorted_segment_max": [Case(tf.math.unsorted_segment_max, _segments)],
    "tf.math.unsorted_segment_min": [Case(tf.math.unsorted_segment_min, _segments)],
    "tf.math.unsorted_segment_mean": [Case(tf.math.unsorted_segment_mean, _segments)],
    "tf.math.unsorted_segment_sqrt_n": [Case(tf.math.unsorted_segment_sqrt_n, _segments)],
    "tf.math.segment_sum": [Case(tf.math.segment_sum, _sorted_segments)],
    "tf.math.segment_prod": [Case(tf.math.segment_prod, _sorted_segments)],
    "tf.math.segment_max": [Case(tf.math.segment_max, _sorted_segments)],
    "tf.math.segment_min": [Case(tf.math.segment_min, _sorted_segments)],
    "tf.math.segment_mean": [Case(tf.math.segment_mean, _sorted_segments)],
    "tf.searchsorted": [Case(tf.searchsorted, _sorted_values),
                        Case(bind(tf.searchsorted, side="right", out_type=tf.int64),
                             _sorted_values, "right")],
    "tf.math.bincount": [Case(lambda a, m: tf.math.bincount(a, minlength=m), _counts),
                         Case(lambda a, m: tf.math.bincount(a, weights=tf.cast(a, tf.float32),
                                                            maxlength=m), _counts,
                              "weights-maxlength")],
    "tf.unravel_index": [Case(tf.unravel_index, _flat_indices)],
    "tf.math.invert_permutation": [Case(tf.math.invert_permutation, _permutation)],
    "tf.math.confusion_matrix": [
        Case(lambda a, b, n: tf.math.confusion_matrix(a, b, num_classes=n), _labels),
        Case(lambda a, b, n: tf.math.confusion_matrix(a, b), _labels, "inferred-classes")],
    "tf.strided_slice": [
        Case(lambda x: tf.strided_slice(x, [1, 0], [-1, 4], [2, 1]), lambda r, n: (
            floats(r, n + 2, 4),)),
        Case(lambda x, b, e, s: tf.strided_slice(x, b, e, s, end_mask=2), _slice_bounds,
             "tensor-bounds"),
        Case(lambda x, b, e, s: tf.strided_slice(x, b, e, s, shrink_axis_mask=2,
                                                 new_axis_mask=4), _slice_bounds,
             "shrink-new-axis")],
}
