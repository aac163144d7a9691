"""Indexing by index tensors: gather_nd, scatters, segment reductions, searchsorted,
bincount, unravel_index, invert_permutation, confusion_matrix and strided_slice.

Values are checked against NumPy loops, gradients against finite differences, and every
error against TensorFlow's class (InvalidArgumentError where TensorFlow's CPU kernels
refuse indices) with a message saying what was wrong.
"""

from __future__ import annotations

import numpy as np
import pytest
from _opcheck import (
    Fwd,
    Grad,
    distinct,
    nonzero,
    params,
    raises_with_message,
    run_forward,
    run_gradient,
    run_second_derivative,
    smooth_params,
    uniform,
)

import neuroflow as tf
from neuroflow.abstract import AbstractArray, Dim
from neuroflow.errors import InvalidArgumentError, NotFoundError
from neuroflow.ops import indexing as ix

I32, I64 = np.int32, np.int64


def _gather_nd_ref(params, indices, batch_dims=0):
    if batch_dims:
        return np.stack([_gather_nd_ref(p, i, batch_dims - 1) for p, i in zip(params, indices)])
    return params[tuple(np.moveaxis(indices, -1, 0))]


def _scatter_ref(start, indices, updates, combine):
    out = np.array(start, copy=True)
    depth = indices.shape[-1]
    rest = out.shape[depth:]
    for row, update in zip(indices.reshape(-1, depth), updates.reshape((-1,) + rest)):
        out[tuple(row)] = combine(out[tuple(row)], update)
    return out


def _segment_ref(data, ids, n, combine, empty):
    rest = data.shape[ids.ndim:]
    flat, rows = ids.reshape(-1), data.reshape((-1,) + rest)
    out = []
    for s in range(n):
        chosen = rows[flat == s]
        out.append(combine(chosen, axis=0) if len(chosen) else np.full(rest, empty, data.dtype))
    return np.asarray(out, data.dtype).reshape((n,) + rest)


def _unsorted(op, combine, empty):
    return lambda d, i, n: _segment_ref(d, i, n, combine, empty)


def _sorted_ref(combine, empty=0):
    return lambda d, i: _segment_ref(d, i, int(i[-1]) + 1 if i.size else 0, combine, empty)


def _searchsorted_ref(seq, values, side="left"):
    rows = [np.searchsorted(s, v, side=side) for s, v in
            zip(seq.reshape(-1, seq.shape[-1]), values.reshape(-1, values.shape[-1]))]
    return np.asarray(rows, np.int32).reshape(values.shape)


SEGMENT_IDS = np.array([0, 2, 0, -1, 3, 2], I32)
SORTED_IDS = np.array([0, 0, 1, 3, 3, 3], I64)
FULL_IDS = np.array([0, 2, 0, -1, 1, 2], I32)

FORWARD = {
    "gather_nd": [
        Fwd(tf.gather_nd, _gather_nd_ref, (uniform(3, 4), np.array([[2, 1], [0, 3]], I32)),
            "elements"),
        Fwd(tf.gather_nd, _gather_nd_ref, (uniform(3, 4, 2), np.array([[[1], [2]]], I64)),
            "slices"),
        Fwd(tf.gather_nd, lambda p, i: np.broadcast_to(p, (2,) + p.shape),
            (uniform(2, 3), np.zeros((2, 0), I32)), "empty-index-rows"),
        Fwd(tf.gather_nd, _gather_nd_ref, (np.arange(6, dtype=I32).reshape(2, 3),
                                           np.array([[1, 2]], np.int16)), "int16-indices"),
        Fwd(lambda p, i: tf.gather_nd(p, i, batch_dims=1),
            lambda p, i: _gather_nd_ref(p, i, 1),
            (uniform(2, 3, 2), np.array([[[1], [0]], [[2], [2]]], I32)), "batch-dims"),
        Fwd(tf.gather_nd, lambda p, i: np.zeros((0, 4)), (uniform(3, 4), np.zeros((0, 1), I32)),
            "no-rows"),
    ],
    "scatter_nd": [
        Fwd(lambda i, u: tf.scatter_nd(i, u, [5]),
            lambda i, u: _scatter_ref(np.zeros(5), i, u, np.add),
            (np.array([[1], [1], [3]], I32), uniform(3)), "repeated", "float64"),
        Fwd(lambda i, u: tf.scatter_nd(i, u, tf.constant([4, 2])),
            lambda i, u: _scatter_ref(np.zeros((4, 2), I32), i, u, np.add),
            (np.array([[3], [0]], I64), np.array([[1, 2], [3, 4]], I32)), "rows-int", "int32"),
        Fwd(lambda i, u: tf.scatter_nd(i, u, [2, 2]),
            lambda i, u: np.array([[False, True], [False, False]]),
            (np.array([[0, 1], [0, 1]], I32), np.array([True, False])), "bool-or", "bool"),
        Fwd(lambda i, u, s: ix._scatter_nd(i, u, s, shape=(None,), batch_dims=0),
            lambda i, u, s: _scatter_ref(np.zeros(s[0]), i, u, np.add),
            (np.array([[2]], I32), uniform(1), np.array([4], I64)), "run-time-shape", "float64"),
    ],
    "tensor_scatter": [
        Fwd(tf.tensor_scatter_nd_update,
            lambda t, i, u: np.array([u[1], t[1], t[2]]),
            (uniform(3), np.array([[0], [0]], I32), uniform(2)), "update-last-wins"),
        Fwd(tf.tensor_scatter_nd_add, lambda t, i, u: _scatter_ref(t, i, u, np.add),
            (uniform(4, 2), np.array([[1], [3], [1]], I32), uniform(3, 2)), "add"),
        Fwd(tf.tensor_scatter_nd_sub, lambda t, i, u: _scatter_ref(t, i, u, np.subtract),
            (np.arange(4, dtype=I32), np.array([[1], [1]], I32), np.array([5, 6], I32)),
            "sub-int"),
        Fwd(tf.tensor_scatter_nd_max, lambda t, i, u: _scatter_ref(t, i, u, np.maximum),
            (uniform(3, 3), np.array([[0, 1], [2, 2], [0, 1]], I32), uniform(3)), "max"),
        Fwd(tf.tensor_scatter_nd_min, lambda t, i, u: _scatter_ref(t, i, u, np.minimum),
            (uniform(3), np.array([[0], [2]], I32), uniform(2)), "min"),
        Fwd(tf.tensor_scatter_nd_max, lambda t, i, u: np.array([1.0, np.nan]),
            (np.array([1.0, np.nan]), np.array([[0], [1]], I32), np.array([np.nan, 2.0])),
            "max-keeps-old-on-nan"),
        Fwd(tf.tensor_scatter_nd_update, lambda t, i, u: np.array([False, False]),
            (np.array([True, False]), np.array([[0]], I32), np.array([False])), "bool"),
        Fwd(tf.tensor_scatter_nd_add, lambda t, i, u: t,
            (uniform(3), np.zeros((0, 1), I32), uniform(0)), "no-updates"),
    ],
    "segment_reduce": [
        Fwd(lambda d, i: tf.math.unsorted_segment_sum(d, i, 5),
            lambda d, i: _unsorted("sum", np.sum, 0)(d, i, 5), (uniform(6, 2), SEGMENT_IDS),
            "unsorted-sum"),
        Fwd(lambda d, i: tf.math.unsorted_segment_prod(d, i, 4),
            lambda d, i: _unsorted("prod", np.prod, 1)(d, i, 4), (uniform(6), SEGMENT_IDS),
            "unsorted-prod"),
        Fwd(lambda d, i: tf.math.unsorted_segment_max(d, i, 5),
            lambda d, i: _unsorted("max", np.max, np.finfo(np.float64).min)(d, i, 5),
            (uniform(6), SEGMENT_IDS), "unsorted-max"),
        Fwd(lambda d, i: tf.math.unsorted_segment_min(d, i, 5),
            lambda d, i: _unsorted("min", np.min, np.iinfo(I32).max)(d, i, 5),
            (np.arange(6, dtype=I32), SEGMENT_IDS), "unsorted-min-int"),
        Fwd(lambda d, i: tf.math.unsorted_segment_sum(d, i, 3),
            lambda d, i: _unsorted("sum", np.sum, 0)(d, i, 3),
            (uniform(2, 3, 2), np.array([[0, 1, 1], [2, -1, 0]], I32)), "2d-ids"),
        Fwd(lambda d, i: tf.math.unsorted_segment_sum(d, i, tf.constant(4, tf.int64)),
            lambda d, i: _unsorted("sum", np.sum, 0)(d, i, 4), (uniform(6), SEGMENT_IDS),
            "tensor-count"),
        Fwd(lambda d, i, n: ix._segment_reduce(d, i, n, kind="sum", num_segments=None,
                                               sorted_ids=False),
            lambda d, i, n: _unsorted("sum", np.sum, 0)(d, i, int(n)),
            (uniform(6), SEGMENT_IDS, np.asarray(4, I32)), "run-time-count", "float64"),
        Fwd(tf.math.segment_sum, _sorted_ref(np.sum), (uniform(6, 2), SORTED_IDS),
            "sorted-sum"),
        Fwd(tf.math.segment_prod, _sorted_ref(np.prod, 1), (uniform(6), SORTED_IDS),
            "sorted-prod-empty-is-1"),
        Fwd(tf.math.segment_max, _sorted_ref(np.max), (uniform(6), SORTED_IDS), "sorted-max"),
        Fwd(tf.math.segment_min, _sorted_ref(np.min), (np.arange(6, dtype=np.int8), SORTED_IDS),
            "sorted-min-int8"),
        Fwd(tf.math.segment_mean, _sorted_ref(np.mean), (uniform(6, 3), SORTED_IDS),
            "sorted-mean"),
        Fwd(tf.math.segment_mean, lambda d, i: np.array([-3, 5], I32),
            (np.array([-3, -4, 5], I32), np.array([0, 0, 1], I32)), "sorted-mean-int-truncates"),
        Fwd(tf.math.segment_max, lambda d, i: np.array([1.0, 3.0]),
            (np.array([np.nan, 1.0, 3.0]), np.array([0, 0, 1], I32)), "sorted-max-nan-first"),
        Fwd(lambda d, i: tf.math.unsorted_segment_min(d, i, 3), lambda d, i: np.array(
            [[1.0, np.nan], [np.nan, -2.0], [np.finfo(np.float64).max] * 2]),
            (np.array([[np.nan, 2.0], [1.0, np.nan], [-1.0, np.nan], [np.nan, -2.0]]),
             np.array([0, 0, 1, 1], I32)), "min-after-last-nan"),
        Fwd(tf.math.segment_sum, lambda d, i: np.zeros(0),
            (uniform(0), np.zeros(0, I32)), "sorted-empty"),
    ],
    "searchsorted": [
        Fwd(tf.searchsorted, _searchsorted_ref,
            (np.sort(uniform(3, 5), axis=1), uniform(3, 4)), "left", "int32"),
        Fwd(lambda s, v: tf.searchsorted(s, v, side="right"),
            lambda s, v: _searchsorted_ref(s, v, "right"),
            (np.array([1, 2, 2, 2, 3], I32), np.array([2, 0, 9, 3], I32)), "right-ties", "int32"),
        Fwd(lambda s, v: tf.searchsorted(s, v, out_type=tf.int64),
            lambda s, v: _searchsorted_ref(s, v).astype(I64),
            (np.sort(uniform(2, 3, 4), axis=-1), uniform(6, 2)), "leading-rows-int64", "int64"),
        Fwd(tf.searchsorted, lambda s, v: np.array([0, 2], I32),
            (np.array([1.0, 2.0, np.nan]), np.array([np.nan, 5.0])), "nan-as-tensorflow",
            "int32"),
        Fwd(tf.searchsorted, lambda s, v: np.zeros((2, 3), I32),
            (np.zeros((2, 0)), uniform(2, 3)), "empty-rows", "int32"),
    ],
    "bincount": [
        Fwd(tf.math.bincount, lambda a: np.bincount(a).astype(I32),
            (np.array([1, 1, 3, 0, 7], I32),), "counts"),
        Fwd(lambda a, w: tf.math.bincount(a, weights=w),
            lambda a, w: np.bincount(a, w), (np.array([1, 1, 3], I32), uniform(3)), "weights",
            "float64"),
        Fwd(lambda a: tf.math.bincount(a, minlength=6, dtype=tf.float32),
            lambda a: np.bincount(a, minlength=6).astype(np.float32),
            (np.array([1, 1, 3], I64),), "minlength-float32", "float32"),
        Fwd(lambda a: tf.math.bincount(a, maxlength=2), lambda a: np.array([1, 2], I32),
            (np.array([1, 1, 3, 0], I32),), "maxlength"),
        Fwd(lambda a: tf.math.bincount(a, minlength=tf.constant(2), maxlength=tf.constant(2)),
            lambda a: np.array([0, 1], I32), (np.array([3, 1], I32),), "tensor-bounds"),
        Fwd(lambda a: tf.math.bincount(a, axis=-1),
            lambda a: np.array([[0, 2, 0, 0], [1, 0, 0, 1]], I32),
            (np.array([[1, 1], [3, 0]], I32),), "per-row"),
        Fwd(lambda a, w: tf.math.bincount(a, weights=w, axis=-1),
            lambda a, w: np.array([[0, 3, 0, 0], [4, 0, 0, 3]], I32),
            (np.array([[1, 1], [3, 0]], I32), np.array([[1, 2], [3, 4]], I32)),
            "per-row-weights"),
        Fwd(lambda a: tf.math.bincount(a, binary_output=True),
            lambda a: np.array([0, 1, 0, 1], I32), (np.array([1, 1, 3], I32),), "binary"),
        Fwd(tf.math.bincount, lambda a: np.zeros(0, I32), (np.zeros(0, I32),), "empty"),
        Fwd(tf.math.bincount, lambda a: np.array([0, 2], I32), (np.array([1.5, 1.0]),),
            "float-values-cast", "int32"),
    ],
    "unravel_index": [
        Fwd(lambda i: tf.unravel_index(i, [2, 4]), lambda i: np.stack(np.unravel_index(i, (2, 4))),
            (np.array([1, 5, 7], I32),), "vector"),
        Fwd(lambda i, d: tf.unravel_index(i, d), lambda i, d: np.stack(np.unravel_index(i, d)),
            (np.asarray(17, I64), np.array([3, 4, 2], I64)), "scalar-int64"),
        Fwd(lambda i: tf.unravel_index(i, [2, 4]), lambda i: np.array([[0], [-1]], I32),
            (np.array([-1], I32),), "negative-as-tensorflow"),
    ],
    "invert_permutation": [
        Fwd(tf.math.invert_permutation, np.argsort, (np.array([3, 4, 0, 2, 1], I32),),
            "int32"),
        Fwd(tf.math.invert_permutation, np.argsort, (np.array([1, 0], I64),), "int64"),
        Fwd(tf.math.invert_permutation, np.argsort, (np.zeros(0, I32),), "empty"),
    ],
}

GRADIENTS = {
    "gather_nd": [
        Grad(lambda p: tf.gather_nd(p, [[2, 1], [0, 3], [2, 1]]), (uniform(3, 4),),
             "repeated-elements"),
        Grad(lambda p: tf.gather_nd(p, [[[1], [0]], [[2], [2]]], batch_dims=1),
             (uniform(2, 3, 2),), "batch-dims"),
    ],
    "scatter_nd": [
        Grad(lambda u: tf.scatter_nd([[1, 0], [1, 0], [0, 2]], u, [2, 3]), (uniform(3),),
             "repeated"),
    ],
    "tensor_scatter": [
        Grad(lambda t, u: tf.tensor_scatter_nd_update(t, [[0], [2]], u), (uniform(4, 2),
             uniform(2, 2)), "update"),
        Grad(lambda t, u: tf.tensor_scatter_nd_add(t, [[1], [1]], u), (uniform(3), uniform(2)),
             "add"),
        Grad(lambda t, u: tf.tensor_scatter_nd_sub(t, [[1], [0]], u), (uniform(3), uniform(2)),
             "sub"),
        Grad(lambda t, u: tf.tensor_scatter_nd_max(t, [[0], [2], [0]], u),
             (distinct(4), distinct(3)), "max"),
        Grad(lambda t, u: tf.tensor_scatter_nd_min(t, [[1], [3]], u),
             (distinct(4), distinct(2)), "min"),
    ],
    "segment_reduce": [
        Grad(lambda d: tf.math.unsorted_segment_sum(d, SEGMENT_IDS, 5), (uniform(6, 2),),
             "unsorted-sum"),
        Grad(lambda d: tf.math.unsorted_segment_prod(d, SEGMENT_IDS, 4), (nonzero(6),),
             "unsorted-prod"),
        Grad(lambda d: tf.math.unsorted_segment_prod(d, SORTED_IDS, 4),
             (np.array([0.0, 1.5, 0.0, 0.0, 2.0, -1.2]),), "prod-with-zeros", False),
        Grad(lambda d: tf.math.segment_prod(d, SORTED_IDS),
             (np.array([0.7, 0.0, 0.3, 2.0, 0.0, -1.2]),), "sorted-prod-one-zero", False),
        # Every segment holds a row: an empty one would hold the dtype's lowest value.
        Grad(lambda d: tf.math.unsorted_segment_max(d, FULL_IDS, 3), (distinct(6, 2),),
             "unsorted-max"),
        Grad(lambda d: tf.math.unsorted_segment_min(d, FULL_IDS, 3), (distinct(6),),
             "unsorted-min"),
        Grad(lambda d: tf.math.segment_max(d, SORTED_IDS), (distinct(6),), "sorted-max"),
        Grad(lambda d: tf.math.segment_mean(d, SORTED_IDS), (uniform(6, 2),), "sorted-mean"),
        Grad(lambda d: tf.math.segment_sum(d, SORTED_IDS), (uniform(6),), "sorted-sum"),
        Grad(lambda d: tf.math.unsorted_segment_mean(d, SEGMENT_IDS, 5), (uniform(6, 2),),
             "unsorted-mean"),
        Grad(lambda d: tf.math.unsorted_segment_sqrt_n(d, SEGMENT_IDS, 5), (uniform(6),),
             "unsorted-sqrt-n"),
    ],
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


# --- composites --------------------------------------------------------------------------


def test_tied_maxima_share_the_gradient_as_in_tensorflow():
    data = tf.constant([2.0, 2.0, 1.0, 3.0, 5.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(data)
        out = tf.math.unsorted_segment_max(data, [0, 0, 1, 1, -1, 2], 4)
    np.testing.assert_allclose(tape.gradient(out, data), [0.5, 0.5, 0, 1, 0, 1])
    x, u = tf.constant([1.0, 2.0, 3.0]), tf.constant([5.0, 5.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch([x, u])
        out = tf.tensor_scatter_nd_max(x, [[0], [0], [2]], u)
    gx, gu = tape.gradient(out, [x, u])
    np.testing.assert_allclose(gx, [0, 1, 0.5])
    np.testing.assert_allclose(gu, [0.5, 0.5, 0.5])


def test_unsorted_means_of_integers_are_floats_as_in_tensorflow():
    out = tf.math.unsorted_segment_mean([1, 2, 4], [0, 0, 2], 3)
    assert out.dtype == tf.float64
    np.testing.assert_allclose(out, [1.5, 0.0, 4.0])
    np.testing.assert_allclose(tf.math.unsorted_segment_sqrt_n([1.0, 2.0, 4.0], [0, 0, 2], 3),
                               [3 / np.sqrt(2), 0, 4])


@pytest.mark.parametrize("weights, dtype, expected", [
    (None, tf.int32, [[0, 0, 0], [0, 0, 1], [0, 0, 1]]),
    ([0.5, 1.5], tf.float32, [[0, 0, 0], [0, 0, 0.5], [0, 0, 1.5]]),
    ([0.5, 1.5], tf.int32, [[0, 0, 0], [0, 0, 0], [0, 0, 1]]),
])
def test_confusion_matrix(weights, dtype, expected):
    out = tf.math.confusion_matrix([1, 2], [2.0, 2.0], weights=weights, dtype=dtype)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected)
    wide = tf.math.confusion_matrix(tf.constant([1, 2], tf.int64), [2, 2], num_classes=4)
    assert wide.shape == (4, 4) and int(wide[2, 2]) == 1


def test_confusion_matrix_gradient_reaches_the_weights():
    weights = tf.constant([1.0, 2.0], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(weights)
        out = tf.math.confusion_matrix([1, 0], [1, 1], weights=weights, dtype=tf.float64)
    np.testing.assert_allclose(tape.gradient(out, weights), [1.0, 1.0])


STRIDED = [
    (dict(begin=[0, 1], end=[2, 3], strides=[1, 1]), np.s_[0:2, 1:3]),
    (dict(begin=[1, 0], end=[2, 2], strides=[1, 1], shrink_axis_mask=1), np.s_[1, 0:2]),
    (dict(begin=[0, 1], end=[0, 3], strides=[1, 1], ellipsis_mask=1), np.s_[..., 1:3]),
    (dict(begin=[0, 0], end=[0, 1], strides=[1, 1], new_axis_mask=1), np.s_[None, 0:1]),
    (dict(begin=[-1, -1], end=[-3, -4], strides=[-1, -2]), np.s_[-1:-3:-1, -1:-4:-2]),
    (dict(begin=[5, 5], end=[0, 0], strides=[1, 1], begin_mask=1, end_mask=3), np.s_[:, 5:]),
    (dict(begin=[0], end=[1], strides=[1], shrink_axis_mask=1, new_axis_mask=1), np.s_[None]),
    (dict(begin=[0, 0], end=[1, 1], strides=[1, 1], ellipsis_mask=1, new_axis_mask=1),
     np.s_[..., 0:1]),
    (dict(begin=[0, 1], end=[1, 2]), np.s_[0:1, 1:2]),
    (dict(begin=[1], end=[0], strides=[2], shrink_axis_mask=1), np.s_[1]),
    (dict(begin=np.array([0], I64), end=np.array([9], I64), strides=np.array([2], I64)),
     np.s_[0:9:2]),
]


@pytest.mark.parametrize("kwargs, key", STRIDED, ids=[str(k) for _, k in STRIDED])
def test_strided_slice(kwargs, key):
    x = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(tf.strided_slice(tf.constant(x), **kwargs), x[key])


def test_strided_slice_gradient_and_tensor_bounds_in_a_function():
    check = Grad(lambda t: tf.strided_slice(t, [1, -1], [3, 0], [1, -1]), (uniform(4, 3),), "")
    run_gradient("getitem", check)

    @tf.function
    def cut(x, begin, end, strides):
        return tf.strided_slice(x, begin, end, strides, shrink_axis_mask=2)

    x = np.arange(20.0).reshape(5, 4)
    for begin, end, strides in (([1, 2], [4, 3], [2, 1]), ([4, 0], [0, 1], [-1, 1])):
        got = cut(tf.constant(x), tf.constant(begin), tf.constant(end), tf.constant(strides))
        np.testing.assert_array_equal(got, x[begin[0]:end[0]:strides[0], begin[1]])
    assert cut.experimental_get_tracing_count() == 1


def test_segment_count_and_shape_from_tensors_in_a_function():
    @tf.function
    def segments(d, ids, n):
        return tf.math.unsorted_segment_sum(d, ids, n), tf.math.segment_sum(d, ids)

    for ids, n in (([0, 0, 2], 3), ([0, 1, 1], 5)):
        data = np.array([1.0, 2.0, 4.0])
        total, by_sorted = segments(tf.constant(data), tf.constant(ids), tf.constant(n))
        np.testing.assert_allclose(total, _unsorted("sum", np.sum, 0)(data, np.array(ids), n))
        np.testing.assert_allclose(by_sorted, _sorted_ref(np.sum)(data, np.array(ids)))


# --- errors ----------------------------------------------------------------------------


def _abstract(shape, dtype):
    return AbstractArray(tuple(shape), np.dtype(dtype))


ERRORS = [
    # gather_nd
    (InvalidArgumentError, lambda: tf.gather_nd([[1.0, 2.0], [3.0, 4.0]], [[2, 0]]),
     ["indices[0] = [2, 0] does not index into param shape [2, 2]"]),
    (InvalidArgumentError, lambda: tf.gather_nd([[1.0, 2.0]], [[-1, 0]]), ["indices[0]"]),
    (InvalidArgumentError, lambda: tf.gather_nd([[1.0, 2.0]], [[0, 0, 0]]),
     ["innermost dimension length must be <="]),
    (TypeError, lambda: tf.gather_nd([1.0], [[0.0]]), ["int32 or int64"]),
    (InvalidArgumentError, lambda: tf.gather_nd([1.0], [[0.0]]), ["tf.cast"]),
    (InvalidArgumentError, lambda: tf.gather_nd([1.0, 2.0], 0), ["rank at least 1"]),
    (InvalidArgumentError, lambda: tf.gather_nd(tf.zeros([2, 3]), tf.zeros([3, 1], tf.int32),
                                                batch_dims=1), ["batch dimension 0"]),
    (ValueError, lambda: tf.gather_nd(tf.zeros([2, 3]), [[0]], batch_dims=-1),
     ["must be non-negative"]),
    (ValueError, lambda: tf.gather_nd(tf.zeros([2, 3]), [[0]], batch_dims=2),
     ["batch_dims = 2"]),
    (TypeError, lambda: tf.gather_nd(tf.zeros([2, 3]), [[0]], batch_dims=0.5),
     ["batch_dims must be an integer"]),
    # scatter_nd
    (InvalidArgumentError, lambda: tf.scatter_nd([[5]], [1.0], [5]),
     ["indices[0] = [5] does not index into shape [5]"]),
    (InvalidArgumentError, lambda: tf.scatter_nd([[1]], [1.0, 2.0], [5]),
     ["updates must have shape", "[1]", "[2]"]),
    (InvalidArgumentError, lambda: tf.scatter_nd([[1]], [1.0], [-2]), ["non-negative"]),
    (InvalidArgumentError, lambda: tf.scatter_nd([1, 3], 5.0, [4, 4]),
     ["single index", "rank >= 2"]),
    (InvalidArgumentError, lambda: tf.scatter_nd([[1]], tf.zeros([1, 0]), [2, 0]),
     ["empty output shape [2, 0]"]),
    (InvalidArgumentError, lambda: tf.tensor_scatter_nd_add(
        [1.0, 2.0, 3.0], tf.zeros([1, 0], tf.int32), [[1.0, 2.0, 3.0]]), ["depth >= 1"]),
    (InvalidArgumentError, lambda: tf.gather_nd(tf.zeros([1, 0]), [[0]]),
     ["params is empty"]),
    (InvalidArgumentError, lambda: ix._scatter_nd(tf.constant([[1]]), tf.constant([1.0]),
                                                  tf.constant([-3]), shape=(None,),
                                                  batch_dims=0), ["non-negative"]),
    (InvalidArgumentError, lambda: ix._scatter_nd(tf.constant([[1]]), tf.constant([1.0, 2.0]),
                                                  shape=(4,), batch_dims=0),
     ["updates must have shape"]),
    # tensor_scatter_nd_*
    (InvalidArgumentError, lambda: tf.tensor_scatter_nd_update([1.0, 2.0], [[3]], [5.0]),
     ["indices[0] = [3]", "[2]"]),
    (InvalidArgumentError, lambda: tf.tensor_scatter_nd_add([1.0, 2.0], [[0]], [5.0, 1.0]),
     ["updates must have shape"]),
    (NotFoundError, lambda: tf.tensor_scatter_nd_max([True, False], [[0]], [False]),
     ["no kernel for dtype bool"]),
    (NotFoundError, lambda: tf.tensor_scatter_nd_add([True], [[0]], [False]), ["bool"]),
    (TypeError, lambda: tf.tensor_scatter_nd_add([1.0], [[0]], tf.constant([1])),
     ["dtype"]),
    # segment reductions
    (InvalidArgumentError, lambda: tf.math.unsorted_segment_sum([1.0, 2.0], [0, 5], 4),
     ["segment_ids[1] = 5 is out of range [0, 4)"]),
    (InvalidArgumentError, lambda: tf.math.unsorted_segment_sum([1.0], [0], 1.0),
     ["num_segments must be an int32 or int64 count"]),
    (InvalidArgumentError, lambda: tf.math.unsorted_segment_sum([1.0], [0], -1),
     ["num_segments == -1 must not be negative"]),
    (InvalidArgumentError, lambda: ix._segment_reduce(
        tf.constant([1.0]), tf.constant([0]), tf.constant(-2), kind="sum", num_segments=None,
        sorted_ids=False), ["num_segments == -2"]),
    (InvalidArgumentError, lambda: tf.math.unsorted_segment_sum([[1.0, 2.0]], [0, 1, 1], 2),
     ["does not start with segment_ids.shape"]),
    (InvalidArgumentError, lambda: tf.math.unsorted_segment_sum([1.0], [[0]], 2),
     ["higher rank than data"]),
    (InvalidArgumentError, lambda: tf.math.unsorted_segment_sum([True], [0], 2),
     ["dtype bool is not supported"]),
    (TypeError, lambda: tf.math.unsorted_segment_max(tf.constant([1j]), [0], 2),
     ["complex128", "real"]),
    (InvalidArgumentError, lambda: tf.math.unsorted_segment_sum([1.0], [0.0], 1),
     ["segment_ids must be int32 or int64"]),
    (InvalidArgumentError, lambda: tf.math.unsorted_segment_sqrt_n([1, 2], [0, 0], 1),
     ["must be floating point"]),
    (InvalidArgumentError, lambda: tf.math.segment_sum([1.0, 2.0, 3.0], [0, 2, 1]),
     ["segment ids are not increasing", "unsorted_segment_sum"]),
    (InvalidArgumentError, lambda: tf.math.segment_sum([1.0, 2.0], [-1, 0]),
     ["segment id -1 is out of range"]),
    (InvalidArgumentError, lambda: tf.math.segment_sum([1.0, 2.0, 3.0], [0, 0]),
     ["should be the same size as dimension 0"]),
    (InvalidArgumentError, lambda: tf.math.segment_sum([[1.0, 2.0]], [[0, 0]]),
     ["segment_ids should be a vector"]),
    # searchsorted
    (InvalidArgumentError, lambda: tf.searchsorted([[1.0, 2.0, 3.0]], [[2.0], [3.0]]),
     ["Leading dim_size of both tensors must match"]),
    (InvalidArgumentError, lambda: tf.searchsorted([1.0, 2.0], 2.0), ["rank >= 1"]),
    (TypeError, lambda: tf.searchsorted([1.0, 2.0], [2]), ["values has dtype int32"]),
    (NotFoundError, lambda: tf.searchsorted([False, True], [True]), ["no kernel for dtype bool"]),
    (ValueError, lambda: tf.searchsorted([1.0], [1.0], side="middle"),
     ["must be either 'right' or 'left'"]),
    (InvalidArgumentError, lambda: tf.searchsorted([1.0], [1.0], out_type=tf.float32),
     ["out_type must be int32 or int64"]),
    # bincount
    (InvalidArgumentError, lambda: tf.math.bincount([1, -1]), ["must be non-negative"]),
    (InvalidArgumentError, lambda: tf.math.bincount([1, 1], weights=[1.0]),
     ["`weights` must be the same shape as `arr`"]),
    (ValueError, lambda: tf.math.bincount([[1]], axis=1), ["Only 0 and -1"]),
    (InvalidArgumentError, lambda: tf.math.bincount([[[1]]], axis=-1), ["2-D arr"]),
    (TypeError, lambda: tf.math.bincount([1], weights=[True]), ["weights must be"]),
    (InvalidArgumentError, lambda: tf.math.bincount(tf.constant([1], tf.uint8)),
     ["arr must be int32 or int64", "uint8"]),
    # unravel_index
    (InvalidArgumentError, lambda: tf.unravel_index([8], [2, 4]), ["out of bound"]),
    (InvalidArgumentError, lambda: tf.unravel_index(tf.zeros([0], tf.int32), [2]),
     ["empty tensor indices"]),
    (InvalidArgumentError, lambda: tf.unravel_index([[1, 5]], [2, 4]),
     ["can only be scalar or vector"]),
    (InvalidArgumentError, lambda: tf.unravel_index([0], [0, 4]),
     ["cannot contain a dim of zero"]),
    (InvalidArgumentError, lambda: tf.unravel_index([0], [-2, 4]), ["cannot be negative"]),
    (InvalidArgumentError, lambda: tf.unravel_index([0], [[2]]), ["dims must be a vector"]),
    (TypeError, lambda: tf.unravel_index(tf.constant([1], tf.int64), tf.constant([2])),
     ["same dtype"]),
    (TypeError, lambda: tf.unravel_index(tf.constant([1], tf.int16), [2]),
     ["int32 or int64"]),
    # invert_permutation
    (InvalidArgumentError, lambda: tf.math.invert_permutation([0, 0]),
     ["0 is duplicated in the input"]),
    (InvalidArgumentError, lambda: tf.math.invert_permutation([0, 2]),
     ["2 is not between 0 and 2"]),
    (InvalidArgumentError, lambda: tf.math.invert_permutation([[0]]), ["1D vector"]),
    (TypeError, lambda: tf.math.invert_permutation(tf.constant([0], tf.int16)),
     ["int32 or int64"]),
    # confusion_matrix
    (InvalidArgumentError, lambda: tf.math.confusion_matrix([1, 2, 4], [2, 2, 4],
                                                            num_classes=3),
     ["`labels` out of bound", "num_classes = 3"]),
    (InvalidArgumentError, lambda: tf.math.confusion_matrix([1, -2], [2, 2]),
     ["`labels` contains negative values"]),
    (InvalidArgumentError, lambda: tf.math.confusion_matrix([1, 2], [2, 2, 4]),
     ["same length", "2 and 3"]),
    (InvalidArgumentError, lambda: tf.math.confusion_matrix([[1]], [[2]]),
     ["labels must be a vector"]),
    (InvalidArgumentError, lambda: tf.math.confusion_matrix(tf.zeros([0], tf.int32),
                                                            tf.zeros([0], tf.int32)),
     ["cannot be inferred from empty labels"]),
    # strided_slice
    (InvalidArgumentError, lambda: tf.strided_slice(tf.zeros([2, 3]), [2], [3], [1],
                                                    shrink_axis_mask=1), ["out of bounds"]),
    (InvalidArgumentError, lambda: tf.strided_slice(tf.zeros([2, 3]), [0], [1], [0]),
     ["step cannot be zero"]),
    (InvalidArgumentError, lambda: tf.strided_slice(tf.zeros([2, 3]), [0, 1], [1], [1]),
     ["equal size", "2, 1 and 1"]),
    (InvalidArgumentError, lambda: tf.strided_slice(tf.zeros([2, 3]), [0, 0, 0], [1, 1, 1]),
     ["Too many indices"]),
    (InvalidArgumentError, lambda: tf.strided_slice(tf.constant(3.0), [0], [1]),
     ["slice scalar input"]),
    (InvalidArgumentError, lambda: tf.strided_slice(tf.zeros([2, 3]), [[0]], [[1]]),
     ["1D tensors", "begin has shape [1, 1]"]),
    (InvalidArgumentError, lambda: tf.strided_slice(tf.zeros([2, 3]), tf.constant([[0]]), [1]),
     ["1D tensors", "begin has shape [1, 1]"]),
    (TypeError, lambda: tf.strided_slice(tf.zeros([2, 3]), [0.0], [1.0]),
     ["begin must hold integers"]),
    (TypeError, lambda: tf.strided_slice(tf.zeros([2]), tf.constant([0.0]), [1]),
     ["begin must be int32 or int64"]),
    (InvalidArgumentError, lambda: tf.strided_slice(tf.zeros([2, 3]), [0, 0], [1, 1], [1, 1],
                                                    ellipsis_mask=3), ["single ellipsis"]),
    (InvalidArgumentError, lambda: tf.strided_slice(tf.zeros([2, 3]), [1], [0], [-1],
                                                    shrink_axis_mask=1),
     ["only stride 1 allowed on non-range indexing"]),
]


@pytest.mark.parametrize("error, make, fragments", ERRORS,
                         ids=[f"{i}-{f[0][:30]}" for i, (_, _, f) in enumerate(ERRORS)])
def test_errors(error, make, fragments):
    raises_with_message(error, make, *fragments)


# Shape rules refuse, while tracing, what the forwards refuse when they run.
SHAPE_ERRORS = [
    ("gather_nd", lambda: ix._gather_nd.abstract_eval(
        [_abstract([3], "f4"), _abstract([1, 1], "f4")], {"batch_dims": 0}), "integers"),
    ("gather_nd-depth", lambda: ix._gather_nd.abstract_eval(
        [_abstract([3], "f4"), _abstract([1, Dim.fresh()], "i4")], {"batch_dims": 0}),
     "must be known"),
    ("scatter_nd", lambda: ix._scatter_nd.abstract_eval(
        [_abstract([1, 1], "f4"), _abstract([1], "f4")], {"shape": (3,), "batch_dims": 0}),
     "integers"),
    ("scatter_nd-sizes", lambda: ix._scatter_nd.abstract_eval(
        [_abstract([1, 1], "i4"), _abstract([1], "f4"), _abstract([1], "f4")],
        {"shape": (None,), "batch_dims": 0}), "vector of integers"),
    ("tensor_scatter", lambda: ix._tensor_scatter.abstract_eval(
        [_abstract([3], "f4"), _abstract([1, 1], "f4"), _abstract([1], "f4")],
        {"mode": "add"}), "integers"),
    ("segment_reduce-ids", lambda: ix._segment_reduce.abstract_eval(
        [_abstract([3], "f4"), _abstract([3], "f4")],
        {"kind": "sum", "num_segments": 2, "sorted_ids": False}), "integers"),
    ("segment_reduce-vector", lambda: ix._segment_reduce.abstract_eval(
        [_abstract([3, 1], "f4"), _abstract([3, 1], "i4")],
        {"kind": "sum", "num_segments": None, "sorted_ids": True}), "vector"),
    ("segment_reduce-prefix", lambda: ix._segment_reduce.abstract_eval(
        [_abstract([3], "f4"), _abstract([2], "i4")],
        {"kind": "sum", "num_segments": 2, "sorted_ids": False}), "does not start"),
    ("searchsorted", lambda: ix._searchsorted.abstract_eval(
        [_abstract([], "f4"), _abstract([1], "f4")],
        {"side": "left", "out_type": np.dtype("i4")}), "rank >= 1"),
    ("unravel_index", lambda: ix._unravel_index.abstract_eval(
        [_abstract([1], "i4"), _abstract([1, 2], "i4")], {}), "vector"),
    ("invert_permutation", lambda: ix._invert_permutation.abstract_eval(
        [_abstract([1, 2], "i4")], {}), "1D vector"),
]


@pytest.mark.parametrize("make, fragment", [(m, f) for _, m, f in SHAPE_ERRORS],
                         ids=[n for n, _, _ in SHAPE_ERRORS])
def test_shape_rules_refuse(make, fragment):
    raises_with_message(ValueError, make, fragment)


def test_traced_arguments_that_must_be_known_are_refused_clearly():
    @tf.function
    def cut(x, begin):
        return tf.strided_slice(x, begin, [3])

    begin = tf.function(lambda x, b: cut(x, tf.boolean_mask(b, b >= 0)))
    raises_with_message(ValueError, lambda: begin(tf.zeros([4]), tf.constant([1])),
                        "length known when the function is traced")


# Each op traced once with unknown sizes (TensorSpec None) serves every size, as eagerly.
def _unknown_size_ops(x, ids):
    count = tf.shape(x)[0]
    rows = tf.reshape(ids, [-1, 1])
    return (tf.gather_nd(x, tf.stack([ids, tf.zeros_like(ids)], 1)),
            tf.scatter_nd(rows, x, tf.shape(x)),
            tf.tensor_scatter_nd_max(x, rows, x * 2.0),
            tf.math.unsorted_segment_mean(x, ids, count),
            tf.math.segment_max(x, tf.sort(ids)),
            tf.searchsorted(tf.sort(x[:, 0]), x[:, 1]),
            tf.math.bincount(ids, minlength=count),
            tf.unravel_index(ids, tf.stack([count, 1])),
            tf.math.invert_permutation(tf.argsort(ids)),
            tf.math.confusion_matrix(ids, tf.reverse(ids, [0])),
            tf.strided_slice(x, [1, 0], tf.stack([count, 1]), [2, 1], shrink_axis_mask=2))


def test_one_trace_with_unknown_sizes_serves_every_size():
    traced = tf.function(_unknown_size_ops, input_signature=[
        tf.TensorSpec([None, 2], tf.float32), tf.TensorSpec([None], tf.int32)])
    r = np.random.default_rng(3)
    for n in (3, 5, 4):
        x = tf.constant(r.normal(size=(n, 2)).astype(np.float32))
        ids = tf.constant(r.integers(0, n, n).astype(np.int32))
        for got, want in zip(traced(x, ids), _unknown_size_ops(x, ids)):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6)
    assert traced.experimental_get_tracing_count() == 1


def test_shrinking_with_a_run_time_stride_below_one_is_refused_when_it_runs():
    cut = tf.function(lambda x, s: tf.strided_slice(x, [1], [2], s, shrink_axis_mask=1))
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(cut(x, tf.constant([1])), [3.0, 4.0])
    with pytest.raises(InvalidArgumentError):
        cut(x, tf.constant([-1]))
