"""tf.Variable: creation, assignment, reading, operators and printing, as in TensorFlow 2."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import neuroflow as tf

InvalidArgument = tf.errors.InvalidArgumentError


def test_creation_names_and_defaults():
    v = tf.Variable([1.0, 2.0])
    assert v.name == "Variable:0" and v.trainable
    assert v.dtype == tf.float32 and v.shape == (2,) and isinstance(v.shape, tf.TensorShape)
    assert tf.Variable(1.0, name="w").name == "w:0"
    assert tf.Variable(1.0, name="dense/kernel").name == "dense/kernel:0"
    assert not tf.Variable(1.0, trainable=False).trainable
    assert tf.Variable(3).dtype == tf.int32 and tf.Variable(3).trainable
    assert tf.Variable(np.zeros(2)).dtype == tf.float64  # NumPy keeps its dtype
    assert tf.Variable(1, dtype=tf.float32).dtype == tf.float32
    np.testing.assert_array_equal(tf.Variable(lambda: tf.ones([2])).numpy(), [1.0, 1.0])
    assert tf.Variable(tf.Variable([5.0])).numpy().tolist() == [5.0]


def test_creation_errors():
    with pytest.raises(ValueError, match="initial_value"):
        tf.Variable()
    with pytest.raises(TypeError, match="int32"):
        tf.Variable(1.5, dtype=tf.int32)
    with pytest.raises(ValueError, match="float32"):
        tf.Variable(tf.constant([1, 2]), dtype=tf.float32)
    with pytest.raises(ValueError, match="shape"):
        tf.Variable([1.0, 2.0], shape=[3])
    with pytest.raises(AttributeError):
        tf.Variable(1.0).trainable = False


def test_variable_does_not_share_memory_with_its_initial_value():
    array = np.zeros(2, np.float32)
    tensor = tf.constant([1.0, 2.0])
    from_array, from_tensor = tf.Variable(array), tf.Variable(tensor)
    array[0] = 7.0
    from_tensor.assign_add([1.0, 1.0])
    assert from_array.numpy()[0] == 0.0 and tensor.numpy().tolist() == [1.0, 2.0]


def test_assign_returns_the_variable_holding_the_new_value():
    v = tf.Variable([1.0, 2.0])
    result = v.assign([3.0, 4.0])
    np.testing.assert_array_equal(result.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(v.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(v.assign_add([1.0, 1.0]).numpy(), [4.0, 5.0])
    np.testing.assert_array_equal(v.assign_sub([0.5, 0.5]).numpy(), [3.5, 4.5])
    # The result reads the variable, so chains act on it as in TF.
    np.testing.assert_array_equal(v.assign([0.0, 0.0]).assign_add([2.0, 3.0]).numpy(), [2, 3])
    np.testing.assert_array_equal(v.numpy(), [2.0, 3.0])
    np.testing.assert_array_equal((v.assign([1.0, 1.0]) + 1).numpy(), [2.0, 2.0])
    assert v.assign([5.0, 5.0], read_value=False) is None
    assert v.assign_add([1.0, 1.0], read_value=False) is None
    np.testing.assert_array_equal(v.numpy(), [6.0, 6.0])


def test_assign_converts_python_and_numpy_values_to_the_variable_dtype():
    v = tf.Variable([1.0, 2.0])
    v.assign([1, 2])  # Python ints into float32
    assert v.dtype == tf.float32
    v.assign(np.array([0.5, 1.5]))  # float64 array into float32, as TF casts
    assert v.dtype == tf.float32 and v.numpy().tolist() == [0.5, 1.5]
    v.assign(tf.Variable([7.0, 8.0]))
    assert v.numpy().tolist() == [7.0, 8.0]
    ints = tf.Variable([1, 2])
    with pytest.raises(TypeError, match="int32"):
        ints.assign([1.5, 2.0])


def test_assign_of_another_dtype_names_both_and_suggests_cast():
    v = tf.Variable([1.0, 2.0], name="w")
    for value in (tf.constant([1, 2]), tf.constant([1.0, 2.0], tf.float64)):
        with pytest.raises(ValueError) as info:
            v.assign(value)
        message = str(info.value)
        assert "float32" in message and value.dtype.name in message
        assert "tf.cast" in message and "'w:0'" in message
    with pytest.raises(InvalidArgument, match="int32"):
        v.assign_add(tf.constant([1, 1]))
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])  # unchanged by the failures


@pytest.mark.parametrize("method", ["assign", "assign_add", "assign_sub"])
@pytest.mark.parametrize("value", [[1.0, 2.0, 3.0], 1.0, [[1.0, 2.0]]])
def test_assign_of_another_shape_is_refused_without_broadcasting(method, value):
    v = tf.Variable([1.0, 2.0], name="w")
    with pytest.raises(ValueError) as info:
        getattr(v, method)(value)
    message = str(info.value)
    assert "(2,)" in message and str(np.shape(value)) in message and "'w:0'" in message
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_declared_partial_shape_allows_assigning_new_shapes():
    v = tf.Variable([1.0], shape=tf.TensorShape([None]))
    assert v.shape.as_list() == [None]
    v.assign([1.0, 2.0, 3.0])
    assert v.numpy().tolist() == [1.0, 2.0, 3.0] and v.shape.as_list() == [None]
    unknown = tf.Variable([1.0], shape=tf.TensorShape(None))
    unknown.assign([[1.0, 2.0]])
    assert unknown.shape == tf.TensorShape(None) and unknown.numpy().shape == (1, 2)
    with pytest.raises(ValueError):
        v.assign([[1.0]])  # the rank is still known


def test_read_value_value_and_conversion_give_snapshots():
    v = tf.Variable([1.0, 2.0])
    snapshot = v.read_value()
    also = v.value()
    converted = tf.convert_to_tensor(v)
    v.assign([5.0, 6.0])
    for tensor in (snapshot, also, converted):
        assert isinstance(tensor, tf.Tensor) and tensor.numpy().tolist() == [1.0, 2.0]
    assert tf.identity(v).numpy().tolist() == [5.0, 6.0]


def test_numpy_and_array_protocol():
    v = tf.Variable([[1.0, 2.0]])
    out = v.numpy()
    out[0, 0] = 9.0
    assert v.numpy()[0, 0] == 1.0
    view = np.asarray(v)
    assert not view.flags.writeable  # writing to it must not change the variable
    assert np.asarray(v, dtype=np.float64).dtype == np.float64
    assert np.sum(v) == 3.0 and np.mean(tf.Variable([1.0, 3.0])) == 2.0


def test_operators_read_the_current_value():
    v = tf.Variable([2.0, 4.0])
    w = tf.Variable([1.0, 2.0])
    cases = [(v + 1, [3, 5]), (1 + v, [3, 5]), (v - w, [1, 2]), (2 - v, [0, -2]),
             (v * w, [2, 8]), (v / 2, [1, 2]), (8 / v, [4, 2]), (v // 3, [0, 1]),
             (v % 3, [2, 1]), (v ** 2, [4, 16]), (-v, [-2, -4]), (abs(-v), [2, 4]),
             (v > 3, [False, True]), (v == w * 2, [True, True]), (v[1], 4.0), (v[::-1], [4, 2])]
    for result, expected in cases:
        assert isinstance(result, tf.Tensor)
        np.testing.assert_array_equal(result.numpy(), expected)
    matrix = tf.Variable([[1.0, 2.0]])
    np.testing.assert_array_equal((matrix @ tf.Variable([[3.0], [4.0]])).numpy(), [[11.0]])
    v.assign([0.0, 1.0])
    np.testing.assert_array_equal((v + 1).numpy(), [1.0, 2.0])


def test_python_protocol():
    assert bool(tf.Variable(1.0)) and not bool(tf.Variable(0))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(tf.Variable([1.0, 2.0]))
    assert float(tf.Variable(1.5)) == 1.5 and int(tf.Variable(3)) == 3
    assert [10, 20, 30][tf.Variable(2)] == 30
    assert [t.numpy() for t in tf.Variable([1.0, 2.0])] == [1.0, 2.0]
    v, w = tf.Variable(1.0), tf.Variable(1.0)
    assert len({v, w}) == 2 and {v.ref(): 1}[v.ref()] == 1 and v.ref().deref() is v


def test_repr_and_str_like_tensorflow():
    assert repr(tf.Variable([1.0, 2.0])) == (
        "<tf.Variable 'Variable:0' shape=(2,) dtype=float32, "
        "numpy=array([1., 2.], dtype=float32)>")
    assert repr(tf.Variable(1.0, name="w")) == (
        "<tf.Variable 'w:0' shape=() dtype=float32, numpy=1.0>")
    assert str(tf.Variable([[1, 2], [3, 4]])) == (
        "<tf.Variable 'Variable:0' shape=(2, 2) dtype=int32, numpy=\n"
        "array([[1, 2],\n       [3, 4]], dtype=int32)>")


def test_copy_and_deepcopy():
    v = tf.Variable([1.0, 2.0], name="w", trainable=False)
    assert copy.copy(v) is v
    clone = copy.deepcopy(v)
    clone.assign([3.0, 4.0])
    assert v.numpy().tolist() == [1.0, 2.0]
    assert clone.name == "w:0" and not clone.trainable and clone.dtype == tf.float32


def test_is_tensor_but_not_a_tensor_instance():
    v = tf.Variable(1.0)
    assert tf.is_tensor(v) and not isinstance(v, tf.Tensor)
    assert v.device.endswith("CPU:0") and v.get_shape() == ()


def test_scalar_variables_stay_arrays_through_updates():
    # NumPy turns 0-d arithmetic into scalars; the variable must still behave as a tensor.
    step = tf.Variable(0, dtype=tf.int64)
    for _ in range(3):
        step.assign_add(1)
    step.assign_sub(tf.constant(1, tf.int64))
    assert step.numpy() == 2 and isinstance(step.numpy(), np.int64)
    assert repr(step) == "<tf.Variable 'Variable:0' shape=() dtype=int64, numpy=2>"
    assert (step + 1).numpy() == 3 and step.shape == ()
