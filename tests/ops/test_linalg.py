"""Linear algebra: matmul, einsum, tensordot, norm vs NumPy, gradients vs finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from _opcheck import (
    Fwd,
    Grad,
    ints,
    nonzero,
    params,
    raises_with_message,
    run_forward,
    run_gradient,
    run_second_derivative,
    smooth_params,
    uniform,
)

import neuroflow as tf
from neuroflow.autodiff.gradcheck import check_gradients, check_second_derivatives
from neuroflow.ops import linalg

MATMUL_SHAPES = [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                 ((1, 3), (3, 1)), ((0, 3), (3, 2))]

EINSUM = [("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
          ("ij->i", [(3, 4)]), ("ijk->", [(2, 3, 4)]), ("i,i->", [(5,), (5,)]),
          ("ij,j->i", [(3, 4), (4,)]), ("ij,jk", [(2, 3), (3, 4)]), ("ij->ji", [(2, 3)]),
          ("i,j->ij", [(3,), (4,)]), ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
          ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
          # '...' (broadcast batch axes) and repeated indices (diagonals)
          ("...ij,jk->...ik", [(2, 3, 4), (4, 5)]), ("...ij,...jk->...ik", [(2, 3, 4), (1, 4, 5)]),
          ("i...->...", [(2, 3, 4)]), ("b...i,b...i->b...", [(2, 1, 3), (2, 4, 3)]),
          ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("iij->j", [(2, 2, 3)]),
          ("iji,j->i", [(2, 3, 2), (3,)])]

FORWARD = {
    "matmul": [Fwd(tf.matmul, np.matmul, (uniform(*a).astype(dtype), uniform(*b).astype(dtype)),
                   f"{dtype}-{a}@{b}")
               for a, b in MATMUL_SHAPES for dtype in ("float32", "float64")]
    + [Fwd(tf.matmul, np.matmul, (ints(2, 3), ints(3, 2)), "int32"),
       Fwd(lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
           lambda a, b: a.T @ b.T, (uniform(4, 3), uniform(5, 4)), "transposed"),
       Fwd(lambda a, b: tf.matmul(a, b, adjoint_b=True),
           lambda a, b: a @ np.swapaxes(b, -1, -2), (uniform(2, 3, 4), uniform(2, 5, 4)),
           "batched-adjoint")],
    "einsum": [Fwd(lambda *t, e=eq: tf.einsum(e, *t), lambda *v, e=eq: np.einsum(e, *v),
                   tuple(uniform(*s) for s in shapes), eq) for eq, shapes in EINSUM],
    # trace multiplies by eye_like when the sizes are unknown while tracing; eagerly they
    # are known, so the primitive is called directly here.
    "eye_like": [Fwd(linalg._eye_like, lambda v: np.eye(*v.shape[-2:], dtype=v.dtype),
                     (uniform(*shape).astype(dtype),), f"{dtype}-{shape}")
                 for shape, dtype in (((3, 3), "float32"), ((2, 3, 4), "float64"),
                                      ((4, 2), "int32"), ((0, 2), "float32"))],
}

GRADIENTS = {
    "matmul": [Grad(tf.matmul, (uniform(*a), uniform(*b)), f"{a}@{b}")
               for a, b in MATMUL_SHAPES[:4]]
    + [Grad(lambda a, b: tf.matmul(a, b, transpose_a=True), (uniform(4, 3), uniform(4, 2)),
            "transpose_a"),
       Grad(lambda a, b: tf.matmul(a, b, transpose_b=True), (uniform(2, 3, 4), uniform(5, 4)),
            "batched-transpose_b")],
    "einsum": [Grad(lambda *t, e=eq: tf.einsum(e, *t), tuple(uniform(*s) for s in shapes), eq)
               for eq, shapes in EINSUM],
}



# --- diagonals, bands and decompositions ------------------------------------------------------

def _square(*batch, n=3):
    """Diagonally dominant matrices: well conditioned, so inverses and solves are stable."""
    return uniform(*batch, n, n) + 5.0 * np.eye(n)


def _spd(x):
    """A symmetric positive-definite function of any square x (for cholesky, logdet)."""
    return tf.matmul(x, x, transpose_b=True) + 3.0 * tf.eye(x.shape[-1], dtype=x.dtype)


def _np_spd(x):
    return x @ np.swapaxes(x, -1, -2) + 3.0 * np.eye(x.shape[-1])


def _sym(x):
    return x + tf.linalg.matrix_transpose(x)


def _np_band(x, lower, upper):
    rows, cols = np.indices(x.shape[-2:])
    keep = ((lower < 0) | (rows - cols <= lower)) & ((upper < 0) | (cols - rows <= upper))
    return np.where(keep, x, 0)


def _np_diag(d, k=0):
    n = d.shape[-1] + abs(k)
    out = np.zeros((*d.shape[:-1], n, n), d.dtype)
    i = np.arange(d.shape[-1])
    out[..., i - min(k, 0), i + max(k, 0)] = d
    return out


def _np_offsets(k, rows, cols, longest, align):
    """NumPy twin of TF's band packing: (diagonal, length, start) from the top diagonal."""
    above, below = align.split("_")
    out = []
    for d in range(k[1], k[0] - 1, -1):
        length = min(rows + min(d, 0), cols - max(d, 0))
        side = above if d >= 0 else below
        out.append((d, length, longest - length if side == "RIGHT" else 0))
    return out


def _np_band_part(x, k, align, pad):
    rows, cols = x.shape[-2:]
    longest = min(rows + min(k[1], 0), cols - max(k[0], 0))
    out = np.full((*x.shape[:-2], k[1] - k[0] + 1, longest), pad, x.dtype)
    for i, (d, length, start) in enumerate(_np_offsets(k, rows, cols, longest, align)):
        out[..., i, start:start + length] = np.diagonal(x, d, -2, -1)
    return out[..., 0, :] if k[0] == k[1] else out


def _np_band_diag(diagonals, k, align, pad):
    longest = diagonals.shape[-1]
    size = longest + max(-min(k[1], 0), max(k[0], 0))
    out = np.full((*diagonals.shape[:-2], size, size), pad, diagonals.dtype)
    for i, (d, length, start) in enumerate(_np_offsets(k, size, size, longest, align)):
        index = np.arange(length)
        out[..., index - min(d, 0), index + max(d, 0)] = diagonals[..., i, start:start + length]
    return out


def _np_set_band(x, diagonals, k, align):
    out = x.copy()
    for i, (d, length, start) in enumerate(_np_offsets(k, *x.shape[-2:], diagonals.shape[-1],
                                                       align)):
        index = np.arange(length)
        out[..., index - min(d, 0), index + max(d, 0)] = diagonals[..., i, start:start + length]
    return out


def _tri(a, lower=True, adjoint=False):
    t = np.tril(a) if lower else np.triu(a)
    return np.swapaxes(t, -1, -2) if adjoint else t


FORWARD.update({
    "matrix_diag": [Fwd(lambda d, k=k: tf.linalg.diag(d, k=k), lambda d, k=k: _np_diag(d, k),
                        (uniform(*shape).astype(dtype),), f"{dtype}-{shape}-k{k}")
                    for shape, k, dtype in (((3,), 0, "float32"), ((2, 3), 1, "float64"),
                                            ((4,), -2, "float32"), ((0,), 0, "float64"))]
    + [Fwd(lambda d: tf.linalg.diag(d), lambda d: np.diag(d), (ints(4),), "int32")],
    "where": [Fwd(lambda d, k=k, a=a: tf.linalg.diag(d, k=k, padding_value=7, align=a),
                  lambda d, k=k, a=a: _np_band_diag(d, k, a, 7), (d,), f"diag-{k}-{a}")
              for d, k in ((uniform(2, 3), (0, 1)), (uniform(2, 3), (-1, 0)),
                           (uniform(2, 4, 3), (-2, 1)))
              for a in ("RIGHT_LEFT", "LEFT_RIGHT")]
    + [Fwd(lambda x, d, k=k, a=a: tf.linalg.set_diag(x, d, k=k, align=a),
           lambda x, d, k=k, a=a: _np_set_band(x, d, k, a), (uniform(3, 4), d),
           f"set_diag-{k}-{a}")
       for d, k in ((uniform(2, 3), (0, 1)), (uniform(3, 3), (-2, 0)))
       for a in ("RIGHT_LEFT", "LEFT_LEFT")],
    "pad": [Fwd(lambda x, k=k, a=a: tf.linalg.diag_part(x, k=k, padding_value=9, align=a),
                lambda x, k=k, a=a: _np_band_part(x, k, a, 9), (x,), f"{x.shape}-{k}-{a}")
            for x, k in ((uniform(3, 4), (-1, 2)), (uniform(2, 4, 3), (-2, 0)),
                         (uniform(3, 3), (0, 1)))
            for a in ("RIGHT_LEFT", "LEFT_RIGHT", "RIGHT_RIGHT")],
    "matrix_diag_part": [Fwd(lambda x, k=k: tf.linalg.diag_part(x, k=k),
                             lambda x, k=k: np.diagonal(x, k, -2, -1),
                             (uniform(*shape).astype(dtype),), f"{dtype}-{shape}-k{k}")
                         for shape, k, dtype in (((3, 3), 0, "float32"), ((2, 3, 4), 1, "float64"),
                                                 ((4, 2), -1, "float32"), ((3, 4), 3, "float64"),
                                                 ((0, 0), 0, "float32"))],
    "band_part": [Fwd(lambda x, lo=lo, up=up: tf.linalg.band_part(x, lo, up),
                      lambda x, lo=lo, up=up: _np_band(x, lo, up), (x,),
                      f"{x.dtype}-{x.shape}-{lo}-{up}")
                  for x, lo, up in ((uniform(4, 4), 1, 0), (uniform(2, 3, 5), -1, 1),
                                    (uniform(3, 4), 0, -1), (ints(3, 3), 2, 2),
                                    (uniform(4, 3).astype("float32"), -1, -1))],
    "matrix_inverse": [Fwd(tf.linalg.inv, np.linalg.inv, (_square(*b).astype(dtype),),
                           f"{dtype}-{b}") for b in ((), (2,)) for dtype in ("float32", "float64")]
    + [Fwd(lambda x: tf.linalg.inv(x, adjoint=True),
           lambda x: np.linalg.inv(np.swapaxes(x, -1, -2)), (_square(2),), "adjoint"),
       Fwd(tf.linalg.inv, lambda x: x, (np.zeros((0, 0)),), "empty")],
    "matrix_determinant": [Fwd(tf.linalg.det, np.linalg.det, (x,), f"{x.dtype}-{x.shape}")
                           for x in (uniform(3, 3), uniform(2, 4, 4).astype("float32"),
                                     np.zeros((2, 2)), np.zeros((0, 0)))],
    "log_abs_determinant": [Fwd(lambda x: tf.linalg.slogdet(x)[1],
                                lambda x: np.linalg.slogdet(x)[1], (x,), f"{x.dtype}-{x.shape}")
                            for x in (uniform(3, 3), uniform(2, 4, 4).astype("float32"))],
    "determinant_sign": [Fwd(lambda x: tf.linalg.slogdet(x)[0],
                             lambda x: np.linalg.slogdet(x)[0], (x,), f"{x.shape}")
                         for x in (uniform(3, 3), uniform(5, 2, 2), np.zeros((2, 2)))],
    "cholesky": [Fwd(tf.linalg.cholesky, np.linalg.cholesky, (_np_spd(uniform(*s)).astype(d),),
                     f"{d}-{s}") for s, d in (((3, 3), "float64"), ((2, 4, 4), "float32"))]
    + [Fwd(tf.linalg.cholesky, lambda x: np.array([[np.nan, 0.0], [np.nan, np.nan]]),
           (np.array([[0.0, 1.0], [1.0, 0.0]]),), "not-positive-definite-is-nan")],
    "matrix_solve": [Fwd(lambda a, b, adj=adj: tf.linalg.solve(a, b, adjoint=adj),
                         lambda a, b, adj=adj: np.linalg.solve(
                             np.swapaxes(a, -1, -2) if adj else a, b),
                         (_square(*batch), uniform(*batch, 3, 2)), f"{batch}-adjoint{adj}")
                     for batch in ((), (2,)) for adj in (False, True)],
    "triangular_solve": [Fwd(lambda a, b, lo=lo, adj=adj: tf.linalg.triangular_solve(
                                 a, b, lower=lo, adjoint=adj),
                             lambda a, b, lo=lo, adj=adj: np.linalg.solve(_tri(a, lo, adj), b),
                             (_square(*ba), uniform(*bb, 3, 2)),
                             f"{ba}{bb}-lower{lo}-adjoint{adj}")
                         for ba, bb in (((), ()), ((2,), (2,)), ((), (2,)))
                         for lo in (True, False) for adj in (False, True)],
    "eigh": [Fwd(lambda x: tf.linalg.eigh(x)[0], lambda x: np.linalg.eigh(x)[0],
                 (_np_spd(uniform(*s)),), f"values-{s}") for s in ((3, 3), (2, 4, 4))]
    + [Fwd(lambda x: tf.abs(tf.linalg.eigh(x)[1]), lambda x: np.abs(np.linalg.eigh(x)[1]),
           (_np_spd(uniform(3, 3)),), "vectors")],
    "svd": [Fwd(lambda x: tf.linalg.svd(x, compute_uv=False), lambda x: np.linalg.svd(x)[1],
                (uniform(*s),), f"values-{s}") for s in ((4, 3), (3, 4), (2, 3, 3))]
    + [Fwd(lambda x, f=full: [tf.abs(t) for t in tf.linalg.svd(x, full_matrices=f)[1:]],
           lambda x, f=full: [np.abs(np.linalg.svd(x, full_matrices=f)[0]),
                              np.abs(np.swapaxes(np.linalg.svd(x, full_matrices=f)[2], -1, -2))],
           (uniform(*s),), f"vectors-{s}-full{full}")
       for s in ((4, 3), (3, 4)) for full in (False, True)]
    + [Fwd(lambda x: tf.linalg.svd(x, full_matrices=True)[1], lambda x: np.eye(2),
           (np.zeros((2, 0)),), "empty-full")],
    "conj_transpose": [Fwd(tf.linalg.adjoint, lambda x: np.conj(np.swapaxes(x, -1, -2)),
                           (x,), f"{x.dtype}-{x.shape}")
                       for x in ((uniform(2, 3) + 1j * uniform(2, 3)).astype("complex64"),
                                 uniform(2, 2, 3) + 1j * uniform(2, 2, 3))],
    "qr": [Fwd(lambda x, f=full: list(tf.linalg.qr(x, full_matrices=f)),
               lambda x, f=full: list(np.linalg.qr(x, "complete" if f else "reduced")),
               (uniform(*s),), f"{s}-full{full}")
           for s in ((4, 3), (3, 4), (2, 3, 3)) for full in (False, True)]
    + [Fwd(lambda x: tf.linalg.qr(x, full_matrices=True)[0], lambda x: np.eye(2),
           (np.zeros((2, 0)),), "empty-full")],
})

GRADIENTS.update({
    "matrix_diag": [Grad(lambda d: tf.linalg.diag(d, k=1), (uniform(2, 3),), "k1"),
                    Grad(lambda d: tf.linalg.diag(d, padding_value=1.5), (uniform(3),), "padded")],
    "matrix_diag_part": [Grad(lambda x: tf.linalg.diag_part(x, k=-1), (uniform(2, 3, 4),), "k-1"),
                         Grad(lambda x: tf.linalg.set_diag(x, tf.linalg.diag_part(x) ** 2),
                              (uniform(3, 3),), "set_diag")],
    "where": [Grad(lambda d: tf.linalg.diag(d, k=(-1, 1), padding_value=0.5), (uniform(3, 3),),
                   "diag-band"),
              Grad(lambda x, d: tf.linalg.set_diag(x, d, k=(0, 1)), (uniform(3, 4),
                                                                       uniform(2, 3)),
                   "set_diag-band")],
    "pad": [Grad(lambda x: tf.linalg.diag_part(x, k=(-1, 2), padding_value=3.0),
                 (uniform(2, 3, 4),), "diag_part-band")],
    "band_part": [Grad(lambda x: tf.linalg.band_part(x, 1, 0), (uniform(2, 4, 4),), "1-0"),
                  Grad(lambda x: tf.linalg.band_part(x, -1, 1), (uniform(3, 5),), "lower-1")],
    "matrix_inverse": [Grad(tf.linalg.inv, (_square(),), "3x3"),
                       Grad(lambda x: tf.linalg.inv(x, adjoint=True), (_square(2),), "adjoint")],
    "matrix_determinant": [Grad(tf.linalg.det, (_square(2),), "batched")],
    "log_abs_determinant": [Grad(lambda x: tf.linalg.slogdet(x)[1], (uniform(3, 3),),
                                 "slogdet")],
    "cholesky": [Grad(lambda x: tf.linalg.cholesky(_spd(x)), (uniform(*s),), f"{s}")
                 for s in ((3, 3), (2, 2, 2))]
    + [Grad(lambda x: tf.linalg.logdet(_spd(x)), (uniform(3, 3),), "logdet")],
    "matrix_solve": [Grad(lambda a, b, adj=adj: tf.linalg.solve(a, b, adjoint=adj),
                          (_square(2), uniform(2, 3, 2)), f"adjoint{adj}")
                     for adj in (False, True)],
    "triangular_solve": [Grad(lambda a, b, lo=lo, adj=adj: tf.linalg.triangular_solve(
                                  a, b, lower=lo, adjoint=adj), (_square(), uniform(2, 3, 2)),
                              f"lower{lo}-adjoint{adj}")
                         for lo in (True, False) for adj in (False, True)]
    + [Grad(lambda a, b: tf.linalg.cholesky_solve(tf.linalg.cholesky(_spd(a)), b),
            (uniform(3, 3), uniform(3, 1)), "cholesky_solve"),
       Grad(tf.linalg.lstsq, (uniform(5, 3), uniform(5, 2)), "lstsq-tall"),
       Grad(lambda a, b: tf.linalg.lstsq(a, b, l2_regularizer=0.3),
            (uniform(2, 4), uniform(2, 1)), "lstsq-wide")],
    "eigh": [Grad(lambda x: tf.linalg.eigh(_sym(x))[0], (uniform(2, 3, 3),), "values"),
             Grad(lambda x: tf.linalg.eigh(_sym(x))[1], (uniform(3, 3),), "vectors"),
             Grad(lambda x: tf.linalg.eigvalsh(x), (uniform(3, 3),), "lower-triangle-only")],
    "svd": [Grad(lambda x: tf.linalg.svd(x, compute_uv=False), (uniform(*s),), f"values-{s}")
            for s in ((4, 3), (3, 4))]
    + [Grad(lambda x: tf.linalg.svd(x), (uniform(*s),), f"all-{s}")
       for s in ((4, 3), (3, 4), (2, 3, 3))]
    + [Grad(lambda x: tf.linalg.svd(x, full_matrices=True), (uniform(3, 3),), "full-square"),
       Grad(lambda x: tf.linalg.svd(x, full_matrices=True), (uniform(3, 2),), "full-tall"),
       Grad(lambda x: tf.linalg.svd(x, full_matrices=True), (uniform(2, 2, 3),), "full-wide"),
       Grad(tf.linalg.pinv, (uniform(4, 3),), "pinv")],
    "conj_transpose": [Grad(lambda x: tf.math.real(tf.linalg.adjoint(
        tf.cast(x, tf.complex128) * (1.0 + 2.0j)) * (2.0 - 1.0j)), (uniform(2, 3),), "complex")],
    "qr": [Grad(lambda x: tf.linalg.qr(x), (uniform(*s),), f"{s}")
           for s in ((4, 3), (3, 3), (3, 5), (2, 2, 3))]
    + [Grad(lambda x: tf.linalg.qr(x, full_matrices=True), (uniform(2, 4),), "full-wide")],
})

@pytest.mark.parametrize("name, case", params(FORWARD))
def test_forward(name, case):
    run_forward(name, case)


@pytest.mark.parametrize("name, case", params(GRADIENTS))
def test_gradient(name, case):
    run_gradient(name, case)


@pytest.mark.parametrize("name, case", smooth_params(GRADIENTS))
def test_second_derivative(name, case):
    run_second_derivative(case)


@pytest.mark.parametrize("shape_a, shape_b, axes", [
    ((2, 3), (3, 4), 1), ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (4,), 0),
    ((2, 3, 4), (4, 3, 5), [[1, 2], [1, 0]]), ((3, 4), (3, 2), [0, 0]),
    ((2, 3, 4), (5, 4), [[-1], [-1]]),
])
def test_tensordot(shape_a, shape_b, axes):
    a, b = uniform(*shape_a), uniform(*shape_b)
    np.testing.assert_allclose(tf.tensordot(a, b, axes).numpy(), np.tensordot(a, b, axes),
                               rtol=1e-12)
    check_gradients(lambda x, y: tf.tensordot(x, y, axes), [a, b])
    check_second_derivatives(lambda x, y: tf.tensordot(x * x, y, axes), [a, b])


@pytest.mark.parametrize("ord_, axis, keep", [
    ("euclidean", None, False), (2, 1, False), (1, 0, True), (np.inf, -1, False),
    (3, None, False), (0.5, 1, False), ("fro", (0, 1), False), ("euclidean", (-2, -1), True),
    (1, (0, 1), False), (np.inf, (0, 1), False), (1, (-1, -2), True), (np.inf, (1, 2), False),
])
def test_norm(ord_, axis, keep):
    x = nonzero(3, 4) if axis is None or np.ndim(axis) == 0 or max(axis) < 2 else nonzero(2, 3, 4)
    if isinstance(axis, tuple):
        numpy_ord = "fro" if ord_ == "euclidean" else ord_
        want = np.linalg.norm(x, numpy_ord, axis, keep)
    elif axis is None:
        want = np.linalg.norm(x.reshape(-1), ord_ if ord_ != "euclidean" else 2)
    else:
        want = np.linalg.norm(x, ord_ if ord_ != "euclidean" else 2, axis, keep)
    np.testing.assert_allclose(tf.norm(x, ord_, axis, keep).numpy(), want, rtol=1e-12)
    check_gradients(lambda t: tf.norm(t, ord_, axis, keep), [x])


def test_norm_second_derivative_and_unsupported_orders():
    check_second_derivatives(lambda t: tf.norm(t, axis=1), [nonzero(3, 4)])
    with pytest.raises(ValueError, match="spectral"):
        tf.norm(tf.ones([2, 2]), ord=2, axis=[0, 1])
    with pytest.raises(ValueError, match="matrix norm"):
        tf.norm(tf.ones([2, 2]), ord="fro")
    with pytest.raises(ValueError):
        tf.norm(tf.ones([2]), ord=0)


def test_trace_and_matrix_transpose():
    x = uniform(2, 3, 3)
    np.testing.assert_allclose(tf.linalg.trace(x).numpy(), np.trace(x, axis1=1, axis2=2))
    check_gradients(tf.linalg.trace, [x])
    np.testing.assert_array_equal(tf.linalg.matrix_transpose(x).numpy(), x.transpose(0, 2, 1))


def test_numpy_operands_take_the_tensor_dtype():
    # As in TensorFlow, a NumPy operand converts to the other operand's dtype.
    a = tf.ones([2, 3])
    for op in (tf.matmul, lambda x, y: tf.tensordot(x, y, 1)):
        result = op(a, np.ones((3, 2)))
        assert result.dtype == tf.float32
        np.testing.assert_array_equal(result.numpy(), np.full((2, 2), 3.0))
        assert op(np.ones((2, 3)), tf.ones([3, 2])).dtype == tf.float32


def test_matmul_of_int_keeps_int_and_of_vectors_is_refused():
    assert tf.matmul(tf.ones([2, 2], tf.int32), tf.ones([2, 2], tf.int32)).dtype == tf.int32
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 2"):
        tf.matmul(tf.ones([2]), tf.ones([2, 2]))


# --- errors: TensorFlow's classes, with what was expected and received ----------------------

_IA = tf.errors.InvalidArgumentError


def _z(*shape, dtype="float32"):
    return tf.zeros(shape, dtype)


@pytest.mark.parametrize("make, error, fragments", [
    (lambda: tf.einsum("...ij", _z(4, 2, 3)), _IA, ("'...'", "no '...'", "'->...ij'")),
    (lambda: tf.einsum("ij,jk->ik", _z(2, 3), _z(4, 5)), _IA, ("index 'j' has size 3", "4")),
    (lambda: tf.einsum("ij->i", _z(2, 3, 4)), _IA, ("rank 3", "2 indices", "'ij'")),
    (lambda: tf.einsum("ij->ik", _z(2, 3)), ValueError, ("['k']", "not present")),
    (lambda: tf.linalg.diag(tf.constant(1.0)), _IA, ("rank >= 1", "shape ()")),
    (lambda: tf.linalg.diag(_z(2), k=-1, num_rows=4, num_cols=3), _IA,
     ("length 2 at k=-1", "4x3", "not consistent")),
    (lambda: tf.linalg.diag(_z(2), k=(0, 1)), _IA, ("rank >= 2", "one row per diagonal")),
    (lambda: tf.linalg.diag(_z(3, 2), k=(0, 1)), _IA, ("number of diagonals provided (3",
                                                       "2 diagonals")),
    (lambda: tf.linalg.diag_part(_z(3, 4), k=(1, 0)), _IA, ("k[0]=1", "k[1]=0")),
    (lambda: tf.linalg.diag_part(_z(3, 4), k=(1, 2, 3)), _IA, ("one or two elements",)),
    (lambda: tf.linalg.set_diag(_z(3, 4), _z(2, 3), align="X"), _IA, ("align", "'X'")),
    (lambda: tf.linalg.diag_part(tf.constant(1.0)), _IA, ("rank >= 2", "shape ()")),
    (lambda: tf.linalg.diag_part(_z(3, 4), k=5), _IA, ("k=5", "3x4", "between -3 and 4")),
    (lambda: tf.linalg.set_diag(_z(2, 3), _z(3)), _IA, ("has shape (2,)", "shape (3,)")),
    (lambda: tf.linalg.band_part(_z(3), 1, 0), _IA, ("rank >= 2", "shape (3,)")),
    (lambda: tf.linalg.band_part(_z(3, 3), 5, 0), _IA, ("num_lower", "rows (3)", "5")),
    (lambda: tf.linalg.band_part(_z(3, 3), 0, [1]), _IA, ("num_upper", "integer scalar",
                                                         "shape (1,)")),
    (lambda: tf.linalg.band_part(_z(3, 3), tf.constant(0.5), 0), _IA, ("num_lower", "float32")),
    (lambda: tf.linalg.adjoint(_z(3)), ValueError, ("rank >= 2", "(3,)")),
    (lambda: tf.linalg.matrix_transpose(_z(3)), ValueError, ("rank >= 2", "(3,)")),
    (lambda: tf.tensordot(_z(2, 3), _z(3, 2), tf.constant(1)), _IA,
     ("scalar tensor", "Python int")),
    (lambda: tf.linalg.cross(_z(2, 3), _z(3)), _IA, ("same shape", "(2, 3)", "(3,)")),
    (lambda: tf.linalg.cross(_z(2), _z(2)), tf.errors.FailedPreconditionError,
     ("3-element vectors", "(2,)")),
    (lambda: tf.linalg.tensor_diag(tf.constant(1.0)), _IA, ("at least rank 1", "scalar")),
    (lambda: tf.linalg.tensor_diag_part(_z(2, 3, 2)), _IA, ("rank", "even", "(2, 3, 2)")),
    (lambda: tf.linalg.tensor_diag_part(_z(2, 3, 3, 2)), _IA, ("dimensions 0 and 2",)),
    (lambda: tf.linalg.global_norm(_z(2)), TypeError, ("sequence of tensors", "Tensor")),
    (lambda: tf.linalg.global_norm([_z(2, dtype="int32")]), _IA, ("floating", "int32")),
    (lambda: tf.linalg.global_norm([_z(2), _z(2, dtype="float64")]), _IA,
     ("float32", "float64")),
    (lambda: tf.linalg.inv(_z(2, 3)), _IA, ("square", "(2, 3)")),
    (lambda: tf.linalg.inv(_z(3)), _IA, ("rank >= 2", "(3,)")),
    (lambda: tf.linalg.inv(_z(2, 2)), _IA, ("not invertible", "singular", "pinv")),
    (lambda: tf.linalg.inv(_z(2, 2, dtype="int32")), _IA, ("floating-point", "int32")),
    (lambda: tf.linalg.det(_z(2, 3, dtype="float16")), tf.errors.NotFoundError,
     ("float16 kernel", "tf.cast")),
    (lambda: tf.linalg.pinv(_z(2, 2, dtype="int32")), TypeError, ("floating-point", "int32")),
    (lambda: tf.linalg.tensor_diag(_z(2, dtype="uint8")), _IA, ("no kernel", "uint8")),
    (lambda: tf.matmul(_z(2, 2, dtype="int8"), _z(2, 2, dtype="int8")), _IA,
     ("int8 tensors are not supported", "tf.cast")),
    (lambda: tf.matmul(_z(2, 2, dtype="uint8"), _z(2, 2, dtype="uint8")),
     tf.errors.NotFoundError, ("no CPU kernel", "uint8")),
    (lambda: tf.einsum("ij->j", _z(2, 2, dtype="bool")), tf.errors.NotFoundError,
     ("einsum", "bool")),
    (lambda: tf.linalg.solve(_z(2, 2), tf.ones([2, 1])), _IA, ("not invertible",)),
    (lambda: tf.linalg.solve(tf.eye(2), tf.ones([2])), _IA, ("rank >= 2", "(2,)",
                                                              "tf.expand_dims")),
    (lambda: tf.linalg.solve(tf.eye(2), tf.ones([3, 1])), _IA, ("incompatible", "2 rows")),
    (lambda: tf.linalg.solve(tf.eye(2), tf.ones([3, 2, 1])), _IA, ("same rank", "(3, 2, 1)")),
    (lambda: tf.linalg.triangular_solve(tf.eye(2, batch_shape=[2]), tf.ones([3, 2, 1])), _IA,
     ("batch shapes (2,)", "(3,)", "do not broadcast")),
])
def test_linalg_errors(make, error, fragments):
    raises_with_message(error, make, *fragments)


@pytest.mark.parametrize("prim, avals, attrs", [
    (linalg._matrix_diag, [((), "float32")], {"k": 0, "rows": 1, "cols": 1}),
    (linalg._matrix_diag_part, [((3,), "float32")], {"k": 0}),
    (linalg._band_part, [((3,), "float32"), ((), "int64"), ((), "int64")], {}),
    (linalg._conj_transpose, [((3,), "complex64")], {}),
])
def test_shape_rules_refuse_what_the_wrappers_refuse(prim, avals, attrs):
    from neuroflow.abstract import AbstractArray

    inputs = [AbstractArray(shape, np.dtype(dtype)) for shape, dtype in avals]
    raises_with_message(ValueError, lambda: prim.abstract_eval(inputs, attrs), "rank")


def test_decomposition_shape_rules_refuse_non_square_matrices():
    from neuroflow.abstract import AbstractArray
    from neuroflow.ops import decompositions as dec

    inputs = [AbstractArray((2, 3), np.dtype("float32"))]
    raises_with_message(ValueError, lambda: dec._matrix_inverse.abstract_eval(inputs, {}),
                        "square matrices", "(2, 3)")


@pytest.mark.parametrize("equation, fragments", [
    ("ii->i", ("index 'i' repeats", "sizes 2 and 3")),
    ("ij->k", ("output indices ['k']", "appear in no operand")),
])
def test_einsum_shape_rule_refuses_what_the_wrapper_refuses(equation, fragments):
    from neuroflow.abstract import AbstractArray

    inputs = [AbstractArray((2, 3), np.dtype("float32"))]
    raises_with_message(ValueError, lambda: linalg._einsum.abstract_eval(
        inputs, {"equation": equation}), *fragments)


def test_sizes_the_results_depend_on_must_be_known_while_tracing():
    spec = [tf.TensorSpec([None, None])]
    for op in (tf.linalg.svd, tf.linalg.qr):
        f = tf.function(op, input_signature=spec)
        raises_with_message(ValueError, lambda f=f: f(tf.ones([3, 2])), "must be known")
    f = tf.function(lambda x: tf.linalg.diag_part(x, k=(0, 1)), input_signature=spec)
    raises_with_message(ValueError, lambda: f(tf.ones([3, 2])), "band of diagonals",
                        "sizes while tracing")
    f = tf.function(tf.linalg.lstsq, input_signature=spec * 2)
    raises_with_message(ValueError, lambda: f(tf.ones([3, 2]), tf.ones([3, 1])),
                        "tall or wide", "input_signature")


def test_gradients_tensorflow_does_not_have_either():
    for op, shape in ((lambda x: tf.linalg.svd(x, full_matrices=True)[1], (4, 2)),
                      (lambda x: tf.linalg.qr(x, full_matrices=True)[0], (3, 2))):
        x = tf.constant(uniform(*shape))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = op(x)
        raises_with_message(NotImplementedError, lambda t=tape, y=y, x=x: t.gradient(y, x),
                            "full_matrices=True")


def test_singular_and_indefinite_matrices_give_tensorflows_answers():
    sign, log_abs = tf.linalg.slogdet(tf.zeros([2, 2]))
    assert float(sign) == 0.0 and float(log_abs) == -np.inf
    assert float(tf.linalg.det(tf.zeros([2, 2]))) == 0.0
    assert np.isnan(float(tf.linalg.logdet(tf.constant([[0.0, 1.0], [1.0, 0.0]]))))
    result = tf.linalg.triangular_solve(tf.zeros([2, 2]), tf.ones([2, 1])).numpy()
    assert np.isinf(result[0, 0]) and np.isnan(result[1, 0])


def test_diag_sizes_follow_tensorflow():
    assert tf.linalg.diag(tf.ones([2]), k=1).shape == (3, 3)
    assert tf.linalg.diag(tf.ones([2]), k=1, num_rows=2).shape == (2, 3)
    assert tf.linalg.diag(tf.ones([2]), k=-1, num_cols=2).shape == (3, 2)
    np.testing.assert_array_equal(
        tf.linalg.diag(tf.constant([1.0, 2.0]), k=1, padding_value=3.0).numpy(),
        [[3, 1, 3], [3, 3, 2], [3, 3, 3]])


def test_matvec_cross_tensor_diag_and_global_norm_match_numpy():
    a, v = uniform(2, 3, 4), uniform(4)
    np.testing.assert_allclose(tf.linalg.matvec(a, v).numpy(), a @ v, rtol=1e-12)
    np.testing.assert_allclose(tf.linalg.matvec(a, uniform(3), transpose_a=True).shape, (2, 4))
    x, y = uniform(2, 3), uniform(2, 3)
    np.testing.assert_allclose(tf.linalg.cross(x, y).numpy(), np.cross(x, y), rtol=1e-12)
    check_gradients(tf.linalg.cross, [x, y])
    d = uniform(2, 3)
    full = tf.linalg.tensor_diag(d).numpy()
    assert full.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(tf.linalg.tensor_diag_part(full).numpy(), d)
    check_gradients(lambda t: tf.linalg.tensor_diag_part(tf.linalg.tensor_diag(t) * 2.0), [d])
    np.testing.assert_allclose(tf.linalg.global_norm([x, None, y]).numpy(),
                               np.sqrt((x * x).sum() + (y * y).sum()), rtol=1e-12)
    assert tf.linalg.global_norm([]).dtype == tf.float32
    np.testing.assert_array_equal(tf.linalg.adjoint(x).numpy(), x.T)


def test_pinv_and_lstsq_match_numpy():
    a, b = uniform(5, 3), uniform(5, 2)
    np.testing.assert_allclose(tf.linalg.pinv(a).numpy(), np.linalg.pinv(a), rtol=1e-10)
    np.testing.assert_allclose(tf.linalg.lstsq(a, b).numpy(),
                               np.linalg.lstsq(a, b, rcond=None)[0], rtol=1e-8)
    wide = uniform(2, 4)
    np.testing.assert_allclose(tf.linalg.lstsq(wide, b[:2]).numpy(),
                               np.linalg.lstsq(wide, b[:2], rcond=None)[0], rtol=1e-8)
    deficient = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(tf.linalg.lstsq(deficient, b[:3], fast=False).numpy(),
                               np.linalg.lstsq(deficient, b[:3], rcond=None)[0], rtol=1e-8)
    rank_one = np.outer([1.0, 2.0], [1.0, 1.0])
    np.testing.assert_allclose(tf.linalg.pinv(rank_one).numpy(), np.linalg.pinv(rank_one),
                               rtol=1e-10)
