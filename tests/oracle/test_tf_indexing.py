"""Index-tensor ops against TensorFlow: values, dtypes, shapes, error classes, gradients.

gather_nd, scatter_nd, tensor_scatter_nd_*, the segment reductions, searchsorted,
bincount, unravel_index, invert_permutation, confusion_matrix and strided_slice run in
both libraries on the same arrays, over dtypes, broadcasting of slices, scalars, empty
sizes, NaN, inf and -0.0, and out-of-range indices (TensorFlow's CPU kernels raise
InvalidArgumentError; so does neuroflow).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")

import neuroflow as N  # noqa: E402

# NumPy warnings must not reach users for inputs TensorFlow accepts.
pytestmark = [pytest.mark.tensorflow, pytest.mark.filterwarnings("error::RuntimeWarning")]

FLOATS = ["float16", "float32", "float64"]
INTS = ["int8", "int16", "int32", "int64", "uint8"]
NUMERIC = FLOATS + INTS

# TensorFlow's error classes and the neuroflow classes that must match them.
ERRORS = {T.errors.InvalidArgumentError: N.errors.InvalidArgumentError,
          T.errors.NotFoundError: N.errors.NotFoundError,
          ValueError: ValueError, TypeError: TypeError}


def _op(lib, name: str):
    target = lib
    for part in name.split("."):
        target = getattr(target, part)
    return target


def _tensors(lib, args):
    return [lib.constant(a) if isinstance(a, np.ndarray) else a for a in args]


def _outcome(lib, name, args, kwargs):
    try:
        return _op(lib, name)(*_tensors(lib, args), **kwargs), None
    except Exception as error:  # the class is what is compared
        return None, error


def _expected_class(error: Exception) -> type:
    for tf_class, ours in ERRORS.items():
        if isinstance(error, tf_class):
            return ours
    raise AssertionError(f"TensorFlow raised an unexpected {type(error).__name__}: {error}")


def assert_same_values(ours, theirs, rtol=None) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype, f"dtype {ours.dtype}, TensorFlow gives {theirs.dtype}"
    assert ours.shape == theirs.shape, f"shape {ours.shape}, TensorFlow gives {theirs.shape}"
    if ours.dtype.kind in "fc":
        tol = {2: 2e-3, 4: 1e-6, 8: 1e-12}.get(ours.dtype.itemsize, 1e-6) if rtol is None else rtol
        wide = np.complex128 if ours.dtype.kind == "c" else np.float64
        np.testing.assert_allclose(ours.astype(wide), theirs.astype(wide), rtol=tol, atol=tol)
        if ours.dtype.kind == "c":
            return
        zeros = (theirs == 0)
        np.testing.assert_array_equal(np.signbit(ours[zeros]), np.signbit(theirs[zeros]),
                                      "the signs of zeros differ")
    else:
        np.testing.assert_array_equal(ours, theirs)


def same(name: str, *args, rtol=None, **kwargs):
    """Run ``name`` (e.g. "math.segment_sum") in both libraries: the same value, dtype and
    shape, or errors of matching classes."""
    theirs, their_error = _outcome(T, name, args, kwargs)
    ours, our_error = _outcome(N, name, args, kwargs)
    if their_error is not None:
        expected = _expected_class(their_error)
        assert our_error is not None, (f"TensorFlow raised {type(their_error).__name__} "
                                       f"({their_error}); neuroflow returned {ours}")
        assert isinstance(our_error, expected), (
            f"TensorFlow raised {type(their_error).__name__}; neuroflow raised "
            f"{type(our_error).__name__}: {our_error}")
        return None
    if our_error is not None:
        raise our_error
    if isinstance(theirs, (list, tuple)):
        for a, b in zip(ours, theirs):
            assert_same_values(a, b, rtol)
    else:
        assert_same_values(ours, theirs, rtol)
    return ours


def same_gradients(name: str, args, differentiate, **kwargs):
    """The gradients of ``sum(op(*args) * weights)`` with respect to the ``differentiate``
    positions of ``args``."""

    def grads(lib):
        tensors = _tensors(lib, args)
        watched = [tensors[i] for i in differentiate]
        with lib.GradientTape() as tape:
            tape.watch(watched)
            y = _op(lib, name)(*tensors, **kwargs)
            weights = lib.cast(lib.reshape(lib.range(1, 1 + lib.size(y)), lib.shape(y)),
                               y.dtype)
            loss = lib.reduce_sum(y * weights)
        return tape.gradient(loss, watched)

    for a, b in zip(grads(N), grads(T)):
        assert_same_values(a, b)


def _r(seed):
    return np.random.default_rng(seed)


def _values(r, shape, dtype):
    if dtype == "bool":
        return r.random(shape) < 0.5
    if dtype in INTS:
        return r.integers(0 if dtype == "uint8" else -9, 10, shape).astype(dtype)
    return r.normal(size=shape).astype(dtype)


# --- gather_nd ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", NUMERIC + ["bool"])
@pytest.mark.parametrize("index_dtype", ["int32", "int64"])
def test_gather_nd_dtypes(dtype, index_dtype):
    r = _r(1)
    params = _values(r, (4, 3, 2), dtype)
    for indices in ([[1, 2], [3, 0]], [[[0], [3]]], [[2, 1, 1]], np.zeros((2, 0))):
        same("gather_nd", params, np.asarray(indices).astype(index_dtype))


@pytest.mark.parametrize("indices, batch_dims", [
    ([[[1], [0]], [[2], [2]]], 1), ([[1, 0], [2, 1]], 1), ([[0], [1]], -1),
    ([[[1, 1]], [[0, 1]]], 1), (np.zeros((2, 0, 1)), 1), ([[3, 0]], 0), ([[-1, 0]], 0),
    ([[0, 0, 0, 0]], 0), ([[0]], 2), ([[0]], 3)])
def test_gather_nd_batches_and_bad_indices(indices, batch_dims):
    params = _values(_r(2), (2, 3, 2), "float32")
    same("gather_nd", params, np.asarray(indices).astype(np.int32), batch_dims=batch_dims)
    same("gather_nd", params[:, :, :0], np.asarray(indices).astype(np.int32),
         batch_dims=batch_dims)


def test_gather_nd_gradients():
    params = _values(_r(3), (3, 4), "float64")
    same_gradients("gather_nd", [params, np.array([[2, 1], [0, 3], [2, 1]], np.int32)], [0])
    same_gradients("gather_nd", [_values(_r(4), (2, 3, 2), "float32"),
                                 np.array([[[1], [0]], [[2], [2]]], np.int32)], [0],
                   batch_dims=1)


def test_gather_nd_special_values():
    params = np.array([[np.nan, -0.0], [np.inf, -np.inf]], np.float32)
    same("gather_nd", params, np.array([[0, 0], [0, 1], [1, 1]], np.int32))


# --- scatter_nd and tensor_scatter_nd_* ----------------------------------------------------


@pytest.mark.parametrize("dtype", NUMERIC + ["bool"])
def test_scatter_nd_dtypes(dtype):
    r = _r(5)
    same("scatter_nd", np.array([[1], [3], [1]], np.int32), _values(r, (3, 2), dtype),
         np.array([5, 2], np.int32))
    same("scatter_nd", np.array([[0, 1], [2, 0]], np.int64), _values(r, (2,), dtype),
         [3, 2])


@pytest.mark.parametrize("indices, updates, shape", [
    ([[5]], [1.0], [5]), ([[-1]], [1.0], [5]), ([[1]], [1.0, 2.0], [5]),
    ([[1, 1, 1]], [1.0], [2, 2]), (np.zeros((0, 1)), np.zeros(0), [3]),
    ([[0]], [[1.0, 2.0]], [2, 2]), ([[0]], [1.0], [-2]), ([1, 3], 5.0, [4, 4]),
    ([1, 3], [5.0, 6.0], [4]), (np.zeros(0), np.zeros((0, 2)), [0, 2]),
    ([[1]], np.zeros((1, 0)), [2, 0]), (np.zeros((1, 0)), [[1.0, 2.0, 3.0]], [3]),
    (np.zeros((1, 0)), np.zeros((1, 2, 0)), [2, 0]), (np.zeros((1, 1, 0)), np.zeros((1, 1, 0)),
                                                       [0])])
def test_scatter_nd_shapes_and_errors(indices, updates, shape):
    same("scatter_nd", np.asarray(indices).astype(np.int32),
         np.asarray(updates, np.float32), shape)


def test_scatter_nd_gradient():
    same_gradients("scatter_nd", [np.array([[1, 0], [1, 0], [0, 2]], np.int32),
                                  _values(_r(6), (3,), "float64"), [2, 3]], [1])


MODES = ["update", "add", "sub", "max", "min"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", NUMERIC + ["bool"])
def test_tensor_scatter_nd_dtypes(mode, dtype):
    r = _r(7)
    tensor = _values(r, (4, 3), dtype)
    same(f"tensor_scatter_nd_{mode}", tensor, np.array([[2, 1], [0, 0], [3, 2]], np.int32),
         _values(r, (3,), dtype))
    same(f"tensor_scatter_nd_{mode}", tensor, np.array([[1], [3]], np.int64),
         _values(r, (2, 3), dtype))


@pytest.mark.parametrize("mode", MODES)
def test_tensor_scatter_nd_repeated_indices_and_special_values(mode):
    tensor = np.array([1.0, np.nan, -0.0, 0.0, np.inf], np.float32)
    updates = np.array([np.nan, 2.0, 0.0, -0.0, 5.0, 7.0], np.float32)
    same(f"tensor_scatter_nd_{mode}", tensor,
         np.array([[0], [1], [2], [3], [4], [4]], np.int32), updates)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("indices, updates", [([[5]], [1.0]), ([[-1]], [1.0]),
                                              ([[1]], [1.0, 2.0]), ([[0, 0]], [1.0])])
def test_tensor_scatter_nd_errors(mode, indices, updates):
    same(f"tensor_scatter_nd_{mode}", np.zeros(5, np.float32), np.asarray(indices, np.int32),
         np.asarray(updates, np.float32))


@pytest.mark.parametrize("mode", MODES)
def test_tensor_scatter_nd_gradients(mode):
    r = _r(8)
    # Ties between the tensor and the updates split the gradient in max and min.
    tensor = np.array([1.0, 2.0, 3.0, -1.0])
    updates = np.array([5.0, 5.0, 3.0, r.normal()])
    same_gradients(f"tensor_scatter_nd_{mode}",
                   [tensor, np.array([[0], [0], [2], [1]], np.int32), updates], [0, 2])


# --- segment reductions ----------------------------------------------------------------

UNSORTED = ["sum", "prod", "max", "min", "mean", "sqrt_n"]
SORTED = ["sum", "prod", "max", "min", "mean"]


@pytest.mark.parametrize("kind", UNSORTED)
@pytest.mark.parametrize("dtype", NUMERIC)
def test_unsorted_segments_dtypes(kind, dtype):
    r = _r(9)
    data = _values(r, (6, 2), dtype)
    ids = np.array([0, 3, 0, -1, 3, 1], np.int32)
    same(f"math.unsorted_segment_{kind}", data, ids, 5)
    same(f"math.unsorted_segment_{kind}", data, ids.astype(np.int64), np.int64(4))
    same(f"math.unsorted_segment_{kind}", data[:4].reshape(2, 2, 2),
         np.array([[0, 1], [1, 1]], np.int32), 2)


@pytest.mark.parametrize("kind", SORTED)
@pytest.mark.parametrize("dtype", NUMERIC)
def test_sorted_segments_dtypes(kind, dtype):
    data = _values(_r(10), (6, 2), dtype)
    same(f"math.segment_{kind}", data, np.array([0, 0, 1, 3, 3, 3], np.int32))
    same(f"math.segment_{kind}", data[:0], np.zeros(0, np.int64))


@pytest.mark.parametrize("kind", UNSORTED)
def test_unsorted_segments_special_values(kind):
    data = np.array([np.nan, 1.0, 2.0, np.nan, -0.0, 0.0, np.inf, -np.inf, -0.0], np.float32)
    same(f"math.unsorted_segment_{kind}", data,
         np.array([0, 0, 1, 1, 2, 2, 3, 3, 4], np.int32), 6)


@pytest.mark.parametrize("kind", SORTED)
def test_sorted_segments_special_values(kind):
    data = np.array([np.nan, 1.0, 2.0, np.nan, -0.0, 0.0, np.inf, -np.inf, -0.0], np.float32)
    same(f"math.segment_{kind}", data, np.array([0, 0, 1, 1, 2, 2, 3, 3, 4], np.int32))


@pytest.mark.parametrize("kind", UNSORTED)
@pytest.mark.parametrize("ids, count", [([0, 5], 4), ([0, 1], -1), ([0, 1, 1], 2),
                                        ([[0, 1]], 2), ([0, 0], 0)])
def test_unsorted_segment_errors(kind, ids, count):
    same(f"math.unsorted_segment_{kind}", np.ones(2, np.float32), np.asarray(ids, np.int32),
         count)
    # Without data TensorFlow checks no ids.
    same(f"math.unsorted_segment_{kind}", np.ones((2, 0), np.float32),
         np.asarray(ids, np.int32), count)


@pytest.mark.parametrize("kind", SORTED)
@pytest.mark.parametrize("ids", [[0, 2, 1], [-1, 0, 0], [0, 0], [[0, 0, 1]]])
def test_sorted_segment_errors(kind, ids):
    same(f"math.segment_{kind}", np.ones(3, np.float32), np.asarray(ids, np.int32))


@pytest.mark.parametrize("kind", UNSORTED)
def test_unsorted_segment_gradients(kind):
    data = np.array([2.0, 2.0, 1.0, 3.0, 5.0, 2.0, 0.0, 4.0, 0.0, 0.0, 1.5])
    ids = np.array([0, 0, 1, 1, -1, 2, 3, 3, 4, 4, 4], np.int32)
    same_gradients(f"math.unsorted_segment_{kind}", [data, ids, 6], [0])


@pytest.mark.parametrize("kind", SORTED)
def test_sorted_segment_gradients(kind):
    data = np.array([2.0, 2.0, 1.0, 3.0, 3.0, 2.0, 0.0, 4.0, 0.0, 0.0, 1.5])
    ids = np.array([0, 0, 1, 1, 1, 2, 3, 3, 5, 5, 5], np.int32)
    same_gradients(f"math.segment_{kind}", [data, ids], [0])


# --- searchsorted, bincount, unravel_index, invert_permutation ----------------------------


@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_dtypes(dtype, side):
    r = _r(11)
    seq = np.sort(_values(r, (3, 6), dtype), axis=1)
    for values in (_values(r, (3, 4), dtype), seq[:, ::2].copy(), _values(r, (3, 0), dtype)):
        same("searchsorted", seq, values, side=side)
        same("searchsorted", seq, values, side=side, out_type="int64")


@pytest.mark.parametrize("seq, values", [
    ([1.0, 2.0, np.nan], [np.nan, 5.0, 1.5]), ([np.nan, np.nan], [0.0, np.nan]),
    ([-np.inf, -0.0, 0.0, np.inf], [0.0, -0.0, np.inf, -np.inf]), (np.zeros((2, 0)), [[1.0]] * 2),
    (np.ones((2, 3, 4)), np.ones((6, 2))), ([[1.0, 2.0]], [[1.0], [2.0]]), ([1.0, 2.0], 1.0)])
def test_searchsorted_special_values_and_shapes(seq, values):
    for side in ("left", "right"):
        same("searchsorted", np.asarray(seq, np.float32), np.asarray(values, np.float32),
             side=side)


def test_searchsorted_argument_errors():
    same("searchsorted", np.array([1.0]), np.array([1], np.int32))
    same("searchsorted", np.array([1.0]), np.array([1.0]), side="middle")
    same("searchsorted", np.array([1.0]), np.array([1.0]), out_type="float32")


@pytest.mark.parametrize("kwargs", [
    {}, {"minlength": 6}, {"maxlength": 2}, {"minlength": 2, "maxlength": 2},
    {"minlength": -1}, {"dtype": "float32"}, {"dtype": "int64"}, {"binary_output": True},
    {"axis": 0}, {"axis": -1}, {"axis": 1}])
def test_bincount_arguments(kwargs):
    values = np.array([[1, 1, 3], [0, 7, 1]], np.int32)
    same("math.bincount", values, **kwargs)
    same("math.bincount", values[0], **kwargs)


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float64"])
def test_bincount_weights(dtype):
    values = np.array([1, 1, 3, 0], np.int32)
    same("math.bincount", values, weights=np.array([0.5, 1.0, 2.0, 4.0]).astype(dtype))
    same("math.bincount", values.reshape(2, 2),
         weights=np.array([[1, 2], [3, 4]]).astype(dtype), axis=-1)


@pytest.mark.parametrize("values", [[1, -1, 3], [[[1, 2]]], np.zeros(0, np.int32),
                                    [1.5, 2.0], np.array([2, 1], np.int64)])
def test_bincount_values(values):
    same("math.bincount", np.asarray(values), axis=-1 if np.ndim(values) == 3 else None)


def test_bincount_weight_shape_error():
    same("math.bincount", np.array([1, 1, 3], np.int32), weights=np.array([1.0, 2.0]))


@pytest.mark.parametrize("dtype", NUMERIC + ["bool"])
def test_bincount_dtypes(dtype):
    values = np.array([1, 0, 2, 1]).astype(dtype)
    same("math.bincount", values)
    same("math.bincount", np.array([1, 0, 2, 1], np.int32), weights=values)


def test_dtypes_without_kernels():
    same("searchsorted", np.array([False, True]), np.array([True]))
    same("math.unsorted_segment_sum", np.array([1.0]), np.array([0], np.int32), 1.0)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("indices, dims", [
    ([1, 5, 7], [2, 4]), (17, [3, 4, 2]), ([-1], [2, 4]), ([8], [2, 4]),
    ([[1, 5]], [2, 4]), ([0], [0, 4]), ([0], [-2, 4]), ([], [3]), (0, [1])])
def test_unravel_index(indices, dims, dtype):
    same("unravel_index", np.asarray(indices, dtype), np.asarray(dims, dtype))


@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("permutation", [[3, 4, 0, 2, 1], [0], [], [0, 0], [0, 2], [-1, 0],
                                         [[0]]])
def test_invert_permutation(permutation, dtype):
    same("math.invert_permutation", np.asarray(permutation, dtype))


def test_index_dtype_errors():
    same("gather_nd", np.ones(3, np.float32), np.array([[0.0]], np.float32))
    same("unravel_index", np.array([1], np.int64), np.array([2], np.int32))


# --- confusion_matrix --------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {}, {"num_classes": 6}, {"weights": np.array([0.5, 1.0, 2.0, 1.0])},
    {"weights": np.array([0.5, 1.0, 2.0, 1.0]), "dtype": "float32"},
    {"dtype": "float64"}, {"num_classes": 3}, {"dtype": "int64"}])
def test_confusion_matrix(kwargs):
    same("math.confusion_matrix", np.array([1, 2, 4, 0], np.int32),
         np.array([2, 2, 4, 0], np.int64), **kwargs)


@pytest.mark.parametrize("labels, predictions", [
    ([1, -2, 4], [2, 2, 4]), ([1, 2], [2, 2, 4]), ([1.0, 2.0], [2.0, 2.0]),
    (np.array([1, 2], np.int64), [2, 2])])
def test_confusion_matrix_inputs(labels, predictions):
    same("math.confusion_matrix", np.asarray(labels), np.asarray(predictions))


def test_confusion_matrix_gradient():
    same_gradients("math.confusion_matrix", [np.array([1, 0], np.int32),
                                             np.array([1, 1], np.int32), None,
                                             np.array([1.0, 2.0])], [3], dtype="float64")


# --- strided_slice -------------------------------------------------------------------------

STRIDED = [
    ([0, 1], [2, 3], [1, 1], {}), ([1, 0], [2, 2], [1, 1], {"shrink_axis_mask": 1}),
    ([0, 1], [0, 3], [1, 1], {"ellipsis_mask": 1}), ([0, 0], [0, 1], [1, 1],
                                                     {"new_axis_mask": 1}),
    ([-1, -1], [-3, -4], [-1, -2], {}), ([5, 5], [0, 0], [1, 1],
                                         {"begin_mask": 1, "end_mask": 3}),
    ([0], [1], [1], {"shrink_axis_mask": 1, "new_axis_mask": 1}),
    ([0, 0], [1, 1], [1, 1], {"ellipsis_mask": 1, "new_axis_mask": 1}),
    ([0, 1], [1, 2], None, {}), ([1], [0], [2], {"shrink_axis_mask": 1}),
    ([-1], [0], [1], {"shrink_axis_mask": 1}), ([0, 9, 1], [9, -9, 9], [2, -1, 3], {}),
    ([2], [3], [1], {"shrink_axis_mask": 1}), ([0], [1], [0], {}),
    ([0, 1], [1], [1], {}), ([0] * 4, [1] * 4, [1] * 4, {}),
    ([0, 0], [1, 1], [1, 1], {"ellipsis_mask": 3}),
    ([1], [0], [-1], {"shrink_axis_mask": 1}), ([0, 2], [1, 0], [1, -1],
                                                {"shrink_axis_mask": 2, "end_mask": 1})]


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
@pytest.mark.parametrize("begin, end, strides, masks", STRIDED,
                         ids=[f"{b}:{e}:{s}{m}" for b, e, s, m in STRIDED])
def test_strided_slice(begin, end, strides, masks, dtype):
    x = _values(_r(12), (2, 3, 4), dtype)
    same("strided_slice", x, begin, end, strides, **masks)
    same("strided_slice", x, np.asarray(begin, np.int64), np.asarray(end, np.int64),
         None if strides is None else np.asarray(strides, np.int64), **masks)


def test_strided_slice_argument_errors():
    x = np.zeros((2, 3), np.float32)
    same("strided_slice", np.float32(3.0), [0], [1])
    same("strided_slice", x, np.array([0.0]), np.array([1.0]))
    same("strided_slice", x, np.array([[0]]), np.array([[1]]))


def test_strided_slice_gradient():
    same_gradients("strided_slice", [_values(_r(13), (4, 3), "float64"), [1, -1], [3, 0],
                                     [1, -1]], [0])
    same_gradients("strided_slice", [_values(_r(14), (4, 3), "float32"), [1, 2], [3, 0],
                                     [2, 1]], [0], shrink_axis_mask=2)


def test_infinities_that_meet_give_nan_without_warnings():
    same("scatter_nd", np.array([[1], [1]], np.int32), np.array([np.inf, -np.inf], np.float32),
         [3])
    same("math.bincount", np.array([1, 1, 2], np.int32),
         weights=np.array([np.inf, -np.inf, np.nan], np.float32))
    same("tensor_scatter_nd_add", np.array([np.inf, 1.0], np.float32),
         np.array([[0]], np.int32), np.array([-np.inf], np.float32))


@pytest.mark.parametrize("kind", ["sum", "prod", "mean"])
def test_complex_segments(kind):
    data = (np.arange(6) + 1j * np.arange(6)[::-1]).astype(np.complex64)
    ids = np.array([0, 0, 1, 2, 2, 2], np.int32)
    same(f"math.segment_{kind}", data, ids)
    same(f"math.unsorted_segment_{kind}", data, ids, 4)


def test_variables_are_read_as_tensors():
    params = np.arange(6.0).reshape(3, 2)
    ours = N.gather_nd(N.Variable(params), [[2, 1]])
    theirs = T.gather_nd(T.Variable(params), [[2, 1]])
    assert_same_values(ours, theirs)
