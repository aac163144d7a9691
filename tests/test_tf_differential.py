"""Differential tests: the same code under TensorFlow and under neuroflow.

Each case is a function of the ``tf`` module. It runs under both; the results
must agree in dtype, shape and value (or printed text), or both runs must raise
errors of the same kind. Skipped where TensorFlow is not installed; run it with
an interpreter that has TensorFlow and neuroflow on its path.

Deliberate differences are left out of the table and listed here: neuroflow
hashes tensors and variables by identity (TF raises TypeError; ``x.ref()``
works in both); a list index ``x[[0, 1]]`` is a TypeError pointing to
``tf.gather`` (TF reads it as ``x[0, 1]``); ``assign`` returns the variable
itself (TF returns a view of it named 'UnreadVariable').
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tensorflow = pytest.importorskip("tensorflow")

import neuroflow  # noqa: E402 - after the skip, so the module is skipped as a whole

pytestmark = pytest.mark.tensorflow


# --- cases: each returns a value (or raises) ------------------------------------------------

def _grad(tf, fn, *values, persistent=False):
    xs = [tf.constant(v) for v in values]
    with tf.GradientTape(persistent=persistent) as tape:
        tape.watch(xs)
        y = fn(tf, *xs)
    return tape.gradient(y, xs)


CASES = {
    # conversion and default dtypes
    "float": lambda tf: tf.constant(1.5),
    "int": lambda tf: tf.constant(3),
    "big-int": lambda tf: tf.constant(2**40),
    "bool": lambda tf: tf.constant([True, False]),
    "complex": lambda tf: tf.constant(1 + 2j),
    "nested-list": lambda tf: tf.constant([[1, 2], [3, 4]]),
    "mixed-list": lambda tf: tf.constant([1, 2.5]),
    "empty": lambda tf: tf.constant([]),
    "np-f64": lambda tf: tf.constant(np.array([0.1, 0.2])),
    "np-scalar-f64": lambda tf: tf.constant(np.float64(1.5)),
    "np-uint8": lambda tf: tf.constant(np.arange(3, dtype=np.uint8)),
    "list-of-np-scalars": lambda tf: tf.constant([1.5, np.float64(2.0), np.int64(1)]),
    "list-of-np-ints": lambda tf: tf.constant([np.int64(1), 2]),
    "f64-exact": lambda tf: tf.constant(0.1, tf.float64),
    "int-to-float": lambda tf: tf.constant(1, tf.float32),
    "bool-to-int": lambda tf: tf.constant(True, tf.int32),
    "wrap-uint8": lambda tf: tf.constant(300, tf.uint8),
    "np-truncate": lambda tf: tf.constant(np.array([1.7, -1.7]), tf.int32),
    "float-to-int": lambda tf: tf.constant(1.5, tf.int32),
    "float-1.0-to-int": lambda tf: tf.constant(1.0, tf.int32),
    "int-to-bool": lambda tf: tf.constant(1, tf.bool),
    "ragged": lambda tf: tf.constant([[1], [1, 2]]),
    "none": lambda tf: tf.constant(None),
    "shape-broadcast": lambda tf: tf.constant(7, shape=[2, 3]),
    "shape-reshape": lambda tf: tf.constant([1, 2, 3, 4], shape=[2, 2]),
    "shape-bad": lambda tf: tf.constant([1, 2, 3], shape=[2, 2]),
    "convert-hint": lambda tf: tf.convert_to_tensor(1, dtype_hint=tf.float32),
    "convert-hint-ignored": lambda tf: tf.convert_to_tensor(1.5, dtype_hint=tf.int32),
    "convert-np-hint": lambda tf: tf.convert_to_tensor(np.array([1.5]), dtype_hint=tf.int32),
    "convert-tensor-dtype": lambda tf: tf.convert_to_tensor(tf.constant(1.0), tf.float64),
    "convert-pack": lambda tf: tf.convert_to_tensor([tf.constant([1.0]), [2.0]]),
    "convert-pack-int": lambda tf: tf.convert_to_tensor([tf.constant(1), 2]),
    "convert-pack-bad": lambda tf: tf.convert_to_tensor([1.5, tf.constant(1)]),
    "convert-shape": lambda tf: tf.convert_to_tensor(tf.TensorShape([2, 3])),
    # arithmetic dtype rules
    "f32+int": lambda tf: tf.constant([1.0]) + 1,
    "int+True": lambda tf: tf.constant([1]) + True,
    "u8+300": lambda tf: tf.constant([1], tf.uint8) + 300,
    "i32+i64-tensor": lambda tf: tf.constant([1]) + tf.constant([1], tf.int64),
    "f32+f64-tensor": lambda tf: tf.constant([1.0]) + tf.constant([1.0], tf.float64),
    "f32*i32-tensor": lambda tf: tf.constant([1.0]) * tf.constant([1]),
    "int+float": lambda tf: tf.constant([1]) + 1.5,
    "float+int-tensor": lambda tf: 1.5 + tf.constant([1]),
    "int<float": lambda tf: tf.constant([1]) < 1.5,
    "int**0.5": lambda tf: tf.constant([4]) ** 0.5,
    "f32+np-f64": lambda tf: tf.constant([1.0]) + np.array([0.1]),
    "np-f64+f32": lambda tf: np.array([0.1]) + tf.constant([1.0]),
    "np-i64*f32": lambda tf: np.array([2]) * tf.constant([1.5]),
    "i32+np-f64": lambda tf: tf.constant([1]) + np.array([1.7]),
    "i32+np-scalar": lambda tf: tf.constant([1]) + np.float64(1.7),
    "f32+list": lambda tf: tf.constant([1.0, 2.0]) + [1, 2],
    "i32+float-list": lambda tf: tf.constant([1, 2]) + [1, 2.5],
    "int/int": lambda tf: tf.constant([7]) / 2,
    "int8/int8": lambda tf: tf.constant([7], tf.int8) / tf.constant([2], tf.int8),
    "int64/int": lambda tf: tf.constant([7], tf.int64) / 2,
    "floordiv": lambda tf: tf.constant([7, -7]) // 2,
    "floormod": lambda tf: tf.constant([7, -7]) % 3,
    "float-mod": lambda tf: tf.constant([7.5, -7.5]) % 2.0,
    "rpow": lambda tf: 2 ** tf.constant([3]),
    "rsub": lambda tf: 1 - tf.constant([3]),
    "rtruediv": lambda tf: 1 / tf.constant([4.0]),
    "matmul-np": lambda tf: tf.constant([[1.0, 2.0]]) @ np.array([[1.0], [2.0]]),
    "rmatmul-np": lambda tf: np.array([[1.0, 2.0]], np.float32) @ tf.constant([[1.0], [2.0]]),
    "bool-and": lambda tf: tf.constant([True, False]) & tf.constant([True, True]),
    "bool-xor": lambda tf: tf.constant([True, False]) ^ True,
    "bool-invert": lambda tf: ~tf.constant([True, False]),
    "bool-and-int": lambda tf: tf.constant([True]) & 1,
    "bool-eq-int": lambda tf: tf.constant([True]) == 1,
    # comparisons
    "eq-list": lambda tf: tf.constant([1, 2]) == [1, 3],
    "eq-none": lambda tf: tf.constant([1, 2]) == None,  # noqa: E711
    "ne-none": lambda tf: tf.constant([1, 2]) != None,  # noqa: E711
    "eq-incompatible": lambda tf: tf.constant([1, 2]) == tf.constant([1, 2, 3]),
    "ne-incompatible": lambda tf: tf.constant([1, 2]) != tf.constant([1, 2, 3]),
    "eq-dtype": lambda tf: tf.constant([1, 2]) == tf.constant([1.0, 2.0]),
    "eq-float-int": lambda tf: tf.constant([1, 2]) == 1.5,
    # indexing
    "index-int": lambda tf: tf.reshape(tf.range(24), [2, 3, 4])[1],
    "index-negative-step": lambda tf: tf.reshape(tf.range(24), [2, 3, 4])[-1, ::-1, 3:0:-2],
    "index-ellipsis": lambda tf: tf.reshape(tf.range(24), [2, 3, 4])[..., 1],
    "index-newaxis": lambda tf: tf.reshape(tf.range(24), [2, 3, 4])[:, tf.newaxis, None, 0],
    "index-tensor": lambda tf: tf.range(5)[tf.constant(3)],
    "index-tensor-slice": lambda tf: tf.range(5)[tf.constant(1):tf.constant(4)],
    "index-past-end": lambda tf: tf.range(5)[3:10],
    "index-out-of-range": lambda tf: tf.range(5)[5],
    "index-tensor-vector": lambda tf: tf.range(5)[tf.constant([1, 2])],
    "index-float": lambda tf: tf.range(5)[1.0],
    # Python protocol
    "len": lambda tf: len(tf.zeros([3, 2])),
    "len-scalar": lambda tf: len(tf.constant(1.0)),
    "iterate": lambda tf: list(tf.constant([[1, 2], [3, 4]])),
    "iterate-scalar": lambda tf: list(tf.constant(1)),
    "bool-scalar": lambda tf: bool(tf.constant(0.0)),
    "bool-one": lambda tf: bool(tf.constant([[2.0]])),
    "bool-empty": lambda tf: bool(tf.constant([])),
    "bool-many": lambda tf: bool(tf.constant([1.0, 2.0])),
    "int()": lambda tf: int(tf.constant(2.7)),
    "index()": lambda tf: [10, 20, 30][tf.constant(2)],
    "np.asarray": lambda tf: np.asarray(tf.constant([[1.0, 2.0]])),
    "asarray-readonly": lambda tf: np.asarray(tf.constant([1.0])).flags.writeable,
    "np.sum": lambda tf: np.sum(tf.constant([1.0, 2.0])),
    "numpy-scalar": lambda tf: type(tf.constant(1.5).numpy()).__name__,
    "format": lambda tf: f"{tf.constant(2.0):.3f}|{tf.constant([1.0, 2.0])}",
    "shape": lambda tf: (tf.zeros([2, 3]).shape.as_list(), tf.zeros([2, 3]).shape.rank,
                         str(tf.zeros([2]).shape), repr(tf.zeros([2, 3]).shape)),
    "shape-eq": lambda tf: (tf.zeros([2, 3]).shape == (2, 3), tf.zeros([2, 3]).shape == [2, 4]),
    "shape-slice": lambda tf: repr(tf.zeros([2, 3, 4]).shape[1:]),
    "shape-bool": lambda tf: (bool(tf.TensorShape([])), bool(tf.TensorShape(None))),
    "shape-merge": lambda tf: repr(tf.TensorShape([None, 3]).merge_with([2, None])),
    # printing
    "repr-scalar": lambda tf: repr(tf.constant(0.1)),
    "repr-f16": lambda tf: repr(tf.constant(0.1, tf.float16)),
    "repr-bool": lambda tf: repr(tf.constant(True)),
    "repr-vector": lambda tf: repr(tf.constant([1.0, 2.0])),
    "repr-matrix": lambda tf: repr(tf.constant([[1, 2], [3, 4]])),
    "repr-long": lambda tf: repr(tf.range(2000)),
    "str-scalar": lambda tf: str(tf.constant(2)),
    "str-vector": lambda tf: str(tf.constant([1.5, 2.0])),
    "str-row": lambda tf: str(tf.constant([[1.0, 2.0]])),
    "str-matrix": lambda tf: str(tf.constant([[1.0, 2.0], [3.0, 4.0]])),
    "repr-variable": lambda tf: repr(tf.Variable([1.0, 2.0])),
    "repr-variable-scalar": lambda tf: repr(tf.Variable(1.0, name="w")),
    "repr-variable-matrix": lambda tf: str(tf.Variable([[1, 2], [3, 4]])),
    # variables
    "var-name": lambda tf: (tf.Variable(1.0).name, tf.Variable(1.0, name="w").name),
    "var-trainable": lambda tf: (tf.Variable(1.0, trainable=False).trainable,
                                 tf.Variable(1).trainable),
    "var-dtype": lambda tf: tf.Variable(1, dtype=tf.float32).read_value(),
    "var-float-to-int": lambda tf: tf.Variable(1.5, dtype=tf.int32),
    "var-tensor-dtype": lambda tf: tf.Variable(tf.constant([1, 2]), dtype=tf.float32),
    "var-no-value": lambda tf: tf.Variable(None),
    "assign": lambda tf: tf.Variable([1.0, 2.0]).assign([3.0, 4.0]).numpy(),
    "assign-chain": lambda tf: tf.Variable([1.0, 2.0]).assign([0.0, 0.0])
    .assign_add([2.0, 3.0]).numpy(),
    "assign-read-false": lambda tf: tf.Variable([1.0]).assign([2.0], read_value=False),
    "assign-np-cast": lambda tf: tf.Variable([1.0]).assign(np.array([0.5])).numpy(),
    "assign-int-list": lambda tf: tf.Variable([1.0, 2.0]).assign([1, 2]).numpy(),
    "assign-float-to-int": lambda tf: tf.Variable([1]).assign([1.5]),
    "assign-shape": lambda tf: tf.Variable([1.0, 2.0]).assign([1.0, 2.0, 3.0]),
    "assign-broadcast": lambda tf: tf.Variable([1.0, 2.0]).assign(1.0),
    "assign-add-shape": lambda tf: tf.Variable([1.0, 2.0]).assign_add(1.0),
    "assign-dtype": lambda tf: tf.Variable([1.0, 2.0]).assign(tf.constant([1, 2])),
    "var-partial-shape": lambda tf: tf.Variable([1.0], shape=tf.TensorShape([None]))
    .assign([1.0, 2.0]).numpy(),
    "var-ops": lambda tf: [op(tf.Variable([2.0, 4.0])) for op in (
        lambda v: v + 1, lambda v: 1 - v, lambda v: v * v, lambda v: v / 2, lambda v: -v,
        lambda v: v ** 2, lambda v: v > 3, lambda v: v[::-1])],
    "var-asarray": lambda tf: np.asarray(tf.Variable([1.0, 2.0])),
    "var-bool": lambda tf: bool(tf.Variable(1.0)),
    "var-iterate": lambda tf: list(tf.Variable([1.0, 2.0])),
    # gradients
    "grad-poly": lambda tf: _grad(tf, lambda tf, x: x ** 3 + 2 * x, np.float32(1.5)),
    "grad-nonscalar": lambda tf: _grad(tf, lambda tf, x: tf.sin(x) * x, np.linspace(-1, 1, 4)),
    "grad-broadcast": lambda tf: _grad(tf, lambda tf, a, b: a * b, np.ones((3, 1)),
                                       np.arange(4.0)),
    "grad-int-watch": lambda tf: _grad(tf, lambda tf, x: x * x, np.int32(3)),
    "grad-stop": lambda tf: _grad(tf, lambda tf, x: tf.stop_gradient(x * x) * x, 2.0),
    "grad-unconnected": lambda tf: _grad(tf, lambda tf, x, y: x * 2, 1.0, 2.0),
}


def _tape_case(fn):
    CASES[fn.__name__.removeprefix("case_").replace("_", "-")] = fn
    return fn


@_tape_case
def case_persistent_twice(tf):
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    return tape.gradient(y, x)


@_tape_case
def case_trainable_only(tf):
    a, b = tf.Variable(2.0), tf.Variable(3.0, trainable=False)
    with tf.GradientTape() as tape:
        y = a * b
    return tape.gradient(y, [a, b]), len(tape.watched_variables())


@_tape_case
def case_watch_accessed_false(tf):
    a, c = tf.Variable(2.0), tf.constant(3.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(c)
        y = a * c
    return tape.gradient(y, [a, c]), len(tape.watched_variables())


@_tape_case
def case_structures(tf):
    a, b = tf.Variable([1.0, 2.0]), tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y1, y2 = a * b, tf.reduce_sum(a ** 2)
    return tape.gradient({"p": y1, "q": [y2]}, {"a": a, "rest": [b, (a,)]})


@_tape_case
def case_output_gradients(tf):
    a = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = a * a
    return tape.gradient(y, a, output_gradients=tf.constant([1.0, 10.0]))


@_tape_case
def case_unconnected_zero(tf):
    a, b = tf.Variable(1.0), tf.Variable([2.0, 3.0])
    with tf.GradientTape() as tape:
        y = a * 2
    return tape.gradient(y, [a, b], unconnected_gradients=tf.UnconnectedGradients.ZERO)


@_tape_case
def case_intermediate(tf):
    a = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        y = a * a
        z = y * a + y
    return tape.gradient(z, y), tape.gradient(z, a)


@_tape_case
def case_gradient_inside_persistent(tf):
    a = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        y = a * a
        g = tape.gradient(y, a)
        z = g * a
    return g, tape.gradient(z, a)


@_tape_case
def case_stop_recording(tf):
    a = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = a * a
        with tape.stop_recording():
            z = a * a * a
    return tape.gradient(y + z, a)


@_tape_case
def case_reset(tf):
    a, b = tf.Variable(2.0), tf.Variable(4.0)
    with tf.GradientTape() as tape:
        _ = a * b
        tape.reset()
        z = a * 3
    return tape.gradient(z, [a, b]), len(tape.watched_variables())


@_tape_case
def case_third_order(tf):
    x = tf.constant(0.7, tf.float64)
    with tf.GradientTape() as t3:
        t3.watch(x)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = tf.sin(x) * x * tf.exp(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    return d1, d2, t3.gradient(d2, x)


@_tape_case
def case_jacobians(tf):
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tf.tanh(x) * x
    return tape.jacobian(y, x), tape.batch_jacobian(y, x)


# --- comparison -------------------------------------------------------------------------------

def _normalize(value):
    """Plain data for comparison: tensors and variables become (dtype, shape, array)."""
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [_normalize(v) for v in value]
    if isinstance(value, dict):
        return {key: _normalize(v) for key, v in value.items()}
    if hasattr(value, "numpy") and hasattr(value, "dtype"):
        return "tensor", value.dtype.name, tuple(value.shape), np.asarray(value.numpy())
    if isinstance(value, np.ndarray):
        return "array", value.dtype.name, value
    if isinstance(value, np.generic):
        return "numpy-scalar", value.dtype.name, value.item()
    return value


def _run(module, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", _normalize(fn(module))
        except Exception as error:  # noqa: BLE001 - the error is the result being compared
            return "error", error


def _same_error_kind(theirs: Exception, ours: Exception) -> bool:
    if isinstance(theirs, tensorflow.errors.InvalidArgumentError):
        return isinstance(ours, neuroflow.errors.InvalidArgumentError)
    for kind in (TypeError, ValueError, RuntimeError, IndexError):
        if isinstance(theirs, kind):
            return isinstance(ours, kind)
    return False


def _assert_same(theirs, ours, path="result"):
    if isinstance(theirs, tuple) and theirs and theirs[0] in ("tensor", "array", "numpy-scalar"):
        assert isinstance(ours, tuple) and ours[0] == theirs[0], f"{path}: {ours!r} vs {theirs!r}"
        assert ours[1:-1] == theirs[1:-1], f"{path}: dtype/shape {ours[1:-1]} vs {theirs[1:-1]}"
        np.testing.assert_allclose(ours[-1], theirs[-1], rtol=2e-6, atol=1e-7, err_msg=path)
    elif isinstance(theirs, tuple):
        assert type(ours) is tuple and ours[0] == theirs[0], f"{path}: {ours!r} vs {theirs!r}"
        assert len(ours[1]) == len(theirs[1]), f"{path}: lengths differ"
        for index, (t, o) in enumerate(zip(theirs[1], ours[1])):
            _assert_same(t, o, f"{path}[{index}]")
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and set(ours) == set(theirs), f"{path}: keys differ"
        for key in theirs:
            _assert_same(theirs[key], ours[key], f"{path}[{key!r}]")
    else:
        assert ours == theirs, f"{path}: {ours!r} vs {theirs!r}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_as_tensorflow(name):
    their_status, theirs = _run(tensorflow, CASES[name])
    our_status, ours = _run(neuroflow, CASES[name])
    if their_status == "error":
        assert our_status == "error", f"TF raised {theirs!r}; neuroflow returned {ours!r}"
        assert _same_error_kind(theirs, ours), f"TF raised {theirs!r}; neuroflow {ours!r}"
    else:
        assert our_status == "ok", f"TF returned {theirs!r}; neuroflow raised {ours!r}"
        _assert_same(theirs, ours)
