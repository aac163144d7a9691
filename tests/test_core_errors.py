"""Errors of the core (shapes, tensors, dtypes, variables, nest, tapes, devices, the lab CLI).

Each row calls one ``raise`` and names the error class (TensorFlow's, where TensorFlow raises
for the same input) and phrases of the message: what was expected, what was received, and how
to fix it.
"""

from __future__ import annotations

import operator
import sys
import types

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import dtypes, lab
from neuroflow.abstract import AbstractArray, Dim, InconclusiveDimension, SymbolicValueError
from neuroflow.backend import cupy_device
from neuroflow.backend.device import device_of
from neuroflow.util import nest


def _reenter_tape():
    tape = tf.GradientTape()
    with tape, tape:
        pass


def _output_gradients_count():
    x = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        y = [x * 2.0, x * 3.0]
    tape.gradient(y, x, output_gradients=[tf.constant(1.0)])


def _variable_from_traced_input():
    @tf.function
    def scaled(x):
        return tf.Variable(x * 2.0).read_value()

    scaled(tf.constant(1.0))


def _index_in_trace():
    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)])
    def pick(i):
        return tf.constant([1.0, 2.0])[[0, 1][i]]

    pick(tf.constant(0))


CASES = [
    # (id, call, error, phrases in the message)
    ("shape-len-unknown-rank", lambda: len(tf.TensorShape(None)), ValueError,
     ["length of a shape with unknown rank", "TensorShape([None, 3])", "tf.rank(x)"]),
    ("shape-iter-unknown-rank", lambda: list(tf.TensorShape(None)), ValueError,
     ["iterate over a shape with unknown rank", "known rank", "shape.rank is not None"]),
    ("set-shape-incompatible", lambda: tf.constant([1, 2]).set_shape([3]), ValueError,
     ["shape (2,) is not compatible with supplied shape (3,)", "tf.reshape"]),
    ("convert-variable-dtype",
     lambda: tf.convert_to_tensor(tf.Variable(1.0), dtype=tf.int32), ValueError,
     ["requested to type int32", "variable of type float32", "tf.cast(v, tf.int32)"]),
    ("convert-partial-shape", lambda: tf.convert_to_tensor(tf.TensorShape([None, 3])),
     ValueError, ["partially known TensorShape (None, 3)", "every dimension must be known",
                  "tf.shape(x)"]),
    ("symbolic-index", _index_in_trace, SymbolicValueError,
     ["symbolic tf.Tensor was used as a Python/NumPy index", "run_functions_eagerly"]),
    ("variable-from-traced-input", _variable_from_traced_input, ValueError,
     ["initial value depends on the inputs of the tf.function", "Create variables outside"]),
    ("dtype-of-python-value", lambda: dtypes.default_for_python("x"), TypeError,
     ["'x' of type str", "expected a Python bool, int, float or complex", "give the dtype"]),
    ("variable-without-value", lambda: tf.Variable(None), ValueError,
     ["`initial_value` arg to `tf.Variable` must be specified", "received None",
      "tf.Variable(tf.zeros([3]))"]),
    ("int-divided-by-dim", lambda: 784 // Dim.fresh("b"), InconclusiveDimension,
     ["Cannot divide 784 by the unknown size", "depend on the size", "input_signature"]),
    ("pack-too-many", lambda: tf.nest.pack_sequence_as([1, 2], [1, 2, 3]), ValueError,
     ["structure has 2 leaves", "flat_sequence has 3 items", "one item per leaf"]),
    ("pack-too-few", lambda: tf.nest.pack_sequence_as([1, [2]], [1]), ValueError,
     ["structure has 2 leaves", "flat_sequence has 1 items", "one item per leaf"]),
    ("same-structure-nesting", lambda: tf.nest.assert_same_structure([1, [2]], [1, 2]),
     ValueError, ["same nested structure: [2] and 2", "nest the same lists"]),
    ("same-structure-type", lambda: tf.nest.assert_same_structure([1, 2], (1, 2)), TypeError,
     ["same sequence type: list and tuple", "check_types=False"]),
    ("same-structure-keys", lambda: tf.nest.assert_same_structure({"a": 1}, {"b": 1}),
     ValueError, ["same keys: ['a'] and ['b']", "same lengths and keys"]),
    ("same-structure-length", lambda: nest.map_structure(min, [1, 2], [1, 2, 3]), ValueError,
     ["same length: [1, 2] and [1, 2, 3]", "same lengths"]),
    ("tape-entered-twice", _reenter_tape, ValueError,
     ["already active", "cannot be entered twice", "Nest a new tape"]),
    ("tape-output-gradients-count", _output_gradients_count, ValueError,
     ["output_gradients has 1 entries but target has 2", "one gradient per target"]),
]


@pytest.mark.parametrize("call, error, phrases",
                         [pytest.param(*row[1:], id=row[0]) for row in CASES])
def test_error_class_and_message(call, error, phrases):
    with pytest.raises(error) as info:
        call()
    for phrase in phrases:
        assert phrase in str(info.value)


@pytest.mark.parametrize("read, what", [
    (np.asarray, "array"), (bool, "bool"), (float, "float"), (int, "int"),
    (operator.index, "index"), (len, "len"), (iter, "iterable"),
    (lambda a: a[0], "array"), (lambda a: a.item(), "number"), (lambda a: a.tolist(), "list"),
    (lambda a: a.astype("float64"), "array"), (lambda a: a.reshape(4), "array"),
    (lambda a: a.copy(), "array"),
])
def test_abstract_array_has_no_values(read, what):
    """Every way of reading a traced value names the value and what to do instead."""
    with pytest.raises(SymbolicValueError) as info:
        read(AbstractArray((2, 2), "float32"))
    message = str(info.value)
    assert f"symbolic tf.Tensor was used as a Python/NumPy {what} inside" in message
    assert "only known when the compiled graph runs" in message
    assert "run_functions_eagerly(True)" in message


@pytest.fixture
def fake_cupy(monkeypatch):
    """A CuPy with one visible GPU, so the device checks run on machines without one."""
    class FakeArray:
        device = types.SimpleNamespace(id=0)

    runtime = types.SimpleNamespace(getDeviceCount=lambda: 1)
    module = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime),
                                   ndarray=FakeArray, asarray=np.asarray)
    monkeypatch.setitem(sys.modules, "cupy", module)
    monkeypatch.setattr(cupy_device, "_GPUS", {})
    return module


def test_missing_gpu_index_names_the_visible_ones(fake_cupy):
    assert tf.device("/GPU:0")._device.name.endswith("device:GPU:0")
    with pytest.raises(ValueError) as info:
        tf.device("/GPU:3")
    assert "GPU:3 requested, but only 1 GPU(s) are visible" in str(info.value)
    assert "Use '/GPU:0' to '/GPU:0' or 'CPU'" in str(info.value)


def test_device_of_something_not_an_array(fake_cupy):
    assert device_of(fake_cupy.ndarray()).name.endswith("device:GPU:0")
    with pytest.raises(TypeError) as info:
        device_of(object())
    assert "Expected a NumPy or CuPy array, received object" in str(info.value)
    assert "np.asarray(value)" in str(info.value)


def test_lab_epochs_must_be_a_whole_number(capsys):
    with pytest.raises(SystemExit):
        lab.main(["--epochs", "-3"])
    err = capsys.readouterr().err
    assert "argument --epochs: must be a whole number (0 or more), not '-3'" in err
    assert "--epochs 10" in err


# --- tf.errors: TensorFlow's classes, codes and constructor ------------------------------


def test_errors_have_tensorflows_classes_codes_and_bases():
    import neuroflow as tf

    expected = {"CancelledError": "CANCELLED", "UnknownError": "UNKNOWN",
                "InvalidArgumentError": "INVALID_ARGUMENT",
                "DeadlineExceededError": "DEADLINE_EXCEEDED", "NotFoundError": "NOT_FOUND",
                "AlreadyExistsError": "ALREADY_EXISTS",
                "PermissionDeniedError": "PERMISSION_DENIED",
                "ResourceExhaustedError": "RESOURCE_EXHAUSTED",
                "FailedPreconditionError": "FAILED_PRECONDITION", "AbortedError": "ABORTED",
                "OutOfRangeError": "OUT_OF_RANGE", "UnimplementedError": "UNIMPLEMENTED",
                "InternalError": "INTERNAL", "UnavailableError": "UNAVAILABLE",
                "DataLossError": "DATA_LOSS", "UnauthenticatedError": "UNAUTHENTICATED"}
    codes = [getattr(tf.errors, constant) for constant in expected.values()]
    assert sorted(codes) == list(range(1, 17)) and tf.errors.OK == 0
    for name, constant in expected.items():
        cls = getattr(tf.errors, name)
        assert issubclass(cls, tf.errors.OpError), name
        assert cls.error_code == getattr(tf.errors, constant), name
    assert issubclass(tf.errors.InvalidArgumentError, ValueError)
    assert issubclass(tf.errors.OutOfRangeError, IndexError)
    assert issubclass(tf.errors.OperatorNotAllowedInGraphError, TypeError)


def test_op_errors_are_built_as_neuroflow_or_tensorflow_code_builds_them():
    import neuroflow as tf

    ours = tf.errors.InvalidArgumentError("bad shape", "reshape")
    assert (str(ours), ours.message, ours.op, ours.node_def) == (
        "bad shape [Op:reshape]", "bad shape", "reshape", None)
    theirs = tf.errors.InvalidArgumentError(None, None, "bad value")
    assert (str(theirs), theirs.message, theirs.op) == ("bad value", "bad value", None)
    assert str(tf.errors.UnknownError()) == ""
    assert tf.errors.AbortedError("x").experimental_payloads == {}


def test_bool_of_a_traced_tensor_is_operator_not_allowed_in_graph():
    import pytest

    import neuroflow as tf

    @tf.function
    def f(x):
        return x * 2 if x > 0 else x

    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
        f(tf.constant(1.0))
