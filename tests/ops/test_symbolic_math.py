"""Math ops on symbolic tensors: elementwise, reductions, linear algebra and tf.nn.

Each public op runs on symbolic inputs (``Tracer.add_input``: a shape and a dtype, no
values), once with every size known and once with some sizes unknown (``Dim``). The
result must be symbolic, and its shape (unknown sizes evaluated at the eager sizes)
and dtype must be what the op gives eagerly. A wrapper that read a value would raise
SymbolicValueError here; the ops that cannot be traced must say so clearly.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.abstract import AbstractArray, Dim, SymbolicValueError, evaluate_shape
from neuroflow.graph.trace import Tracer, tracing
from neuroflow.ops import nn_ops
from neuroflow.ops import reductions as red
from neuroflow.ops.registry import REGISTRY

_rng = np.random.default_rng(7)


def _f(*shape, dtype="float32"):
    return _rng.uniform(-2, 2, shape).astype(dtype)


def _i(*shape, high=5, dtype="int32"):
    return _rng.integers(0, high, shape).astype(dtype)


def _b(*shape):
    return _rng.uniform(-1, 1, shape) > 0


class Case:
    """``fn`` applied to tensors of ``arrays``; ``dims`` names the unknown axes of each.

    ``dims`` has one tuple per array, with a name (the same name is the same unknown size)
    or None (known) per axis. By default axis 0 of every array of rank >= 1 is the one
    unknown batch size ``b``.
    """

    def __init__(self, id, fn, *arrays, dims=None):
        self.id, self.fn, self.arrays = id, fn, arrays
        self.dims = dims if dims is not None else tuple(
            ("b",) + (None,) * (a.ndim - 1) if a.ndim else () for a in arrays)

    def param(self):
        return pytest.param(self, id=self.id)


def _trace(case: Case, unknown: bool):
    """Run ``case`` on symbolic inputs; returns (result, env of the unknown sizes, graph)."""
    tracer = Tracer("t")
    env: dict = {}
    named: dict = {}
    with tracing(tracer):
        inputs = []
        for array, names in zip(case.arrays, case.dims):
            shape = []
            for size, name in zip(array.shape, names):
                if name is None or not unknown:
                    shape.append(size)
                    continue
                if name not in named:
                    named[name] = Dim.fresh(name)
                    env[named[name].symbol.name] = size
                shape.append(named[name])
            inputs.append(tracer.add_input(tuple(shape), array.dtype))
        result = case.fn(*inputs)
    return result, env, tracer.graph


def _leaves(result) -> list:
    if isinstance(result, (tuple, list)):
        return [leaf for item in result for leaf in _leaves(item)]
    return [result]


def _check(case: Case):
    eager = _leaves(case.fn(*(tf.constant(a) for a in case.arrays)))
    for unknown in (False, True):
        traced, env, _ = _trace(case, unknown)
        traced = _leaves(traced)
        assert len(traced) == len(eager)
        for got, want in zip(traced, eager):
            assert type(got._value) is AbstractArray, f"{case.id}: the result is not symbolic"
            assert got._value.dtype == want._value.dtype, (case.id, got, want)
            shape = evaluate_shape(got._value.shape, dict(env))
            assert shape == want._value.shape, (case.id, unknown, got._value.shape, shape,
                                                want._value.shape)


# --- elementwise --------------------------------------------------------------------------

_BINARY = [tf.add, tf.subtract, tf.multiply, tf.truediv, tf.math.divide_no_nan, tf.maximum,
           tf.minimum, tf.math.squared_difference, tf.pow]
_COMPARE = [tf.equal, tf.not_equal, tf.less, tf.less_equal, tf.greater, tf.greater_equal]
_UNARY = [tf.negative, tf.abs, tf.sign, tf.square, tf.exp, tf.math.expm1, tf.math.log,
          tf.math.log1p, tf.sqrt, tf.sin, tf.cos, tf.tanh, tf.sigmoid, tf.math.erf,
          tf.math.floor, tf.math.ceil, tf.round, tf.math.is_nan, tf.math.is_inf,
          tf.math.is_finite, tf.math.rsqrt, tf.math.reciprocal]

_NEW_UNARY = [tf.math.tan, tf.math.asin, tf.math.acos, tf.math.atan, tf.math.sinh,
              tf.math.cosh, tf.math.asinh, tf.math.atanh, tf.math.rint, tf.math.erfc,
              tf.math.lgamma, tf.math.digamma, tf.math.erfinv, tf.math.ndtri,
              tf.math.reciprocal_no_nan]
_NEW_BINARY = [tf.math.atan2, tf.truncatediv, tf.truncatemod, tf.realdiv, tf.math.xlogy,
               tf.math.xlog1py, tf.math.xdivy, tf.math.multiply_no_nan, tf.math.floormod]

ELEMENTWISE = (
    [Case(f"{op.__name__}-same", op, np.abs(_f(4, 3)) + 0.5, _f(4, 3) + 3) for op in _BINARY]
    + [Case(f"{op.__name__}-broadcast", op, _f(4, 3) + 3, _f(3), dims=(("b", None), (None,)))
       for op in _BINARY]
    + [Case(f"{op.__name__}-two-unknowns", op, _f(4, 1), _f(1, 3), dims=(("b", None),
                                                                         (None, "c")))
       for op in _BINARY[:3]]
    + [Case(f"{op.__name__}-independent-batches", op, _f(4, 3), _f(4, 3),
            dims=(("b", None), ("c", None))) for op in _BINARY[:2]]
    + [Case(f"{op.__name__}-python-number", lambda x, op=op: op(x, 2.0), _f(4, 3))
       for op in _BINARY]
    + [Case(f"{op.__name__}", op, _f(4, 3), _f(4, 3)) for op in _COMPARE]
    + [Case(f"{op.__name__}-int", op, _i(4, 3), _i(4, 3)) for op in _COMPARE]
    + [Case(f"{op.__name__}", op, _b(4, 3), _b(3), dims=(("b", None), (None,)))
       for op in (tf.logical_and, tf.logical_or, tf.math.logical_xor)]
    + [Case("logical_not", tf.logical_not, _b(4, 3))]
    + [Case(f"{op.__name__}", op, np.abs(_f(4, 3)) + 0.5) for op in _UNARY]
    + [Case(f"{op.__name__}-int", op, _i(5, 2)) for op in (tf.negative, tf.abs, tf.sign,
                                                            tf.square, tf.round)]
    + [Case("truediv-int", tf.truediv, _i(4, 3), _i(4, 3) + 1),
       Case("floordiv-int", tf.math.floordiv, _i(4, 3), _i(4, 3) + 1),
       Case("floormod-int", tf.math.floormod, _i(4, 3), _i(4, 3) + 1),
       Case("floordiv-float", tf.math.floordiv, _f(4, 3), _f(4, 3) + 3),
       Case("pow-int", tf.pow, _i(4, 3), _i(4, 3)),
       Case("where", tf.where, _b(4, 1), _f(4, 3), _f(3), dims=(("b", None), ("b", None),
                                                                 (None,))),
       Case("where-python-branch", lambda c, x: tf.where(c, x, 0.5), _b(4, 3), _f(4, 3)),
       Case("cast", lambda x: tf.cast(x, tf.int32), _f(4, 3)),
       Case("cast-same-dtype", lambda x: tf.cast(x, tf.float32), _f(4, 3)),
       Case("cast-from-bool", lambda x: tf.cast(x, tf.float64), _b(4, 3)),
       Case("cast-complex-to-float", lambda x: tf.cast(x, tf.float32),
            _f(4, 3).astype(np.complex64)),
       Case("real", tf.math.real, (_f(4, 3) + 1j * _f(4, 3)).astype(np.complex128)),
       Case("real-of-floats", tf.math.real, _f(4, 3)),
       Case("clip_by_value", lambda x: tf.clip_by_value(x, -0.5, 0.5), _f(4, 3)),
       Case("scalar-input", tf.exp, np.float32(1.5)),
       Case("empty", tf.add, _f(0, 3), _f(0, 3))]
    + [Case(f"{op.__name__}", op, np.abs(_f(4, 3)) * 0.4 + 0.1) for op in _NEW_UNARY]
    + [Case(f"{op.__name__}-broadcast", op, _f(4, 3) + 3, _f(3) + 3, dims=(("b", None), (None,)))
       for op in _NEW_BINARY]
    + [Case(f"{op.__name__}-int", op, _i(4, 3), _i(4, 3) + 1)
       for op in (tf.truncatediv, tf.truncatemod)]
    + [Case("acosh", tf.math.acosh, _f(4, 3) + 3),
       Case("polygamma", tf.math.polygamma, np.ones((4, 3), np.float32), _f(4, 3) + 3),
       Case("scalar_mul", lambda x: tf.math.scalar_mul(2.0, x), _f(4, 3)),
       Case("saturate_cast", lambda x: tf.saturate_cast(x * 300, tf.uint8), _f(4, 3)),
       Case("clip_by_value-crossed", lambda x: tf.clip_by_value(x, 0.5, -0.5), _f(4, 3)),
       Case("imag", tf.math.imag, (_f(4, 3) + 1j * _f(4, 3)).astype(np.complex64)),
       Case("conj", tf.math.conj, (_f(4, 3) + 1j * _f(4, 3)).astype(np.complex128)),
       Case("complex", tf.complex, _f(4, 3), _f(3), dims=(("b", None), (None,)))]
)


@pytest.mark.parametrize("case", [c.param() for c in ELEMENTWISE])
def test_elementwise_ops_trace(case):
    _check(case)


@pytest.mark.parametrize("condition", [_b(4, 3), _i(4, 3)], ids=["bool", "int"])
def test_where_with_only_a_condition_has_a_size_known_when_it_runs(condition):
    traced, _, _ = _trace(Case("where", tf.where, condition), unknown=True)
    assert traced.dtype == tf.int64 and traced._value.ndim == 2
    assert isinstance(traced._value.shape[0], Dim) and traced._value.shape[1] == 2


# --- reductions ---------------------------------------------------------------------------

_AXES = [None, 0, 1, -1, (0, 1), []]
_REDUCE = [tf.reduce_sum, tf.reduce_max, tf.reduce_min, tf.reduce_prod, tf.reduce_mean,
           tf.math.reduce_variance, tf.math.reduce_std, tf.reduce_logsumexp]

REDUCTIONS = (
    [Case(f"{op.__name__}-axis{axis}-keep{keep}",
          lambda x, op=op, a=axis, k=keep: op(x, axis=a, keepdims=k), _f(4, 3))
     for op in _REDUCE for axis in _AXES for keep in (False, True)]
    + [Case(f"{op.__name__}-int-axis{axis}", lambda x, op=op, a=axis: op(x, axis=a), _i(4, 3))
       for op in (tf.reduce_sum, tf.reduce_max, tf.reduce_prod, tf.reduce_mean)
       for axis in (None, 0)]
    + [Case(f"{op.__name__}-axis{axis}", lambda x, op=op, a=axis: op(x, axis=a), _b(4, 3))
       for op in (tf.reduce_any, tf.reduce_all) for axis in (None, 0, 1)]
    + [Case(f"{op.__name__}-axis{axis}-{dtype}", lambda x, op=op, a=axis: op(x, axis=a),
            _f(4, 3).astype(dtype))
       for op in (tf.argmax, tf.argmin) for axis in (None, 0, 1, -1)
       for dtype in ("float32", "int32")]
    + [Case("argmax-int32-output", lambda x: tf.argmax(x, axis=1, output_type=tf.int32),
            _f(4, 3))]
    + [Case(f"{op.__name__}-axis{axis}-excl{e}-rev{r}",
            lambda x, op=op, a=axis, e=e, r=r: op(x, a, e, r), _f(4, 3))
       for op in (tf.cumsum, tf.math.cumprod) for axis in (0, 1) for e in (False, True)
       for r in (False, True)]
    + [Case("reduce_mean-two-unknowns", lambda x: tf.reduce_mean(x, axis=[0, 2]), _f(4, 3, 5),
            dims=(("b", None, "t"),)),
       Case("reduce_mean-known-axis", lambda x: tf.reduce_mean(x, axis=1), _f(4, 3)),
       Case("reduce_mean-rank3-int", lambda x: tf.reduce_mean(x, axis=0), _i(4, 3, 2))]
)


@pytest.mark.parametrize("case", [c.param() for c in REDUCTIONS])
def test_reductions_trace(case):
    _check(case)


def test_mean_over_an_unknown_size_divides_by_the_size_when_the_graph_runs():
    traced, _, graph = _trace(Case("mean", tf.reduce_mean, _f(4, 3)), unknown=True)
    ops = [node.op for node in graph.nodes]
    assert "size_of" in ops and REGISTRY["size_of"].shape_only
    assert not graph.constants  # no count was frozen into the graph
    # With every size known the count stays a plain constant.
    _, _, graph = _trace(Case("mean", tf.reduce_mean, _f(4, 3)), unknown=False)
    assert "size_of" not in [node.op for node in graph.nodes]


def test_axes_given_as_a_traced_tensor_cannot_be_read():
    tracer = Tracer("t")
    with tracing(tracer):
        x = tracer.add_input((Dim.fresh("b"), 3), np.float32)
        axis = tracer.add_input((), np.int32)
        with pytest.raises(SymbolicValueError):
            tf.reduce_sum(x, axis=axis)


# --- linear algebra -----------------------------------------------------------------------

LINALG = [
    Case("matmul", tf.matmul, _f(4, 3), _f(3, 5), dims=(("b", None), (None, None))),
    Case("matmul-unknown-inner", tf.matmul, _f(4, 3), _f(3, 5), dims=(("b", "k"), ("k", None))),
    Case("matmul-independent-inner", tf.matmul, _f(4, 3), _f(3, 5),
         dims=(("b", "k"), ("j", None))),
    Case("matmul-batched", tf.matmul, _f(2, 4, 3), _f(3, 5), dims=(("b", None, None),
                                                                   (None, None))),
    Case("matmul-batch-broadcast", tf.matmul, _f(2, 1, 4, 3), _f(6, 3, 5),
         dims=(("b", None, "r", None), (None, None, None))),
    Case("matmul-transposed", lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
         _f(3, 4), _f(5, 3), dims=((None, "b"), ("c", None))),
    Case("matmul-int", tf.matmul, _i(4, 3), _i(3, 2)),
    Case("einsum-matmul", lambda a, b: tf.einsum("ij,jk->ik", a, b), _f(4, 3), _f(3, 5),
         dims=(("b", None), (None, "c"))),
    Case("einsum-batch", lambda a, b: tf.einsum("bij,bjk->bik", a, b), _f(4, 2, 3), _f(4, 3, 5)),
    Case("einsum-implicit", lambda a, b: tf.einsum("ij,jk", a, b), _f(4, 3), _f(3, 2),
         dims=(("b", None), (None, None))),
    Case("einsum-sum", lambda a: tf.einsum("ij->j", a), _f(4, 3)),
    Case("einsum-three", lambda a, b, c: tf.einsum("ij,jk,kl->il", a, b, c), _f(4, 3), _f(3, 2),
         _f(2, 5), dims=(("b", None), (None, None), (None, "c"))),
    Case("tensordot-1", lambda a, b: tf.tensordot(a, b, 1), _f(4, 3), _f(3, 5),
         dims=(("b", None), (None, "c"))),
    Case("tensordot-unknown-contracted", lambda a, b: tf.tensordot(a, b, [[0], [0]]),
         _f(4, 3), _f(4, 5)),
    Case("tensordot-2", lambda a, b: tf.tensordot(a, b, 2), _f(4, 2, 3), _f(2, 3, 5),
         dims=(("b", None, None), (None, None, None))),
    Case("tensordot-0", lambda a, b: tf.tensordot(a, b, 0), _f(4, 2), _f(3),
         dims=(("b", None), ("c",))),
    Case("trace", tf.linalg.trace, _f(4, 3, 3), dims=(("b", None, None),)),
    Case("trace-unknown-matrix", tf.linalg.trace, _f(2, 3, 4), dims=((None, "r", "c"),)),
] + [
    Case(f"norm-{ord_}-axis{axis}", lambda x, o=ord_, a=axis: tf.norm(x, ord=o, axis=a),
         _f(4, 3))
    for ord_, axis in (("euclidean", None), (2, 1), (1, 0), (np.inf, -1), (3, None),
                       ("fro", (0, 1)), (1, (0, 1)), (np.inf, (0, 1)))
]


@pytest.mark.parametrize("case", [c.param() for c in LINALG])
def test_linalg_ops_trace(case):
    _check(case)


def test_matmul_refuses_inner_sizes_that_certainly_differ_while_tracing():
    tracer = Tracer("t")
    with tracing(tracer):
        b = Dim.fresh("b")
        x = tracer.add_input((b, 3), np.float32)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\(None, 3\)"):
            tf.matmul(x, tf.ones([4, 2]))
        # An unknown inner size may match: the product is checked when the graph runs.
        assert tf.matmul(tf.ones([2, 4]), x).shape == [2, 3]


# --- tf.nn ----------------------------------------------------------------------------

_ACTIVATIONS = [tf.nn.relu, tf.nn.relu6, tf.nn.leaky_relu, tf.nn.elu, tf.nn.selu, tf.nn.gelu,
                lambda x: tf.nn.gelu(x, approximate=True), tf.nn.softplus, tf.nn.softsign,
                tf.nn.silu, lambda x: tf.nn.silu(x, beta=2.0), tf.nn.softmax, tf.nn.log_softmax,
                lambda x: tf.nn.softmax(x, axis=0), tf.nn.l2_loss]

NN = (
    [Case(f"activation-{i}", op, _f(4, 3)) for i, op in enumerate(_ACTIVATIONS)]
    + [Case("relu-int", tf.nn.relu, _i(4, 3)),
       Case("sparse_xent", lambda z, y: tf.nn.sparse_softmax_cross_entropy_with_logits(y, z),
            _f(4, 5), _i(4)),
       Case("sparse_xent-independent-batches",
            lambda z, y: tf.nn.sparse_softmax_cross_entropy_with_logits(y, z), _f(4, 5), _i(4),
            dims=(("b", None), ("c",))),
       Case("sparse_xent-rank3", lambda z, y: tf.nn.sparse_softmax_cross_entropy_with_logits(
           y, z), _f(4, 2, 5), _i(4, 2)),
       Case("softmax_xent", lambda z, y: tf.nn.softmax_cross_entropy_with_logits(y, z),
            _f(4, 5), np.abs(_f(4, 5))),
       Case("sigmoid_xent", lambda z, y: tf.nn.sigmoid_cross_entropy_with_logits(y, z),
            _f(4, 5), np.abs(_f(4, 5)) / 2),
       Case("bias_add", tf.nn.bias_add, _f(4, 3), _f(3), dims=(("b", None), (None,))),
       Case("bias_add-unknown-channels", tf.nn.bias_add, _f(4, 3), _f(3),
            dims=(("b", "c"), ("c",))),
       Case("bias_add-NCHW", lambda x, b: tf.nn.bias_add(x, b, data_format="NCHW"),
            _f(4, 3, 2, 2), _f(3), dims=(("b", None, "h", "w"), (None,))),
       Case("dropout", lambda x: tf.nn.dropout(x, 0.5, seed=1), _f(4, 3)),
       Case("dropout-noise-shape", lambda x: tf.nn.dropout(x, 0.5, noise_shape=[None, 1],
                                                           seed=1), _f(4, 3)),
       Case("dropout-traced-rate", lambda x, r: tf.nn.dropout(x, r, seed=1), _f(4, 3),
            np.float32(0.25)),
       Case("dropout-zero", lambda x: tf.nn.dropout(x, 0.0), _f(4, 3)),
       Case("moments", lambda x: tf.nn.moments(x, axes=[0]), _f(4, 3)),
       Case("moments-keepdims", lambda x: tf.nn.moments(x, axes=[0, 1], keepdims=True),
            _f(4, 3)),
       Case("top_k", lambda x: tf.nn.top_k(x, k=2), _f(4, 3)),
       Case("top_k-unknown-last-axis", lambda x: tf.nn.top_k(x, k=2), _f(4, 3),
            dims=(("b", "n"),)),
       Case("sort", tf.sort, _f(4, 3)),
       Case("sort-axis0-descending", lambda x: tf.sort(x, axis=0, direction="DESCENDING"),
            _f(4, 3), dims=(("b", "n"),)),
       Case("argsort", tf.argsort, _f(4, 3)),
       Case("argsort-axis0", lambda x: tf.argsort(x, axis=0), _f(4, 3))]
)


@pytest.mark.parametrize("case", [c.param() for c in NN])
def test_nn_ops_trace(case):
    _check(case)


def test_losses_refuse_shapes_that_certainly_differ_and_defer_the_rest():
    tracer = Tracer("t")
    with tracing(tracer):
        b, c = Dim.fresh("b"), Dim.fresh("c")
        logits = tracer.add_input((b, 5), np.float32)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\(None,\)"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(tf.zeros([4, 2], tf.int32), logits)
        with pytest.raises(tf.errors.InvalidArgumentError, match="must match"):
            tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros([3, 4]), logits)
        # A batch of 3 may be the unknown batch: the elementwise ops check it when they run.
        assert tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros([3, 5]), logits).shape == [None, 5]
        labels = tracer.add_input((c,), np.int32)
        assert tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits).shape == [None]
    # The sizes only a run knows are compared by the forward when it runs.
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels must have shape"):
        nn_ops._sparse_softmax_xent.forward(np, _f(4, 5), _i(3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels must have shape"):
        nn_ops._sparse_softmax_xent_grad.forward(np, _f(4, 5), _i(3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels must have shape"):
        nn_ops.sparse_softmax_xent_with_grad(np, _f(4, 5), _i(3))


def test_top_k_needs_a_python_k():
    tracer = Tracer("t")
    with tracing(tracer):
        x = tracer.add_input((Dim.fresh("b"), 5), np.float32)
        k = tracer.add_input((), np.int32)
        with pytest.raises(SymbolicValueError):
            tf.nn.top_k(x, k=k)
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
            tf.nn.top_k(x, k=6)


# --- gradients of symbolic tensors ----------------------------------------------------------

GRADIENTS = [
    Case("reduce_sum", lambda x: tf.reduce_sum(x, axis=0), _f(4, 3)),
    Case("reduce_mean", tf.reduce_mean, _f(4, 3)),
    Case("reduce_max", lambda x: tf.reduce_max(x, axis=1), _f(4, 3)),
    Case("reduce_prod", lambda x: tf.reduce_prod(x, axis=0), _f(4, 3)),
    Case("reduce_prod-all", tf.reduce_prod, _f(4, 3)),
    Case("logsumexp", lambda x: tf.reduce_logsumexp(x, axis=1), _f(4, 3)),
    Case("softmax", tf.nn.softmax, _f(4, 3)),
    Case("einsum", lambda x: tf.einsum("ij,jk->ik", x, tf.ones([3, 2])), _f(4, 3)),
    Case("einsum-summed-index", lambda x: tf.einsum("ij->j", x), _f(4, 3)),
    Case("tensordot", lambda x: tf.tensordot(x, tf.ones([4, 2]), [[0], [0]]), _f(4, 3)),
    Case("matmul", lambda x: tf.matmul(x, tf.ones([3, 2])), _f(4, 3)),
    Case("top_k", lambda x: tf.nn.top_k(x, 2).values, _f(4, 3)),
    Case("sparse_xent", lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(
        tf.zeros([4], tf.int32), x), _f(4, 3), dims=((None, None),)),
    Case("real", lambda x: tf.math.real(tf.cast(x, tf.complex64) * 2), _f(4, 3)),
    Case("trace", tf.linalg.trace, _f(2, 3, 3), dims=(("b", "n", "n"),)),
]


@pytest.mark.parametrize("case", [c.param() for c in GRADIENTS])
def test_gradients_of_symbolic_tensors_have_the_input_shape(case):
    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            # The square makes every gradient depend on x, so it is symbolic too.
            y = tf.reduce_mean(tf.square(case.fn(x)))
        return tape.gradient(y, x)

    _check(Case(case.id, gradient, *case.arrays, dims=case.dims))


# The gradient of a sum over an unknown batch is the constant seed broadcast to the batch's
# shape: a broadcast_to of a concrete tensor whose attribute holds an unknown size, which only
# a graph node can compute. registry.apply runs ops on concrete inputs eagerly, so this waits
# for apply to trace such ops (strict: the marker must go once it does).
def test_gradient_of_a_sum_over_an_unknown_batch():
    tracer = Tracer("t")
    with tracing(tracer):
        x = tracer.add_input((Dim.fresh("b"), 3), np.float32)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(x)
        assert tape.gradient(y, x).shape == [None, 3]


# --- lowering facts -------------------------------------------------------------------------


_UFUNCS = {
    "negative": "negative", "abs": "abs", "exp": "exp", "log": "log", "log1p": "log1p",
    "expm1": "expm1", "sqrt": "sqrt", "square": "square", "sin": "sin", "cos": "cos",
    "tanh": "tanh", "sign": "sign", "floor": "floor", "ceil": "ceil",
    "logical_not": "logical_not", "is_nan": "isnan", "is_inf": "isinf", "is_finite": "isfinite",
    "add": "add", "subtract": "subtract", "multiply": "multiply", "divide": "true_divide",
    "maximum": "maximum", "minimum": "minimum", "equal": "equal", "not_equal": "not_equal",
    "less": "less", "less_equal": "less_equal", "greater": "greater",
    "greater_equal": "greater_equal", "logical_and": "logical_and", "logical_or": "logical_or",
    "logical_xor": "logical_xor", "pow": "power", "tan": "tan", "asin": "arcsin",
    "acos": "arccos", "atan": "arctan", "sinh": "sinh", "cosh": "cosh", "asinh": "arcsinh",
    "acosh": "arccosh", "atanh": "arctanh", "atan2": "arctan2", "conj": "conjugate",
}


@pytest.mark.parametrize("name, ufunc", sorted(_UFUNCS.items()))
def test_ufunc_primitives_lower_to_their_ufunc(name, ufunc):
    lowering = REGISTRY[name].lowering
    operands = ", ".join(f"{{{i}}}" for i in range(getattr(np, ufunc).nin))
    assert lowering.template == f"np.{ufunc}({operands}{{out}})"
    assert (lowering.ufunc, lowering.out, lowering.result, lowering.in_place) == (
        ufunc, True, "fresh", True)


def _node(op, input_shape, input_dtype, output_dtype):
    value = SimpleNamespace(shape=input_shape, dtype=np.dtype(input_dtype))
    return SimpleNamespace(op=op, inputs=[value], output=SimpleNamespace(
        shape=(), dtype=np.dtype(output_dtype)), attrs={})


def test_templates_of_reductions_matmul_relu_cast_where():
    lowering = REGISTRY["reduce_sum"].lowering
    assert lowering.template(_node("reduce_sum", (3, 4), "float32", "float32")) == (
        "np.add.reduce({0}, axis={axes}, dtype=np.float32, keepdims={keepdims}{out})")
    assert (lowering.out, lowering.result) == (True, "fresh")
    for name, ufunc in (("reduce_max", "maximum"), ("reduce_min", "minimum")):
        template = REGISTRY[name].lowering.template
        assert template(_node(name, (3, 4), "float32", "float32")) == (
            f"np.{ufunc}.reduce({{0}}, axis={{axes}}, keepdims={{keepdims}})")
        assert template(_node(name, (0, 4), "float32", "float32")) is None
        assert template(_node(name, (Dim.fresh("b"), 4), "float32", "float32")) is None
        assert REGISTRY[name].lowering.result == "fresh"
    argmax = REGISTRY["argmax"].lowering
    assert argmax.template(_node("argmax", (3, 4), "int32", "int64")) == (
        "np.argmax({0}, axis={axis})" + ("" if np.dtype(np.intp) == np.int64
                                         else ".astype(np.int64)"))
    assert argmax.template(_node("argmax", (3, 4), "int32", "int32")) == (
        "np.argmax({0}, axis={axis}).astype(np.int32)")
    assert argmax.template(_node("argmax", (3, 4), "float32", "int64")) is None  # NaN rule
    assert REGISTRY["matmul"].lowering.template == "np.matmul({0}, {1}{out})"
    relu = REGISTRY["relu"].lowering
    assert (relu.template, relu.ufunc, relu.in_place, relu.out) == (
        "np.maximum({0}, 0{out})", "maximum", True, True)
    cast = REGISTRY["cast"].lowering  # fills its buffer with copyto, else astype
    assert cast.emit is not None and cast.out and cast.in_place
    assert REGISTRY["where"].lowering.template == "np.where({0}, {1}, {2})"
    for name in ("argmin", "sparse_softmax_xent", "sparse_softmax_xent_grad", "where",
                 "cast", "matmul", "relu", "real"):
        assert REGISTRY[name].lowering.result == "fresh", name


def test_size_primitives_read_only_shapes():
    for name in ("size_of", "eye_like", "row_offsets"):
        prim = REGISTRY[name]
        assert prim.shape_only and not prim.differentiable and not prim.stateful
    assert red._size_of(tf.ones([4, 3]), axes=(0,), dtype=np.dtype(np.int32)).numpy() == 4
