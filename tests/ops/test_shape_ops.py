"""Shape and indexing ops: values vs NumPy, gradients vs finite differences."""

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
from neuroflow.autodiff.gradcheck import check_gradients, check_second_derivatives
from neuroflow.ops import shape_ops as so

# Keys for x[...] on a (3, 4, 5) tensor, with the NumPy key that means the same.
KEYS = [
    (1, "int"), (-1, "negative-int"), (slice(1, None), "slice"),
    (slice(None, None, -1), "reversed"), ((slice(None), 2), "column"),
    ((Ellipsis, 1), "ellipsis"), ((None, 0, slice(1, 3)), "newaxis"),
    ((slice(0, 3, 2), slice(None), slice(4, 0, -2)), "strided"), ((1, 2, 3), "element"),
    ((slice(1, 10),), "slice-past-the-end"),
]


def _getitem(key):
    return Fwd(lambda t: t[key], lambda v: v[key], (uniform(3, 4, 5),), f"key-{key!r}")


FORWARD = {
    "reshape": [Fwd(lambda t, s=s: tf.reshape(t, s), lambda v, s=s: v.reshape(s), (x,),
                    f"{x.shape}->{s}")
                for x, s in ((uniform(2, 3), [3, 2]), (uniform(2, 3, 4), [-1, 4]),
                             (np.asarray(uniform()), [1, 1]), (ints(6), [2, -1]),
                             (uniform(0, 3), [3, 0]))]
    # A shape only known when the graph runs comes as an input (None in the attribute).
    + [Fwd(lambda t, s: so._reshape(t, s, shape=(None, -1)), lambda v, s: v.reshape(s),
           (uniform(2, 3, 4), np.array([4, -1], np.int64)), "run-time-shape")],
    "transpose": [Fwd(lambda t: tf.transpose(t), lambda v: v.T, (uniform(2, 3),), "default"),
                  Fwd(lambda t: tf.transpose(t, [1, 2, 0]), lambda v: v.transpose(1, 2, 0),
                      (ints(2, 3, 4),), "perm"),
                  Fwd(lambda t: tf.transpose(t, [-1, 0]), lambda v: v.T, (uniform(3, 2),),
                      "negative-perm")],
    "broadcast_to": [Fwd(lambda t: tf.broadcast_to(t, [2, 3, 4]),
                         lambda v: np.broadcast_to(v, (2, 3, 4)), (uniform(3, 1),), "3x1"),
                     Fwd(lambda t: tf.broadcast_to(t, [4]), lambda v: np.full(4, v),
                         (np.asarray(ints()),), "scalar"),
                     Fwd(lambda t, s: so._broadcast_to(t, s, shape=(2, None)),
                         lambda v, s: np.broadcast_to(v, s), (uniform(1, 3), np.array([2, 3])),
                         "run-time-shape")],
    "concat": [Fwd(lambda a, b, axis=axis: tf.concat([a, b], axis),
                   lambda a, b, axis=axis: np.concatenate([a, b], axis),
                   (uniform(*sa), uniform(*sb)), f"{sa}+{sb}-axis{axis}")
               for sa, sb, axis in (((2, 3), (4, 3), 0), ((2, 3), (2, 1), 1),
                                    ((2, 3, 4), (2, 3, 2), -1), ((0, 3), (2, 3), 0))]
    + [Fwd(lambda a, b: tf.concat([a, b], 0), lambda a, b: np.concatenate([a, b]),
           (ints(2), ints(3)), "int32")],
    "getitem": [_getitem(key) for key, _ in KEYS]
    + [Fwd(lambda t: t[tf.constant(1), :2], lambda v: v[1, :2], (ints(3, 4),), "tensor-index")],
    "scatter_into_zeros": [Fwd(lambda g: so._scatter_into_zeros(g, shape=(3, 4), key=(1,)),
                               lambda g: np.stack([np.zeros(4), g, np.zeros(4)]), (uniform(4),),
                               "row")],
    "gather": [Fwd(lambda t, i, axis=axis: tf.gather(t, i, axis=axis),
                   lambda v, i, axis=axis: np.take(v, i, axis),
                   (uniform(4, 5), idx), f"axis{axis}-{idx.shape}")
               for axis, idx in ((0, np.array([3, 0, 3], np.int32)), (1, ints(2, 2, low=0, high=5)),
                                 (-1, np.array([], np.int32)), (0, np.asarray(np.int32(2))))]
    # x[i] with a traced index i: a gather whose indices may count from the end.
    + [Fwd(lambda t, i: so._gather(t, i, axis=1, negative=True), lambda v, i: np.take(v, i, 1),
           (uniform(3, 4), np.array([-1, 0, -4, 3], np.int32)), "negative-indices")],
    "scatter_add": [Fwd(lambda u, i: so._scatter_add(u, i, shape=(4, 2), axis=0),
                        lambda u, i: np.stack([u[[k for k in range(3) if i[k] == r]].sum(0)
                                               for r in range(4)]),
                        (uniform(3, 2), np.array([1, 3, 1])), "repeated-indices", "float64")],
    "pad": [Fwd(lambda t: tf.pad(t, [[1, 0], [2, 3]]), lambda v: np.pad(v, [(1, 0), (2, 3)]),
                (uniform(2, 3),), "zeros"),
            Fwd(lambda t: tf.pad(t, [[0, 2]], constant_values=7), lambda v: np.pad(v, [(0, 2)],
                                                                                    constant_values=7),
                (ints(3),), "int-value"),
            Fwd(lambda t, c: so._pad(t, c, paddings=((1, 0), (0, 2))),
                lambda v, c: np.pad(v, [(1, 0), (0, 2)], constant_values=c),
                (uniform(2, 3), np.float64(1.5)), "tensor-value")],
    "stop_gradient": [Fwd(tf.stop_gradient, lambda v: v, (uniform(2, 3),), "values")],
    "identity": [Fwd(tf.identity, lambda v: v, (ints(2, 3),), "values")],
    "one_hot": [Fwd(lambda t: tf.one_hot(t, 4), lambda v: np.eye(4, dtype=np.float32)[v],
                    (np.array([0, 3, 1], dtype=np.int32),), "depth-4", dtype="float32"),
                Fwd(lambda t: tf.one_hot(t, 3, on_value=5, off_value=-1, axis=0),
                    lambda v: np.where(np.eye(3, dtype=bool)[v].T, 5, -1).astype(np.int32),
                    (np.array([2, 0], dtype=np.int32),), "axis-0-int", dtype="int32"),
                # The depth as an input: what a traced tf.one_hot(i, d) of a tensor d runs.
                Fwd(lambda t, d: so._one_hot(t, d, depth=None, on=1.0, off=0.0,
                                             dtype=np.dtype(np.float32), axis=-1),
                    lambda v, d: np.eye(d, dtype=np.float32)[v],
                    (np.array([0, 2, 1], dtype=np.int32), np.int32(3)), "depth-input",
                    dtype="float32")],
    "flat_nonzero": [Fwd(lambda t, m: tf.boolean_mask(t, m),
                         lambda v, m: v[m], (uniform(5, 2), np.array([1, 0, 1, 1, 0], bool)),
                         "rows")],
    "where_indices": [Fwd(lambda m: tf.where(m), lambda m: np.argwhere(m),
                          (np.array([[True, False], [False, True]]),), "2d", dtype="int64")],
    # tf.shape of a traced tensor with unknown sizes (eagerly tf.shape is a constant).
    "shape_of": [Fwd(lambda t, d=d: so._shape_of(t, dtype=np.dtype(d)),
                     lambda v, d=d: np.array(v.shape, d), (uniform(2, 0, 3),), d, dtype=d)
                 for d in ("int32", "int64")],
    # x[a:b:c] with bounds only known when the graph runs: the positions to gather.
    "slice_positions": [
        Fwd(lambda n, *b, given=given: so._slice_positions(n, *b, given=given),
            lambda n, *b, given=given: np.arange(*slice(*_given_bounds(b, given)).indices(n)),
            (np.int64(size), *bounds), f"{size}-{given}", dtype="int64")
        for size, bounds, given in (
            (5, (np.int64(1), np.int64(-1)), (True, True, False)),
            (5, (np.int32(-9), np.int32(10)), (True, True, False)),
            (6, (np.int64(-2),), (False, False, True)),
            (6, (np.int64(4), np.int64(3)), (True, False, True)),
            (0, (np.int64(1),), (True, False, False)))],
}


def _given_bounds(bounds, given):
    values = iter(int(b) for b in bounds)
    return [next(values) if g else None for g in given]


def _key_grad(key):
    return Grad(lambda t: t[key], (uniform(3, 4, 5),), f"key-{key!r}")


GRADIENTS = {
    "reshape": [Grad(lambda t: tf.reshape(t, [4, -1]), (uniform(2, 3, 2),), "infer"),
                Grad(lambda t: so._reshape(t, tf.constant([3, 4]), shape=(None, 4)),
                     (uniform(2, 6),), "run-time-shape")],
    "transpose": [Grad(lambda t: tf.transpose(t, [2, 0, 1]), (uniform(2, 3, 4),), "perm")],
    "broadcast_to": [Grad(lambda t: tf.broadcast_to(t, [2, 3, 4]), (uniform(3, 1),), "3x1"),
                     Grad(lambda t: tf.broadcast_to(t, [2, 3]), (uniform(),), "scalar")],
    "concat": [Grad(lambda a, b, c: tf.concat([a, b, c], axis=1),
                    (uniform(2, 1), uniform(2, 3), uniform(2, 2)), "three")],
    "getitem": [_key_grad(key) for key, _ in KEYS],
    "scatter_into_zeros": [Grad(lambda g: so._scatter_into_zeros(g, shape=(3, 4, 5),
                                                                 key=(slice(None), 1)),
                                (uniform(3, 5),), "column")],
    "gather": [Grad(lambda t: tf.gather(t, [3, 0, 3, 3], axis=0), (uniform(4, 2),), "repeated"),
               Grad(lambda t: tf.gather(t, [[1, 2], [0, 1]], axis=1), (uniform(3, 4),),
                    "axis1-2d-indices"),
               Grad(lambda t: tf.gather(t, 2), (uniform(4, 3),), "scalar-index")],
    "scatter_add": [Grad(lambda u: so._scatter_add(u, tf.constant([1, 3, 1]), shape=(2, 4),
                                                   axis=1), (uniform(2, 3),), "axis1-repeated")],
    "pad": [Grad(lambda t: tf.pad(t, [[1, 2], [0, 3]], constant_values=1.5), (uniform(2, 3),),
                 "constant"),
            Grad(lambda t: so._pad(t, tf.constant(0.5, tf.float64), paddings=((0, 1), (2, 0))),
                 (uniform(2, 3),), "tensor-value")],
    "identity": [Grad(tf.identity, (uniform(2, 3),), "values")],
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


def test_variable_read_gradient():
    """``read_variable`` is recorded by the tape when an op reads a Variable."""
    value = uniform(2, 3)
    v = tf.Variable(value)

    def loss(x):
        v.assign(x)
        return tf.reduce_sum(tf.sin(v) * v)

    with tf.GradientTape() as tape:
        y = loss(value)
    grad = tape.gradient(y, v)
    np.testing.assert_allclose(grad.numpy(), np.cos(value) * value + np.sin(value), rtol=1e-12)
    assert tape.watched_variables() == (v,)
    # The same gradient by finite differences through the variable.
    step = 1e-6
    numeric = np.zeros_like(value)
    for i in range(value.size):
        moved = [value.copy(), value.copy()]
        moved[0].reshape(-1)[i] += step
        moved[1].reshape(-1)[i] -= step
        numeric.reshape(-1)[i] = (float(loss(moved[0])) - float(loss(moved[1]))) / (2 * step)
    np.testing.assert_allclose(grad.numpy(), numeric, atol=1e-6)


# Primitives whose test cannot go through the tables above (see the test for why).
COVERED_ELSEWHERE = {"read_variable": test_variable_read_gradient}


def test_stop_gradient_blocks_the_gradient():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * tf.stop_gradient(x * 3)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [3.0, 6.0])


# --- composites -----------------------------------------------------------------------


@pytest.mark.parametrize("shape, multiples", [((2, 3), [2, 1]), ((3,), [4]), ((2, 1, 3), [1, 3, 2]),
                                              ((), [])])
def test_tile(shape, multiples):
    x = uniform(*shape)
    np.testing.assert_array_equal(tf.tile(x, multiples).numpy(), np.tile(x, multiples))
    check_gradients(lambda t: tf.tile(t, multiples), [x])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_stack_unstack_split(axis):
    parts = [uniform(2, 3) for _ in range(3)]
    stacked = tf.stack(parts, axis=axis)
    np.testing.assert_array_equal(stacked.numpy(), np.stack(parts, axis))
    check_gradients(lambda a, b, c: tf.stack([a, b, c], axis=axis), parts)
    x = uniform(3, 4, 6)
    for got, want in zip(tf.unstack(x, axis=axis), [np.take(x, i, axis)
                                                    for i in range(x.shape[axis])]):
        np.testing.assert_array_equal(got.numpy(), want)
    check_gradients(lambda t: tf.unstack(t, axis=axis)[1] * 2 + tf.unstack(t, axis=axis)[0],
                    [x])
    size = x.shape[axis]
    sizes = [1, -1, size - 2]
    pieces = tf.split(x, sizes, axis=axis)
    for got, want in zip(pieces, np.split(x, [1, 2], axis)):
        np.testing.assert_array_equal(got.numpy(), want)
    check_gradients(lambda t: tf.split(t, sizes, axis=axis), [x])


def test_split_into_equal_parts_and_errors():
    x = uniform(6, 2)
    for got, want in zip(tf.split(x, 3), np.split(x, 3)):
        np.testing.assert_array_equal(got.numpy(), want)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not divisible"):
        tf.split(x, 4)


@pytest.mark.parametrize("mode", ["REFLECT", "SYMMETRIC"])
def test_mirror_pad_values_and_gradients(mode):
    x = uniform(3, 4)
    paddings = [[2, 1], [0, 3 if mode == "REFLECT" else 4]]
    np.testing.assert_array_equal(tf.pad(x, paddings, mode=mode).numpy(),
                                  np.pad(x, paddings, mode=mode.lower()))
    check_gradients(lambda t: tf.pad(t, paddings, mode=mode), [x])


@pytest.mark.parametrize("mode, size", [("REFLECT", 3), ("SYMMETRIC", 4)])
def test_mirror_pad_refuses_paddings_past_the_edge(mode, size):
    with pytest.raises(tf.errors.InvalidArgumentError, match="dimension size"):
        tf.pad(tf.zeros([3]), [[size, 0]], mode=mode)


def test_boolean_mask():
    x = uniform(3, 4)
    mask = np.array([True, False, True])
    np.testing.assert_array_equal(tf.boolean_mask(x, mask).numpy(), x[mask])
    check_gradients(lambda t: tf.boolean_mask(t, mask), [x])
    columns = np.array([False, True, True, False])
    np.testing.assert_array_equal(tf.boolean_mask(x, columns, axis=1).numpy(), x[:, columns])
    full = uniform(3, 4) > 0
    np.testing.assert_array_equal(tf.boolean_mask(x, full).numpy(), x[full])
    check_gradients(lambda t: tf.boolean_mask(t, full), [x])


@pytest.mark.parametrize("kwargs, dtype", [
    ({}, "float32"), ({"dtype": tf.int64}, "int64"), ({"on_value": 5, "off_value": -1}, "int32"),
    ({"on_value": 2.0}, "float32"), ({"axis": 0}, "float32"),
])
def test_one_hot(kwargs, dtype):
    indices = np.array([[0, 2], [3, -1]])  # 3 and -1 are out of range: all-off rows
    depth = 3
    on, off = kwargs.get("on_value", 1), kwargs.get("off_value", 0)
    want = np.where(indices[..., None] == np.arange(depth), on, off)
    if kwargs.get("axis") == 0:
        want = np.moveaxis(want, -1, 0)
    result = tf.one_hot(indices, depth, **kwargs)
    assert result.dtype.name == dtype
    np.testing.assert_array_equal(result.numpy(), want)


def test_gather_composites_get_second_derivatives():
    check_second_derivatives(lambda t: tf.gather(t * t, [2, 0, 2]), [uniform(3, 2)])
    check_second_derivatives(lambda t: tf.square(t[1:, ::-1]), [uniform(3, 2)])


@pytest.mark.parametrize("op, ref", [
    (lambda t: tf.reverse(t, [1]), lambda v: v[:, ::-1]),
    (lambda t: tf.slice(t, [1, 0], [2, -1]), lambda v: v[1:3, :]),
    (lambda t: tf.expand_dims(t, -1), lambda v: v[..., None]),
    (lambda t: tf.squeeze(tf.expand_dims(t, 0)), lambda v: v),
    (lambda t: tf.squeeze(tf.reshape(t, [3, 1, 4]), axis=1), lambda v: v),
])
def test_composite_layout_ops(op, ref):
    x = uniform(3, 4)
    np.testing.assert_array_equal(op(x).numpy(), ref(x))
    check_gradients(op, [x])


def test_shape_size_rank():
    x = tf.zeros([2, 3, 4])
    assert tf.shape(x).numpy().tolist() == [2, 3, 4] and tf.shape(x).dtype == tf.int32
    assert int(tf.size(x)) == 24 and int(tf.rank(x)) == 3


# --- TensorFlow's rules for masks, axes as lists, zero sizes and batch_dims -----------------


def test_indexing_with_a_boolean_mask_is_boolean_mask():
    x = uniform(3, 4)
    rows = np.array([True, False, True])
    np.testing.assert_array_equal(tf.constant(x)[tf.constant(rows)].numpy(), x[rows])
    np.testing.assert_array_equal(tf.constant(x)[rows].numpy(), x[rows])
    np.testing.assert_array_equal(tf.constant(x)[x > 0].numpy(), x[x > 0])
    check_gradients(lambda t: t[t > 0] * 2, [x])


@pytest.mark.parametrize("mask", [np.array([1, 0, 2], np.int32), np.array([0.5, 0.0, -1.0])])
def test_boolean_mask_takes_numeric_masks_as_nonzero(mask):
    x = uniform(3, 2)
    np.testing.assert_array_equal(tf.boolean_mask(x, mask).numpy(), x[mask != 0])


def test_boolean_mask_axis_as_tensor_and_negative():
    x = uniform(3, 4)
    columns = np.array([True, False, True, True])
    for axis in (tf.constant(1), -1):
        np.testing.assert_array_equal(tf.boolean_mask(x, columns, axis=axis).numpy(),
                                      x[:, columns])


@pytest.mark.parametrize("old, target, want", [
    ((0, 3), [0, -1], (0, 3)), ((2, 0), [0, -1], (0, 2)), ((2, 0), [-1, 0], (2, 0)),
    ((0, 3), [3, -1], (3, 0)), ((0, 2, 3), [-1, 0, 2], (3, 0, 2)),
])
def test_reshape_infers_sizes_beside_zeros_as_tensorflow(old, target, want):
    assert tf.reshape(tf.zeros(old), target).shape == want
    compiled = tf.function(lambda t: tf.reshape(t, target))
    assert compiled(tf.zeros(old)).shape == want


def test_reshape_with_zeros_still_checks_the_other_sizes():
    with pytest.raises(tf.errors.InvalidArgumentError, match="0 elements"):
        tf.reshape(tf.zeros([2, 0]), [0, 4, -1])


@pytest.mark.parametrize("axis, shape", [
    ([1], (3, 1, 4)), (np.array([2]), (3, 4, 1)), (tf.constant([0]), (1, 3, 4)),
    (tf.constant(-1), (3, 4, 1)), (np.int64(1), (3, 1, 4)), (tf.constant([[1]]), (3, 1, 4)),
])
def test_expand_dims_takes_one_axis_in_a_list_or_tensor(axis, shape):
    assert tf.expand_dims(tf.zeros([3, 4]), axis).shape == shape


@pytest.mark.parametrize("axis, error, fragment", [
    ([1, 2], tf.errors.InvalidArgumentError, "must be a tensor with a single value"),
    (1.0, TypeError, "axis must be an integer"),
    ([1.0], TypeError, "axis must be an integer"),
    (True, TypeError, "axis must be an integer"),
    (3, tf.errors.InvalidArgumentError, "out of range"),
])
def test_expand_dims_refuses_what_tensorflow_refuses(axis, error, fragment):
    raises_with_message(error, lambda: tf.expand_dims(tf.zeros([3, 4]), axis), fragment)


def test_expand_dims_refuses_an_axis_only_known_when_the_graph_runs():
    f = tf.function(lambda x, a: tf.expand_dims(x, a + 0))
    raises_with_message(ValueError, lambda: f(tf.zeros([2]), tf.constant(0)),
                        "the axis must be known when the function is traced")
    passed = tf.function(lambda x, a: tf.expand_dims(x, a))
    assert passed(tf.zeros([2]), tf.constant(1)).shape == (2, 1)


def _np_batch_gather(params, indices, axis, batch_dims):
    if batch_dims == 0:
        return np.take(params, indices, axis=axis)
    return np.stack([_np_batch_gather(p, i, axis - 1, batch_dims - 1)
                     for p, i in zip(params, indices)])


@pytest.mark.parametrize("shape, indices, axis, batch_dims", [
    ((2, 3, 4), [[0, 2], [1, 1]], 2, 1),
    ((2, 3, 4), [[0, 2], [1, 1]], -1, -1),
    ((2, 3, 4), [[0, 2], [1, 1]], None, 1),
    ((2, 3, 4), [[0, 2, 1], [1, 1, 3]], 2, 2),
    ((2, 3, 4), [[[0], [2]], [[1], [3]]], 2, 1),
    ((2, 3, 4, 2), [[0, 2, 2], [1, 0, 1]], 2, 1),
    ((2, 0, 4), [[1], [0]], 2, 1),
])
def test_gather_with_batch_dims(shape, indices, axis, batch_dims):
    x = uniform(*shape)
    idx = np.asarray(indices, np.int32)
    b = batch_dims + idx.ndim if batch_dims < 0 else batch_dims
    a = b if axis is None else axis % len(shape)
    want = _np_batch_gather(x, idx, a, b)
    got = tf.gather(x, idx, axis=axis, batch_dims=batch_dims)
    np.testing.assert_array_equal(got.numpy(), want)
    compiled = tf.function(lambda t, i: tf.gather(t, i, axis=axis, batch_dims=batch_dims))
    np.testing.assert_array_equal(compiled(x, idx).numpy(), want)
    if x.size:
        check_gradients(lambda t: tf.gather(t, idx, axis=axis, batch_dims=batch_dims), [x])


@pytest.mark.parametrize("make, fragment", [
    (lambda: tf.gather(tf.zeros([2, 3]), [[0, 1], [1, 3]], axis=1, batch_dims=1),
     "index 3 is out of range"),
    (lambda: tf.gather(tf.zeros([2, 3]), [[0, 1], [1, -1]], axis=1, batch_dims=1),
     "index -1 is out of range"),
    (lambda: tf.gather(tf.zeros([2, 3]), [[0], [1], [0]], axis=1, batch_dims=1),
     "params.shape[0]: 2 should be equal to indices.shape[0]: 3"),
    (lambda: tf.gather(tf.zeros([2, 3, 4]), [[0], [1]], axis=0, batch_dims=1),
     "batch_dims (1) must be less than or equal to axis (0)"),
    (lambda: tf.gather(tf.zeros([2, 3]), [0, 1], batch_dims=2),
     "Expected batch_dims in the range [-1, 1]"),
    (lambda: tf.gather(tf.zeros([2, 3]), [0.0]), "indices must be integers"),
    (lambda: tf.boolean_mask(tf.zeros([2, 3]), [True, False], axis=2), "axis 2 is out of range"),
    (lambda: tf.boolean_mask(tf.zeros([2]), True), "mask cannot be scalar"),
])
def test_gather_and_mask_errors(make, fragment):
    raises_with_message(ValueError, make, fragment)


def test_bool_tensor_inside_an_index_tuple_says_to_use_boolean_mask():
    raises_with_message(TypeError, lambda: tf.zeros([3, 2])[tf.constant([True, False, True]), 0],
                        "tf.boolean_mask(x, mask, axis=...)")


@pytest.mark.parametrize("make, error, fragment", [
    (lambda: tf.transpose(tf.constant([[1 + 2j]]), conjugate=True), NotImplementedError,
     "conjugate=True of a complex tensor"),
    (lambda: tf.unstack(tf.constant(1.0)), ValueError, "the input is a scalar"),
    (lambda: tf.reverse(tf.zeros([2, 3]), [1, -1]), tf.errors.InvalidArgumentError,
     "specified more than once"),
    (lambda: tf.zeros([2])[1.5], TypeError, "Only integers, slices"),
    (lambda: tf.gather(tf.constant(1.0), [0]), tf.errors.InvalidArgumentError,
     "at least 1 dimensional"),
    (lambda: tf.pad(tf.zeros([2]), [[1.0, 0.0]]), TypeError, "paddings of float"),
    (lambda: tf.pad(tf.zeros([2], tf.int32), [[1, 0]], constant_values=1.5), TypeError,
     "Cannot convert 1.5"),
    (lambda: tf.one_hot([1.0], 3), TypeError, "indices must be uint8, int8, int32 or int64"),
    (lambda: tf.one_hot([1], 3, on_value=1, off_value=0.0), TypeError,
     "does not match dtype float32 of off_value"),
    (lambda: tf.one_hot([[1]], 3, axis=-2), tf.errors.InvalidArgumentError,
     "Expected axis to be -1 or between [0, 2]"),
    (lambda: tf.shape(tf.zeros([2]), out_type=tf.float32), TypeError,
     "out_type must be int32 or int64"),
])
def test_tensorflows_refusals(make, error, fragment):
    raises_with_message(error, make, fragment)


def test_pad_and_tile_by_amounts_only_known_when_the_graph_runs():
    x = uniform(2, 3)
    padded = tf.function(lambda t, p, v: tf.pad(t, p, constant_values=v))
    tiled = tf.function(lambda t, m: tf.tile(t, m))
    for p, m in (([[1, 0], [0, 2]], [2, 1]), ([[0, 0], [3, 1]], [1, 3]), ([[0, 0], [0, 0]],
                                                                         [0, 2])):
        np.testing.assert_array_equal(
            padded(x, tf.constant(p), tf.constant(-1.0, tf.float64)).numpy(),
            np.pad(x, p, constant_values=-1))
        np.testing.assert_array_equal(tiled(x, tf.constant(m)).numpy(), np.tile(x, m))
    assert padded.experimental_get_tracing_count() == 1
    assert tiled.experimental_get_tracing_count() == 1
    np.testing.assert_array_equal(tf.pad(tf.ones([1], tf.bool), [[1, 0]]).numpy(), [False, True])
    reflect = tf.function(lambda t, p: tf.pad(t, p, mode="REFLECT"))
    raises_with_message(ValueError, lambda: reflect(x, tf.constant([[1, 0], [0, 1]])),
                        "REFLECT padding needs paddings known when the function is traced")
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: padded(x, tf.constant([[1, 0]]), tf.constant(0.0, tf.float64)),
                        "paddings must have shape (2, 2)")
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: tiled(x, tf.constant([-1, 1])), "non-negative")
    raises_with_message(ValueError, lambda: tf.pad(x, [[1, 1], [0, 0]], mode="WRAP"),
                        "unknown mode 'WRAP'")
    listed = tf.function(lambda t, n: tf.pad(t, [[n, 0], [0, 1]]))
    np.testing.assert_array_equal(listed(x, tf.constant(2)).numpy(), np.pad(x, [[2, 0], [0, 1]]))
    raises_with_message(TypeError, lambda: listed(x, tf.constant(2.0)), "must hold integers")


@pytest.mark.parametrize("fn", [
    lambda x, a: tf.concat([x, x], a), lambda x, a: tf.squeeze(x[:1], a),
    lambda x, a: tf.unstack(x, axis=a), lambda x, a: tf.gather(x, [0], axis=a),
    lambda x, a: tf.split(x, 3, axis=a), lambda x, a: tf.reverse(x, a),
    lambda x, a: tf.repeat(x, 2, axis=a),
])
def test_axes_as_tensors(fn):
    """An axis tensor works eagerly, from tf.shape in a trace, and passed to a function; one
    the function computes from a value only the run knows is refused clearly."""
    x = uniform(3, 4)
    want = fn(tf.constant(x), 0)
    got = fn(tf.constant(x), tf.constant(0))
    for g, w in zip(tf.nest.flatten(got), tf.nest.flatten(want)):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    # A tensor the function makes from constants (the rank) is known while it traces.
    from_rank = tf.function(lambda t: fn(t, tf.rank(t) - 2))
    for g, w in zip(tf.nest.flatten(from_rank(tf.constant(x))), tf.nest.flatten(want)):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    # An axis passed to the function keys its trace by value, as a Python int does.
    traced = tf.function(fn)
    for a in (0, -2, 0):  # equal axes, different values: each keys its own trace
        expected = fn(tf.constant(x), a)
        for g, w in zip(tf.nest.flatten(traced(tf.constant(x), tf.constant(a))),
                        tf.nest.flatten(expected)):
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    # One computed inside from what only the run knows is refused clearly.
    computed = tf.function(lambda t, a: fn(t, a * 1))
    raises_with_message(ValueError, lambda: computed(tf.constant(x), tf.constant(0)),
                        "must be known when the function is traced")


def test_split_takes_the_number_of_parts_as_a_scalar_tensor():
    x = uniform(2, 6)
    for got, want in zip(tf.split(x, tf.constant(3), axis=1), np.split(x, 3, axis=1)):
        np.testing.assert_array_equal(got.numpy(), want)
