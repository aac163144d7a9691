"""Arrangement ops (unique, repeat, roll, meshgrid, sequence masks, ...): values vs NumPy,
gradients vs finite differences, and the errors TensorFlow raises."""

from __future__ import annotations

import numpy as np
import pytest
from _opcheck import (
    Fwd,
    Grad,
    ints,
    params,
    raises_with_message,
    run_forward,
    run_gradient,
    run_second_derivative,
    smooth_params,
    uniform,
)

import neuroflow as tf
from neuroflow.autodiff.gradcheck import check_gradients
from neuroflow.ops import arrangement as ar


def _np_unique(x):
    """Unique values in order of first appearance, the index of each element, counts."""
    values, index, counts = [], [], []
    for v in x.tolist():
        for k, seen in enumerate(values):
            if seen == v:  # NaN never equals anything: each NaN is its own value
                index.append(k)
                counts[k] += 1
                break
        else:
            index.append(len(values))
            values.append(v)
            counts.append(1)
    return np.asarray(values, x.dtype), np.asarray(index), np.asarray(counts)


def _np_reverse_sequence(x, lengths, seq_axis, batch_axis):
    out = np.moveaxis(x, (batch_axis, seq_axis), (0, 1)).copy()
    for b, n in enumerate(lengths):
        out[b, :n] = out[b, :n][::-1]
    return np.moveaxis(out, (0, 1), (batch_axis, seq_axis))


VECTORS = [np.array([1, 1, 5, 2, 5], np.int32), np.array([0.0, -0.0, np.nan, 2.0, np.nan]),
           np.array([True, False, True]), np.array([], np.float32)]

FORWARD = {
    "unique_values": [Fwd(lambda t: tf.unique(t).y, lambda v: _np_unique(v)[0], (v,),
                          f"{v.dtype.name}-{v.size}") for v in VECTORS],
    "unique_index": [Fwd(lambda t, d=d: tf.unique(t, out_idx=d).idx,
                         lambda v, d=d: _np_unique(v)[1].astype(d), (v,),
                         f"{v.dtype.name}-{v.size}-{d}", dtype=d)
                     for v in VECTORS for d in ("int32", "int64")],
    "unique_counts": [Fwd(lambda t: tf.unique_with_counts(t).count,
                          lambda v: _np_unique(v)[2].astype(np.int32), (v,),
                          f"{v.dtype.name}-{v.size}", dtype="int32") for v in VECTORS],
    "repeat_positions": [Fwd(lambda r, n: ar._repeat_positions(r, n),
                             lambda r, n: np.repeat(np.arange(n), r), (r, np.int64(3)),
                             f"repeats-{r.tolist()}", dtype="int64")
                         for r in (np.array([2, 0, 1], np.int32), np.asarray(np.int64(2)),
                                   np.array([3], np.int32))],
    "roll": [Fwd(lambda t, s, a=a: tf.roll(t, s, a), lambda v, s, a=a: np.roll(v, s, a),
                 (x, s), f"{x.shape}-{s.tolist()}-{a}")
             for x, s, a in ((uniform(5), np.asarray(np.int32(2)), 0),
                             (ints(3, 4), np.array([1, -5], np.int32), [0, 1]),
                             (uniform(3, 4), np.array([1, 2], np.int64), [1, 1]),
                             (uniform(0, 2), np.asarray(np.int32(1)), 0),
                             (uniform(2, 3), np.asarray(np.int32(0)), -1))],
    "reverse_sequence": [
        Fwd(lambda t, n, s=s, b=b: tf.reverse_sequence(t, n, seq_axis=s, batch_axis=b),
            lambda v, n, s=s, b=b: _np_reverse_sequence(v, n, s, b), (x, n), f"{x.shape}-{s}{b}")
        for x, n, s, b in ((uniform(3, 4), np.array([2, 4, 0], np.int32), 1, 0),
                           (ints(4, 2, 3), np.array([3, 1], np.int64), 0, 1),
                           (uniform(2, 3, 2), np.array([1, 2], np.int32), 1, 0))],
    "ensure_shape": [Fwd(lambda t: tf.ensure_shape(t, [2, None]), lambda v: v, (uniform(2, 3),),
                         "partial"),
                     Fwd(lambda t: tf.ensure_shape(t, tf.TensorShape([3])), lambda v: v,
                         (ints(3),), "tensorshape")],
    "broadcast_shapes": [Fwd(tf.broadcast_dynamic_shape,
                             lambda a, b: np.array(np.broadcast_shapes(tuple(a), tuple(b)),
                                                   a.dtype), (a, b), f"{a.tolist()}-{b.tolist()}")
                         for a, b in ((np.array([2, 1, 3], np.int32), np.array([4, 1], np.int32)),
                                      (np.array([0, 1], np.int64), np.array([5], np.int64)),
                                      (np.array([], np.int32), np.array([3], np.int32)))],
}

GRADIENTS = {
    "roll": [Grad(lambda t: tf.roll(t, [1, -2], [0, 1]), (uniform(3, 4),), "two-axes"),
             Grad(lambda t: tf.roll(t, tf.constant(2), 0), (uniform(5),), "tensor-shift")],
    "reverse_sequence": [Grad(lambda t: tf.reverse_sequence(t, [2, 4, 1], seq_axis=1),
                              (uniform(3, 4),), "rows"),
                         Grad(lambda t: tf.reverse_sequence(t, [1, 3], seq_axis=0, batch_axis=1),
                              (uniform(3, 2, 2),), "batch-axis-1")],
    "ensure_shape": [Grad(lambda t: tf.ensure_shape(t, [None, 3]), (uniform(2, 3),), "values")],
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


# --- composites -------------------------------------------------------------------------------


def test_unique_returns_named_results():
    y, idx = tf.unique([3, 1, 3])
    assert y.numpy().tolist() == [3, 1] and idx.numpy().tolist() == [0, 1, 0]
    result = tf.unique_with_counts(tf.constant([2.0, 2.0]), out_idx=tf.int64)
    assert result.count.dtype == tf.int64 and result.count.numpy().tolist() == [2]
    assert result.idx.dtype == tf.int64


def test_unique_has_no_gradient():
    x = tf.constant([1.0, 2.0, 1.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.unique(x).y
    assert tape.gradient(y, x) is None


@pytest.mark.parametrize("shape, repeats, axis", [
    ((2, 3), 2, None), ((2, 3), [1, 0, 2], 1), ((2, 3), [3], 0), ((), 3, None),
    ((4,), np.array([0, 1, 2, 3]), -1), ((0, 2), 2, 0),
])
def test_repeat(shape, repeats, axis):
    x = uniform(*shape)
    want = np.repeat(x, repeats if np.ndim(repeats) else int(repeats), axis=axis)
    np.testing.assert_array_equal(tf.repeat(x, repeats, axis=axis).numpy(), want)
    if x.size:
        check_gradients(lambda t: tf.repeat(t, repeats, axis=axis), [x])


def test_repeat_with_tensor_counts():
    x = uniform(3, 2)
    got = tf.repeat(x, tf.constant([2, 0, 1], tf.int64), axis=0)
    np.testing.assert_array_equal(got.numpy(), np.repeat(x, [2, 0, 1], axis=0))


@pytest.mark.parametrize("indexing", ["xy", "ij"])
def test_meshgrid(indexing):
    a, b, c = uniform(3), uniform(2), uniform(4)
    for got, want in zip(tf.meshgrid(a, b, c, indexing=indexing),
                         np.meshgrid(a, b, c, indexing=indexing)):
        np.testing.assert_array_equal(got.numpy(), want)
    check_gradients(lambda s, t: tf.meshgrid(s, t, indexing=indexing), [a, b])
    assert tf.meshgrid() == []
    np.testing.assert_array_equal(tf.meshgrid(a)[0].numpy(), a)


@pytest.mark.parametrize("lengths, maxlen, dtype", [
    ([1, 3, 2], 5, tf.bool), ([[1, 3], [2, 0]], None, tf.bool), ([1, 3], 4, tf.float32),
    ([-1, 3], 4, tf.bool), (2, 4, tf.int32), (np.zeros(0, np.int32), None, tf.bool),
    (np.array([1.5, 3.0], np.float32), 4, tf.bool),
])
def test_sequence_mask(lengths, maxlen, dtype):
    lengths_ = np.asarray(lengths)
    limit = max(int(lengths_.max(initial=0)), 0) if maxlen is None else maxlen
    want = np.arange(limit) < lengths_.astype(np.int32)[..., None]
    got = tf.sequence_mask(lengths, maxlen, dtype=dtype)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.numpy(), want.astype(dtype.np))


def test_identity_n_and_shape_n():
    x, i = uniform(2, 3), ints(4)
    out = tf.identity_n([x, i])
    np.testing.assert_array_equal(out[0].numpy(), x)
    np.testing.assert_array_equal(out[1].numpy(), i)
    check_gradients(lambda t: tf.identity_n([t, t * 2])[1], [x])
    shapes = tf.shape_n([x, i], out_type=tf.int64)
    assert [s.numpy().tolist() for s in shapes] == [[2, 3], [4]]
    assert shapes[0].dtype == tf.int64
    assert tf.shape_n([x])[0].dtype == tf.int32


def test_broadcast_static_shape():
    shape = tf.broadcast_static_shape(tf.TensorShape([2, 1, None]), tf.TensorShape([4, 1]))
    assert shape.as_list() == [2, 4, None]
    assert tf.broadcast_static_shape(tf.TensorShape([None]), tf.TensorShape([3])).as_list() == [3]
    assert tf.broadcast_static_shape(tf.TensorShape([None]), tf.TensorShape([1])).as_list() \
        == [None]
    assert tf.broadcast_static_shape(tf.TensorShape(None), tf.TensorShape([3])).rank is None


def test_get_static_value():
    x = uniform(2, 3)
    np.testing.assert_array_equal(tf.get_static_value(tf.constant(x)), x)
    assert tf.get_static_value([1, 2]) == [1, 2]
    assert tf.get_static_value(tf.Variable(1.0)) is None
    seen = {}

    def f(t):
        seen["shape"] = tf.get_static_value(tf.shape(t))
        seen["value"] = tf.get_static_value(t)
        seen["columns"] = tf.get_static_value(tf.shape(t)[1])
        return t

    tf.function(f, input_signature=[tf.TensorSpec([None, 3], tf.float64)])(x)
    assert seen["value"] is None and seen["shape"] is None and seen["columns"] == 3
    tf.function(f)(tf.constant(x))
    assert seen["shape"].tolist() == [2, 3] and seen["value"] is None


def test_parallel_stack():
    parts = [uniform(2, 3), uniform(2, 3)]
    np.testing.assert_array_equal(tf.parallel_stack(parts).numpy(), np.stack(parts))
    compiled = tf.function(lambda a, b: tf.parallel_stack([a, b]))
    np.testing.assert_array_equal(compiled(*parts).numpy(), np.stack(parts))


def test_compiled_ops_with_unknown_sizes():
    spec = [tf.TensorSpec([None], tf.float64), tf.TensorSpec([None], tf.int32)]
    f = tf.function(lambda x, r: (tf.unique(x).y, tf.repeat(x, r), tf.roll(x, r[0], 0),
                                  tf.sequence_mask(r), tf.sequence_mask(r, tf.size(r))),
                    input_signature=spec)
    x, r = np.array([3.0, 1.0, 3.0]), np.array([2, 0, 1], np.int32)
    for got, want in zip(f(x, r), (np.array([3.0, 1.0]), np.repeat(x, r), np.roll(x, 2),
                                   np.arange(2) < r[:, None], np.arange(3) < r[:, None])):
        np.testing.assert_array_equal(got.numpy(), want)


def test_compiled_checks_run_when_the_graph_runs():
    f = tf.function(lambda x: tf.ensure_shape(x, [None, 3]),
                    input_signature=[tf.TensorSpec([None, None], tf.float32)])
    assert f(np.zeros((4, 3), np.float32)).shape == (4, 3)
    raises_with_message(tf.errors.InvalidArgumentError, lambda: f(np.zeros((2, 4), np.float32)),
                        "not compatible with expected shape")
    g = tf.function(lambda x, n: tf.reverse_sequence(x, n, seq_axis=1))
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: g(np.zeros((2, 3)), np.array([4, 1], np.int32)),
                        "seq_lengths(0) = 4 is not in [0, 3]")
    h = tf.function(lambda x, r: tf.repeat(x, r))
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: h(np.zeros(2), np.array([1, -1], np.int32)), "non-negative")
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: h(np.zeros(2), np.array([1, 1, 1], np.int32)),
                        "3 entries but the axis has size 2")
    k = tf.function(lambda a, b: tf.broadcast_dynamic_shape(a, b))
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: k(np.array([2, 3], np.int32), np.array([4], np.int32)),
                        "Incompatible shapes: [2, 3] vs. [4]")


def test_compiled_broadcast_dynamic_shape_keeps_known_sizes():
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32),
                                  tf.TensorSpec([4, 1, 1], tf.float32)])
    def f(a, b):
        target = tf.broadcast_dynamic_shape(tf.shape(a), tf.shape(b))
        return tf.zeros(target)

    assert f(np.zeros((2, 3), np.float32), np.zeros((4, 1, 1), np.float32)).shape == (4, 2, 3)


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, error, fragment", [
    (lambda: tf.unique([[1, 2]]), tf.errors.InvalidArgumentError, "expects a 1D vector"),
    (lambda: tf.unique([1], out_idx=tf.float32), TypeError, "out_idx must be int32 or int64"),
    (lambda: tf.unique(tf.constant([1j])), tf.errors.NotFoundError, "no kernel for complex"),
    (lambda: tf.repeat([1, 2], 1.5), TypeError, "must be of type integer"),
    (lambda: tf.repeat([1, 2], [[1, 2]]), ValueError, "rank at most 1"),
    (lambda: tf.repeat([1, 2], [1, 2, 3]), ValueError, "3 entries but axis 0 has size 2"),
    (lambda: tf.repeat([1, 2], -1), tf.errors.InvalidArgumentError, "non-negative"),
    (lambda: tf.roll(3, 1, 0), tf.errors.InvalidArgumentError, "1-D or higher"),
    (lambda: tf.roll([1, 2], [1, 2], [0]), tf.errors.InvalidArgumentError, "the same size"),
    (lambda: tf.roll([1, 2], 1, 1), tf.errors.InvalidArgumentError, "axis 1 is out of range"),
    (lambda: tf.roll([1, 2], 1.0, 0), TypeError, "shift must be int32 or int64"),
    (lambda: tf.meshgrid([1], [2], indexing="zz"), ValueError, "'xy' or 'ij'"),
    (lambda: tf.meshgrid([1], [2], sparse=True), TypeError, "unexpected keyword"),
    (lambda: tf.meshgrid([1], [2.0]), tf.errors.InvalidArgumentError, "one dtype"),
    (lambda: tf.sequence_mask([2], [4]), ValueError, "must be scalar"),
    (lambda: tf.reverse_sequence([[1, 2]], [1]), TypeError, "seq_axis is required"),
    (lambda: tf.reverse_sequence([[1, 2]], [1], seq_axis=-1), tf.errors.InvalidArgumentError,
     "Invalid seq_dim -1"),
    (lambda: tf.reverse_sequence([[1, 2]], [1], seq_axis=0), tf.errors.InvalidArgumentError,
     "batch_dim == seq_dim == 0"),
    (lambda: tf.reverse_sequence([[1, 2]], [[1]], seq_axis=1), tf.errors.InvalidArgumentError,
     "must be 1-dim"),
    (lambda: tf.reverse_sequence([[1, 2]], [1, 1], seq_axis=1), tf.errors.InvalidArgumentError,
     "Length of seq_lengths != input.dims(0), (2 vs. 1)"),
    (lambda: tf.reverse_sequence([[1, 2]], [3], seq_axis=1), tf.errors.InvalidArgumentError,
     "seq_lengths(0) = 3 is not in [0, 2]"),
    (lambda: tf.reverse_sequence([[1, 2]], [1.0], seq_axis=1), TypeError, "int32 or int64"),
    (lambda: tf.shape_n([[1]], out_type=tf.float32), TypeError, "out_type must be int32"),
    (lambda: tf.ensure_shape(tf.zeros([3, 4]), [3, 5]), tf.errors.InvalidArgumentError,
     "not compatible with expected shape [3, 5]"),
    (lambda: tf.broadcast_dynamic_shape([2, 3], [4]), tf.errors.InvalidArgumentError,
     "Incompatible shapes"),
    (lambda: tf.broadcast_dynamic_shape(tf.constant([2], tf.int64), [3]),
     tf.errors.InvalidArgumentError, "shape_x is int64 but shape_y is int32"),
    (lambda: tf.broadcast_dynamic_shape([[2]], [3]), tf.errors.InvalidArgumentError,
     "shape_x must be a vector"),
    (lambda: tf.broadcast_static_shape(tf.TensorShape([2, 3]), tf.TensorShape([4])), ValueError,
     "Incompatible shapes for broadcasting"),
    (lambda: tf.parallel_stack([]), ValueError, "values is empty"),
])
def test_errors(make, error, fragment):
    raises_with_message(error, make, fragment)


def test_traced_arguments_needed_while_tracing_are_refused_clearly():
    # An axis computed inside the function is refused; an axis passed in keys the trace.
    f = tf.function(lambda x, a: tf.roll(x, 1, a * 1))
    raises_with_message(ValueError, lambda: f(np.zeros(3), tf.constant(0)),
                        "the axis must be known when the function is traced")
    passed = tf.function(lambda x, a: tf.roll(x, 1, a))
    np.testing.assert_array_equal(passed(np.arange(3.0), tf.constant(0)).numpy(), [2, 0, 1])
    g = tf.function(lambda x, a: tf.roll(x, 1, a),
                    input_signature=[tf.TensorSpec([3], tf.float64),
                                     tf.TensorSpec([], tf.int32)])
    with pytest.raises(ValueError):
        g(np.zeros(3), tf.constant(0))
    h = tf.function(lambda x: tf.roll(x, 1, tf.shape(x)[1:] * 0))
    np.testing.assert_array_equal(h(np.arange(4.0).reshape(1, 4)).numpy(),
                                  np.roll(np.arange(4.0).reshape(1, 4), 1, 0))


def test_checks_of_values_only_known_when_the_graph_runs():
    spec = [tf.TensorSpec([None, None], tf.float64), tf.TensorSpec([None], tf.int32)]
    f = tf.function(lambda x, n: tf.reverse_sequence(x, n, seq_axis=1), input_signature=spec)
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: f(np.zeros((2, 3)), np.array([1, 1, 1], np.int32)),
                        "Length of seq_lengths != input.dims(0), (3 vs. 2)")
    g = tf.function(lambda x: tf.ensure_shape(x, [None, 3]),
                    input_signature=[tf.TensorSpec([None, None], tf.float64)])
    concrete = g.get_concrete_function(np.zeros((2, 3)))
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: concrete.interpret(np.zeros((2, 4))), "not compatible")
    raises_with_message(tf.errors.InvalidArgumentError, lambda: g(np.zeros((2, 4))),
                        "not compatible")


def test_identity_n_of_nothing_and_broadcast_shapes_rule():
    from neuroflow.abstract import AbstractArray

    raises_with_message(tf.errors.InvalidArgumentError, lambda: tf.identity_n([]),
                        "the list is empty")
    vector = AbstractArray((2,), np.dtype(np.int32))
    matrix = AbstractArray((1, 2), np.dtype(np.int32))
    raises_with_message(ValueError, lambda: ar._broadcast_shapes.abstract_eval([matrix, vector],
                                                                               {}),
                        "shapes must be integer vectors")
