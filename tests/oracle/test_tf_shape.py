"""Shape, indexing and arrangement ops against TensorFlow: values, dtypes, shapes, error
classes and gradients, over dtypes, scalars, zero sizes, negative axes and NaN/-0.0.

Each case is a function of the library (``tf`` or neuroflow) run under both. Both must
give values (equal dtypes, shapes and values, NaN where NaN) or both errors, of classes
that correspond: TensorFlow's ``InvalidArgumentError`` is neuroflow's (which is also a
``ValueError``), a built-in ``TypeError``/``ValueError`` the same built-in.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")

import neuroflow as N  # noqa: E402

pytestmark = pytest.mark.tensorflow

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
          "complex64"]
FLOATS = ["float16", "float32", "float64"]
_rng = np.random.default_rng(7)


def _array(*shape, dtype="float32"):
    if dtype == "bool":
        return _rng.random(shape) < 0.5
    if dtype.startswith("uint"):
        return _rng.integers(0, 9, shape).astype(dtype)
    if dtype.startswith("int"):
        return _rng.integers(-9, 9, shape).astype(dtype)
    if dtype.startswith("complex"):
        return (_rng.uniform(-3, 3, shape) + 1j * _rng.uniform(-3, 3, shape)).astype(dtype)
    return _rng.uniform(-3, 3, shape).astype(dtype)


def _outcome(lib, fn):
    try:
        return "value", fn(lib)
    except Exception as error:  # the class is what is compared
        return "error", error


def _leaves(result) -> list:
    if isinstance(result, (list, tuple)) and not isinstance(result, (N.TensorShape,
                                                                     T.TensorShape)):
        return [leaf for item in result for leaf in _leaves(item)]
    if isinstance(result, (N.TensorShape, T.TensorShape)):
        return [None if result.rank is None else tuple(result.as_list())]
    if result is None or isinstance(result, (int, float)):
        return [result]
    return [np.asarray(result)]


def _same_error_class(ours: Exception, theirs: Exception) -> bool:
    if isinstance(theirs, T.errors.InvalidArgumentError):
        return isinstance(ours, N.errors.InvalidArgumentError)
    if isinstance(theirs, T.errors.OpError):
        return isinstance(ours, N.errors.OpError)
    return isinstance(ours, type(theirs))


def compare(fn) -> None:
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
        np.testing.assert_array_equal(g, w)


def compare_gradients(fn, *arrays) -> None:
    """The gradients of a fixed weighted sum of ``fn``'s outputs agree with TensorFlow's."""
    weights = {}

    def grads(lib):
        tensors = [lib.constant(a) for a in arrays]
        with lib.GradientTape() as tape:
            tape.watch(tensors)
            out = fn(lib, *tensors)
            outs = out if isinstance(out, (list, tuple)) else [out]
            loss = 0.0
            for k, y in enumerate(outs):
                if k not in weights:
                    weights[k] = _rng.uniform(0.5, 1.5, tuple(y.shape)).astype(y.dtype.name)
                loss = loss + lib.reduce_sum(y * lib.constant(weights[k]))
        return [None if g is None else g.numpy() for g in tape.gradient(loss, tensors)]

    theirs = grads(T)
    ours = grads(N)
    for g, w in zip(ours, theirs):
        assert (g is None) == (w is None), f"gradient {g}, TensorFlow gives {w}"
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def _c(lib, value, dtype=None):
    return lib.constant(value) if dtype is None else lib.constant(value, dtype=dtype)


# --- existing layout ops over dtypes ----------------------------------------------------------

LAYOUT = {
    "reshape": lambda lib, x: lib.reshape(x, [-1, 2]),
    "reshape-scalar": lambda lib, x: lib.reshape(x[0, 0], [1, 1, 1]),
    "transpose": lambda lib, x: lib.transpose(x),
    "transpose-neg-perm": lambda lib, x: lib.transpose(x, [-1, 0]),
    "broadcast_to": lambda lib, x: lib.broadcast_to(x[:1], [2, 3, 4]),
    "expand_dims": lambda lib, x: lib.expand_dims(x, -3),
    "expand_dims-list": lambda lib, x: lib.expand_dims(x, [1]),
    "squeeze": lambda lib, x: lib.squeeze(x[:1]),
    "squeeze-axis": lambda lib, x: lib.squeeze(x[:, :1], axis=-1),
    "concat": lambda lib, x: lib.concat([x, x[:1]], 0),
    "concat-neg-axis": lambda lib, x: lib.concat([x, x], -1),
    "stack": lambda lib, x: lib.stack([x, x], axis=-1),
    "unstack": lambda lib, x: lib.unstack(x, axis=1),
    "split": lambda lib, x: lib.split(x, [1, -1], axis=1),
    "split-equal": lambda lib, x: lib.split(x, 2, axis=1),
    "tile": lambda lib, x: lib.tile(x, [2, 1]),
    "tile-zero": lambda lib, x: lib.tile(x, [0, 2]),
    "reverse": lambda lib, x: lib.reverse(x, [-1]),
    "slice": lambda lib, x: lib.slice(x, [1, 0], [-1, 3]),
    "gather": lambda lib, x: lib.gather(x, [2, 0, 2], axis=0),
    "gather-axis-1": lambda lib, x: lib.gather(x, [[1, 0], [3, 3]], axis=-1),
    "gather-batch-dims": lambda lib, x: lib.gather(x, [[1, 0], [3, 3], [0, 0]], axis=1,
                                                   batch_dims=1),
    "boolean_mask": lambda lib, x: lib.boolean_mask(x, [True, False, True]),
    "boolean_mask-int": lambda lib, x: lib.boolean_mask(x, [1, 0, 3]),
    "boolean_mask-2d": lambda lib, x: lib.boolean_mask(x, x[:, :] == x[0, 0]),
    "x[mask]": lambda lib, x: x[lib.constant([True, False, True])],
    "x[numpy mask]": lambda lib, x: x[np.array([False, True, True])],
    "pad": lambda lib, x: lib.pad(x, [[1, 0], [0, 2]]),
    "pad-reflect": lambda lib, x: lib.pad(x, [[1, 1], [2, 0]], mode="REFLECT"),
    "pad-symmetric": lambda lib, x: lib.pad(x, [[2, 0], [0, 1]], mode="symmetric"),
    "identity": lambda lib, x: lib.identity(x),
    "stop_gradient": lambda lib, x: lib.stop_gradient(x),
    "shape": lambda lib, x: lib.shape(x),
    "shape-int64": lambda lib, x: lib.shape(x, out_type=lib.int64),
    "size": lambda lib, x: lib.size(x),
    "rank": lambda lib, x: lib.rank(x),
    "getitem": lambda lib, x: x[1:, ::-2],
    "getitem-newaxis": lambda lib, x: x[None, ..., 1],
    "getitem-tensor": lambda lib, x: x[lib.constant(-1)],
    "unique-flat": lambda lib, x: lib.unique(lib.reshape(x, [-1])),
    "unique_with_counts": lambda lib, x: lib.unique_with_counts(x[0], out_idx=lib.int64),
    "repeat": lambda lib, x: lib.repeat(x, [1, 0, 2], axis=0),
    "repeat-flat": lambda lib, x: lib.repeat(x, 2),
    "roll": lambda lib, x: lib.roll(x, [1, -5], [0, 1]),
    "meshgrid": lambda lib, x: lib.meshgrid(x[0], x[:, 0]),
    "meshgrid-ij": lambda lib, x: lib.meshgrid(x[0], x[:, 0], x[1], indexing="ij"),
    "reverse_sequence": lambda lib, x: lib.reverse_sequence(x, [2, 4, 0], seq_axis=1,
                                                            batch_axis=0),
    "identity_n": lambda lib, x: lib.identity_n([x, x[0]]),
    "shape_n": lambda lib, x: lib.shape_n([x, x[0]]),
    "ensure_shape": lambda lib, x: lib.ensure_shape(x, [None, 4]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_layout_ops_over_dtypes(name, dtype):
    x = _array(3, 4, dtype=dtype)
    compare(lambda lib: LAYOUT[name](lib, lib.constant(x)))


SPECIAL_VALUES = np.array([[0.0, -0.0, np.nan, 1.0], [np.inf, -np.inf, np.nan, 0.0],
                           [1.0, -0.0, 2.0, np.inf]], np.float32)


MOVERS = ["repeat", "roll", "reverse_sequence", "boolean_mask-2d", "gather", "pad",
          "pad-reflect", "tile"]


@pytest.mark.parametrize("name", MOVERS + ["unique-flat", "unique_with_counts", "meshgrid"])
def test_layout_ops_on_nan_inf_and_negative_zero(name):
    compare(lambda lib: LAYOUT[name](lib, lib.constant(SPECIAL_VALUES)))
    if name in MOVERS:  # ops that only move values keep the sign of -0.0
        ours = LAYOUT[name](N, N.constant(SPECIAL_VALUES)).numpy()
        theirs = LAYOUT[name](T, T.constant(SPECIAL_VALUES)).numpy()
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))


# --- scalars, zero sizes, odd arguments, errors ----------------------------------------------

CASES = {
    # reshape
    "reshape-0,-1": lambda lib: lib.reshape(lib.zeros([0, 3]), [0, -1]),
    "reshape-2x0-to-0,-1": lambda lib: lib.reshape(lib.zeros([2, 0]), [0, -1]),
    "reshape-2x0-to--1,0": lambda lib: lib.reshape(lib.zeros([2, 0]), [-1, 0]),
    "reshape-0-to-3,-1": lambda lib: lib.reshape(lib.zeros([0, 3]), [3, -1]),
    "reshape-bad": lambda lib: lib.reshape(lib.zeros([2, 3]), [4, -1]),
    "reshape-two-inferred": lambda lib: lib.reshape(lib.zeros([2, 3]), [-1, -1]),
    "reshape-negative": lambda lib: lib.reshape(lib.zeros([2, 3]), [-2, 3]),
    "reshape-tensor-shape": lambda lib: lib.reshape(lib.zeros([2, 3]), _c(lib, [3, 2])),
    "reshape-int64-shape": lambda lib: lib.reshape(lib.zeros([2, 3]), _c(lib, [6], lib.int64)),
    "reshape-scalar-to-empty": lambda lib: lib.reshape(_c(lib, 1.5), []),
    # expand_dims / squeeze
    "expand_dims-tensor-list": lambda lib: lib.expand_dims(lib.zeros([3, 4]), _c(lib, [1])),
    "expand_dims-two": lambda lib: lib.expand_dims(lib.zeros([3, 4]), [1, 2]),
    "expand_dims-out-of-range": lambda lib: lib.expand_dims(lib.zeros([3, 4]), 3),
    "expand_dims-scalar": lambda lib: lib.expand_dims(_c(lib, 2.0), 0),
    "squeeze-not-one": lambda lib: lib.squeeze(lib.zeros([3, 1]), axis=0),
    "squeeze-out-of-range": lambda lib: lib.squeeze(lib.zeros([3, 1]), axis=2),
    "squeeze-zero-size": lambda lib: lib.squeeze(lib.zeros([0, 1, 2])),
    # transpose / broadcast_to
    "transpose-bad-perm": lambda lib: lib.transpose(lib.zeros([2, 3]), [0, 0]),
    "transpose-scalar": lambda lib: lib.transpose(_c(lib, 1.0)),
    "broadcast_to-bad": lambda lib: lib.broadcast_to(lib.zeros([3]), [4]),
    "broadcast_to-zero": lambda lib: lib.broadcast_to(lib.zeros([1, 3]), [0, 3]),
    "broadcast_to-tensor-shape": lambda lib: lib.broadcast_to(_c(lib, 1), _c(lib, [2, 2])),
    # concat / stack / split / unstack
    "concat-mismatch": lambda lib: lib.concat([lib.zeros([2, 3]), lib.zeros([2, 4])], 0),
    "concat-dtypes": lambda lib: lib.concat([lib.zeros([2]), _c(lib, [1, 2])], 0),
    "concat-empty-list": lambda lib: lib.concat([], 0),
    "concat-axis-out-of-range": lambda lib: lib.concat([lib.zeros([2])], 1),
    "concat-zero-size": lambda lib: lib.concat([lib.zeros([0, 2]), lib.ones([1, 2])], 0),
    "concat-scalars": lambda lib: lib.concat([_c(lib, 1.0), _c(lib, 2.0)], 0),
    "stack-mismatch": lambda lib: lib.stack([lib.zeros([2]), lib.zeros([3])]),
    "stack-scalars": lambda lib: lib.stack([_c(lib, 1), _c(lib, 2)]),
    "stack-axis-out-of-range": lambda lib: lib.stack([lib.zeros([2])], axis=3),
    "split-not-divisible": lambda lib: lib.split(lib.zeros([5]), 2),
    "split-bad-sizes": lambda lib: lib.split(lib.zeros([5]), [2, 2]),
    "split-zero-size": lambda lib: lib.split(lib.zeros([0, 4]), 2, axis=1),
    "unstack-zero": lambda lib: lib.unstack(lib.zeros([0, 2])),
    "unstack-scalar": lambda lib: lib.unstack(_c(lib, 1.0)),
    # tile / reverse / slice / pad
    "tile-negative": lambda lib: lib.tile(lib.zeros([2]), [-1]),
    "tile-wrong-length": lambda lib: lib.tile(lib.zeros([2]), [1, 2]),
    "tile-tensor": lambda lib: lib.tile(_c(lib, [1, 2]), _c(lib, [3])),
    "reverse-out-of-range": lambda lib: lib.reverse(lib.zeros([2]), [1]),
    "slice-out-of-range": lambda lib: lib.slice(lib.zeros([3]), [2], [2]),
    "slice-tensor-bounds": lambda lib: lib.slice(_c(lib, [1, 2, 3]), _c(lib, [1]), _c(lib, [-1])),
    "pad-negative": lambda lib: lib.pad(lib.zeros([2]), [[-1, 0]]),
    "pad-wrong-shape": lambda lib: lib.pad(lib.zeros([2]), [[1, 0], [0, 0]]),
    "pad-reflect-too-wide": lambda lib: lib.pad(lib.zeros([3]), [[3, 0]], mode="REFLECT"),
    "pad-symmetric-edge": lambda lib: lib.pad(_c(lib, [1, 2, 3]), [[3, 0]], mode="SYMMETRIC"),
    "pad-constant-value": lambda lib: lib.pad(_c(lib, [1, 2]), [[1, 1]], constant_values=7),
    "pad-tensor-paddings": lambda lib: lib.pad(_c(lib, [1.0]), _c(lib, [[1, 2]])),
    "pad-zero-size": lambda lib: lib.pad(lib.zeros([0, 2]), [[1, 1], [0, 0]]),
    # gather / boolean_mask / indexing
    "gather-out-of-range": lambda lib: lib.gather(_c(lib, [1, 2, 3]), [3]),
    "gather-negative": lambda lib: lib.gather(_c(lib, [1, 2, 3]), [-1]),
    "gather-float-indices": lambda lib: lib.gather(_c(lib, [1, 2, 3]), _c(lib, [1.0])),
    "gather-scalar-index": lambda lib: lib.gather(_c(lib, [[1, 2], [3, 4]]), 1, axis=1),
    "gather-empty": lambda lib: lib.gather(lib.zeros([0, 3]), lib.zeros([0], lib.int32)),
    "gather-axis-tensor": lambda lib: lib.gather(_c(lib, [[1, 2], [3, 4]]), [1], axis=_c(lib, 1)),
    "gather-batch-dims-mismatch": lambda lib: lib.gather(lib.zeros([2, 3]), [[0], [1], [0]],
                                                         axis=1, batch_dims=1),
    "gather-batch-dims-too-large": lambda lib: lib.gather(lib.zeros([2, 3]), [0, 1],
                                                          batch_dims=2),
    "gather-batch-dims-out-of-range": lambda lib: lib.gather(lib.zeros([2, 3]), [[0, 3], [1, 1]],
                                                             axis=1, batch_dims=1),
    "boolean_mask-scalar": lambda lib: lib.boolean_mask(lib.zeros([2]), True),
    "boolean_mask-wrong-shape": lambda lib: lib.boolean_mask(lib.zeros([3]), [True, False]),
    "boolean_mask-float": lambda lib: lib.boolean_mask(_c(lib, [1, 2, 3]), [0.5, 0.0, -1.0]),
    "boolean_mask-axis-1": lambda lib: lib.boolean_mask(lib.ones([2, 3]), [True, False, True],
                                                        axis=1),
    "boolean_mask-empty": lambda lib: lib.boolean_mask(lib.zeros([0, 2]), lib.zeros([0],
                                                                                     lib.bool)),
    "x[True]": lambda lib: lib.zeros([2])[True],
    "x[float]": lambda lib: lib.zeros([2])[_c(lib, 1.0)],
    "x[out-of-range]": lambda lib: lib.zeros([2])[2],
    "x[::0]": lambda lib: lib.zeros([2])[::0],
    "x[too-many]": lambda lib: lib.zeros([2])[0, 0],
    # one_hot
    "one_hot": lambda lib: lib.one_hot([0, 3, -1], 3),
    "one_hot-int": lambda lib: lib.one_hot([0, 2], 3, on_value=5, off_value=-1, axis=0),
    "one_hot-dtype": lambda lib: lib.one_hot([1], 2, dtype=lib.int64),
    "one_hot-negative-depth": lambda lib: lib.one_hot([1], -1),
    "one_hot-zero-depth": lambda lib: lib.one_hot([1, 0], 0),
    "one_hot-uint8": lambda lib: lib.one_hot(_c(lib, [1, 0], lib.uint8), 2),
    "one_hot-float-indices": lambda lib: lib.one_hot([1.0, 2.0], 3),
    "one_hot-on-off-dtypes": lambda lib: lib.one_hot([1], 3, on_value=1, off_value=0.0),
    "one_hot-axis-out-of-range": lambda lib: lib.one_hot([1], 3, axis=2),
    "one_hot-axis--2": lambda lib: lib.one_hot([[1]], 3, axis=-2),
    "gather-uint8-indices": lambda lib: lib.gather(_c(lib, [1, 2]), _c(lib, [1], lib.uint8)),
    "gather-int16-indices": lambda lib: lib.gather(_c(lib, [1, 2]), _c(lib, [1], lib.int16)),
    "gather-scalar-params": lambda lib: lib.gather(_c(lib, 1.0), [0]),
    "reverse-repeated-axis": lambda lib: lib.reverse(lib.zeros([2, 3]), [1, 1]),
    "reverse-tensor-axis": lambda lib: lib.reverse(_c(lib, [[1, 2]]), _c(lib, [-1])),
    "pad-float-paddings": lambda lib: lib.pad(lib.zeros([2]), [[1.0, 0.0]]),
    "pad-float-value-on-ints": lambda lib: lib.pad(_c(lib, [1, 2]), [[1, 1]],
                                                   constant_values=1.5),
    "pad-int-value-on-floats": lambda lib: lib.pad(_c(lib, [1.0]), [[1, 1]], constant_values=2),
    "identity_n-empty": lambda lib: lib.identity_n([]),
    "transpose-conjugate-real": lambda lib: lib.transpose(_c(lib, [[1.0, 2.0]]), conjugate=True),
    # shape, size, rank
    "shape-float": lambda lib: lib.shape(lib.zeros([2]), out_type=lib.float32),
    "shape-int16": lambda lib: lib.shape(lib.zeros([2]), out_type=lib.int16),
    "size-float": lambda lib: lib.size(lib.zeros([2, 3]), out_type=lib.float32),
    "shape-scalar": lambda lib: lib.shape(_c(lib, 1.0)),
    "size-zero": lambda lib: lib.size(lib.zeros([0, 3]), out_type=lib.int64),
    "rank-scalar": lambda lib: lib.rank(_c(lib, 1.0)),
    # new ops: arguments and errors
    "unique-2d": lambda lib: lib.unique([[1, 2]]),
    "unique-scalar": lambda lib: lib.unique(3),
    "unique-float-out_idx": lambda lib: lib.unique([1], out_idx=lib.float32),
    "unique-empty": lambda lib: lib.unique_with_counts(lib.zeros([0])),
    "unique-bool": lambda lib: lib.unique([True, False, True]),
    "repeat-scalar": lambda lib: lib.repeat(3, 2),
    "repeat-negative": lambda lib: lib.repeat([1, 2], -1),
    "repeat-bad-length": lambda lib: lib.repeat([1, 2], [1, 2, 3]),
    "repeat-float": lambda lib: lib.repeat([1, 2], 1.5),
    "repeat-2d-repeats": lambda lib: lib.repeat([1, 2], [[1, 2]]),
    "repeat-axis-out-of-range": lambda lib: lib.repeat([1, 2], 2, axis=1),
    "repeat-one-count-list": lambda lib: lib.repeat([[1, 2], [3, 4]], [3], axis=1),
    "repeat-zero-size": lambda lib: lib.repeat(lib.zeros([0, 2]), 3, axis=0),
    "roll-same-axis": lambda lib: lib.roll([1, 2, 3, 4], [1, 1], [0, 0]),
    "roll-scalar": lambda lib: lib.roll(3, 1, 0),
    "roll-mismatch": lambda lib: lib.roll([1, 2, 3], [1, 2], [0]),
    "roll-axis-out-of-range": lambda lib: lib.roll([1, 2, 3], 1, 1),
    "roll-negative-axis": lambda lib: lib.roll([[1, 2, 3]], 1, -1),
    "roll-float-shift": lambda lib: lib.roll([1, 2, 3], 1.0, 0),
    "roll-zero-size": lambda lib: lib.roll(lib.zeros([0, 2]), 1, 0),
    "roll-int64-shift": lambda lib: lib.roll([1, 2, 3], _c(lib, 5, lib.int64), 0),
    "meshgrid-2d": lambda lib: lib.meshgrid([[1, 2]], [4, 5]),
    "meshgrid-bad-indexing": lambda lib: lib.meshgrid([1], [2], indexing="zz"),
    "meshgrid-one": lambda lib: lib.meshgrid([1, 2]),
    "meshgrid-none": lambda lib: lib.meshgrid(),
    "meshgrid-dtypes": lambda lib: lib.meshgrid([1, 2], [1.0]),
    "meshgrid-empty": lambda lib: lib.meshgrid(lib.zeros([0]), lib.zeros([2])),
    "sequence_mask": lambda lib: lib.sequence_mask([1, 3, 2], 5),
    "sequence_mask-no-maxlen": lambda lib: lib.sequence_mask([[1, 3], [2, 0]]),
    "sequence_mask-dtype": lambda lib: lib.sequence_mask([1, 3], 4, dtype=lib.float32),
    "sequence_mask-negative": lambda lib: lib.sequence_mask([-1, 3], 4),
    "sequence_mask-float-lengths": lambda lib: lib.sequence_mask([1.5, 3.0], 4),
    "sequence_mask-scalar": lambda lib: lib.sequence_mask(2, 4),
    "sequence_mask-vector-maxlen": lambda lib: lib.sequence_mask([2], [4]),
    "sequence_mask-negative-maxlen": lambda lib: lib.sequence_mask([2], -1),
    "sequence_mask-empty": lambda lib: lib.sequence_mask(lib.zeros([0], lib.int32)),
    "sequence_mask-float-maxlen": lambda lib: lib.sequence_mask([1, 2], 3.0),
    "sequence_mask-int64": lambda lib: lib.sequence_mask(_c(lib, [1, 2], lib.int64),
                                                         _c(lib, 3, lib.int64)),
    "reverse_sequence-batch-axis-1": lambda lib: lib.reverse_sequence(
        lib.reshape(lib.range(12), [3, 4]), [2, 4, 0, 1], seq_axis=0, batch_axis=1),
    "reverse_sequence-too-long": lambda lib: lib.reverse_sequence(lib.zeros([3, 4]), [2, 5, 0],
                                                                  seq_axis=1, batch_axis=0),
    "reverse_sequence-negative": lambda lib: lib.reverse_sequence(lib.zeros([3, 4]), [2, -1, 0],
                                                                  seq_axis=1, batch_axis=0),
    "reverse_sequence-length-mismatch": lambda lib: lib.reverse_sequence(
        lib.zeros([3, 4]), [2, 1], seq_axis=1, batch_axis=0),
    "reverse_sequence-same-axis": lambda lib: lib.reverse_sequence(
        lib.zeros([3, 4]), [2, 1, 1], seq_axis=0, batch_axis=0),
    "reverse_sequence-float-lengths": lambda lib: lib.reverse_sequence(
        lib.zeros([3, 4]), [2.0, 1.0, 1.0], seq_axis=1, batch_axis=0),
    "reverse_sequence-negative-axis": lambda lib: lib.reverse_sequence(
        lib.zeros([3, 4]), [2, 1, 1], seq_axis=-1, batch_axis=0),
    "reverse_sequence-axis-out-of-range": lambda lib: lib.reverse_sequence(
        lib.zeros([3, 4]), [2, 1, 1], seq_axis=2, batch_axis=0),
    "reverse_sequence-2d-lengths": lambda lib: lib.reverse_sequence(
        lib.zeros([3, 4]), [[2, 1, 1]], seq_axis=1, batch_axis=0),
    "reverse_sequence-int64": lambda lib: lib.reverse_sequence(
        lib.reshape(lib.range(12.0), [3, 4]), _c(lib, [2, 1, 3], lib.int64), seq_axis=1),
    "identity_n-tensor": lambda lib: lib.identity_n(lib.zeros([2, 3])),
    "shape_n-int64": lambda lib: lib.shape_n([lib.zeros([2, 3])], out_type=lib.int64),
    "shape_n-float": lambda lib: lib.shape_n([lib.zeros([2])], out_type=lib.float32),
    "ensure_shape-bad": lambda lib: lib.ensure_shape(lib.zeros([3, 4]), [3, 5]),
    "ensure_shape-rank": lambda lib: lib.ensure_shape(lib.zeros([3, 4]), [3]),
    "ensure_shape-none": lambda lib: lib.ensure_shape(lib.zeros([3, 4]), None),
    "ensure_shape-tensorshape": lambda lib: lib.ensure_shape(lib.zeros([3, 4]),
                                                             lib.TensorShape([None, 4])),
    "broadcast_dynamic_shape": lambda lib: lib.broadcast_dynamic_shape([2, 1, 3], [4, 1]),
    "broadcast_dynamic_shape-int64": lambda lib: lib.broadcast_dynamic_shape(
        _c(lib, [2, 1], lib.int64), _c(lib, [4, 1, 1], lib.int64)),
    "broadcast_dynamic_shape-mixed": lambda lib: lib.broadcast_dynamic_shape(
        _c(lib, [2, 1], lib.int64), _c(lib, [4, 1, 1], lib.int32)),
    "broadcast_dynamic_shape-bad": lambda lib: lib.broadcast_dynamic_shape([2, 3], [4]),
    "broadcast_dynamic_shape-float": lambda lib: lib.broadcast_dynamic_shape([2.0, 3.0], [4.0]),
    "broadcast_dynamic_shape-2d": lambda lib: lib.broadcast_dynamic_shape([[2, 3]], [3]),
    "broadcast_dynamic_shape-empty": lambda lib: lib.broadcast_dynamic_shape([], [3]),
    "broadcast_dynamic_shape-zero": lambda lib: lib.broadcast_dynamic_shape([0, 1], [1, 3]),
    "broadcast_static_shape": lambda lib: lib.broadcast_static_shape(
        lib.TensorShape([2, 1, None]), lib.TensorShape([4, 1])),
    "broadcast_static_shape-bad": lambda lib: lib.broadcast_static_shape(
        lib.TensorShape([2, 3]), lib.TensorShape([4])),
    "broadcast_static_shape-unknown-rank": lambda lib: lib.broadcast_static_shape(
        lib.TensorShape(None), lib.TensorShape([4])),
    "broadcast_static_shape-none-and-one": lambda lib: lib.broadcast_static_shape(
        lib.TensorShape([None, None]), lib.TensorShape([1, 5])),
    "get_static_value": lambda lib: lib.get_static_value(lib.zeros([2, 3])),
    "get_static_value-list": lambda lib: lib.get_static_value([1, 2]),
    "get_static_value-int": lambda lib: lib.get_static_value(3),
    "get_static_value-variable": lambda lib: lib.get_static_value(lib.Variable(1.0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_arguments_edges_and_errors(name):
    compare(CASES[name])


# --- in a tf.function -------------------------------------------------------------------------

COMPILED = {
    "parallel_stack": (lambda lib, a, b: lib.parallel_stack([a, b]),
                       (_array(2, 3), _array(2, 3))),
    "unique": (lambda lib, x: lib.unique(x), (np.array([3, 1, 3, 2], np.int32),)),
    "repeat-tensor-counts": (lambda lib, x, r: lib.repeat(x, r, axis=0),
                             (_array(3, 2), np.array([2, 0, 1], np.int32))),
    "roll-tensor-shift": (lambda lib, x, s: lib.roll(x, s, 1), (_array(2, 5), np.int32(-3))),
    "sequence_mask-tensor-maxlen": (lambda lib, n, m: lib.sequence_mask(n, m),
                                    (np.array([1, 4, 0], np.int32), np.int32(5))),
    "reverse_sequence": (lambda lib, x, n: lib.reverse_sequence(x, n, seq_axis=1),
                         (_array(3, 4), np.array([1, 4, 2], np.int32))),
    "gather-batch-dims": (lambda lib, x, i: lib.gather(x, i, axis=1, batch_dims=1),
                          (_array(3, 4), np.array([[1, 3], [0, 0], [2, 1]], np.int32))),
    "boolean_mask-int": (lambda lib, x, m: lib.boolean_mask(x, m),
                         (_array(3, 2), np.array([0, 2, 1], np.int32))),
    "x[mask]": (lambda lib, x: x[x > 0], (_array(3, 4),)),
    "broadcast_dynamic_shape": (lambda lib, a, b: lib.broadcast_dynamic_shape(a, b),
                                (np.array([2, 1], np.int32), np.array([3, 1, 4], np.int32))),
    "reshape-tensor": (lambda lib, x, s: lib.reshape(x, s),
                       (_array(2, 6), np.array([3, -1], np.int32))),
    "tile-from-shape": (lambda lib, x: lib.tile(x, lib.shape(x)), (_array(2, 3),)),
    "expand_dims-tensor-axis": (lambda lib, x: lib.expand_dims(x, lib.constant([1])),
                                (_array(2, 3),)),
}


@pytest.mark.parametrize("name", sorted(COMPILED))
def test_in_a_function(name):
    fn, arrays = COMPILED[name]
    compare(lambda lib: lib.function(lambda *a: fn(lib, *a))(*(lib.constant(a)
                                                               for a in arrays)))


# --- gradients --------------------------------------------------------------------------------

GRADIENTS = {
    "gather-batch-dims": (lambda lib, x: lib.gather(x, [[1, 3, 3], [0, 0, 2]], axis=2,
                                                    batch_dims=1), (2, 3, 4)),
    "repeat": (lambda lib, x: lib.repeat(x, [1, 2, 0], axis=1), (2, 3)),
    "repeat-flat": (lambda lib, x: lib.repeat(x, 3), (2, 2)),
    "roll": (lambda lib, x: lib.roll(x, [2, -1], [1, 0]), (3, 4)),
    "reverse_sequence": (lambda lib, x: lib.reverse_sequence(x, [2, 4, 1], seq_axis=1), (3, 4)),
    "meshgrid": (lambda lib, x: lib.meshgrid(x[0], x[1]), (2, 3)),
    "identity_n": (lambda lib, x: lib.identity_n([x, x * 2]), (2, 3)),
    "ensure_shape": (lambda lib, x: lib.ensure_shape(x, [2, None]), (2, 3)),
    "boolean_mask-int": (lambda lib, x: lib.boolean_mask(x, [1, 0, 3]), (3, 2)),
    "x[mask]": (lambda lib, x: x[x > 0], (3, 4)),
    "reshape-zero": (lambda lib, x: lib.reshape(x, [0, -1]), (0, 3)),
    "expand_dims-list": (lambda lib, x: lib.expand_dims(x, [1]), (2, 3)),
    "tile": (lambda lib, x: lib.tile(x, [2, 3]), (2, 3)),
    "pad-reflect": (lambda lib, x: lib.pad(x, [[1, 2], [2, 1]], mode="REFLECT"), (4, 3)),
    "sequence_mask": (lambda lib, x: lib.sequence_mask(x, 4, dtype=x.dtype) * x[:, None],
                      (3,)),
    "transpose": (lambda lib, x: lib.transpose(x, [2, 0, 1]), (2, 3, 4)),
    "broadcast_to": (lambda lib, x: lib.broadcast_to(x, [2, 3, 4]), (3, 1)),
    "concat": (lambda lib, x: lib.concat([x, x[:, :1], x * 2], 1), (2, 3)),
    "stack-unstack": (lambda lib, x: lib.stack(lib.unstack(x, axis=1)[::-1], axis=0), (2, 3)),
    "split": (lambda lib, x: lib.split(x, [1, -1], axis=1), (2, 3)),
    "slice": (lambda lib, x: lib.slice(x, [1, 0], [1, -1]), (2, 3)),
    "getitem": (lambda lib, x: x[::-1, 1:, None], (3, 4)),
    "gather": (lambda lib, x: lib.gather(x, [[2, 0], [2, 2]], axis=1), (2, 3)),
    "pad": (lambda lib, x: lib.pad(x, [[1, 0], [2, 2]], constant_values=3.0), (2, 3)),
    "pad-symmetric": (lambda lib, x: lib.pad(x, [[2, 0], [0, 3]], mode="SYMMETRIC"), (2, 3)),
    "reverse": (lambda lib, x: lib.reverse(x, [0, -1]), (2, 3)),
    "squeeze-expand": (lambda lib, x: lib.squeeze(lib.expand_dims(x, 1), [1]), (2, 3)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_gradients(name, dtype):
    fn, shape = GRADIENTS[name]
    compare_gradients(fn, _array(*shape, dtype=dtype))


def test_unique_has_no_gradient_in_either():
    """TensorFlow has no gradient for Unique (its tape raises LookupError); neuroflow gives
    None, as for other ops without a gradient. Documented difference."""
    x = N.constant([1.0, 2.0, 1.0])
    with N.GradientTape() as tape:
        tape.watch(x)
        y = N.unique(x).y
    assert tape.gradient(y, x) is None
    t = T.constant([1.0, 2.0, 1.0])
    with T.GradientTape() as tape:
        tape.watch(t)
        y = T.unique(t).y
    with pytest.raises(LookupError):
        tape.gradient(y, t)


def test_parallel_stack_runs_eagerly_where_tensorflow_refuses():
    """Documented difference: TensorFlow's parallel_stack raises RuntimeError eagerly."""
    with pytest.raises(RuntimeError):
        T.parallel_stack([[1, 2], [3, 4]])
    np.testing.assert_array_equal(N.parallel_stack([[1, 2], [3, 4]]).numpy(), [[1, 2], [3, 4]])


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "float16",
                                   "float32", "float64"])
@pytest.mark.parametrize("maxlen", [None, 4, "tensor"])
def test_sequence_mask_over_length_dtypes(dtype, maxlen):
    lengths = np.array([[1, 3], [0, 2]]).astype(dtype)
    if maxlen is None and dtype in ("int8", "int16", "uint8"):
        # Documented difference: TensorFlow has no range kernel for these (NotFoundError or
        # InvalidArgumentError); neuroflow gives the mask.
        with pytest.raises(T.errors.OpError):
            T.sequence_mask(lengths)
        assert N.sequence_mask(lengths).shape == (2, 2, 3)
        return

    def fn(lib):
        limit = lib.constant(3, lib.int64) if maxlen == "tensor" else maxlen
        return lib.sequence_mask(lib.constant(lengths), limit, dtype=lib.float32)

    compare(fn)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("name", ["repeat", "roll", "reverse_sequence", "gather"])
def test_count_and_index_dtypes(name, dtype):
    x = _array(3, 4)
    counts = np.array([2, 0, 1], dtype)
    make = {
        "repeat": lambda lib: lib.repeat(lib.constant(x), lib.constant(counts), axis=0),
        "roll": lambda lib: lib.roll(lib.constant(x), lib.constant(counts[:2]), [0, 1]),
        "reverse_sequence": lambda lib: lib.reverse_sequence(lib.constant(x),
                                                             lib.constant(counts), seq_axis=1),
        "gather": lambda lib: lib.gather(lib.constant(x), lib.constant(counts), axis=1),
    }[name]
    compare(make)
