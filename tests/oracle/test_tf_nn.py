"""``tf.nn`` ops against TensorFlow: values, dtypes, shapes, error classes and gradients,
over dtypes, scalars, zero sizes, broadcasting and inf/NaN/-0.0.

Each case is a function of the library (``tf`` or neuroflow) run under both. Both must
give values (equal dtypes and shapes, values within a few ulps of the dtype, NaN where
NaN) or both errors, of classes that correspond: TensorFlow's ``InvalidArgumentError`` is
neuroflow's (which is also a ``ValueError``), a built-in ``TypeError``/``ValueError`` the
same built-in.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")

import neuroflow as N  # noqa: E402

pytestmark = pytest.mark.tensorflow

FLOATS = ["float16", "float32", "float64"]
INTS = ["int8", "int16", "int32", "int64", "uint8"]
_rng = np.random.default_rng(11)
_TOLERANCE = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}

# Values where activations have edges: signed zeros, kinks, relu6's cap, huge and special.
EDGES = np.array([-0.0, 0.0, -1.0, 1.0, 6.0, 7.5, -30.0, 30.0, 1e4, -1e4, np.inf, -np.inf,
                  np.nan])


def _array(*shape, dtype="float32", low=-3.0, high=3.0):
    if dtype == "bool":
        return _rng.random(shape) < 0.5
    if dtype.startswith("uint"):
        return _rng.integers(0, 9, shape).astype(dtype)
    if dtype.startswith("int"):
        return _rng.integers(-9, 9, shape).astype(dtype)
    return _rng.uniform(low, high, shape).astype(dtype)


def _distinct(*shape, dtype="float32"):
    size = int(np.prod(shape))
    values = _rng.permutation(np.arange(size) - size // 2)
    return values.reshape(shape).astype(dtype)


def _outcome(lib, fn):
    try:
        return "value", fn(lib)
    except Exception as error:  # the class is what is compared
        return "error", error


def _leaves(result) -> list:
    if isinstance(result, (list, tuple)):
        return [leaf for item in result for leaf in _leaves(item)]
    if result is None or isinstance(result, (int, float)):
        return [result]
    return [np.asarray(result)]


def _same_error_class(ours: Exception, theirs: Exception) -> bool:
    if isinstance(theirs, T.errors.InvalidArgumentError):
        return isinstance(ours, N.errors.InvalidArgumentError)
    if isinstance(theirs, T.errors.OpError):
        return isinstance(ours, N.errors.OpError)
    return isinstance(ours, type(theirs))


def _close(got: np.ndarray, want: np.ndarray, rtol: float | None) -> None:
    if want.dtype.kind not in "fc":
        np.testing.assert_array_equal(got, want)
        return
    tol = _TOLERANCE.get(want.dtype.name, 1e-6) if rtol is None else rtol
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol,
                               atol=tol)
    # Signed zeros and NaN in the same places.
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


def compare(fn, rtol: float | None = None) -> None:
    """``fn(tf)`` and ``fn(neuroflow)`` agree: values, dtypes and shapes, or error classes."""
    tf_kind, theirs = _outcome(T, fn)
    nf_kind, ours = _outcome(N, fn)
    if tf_kind == "error":
        assert nf_kind == "error", (f"TensorFlow raises {type(theirs).__name__}: {theirs}; "
                                    f"neuroflow gives {ours}")
        assert _same_error_class(ours, theirs), (
            f"TensorFlow raises {type(theirs).__name__} ({theirs}), neuroflow "
            f"{type(ours).__name__} ({ours})")
        return
    assert nf_kind == "value", f"neuroflow raises {type(ours).__name__}: {ours}; TF: {theirs}"
    got, want = _leaves(ours), _leaves(theirs)
    assert len(got) == len(want), f"{len(got)} results, TensorFlow gives {len(want)}"
    for g, w in zip(got, want):
        if not isinstance(w, np.ndarray):
            assert g == w
            continue
        assert g.dtype == w.dtype, f"dtype {g.dtype}, TensorFlow gives {w.dtype}"
        assert g.shape == w.shape, f"shape {g.shape}, TensorFlow gives {w.shape}"
        _close(g, w, rtol)


def compare_gradients(fn, *arrays, rtol: float = 1e-6) -> None:
    """The gradients of a fixed weighted sum of ``fn``'s outputs agree with TensorFlow's."""
    weights = {}

    def grads(lib):
        tensors = [lib.constant(a) for a in arrays]
        with lib.GradientTape() as tape:
            tape.watch(tensors)
            out = fn(lib, *tensors)
            outs = [y for y in (out if isinstance(out, (list, tuple)) else [out])
                    if y is not None]
            loss = 0.0
            for k, y in enumerate(outs):
                if k not in weights:
                    weights[k] = _rng.uniform(0.5, 1.5, tuple(y.shape)).astype(y.dtype.name)
                loss = loss + lib.reduce_sum(y * lib.constant(weights[k]))
        # TensorFlow's gather gradients are IndexedSlices: made dense to compare.
        return [None if g is None else lib.convert_to_tensor(g).numpy()
                for g in tape.gradient(loss, tensors)]

    theirs = grads(T)
    ours = grads(N)
    for g, w in zip(ours, theirs):
        assert (g is None) == (w is None), f"gradient {g}, TensorFlow gives {w}"
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol)


def _c(lib, value, dtype=None):
    return lib.constant(value) if dtype is None else lib.constant(value, dtype=dtype)


# --- activations over dtypes and edge values ------------------------------------------------

ACTIVATIONS = {
    "relu": lambda lib, x: lib.nn.relu(x),
    "relu6": lambda lib, x: lib.nn.relu6(x),
    "leaky_relu": lambda lib, x: lib.nn.leaky_relu(x),
    "leaky_relu-alpha": lambda lib, x: lib.nn.leaky_relu(x, alpha=0.01),
    "elu": lambda lib, x: lib.nn.elu(x),
    "selu": lambda lib, x: lib.nn.selu(x),
    "gelu": lambda lib, x: lib.nn.gelu(x),
    "gelu-tanh": lambda lib, x: lib.nn.gelu(x, approximate=True),
    "softplus": lambda lib, x: lib.nn.softplus(x),
    "softsign": lambda lib, x: lib.nn.softsign(x),
    "silu": lambda lib, x: lib.nn.silu(x),
    "crelu": lambda lib, x: lib.nn.crelu(x),
    "l2_loss": lambda lib, x: lib.nn.l2_loss(x),
    "softmax": lambda lib, x: lib.nn.softmax(x),
    "log_softmax": lambda lib, x: lib.nn.log_softmax(x),
    "zero_fraction": lambda lib, x: lib.math.zero_fraction(x),
}


# TensorFlow's float64 erfc and tanh kernels are accurate to about 1e-7 only (neuroflow's
# gelu is within 1e-14 of the exact value): compared at that tolerance.
def _rtol(name, dtype):
    return 1e-6 if name.startswith("gelu") and dtype == "float64" else None


@pytest.mark.parametrize("dtype", FLOATS + INTS + ["bool"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_over_dtypes(name, dtype):
    x = _array(2, 5, dtype=dtype)
    compare(lambda lib: ACTIVATIONS[name](lib, _c(lib, x)), rtol=_rtol(name, dtype))


# gelu's and silu's huge inputs and the l2 sum overflow differently in float16.
_EDGE_SKIP = {("gelu", "float16"), ("gelu-tanh", "float16"), ("l2_loss", "float16")}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - {"softmax", "log_softmax",
                                                             "l2_loss", "zero_fraction"}))
def test_activation_at_edge_values(name, dtype):
    if (name, dtype) in _EDGE_SKIP:
        pytest.skip("float16 overflow inside TensorFlow's kernel differs")
    x = EDGES.astype(dtype)
    compare(lambda lib: ACTIVATIONS[name](lib, _c(lib, x)), rtol=_rtol(name, dtype))


@pytest.mark.parametrize("name", ["relu", "relu6", "leaky_relu", "elu", "selu", "softplus",
                                  "softsign", "silu", "gelu", "gelu-tanh", "crelu"])
def test_activation_gradient_at_kinks(name):
    x = np.array([0.0, -0.0, 6.0, -1.0, 1.0, 3.0, 7.0], np.float32)
    compare_gradients(ACTIVATIONS[name], x)


ROWS = [[np.inf, 1.0, 2.0], [-np.inf, 0.0, 1.0], [np.nan, 0.0, 1.0], [-np.inf, -np.inf, 0.0],
        [1e30, -1e30, 0.0], [-0.0, 0.0, 0.0]]


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_rows_with_infinities(op, axis):
    x = np.array(ROWS, np.float32)
    x = x if axis == -1 else x.T
    compare(lambda lib: getattr(lib.nn, op)(_c(lib, x), axis=axis))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_gradient(op):
    compare_gradients(lambda lib, x: getattr(lib.nn, op)(x), _array(3, 4, dtype="float64"))


# --- cross-entropies --------------------------------------------------------------------------


@pytest.mark.parametrize("labels_dtype", ["int32", "int64", "uint8", "int16", "float32"])
@pytest.mark.parametrize("logits_dtype", FLOATS + ["int32"])
def test_sparse_softmax_cross_entropy_dtypes(logits_dtype, labels_dtype):
    labels = np.array([0, 3, 1], labels_dtype)
    logits = _array(3, 4, dtype=logits_dtype)
    compare(lambda lib: lib.nn.sparse_softmax_cross_entropy_with_logits(
        labels=_c(lib, labels), logits=_c(lib, logits)))


@pytest.mark.parametrize("labels, logits", [
    ([5], [[1.0, 2.0]]), ([-1], [[1.0, 2.0]]), ([0, 1], [[1.0, 2.0]]), (0, 1.0),
    ([1], [[np.inf, 2.0]]), ([0], np.zeros((1, 0), np.float32)),
    (np.zeros((0,), np.int32), np.zeros((0, 3), np.float32)), ([[0, 1]], [[[1.0, 2.0],
                                                                          [3.0, -1.0]]]),
])
def test_sparse_softmax_cross_entropy_edges(labels, logits):
    compare(lambda lib: lib.nn.sparse_softmax_cross_entropy_with_logits(
        labels=_c(lib, labels), logits=_c(lib, np.asarray(logits, np.float32))))


def test_sparse_softmax_cross_entropy_gradient():
    labels = np.array([0, 3, 1], np.int32)
    compare_gradients(lambda lib, z: lib.nn.sparse_softmax_cross_entropy_with_logits(
        labels=lib.constant(labels), logits=z), _array(3, 4, dtype="float64"))


@pytest.mark.parametrize("labels, logits_dtype", [
    ([[0, 1], [1, 0]], "float32"), ([[0.0, 1.0], [0.5, 0.5]], "float64"),
    ([[0.0, 1.0]], "float32"), ([0.25, 0.75], "float16"), ([[0.0, 1.0, 0.0]], "float32"),
    ([[0.0, 1.0]], "int32"), (0.5, "float32"),
])
def test_softmax_cross_entropy_casts_and_broadcasts(labels, logits_dtype):
    logits = _array(2, 2, dtype=logits_dtype)
    labels = np.asarray(labels)
    labels = labels.astype("float64") if labels.dtype.kind == "f" and logits_dtype == "float32" \
        and labels.ndim == 2 and labels.shape[0] == 2 else labels
    compare(lambda lib: lib.nn.softmax_cross_entropy_with_logits(
        labels=_c(lib, labels), logits=_c(lib, logits)))


def test_softmax_cross_entropy_axis_and_gradient():
    labels, logits = _array(3, 4, dtype="float64", low=0, high=1), _array(3, 4, dtype="float64")
    compare(lambda lib: lib.nn.softmax_cross_entropy_with_logits(
        labels=_c(lib, labels), logits=_c(lib, logits), axis=0))
    compare_gradients(lambda lib, y, z: lib.nn.softmax_cross_entropy_with_logits(
        labels=y, logits=z), labels, logits)


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_and_weighted_cross_entropy(dtype):
    labels = _array(2, 6, dtype=dtype, low=0, high=1)
    logits = np.array([[0.0, -0.0, 1.0, -2.0, 30.0, -30.0], [np.inf, -np.inf, 5.0, -5.0, 1e4,
                                                             np.nan]], dtype)
    compare(lambda lib: lib.nn.sigmoid_cross_entropy_with_logits(
        labels=_c(lib, labels), logits=_c(lib, logits)))
    compare(lambda lib: lib.nn.weighted_cross_entropy_with_logits(
        labels=_c(lib, labels), logits=_c(lib, logits), pos_weight=2.5))
    compare(lambda lib: lib.nn.weighted_cross_entropy_with_logits(
        labels=_c(lib, labels), logits=_c(lib, logits), pos_weight=_c(lib, labels[0] + 1)))


def test_weighted_cross_entropy_errors_and_gradient():
    labels, logits = np.array([0.0, 1.0], np.float32), np.array([1.0, -2.0, 3.0], np.float32)
    compare(lambda lib: lib.nn.weighted_cross_entropy_with_logits(
        labels=_c(lib, labels), logits=_c(lib, logits), pos_weight=2.0))
    compare(lambda lib: lib.nn.weighted_cross_entropy_with_logits(
        labels=_c(lib, [0, 1]), logits=_c(lib, logits[:2]), pos_weight=2.0))
    compare_gradients(lambda lib, y, z: lib.nn.weighted_cross_entropy_with_logits(
        y, z, pos_weight=1.5), _array(3, dtype="float64", low=0, high=1),
        np.array([0.0, -1.0, 2.0]))


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("dtype", FLOATS)
def test_log_poisson_loss(dtype, full):
    targets = np.array([0.0, 0.5, 1.0, 1.5, 3.0, 10.0], dtype)
    log_input = np.array([0.5, -1.0, 2.0, -0.0, np.inf, -np.inf], dtype)
    compare(lambda lib: lib.nn.log_poisson_loss(_c(lib, targets), _c(lib, log_input),
                                                compute_full_loss=full), rtol=1e-5)
    compare_gradients(lambda lib, c: lib.nn.log_poisson_loss(lib.constant(targets[:4]
                                                                           .astype("float64")),
                                                             c, compute_full_loss=full),
                      np.array([0.5, -1.0, 2.0, 0.1]))


def test_log_poisson_loss_errors():
    compare(lambda lib: lib.nn.log_poisson_loss(_c(lib, [0.0, 1.0]), _c(lib, [0.5, -1.0, 2.0])))
    compare(lambda lib: lib.nn.log_poisson_loss(_c(lib, [0, 1]), _c(lib, [0.5, -1.0])))


# --- sorting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("direction", ["ASCENDING", "DESCENDING"])
def test_sort_and_argsort_over_dtypes(dtype, direction):
    x = _distinct(3, 5, dtype=dtype) if dtype != "uint8" else _distinct(3, 5).astype(
        "int64") % 251
    x = x.astype(dtype)
    for axis in (-1, 0):
        compare(lambda lib, axis=axis: lib.sort(_c(lib, x), axis=axis, direction=direction))
        compare(lambda lib, axis=axis: lib.argsort(_c(lib, x), axis=axis,
                                                   direction=direction))


@pytest.mark.parametrize("values, dtype", [
    ([3, 1, -128, 127], "int8"), ([3, 0, 255, 1], "uint8"), ([-2 ** 31, 0, 5], "int32"),
    ([-2 ** 63, 0, 5], "int64"), ([-0.0, 0.0, -0.0], "float32"), ([1.0, 3.0, 3.0, 1.0], "float32"),
    ([-np.inf, np.inf, 0.0], "float64"),
])
@pytest.mark.parametrize("direction", ["ASCENDING", "DESCENDING"])
def test_sort_extremes_and_ties(values, dtype, direction):
    x = np.array(values, dtype)
    compare(lambda lib: lib.sort(_c(lib, x), direction=direction))
    compare(lambda lib: lib.argsort(_c(lib, x), direction=direction))


@pytest.mark.parametrize("fn", [
    lambda lib: lib.sort(_c(lib, 1.0)), lambda lib: lib.argsort(_c(lib, 1.0)),
    lambda lib: lib.sort(_c(lib, [1.0, 2.0]), axis=2),
    lambda lib: lib.argsort(_c(lib, [1.0, 2.0]), axis=-2),
    lambda lib: lib.sort(_c(lib, [True, False])), lambda lib: lib.argsort(_c(lib, [True])),
    lambda lib: lib.sort(_c(lib, [1.0]), direction="UP"),
    lambda lib: lib.math.top_k(_c(lib, 1.0), 1), lambda lib: lib.math.top_k(_c(lib, [1, 2]), 3),
    lambda lib: lib.math.top_k(_c(lib, [1, 2]), -1),
    lambda lib: lib.math.top_k(_c(lib, [True, False]), 1),
    lambda lib: lib.math.top_k(_c(lib, [1.0, 2.0]), k=1.5),
], ids=["sort-scalar", "argsort-scalar", "sort-axis", "argsort-axis", "sort-bool",
        "argsort-bool", "direction", "top_k-scalar", "top_k-k-too-big", "top_k-negative",
        "top_k-bool", "top_k-float-k"])
def test_sorting_errors(fn):
    compare(fn)


@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_top_k_over_dtypes(dtype):
    x = (_distinct(3, 6).astype("int64") % 251 if dtype == "uint8" else _distinct(3, 6))
    x = x.astype(dtype)
    for k in (0, 1, 4, 6):
        compare(lambda lib, k=k: tuple(lib.math.top_k(_c(lib, x), k)))
    compare(lambda lib: tuple(lib.math.top_k(_c(lib, x), _c(lib, 2, "int64"))))


def test_top_k_ties_zero_size_and_gradient():
    compare(lambda lib: tuple(lib.math.top_k(_c(lib, [1.0, 3.0, 3.0, 2.0]), 2)))
    compare(lambda lib: tuple(lib.math.top_k(_c(lib, np.zeros((2, 0), np.float32)), 0)))
    compare_gradients(lambda lib, x: lib.math.top_k(x, 3).values,
                      _distinct(2, 5, dtype="float64"))
    compare_gradients(lambda lib, x: lib.sort(x, axis=0, direction="DESCENDING"),
                      _distinct(3, 4, dtype="float64"))


# --- normalizing, clipping and statistics -----------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS + ["int32"])
def test_l2_normalize(dtype):
    x = _array(3, 4, dtype=dtype)
    for axis in (None, 0, -1, [0, 1]):
        compare(lambda lib, axis=axis: lib.nn.l2_normalize(_c(lib, x), axis=axis), rtol=2e-3 if
                dtype == "float16" else 1e-6)
    compare(lambda lib: lib.math.l2_normalize(_c(lib, np.zeros((2, 2), dtype)), axis=1))
    compare(lambda lib: lib.linalg.l2_normalize(_c(lib, [3.0, 4.0]), axis=1))
    compare(lambda lib: lib.nn.l2_normalize(_c(lib, np.zeros((0, 3), dtype))))


def test_l2_normalize_gradient_including_zero():
    compare_gradients(lambda lib, x: lib.nn.l2_normalize(x, axis=1), _array(3, 4, dtype="float64"))
    compare_gradients(lambda lib, x: lib.nn.l2_normalize(x), np.zeros(3, np.float32),
                      rtol=1e-3)


@pytest.mark.parametrize("clip", [1.0, 10.0, 0.0, -1.0, "tensor64", "vector"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_clip_by_norm(dtype, clip):
    x = np.array([[3.0, 4.0], [0.0, 1.0]], dtype)

    def clip_norm(lib):
        if clip == "tensor64":
            return lib.constant(0.5, lib.float64)
        if clip == "vector":
            return lib.constant([1.0, 2.0], dtype)
        return clip

    for axes in (None, [1], 0):
        compare(lambda lib, axes=axes: lib.clip_by_norm(_c(lib, x), clip_norm(lib), axes=axes),
                rtol=2e-3 if dtype == "float16" else 1e-6)


def test_clip_by_norm_edges_and_gradients():
    compare(lambda lib: lib.clip_by_norm(_c(lib, [0.0, 0.0]), 1.0))
    compare(lambda lib: lib.clip_by_norm(_c(lib, [3.0, np.inf]), 1.0))
    compare(lambda lib: lib.clip_by_norm(_c(lib, [3, 4]), 1))
    compare(lambda lib: lib.clip_by_norm(_c(lib, [3.0, 4.0]), _c(lib, [[1.0], [2.0]])))
    compare_gradients(lambda lib, x: lib.clip_by_norm(x, 1.0), np.zeros(2, np.float32))
    compare_gradients(lambda lib, x: lib.clip_by_norm(x, 1.0, axes=[1]),
                      _array(3, 4, dtype="float64"))


@pytest.mark.parametrize("case", ["plain", "none", "use_norm", "inf", "empty", "all-none",
                                  "tuple", "zeros", "mixed-dtypes", "ints", "tensor"])
def test_clip_by_global_norm(case):
    a, b = np.array([3.0, 4.0], np.float32), np.array([[12.0]], np.float32)

    def run(lib):
        args = {
            "plain": ([_c(lib, a), _c(lib, b)], 6.5), "none": ([_c(lib, a), None], 1.0),
            "use_norm": ([_c(lib, a)], 1.0, _c(lib, 10.0)), "inf": ([_c(lib, [3.0, np.inf])], 1.0),
            "empty": ([], 1.0), "all-none": ([None], 1.0), "tuple": ((_c(lib, a),), 1.0),
            "zeros": ([_c(lib, [0.0, 0.0])], 1.0),
            "mixed-dtypes": ([_c(lib, a), _c(lib, [1.0], lib.float64)], 1.0),
            "ints": ([_c(lib, [3, 4])], 1.0), "tensor": (_c(lib, a), 1.0),
        }[case]
        return lib.clip_by_global_norm(*args)

    compare(run)


def test_clip_by_global_norm_gradient():
    compare_gradients(lambda lib, s, t: lib.clip_by_global_norm([s, t], 1.0)[0],
                      _array(3, dtype="float64"), _array(2, 2, dtype="float64"))


def test_embedding_lookup():
    table = _array(5, 3, dtype="float32")
    for ids in ([2, 0], [[4, 0], [1, 1]], 3, [5], [-1], [1.0], np.array([1], np.uint8),
                np.array([1, 4], np.int64), np.zeros((0,), np.int32)):
        compare(lambda lib, ids=ids: lib.nn.embedding_lookup(_c(lib, table), _c(lib, ids)))
    for max_norm in (0.5, 3.0):
        compare(lambda lib, max_norm=max_norm: lib.nn.embedding_lookup(
            _c(lib, table * 4), _c(lib, [[2, 0]]), max_norm=max_norm))
    compare(lambda lib: lib.nn.embedding_lookup(_c(lib, [3.0, -4.0, 0.5]), _c(lib, [0, 1, 2]),
                                                max_norm=1.0))
    compare(lambda lib: lib.nn.embedding_lookup([_c(lib, table[:3]), _c(lib, table[3:])],
                                                _c(lib, [0, 1, 2, 3, 4])))
    compare_gradients(lambda lib, p: lib.nn.embedding_lookup(p, lib.constant([[2, 0], [2, 4]]),
                                                             max_norm=1.0),
                      _array(5, 3, dtype="float64"))


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, -1])
def test_in_top_k(k):
    predictions = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.1, np.nan, 0.4],
                            [np.inf, 0.3, 0.4], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], np.float32)
    targets = np.array([0, 1, 0, 1, 3, -1], np.int32)
    compare(lambda lib: lib.nn.in_top_k(_c(lib, targets), _c(lib, predictions), k))
    compare(lambda lib: lib.math.in_top_k(_c(lib, targets.astype(np.int64)),
                                          _c(lib, predictions), _c(lib, k)))


@pytest.mark.parametrize("fn", [
    lambda lib: lib.nn.in_top_k(_c(lib, [0]), _c(lib, [[0.1, 0.5], [0.3, 0.3]]), 1),
    lambda lib: lib.nn.in_top_k(_c(lib, [0, 1]), _c(lib, [0.1, 0.5]), 1),
    lambda lib: lib.nn.in_top_k(_c(lib, [0.0, 1.0]), _c(lib, [[0.1, 0.5], [0.3, 0.3]]), 1),
    lambda lib: lib.nn.in_top_k(_c(lib, [0, 1]), _c(lib, [[1.0, 5.0], [3.0, 3.0]],
                                                       "float64"), 1),
], ids=["rows", "rank", "float-targets", "float64-predictions"])
def test_in_top_k_errors(fn):
    compare(fn)


@pytest.mark.parametrize("dtype", FLOATS + INTS + ["bool"])
def test_zero_fraction(dtype):
    x = _array(4, 5, dtype=dtype)
    compare(lambda lib: lib.nn.zero_fraction(_c(lib, x)))
    compare(lambda lib: lib.math.zero_fraction(_c(lib, np.zeros((0, 2), dtype))))
    compare(lambda lib: lib.math.zero_fraction(_c(lib, np.array(0, dtype))))


@pytest.mark.parametrize("dtype", FLOATS + ["int32"])
def test_sufficient_statistics_and_normalize_moments(dtype):
    x = _array(3, 4, dtype=dtype)
    for axes, shift, keepdims in (([0], None, False), ([0, 1], None, True), ([1], 1.0, False),
                                  ([-1], None, False)):
        def statistics(lib, axes=axes, shift=shift, keepdims=keepdims):
            return lib.nn.sufficient_statistics(_c(lib, x), axes, shift=shift, keepdims=keepdims)

        compare(statistics, rtol=1e-2 if dtype == "float16" else None)
        if dtype != "int32":
            compare(lambda lib, s=statistics: lib.nn.normalize_moments(*s(lib)),
                    rtol=1e-2 if dtype == "float16" else 1e-5)


def test_statistics_gradients():
    x = _array(3, 4, dtype="float64")
    compare_gradients(lambda lib, t: lib.nn.normalize_moments(
        *lib.nn.sufficient_statistics(t, [1], shift=lib.constant(0.2, lib.float64))), x)
    w = np.array([[1.0], [3.0], [0.5]])
    compare_gradients(lambda lib, t, v: lib.nn.weighted_moments(t, [0], v), x, w)


@pytest.mark.parametrize("dtype", FLOATS)
def test_weighted_moments(dtype):
    x = _array(3, 4, dtype=dtype)
    for weights in (np.array([[1.0], [3.0], [0.5]], dtype), np.zeros((3, 1), dtype),
                    np.array([2.0, 1.0, 0.0, 1.0], dtype)):
        for axes, keepdims in (([0], False), ([0, 1], True)):
            compare(lambda lib, axes=axes, w=weights, keepdims=keepdims: lib.nn.weighted_moments(
                _c(lib, x), axes, _c(lib, w), keepdims=keepdims),
                rtol=1e-2 if dtype == "float16" else 1e-5)


@pytest.mark.parametrize("dtype", FLOATS)
def test_batch_normalization(dtype):
    x = _array(3, 4, dtype=dtype)
    mean, var = _array(4, dtype=dtype), _array(4, dtype=dtype, low=0.5, high=2)
    offset, scale = _array(4, dtype=dtype), _array(4, dtype=dtype, low=0.5, high=2)
    for o, s in ((None, None), (offset, scale), (offset, None)):
        compare(lambda lib, o=o, s=s: lib.nn.batch_normalization(
            _c(lib, x), _c(lib, mean), _c(lib, var), None if o is None else _c(lib, o),
            None if s is None else _c(lib, s), 1e-3), rtol=1e-2 if dtype == "float16" else 1e-5)


def test_batch_normalization_gradient():
    arrays = [_array(3, 4, dtype="float64"), _array(4, dtype="float64"),
              _array(4, dtype="float64", low=0.5, high=2), _array(4, dtype="float64"),
              _array(4, dtype="float64", low=0.5, high=2)]
    compare_gradients(lambda lib, x, m, v, o, s: lib.nn.batch_normalization(x, m, v, o, s, 1e-3),
                      *arrays)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_local_response_normalization(dtype):
    x = _array(2, 3, 2, 7, dtype=dtype)
    for args in ({}, {"depth_radius": 2, "bias": 1.0, "alpha": 0.5, "beta": 0.75},
                 {"depth_radius": 0}, {"depth_radius": 9, "beta": 1.0}):
        compare(lambda lib, args=args: lib.nn.local_response_normalization(_c(lib, x), **args),
                rtol=5e-3 if dtype == "float16" else 1e-5)
    compare(lambda lib: lib.nn.lrn(_c(lib, x[0])))
    compare_gradients(lambda lib, t: lib.nn.lrn(t, 2, 1.0, 0.5, 0.75),
                      _array(1, 2, 1, 5, dtype="float32"), rtol=1e-4)


@pytest.mark.parametrize("case", ["plain", "2d", "batch", "batch-tensor", "batch-zero",
                                  "batch-negative", "batch-float", "weights", "weights-scalar",
                                  "weights-broadcast", "half", "float64", "ints", "empty",
                                  "scalar"])
def test_compute_average_loss(case):
    loss = np.array([1.0, 2.0, 3.0], np.float32)

    def run(lib):
        cal = lib.nn.compute_average_loss
        return {
            "plain": lambda: cal(_c(lib, loss)),
            "2d": lambda: cal(_c(lib, [[1.0, 2.0], [3.0, 4.0]])),
            "batch": lambda: cal(_c(lib, loss), global_batch_size=6),
            "batch-tensor": lambda: cal(_c(lib, loss), global_batch_size=_c(lib, 6, "int64")),
            "batch-zero": lambda: cal(_c(lib, loss), global_batch_size=0),
            "batch-negative": lambda: cal(_c(lib, loss), global_batch_size=-1),
            "batch-float": lambda: cal(_c(lib, loss), global_batch_size=2.5),
            "weights": lambda: cal(_c(lib, loss), sample_weight=_c(lib, [1.0, 0.0, 2.0])),
            "weights-scalar": lambda: cal(_c(lib, loss), sample_weight=2.0),
            "weights-broadcast": lambda: cal(_c(lib, loss), sample_weight=_c(lib, [[1.0]])),
            "half": lambda: cal(_c(lib, loss.astype("float16")), sample_weight=_c(lib, [2.0])),
            "float64": lambda: cal(_c(lib, loss.astype("float64")), global_batch_size=4),
            "ints": lambda: cal(_c(lib, [1, 2, 4])),
            "empty": lambda: cal(_c(lib, np.zeros((0,), np.float32))),
            "scalar": lambda: cal(_c(lib, 2.0)),
        }[case]()

    compare(run)


@pytest.mark.parametrize("value", [3.0, [1.0, 2.0], 3, np.zeros((0,), np.float64)])
def test_scale_regularization_loss(value):
    compare(lambda lib: lib.nn.scale_regularization_loss(_c(lib, value)))


def test_losses_gradients():
    compare_gradients(lambda lib, x: lib.nn.compute_average_loss(x, global_batch_size=5),
                      _array(3, 2, dtype="float64"))
    compare_gradients(lambda lib, x: lib.nn.crelu(x, axis=0), np.array([[0.0, -1.0, 2.0]]))


# --- the older tf.nn ops: arguments and errors -------------------------------------------------

_X = np.arange(6, dtype=np.float32).reshape(2, 3)

OLDER = {
    "bias_add": lambda lib: lib.nn.bias_add(_X, np.ones(3, np.float32)),
    "bias_add-float64-bias-array": lambda lib: lib.nn.bias_add(_X, np.ones(3, np.float64)),
    "bias_add-int": lambda lib: lib.nn.bias_add(_X.astype(np.int32), np.ones(3, np.int32)),
    "bias_add-uint8": lambda lib: lib.nn.bias_add(_X.astype(np.uint8), np.ones(3, np.uint8)),
    "bias_add-NCHW": lambda lib: lib.nn.bias_add(np.zeros((2, 3, 4), np.float32),
                                                 np.arange(3, dtype=np.float32),
                                                 data_format="NCHW"),
    "bias_add-NC": lambda lib: lib.nn.bias_add(_X, np.ones(2, np.float32), data_format="NC"),
    "bias_add-NHWC": lambda lib: lib.nn.bias_add(_X, np.ones(3, np.float32), data_format="NHWC"),
    "bias_add-bad-format": lambda lib: lib.nn.bias_add(_X, np.ones(3, np.float32),
                                                       data_format="XX"),
    "bias_add-vector": lambda lib: lib.nn.bias_add(_X[0], np.ones(3, np.float32)),
    "bias_add-bool": lambda lib: lib.nn.bias_add(np.array([[True]]), np.array([True])),
    "moments": lambda lib: lib.nn.moments(_X, [0]),
    "moments-half": lambda lib: lib.nn.moments(_X.astype(np.float16), [0, 1]),
    "moments-keepdims": lambda lib: lib.nn.moments(_X, [0], keepdims=True),
    "moments-bad-axis": lambda lib: lib.nn.moments(_X, [5]),
    "moments-empty": lambda lib: lib.nn.moments(np.zeros((0, 3), np.float32), [1]),
    "dropout-rate-1": lambda lib: lib.nn.dropout(_X, 1.0),
    "dropout-negative": lambda lib: lib.nn.dropout(_X, -0.1),
    "dropout-int": lambda lib: lib.nn.dropout(_X.astype(np.int32), 0.5),
    "dropout-zero": lambda lib: lib.nn.dropout(_X, 0.0),
    "l2_loss-empty": lambda lib: lib.nn.l2_loss(np.zeros((0,), np.float32)),
    "l2_loss-scalar": lambda lib: lib.nn.l2_loss(np.float32(3.0)),
    "sigmoid-xent-int-labels": lambda lib: lib.nn.sigmoid_cross_entropy_with_logits(
        labels=[0, 1], logits=[1.0, 2.0]),
    "sigmoid-xent-shapes": lambda lib: lib.nn.sigmoid_cross_entropy_with_logits(
        labels=[[0.0, 1.0]], logits=[1.0, 2.0]),
    "sigmoid-xent-float64-labels": lambda lib: lib.nn.sigmoid_cross_entropy_with_logits(
        labels=np.array([0.0, 1.0]), logits=np.array([1.0, 2.0], np.float32)),
    "softmax-axis-2": lambda lib: lib.nn.softmax(_X, axis=2),
    "softmax-axis--3": lambda lib: lib.nn.softmax(_X, axis=-3),
    "softmax-scalar": lambda lib: lib.nn.softmax(np.float32(2.0)),
    "log_softmax-no-classes": lambda lib: lib.nn.log_softmax(np.zeros((2, 0), np.float32)),
    "softmax-no-rows": lambda lib: lib.nn.softmax(np.zeros((0, 3), np.float32)),
    "silu-beta": lambda lib: lib.nn.silu(_X, beta=2.0),
    "relu-complex": lambda lib: lib.nn.relu(np.array([1 + 2j])),
}


@pytest.mark.parametrize("name", sorted(OLDER))
def test_older_nn_ops(name):
    compare(OLDER[name])
