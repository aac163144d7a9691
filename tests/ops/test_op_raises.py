"""Every error the ops raise, reached by a test: one row per ``raise``.

Each row checks the error's type (TensorFlow's, where TensorFlow raises for the same
input: neuroflow's InvalidArgumentError is also a ValueError) and that the message says
what was expected, what was received and, for errors a user makes, how to fix it.

The tables: errors of eager calls; errors raised while a function traces (symbolic
inputs); errors raised when a traced graph meets the sizes it runs with (the shape rules
check them then); shape rules refusing inputs their forward would refuse, reached through
the primitive itself because every public wrapper checks first; the registry's own checks.
"""

from __future__ import annotations

import numpy as np
import pytest
from _opcheck import raises_with_message as _raises

import neuroflow as tf
from neuroflow.abstract import AbstractArray, Dim
from neuroflow.backend.device import Device
from neuroflow.graph.trace import Tracer, tracing
from neuroflow.ops import random_ops, registry
from neuroflow.ops.registry import REGISTRY, Primitive
from neuroflow.tensor import Tensor

InvalidArgument = tf.errors.InvalidArgumentError


def _row(make, error, *fragments, id):  # noqa: A002 - pytest's name
    return pytest.param(make, error, fragments, id=id)


def _z(*shape, dtype="float32"):
    return tf.zeros(shape, dtype)


# --- eager calls -----------------------------------------------------------------------------

EAGER = [
    # shape arguments
    _row(lambda: tf.zeros(True), TypeError, "integers", "the bool True", "tf.cast",
         id="shape-is-a-bool"),
    _row(lambda: tf.zeros(tf.TensorShape([None, 2])), ValueError, "(None, 2)", "unknown sizes",
         "tf.shape(x)", id="shape-partly-unknown-TensorShape"),
    _row(lambda: tf.zeros(object()), ValueError, "expected a shape", "list of ints",
         "received <object", id="shape-not-a-sequence"),
    _row(lambda: tf.reshape(_z(2, 3), tf.constant([[2, 3]])), InvalidArgument, "1-D",
         "received shape (1, 2)", "tf.reshape(shape, [-1])", id="shape-tensor-2d"),
    _row(lambda: tf.zeros([tf.constant([2]), 3]), InvalidArgument, "must be a scalar",
         "shape (1,)", "t[0]", id="shape-list-holds-a-vector"),
    _row(lambda: tf.zeros([None, 2]), ValueError, "[None, 2]", "unknown size",
         "tf.shape(x)[i]", id="shape-list-holds-None"),
    _row(lambda: tf.one_hot([1], depth=tf.constant([3])), InvalidArgument, "depth",
         "must be a scalar", "shape (1,)", "t[0]", id="size-is-a-vector"),
    _row(lambda: tf.one_hot([1], depth=2.5), TypeError, "depth must be an integer",
         "received 2.5", id="size-is-a-float"),
    # stacking and splitting
    _row(lambda: tf.concat([], 0), InvalidArgument, "concat", "empty", "at least one tensor",
         id="concat-nothing"),
    _row(lambda: tf.stack([]), ValueError, "stack", "empty", "at least one tensor",
         id="stack-nothing"),
    _row(lambda: tf.unstack(_z(3), num=2), InvalidArgument, "num=2", "size 3", "num=3",
         id="unstack-wrong-num"),
    _row(lambda: tf.slice(_z(3, 4), [0], [1, 1]), InvalidArgument, "one entry per dimension",
         "begin [0]", "(3, 4)", id="slice-wrong-length"),
    # indexing
    _row(lambda: _z(3)[tf.constant(1.0)], TypeError, "scalar integer tensors",
         "float32 tensor", "tf.gather", id="index-float-tensor"),
    _row(lambda: _z(3, 3)[..., ...], InvalidArgument, "single ellipsis", "received 2",
         "remove all but one", id="index-two-ellipses"),
    _row(lambda: _z(3)[::0], InvalidArgument, "step cannot be zero", "slice(None, None, 0)",
         "positive step", id="index-zero-step"),
    _row(lambda: _z(3)[True], ValueError, "Booleans are not valid indices", "True",
         "tf.boolean_mask", id="index-bool"),
    _row(lambda: _z(3)[tf.constant(1.0):], TypeError, "Slice bounds must be integers",
         "float32 tensor", id="slice-bound-float-tensor"),
    _row(lambda: _z(3)[1.5:], TypeError, "Slice bounds must be integers", "received 1.5",
         id="slice-bound-float"),
    _row(lambda: tf.gather(_z(2, 3), [[0], [1]], batch_dims=3), InvalidArgument,
         "Expected batch_dims in the range [-2, 2]", "got 3", id="gather-batch-dims"),
    _row(lambda: tf.boolean_mask(_z(3), tf.constant(True)), ValueError, "cannot be scalar",
         id="boolean-mask-scalar"),
    _row(lambda: tf.boolean_mask(_z(3), tf.constant([True, False])), ValueError,
         "mask shape (2,)", "tensor's shape (3,)", id="boolean-mask-wrong-shape"),
    # padding
    _row(lambda: tf.pad(_z(3), [[-1, 0]]), InvalidArgument, "non-negative", "[[-1, 0]]",
         id="pad-negative"),
    _row(lambda: tf.pad(_z(2), [[1, 1]], constant_values=tf.constant([1.0, 2.0])),
         InvalidArgument, "constant_values must be a scalar", "shape (2,)",
         "constant_values=0", id="pad-vector-value"),
    # creation and random
    _row(lambda: tf.range(tf.constant([1, 2])), InvalidArgument, "must be scalars",
         "shape (2,)", "one number", id="range-of-a-vector"),
    _row(lambda: tf.random.uniform([2], minval=3, maxval=3, dtype=tf.int32), InvalidArgument,
         "minval < maxval", "got 3 >= 3", id="uniform-empty-range"),
    _row(lambda: tf.random.uniform([2], dtype=tf.bool), ValueError, "invalid value bool",
         "float16, float32, float64, int32, int64", id="uniform-bool"),
    # elementwise
    _row(lambda: tf.math.floormod(tf.constant([1]), tf.constant([0])), InvalidArgument,
         "floormod", "division by zero", "tf.where", id="floormod-by-zero"),
    _row(lambda: tf.logical_not(tf.constant([1])), InvalidArgument, "bool tensor", "int32",
         "tf.cast(x, tf.bool)", id="logical-not-int"),
    _row(lambda: tf.logical_not(tf.constant([1])), TypeError, id="logical-not-int-TypeError"),
    _row(lambda: tf.where(tf.constant([True]), x=_z(1)), ValueError, "both x and y",
         "received only x", id="where-x-only"),
    _row(lambda: tf.add(_z(2, dtype="int32"), [1.5]), InvalidArgument, "add", "[1.5]",
         "int32", "tf.cast", id="operand-converts-to-no-dtype"),
    # operators
    _row(lambda: _z(2) == tf.constant([1, 2]), TypeError, "float32", "int32", "tf.cast",
         id="equal-dtypes"),
    _row(lambda: _z(2) & _z(2), InvalidArgument, "`&`", "float32", "bool tensors",
         id="and-of-floats"),
    # linear algebra
    _row(lambda: tf.einsum("...ij", _z(4, 2, 3)), InvalidArgument, "'...'",
         "no '...'", "'->...ij'", id="einsum-implicit-ellipsis"),
    _row(lambda: tf.einsum("ij,jk->ik", _z(2, 3)), ValueError, "names 2 operands",
         "1 were given", id="einsum-operand-count"),
    _row(lambda: tf.tensordot(_z(2, 3), _z(3, 2), [[0, 1], [0]]), ValueError,
         "2 contracted axes", "b has 1", "pair up", id="tensordot-unpaired-axes"),
    _row(lambda: tf.norm(_z(3, 3), ord=1, axis=[0, 0]), ValueError, "must differ", "[0, 0]",
         id="norm-same-axes"),
    _row(lambda: tf.linalg.trace(_z(3)), InvalidArgument, "rank >= 2", "shape (3,)",
         id="trace-of-a-vector"),
    # neural-network ops
    _row(lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(logits=_z(2, 3)), TypeError,
         "needs labels= and logits=", "labels=None", id="sparse-xent-no-labels"),
    _row(lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.constant([0.0, 1.0]), logits=_z(2, 3)), InvalidArgument, "int32 or int64",
         "float32", "tf.cast(labels, tf.int32)", id="sparse-xent-float-labels"),
    _row(lambda: tf.nn.softmax_cross_entropy_with_logits(labels=_z(2, 3)), TypeError,
         "needs labels= and logits=", "logits=None", id="xent-no-logits"),
    _row(lambda: tf.nn.softmax_cross_entropy_with_logits(labels=_z(2, 4), logits=_z(2, 3)),
         InvalidArgument, "labels shape (2, 4)", "logits shape (2, 3)", "must be broadcastable",
         id="xent-shapes"),
    _row(lambda: tf.nn.sigmoid_cross_entropy_with_logits(logits=_z(2)), ValueError,
         "needs labels= and logits=", "labels=None", id="sigmoid-xent-no-labels"),
    _row(lambda: tf.nn.bias_add(_z(2, 3), _z(1, 3)), InvalidArgument, "1-D", "shape (1, 3)",
         id="bias-not-1d"),
    _row(lambda: tf.nn.bias_add(_z(3), _z(3)), InvalidArgument, "at least 2-D", "shape (3,)",
         id="bias-add-to-a-vector"),
    _row(lambda: tf.math.top_k(tf.constant(1.0)), InvalidArgument, "rank >= 1", "scalar",
         id="top-k-of-a-scalar"),
    _row(lambda: tf.sort(tf.constant(1.0)), InvalidArgument, "rank >= 1", "scalar",
         "tf.reshape(x, [1])", id="sort-a-scalar"),
]


@pytest.mark.parametrize("make, error, fragments", EAGER)
def test_eager_errors(make, error, fragments):
    _raises(error, make, *fragments)


def test_einsum_gradient_of_a_diagonal_is_the_diagonal():
    x = tf.Variable(tf.ones([2, 2]))
    with tf.GradientTape() as tape:
        y = tf.einsum("ii->", x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), np.eye(2))


# --- while a function traces ------------------------------------------------------------------


def _traced(fn, *specs):
    """``fn`` on symbolic inputs of ``specs`` ((shape, dtype) each), as a trace runs it."""
    tracer = Tracer("t")
    with tracing(tracer):
        return fn(*(tracer.add_input(shape, dtype) for shape, dtype in specs))


_B, _C = Dim.fresh("b"), Dim.fresh("c")  # sizes unknown while tracing
_F2, _I1 = ((2,), "float32"), ((1,), "int32")

TRACED = [
    _row(lambda: _traced(lambda n: tf.range(n), ((2,), "int32")), InvalidArgument,
         "must be scalars", "shape (2,)", "one number", id="range-of-a-vector"),
    _row(lambda: _traced(lambda a: tf.linspace(a, 1.0, 3, axis=2), ((), "float32")),
         InvalidArgument, "axis 2", "rank 1", id="linspace-axis"),
    _row(lambda: _traced(lambda x: tf.eye(tf.shape(x)[0]), ((_B,), "float32")), ValueError,
         "eye", "sizes must be known", id="eye-of-an-unknown-size"),
    _row(lambda: _traced(lambda x: tf.einsum("ii->i", x), ((2, 3), "float32")),
         InvalidArgument, "index 'i' has size 2", "and 3", "one size",
         id="einsum-diagonal-of-a-non-square"),
    _row(lambda: _traced(lambda x: tf.einsum("ij->k", x), ((2, 3), "float32")),
         ValueError, "['k']", "not present in the input", "must name an input axis",
         id="einsum-unknown-output-index"),
    _row(lambda: _traced(lambda x: tf.math.floordiv(x, x), ((2,), "complex64")), TypeError,
         "floordiv", "complex64", "tf.cast", id="floordiv-of-complex"),
    _row(lambda: _traced(lambda x, n: tf.reshape(x, [_B, n]), ((_B, 4), "float32"),
                         ((), "int32")),
         ValueError, "cannot mix the unknown size", "tf.shape(x)[i]",
         id="shape-mixes-a-size-and-a-tensor"),
    _row(lambda: _traced(lambda i, d: tf.one_hot(i, depth=d), _I1, _I1), InvalidArgument,
         "depth must be a scalar", "shape (1,)", id="run-time-size-is-a-vector"),
]


@pytest.mark.parametrize("make, error, fragments", TRACED)
def test_errors_while_tracing(make, error, fragments):
    _raises(error, make, *fragments)


def test_a_slice_whose_length_depends_on_unknown_sizes_gets_an_unknown_length():
    # x[a:b] of an axis of size a + b: both bounds lie within it, but whether b >= a
    # depends on the sizes, so the length is a new unknown size.
    def fn(y, z):
        return tf.concat([y, z], 0)[tf.shape(y)[0]:tf.shape(z)[0]]

    out = _traced(fn, ((_B,), "float32"), ((_C,), "float32"))
    assert out.shape.as_list() == [None]


def test_a_symbolic_tensor_used_outside_its_trace():
    leaked = _traced(lambda x: x * 2.0, _F2)
    _raises(RuntimeError, lambda: leaked + 1.0, "outside that trace", "Return it")


# --- when a traced graph meets the sizes it runs with ---------------------------------------


def _spec(*shape, dtype="float32"):
    return tf.TensorSpec(list(shape), dtype)


def _call(fn, specs, *arrays):
    return lambda: tf.function(fn, input_signature=specs)(*arrays)


SPECIALIZED = [
    _row(_call(tf.matmul, [_spec(2, None), _spec(None, 4)], _z(2, 3), _z(5, 4)),
         InvalidArgument, "matmul", "3 != 5", "order of the operands", id="matmul-inner"),
    _row(_call(lambda x: tf.reshape(x, [tf.shape(x)[0], 4]), [_spec(None, 6)], _z(2, 6)),
         InvalidArgument, "reshape", "12 elements", "(2, 4)", "product is 12",
         id="reshape-to-the-wrong-size"),
    _row(_call(lambda x: tf.reshape(x, [-1, 4]), [_spec(None, 6)], _z(1, 6)),
         InvalidArgument, "reshape", "6 elements", "not a multiple of 4",
         id="reshape-with-no-fitting-minus-one"),
    _row(_call(lambda x: tf.broadcast_to(x, [3]), [_spec(None)], _z(2)), InvalidArgument,
         "broadcast_to", "(2,)", "(3,)", "match the target's or be 1", id="broadcast-to"),
    _row(_call(lambda x, y: tf.concat([x, y], 0), [_spec(2, None), _spec(2, None)],
               _z(2, 3), _z(2, 4)),
         InvalidArgument, "concat", "(2, 3)", "(2, 4)", "every other axis", id="concat"),
    _row(_call(lambda z, y: tf.nn.sparse_softmax_cross_entropy_with_logits(y, z),
               [_spec(None, 3), _spec(None, dtype="int32")], _z(2, 3), _z(3, dtype="int32")),
         InvalidArgument, "labels must have shape (2,)", "received (3,)",
         id="sparse-xent-labels"),
    _row(_call(lambda x: tf.math.top_k(x, k=3), [_spec(None)], _z(2)), InvalidArgument,
         "k=3", "size 2", id="top-k-larger-than-the-axis"),
]


@pytest.mark.parametrize("make, error, fragments", SPECIALIZED)
def test_errors_when_a_graph_meets_its_sizes(make, error, fragments):
    _raises(error, make, *fragments)


# --- shape rules refuse what their forward refuses ------------------------------------------


def _a(*shape, dtype="float32"):
    return AbstractArray(shape, dtype)


_INT, _FLOAT = np.dtype("int32"), np.dtype("float32")

RULES = [
    ("sum_to", [_a(3)], {"shape": (2, 3)}, ("rank 1 to rank 2",)),
    ("range", [_a(2, dtype="int32"), _a(dtype="int32"), _a(dtype="int32")], {"dtype": _INT},
     ("scalars", "(2,)")),
    ("linspace", [_a(), _a(), _a(2, dtype="int32")], {"num": None, "axis": 0, "dtype": _FLOAT},
     ("integer scalar", "int32[2]")),
    ("matmul", [_a(), _a(2, 2)], {}, ("rank >= 1", "scalar")),
    ("einsum", [_a(2, 3)], {"equation": "ij"}, ("explicit equation", "'ij'")),
    ("einsum", [_a(2, 3)], {"equation": "ij,jk->ik"}, ("names 2 operands", "received 1")),
    ("einsum", [_a(2, 3)], {"equation": "i->i"}, ("1 indices", "rank 2")),
    ("eye_like", [_a(3)], {}, ("rank >= 2", "rank 1")),
    ("argsort", [_a()], {"descending": False}, ("rank >= 1",)),
    ("row_offsets", [_a(2, 3), _a(3, dtype="int32")], {}, ("one rank", "ranks 2 and 1")),
    ("reshape", [_a(2, 3)], {"shape": (-1, -1)}, ("only one dimension can be -1", "[-1, -1]")),
    ("reshape", [_a(2, 3)], {"shape": (-2, 3)}, ("non-negative", "-2")),
    ("reshape", [_a(2, 3), _a(2)], {"shape": (None, 3)}, ("2 integers", "float32[2]")),
    ("transpose", [_a(2, 3)], {"perm": (0, 0)}, ("not a permutation", "[0, 0]")),
    ("concat", [_a(2, 3), _a(2)], {"axis": 0}, ("cannot concatenate", "float32[2]")),
    ("gather", [_a(3), _a(1)], {"axis": 0}, ("integers", "float32")),
    ("gather", [_a(3), _a(1, dtype="int32")], {"axis": 1}, ("axis 1", "rank 1")),
    ("pad", [_a(2)], {"paddings": ((1, 1), (0, 0))}, ("do not match rank 1",)),
    ("pad", [_a(2), _a(2)], {"paddings": ((1, 1),)}, ("must be a scalar", "(2,)")),
    ("slice_positions", [_a(dtype="int64"), _a()], {"given": (True, False, False)},
     ("integer scalars", "float32[]")),
    ("reduce_sum", [_a(2, 3)], {"axes": (2,), "keepdims": False}, ("(2,)", "rank 2")),
]


@pytest.mark.parametrize("name, inputs, attrs, fragments", RULES,
                         ids=[f"{row[0]}-{i}" for i, row in enumerate(RULES)])
def test_shape_rules_refuse_what_the_forward_refuses(name, inputs, attrs, fragments):
    _raises(ValueError, lambda: REGISTRY[name].abstract_eval(inputs, attrs), *fragments)


def test_the_fused_cross_entropy_rule_refuses_float_labels():
    rule = REGISTRY["sparse_softmax_xent"]
    _raises(TypeError, lambda: rule.abstract_eval([_a(2, 3), _a(2)], {}), "integers",
            "float32")


def test_an_unknown_kind_of_random_draw():
    _raises(InvalidArgument, lambda: random_ops.draw("bogus", (2,), np.float32),
            "unknown random kind 'bogus'")


# --- the registry ---------------------------------------------------------------------------


def _forward(xp, x):
    return x


@pytest.fixture
def scratch_registry(monkeypatch):
    """Primitives made in a test are registered in a copy of the registry."""
    monkeypatch.setattr(registry, "REGISTRY", dict(registry.REGISTRY))


def test_a_primitive_name_is_registered_once(scratch_registry):
    _raises(ValueError, lambda: Primitive("add", _forward), "'add'", "already registered")


def test_a_primitive_name_must_be_an_identifier(scratch_registry):
    _raises(ValueError, lambda: Primitive("my op", _forward), "Python identifier",
            "'my op'")


def test_a_primitive_without_a_shape_rule_cannot_be_traced(scratch_registry):
    prim = Primitive("no_shape_rule", _forward)
    _raises(NotImplementedError, lambda: _traced(prim, _F2), "no_shape_rule", "no shape rule",
            "tf.function")


def test_a_shape_rule_must_give_one_result(scratch_registry):
    prim = Primitive("two_results", _forward, shape=lambda x: (x, x))
    _raises(ValueError, lambda: _traced(prim, _F2), "two_results", "one result", "gave 2")


class _Elsewhere:
    """An array on another device (the registry asks each array for its device)."""

    neuroflow_device = Device("/job:localhost/replica:0/task:0/device:GPU:9", np)

    def __init__(self, array: np.ndarray):
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim


def test_inputs_on_different_devices():
    here, there = _z(2), Tensor(_Elsewhere(np.zeros(2, np.float32)))
    _raises(InvalidArgument, lambda: tf.add(here, there), "different devices", "CPU:0",
            "GPU:9", "tf.device")
    # == names the same error (shapes that broadcast are not its cause).
    _raises(InvalidArgument, lambda: here == there, "different devices")


@pytest.mark.parametrize("axis", [0.5, "0", True, None])
def test_expand_dims_refuses_an_axis_that_is_not_an_integer(axis):
    with pytest.raises(TypeError, match="axis must be an integer"):
        tf.expand_dims(tf.ones([2]), axis)


def test_one_hot_refuses_a_negative_depth_eagerly_traced_and_at_run_time():
    with pytest.raises(InvalidArgument, match="depth must be non-negative, received -1"):
        tf.one_hot([0, 1], -1)
    with pytest.raises(InvalidArgument, match="depth must be non-negative"):
        tf.function(lambda i: tf.one_hot(i, -2))(tf.constant([0, 1]))
    with pytest.raises(InvalidArgument, match="depth must be non-negative"):
        tf.function(lambda i, d: tf.one_hot(i, d))(tf.constant([0, 1]), tf.constant(-3))
