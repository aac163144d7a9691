"""Errors a user can act on: they name the op, what it received, and how to fix it."""

from __future__ import annotations

import re

import numpy as np
import pytest
from _opcheck import raises_with_message as _raises

import neuroflow as tf

InvalidArgument = tf.errors.InvalidArgumentError


def test_broadcast_mismatch_names_the_op_and_both_shapes():
    _raises(InvalidArgument, lambda: tf.add(tf.zeros([2, 3]), tf.zeros([4])),
            "add", "(2, 3)", "(4,)")
    _raises(InvalidArgument, lambda: tf.zeros([2, 3]) * tf.zeros([3, 2]),
            "multiply", "(2, 3)", "(3, 2)")
    _raises(InvalidArgument, lambda: tf.where(tf.constant([True, False]), tf.zeros([3]), 1.0),
            "where", "(2,)", "(3,)")


def test_matmul_inner_dimension_mismatch():
    _raises(InvalidArgument, lambda: tf.matmul(tf.zeros([2, 3]), tf.zeros([4, 5])),
            "matmul", "(2, 3)", "(4, 5)", "3 != 4", "transpose")
    _raises(InvalidArgument, lambda: tf.matmul(tf.zeros([2, 2, 3]), tf.zeros([3, 3, 4])),
            "matmul", "batch dimensions", "(2,)", "(3,)")


def test_dtype_mismatch_names_both_dtypes_and_suggests_cast():
    message = _raises(InvalidArgument,
                      lambda: tf.add(tf.zeros([2]), tf.zeros([2], tf.int32)),
                      "add", "float32", "int32", "tf.cast")
    assert re.search(r"tf\.cast\(\w+, tf\.(float32|int32)\)", message)
    _raises(InvalidArgument, lambda: tf.matmul(tf.zeros([2, 2]), tf.zeros([2, 2], tf.float64)),
            "matmul", "float32", "float64", "tf.cast")
    _raises(InvalidArgument, lambda: tf.concat([tf.zeros([2]), tf.zeros([2], tf.int32)], 0),
            "concat", "float32", "int32", "tf.cast")


@pytest.mark.parametrize("make, axis, size, index", [
    (lambda: tf.zeros([3])[5], 0, 3, 5),
    (lambda: tf.zeros([3, 4])[:, 7], 1, 4, 7),
    (lambda: tf.zeros([3])[-4], 0, 3, -4),
    (lambda: tf.zeros([2, 3, 4])[..., 4], 2, 4, 4),
])
def test_out_of_range_index_names_the_axis_and_its_size(make, axis, size, index):
    # TensorFlow raises InvalidArgumentError (from StridedSlice) here.
    _raises(InvalidArgument, make, f"Index {index}", f"axis {axis}", f"size {size}")


def test_too_many_indices():
    _raises(InvalidArgument, lambda: tf.zeros([3])[0, 0], "rank 1", "2")


def test_gather_out_of_range_names_the_index_and_the_axis_size():
    _raises(InvalidArgument, lambda: tf.gather(tf.zeros([4, 2]), [1, 4]),
            "gather", "index 4", "axis 0", "size 4")
    _raises(InvalidArgument, lambda: tf.gather(tf.zeros([4, 2]), [-1], axis=1),
            "gather", "index -1", "axis 1", "size 2")


def test_reshape_to_the_wrong_size():
    _raises(InvalidArgument, lambda: tf.reshape(tf.zeros([2, 3]), [4]),
            "reshape", "6 elements", "(2, 3)", "[4]")
    _raises(InvalidArgument, lambda: tf.reshape(tf.zeros([2, 3]), [-1, 4]),
            "reshape", "6 elements", "[-1, 4]")
    _raises(InvalidArgument, lambda: tf.reshape(tf.zeros([2, 3]), [-1, -1]),
            "reshape", "only one dimension can be -1")


def test_concat_and_stack_shape_mismatch():
    _raises(InvalidArgument, lambda: tf.concat([tf.zeros([2, 3]), tf.zeros([2, 4])], 0),
            "concat", "values[1]", "(2, 4)", "(2, 3)", "axis 0")
    _raises(InvalidArgument, lambda: tf.concat([tf.zeros([2, 3]), tf.zeros([3])], 0),
            "concat", "(3,)", "(2, 3)")
    _raises(InvalidArgument, lambda: tf.stack([tf.zeros([2]), tf.zeros([3])]),
            "stack", "values[1]", "(3,)", "(2,)")


@pytest.mark.parametrize("make, fragments", [
    (lambda: tf.transpose(tf.zeros([2, 3]), [0, 0]), ("transpose", "[0, 0]", "(2, 3)")),
    (lambda: tf.broadcast_to(tf.zeros([2, 3]), [4, 3]), ("broadcast_to", "(2, 3)", "[4, 3]")),
    (lambda: tf.squeeze(tf.zeros([2, 1]), axis=0), ("squeeze", "axis 0", "size is 2")),
    (lambda: tf.expand_dims(tf.zeros([2]), 3), ("expand_dims", "axis 3", "rank 1")),
    (lambda: tf.split(tf.zeros([5]), [2, 2]), ("split", "[2, 2]", "size 5")),
    (lambda: tf.tile(tf.zeros([2, 3]), [2]), ("tile", "length 1", "rank 2")),
    (lambda: tf.reduce_sum(tf.zeros([2, 3]), axis=-3), ("reduce_sum", "axis -3", "rank 2")),
    (lambda: tf.einsum("ij,jk->ik", tf.zeros([2, 3]), tf.zeros([3])),
     ("einsum", "operand 1", "rank 1", "'jk'")),
    (lambda: tf.tensordot(tf.zeros([2, 3]), tf.zeros([4, 2]), 1),
     ("tensordot", "size 3", "size 4")),
    (lambda: tf.pad(tf.zeros([2, 3]), [[1, 1]]), ("pad", "(2, 2)", "(1, 2)")),
    (lambda: tf.slice(tf.zeros([3, 4]), [2, 0], [2, 4]), ("slice", "axis 0", "size 3")),
    (lambda: tf.nn.bias_add(tf.zeros([2, 3]), tf.zeros([4])), ("bias_add", "4", "3")),
    (lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 1],
                                                            logits=tf.zeros([3, 4])),
     ("labels must have shape", "(3,)", "(2,)")),
    (lambda: tf.math.top_k(tf.zeros([3]), k=4), ("top_k", "k=4", "size 3")),
])
def test_shape_errors_say_what_was_expected_and_received(make, fragments):
    _raises(InvalidArgument, make, *fragments)


@pytest.mark.parametrize("make, fragments", [
    (lambda: tf.exp(tf.constant([1, 2])), ("exp", "int32", "tf.cast")),
    (lambda: tf.logical_and(tf.constant([1]), tf.constant([0])), ("logical_and", "bool")),
    (lambda: tf.where(tf.constant([1, 0]), 1.0, 2.0), ("where", "bool")),
    (lambda: tf.gather(tf.zeros([3]), [0.5]), ("gather", "integers")),
    (lambda: tf.zeros([3, 2])[tf.constant([True, False, True]), 0], ("tf.boolean_mask",)),
    (lambda: tf.zeros([3])[tf.constant([0, 1])], ("tf.gather",)),
    (lambda: tf.reduce_sum(tf.constant([True])), ("reduce_sum", "tf.cast")),
    (lambda: tf.nn.softmax(tf.constant([1, 2])), ("softmax", "int32", "tf.cast")),
])
def test_type_errors_suggest_the_fix(make, fragments):
    _raises(TypeError, make, *fragments)


def test_value_errors():
    _raises(ValueError, lambda: tf.pad(tf.zeros([2]), [[1, 1]], mode="WRAP"), "WRAP", "REFLECT")
    _raises(ValueError, lambda: tf.argsort(tf.zeros([2]), direction="UP"), "DESCENDING")
    _raises(InvalidArgument, lambda: tf.math.floordiv(tf.constant([1]), tf.constant([0])),
            "floordiv", "division by zero")
    _raises(InvalidArgument, lambda: tf.pow(tf.constant([2]), tf.constant([-1])),
            "pow", "negative", "cast")


def test_errors_are_also_python_builtins():
    # Code that catches ValueError keeps working, as the errors module promises.
    with pytest.raises(ValueError):
        tf.reshape(tf.zeros([2, 3]), [4])
    assert issubclass(InvalidArgument, ValueError)


@pytest.mark.parametrize("make, received", [
    (lambda: tf.reshape(tf.zeros([2, 3]), [2.0, 3.0]), "2.0"),
    (lambda: tf.reshape(tf.zeros([2, 3]), tf.constant([2.0, 3.0])), "float32 tensor"),
    (lambda: tf.reshape(tf.zeros([2, 3]), np.array([2.0, 3.0])), "float64"),
    (lambda: tf.reshape(tf.zeros([2, 3]), [True, 6]), "True"),
    (lambda: tf.reshape(tf.zeros([1]), 1.0), "1.0"),
    (lambda: tf.zeros([2.5]), "2.5"),
    (lambda: tf.random.normal(tf.constant([2.0])), "float32 tensor"),
    (lambda: tf.tile(tf.zeros([2]), [2.0]), "2.0"),
])
def test_shapes_must_be_integers(make, received):
    # TensorFlow raises InvalidArgumentError for float shape lists and tensors, TypeError
    # for a float scalar; the error here is both.
    for error in (InvalidArgument, TypeError):
        _raises(error, make, "integers", received)


@pytest.mark.parametrize("make, fragments", [
    (lambda: tf.tile(tf.zeros([2, 3]), [-1, 2]), ("tile", "multiples[0] >= 0", "-1")),
    (lambda: tf.reshape(tf.zeros([2, 3]), [-2, -3]), ("reshape", "non-negative", "-2")),
    (lambda: tf.zeros([2, -1]), ("zeros", "Dimension -1 must be >= 0", "[2, -1]")),
    (lambda: tf.ones([-3]), ("ones", "Dimension -3 must be >= 0")),
    (lambda: tf.fill([-1, 2], 1.0), ("fill", "Dimension -1 must be >= 0")),
    (lambda: tf.random.normal([-1, 2]), ("normal", "Dimension -1 must be >= 0", "[-1, 2]")),
    (lambda: tf.random.truncated_normal([3, -2]), ("truncated_normal", "Dimension -2")),
    (lambda: tf.random.uniform([-1]), ("uniform", "Dimension -1 must be >= 0")),
    (lambda: tf.random.uniform([2, -4], maxval=3, dtype=tf.int32), ("uniform", "Dimension -4")),
    (lambda: tf.random.categorical(tf.zeros([2, 3]), -1), ("categorical", "non-negative")),
])
def test_negative_sizes_are_refused(make, fragments):
    _raises(InvalidArgument, make, *fragments)
