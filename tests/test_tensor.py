"""Tensor, TensorShape and conversion: TensorFlow 2's semantics, checked against NumPy."""

from __future__ import annotations

import copy
import operator
import pickle

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.ops.convert import DTypeMismatchError

InvalidArgument = tf.errors.InvalidArgumentError
rng = np.random.default_rng(7)


# --- conversion and default dtypes ------------------------------------------------------

@pytest.mark.parametrize("value, dtype", [
    (1.5, tf.float32), (2, tf.int32), (True, tf.bool), (1 + 2j, tf.complex128),
    ([1.0, 2.0], tf.float32), ([[1, 2], [3, 4]], tf.int32), ([1, 2.5], tf.float32),
    ((1, 2), tf.int32), (range(3), tf.int32), ([], tf.float32), ([[]], tf.float32),
    (2**31, tf.int64), (-(2**31), tf.int32), ([1, 2**40], tf.int64),
    # Lists of NumPy scalars follow the Python rules, as in TF.
    ([1.5, np.float64(2.0)], tf.float32), ([np.int64(1), 2], tf.int32),
])
def test_python_values_take_tensorflow_default_dtypes(value, dtype):
    t = tf.constant(value)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(value).astype(dtype.as_numpy_dtype))
    assert tf.convert_to_tensor(value).dtype == dtype


@pytest.mark.parametrize("np_dtype", [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                                      np.float16, np.float32, np.float64])
def test_numpy_arrays_and_scalars_keep_their_dtype(np_dtype):
    array = (rng.uniform(0, 100, (2, 3))).astype(np_dtype)
    t = tf.constant(array)
    assert t.dtype.as_numpy_dtype == np_dtype and t.dtype.name == np.dtype(np_dtype).name
    np.testing.assert_array_equal(t.numpy(), array)
    scalar = array.reshape(-1)[0]
    assert tf.convert_to_tensor(scalar).dtype == tf.as_dtype(np_dtype)


def test_python_float_with_explicit_float64_is_exact():
    # A float64 constant must not pass through float32 on the way.
    assert tf.constant(0.1, tf.float64).numpy() == 0.1
    assert tf.constant([0.1], dtype="float64").numpy()[0] == 0.1
    assert tf.Variable([0.1], dtype=tf.float64).numpy()[0] == 0.1


@pytest.mark.parametrize("value, dtype", [
    (1.5, tf.int32), (1.0, tf.int32), ([1.0, 2.0], tf.int32), ([1, 2.0], tf.int32),
    (1, tf.bool), (1.5, tf.bool), (1j, tf.float32),
])
def test_python_values_never_change_kind_silently(value, dtype):
    with pytest.raises(TypeError, match=f"dtype {dtype.name}"):
        tf.constant(value, dtype)
    with pytest.raises(TypeError):
        tf.convert_to_tensor(value, dtype)


def test_explicit_dtype_widens_python_values_and_casts_numpy():
    assert tf.constant(1, tf.float32).numpy() == np.float32(1.0)
    assert tf.constant(True, tf.int32).numpy() == 1
    # NumPy values are cast, truncating, as TF does; Python ints wrap around.
    np.testing.assert_array_equal(tf.constant(np.array([1.7, -1.7]), tf.int32).numpy(), [1, -1])
    assert tf.constant(300, tf.uint8).numpy() == 300 % 256
    assert tf.constant(-1, tf.uint8).numpy() == 255
    assert tf.convert_to_tensor(np.array([0.5]), tf.float32).dtype == tf.float32


def test_convert_to_tensor_refuses_a_tensor_of_another_dtype():
    with pytest.raises(ValueError, match="float64.*float32|float32.*float64"):
        tf.convert_to_tensor(tf.constant(1.0), tf.float64)
    with pytest.raises(ValueError, match="float64"):
        tf.convert_to_tensor(tf.Variable(1.0), tf.float64)


def test_dtype_hint_applies_only_where_the_value_fits():
    assert tf.convert_to_tensor(1, dtype_hint=tf.float32).dtype == tf.float32
    assert tf.convert_to_tensor(1.5, dtype_hint=tf.int32).dtype == tf.float32  # falls back
    assert tf.convert_to_tensor(np.array([1]), dtype_hint=tf.float32).dtype == tf.float32
    assert tf.convert_to_tensor(tf.constant(1.0), dtype_hint=tf.float64).dtype == tf.float32


@pytest.mark.parametrize("value, error", [
    ([[1], [1, 2]], ValueError), (None, ValueError), ([None], ValueError),
    ([2**63], ValueError), (["text", 1], ValueError),
    (np.array([1, "a"], dtype=object), ValueError),
])
def test_unconvertible_values_raise(value, error):
    with pytest.raises(error):
        tf.constant(value)


def test_conversion_copies_numpy_arrays():
    array = np.zeros(3, np.float32)
    converted, const = tf.convert_to_tensor(array), tf.constant(array)
    array[0] = 5.0
    assert converted.numpy()[0] == 0.0 and const.numpy()[0] == 0.0


def test_tensors_convert_to_themselves():
    t = tf.constant([1.0])
    assert tf.convert_to_tensor(t) is t and tf.constant(t) is t


def test_constant_with_shape_broadcasts_or_reshapes():
    np.testing.assert_array_equal(tf.constant(7, shape=[2, 3]).numpy(), np.full((2, 3), 7))
    np.testing.assert_array_equal(tf.constant([7], shape=[2]).numpy(), [7, 7])
    np.testing.assert_array_equal(tf.constant([1, 2, 3, 4], shape=(2, 2)).numpy(),
                                  [[1, 2], [3, 4]])
    assert tf.constant(0.0, shape=tf.TensorShape([2])).shape == (2,)
    with pytest.raises(TypeError, match="3 elements.*4 elements"):
        tf.constant([1, 2, 3], shape=[2, 2])


def test_lists_of_tensors_are_stacked_and_take_the_first_tensor_dtype():
    a, b = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])
    packed = tf.convert_to_tensor([a, b])
    np.testing.assert_array_equal(packed.numpy(), [[1, 2], [3, 4]])
    mixed = tf.constant([[tf.constant(1), 2], [3, 4]])
    assert mixed.dtype == tf.int32 and mixed.numpy().tolist() == [[1, 2], [3, 4]]
    assert tf.convert_to_tensor([1, tf.constant(2.0)]).dtype == tf.float32
    with pytest.raises(TypeError, match="int32"):
        tf.convert_to_tensor([1.5, tf.constant(1)])
    with pytest.raises(TypeError, match="tf.cast"):
        tf.convert_to_tensor([tf.constant(1.0), tf.constant(1.0, tf.float64)])
    # An explicit dtype casts the tensors, as TF does.
    assert tf.convert_to_tensor([tf.constant(1.0)], tf.float64).dtype == tf.float64


def test_tensorshape_converts_to_an_int32_tensor():
    t = tf.convert_to_tensor(tf.TensorShape([2, 3]))
    assert t.dtype == tf.int32 and t.numpy().tolist() == [2, 3]


# --- what a tensor is --------------------------------------------------------------------

def test_numpy_returns_a_copy_and_scalars_as_numpy_scalars():
    t = tf.constant([1.0, 2.0])
    out = t.numpy()
    out[0] = 9.0
    assert t.numpy()[0] == 1.0
    scalar = tf.constant(2.5).numpy()
    assert isinstance(scalar, np.float32) and scalar == 2.5


def test_np_asarray_gives_a_read_only_view_and_numpy_functions_accept_tensors():
    values = rng.normal(size=(3, 4)).astype(np.float32)
    t = tf.constant(values)
    view = np.asarray(t)
    assert not view.flags.writeable
    with pytest.raises(ValueError):
        view[0, 0] = 1.0
    np.testing.assert_array_equal(np.asarray(t, dtype=np.float64), values.astype(np.float64))
    assert np.array(t, copy=True).flags.writeable
    assert np.sum(t) == pytest.approx(values.sum(), rel=1e-6)
    np.testing.assert_allclose(np.exp(t), np.exp(values))
    np.testing.assert_array_equal(np.concatenate([t, t]), np.concatenate([values, values]))


def test_shape_is_a_tuple_like_tensorshape():
    t = tf.zeros([2, 3, 4])
    shape = t.shape
    assert isinstance(shape, tf.TensorShape)
    assert shape == (2, 3, 4) and shape == [2, 3, 4] and shape != (2, 3)
    assert shape.as_list() == [2, 3, 4] and tuple(shape) == (2, 3, 4) and len(shape) == 3
    assert shape[0] == 2 and shape[-1] == 4 and shape[1:] == tf.TensorShape([3, 4])
    assert shape.rank == shape.ndims == t.ndim == 3
    assert shape.num_elements() == 24 and shape.is_fully_defined()
    assert repr(shape) == "TensorShape([2, 3, 4])" and str(shape) == "(2, 3, 4)"
    assert str(tf.constant([1]).shape) == "(1,)" and str(tf.constant(1).shape) == "()"
    assert t.get_shape() == shape and hash(shape) == hash(tf.TensorShape((2, 3, 4)))


def test_tensorshape_with_unknown_dimensions():
    partial = tf.TensorShape([None, 3])
    assert str(partial) == "(None, 3)" and not partial.is_fully_defined()
    assert partial.num_elements() is None
    assert partial.is_compatible_with([5, 3]) and not partial.is_compatible_with([5, 4])
    assert partial.merge_with([2, None]) == (2, 3)
    with pytest.raises(ValueError, match="incompatible"):
        partial.assert_is_compatible_with([2, 4])
    assert partial.concatenate([5]) == tf.TensorShape([None, 3, 5]) == partial + (5,)
    unknown = tf.TensorShape(None)
    assert unknown.rank is None and unknown[0] is None and repr(unknown) == "TensorShape(None)"
    with pytest.raises(ValueError):
        unknown.as_list()
    # Any shape of known rank is truthy, even the scalar shape.
    assert bool(tf.TensorShape([])) and not bool(unknown)


def test_dtype_ndim_device():
    t = tf.constant([[1, 2]], dtype=tf.int64)
    assert t.dtype == tf.int64 and t.dtype == np.int64 and t.dtype == "int64"
    assert t.ndim == 2
    assert t.device.endswith("CPU:0")


# --- Python protocol -----------------------------------------------------------------------

def test_len_and_iteration():
    values = rng.normal(size=(3, 2)).astype(np.float32)
    t = tf.constant(values)
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, tf.Tensor) for r in rows)
    np.testing.assert_array_equal(np.stack([r.numpy() for r in rows]), values)
    with pytest.raises(TypeError, match="Scalar tensor has no `len\\(\\)`"):
        len(tf.constant(1.0))
    with pytest.raises(TypeError, match="iterate over a scalar"):
        iter(tf.constant(1.0))


def test_bool_of_scalars_and_errors_for_more_than_one_element():
    assert bool(tf.constant(1.0)) and not bool(tf.constant(0))
    assert bool(tf.constant([[True]]))
    assert not bool(tf.constant([]))  # empty: falsy, as in TF
    with pytest.raises(ValueError, match="ambiguous.*reduce_any"):
        bool(tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError):
        if tf.constant([True, False]):
            pass


def test_int_float_index():
    assert float(tf.constant(2.5)) == 2.5 and int(tf.constant(2.7)) == 2
    assert [10, 20, 30][tf.constant(1)] == 20
    assert list(range(tf.constant(3, tf.int64))) == [0, 1, 2]
    with pytest.raises(TypeError):
        [1, 2][tf.constant(1.0)]


def test_hash_by_identity_and_ref():
    a, b = tf.constant(1.0), tf.constant(1.0)
    assert len({a, b}) == 2
    refs = {a.ref(): "a", b.ref(): "b"}
    assert refs[a.ref()] == "a" and a.ref().deref() is a and a.ref() != b.ref()


def test_copy_and_pickle():
    t = tf.constant([1.0, 2.0])
    assert copy.copy(t) is t and copy.deepcopy(t) is t
    restored = pickle.loads(pickle.dumps(t))
    np.testing.assert_array_equal(restored.numpy(), t.numpy())


def test_repr_and_str_like_tensorflow():
    assert repr(tf.constant(2.0)) == "<tf.Tensor: shape=(), dtype=float32, numpy=2.0>"
    assert repr(tf.constant(3)) == "<tf.Tensor: shape=(), dtype=int32, numpy=3>"
    assert repr(tf.constant(True)) == "<tf.Tensor: shape=(), dtype=bool, numpy=True>"
    # Scalars print their value as a Python number, as TF does: float32 0.1 in full.
    assert repr(tf.constant(0.1)) == (
        "<tf.Tensor: shape=(), dtype=float32, numpy=0.10000000149011612>")
    assert repr(tf.constant([1.0, 2.0])) == (
        "<tf.Tensor: shape=(2,), dtype=float32, numpy=array([1., 2.], dtype=float32)>")
    assert repr(tf.constant([[1, 2], [3, 4]])) == (
        "<tf.Tensor: shape=(2, 2), dtype=int32, numpy=\n"
        "array([[1, 2],\n       [3, 4]], dtype=int32)>")
    assert str(tf.constant(2.0)) == "tf.Tensor(2.0, shape=(), dtype=float32)"
    assert str(tf.constant([1.0, 2.0])) == "tf.Tensor([1. 2.], shape=(2,), dtype=float32)"
    assert str(tf.constant([[1.0, 2.0]])) == "tf.Tensor([[1. 2.]], shape=(1, 2), dtype=float32)"
    assert str(tf.constant([[1, 2], [3, 4]])) == (
        "tf.Tensor(\n[[1 2]\n [3 4]], shape=(2, 2), dtype=int32)")


def test_format():
    assert f"{tf.constant(2.0):.3f}" == "2.000"
    assert f"{tf.constant(7):>4}" == "   7"
    assert f"{tf.constant([0.5, 1.0])}" == "[0.5 1. ]"
    with pytest.raises(TypeError):
        f"{tf.constant([0.5, 1.0]):.2f}"


# --- operators ---------------------------------------------------------------------------

BINARY = [
    (operator.add, np.add), (operator.sub, np.subtract), (operator.mul, np.multiply),
    (operator.truediv, np.true_divide), (operator.floordiv, np.floor_divide),
    (operator.mod, np.mod), (operator.pow, np.power), (operator.lt, np.less),
    (operator.le, np.less_equal), (operator.gt, np.greater), (operator.ge, np.greater_equal),
    (operator.eq, np.equal), (operator.ne, np.not_equal),
]


@pytest.mark.parametrize("op, reference", BINARY, ids=[b[0].__name__ for b in BINARY])
def test_binary_operators_match_numpy(op, reference):
    a = rng.uniform(0.5, 3.0, (3, 4)).astype(np.float32)
    b = rng.uniform(0.5, 3.0, (4,)).astype(np.float32)
    b[0] = a[0, 0]  # so == and != see both outcomes
    x, y = tf.constant(a), tf.constant(b)
    forward, reflected = op(x, y), op(2.0, x)  # the second runs the reflected operator
    expected = reference(a, b)
    assert forward.dtype.as_numpy_dtype == expected.dtype.type
    np.testing.assert_allclose(forward.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(reflected.numpy(), reference(np.float32(2.0), a), rtol=1e-6)


def test_integer_operators_match_numpy():
    a = np.array([7, -7, 5, 0], np.int32)
    x = tf.constant(a)
    for result, expected in [(x // 2, a // 2), (x % 3, a % 3), (x * 3, a * 3), (x ** 2, a ** 2),
                             (7 // tf.constant([2, -2]), np.array([3, -4])),
                             (-x, -a), (abs(x), np.abs(a))]:
        assert result.dtype == tf.int32
        np.testing.assert_array_equal(result.numpy(), expected)
    # Integer true division gives float64 for 32/64-bit ints, as in TF.
    assert (x / 2).dtype == tf.float64 and (tf.constant([1], tf.int8) / 2).dtype == tf.float32


def test_matmul_and_unary_operators():
    a = rng.normal(size=(2, 3)).astype(np.float32)
    b = rng.normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose((tf.constant(a) @ tf.constant(b)).numpy(), a @ b, rtol=1e-5)
    np.testing.assert_allclose((a @ tf.constant(b)).numpy(), a @ b, rtol=1e-5)
    np.testing.assert_allclose((tf.constant(a) @ b.astype(np.float64)).numpy(), a @ b,
                               rtol=1e-5)
    np.testing.assert_array_equal((-tf.constant(a)).numpy(), -a)
    np.testing.assert_array_equal(abs(tf.constant(a)).numpy(), np.abs(a))


def test_logical_operators_on_bools():
    p, q = np.array([True, True, False, False]), np.array([True, False, True, False])
    x, y = tf.constant(p), tf.constant(q)
    np.testing.assert_array_equal((x & y).numpy(), p & q)
    np.testing.assert_array_equal((x | y).numpy(), p | q)
    np.testing.assert_array_equal((x ^ y).numpy(), p ^ q)
    np.testing.assert_array_equal((~x).numpy(), ~p)
    np.testing.assert_array_equal((True & y).numpy(), q)
    np.testing.assert_array_equal((x | False).numpy(), p)
    with pytest.raises(TypeError, match="bool"):
        tf.constant([1.0]) & tf.constant([2.0])
    with pytest.raises(TypeError, match="bool"):
        x & 1  # TF refuses to turn the int 1 into a bool


def test_equality_against_none_and_incompatible_shapes():
    t = tf.constant([1, 2])
    assert (t == None) is False and (t != None) is True  # noqa: E711 - the point of the test
    np.testing.assert_array_equal((t == [1, 3]).numpy(), [True, False])
    # TF: == between shapes that do not broadcast is one False, not an error.
    result = t == tf.constant([1, 2, 3])
    assert result.dtype == tf.bool and result.shape == () and not bool(result)
    assert bool(t != tf.constant([1, 2, 3]))
    with pytest.raises(InvalidArgument, match="int32.*float32"):
        t == tf.constant([1.0, 2.0])  # noqa: B015 - dtypes still must match


def test_numpy_operands_defer_to_the_tensor():
    x = tf.constant([1.0, 2.0])
    for result in (np.array([1.0, 2.0]) + x, x + np.array([1.0, 2.0]), np.float64(2.0) * x):
        assert isinstance(result, tf.Tensor) and result.dtype == tf.float32


# --- dtype rules -----------------------------------------------------------------------

def test_python_scalars_take_the_tensor_dtype():
    for dtype in (tf.float16, tf.float32, tf.float64, tf.int8, tf.int32, tf.int64, tf.uint8):
        t = tf.ones([2], dtype)
        for result in (t + 1, 1 + t, t * 2, 2 - t, t // 1):
            assert result.dtype == dtype
        if dtype != tf.uint8:  # TensorFlow has no uint8 pow kernel, and neither do we
            assert (t ** 2).dtype == dtype
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.ones([2], tf.uint8) ** 2
    assert (tf.constant([1.0]) + 0.5).numpy()[0] == 1.5
    assert (tf.constant([1], tf.int32) + True).numpy()[0] == 2
    # Python ints wrap around in small integer dtypes, as in TF.
    assert (tf.constant([1], tf.uint8) + 300).numpy()[0] == (1 + 300) % 256


def test_two_tensors_of_different_dtypes_never_promote():
    with pytest.raises(InvalidArgument) as info:
        tf.constant([1.0]) + tf.constant([1])
    message = str(info.value)
    assert "float32" in message and "int32" in message and "tf.cast" in message
    with pytest.raises(InvalidArgument, match="float64"):
        tf.constant([1.0]) * tf.constant([1.0], tf.float64)
    with pytest.raises(InvalidArgument, match="int64"):
        tf.constant([1]) - tf.constant([1], tf.int64)


@pytest.mark.parametrize("make", [
    lambda i: i + 1.5, lambda i: 1.5 + i, lambda i: i + 1.0, lambda i: i * 0.5,
    lambda i: i < 1.5, lambda i: i ** 0.5, lambda i: i + [1, 2.5], lambda i: i / 2.5,
    lambda i: tf.maximum(i, 1.5),
], ids=["i+1.5", "1.5+i", "i+1.0", "i*0.5", "i<1.5", "i**0.5", "i+list", "i/2.5", "maximum"])
def test_python_float_with_an_int_tensor_is_an_error(make):
    # TF raises InvalidArgumentError for some of these and TypeError for others;
    # neuroflow's error is both, so code catching either keeps working.
    with pytest.raises(DTypeMismatchError) as info:
        make(tf.constant([1, 2]))
    assert isinstance(info.value, TypeError) and isinstance(info.value, InvalidArgument)
    assert "int32" in str(info.value) and "tf.cast" in str(info.value)


def test_numpy_operands_are_cast_to_the_tensor_dtype_as_in_tensorflow():
    f = tf.constant([1.0, 2.0])
    result = f + np.array([0.5, 0.25])  # float64 array meets float32 tensor
    assert result.dtype == tf.float32
    np.testing.assert_array_equal(result.numpy(), np.float32([1.5, 2.25]))
    assert (np.array([1, 2]) * f).dtype == tf.float32
    # Into an integer tensor, NumPy floats truncate (TF casts NumPy values).
    assert (tf.constant([1]) + np.array([1.7])).numpy().tolist() == [2]
    assert (tf.constant([1]) + np.float64(1.7)).numpy().tolist() == [2]


def test_variables_follow_the_same_rules():
    v = tf.Variable([1.0, 2.0])
    assert (v + 1).dtype == tf.float32 and (1 + v).dtype == tf.float32
    with pytest.raises(InvalidArgument, match="float32.*int32"):
        v + tf.constant([1, 2])


# --- indexing ---------------------------------------------------------------------------

KEYS = [
    1, -1, slice(None, None, -1), slice(3, 0, -2), (Ellipsis, 0), (None, 1), (slice(None), None),
    (1, Ellipsis, None), (slice(-1, None), 2, slice(None, None, -3)), (Ellipsis,), (),
    (slice(10, 20),), (0, 1, 2),
]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_indexing_matches_numpy(key):
    values = np.arange(60).reshape(3, 4, 5).astype(np.float32)
    np.testing.assert_array_equal(tf.constant(values)[key].numpy(), values[key])


def test_scalar_tensor_indices_and_slice_bounds():
    values = np.arange(24).reshape(4, 6)
    t = tf.constant(values)
    np.testing.assert_array_equal(t[tf.constant(2)].numpy(), values[2])
    np.testing.assert_array_equal(t[tf.constant(1, tf.int64), np.int64(3)].numpy(), values[1, 3])
    np.testing.assert_array_equal(t[tf.constant(1):tf.constant(3)].numpy(), values[1:3])
    np.testing.assert_array_equal(t[:, tf.newaxis].numpy(), values[:, None])
    np.testing.assert_array_equal(tf.Variable(values)[-1, ::2].numpy(), values[-1, ::2])


@pytest.mark.parametrize("key", [[0, 1], np.array([0, 1])], ids=["list", "array"])
def test_list_indices_point_to_gather(key):
    with pytest.raises(TypeError, match="tf.gather"):
        tf.zeros([3, 2])[key]
    with pytest.raises(TypeError, match="tf.gather"):
        tf.zeros([3, 2])[tf.constant([0, 1])]


def test_float_indices_are_refused():
    with pytest.raises(TypeError):
        tf.zeros([3])[1.0]


@pytest.mark.parametrize("shape, key, axis, size", [
    ([3], 3, 0, 3), ([3], -4, 0, 3), ([2, 5], (0, 5), 1, 5), ([2, 3, 4], (Ellipsis, 4), 2, 4),
])
def test_out_of_range_index_names_the_axis_and_its_size(shape, key, axis, size):
    with pytest.raises(InvalidArgument) as info:
        tf.zeros(shape)[key]
    message = str(info.value)
    assert f"axis {axis}" in message and f"size {size}" in message
