"""Matrix decompositions and what is built on them: inverse, determinants, solves,
Cholesky, eigh, SVD, QR, pseudo-inverse and least squares (``tf.linalg``).

Every op works on batches of matrices (the last two axes). Primitives wrap NumPy's
LAPACK routines; gradients follow TensorFlow's rules (``linalg_grad.py``), written in
neuroflow ops, so they nest and trace. Ops that give several results (eigh, svd, qr)
run one primitive whose result packs them along the second-to-last axis, and slice it:
one decomposition per call, and the gradient of the slices reaches the one vjp
that needs all of them.
"""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import AbstractArray, InconclusiveDimension, is_known
from neuroflow.errors import InvalidArgumentError, NotFoundError
from neuroflow.ops import elementwise as ew
from neuroflow.ops import linalg as la
from neuroflow.ops import reductions as red
from neuroflow.ops import shape_ops as so
from neuroflow.ops import shape_rules as rules
from neuroflow.ops.convert import as_tensor, check_same_dtype
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.tensor import Tensor

_FRESH = Lowering(result="fresh")


def _square_shape(x, **attrs):
    if x.ndim < 2 or rules.dims_differ(x.shape[-1], x.shape[-2]):
        raise ValueError(f"needs square matrices (rank >= 2), received shape "
                         f"{rules.shape_text(x.shape)}")
    return AbstractArray(x.shape, x.dtype)


def _batch_scalar_shape(x, **attrs):
    _square_shape(x)
    return AbstractArray(x.shape[:-2], x.dtype)


def _not_invertible(what: str, op: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"{op}: {what} is not invertible (it is singular); TensorFlow "
                                f"refuses it too. Check the matrix, or use tf.linalg.pinv.", op)


# --- inverse and determinants ----------------------------------------------------------------


@primitive("matrix_inverse", save_output=True, shape=_square_shape, lowering=_FRESH)
def _matrix_inverse(xp, a):
    try:
        return _via_float32(xp, xp.linalg.inv, a)
    except np.linalg.LinAlgError:
        raise _not_invertible("input", "inv") from None


@_matrix_inverse.defvjp
def _matrix_inverse_vjp(ctx, g):
    inverse = ctx.output
    return (-la.matmul(inverse, la.matmul(g, inverse, transpose_b=True), transpose_a=True),)


@primitive("matrix_determinant", save_inputs=True, save_output=True, shape=_batch_scalar_shape,
           lowering=_FRESH)
def _matrix_determinant(xp, a):
    return xp.asarray(xp.linalg.det(a), a.dtype)


@_matrix_determinant.defvjp
def _matrix_determinant_vjp(ctx, g):
    # d det(A) / dA = det(A) A^-T (TF's rule: a singular A raises, as its inverse does).
    scale = so.expand_dims(so.expand_dims(g * ctx.output, -1), -1)
    return (scale * _transposed(_matrix_inverse(ctx.inputs[0])),)


@primitive("log_abs_determinant", save_inputs=True, shape=_batch_scalar_shape, lowering=_FRESH)
def _log_abs_determinant(xp, a):
    with np.errstate(divide="ignore"):
        return xp.asarray(xp.linalg.slogdet(a)[1], a.dtype)


@_log_abs_determinant.defvjp
def _log_abs_determinant_vjp(ctx, g):
    scale = so.expand_dims(so.expand_dims(g, -1), -1)
    return (scale * _transposed(_matrix_inverse(ctx.inputs[0])),)


@primitive("determinant_sign", differentiable=False, shape=_batch_scalar_shape, lowering=_FRESH)
def _determinant_sign(xp, a):
    return xp.asarray(xp.linalg.slogdet(a)[0], a.dtype)


def _transposed(x: Tensor) -> Tensor:
    return la._swap_last(x)


def _floating_matrix(x, op: str, square: bool = True, half: bool = False) -> Tensor:
    """``x`` as a batch of floating matrices, checked in TensorFlow's order: the dtype (no
    kernel), then the shape. ``half``: whether TF has a float16 kernel for ``op``."""
    x = as_tensor(x)
    if x._value.dtype.kind != "f":
        # InvalidArgumentError, as TensorFlow's missing-kernel error.
        raise InvalidArgumentError(f"{op}: expects a floating-point tensor (float16/32/64), "
                                   f"received {x.dtype.name}. Use tf.cast(x, tf.float32) "
                                   f"first.", op)
    if x._value.dtype == np.float16 and not half:
        raise NotFoundError(f"{op}: TensorFlow has no float16 kernel for this op; use "
                            f"tf.cast(x, tf.float32).", op)
    return la._matrix(x, op, square=square)


def _via_float32(xp, decompose, a):
    """``decompose(a)``, for float16 computed in float32 (NumPy's LAPACK has no float16)."""
    if a.dtype != np.float16:
        return decompose(a)
    result = decompose(a.astype(np.float32))
    if isinstance(result, tuple):
        return tuple(part.astype(np.float16) for part in result)
    return result.astype(np.float16)


def inv(input, adjoint=False, name=None) -> Tensor:  # noqa: A002
    """The inverse of each square matrix; a singular one raises InvalidArgumentError, as TF.

    >>> import neuroflow as tf
    >>> tf.linalg.inv(tf.constant([[2.0, 0.0], [0.0, 4.0]])).numpy()
    array([[0.5 , 0.  ],
           [0.  , 0.25]], dtype=float32)
    """
    x = _floating_matrix(input, "inv", half=True)
    return _matrix_inverse(_transposed(x) if adjoint else x)


def det(input, name=None) -> Tensor:  # noqa: A002
    """The determinant of each square matrix (0 for a singular one, 1 for a 0x0 one)."""
    return _matrix_determinant(_floating_matrix(input, "det"))


def slogdet(input, name=None) -> tuple[Tensor, Tensor]:  # noqa: A002
    """``(sign, log|det|)`` of each square matrix; a singular one gives ``(0, -inf)``."""
    x = _floating_matrix(input, "slogdet")
    return _determinant_sign(x), _log_abs_determinant(x)


def logdet(matrix, name=None) -> Tensor:
    """``log(det(A))`` of Hermitian positive-definite matrices, from their Cholesky factor
    (NaN for a matrix that is not positive definite, as in TF)."""
    x = _floating_matrix(matrix, "logdet")
    chol = _cholesky(x)
    return 2.0 * red.reduce_sum(ew.log(la._matrix_diag_part(chol, k=0)), axis=-1)


# --- Cholesky and solves ---------------------------------------------------------------------


# The lower Cholesky factor, reading the lower triangle. A matrix that is not positive
# definite gives NaN in its lower triangle, as TensorFlow's CPU kernel does.
@primitive("cholesky", save_output=True, shape=_square_shape, lowering=_FRESH)
def _cholesky(xp, a):
    try:
        return xp.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        pass
    flat = a.reshape(-1, *a.shape[-2:])
    out = xp.empty_like(flat)
    for i, matrix in enumerate(flat):
        try:
            out[i] = xp.linalg.cholesky(matrix)
        except np.linalg.LinAlgError:
            out[i] = xp.tril(xp.full_like(matrix, np.nan))
    return out.reshape(a.shape)


@_cholesky.defvjp
def _cholesky_vjp(ctx, g):
    # TF's rule (Murray 2016): phi(L^T g) with the diagonal halved, sandwiched by L^-1, and
    # symmetrized.
    chol = ctx.output
    eye = _eye_as(chol)
    chol_inverse = _triangular_solve(chol, eye, lower=True, adjoint=False)
    middle = la.matmul(chol, g, transpose_a=True)
    middle = _lower(middle) - 0.5 * middle * eye
    grad = la.matmul(la.matmul(chol_inverse, middle, transpose_a=True), chol_inverse)
    return (0.5 * (grad + _transposed(grad)),)


def _lower(x: Tensor) -> Tensor:
    return _band(x, -1, 0)


def _upper(x: Tensor) -> Tensor:
    return _band(x, 0, -1)


def _band(x: Tensor, lower: int, upper: int) -> Tensor:
    return la._band_part(x, Tensor(np.asarray(lower, np.int64)),
                         Tensor(np.asarray(upper, np.int64)))


def cholesky(input, name=None) -> Tensor:  # noqa: A002
    """The lower-triangular ``L`` with ``L @ L^T = A``, for each positive-definite ``A``."""
    return _cholesky(_floating_matrix(input, "cholesky"))


def _solve_shape(a, b, adjoint):
    _square_shape(a)
    return AbstractArray(b.shape, b.dtype)


@primitive("matrix_solve", save_inputs=True, save_output=True, shape=_solve_shape,
           lowering=_FRESH)
def _matrix_solve(xp, a, b, adjoint):
    try:
        return xp.linalg.solve(xp.swapaxes(a, -1, -2) if adjoint else a, b)
    except np.linalg.LinAlgError:
        raise _not_invertible("input matrix", "solve") from None


@_matrix_solve.defvjp
def _matrix_solve_vjp(ctx, g):
    a, _ = ctx.inputs
    x, adjoint = ctx.output, ctx.attrs["adjoint"]
    grad_b = _matrix_solve(a, g, adjoint=not adjoint)
    if not ctx.needs(0):
        return None, grad_b
    if adjoint:
        grad_a = -la.matmul(x, grad_b, transpose_b=True)
    else:
        grad_a = -la.matmul(grad_b, x, transpose_b=True)
    return grad_a, grad_b


def _rhs(matrix, rhs, op: str, broadcast: bool, square: bool = True) -> tuple[Tensor, Tensor]:
    a = _floating_matrix(matrix, op, square=square)
    b = as_tensor(rhs, dtype=a.dtype) if not isinstance(rhs, Tensor) else rhs
    check_same_dtype(op, a, b, names=("matrix", "rhs"))
    sa, sb = a._value.shape, b._value.shape
    if len(sb) < 2:
        raise InvalidArgumentError(f"{op}: rhs must have rank >= 2 (a batch of columns), "
                                   f"received shape {rules.shape_text(sb)}; use "
                                   f"tf.expand_dims(rhs, -1) for a vector.", op)
    if rules.dims_differ(sa[-2], sb[-2]):
        raise InvalidArgumentError(
            f"{op}: matrix of shape {rules.shape_text(sa)} and rhs of shape "
            f"{rules.shape_text(sb)} are incompatible: rhs needs {sa[-2]} rows.", op)
    if broadcast:
        try:
            rules.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise InvalidArgumentError(f"{op}: batch shapes {rules.shape_text(sa[:-2])} and "
                                       f"{rules.shape_text(sb[:-2])} do not broadcast.",
                                       op) from None
    elif len(sa) != len(sb) or rules.shapes_differ(sa[:-2], sb[:-2]):
        raise InvalidArgumentError(
            f"{op}: matrix and rhs must have the same rank and batch dimensions (TensorFlow "
            f"does not broadcast them here), received {rules.shape_text(sa)} and "
            f"{rules.shape_text(sb)}.", op)
    return a, b


def solve(matrix, rhs, adjoint=False, name=None) -> Tensor:
    """``X`` with ``matrix @ X = rhs`` (``matrix^T @ X`` if ``adjoint``), batched."""
    a, b = _rhs(matrix, rhs, "solve", broadcast=False)
    return _matrix_solve(a, b, adjoint=bool(adjoint))


def _triangular_solve_shape(a, b, lower, adjoint):
    _square_shape(a)
    batch = rules.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return AbstractArray((*batch, *b.shape[-2:]), b.dtype)


# Substitution row by row, reading only the triangle named; a zero on the diagonal gives
# inf/NaN, as TensorFlow's kernel does (no error).
@primitive("triangular_solve", save_inputs=True, save_output=True,
           shape=_triangular_solve_shape, lowering=_FRESH)
def _triangular_solve(xp, a, b, lower, adjoint):
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, (*batch, *a.shape[-2:]))
    b = xp.broadcast_to(b, (*batch, *b.shape[-2:]))
    if adjoint:  # solving with the transpose turns a lower triangle into an upper one
        a, lower = xp.swapaxes(a, -1, -2), not lower
    n = a.shape[-1]
    x = xp.zeros(b.shape, np.result_type(a, b))
    order = range(n) if lower else range(n - 1, -1, -1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in order:
            known = slice(0, i) if lower else slice(i + 1, n)
            partial = xp.einsum("...j,...jk->...k", a[..., i, known], x[..., known, :])
            x[..., i, :] = (b[..., i, :] - partial) / a[..., i, i, None]
    return x


@_triangular_solve.defvjp
def _triangular_solve_vjp(ctx, g):
    a, _ = ctx.inputs
    x, lower, adjoint = ctx.output, ctx.attrs["lower"], ctx.attrs["adjoint"]
    grad_b = _triangular_solve(a, g, lower=lower, adjoint=not adjoint)
    if not ctx.needs(0):
        return None, grad_b
    if adjoint:
        grad_a = -la.matmul(x, grad_b, transpose_b=True)
    else:
        grad_a = -la.matmul(grad_b, x, transpose_b=True)
    return (_lower(grad_a) if lower else _upper(grad_a)), grad_b


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None) -> Tensor:
    """``X`` with ``T @ X = rhs`` for the lower (or upper) triangle ``T`` of ``matrix``."""
    a, b = _rhs(matrix, rhs, "triangular_solve", broadcast=True)
    return _triangular_solve(a, b, lower=bool(lower), adjoint=bool(adjoint))


def cholesky_solve(chol, rhs, name=None) -> Tensor:
    """``X`` with ``A @ X = rhs`` given the Cholesky factor ``chol`` of ``A``."""
    y = triangular_solve(chol, rhs, lower=True, adjoint=False)
    return triangular_solve(chol, y, lower=True, adjoint=True)


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None) -> Tensor:
    """The least-squares solution of ``matrix @ X = rhs``, as ``tf.linalg.lstsq`` with
    ``fast=True``: the (regularized) normal equations, solved by Cholesky.

    ``fast=False`` gives the minimum-norm solution ``pinv(matrix) @ rhs`` (rank-deficient
    matrices too) and, as TF's complete orthogonal decomposition does, ignores
    ``l2_regularizer``. (TensorFlow has no gradient for it; this one has pinv's.)
    """
    a, b = _rhs(matrix, rhs, "lstsq", broadcast=False, square=False)
    if not fast:
        return la.matmul(pinv(a), b)
    rows, cols = a._value.shape[-2:]
    regularizer = as_tensor(l2_regularizer, dtype=a.dtype)
    try:
        wide = rows < cols
    except InconclusiveDimension:
        raise ValueError("lstsq: whether the matrix is tall or wide depends on sizes only "
                         "known when the function runs; give it an input_signature with "
                         "those sizes known.") from None
    if wide:  # the minimum-norm solution: A^T (A A^T + l2 I)^-1 b
        gram = la.matmul(a, a, transpose_b=True)
        chol = _cholesky(gram + regularizer * _eye_as(gram))
        return la.matmul(a, cholesky_solve(chol, b), transpose_a=True)
    gram = la.matmul(a, a, transpose_a=True)
    chol = _cholesky(gram + regularizer * _eye_as(gram))
    return cholesky_solve(chol, la.matmul(a, b, transpose_a=True))


def _eye_as(x: Tensor) -> Tensor:
    rows, cols = x._value.shape[-2:]
    if is_known(rows) and is_known(cols):
        return Tensor(np.eye(rows, cols, dtype=x._value.dtype))
    return la._eye_like(x)


# --- eigh, svd, qr: one primitive each, its results packed along axis -2 ----------------------


def _known_sizes(x, op: str) -> tuple[int, int]:
    rows, cols = x.shape[-2:]
    if not (is_known(rows) and is_known(cols)):
        raise ValueError(f"{op}: the matrix sizes must be known while tracing (they set the "
                         f"shapes of the results); received {rules.shape_text(x.shape)}")
    return rows, cols


def _eigh_shape(a):
    _square_shape(a)
    n = a.shape[-1]
    return AbstractArray((*a.shape[:-2], n + 1, n), a.dtype)


# Row 0: the eigenvalues, ascending; rows 1..n: the eigenvectors, as columns. Reads the
# lower triangle, as TensorFlow's kernel does.
@primitive("eigh", save_output=True, shape=_eigh_shape, lowering=_FRESH)
def _eigh(xp, a):
    values, vectors = xp.linalg.eigh(a)
    return xp.concatenate([values[..., None, :], vectors], axis=-2)


@_eigh.defvjp
def _eigh_vjp(ctx, g):
    # TF's rule: V (diag(g_e) + F * (V^T g_V)) V^T, F_ij = 1 / (e_j - e_i) off the diagonal;
    # the input's lower triangle receives it (with its diagonal once).
    values, vectors = ctx.output[..., 0, :], ctx.output[..., 1:, :]
    grad_values, grad_vectors = g[..., 0, :], g[..., 1:, :]
    eye = _eye_as(vectors)
    gaps = so.expand_dims(values, -2) - so.expand_dims(values, -1)
    inverse_gaps = (ew.ones_like_value(eye) - eye) / (gaps + eye)
    inner = la._matrix_diag(grad_values, k=0, rows=vectors._value.shape[-1],
                            cols=vectors._value.shape[-1])
    inner = inner + inverse_gaps * la.matmul(vectors, grad_vectors, transpose_a=True)
    grad = la.matmul(vectors, la.matmul(inner, vectors, transpose_b=True))
    grad = _lower(grad + _transposed(grad))
    return (grad - 0.5 * grad * eye,)


def eigh(tensor, name=None) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors (columns) of self-adjoint matrices, read from
    their lower triangles. Each eigenvector's sign is LAPACK's choice (TF's may differ)."""
    x = _floating_matrix(tensor, "eigh")
    packed = _eigh(x)
    return packed[..., 0, :], packed[..., 1:, :]


def eigvalsh(tensor, name=None) -> Tensor:
    """The eigenvalues of self-adjoint matrices, ascending."""
    return eigh(tensor)[0]


def _svd_widths(rows: int, cols: int, full: bool) -> tuple[int, int, int]:
    """Columns of u, of v, and of the packed result."""
    k = min(rows, cols)
    u_cols, v_cols = (rows, cols) if full else (k, k)
    return u_cols, v_cols, max(u_cols, v_cols, k)


def _svd_shape(a, full_matrices):
    rows, cols = _known_sizes(a, "svd")
    width = _svd_widths(rows, cols, full_matrices)[2]
    return AbstractArray((*a.shape[:-2], 1 + rows + cols, width), a.dtype)


# Row 0: the singular values, descending; then the rows of u, then those of v (padded
# with zeros to one width).
@primitive("svd", save_output=True, shape=_svd_shape, lowering=_FRESH)
def _svd(xp, a, full_matrices):
    rows, cols = a.shape[-2:]
    u_cols, v_cols, width = _svd_widths(rows, cols, full_matrices)
    out = xp.zeros((*a.shape[:-2], 1 + rows + cols, width), a.dtype)
    if a.size:
        u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
        out[..., 0, :s.shape[-1]] = s
        out[..., 1:1 + rows, :u_cols] = u
        out[..., 1 + rows:, :v_cols] = xp.swapaxes(vh, -1, -2)
    elif full_matrices:
        out[..., 1:1 + rows, :rows] = xp.eye(rows, dtype=a.dtype)
        out[..., 1 + rows:, :cols] = xp.eye(cols, dtype=a.dtype)
    return out


def _unpack_svd(packed: Tensor, rows: int, cols: int, full: bool):
    u_cols, v_cols, _ = _svd_widths(rows, cols, full)
    k = min(rows, cols)
    return (packed[..., 0, :k], packed[..., 1:1 + rows, :u_cols],
            packed[..., 1 + rows:, :v_cols])


def _safe_reciprocal(x: Tensor, epsilon: float = 1e-20) -> Tensor:
    return x / (x * x + epsilon)


@_svd.defvjp
def _svd_vjp(ctx, g):
    # TF's rule (linalg_grad.py _SvdGrad), worked on the wide orientation (m <= n).
    rows, cols = ctx.input_shapes[0][-2:]
    full = ctx.attrs["full_matrices"]
    if full and abs(rows - cols) > 1:
        raise NotImplementedError(
            "svd: the gradient with full_matrices=True is not implemented (nor in TensorFlow) "
            f"when the matrix sizes differ by more than 1, received {rows}x{cols}; use "
            "full_matrices=False.")
    s, u, v = _unpack_svd(ctx.output, rows, cols, full)
    grad_s, grad_u, grad_v = _unpack_svd(g, rows, cols, full)
    transposed = rows > cols
    if transposed:  # work with the wide matrix a^T = v s u^T
        rows, cols, u, v, grad_u, grad_v = cols, rows, v, u, grad_v, grad_u
    k = rows
    if full and rows != cols:  # v's first m columns pair with s; the rest span the kernel
        v, v_rest = v[..., :, :k], v[..., :, k:]
        grad_v, grad_v_rest = grad_v[..., :, :k], grad_v[..., :, k:]
    eye = Tensor(np.eye(k, dtype=s._value.dtype))
    s_matrix = la._matrix_diag(s, k=0, rows=k, cols=k)
    squares = s * s
    f = _safe_reciprocal(so.expand_dims(squares, -2) - so.expand_dims(squares, -1))
    f = f * (ew.ones_like_value(eye) - eye)
    f_u = f * la.matmul(u, grad_u, transpose_a=True)
    f_v = f * la.matmul(v, grad_v, transpose_a=True)
    inner = (la._matrix_diag(grad_s, k=0, rows=k, cols=k)
             + la.matmul(f_u + _transposed(f_u), s_matrix)
             + la.matmul(s_matrix, f_v + _transposed(f_v)))
    grad = la.matmul(u, la.matmul(inner, v, transpose_b=True))
    if rows != cols:
        grad_v_t = _transposed(grad_v)
        rest = grad_v_t - la.matmul(la.matmul(grad_v_t, v), v, transpose_b=True)
        if full:
            rest = rest - la.matmul(la.matmul(v, grad_v_rest, transpose_a=True), v_rest,
                                    transpose_b=True)
        s_inverse = la._matrix_diag(_safe_reciprocal(s), k=0, rows=k, cols=k)
        grad = grad + la.matmul(la.matmul(u, s_inverse), rest)
    return (_transposed(grad) if transposed else grad,)


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """Singular values (descending) and, with ``compute_uv``, ``u`` and ``v`` such that
    ``tensor = u @ diag(s) @ v^T``, as ``tf.linalg.svd`` (which returns ``s, u, v``).

    Singular vectors' signs are LAPACK's choice (TF's may differ); as in TF, the gradient
    with full_matrices=True needs sizes that differ by at most 1.
    """
    x = _floating_matrix(tensor, "svd", square=False)
    rows, cols = _known_sizes(x._value, "svd")
    s, u, v = _unpack_svd(_svd(x, full_matrices=bool(full_matrices)), rows, cols,
                          bool(full_matrices))
    return (s, u, v) if compute_uv else s


def _qr_widths(rows: int, cols: int, full: bool) -> tuple[int, int]:
    """Columns of q and rows of r."""
    k = rows if full else min(rows, cols)
    return k, k


def _qr_shape(a, full_matrices):
    rows, cols = _known_sizes(a, "qr")
    q_cols, r_rows = _qr_widths(rows, cols, full_matrices)
    return AbstractArray((*a.shape[:-2], rows + r_rows, max(q_cols, cols)), a.dtype)


# Rows 0..m-1: q; then the rows of r (padded with zeros to one width).
@primitive("qr", save_inputs=True, save_output=True, shape=_qr_shape, lowering=_FRESH)
def _qr(xp, a, full_matrices):
    rows, cols = a.shape[-2:]
    q_cols, r_rows = _qr_widths(rows, cols, full_matrices)
    out = xp.zeros((*a.shape[:-2], rows + r_rows, max(q_cols, cols)), a.dtype)
    if a.size:
        mode = "complete" if full_matrices else "reduced"
        q, r = _via_float32(xp, lambda m: xp.linalg.qr(m, mode=mode), a)
        out[..., :rows, :q_cols] = q
        out[..., rows:, :cols] = r
    elif full_matrices:
        out[..., :rows, :rows] = xp.eye(rows, dtype=a.dtype)
    return out


def _unpack_qr(packed: Tensor, rows: int, cols: int, full: bool):
    q_cols, _ = _qr_widths(rows, cols, full)
    return packed[..., :rows, :q_cols], packed[..., rows:, :cols]


def _solve_right_upper(x: Tensor, r: Tensor) -> Tensor:
    """``(r^-1 x^T)^T`` for upper-triangular ``r`` (TF's ``_TriangularSolve``)."""
    return _transposed(_triangular_solve(r, _transposed(x), lower=False, adjoint=False))


def _qr_grad_tall(q, r, grad_q, grad_r):
    qdq = la.matmul(q, grad_q, transpose_a=True)
    rdr = la.matmul(r, grad_r, transpose_b=True)
    tril = _lower(qdq - _transposed(qdq) + rdr - _transposed(rdr))
    from_r = la.matmul(q, grad_r + _solve_right_upper(tril, r))
    return from_r + _solve_right_upper(grad_q - la.matmul(q, qdq), r)


@_qr.defvjp
def _qr_vjp(ctx, g):
    # TF's rule (linalg_grad.py _QrGrad), for tall or square matrices, and for wide ones
    # by splitting a = [x, y] at column m.
    rows, cols = ctx.input_shapes[0][-2:]
    full = ctx.attrs["full_matrices"]
    if full and rows > cols:
        raise NotImplementedError("qr: the gradient is not implemented for more rows than "
                                  "columns with full_matrices=True (nor in TensorFlow).")
    q, r = _unpack_qr(ctx.output, rows, cols, full)
    grad_q, grad_r = _unpack_qr(g, rows, cols, full)
    if rows >= cols:
        return (_qr_grad_tall(q, r, grad_q, grad_r),)
    y = ctx.inputs[0][..., :, rows:]
    grad_left, grad_right = grad_r[..., :, :rows], grad_r[..., :, rows:]
    grad_x = _qr_grad_tall(q, r[..., :, :rows],
                           grad_q + la.matmul(y, grad_right, transpose_b=True), grad_left)
    return (so.concat([grad_x, la.matmul(q, grad_right)], axis=-1),)


def qr(input, full_matrices=False, name=None):  # noqa: A002
    """``q`` (orthonormal columns) and upper-triangular ``r`` with ``input = q @ r``."""
    x = _floating_matrix(input, "qr", square=False, half=True)
    rows, cols = _known_sizes(x._value, "qr")
    return _unpack_qr(_qr(x, full_matrices=bool(full_matrices)), rows, cols,
                      bool(full_matrices))


def pinv(a, rcond=None, validate_args=False, name=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse from the SVD, dropping singular values at or below
    ``rcond`` times the largest (default ``10 * max(m, n) * eps``), as ``tf.linalg.pinv``."""
    x = as_tensor(a)
    if x._value.dtype.kind != "f":  # TypeError, as TF's Python-level check
        raise TypeError(f"pinv: expects a floating-point tensor, received {x.dtype.name}. "
                        f"Use tf.cast(a, tf.float32) first.")
    x = _floating_matrix(x, "pinv", square=False)
    rows, cols = _known_sizes(x._value, "pinv")
    if rcond is None:
        rcond = 10.0 * max(rows, cols) * float(np.finfo(x._value.dtype).eps)
    s, u, v = svd(x)
    cutoff = as_tensor(rcond, dtype=x.dtype) * red.reduce_max(s, axis=-1, keepdims=True)
    kept = ew.where(ew.greater(s, cutoff), s, ew.zeros_like_value(s) + np.inf)
    return la.matmul(v / so.expand_dims(kept, -2), u, transpose_b=True)
