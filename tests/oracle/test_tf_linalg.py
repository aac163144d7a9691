"""Reductions and linear algebra against TensorFlow: values, dtypes, shapes, error classes
and gradients (neuroflow/ops/reductions.py, linalg.py, decompositions.py).

Eigenvectors and singular vectors are defined up to sign, and the two libraries' LAPACK
routines may choose differently: those are compared through sign-free quantities
(absolute values, ``u diag(s) v^T``, ``v v^T``).
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
TOL = {"float16": 2e-2, "float32": 2e-5, "float64": 1e-10, "complex64": 2e-5,
       "complex128": 1e-10}


def _numpy(result):
    if isinstance(result, (tuple, list)):
        return [_numpy(r) for r in result]
    return np.asarray(result.numpy())


def _assert_same(ours, theirs, tol=None, what=""):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), what
        for a, b in zip(ours, theirs):
            _assert_same(a, b, tol, what)
        return
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype}, TensorFlow {theirs.dtype}"
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, TensorFlow {theirs.shape}"
    if ours.dtype.kind in "fc":
        tol = TOL[ours.dtype.name] if tol is None else tol
        finite = np.abs(theirs[np.isfinite(theirs)])
        scale = max(1.0, float(finite.max(initial=0)))
        np.testing.assert_allclose(ours.astype(np.complex128 if ours.dtype.kind == "c"
                                               else np.float64),
                                   theirs.astype(np.complex128 if theirs.dtype.kind == "c"
                                                 else np.float64),
                                   rtol=tol, atol=tol * scale, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(ours, theirs, err_msg=what)


def _run(lib, fn, arrays):
    return _numpy(fn(lib, *[lib.constant(a) for a in arrays]))


def same(fn, *arrays, tol=None):
    """``fn(lib, *tensors)`` gives TensorFlow's values, dtypes and shapes, or its error class."""
    try:
        theirs = _run(T, fn, arrays)
    except Exception as error:  # TensorFlow refuses: neuroflow must refuse with its class
        same_error(fn, arrays, error)
        return
    ours = _run(N, fn, arrays)
    _assert_same(ours, theirs, tol)


def same_error(fn, arrays, their_error):
    name = type(their_error).__name__
    expected = getattr(N.errors, name, None) or {"ValueError": ValueError,
                                                 "TypeError": TypeError}.get(name)
    with pytest.raises(expected):
        _run(N, fn, arrays)


def same_gradients(fn, *arrays, tol=None):
    """The gradients of ``sum(fn(x) * sin(fn(x)))`` match TensorFlow's."""
    def grads(lib):
        tensors = [lib.constant(a) for a in arrays]
        with lib.GradientTape() as tape:
            tape.watch(tensors)
            outputs = fn(lib, *tensors)
            outputs = outputs if isinstance(outputs, (tuple, list)) else [outputs]
            loss = lib.add_n([lib.reduce_sum(y * lib.sin(y)) for y in outputs])
        return [np.asarray(g.numpy()) for g in tape.gradient(loss, tensors)]

    _assert_same(grads(N), grads(T), tol)


def _values(dtype, *shape, seed=0, low=-3, high=3):
    r = np.random.default_rng(seed)
    if dtype == "bool":
        return r.random(shape) < 0.5
    if np.dtype(dtype).kind in "iu":
        low = 0 if np.dtype(dtype).kind == "u" else low
        return r.integers(low, high + 1, shape).astype(dtype)
    return r.uniform(low, high, shape).astype(dtype)


SPECIALS = np.array([[np.inf, 1.0, -0.0], [np.nan, -np.inf, 2.0], [-np.inf, -np.inf, 0.5]])

# --- reductions ------------------------------------------------------------------------------

REDUCTIONS = {
    "reduce_sum": lambda lib, x, a, k: lib.reduce_sum(x, a, k),
    "reduce_mean": lambda lib, x, a, k: lib.reduce_mean(x, a, k),
    "reduce_max": lambda lib, x, a, k: lib.reduce_max(x, a, k),
    "reduce_min": lambda lib, x, a, k: lib.reduce_min(x, a, k),
    "reduce_prod": lambda lib, x, a, k: lib.reduce_prod(x, a, k),
    "reduce_euclidean_norm": lambda lib, x, a, k: lib.math.reduce_euclidean_norm(x, a, k),
    "count_nonzero": lambda lib, x, a, k: lib.math.count_nonzero(x, a, k),
}
AXES = [(None, False), (0, False), (-1, True), ((0, 1), False), (1, True)]


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("dtype", FLOATS + INTS + ["bool"])
def test_reductions_over_dtypes_and_axes(name, dtype):
    op = REDUCTIONS[name]
    for shape in ((3, 4), (0, 3), (2, 0)):
        x = _values(dtype, *shape, low=-2, high=2)
        for axis, keep in AXES:
            same(lambda lib, t, a=axis, k=keep: op(lib, t, a, k), x)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_of_infinities_nan_and_negative_zero(name):
    for dtype in ("float32", "float64"):
        for axis, keep in AXES:
            same(lambda lib, t, a=axis, k=keep: REDUCTIONS[name](lib, t, a, k),
                 SPECIALS.astype(dtype))


@pytest.mark.parametrize("values, dtype", [
    ([200, 100, 255], "uint8"), ([2**31 - 1, 2**31 - 1], "int32"), ([100, 100, -7], "int8"),
    ([-32768, -32768, 1], "int16"), ([2**62, 2**62], "int64"), ([-7, 2], "int32"),
    ([60000, 60000], "float16"), ([], "int32"), ([], "float32"),
])
def test_mean_accumulates_as_tensorflow(values, dtype):
    same(lambda lib, t: lib.reduce_mean(t), np.array(values, dtype))


@pytest.mark.parametrize("dtype", FLOATS + ["int32", "complex128"])
def test_variance_and_std(dtype):
    x = _values("float64", 3, 4).astype(dtype) if dtype != "complex128" else (
        _values("float64", 3, 4) + 1j * _values("float64", 3, 4, seed=1))
    for axis, keep in AXES:
        same(lambda lib, t, a=axis, k=keep: lib.math.reduce_variance(t, a, k), x)
        same(lambda lib, t, a=axis, k=keep: lib.math.reduce_std(t, a, k), x)


@pytest.mark.parametrize("dtype", FLOATS + ["int32"])
def test_logsumexp(dtype):
    for axis, keep in AXES:
        same(lambda lib, t, a=axis, k=keep: lib.reduce_logsumexp(t, a, k),
             _values(dtype, 3, 4) * (30 if dtype != "float16" else 1))
    for values in ([1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0]):
        same(lambda lib, t: lib.reduce_logsumexp(t), np.array(values, "float32"))
    same(lambda lib, t: lib.reduce_logsumexp(t, axis=0), np.zeros((0, 3), "float32"))


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dtype", FLOATS + INTS + ["bool"])
def test_argmax_argmin(op, dtype):
    x = _values(dtype, 4, 5, low=-2, high=2)
    for axis in (0, 1, -1):
        same(lambda lib, t, a=axis: getattr(lib, op)(t, a), x)
    same(lambda lib, t: getattr(lib, op)(t, 1, output_type=lib.int32), x)
    if dtype.startswith("float"):
        same(lambda lib, t: getattr(lib, op)(t, 1), SPECIALS.astype(dtype))


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "cumulative_logsumexp"])
@pytest.mark.parametrize("dtype", FLOATS + ["int32", "int64", "uint8"])
def test_scans(op, dtype):
    fn = getattr(N.math, op)
    del fn

    def scan(lib, t, axis, exclusive, reverse):
        return getattr(lib.math, op)(t, axis, exclusive, reverse)

    for shape, axis in (((3, 4), 1), ((3, 4), 0), ((0, 3), 0), ((2, 0), 1), ((5,), -1)):
        x = _values(dtype, *shape, low=-2, high=2)
        for exclusive in (False, True):
            for reverse in (False, True):
                same(lambda lib, t, a=axis, e=exclusive, r=reverse: scan(lib, t, a, e, r), x)


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "cumulative_logsumexp"])
def test_scan_gradients(op):
    x = _values("float64", 3, 4, low=0.5, high=2)
    for exclusive in (False, True):
        for reverse in (False, True):
            # exp: exclusive logsumexp scans start at -inf, which sin(-inf) would make NaN.
            same_gradients(lambda lib, t, e=exclusive, r=reverse: lib.exp(
                getattr(lib.math, op)(t, 1, e, r) * 0.1), x)


@pytest.mark.parametrize("name", ["reduce_sum", "reduce_mean", "reduce_max", "reduce_prod",
                                  "reduce_euclidean_norm"])
def test_reduction_gradients(name):
    x = _values("float64", 2, 3, 4, low=0.5, high=2)
    for axis, keep in AXES:
        same_gradients(lambda lib, t, a=axis, k=keep: REDUCTIONS[name](lib, t, a, k), x)
    for op in ("reduce_variance", "reduce_std", "reduce_logsumexp"):
        same_gradients(lambda lib, t, o=op: getattr(lib.math, o)(t, 1), x)


def test_euclidean_norm_gradient_at_zero_is_nan_as_tensorflow():
    same_gradients(lambda lib, t: lib.math.reduce_euclidean_norm(t, axis=1),
                   np.array([[3.0, 0.0], [0.0, 0.0]]))


@pytest.mark.parametrize("dtype", FLOATS + INTS + ["bool"])
def test_add_n_and_accumulate_n(dtype):
    a, b = _values(dtype, 2, 3), _values(dtype, 2, 3, seed=1)
    same(lambda lib, x, y: lib.add_n([x, y, x]), a, b, tol=5e-2 if dtype == "float16" else None)
    same(lambda lib, x, y: lib.math.accumulate_n([x, y]), a, b)
    same(lambda lib, x: lib.add_n([x]), a)
    same(lambda lib, x, y: lib.add_n([x, y]), a, b[:1])
    same(lambda lib, x, y: lib.add_n([x, lib.cast(y, lib.float64)]), a, b)


def test_add_n_of_python_numbers_and_errors():
    same(lambda lib: lib.add_n([1, 2]))
    same(lambda lib: lib.add_n([]))
    same(lambda lib: lib.math.accumulate_n([]))
    same(lambda lib, x: lib.math.accumulate_n([x, x[:1]]), np.ones(2, "float32"))
    same_gradients(lambda lib, x, y: lib.add_n([x, y, x]), _values("float64", 3),
                   _values("float64", 3, seed=2))


# --- einsum and products ---------------------------------------------------------------------

EINSUM = [("ij,jk->ik", [(2, 3), (3, 4)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]),
          ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("i,j->ij", [(3,), (4,)]),
          ("ij,jk", [(2, 3), (3, 4)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
          ("...ij,jk->...ik", [(2, 3, 4), (4, 5)]), ("...ij,...jk->...ik", [(2, 3, 4), (1, 4, 5)]),
          ("i...->...", [(2, 3, 4)]), ("...i->i...", [(2, 3, 4)]),
          ("b...i,b...i->b...", [(2, 1, 3), (2, 4, 3)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
          ("iij->j", [(2, 2, 3)]), ("iji,j->i", [(2, 3, 2), (3,)]),
          # refused by both
          ("...ij,...jk", [(2, 3, 4), (4, 5)]), ("ij,jk->ik", [(2, 3), (4, 5)]),
          ("ij,kj->ik", [(2, 1), (3, 4)]), ("ij->i", [(2, 3, 4)]), ("ii->i", [(2, 3)])]


@pytest.mark.parametrize("equation, shapes", EINSUM)
def test_einsum(equation, shapes):
    for dtype in ("float32", "float64", "int32"):
        arrays = [_values(dtype, *s, seed=i) for i, s in enumerate(shapes)]
        same(lambda lib, *t: lib.einsum(equation, *t), *arrays)
    arrays = [_values("float64", *s, seed=i) for i, s in enumerate(shapes)]
    try:
        T.einsum(equation, *arrays)
    except Exception:
        return
    same_gradients(lambda lib, *t: lib.einsum(equation, *t), *arrays)


def test_einsum_of_mixed_dtypes_and_an_unknown_output_index():
    same(lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), np.ones((2, 3), "float32"),
         np.ones((3, 2)))
    same(lambda lib, a: lib.einsum("ij->ik", a), np.ones((2, 3), "float32"))


@pytest.mark.parametrize("dtype", FLOATS + ["int32", "int64"])
def test_matmul_tensordot_matvec_trace(dtype):
    a, b = _values(dtype, 2, 3, 4), _values(dtype, 4, 5, seed=1)
    same(lambda lib, x, y: lib.matmul(x, y), a, b)
    same(lambda lib, x, y: lib.tensordot(x, y, 1), a, b)
    same(lambda lib, x, y: lib.linalg.matvec(x, y), a, b[:, 0])
    same(lambda lib, x, y: lib.linalg.matvec(x, y, transpose_a=True), a, _values(dtype, 3))
    same(lambda lib, x: lib.linalg.trace(x), a)
    same(lambda lib, x: lib.linalg.trace(x), a[0, 0])
    same(lambda lib, x: lib.linalg.adjoint(x), a)
    same(lambda lib, x: lib.linalg.matrix_transpose(x), a)


def test_norms():
    x = _values("float64", 3, 4)
    for ord_, axis in (("euclidean", None), (1, 0), (np.inf, 1), (3, None), ("fro", (0, 1)),
                       (1, (0, 1)), (np.inf, (0, 1))):
        same(lambda lib, t, o=ord_, a=axis: lib.norm(t, o, a), x)
        same_gradients(lambda lib, t, o=ord_, a=axis: lib.norm(t, o, a), x)
    same(lambda lib, a, b: lib.linalg.global_norm([a, None, b]), x, x[0])
    same(lambda lib, a, b: lib.linalg.global_norm([a, b]), x, x.astype("float32"))
    same(lambda lib, a: lib.linalg.global_norm([a]), x.astype("int32"))
    same(lambda lib: lib.linalg.global_norm([]))
    same_gradients(lambda lib, a, b: lib.linalg.global_norm([a, b]), x, x[0] * 2)


# --- diagonals and bands ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS + ["int32", "uint8", "bool"])
def test_diagonals(dtype):
    d = _values(dtype, 2, 3)
    x = _values(dtype, 2, 3, 4)
    for k in (0, 1, -1, 3, -2):
        same(lambda lib, t, k=k: lib.linalg.diag(t, k=k), d)
        same(lambda lib, t, k=k: lib.linalg.diag_part(t, k=k), x)
    same(lambda lib, t: lib.linalg.diag(t, k=1, num_rows=3), d)
    same(lambda lib, t: lib.linalg.diag(t, k=-1, num_cols=3), d)
    same(lambda lib, t: lib.linalg.diag(t, k=-1, num_rows=5, num_cols=3), d)
    same(lambda lib, t: lib.linalg.diag_part(t, k=5), x)
    same(lambda lib, t, u: lib.linalg.set_diag(t, u), x, _values(dtype, 2, 3))
    same(lambda lib, t, u: lib.linalg.set_diag(t, u, k=1), x, _values(dtype, 2, 3))
    same(lambda lib, t, u: lib.linalg.set_diag(t, u), x, _values(dtype, 2, 4))
    same(lambda lib, t: lib.linalg.tensor_diag(t), d)
    same(lambda lib, t: lib.linalg.tensor_diag_part(t), _values(dtype, 2, 3, 2, 3))
    same(lambda lib, t: lib.linalg.tensor_diag_part(t), _values(dtype, 2, 3, 3))
    same(lambda lib, t: lib.linalg.diag(t), np.array(1, dtype))
    same(lambda lib, t: lib.linalg.diag_part(t), d[0])


@pytest.mark.parametrize("dtype", FLOATS + ["int32", "bool"])
def test_band_part(dtype):
    x = _values(dtype, 2, 4, 5)
    for lower, upper in ((0, 0), (1, 0), (0, -1), (-1, 0), (-1, -1), (2, 1), (4, 5)):
        same(lambda lib, t, lo=lower, up=upper: lib.linalg.band_part(t, lo, up), x)
    same(lambda lib, t: lib.linalg.band_part(t, 5, 0), x)
    same(lambda lib, t: lib.linalg.band_part(t, 0, 0), x[0, 0])


def test_diagonal_gradients():
    x, d = _values("float64", 2, 3, 4), _values("float64", 2, 3)
    same_gradients(lambda lib, t: lib.linalg.diag(t, k=1), d)
    same_gradients(lambda lib, t: lib.linalg.diag(t, padding_value=2.0), d)
    same_gradients(lambda lib, t: lib.linalg.diag_part(t, k=-1), x)
    same_gradients(lambda lib, t, u: lib.linalg.set_diag(t, u), x, d)
    same_gradients(lambda lib, t: lib.linalg.band_part(t, 1, 0), x)
    same_gradients(lambda lib, t: lib.linalg.tensor_diag(t), d)
    same_gradients(lambda lib, t: lib.linalg.tensor_diag_part(t), _values("float64", 2, 3, 2, 3))


@pytest.mark.parametrize("dtype", FLOATS + ["int32", "uint8"])
def test_cross(dtype):
    a, b = _values(dtype, 2, 3), _values(dtype, 2, 3, seed=1)
    same(lambda lib, x, y: lib.linalg.cross(x, y), a, b)
    same(lambda lib, x, y: lib.linalg.cross(x, y), a, b[0])
    same(lambda lib, x, y: lib.linalg.cross(x, y), a[:, :2], b[:, :2])
    if dtype.startswith("float") and dtype != "float16":
        same_gradients(lambda lib, x, y: lib.linalg.cross(x, y), a, b)


# --- decompositions --------------------------------------------------------------------------


def _well_conditioned(dtype, *batch, n=3, seed=0):
    return (_values("float64", *batch, n, n, seed=seed) + 6 * np.eye(n)).astype(dtype)


def _positive_definite(dtype, *batch, n=3, seed=0):
    a = _values("float64", *batch, n, n, seed=seed)
    return (a @ np.swapaxes(a, -1, -2) + 3 * np.eye(n)).astype(dtype)


def _spd(lib, t):
    return lib.matmul(t, t, transpose_b=True) + 3.0 * lib.eye(3, dtype=t.dtype)


@pytest.mark.parametrize("dtype", FLOATS + ["int32"])
def test_inverse_and_determinants(dtype):
    for batch in ((), (2,)):
        a = _well_conditioned(dtype, *batch)
        same(lambda lib, t: lib.linalg.inv(t), a)
        same(lambda lib, t: lib.linalg.inv(t, adjoint=True), a)
        same(lambda lib, t: lib.linalg.det(t), a)
        same(lambda lib, t: list(lib.linalg.slogdet(t)), a)
        same(lambda lib, t: lib.linalg.logdet(t), _positive_definite(dtype, *batch))
    for bad in (np.zeros((2, 2)), np.ones((2, 3)), np.ones(3), np.zeros((0, 0)),
                np.array([[0.0, 1.0], [1.0, 0.0]])):
        bad = bad.astype(dtype)
        for op in ("inv", "det", "logdet"):
            same(lambda lib, t, o=op: getattr(lib.linalg, o)(t), bad)
        same(lambda lib, t: list(lib.linalg.slogdet(t)), bad)


def test_decomposition_gradients():
    a = _well_conditioned("float64", 2)
    same_gradients(lambda lib, t: lib.linalg.inv(t), a)
    same_gradients(lambda lib, t: lib.linalg.det(t), a)
    same_gradients(lambda lib, t: lib.linalg.slogdet(t)[1], a)
    same_gradients(lambda lib, t: lib.linalg.logdet(_spd(lib, t)), a)
    same_gradients(lambda lib, t: lib.linalg.cholesky(_spd(lib, t)), a)
    # cholesky and eigh read the lower triangle: their gradients say how.
    same_gradients(lambda lib, t: lib.linalg.cholesky(t), _positive_definite("float64", 2))
    same_gradients(lambda lib, t: lib.linalg.eigh(t)[0], _positive_definite("float64", 2))
    same_gradients(lambda lib, t: lib.linalg.eigvalsh(t), _values("float64", 3, 3))


@pytest.mark.parametrize("dtype", FLOATS + ["int32"])
def test_cholesky_and_solves(dtype):
    a, b = _well_conditioned(dtype, 2), _values(dtype, 2, 3, 2)
    spd = _positive_definite(dtype, 2)
    same(lambda lib, t: lib.linalg.cholesky(t), spd)
    same(lambda lib, t: lib.linalg.cholesky(t), np.array([[0.0, 1.0], [1.0, 0.0]], dtype))
    same(lambda lib, t: lib.linalg.cholesky(t), np.array([[4.0, 100.0], [2.0, 5.0]], dtype))
    same(lambda lib, t, u: lib.linalg.cholesky_solve(lib.linalg.cholesky(t), u), spd, b)
    for adjoint in (False, True):
        same(lambda lib, t, u, j=adjoint: lib.linalg.solve(t, u, adjoint=j), a, b)
        for lower in (True, False):
            same(lambda lib, t, u, j=adjoint, lo=lower: lib.linalg.triangular_solve(
                t, u, lower=lo, adjoint=j), a, b)
    same(lambda lib, t, u: lib.linalg.triangular_solve(t, u), a[0], b)
    same(lambda lib, t, u: lib.linalg.solve(t, u), a[0], b)
    same(lambda lib, t, u: lib.linalg.solve(t, u), a, b[..., 0])
    same(lambda lib, t, u: lib.linalg.solve(t, u), np.zeros((2, 2), dtype), np.ones((2, 1),
                                                                                   dtype))
    same(lambda lib, t, u: lib.linalg.triangular_solve(t, u), np.zeros((2, 2), dtype),
         np.ones((2, 1), dtype))


def test_solve_gradients():
    a, b = _well_conditioned("float64", 2), _values("float64", 2, 3, 2)
    for adjoint in (False, True):
        same_gradients(lambda lib, t, u, j=adjoint: lib.linalg.solve(t, u, adjoint=j), a, b)
        for lower in (True, False):
            same_gradients(lambda lib, t, u, j=adjoint, lo=lower: lib.linalg.triangular_solve(
                t, u, lower=lo, adjoint=j), a, b)
    same_gradients(lambda lib, t, u: lib.linalg.triangular_solve(t, u), a[0], b)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_eigh_svd_qr_values(dtype):
    spd = _positive_definite(dtype, 2)
    same(lambda lib, t: lib.linalg.eigh(t)[0], spd)
    same(lambda lib, t: lib.abs(lib.linalg.eigh(t)[1]), spd)
    same(lambda lib, t: lib.linalg.eigvalsh(t), spd)
    for shape in ((4, 3), (3, 4), (2, 3, 3)):
        x = _values(dtype, *shape)
        same(lambda lib, t: lib.linalg.svd(t, compute_uv=False), x)
        same(lambda lib, t: [lib.abs(v) for v in lib.linalg.svd(t)], x)
        same(lambda lib, t: lib.linalg.svd(t, full_matrices=True)[1].shape.as_list() and
             lib.abs(lib.linalg.svd(t, full_matrices=True)[0]), x)
        same(lambda lib, t: list(lib.linalg.qr(t)), x)
        same(lambda lib, t: list(lib.linalg.qr(t, full_matrices=True)), x)
        same(lambda lib, t: lib.linalg.pinv(t), x)
    same(lambda lib, t: lib.linalg.pinv(t), np.ones((2, 2), dtype))


def test_eigh_svd_qr_gradients():
    spd = _positive_definite("float64")

    def vvt(lib, t):  # sign-free: v v^T per eigenvector
        v = lib.linalg.eigh(t)[1]
        return v * v

    same_gradients(vvt, spd)
    for shape in ((4, 3), (3, 4), (3, 3)):
        x = _values("float64", *shape)
        same_gradients(lambda lib, t: lib.linalg.svd(t, compute_uv=False), x)
        same_gradients(lambda lib, t: [v * v for v in lib.linalg.svd(t)[1:]], x)
        same_gradients(lambda lib, t: list(lib.linalg.qr(t)), x)
        same_gradients(lambda lib, t: lib.linalg.pinv(t), x)
    same_gradients(lambda lib, t: list(lib.linalg.qr(t, full_matrices=True)), _values(
        "float64", 3, 4))
    for shape in ((3, 2), (2, 3), (3, 3)):
        same_gradients(lambda lib, t: [v * v for v in lib.linalg.svd(t, full_matrices=True)],
                       _values("float64", *shape))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstsq(dtype):
    tall, wide = _values(dtype, 5, 3), _values(dtype, 2, 4)
    rhs = _values(dtype, 5, 2, seed=3)
    for l2 in (0.0, 0.5):
        same(lambda lib, a, b, r=l2: lib.linalg.lstsq(a, b, l2_regularizer=r), tall, rhs,
             tol=1e-3 if dtype == "float32" else None)
        same(lambda lib, a, b, r=l2: lib.linalg.lstsq(a, b, l2_regularizer=r), wide, rhs[:2],
             tol=1e-3 if dtype == "float32" else None)
        same(lambda lib, a, b, r=l2: lib.linalg.lstsq(a, b, l2_regularizer=r, fast=False), tall,
             rhs, tol=1e-3 if dtype == "float32" else None)
    rank_one = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]], dtype)
    same(lambda lib, a, b: lib.linalg.lstsq(a, b, fast=False), rank_one, rhs[:3],
         tol=1e-3 if dtype == "float32" else None)
    if dtype == "float64":
        same_gradients(lambda lib, a, b: lib.linalg.lstsq(a, b), tall, rhs)
        same_gradients(lambda lib, a, b: lib.linalg.lstsq(a, b, l2_regularizer=0.3), wide,
                       rhs[:2])


# --- what the generated sweep found ----------------------------------------------------------


def test_complex_adjoint_and_conjugate_transpose():
    z = (_values("float64", 2, 3) + 1j * _values("float64", 2, 3, seed=1)).astype("complex64")
    same(lambda lib, t: lib.linalg.adjoint(t), z)
    same(lambda lib, t: lib.linalg.matrix_transpose(t, conjugate=True), z)
    same(lambda lib, t: lib.linalg.matrix_transpose(t), z)
    same(lambda lib, t: lib.linalg.matrix_transpose(t), _values("float32", 3))
    same_gradients(lambda lib, t: lib.math.real(
        lib.linalg.adjoint(lib.cast(t, lib.complex128) * (1.0 + 2.0j)) * (2.0 - 1.0j)),
        _values("float64", 2, 3))


def test_trace_of_infinities_sums_the_diagonal_only():
    x = np.array([[np.inf, 1.0], [np.inf, 2.0]], "float32")
    same(lambda lib, t: lib.linalg.trace(t), x)
    same(lambda lib, t: lib.linalg.trace(t), np.ones((2, 2), bool))
    same_gradients(lambda lib, t: lib.linalg.trace(t), _values("float64", 2, 3, 3))


def test_bool_and_non_bool_reduction_errors():
    for dtype in ("float32", "int32"):
        same(lambda lib, t: lib.reduce_any(t), _values(dtype, 2, 3))
        same(lambda lib, t: lib.reduce_all(t), _values(dtype, 2, 3))
    for op in ("reduce_variance", "reduce_std"):
        same(lambda lib, t, o=op: getattr(lib.math, o)(t), _values("bool", 2, 3))


def test_scans_and_products_of_extreme_values_do_not_warn():
    x = np.array([np.inf, -np.inf, np.nan, 3e38, 3e38, -0.0], "float32")
    with np.errstate(all="raise"):
        same(lambda lib, t: lib.cumsum(t), x)
        same(lambda lib, t: lib.math.cumprod(t), x)
        same(lambda lib, t: lib.reduce_prod(t), x)
        same(lambda lib, t: lib.reduce_sum(t), x)
        # Only the absence of warnings: where inf meets -inf, BLAS and Eigen may sum in
        # different orders (NaN or an infinity).
        N.matmul(x.reshape(2, 3), x.reshape(3, 2))


def test_tensordot_axes_as_tensors():
    a, b = _values("float32", 2, 3), _values("float32", 3, 2)
    same(lambda lib, x, y: lib.tensordot(x, y, lib.constant(1)), a, b)
    same(lambda lib, x, y: lib.tensordot(x, y, lib.constant([[1], [0]])), a, b)


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
@pytest.mark.parametrize("align", ["RIGHT_LEFT", "LEFT_RIGHT", "LEFT_LEFT", "RIGHT_RIGHT"])
def test_bands_of_diagonals(dtype, align):
    for shape, k in (((3, 4), (-1, 2)), ((2, 4, 3), (-2, 0)), ((3, 3), (1, 2)),
                     ((4, 2), (-3, -1)), ((3, 4), (0, 0))):
        x = _values(dtype, *shape)
        same(lambda lib, t, k=k: lib.linalg.diag_part(t, k=k, padding_value=1, align=align), x)
        packed = _run(T, lambda lib, t, k=k: lib.linalg.diag_part(t, k=k, align=align), [x])
        diagonals = _values(dtype, *packed.shape, seed=5)
        same(lambda lib, t, u, k=k: lib.linalg.set_diag(t, u, k=k, align=align), x, diagonals)
        if k[0] != k[1]:
            same(lambda lib, u, k=k: lib.linalg.diag(u, k=k, padding_value=1, align=align),
                 diagonals)
    same(lambda lib, t: lib.linalg.diag_part(t, k=(1, 0)), _values(dtype, 3, 3))
    same(lambda lib, t: lib.linalg.diag_part(t, align="X"), _values(dtype, 3, 3))


def test_band_gradients():
    x = _values("float64", 2, 3, 4)
    same_gradients(lambda lib, t: lib.linalg.diag_part(t, k=(-1, 2), padding_value=2.0), x)
    same_gradients(lambda lib, u: lib.linalg.diag(u, k=(-1, 1), padding_value=2.0),
                   _values("float64", 3, 3))
    same_gradients(lambda lib, t, u: lib.linalg.set_diag(t, u, k=(0, 1)), x[0],
                   _values("float64", 2, 3))


def test_complex_matmul_adjoints_and_gradients():
    r = np.random.default_rng(0)
    a = r.normal(size=(2, 3)) + 1j * r.normal(size=(2, 3))
    b = r.normal(size=(3, 2)) + 1j * r.normal(size=(3, 2))
    same(lambda lib, x, y: lib.matmul(y, x, adjoint_a=True, adjoint_b=True), a, b)
    same(lambda lib, x, y: lib.matmul(x, y, transpose_a=True, transpose_b=True), a, b)

    def grads(lib):
        x, y = lib.constant(a), lib.constant(b)
        with lib.GradientTape() as tape:
            tape.watch([x, y])
            loss = (lib.math.real(lib.reduce_sum(lib.matmul(x, y) * (1 + 2j)))
                    + lib.math.real(lib.reduce_sum(lib.matmul(y, x, adjoint_a=True,
                                                              adjoint_b=True) * (0.5 - 1j))))
        return [g.numpy() for g in tape.gradient(loss, [x, y])]

    _assert_same(grads(N), grads(T))
