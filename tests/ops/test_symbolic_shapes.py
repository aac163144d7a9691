"""Shape, indexing, creation, random and print ops on symbolic tensors, as tf.function traces.

Inputs here are a tracer's (``Tracer.add_input``): tensors holding a shape and a dtype,
no values. Each public op runs on them twice, with every size known and with the batch
size unknown (a ``Dim``), and the result must be symbolic with the shape (unknown sizes
evaluated at the eager sizes) and dtype eager mode gives. A wrapper that read a value
would raise SymbolicValueError. Sizes only known when the graph runs (``tf.range`` of a
tensor, ``boolean_mask``, ``x[1:i]``) stay unknown in the trace; ops that cannot be traced
say what to do instead.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.abstract import AbstractArray, Dim, InconclusiveDimension, SymbolicValueError
from neuroflow.errors import InvalidArgumentError
from neuroflow.graph.interpret import run_graph
from neuroflow.graph.passes.specialize import specialize
from neuroflow.graph.trace import Tracer, tracing
from neuroflow.ops import shape_ops as so
from neuroflow.ops.registry import REGISTRY

BATCH = 5
_rng = np.random.default_rng(11)


def _f(*shape, dtype="float32"):
    return _rng.uniform(-2, 2, shape).astype(dtype)


def _i(*shape, high=4, dtype="int32"):
    return np.asarray(_rng.integers(0, high, shape), dtype=dtype)


X = _f(BATCH, 4, 6)  # the batch axis is the one that may be unknown


class Case:
    """``fn`` on tensors of ``arrays``. Axis 0 of an array is unknown (when the batch is)
    if its size is BATCH. ``runtime``: the result may hold sizes only known when the graph
    runs (or only once it is specialised); they must then be unknown in the trace."""

    def __init__(self, id, fn, *arrays, runtime=False):
        self.id, self.fn, self.arrays, self.runtime = id, fn, arrays, runtime

    def param(self):
        return pytest.param(self, id=self.id)


def _trace(fn, arrays, unknown: bool):
    """``fn`` on symbolic inputs; returns (result, the unknown sizes' values, tracer)."""
    tracer = Tracer("t")
    batch = Dim.fresh("b")
    with tracing(tracer):
        inputs = []
        for a in arrays:
            shape = tuple(batch if unknown and axis == 0 and d == BATCH else d
                          for axis, d in enumerate(a.shape))
            inputs.append(tracer.add_input(shape, a.dtype))
        result = fn(*inputs)
    return result, {batch.symbol.name: BATCH}, tracer


def _assert_like(traced, eager, env: dict, runtime: bool) -> None:
    """``traced`` (symbolic) has the shape and dtype of ``eager`` for the sizes in ``env``."""
    if isinstance(eager, (list, tuple)):
        assert len(traced) == len(eager)
        for t, e in zip(traced, eager):
            _assert_like(t, e, env, runtime)
        return
    aval, want = traced._value, eager._value
    if not isinstance(aval, AbstractArray):  # a constant: every size it depends on is known
        assert not env or all(d is not None for d in traced.shape)
        assert (aval.shape, aval.dtype) == (want.shape, want.dtype)
        return
    assert aval.dtype == want.dtype, f"dtype {aval.dtype}, eager gives {want.dtype}"
    assert len(aval.shape) == want.ndim, f"shape {aval.shape}, eager gives {want.shape}"
    for size, wanted in zip(aval.shape, want.shape):
        if isinstance(size, Dim):
            try:
                size = size.evaluate(dict(env))
            except KeyError:  # only known when the graph runs
                assert runtime, f"unexpected unknown size in {aval.shape} (eager {want.shape})"
                continue
        assert size == wanted, f"shape {aval.shape}, eager gives {want.shape}"


CASES = [
    # --- reshape and layout -------------------------------------------------------------
    Case("reshape-infer", lambda x: tf.reshape(x, [-1, 24]), X),
    Case("reshape-flatten", lambda x: tf.reshape(x, [-1]), X),
    Case("reshape-shape-tensor", lambda x: tf.reshape(x, [tf.shape(x)[0], -1]), X),
    Case("reshape-to-tf.shape", lambda x: tf.reshape(tf.reshape(x, [-1]), tf.shape(x)), X),
    Case("reshape-run-time", lambda x, n: tf.reshape(x, [n, -1]), X, np.int32(10),
         runtime=True),
    Case("transpose", lambda x: tf.transpose(x), X),
    Case("transpose-perm", lambda x: tf.transpose(x, [1, 0, 2]), X),
    Case("broadcast_to", lambda x: tf.broadcast_to(x[:, :1], tf.shape(x)), X),
    Case("broadcast_to-list", lambda x: tf.broadcast_to(x[0, :1], [3, 4, 6]), X),
    Case("expand_dims", lambda x: tf.expand_dims(x, 1), X),
    Case("expand_dims-last", lambda x: tf.expand_dims(x, -1), X),
    Case("squeeze-axis", lambda x: tf.squeeze(x[:, :1], axis=1), X),
    Case("squeeze-known", lambda x: tf.squeeze(x[0, :1]), X),
    Case("concat-batch", lambda x: tf.concat([x, x * 2], 0), X),
    Case("concat-features", lambda x, y: tf.concat([x, y], 2), X, _f(BATCH, 4, 2)),
    Case("stack", lambda x: tf.stack([x, x]), X),
    Case("stack-axis", lambda x: tf.stack([x, x], axis=2), X),
    Case("unstack", lambda x: tf.unstack(x, axis=1), X),
    Case("split-sizes", lambda x: tf.split(x, [2, -1], axis=2), X),
    Case("split-equal", lambda x: tf.split(x, 3, axis=2), X),
    Case("tile", lambda x: tf.tile(x, [2, 1, 3]), X),
    Case("reverse", lambda x: tf.reverse(x, [0, 2]), X),
    Case("slice", lambda x: tf.slice(x, [0, 1, 2], [-1, 2, 3]), X),
    Case("slice-run-time", lambda x, i: tf.slice(x, [0, i, 0], [-1, 2, -1]), X, np.int32(1),
         runtime=True),
    Case("stop_gradient", tf.stop_gradient, X),
    Case("identity", tf.identity, X),
    # --- indexing -------------------------------------------------------------------
    Case("x[0]", lambda x: x[0], X),
    Case("x[-1, 2]", lambda x: x[-1, 2], X),
    Case("x[..., 1]", lambda x: x[..., 1], X),
    Case("x[None, :, 2]", lambda x: x[None, :, 2], X),
    Case("x[:, ::-2]", lambda x: x[:, ::-2], X),
    Case("x[::-1]", lambda x: x[::-1], X),
    Case("x[1:]", lambda x: x[1:], X, runtime=True),
    Case("x[i]", lambda x, i: x[i], X, np.int32(3)),
    Case("x[-i]", lambda x, i: x[-i], X, np.int32(2)),
    Case("x[:, i]", lambda x, i: x[:, i], X, np.int32(1)),
    Case("x[1:i]", lambda x, i: x[1:i], X, np.int32(4), runtime=True),
    Case("x[:, i:, ::2]", lambda x, i: x[:, i:, ::2], X, np.int32(1), runtime=True),
    Case("x[i::-1, 2]", lambda x, i: x[i::-1, 2], X, np.int64(2), runtime=True),
    Case("x[tf.shape(x)[0] - 1]", lambda x: x[tf.shape(x)[0] - 1], X),
    Case("gather", lambda x: tf.gather(x, [0, 2, 2], axis=1), X),
    Case("gather-traced-indices", lambda x, i: tf.gather(x, i, axis=2), X, _i(3, 2)),
    Case("gather-batch", lambda x, i: tf.gather(x, i), X, _i(7)),
    Case("boolean_mask", lambda x: tf.boolean_mask(x, x > 0), X, runtime=True),
    Case("boolean_mask-rows", lambda x, m: tf.boolean_mask(x, m), X,
         np.array([True, False, True, True, False]), runtime=True),
    Case("boolean_mask-axis", lambda x: tf.boolean_mask(x, [True, False, True, False], axis=1),
         X, runtime=True),
    Case("where", lambda x: tf.where(x > 0), X, runtime=True),
    Case("x[mask]", lambda x: x[x > 0], X, runtime=True),
    Case("tile-run-time", lambda x, n: tf.tile(x, [n, 1, 2]), X, np.int32(2), runtime=True),
    Case("pad-run-time", lambda x, n: tf.pad(x, [[0, n], [n, 1], [0, 0]]), X, np.int32(2),
         runtime=True),
    Case("boolean_mask-int-mask", lambda x, m: tf.boolean_mask(x, m, axis=1), X,
         np.array([1, 0, 2, 0], np.int32), runtime=True),
    Case("gather-batch-dims", lambda x, i: tf.gather(x, i, axis=2, batch_dims=1), X,
         _i(BATCH, 3, high=6)),
    Case("gather-batch-dims-2", lambda x, i: tf.gather(x, i, axis=2, batch_dims=2), X,
         _i(BATCH, 4, 2, high=6)),
    Case("expand_dims-list", lambda x: tf.expand_dims(x, [1]), X),
    Case("expand_dims-from-shape", lambda x: tf.expand_dims(x, tf.shape(x)[2:] * 0 - 1), X),
    # --- arrangement (ops/arrangement.py) ------------------------------------------------
    Case("unique", lambda i: tf.unique(tf.reshape(i, [-1])), _i(BATCH, 2), runtime=True),
    Case("unique_with_counts", lambda i: tf.unique_with_counts(i[:, 0]), _i(BATCH, 2),
         runtime=True),
    Case("repeat", lambda x: tf.repeat(x, 2, axis=1), X, runtime=True),
    Case("repeat-traced-counts", lambda x, r: tf.repeat(x, r, axis=0), X, _i(BATCH),
         runtime=True),
    Case("roll", lambda x, s: tf.roll(x, s, [0, 2]), X, np.array([1, -2], np.int32)),
    Case("meshgrid", lambda x: tf.meshgrid(x[:, 0, 0], x[0, :, 0]), X),
    Case("meshgrid-ij", lambda x: tf.meshgrid(x[:, 0, 0], x[0, 0], indexing="ij"), X),
    Case("sequence_mask", lambda n: tf.sequence_mask(n, 6), _i(BATCH, high=7)),
    Case("sequence_mask-run-time", lambda n: tf.sequence_mask(n), _i(BATCH, high=7),
         runtime=True),
    Case("reverse_sequence", lambda x, n: tf.reverse_sequence(x, n, seq_axis=1), X,
         _i(BATCH, high=5)),
    Case("identity_n", lambda x: tf.identity_n([x, x[0]]), X),
    Case("shape_n", lambda x: tf.shape_n([x, x[0]]), X),
    Case("ensure_shape", lambda x: tf.ensure_shape(x, [None, 4, None]), X),
    Case("broadcast_dynamic_shape",
         lambda x: tf.zeros(tf.broadcast_dynamic_shape(tf.shape(x[:, :1]), [4, 1])), X),
    Case("parallel_stack", lambda x: tf.parallel_stack([x, x]), X),
    # --- pad, one_hot ------------------------------------------------------------------
    Case("pad", lambda x: tf.pad(x, [[1, 0], [0, 2], [3, 3]]), X),
    Case("pad-tensor-value", lambda x, v: tf.pad(x, [[0, 1], [0, 0], [1, 1]],
                                                 constant_values=v), X, np.float32(0.5)),
    Case("pad-reflect", lambda x: tf.pad(x, [[0, 0], [1, 2], [2, 0]], mode="REFLECT"), X),
    Case("one_hot", lambda i: tf.one_hot(i, 7), _i(BATCH)),
    Case("one_hot-axis", lambda i: tf.one_hot(i, 3, axis=0, dtype=tf.int64), _i(BATCH, 2)),
    Case("one_hot-traced-values", lambda i, v: tf.one_hot(i, 3, on_value=v, off_value=-v),
         _i(BATCH), np.float32(2.5)),
    # --- sizes as tensors -----------------------------------------------------------------
    Case("shape", tf.shape, X),
    Case("shape-int64", lambda x: tf.shape(x, out_type=tf.int64), X),
    Case("size", tf.size, X),
    Case("rank", lambda x: x[0] * tf.cast(tf.rank(x), tf.float32), X),
    # --- creation ---------------------------------------------------------------------
    Case("zeros-shape", lambda x: tf.zeros(tf.shape(x)), X),
    Case("ones-shape-int", lambda x: tf.ones(tf.shape(x)[:2], tf.int32), X),
    Case("zeros-list", lambda x: tf.zeros([tf.shape(x)[0], 3]), X),
    Case("zeros-run-time", lambda n: tf.zeros([n, 3]), np.int32(4), runtime=True),
    Case("zeros_like", tf.zeros_like, X),
    Case("ones_like", lambda x: tf.ones_like(x, dtype=tf.int32), X),
    Case("fill-value", lambda v: tf.fill([2, 3], v), np.float32(1.5)),
    Case("fill-shape-value", lambda x, v: tf.fill(tf.shape(x), v), X, np.float32(1.5)),
    Case("fill-run-time", lambda n: tf.fill([n, 2], 7), np.int64(3), runtime=True),
    Case("range", lambda n: tf.range(n), np.int32(6), runtime=True),
    Case("range-start-delta", lambda a, n: tf.range(a, n, 2), np.int64(1), np.int64(8),
         runtime=True),
    Case("range-float", lambda v: tf.range(0.0, v, 0.5), np.float32(2.0), runtime=True),
    Case("range-of-shape", lambda x: tf.range(tf.shape(x)[0]), X),
    Case("linspace", lambda v: tf.linspace(v, 2 * v, 5), np.float32(1.0)),
    Case("linspace-vectors", lambda a: tf.linspace(a, a + 1, 4, axis=1), _f(BATCH)),
    Case("linspace-run-time", lambda v, n: tf.linspace(v, 2 * v, n), np.float32(1.0),
         np.int32(4), runtime=True),
    Case("one_hot-run-time", lambda i, d: tf.one_hot(i, d), _i(BATCH), np.int32(6),
         runtime=True),
    # --- random -----------------------------------------------------------------------
    Case("normal", lambda x: tf.random.normal(tf.shape(x), stddev=2.0), X),
    Case("truncated_normal", lambda x: tf.random.truncated_normal(tf.shape(x)[:2]), X),
    Case("uniform", lambda x: tf.random.uniform(tf.shape(x), maxval=x[0, 0, 0]), X),
    Case("uniform-int", lambda x: tf.random.uniform(tf.shape(x), maxval=9, dtype=tf.int32), X),
    Case("uniform-run-time", lambda n: tf.random.uniform([n, 3]), np.int32(4), runtime=True),
    Case("shuffle", tf.random.shuffle, X),
    Case("categorical", lambda z: tf.random.categorical(z, 3), _f(BATCH, 4)),
    # --- operators --------------------------------------------------------------------
    Case("operators", lambda x: -(x + 1) * x, X),
    Case("equality", lambda x: x == x[0], X),
]


@pytest.mark.parametrize("unknown", [False, True], ids=["known-sizes", "unknown-batch"])
@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_symbolic_result_matches_eager(case, unknown):
    eager = case.fn(*(tf.constant(a) for a in case.arrays))
    traced, env, _ = _trace(case.fn, case.arrays, unknown)
    _assert_like(traced, eager, env, case.runtime)


def test_known_sizes_stay_plain_ints():
    # With every size known, only sizes the data decides are unknown.
    traced, _, _ = _trace(lambda x: (tf.reshape(x, [-1, 3]), x[1:], tf.range(tf.shape(x)[0])),
                          [X], unknown=False)
    assert [t._value.shape for t in traced] == [(40, 3), (4, 4, 6), (5,)]


# --- shapes given as tensors ------------------------------------------------------------


def _text(shape) -> tuple:
    """A shape to compare: sizes as text (an unknown size equals only itself)."""
    return tuple(map(str, shape))


def test_tf_shape_of_unknown_sizes_is_a_graph_op_that_remembers_them():
    def fn(x):
        shape = tf.shape(x)
        first = shape[0]
        return shape, first, shape[1], shape[1:], so.known_sizes(shape), so.known_sizes(first)

    (shape, first, second, rest, known, known_first), _, tracer = _trace(fn, [X], True)
    batch = tracer.graph.inputs[0].shape[0]
    assert shape._value.shape == (3,) and shape.dtype == tf.int32
    assert [n.op for n in tracer.graph.nodes] == ["shape_of", "getitem"]
    assert REGISTRY["shape_of"].shape_only
    assert isinstance(first._value, AbstractArray)
    # Known sizes are constants, as TensorFlow folds them.
    assert second.numpy() == 4 and rest.numpy().tolist() == [4, 6]
    assert _text(known) == _text((batch, 4, 6)) and str(known_first) == str(batch)


def test_shapes_from_tf_shape_keep_the_unknown_sizes():
    def fn(x):
        return (tf.zeros(tf.shape(x)), tf.reshape(x, [tf.shape(x)[0], -1]),
                tf.range(tf.shape(x)[0]), tf.random.normal(tf.shape(x)),
                tf.fill(tf.stack([tf.shape(x)[0], 2]), 1.0))

    results, _, tracer = _trace(fn, [X], unknown=True)
    batch = tracer.graph.inputs[0].shape[0]
    shapes = [_text(r._value.shape) for r in results]
    assert shapes == [_text(s) for s in ((batch, 4, 6), (batch, 24), (batch,), (batch, 4, 6),
                                         (batch, 2))]
    reshape = next(n for n in tracer.graph.nodes if n.op == "reshape")
    assert _text(reshape.attrs["shape"]) == _text((batch, -1)) and len(reshape.inputs) == 1
    draw = next(n for n in tracer.graph.nodes if n.op == "random")
    assert _text(draw.attrs["shape"]) == _text((batch, 4, 6)) and not draw.inputs


def test_sizes_only_known_at_run_time_are_inputs_of_the_op():
    # (The trace records each op's shape as given: None where only the run knows a size.)
    def fn(x, n):
        return tf.reshape(x, [n, -1]), tf.zeros([n, 3]), tf.random.uniform([n])

    results, _, tracer = _trace(fn, [X, np.int32(10)], unknown=True)
    made = {n.output.name: n for n in tracer.graph.nodes}
    nodes = {made[r._value.source.name].op: made[r._value.source.name] for r in results}
    nodes["random"] = next(n for n in tracer.graph.nodes if n.op == "random")
    assert nodes["reshape"].attrs["shape"] == (None, -1) and len(nodes["reshape"].inputs) == 2
    assert nodes["broadcast_to"].attrs["shape"] == (None, 3)
    assert len(nodes["broadcast_to"].inputs) == 2
    assert nodes["random"].attrs["shape"] == (None,) and len(nodes["random"].inputs) == 1
    # Generated code calls the forward for these (its template needs every size).
    assert REGISTRY["reshape"].lowering.template(nodes["reshape"]) is None


# --- values, once the graph is specialised to concrete sizes ------------------------------


VALUE_CASES = [
    Case("flatten", lambda x: tf.reshape(x, [tf.shape(x)[0], -1]), X),
    Case("zeros-shape", lambda x: tf.zeros(tf.shape(x)[:2]) + x[:, :, 0], X),
    Case("reshape-run-time", lambda x, n: tf.reshape(x, [n, -1]), X, np.int32(10)),
    Case("x[i]", lambda x, i: x[i] + x[-i], X, np.int32(2)),
    Case("x[1:i]", lambda x, i: x[1:i, ::-1], X, np.int32(4)),
    Case("x[i:]", lambda x, i: x[:, i:], X, np.int64(-3)),
    Case("slice", lambda x, i: tf.slice(x, [1, i, 0], [2, -1, 3]), X, np.int32(1)),
    Case("range", lambda n: tf.range(n, 0, -2), np.int32(7)),
    Case("range-of-shape", lambda x: tf.range(tf.shape(x)[0]), X),
    Case("fill", lambda x, v: tf.fill(tf.shape(x)[1:], v), X, np.float32(2.5)),
    Case("pad-value", lambda x, v: tf.pad(x, [[1, 0], [0, 0], [0, 2]], constant_values=v), X,
         np.float32(-1.0)),
    Case("one_hot-values", lambda i, v: tf.one_hot(i, 4, on_value=v, off_value=v * 0), _i(BATCH),
         np.float32(3.0)),
    Case("boolean_mask", lambda x: tf.boolean_mask(x, x > 0), X),
    Case("linspace", lambda v: tf.linspace(v, v * 4, 7), np.float32(0.5)),
    Case("linspace-num", lambda v, n: tf.linspace(v, v * 4, n), np.float32(0.5), np.int32(6)),
    Case("one_hot-depth", lambda i, d: tf.one_hot(i, d, axis=0), _i(BATCH), np.int64(3)),
    Case("gather", lambda x, i: tf.gather(x, i, axis=1), X, _i(2, 3)),
    Case("gather-batch-dims", lambda x, i: tf.gather(x, i, axis=2, batch_dims=1), X,
         _i(BATCH, 3, high=6)),
    Case("x[mask]", lambda x: x[x > 0], X),
    Case("unique", lambda i: tf.unique(tf.reshape(i, [-1])).y, _i(BATCH, 2)),
    Case("repeat", lambda x, r: tf.repeat(x, r, axis=0), X, _i(BATCH)),
    Case("roll", lambda x, s: tf.roll(x, s, 0), X, np.int32(-2)),
    Case("sequence_mask", lambda n: tf.sequence_mask(n), _i(BATCH, high=7)),
    Case("reverse_sequence", lambda x, n: tf.reverse_sequence(x, n, seq_axis=2), X,
         _i(BATCH, high=7)),
]


@pytest.mark.parametrize("case", [c.param() for c in VALUE_CASES])
def test_specialised_graph_computes_the_eager_values(case):
    eager = case.fn(*(tf.constant(a) for a in case.arrays))
    traced, _, tracer = _trace(case.fn, case.arrays, unknown=True)
    tracer.finish([traced])
    graph = specialize(tracer.graph, [np.shape(a) for a in case.arrays])
    (got,) = run_graph(graph, [np.asarray(a) for a in case.arrays])
    np.testing.assert_array_equal(got, eager.numpy())
    assert got.dtype == eager.numpy().dtype


# --- gradients with unknown sizes --------------------------------------------------------


@pytest.mark.parametrize("fn", [
    lambda x: tf.reshape(x, [-1]),
    lambda x: x[:, 1:3],
    lambda x: x[1:],
    lambda x: tf.gather(x, [0, 0, 1]),
    lambda x: tf.concat([x, x * 2], 0),
    lambda x: tf.concat([x, x * 2], 2),
    lambda x: tf.pad(x, [[1, 2], [0, 1], [0, 0]]),
    lambda x: tf.boolean_mask(x, x > 0),
    lambda x: tf.tile(x, [2, 1, 1]),
    lambda x: tf.broadcast_to(x[:, :1], tf.shape(x)),
    lambda x: tf.stack([x, x]),
    lambda x: tf.split(x, [1, 5], axis=2)[1],
], ids=["reshape", "getitem", "getitem-batch", "gather", "concat-batch", "concat", "pad",
        "boolean_mask", "tile", "broadcast_to", "stack", "split"])
def test_gradients_have_the_unknown_shape_of_the_input(fn):
    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        seed = tf.ones_like(y)  # symbolic: y's sizes may be unknown
        return tape.gradient(y, x, output_gradients=seed)

    grad, _, tracer = _trace(gradient, [X], unknown=True)
    assert grad._value.shape == tracer.graph.inputs[0].shape
    assert grad.dtype == tf.float32


# --- what tracing records -----------------------------------------------------------------


def test_random_draws_are_stateful_but_not_effects_and_print_is_an_effect():
    assert REGISTRY["random"].stateful and not REGISTRY["random"].effect
    assert REGISTRY["print"].stateful and REGISTRY["print"].effect
    _, _, tracer = _trace(lambda x: tf.print("x:", x, tf.random.uniform([2], seed=1)), [X],
                          unknown=True)
    ops = [n.op for n in tracer.graph.nodes]
    assert ops[0] == "random" and ops[-1] == "print"


@pytest.mark.parametrize("name, template, result", [
    ("reshape", "{0}.reshape({shape})", "view"),
    ("transpose", "{0}.transpose({perm})", "view"),
    ("broadcast_to", "np.broadcast_to({0}, {shape})", "view"),
    ("getitem", "{0}[{key}]", "view"),
    ("identity", "{0}", "view"),
    ("stop_gradient", "{0}", "view"),
    *[(name, None, "fresh") for name in (
        "concat", "gather", "scatter_add", "scatter_into_zeros", "pad", "one_hot", "random",
        "flat_nonzero", "where_indices", "shape_of", "slice_positions", "range", "linspace",
        "print")],
])
def test_lowering_facts(name, template, result):
    lowering = REGISTRY[name].lowering
    found = lowering.template
    if callable(found):  # chosen per node: the template unless a size is only known at run
        found = found(type("Node", (), {"attrs": {"shape": (2, 3)}})())
    assert (found, lowering.result, lowering.out, lowering.in_place) == (
        template, result, False, False)


# --- what cannot be traced says what to do --------------------------------------------------


@pytest.mark.parametrize("fn, error, fragment", [
    (lambda x, n: tf.random.categorical(x[:, :, 0], n), ValueError,
     "num_samples must be known"),
    (lambda x, n: tf.eye(n), ValueError, "num_rows must be known"),
    (lambda x, n: tf.transpose(x, tf.stack([n, 0, 1])), ValueError, "perm must be known"),
    (lambda x, n: tf.gather(x, [0], axis=n), ValueError, "axis must be known"),
    (lambda x, n: tf.pad(x, tf.stack([[n, 0], [0, 0], [0, 0]]), mode="REFLECT"), ValueError,
     "REFLECT padding needs paddings known"),
    (lambda x, n: tf.split(x, [n, 1], axis=1), ValueError, "sizes must be known"),
    (lambda x, n: tf.squeeze(x), InconclusiveDimension, "pass axis="),
    (lambda x, n: tf.unstack(x), ValueError, "pass num="),
    (lambda x, n: tf.split(x, 2), InconclusiveDimension, "give the sizes"),
    (lambda x, n: tf.pad(x, [[1, 1], [0, 0], [0, 0]], mode="SYMMETRIC"), ValueError,
     "give it a fixed size"),
    (lambda x, n: tf.reshape(x, tf.reshape(tf.range(n), [-1])), ValueError, "unknown length"),
    (lambda x, n: x[int(n)], SymbolicValueError, "Python/NumPy int"),
    (lambda x, n: len(x), SymbolicValueError, "tf.shape(x)[i]"),
])
def test_untraceable_uses_say_what_to_do(fn, error, fragment):
    with pytest.raises(error, match=fragment.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        _trace(fn, [X, np.int32(2)], unknown=True)


def test_gather_checks_traced_indices_when_the_graph_runs():
    traced, _, _ = _trace(lambda x, i: tf.gather(x, i), [X, np.array([1, 9], np.int32)],
                          unknown=True)
    assert traced._value.shape[1:] == (4, 6)  # tracing cannot check the indices
    with pytest.raises(InvalidArgumentError) as eager:
        tf.gather(X, [1, 9])
    with pytest.raises(InvalidArgumentError) as running:
        REGISTRY["gather"].forward(np, X, np.array([1, 9]), axis=0)
    assert str(eager.value) == str(running.value)
    assert "index 9 is out of range for axis 0 with size 5" in str(running.value)


def test_reshape_beside_a_zero_with_unknown_sizes_runs_the_forward():
    """TensorFlow infers the -1 of [0, -1] from the other sizes; NumPy's reshape cannot, so
    compiled code calls the forward for such a shape."""
    f = tf.function(lambda x: tf.reshape(x, [0, -1]),
                    input_signature=[tf.TensorSpec([0, None], tf.float32)])
    assert f(np.zeros((0, 3), np.float32)).shape == (0, 3)
    node = type("Node", (), {"attrs": {"shape": (0, -1)}})()
    assert REGISTRY["reshape"].lowering.template(node) is None
