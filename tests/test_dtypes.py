"""DType objects, names and conversions, as TensorFlow defines them."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import dtypes

# name, NumPy type, (is_floating, is_integer, is_unsigned, is_bool, is_complex)
TABLE = [
    ("bool", np.bool_, (False, False, False, True, False)),
    ("int8", np.int8, (False, True, False, False, False)),
    ("int16", np.int16, (False, True, False, False, False)),
    ("int32", np.int32, (False, True, False, False, False)),
    ("int64", np.int64, (False, True, False, False, False)),
    ("uint8", np.uint8, (False, True, True, False, False)),
    ("float16", np.float16, (True, False, False, False, False)),
    ("float32", np.float32, (True, False, False, False, False)),
    ("float64", np.float64, (True, False, False, False, False)),
    ("complex64", np.complex64, (False, False, False, False, True)),
]


@pytest.mark.parametrize("name, np_type, flags", TABLE, ids=[row[0] for row in TABLE])
def test_dtype_attributes(name, np_type, flags):
    dtype = tf.as_dtype(name)
    assert dtype.name == name and repr(dtype) == f"tf.{name}"
    assert dtype.as_numpy_dtype is np_type and dtype.size == np.dtype(np_type).itemsize
    assert (dtype.is_floating, dtype.is_integer, dtype.is_unsigned, dtype.is_bool,
            dtype.is_complex) == flags
    # Every spelling of the dtype names the same object and compares equal.
    assert tf.as_dtype(np_type) is dtype and tf.as_dtype(np.dtype(np_type)) is dtype
    assert dtype == np_type and dtype == name and dtype == tf.as_dtype(dtype)
    assert hash(dtype) == hash(tf.as_dtype(np_type))
    assert tf.constant(np.zeros(2, np_type)).dtype is dtype
    assert pickle.loads(pickle.dumps(dtype)) is dtype
    assert dtype.is_compatible_with(name) and dtype.base_dtype is dtype


def test_public_names():
    assert tf.bool.name == "bool" and tf.float32 is tf.dtypes.float32
    assert tf.as_dtype("float") is tf.float32 and tf.as_dtype("double") is tf.float64
    assert tf.as_dtype("half") is tf.float16 and tf.as_dtype(float) is tf.float32
    assert tf.dtypes.as_dtype("int64") is tf.int64


def test_min_max_and_real_dtype():
    assert tf.uint8.max == 255 and tf.int8.min == -128
    assert tf.float32.max == np.finfo(np.float32).max
    assert tf.float16.min == np.finfo(np.float16).min
    assert tf.complex64.real_dtype is tf.float32 and tf.complex128.real_dtype is tf.float64
    assert tf.float32.real_dtype is tf.float32


def test_inequality_with_other_dtypes_and_non_dtypes():
    assert tf.float32 != tf.float64 and tf.int32 != np.int64
    assert tf.float32 != None  # noqa: E711 - comparing with None must not raise
    assert not tf.float32.is_compatible_with(tf.int32)


def test_unknown_dtypes_raise_type_error_listing_the_names():
    with pytest.raises(TypeError, match="float32"):
        tf.as_dtype("foo")
    with pytest.raises(TypeError):
        tf.as_dtype(np.dtype("M8[s]"))
    assert tf.as_dtype(np.dtype("U3")) is tf.string  # NumPy's text dtypes name tf.string


def test_default_dtypes_for_python_scalars():
    assert dtypes.default_for_python(1.0) == np.float32
    assert dtypes.default_for_python(1) == np.int32
    assert dtypes.default_for_python(2**31) == np.int64
    assert dtypes.default_for_python(True) == np.bool_
    assert dtypes.default_for_python(1j) == np.complex128


def test_dtypes_cast_is_tf_cast():
    result = tf.dtypes.cast(tf.constant([1.7, -1.7]), tf.int32)
    assert result.dtype == tf.int32 and result.numpy().tolist() == [1, -1]
