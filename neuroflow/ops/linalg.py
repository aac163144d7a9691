"""Linear algebra: matmul (batched), einsum (with '...' and diagonals), tensordot, norm,
trace, and the structural ops of ``tf.linalg``: diagonals and bands of diagonals, band
parts, matvec, adjoint, cross, tensor diagonals, global_norm.

Decompositions (inverse, determinants, solves, Cholesky, eigh, SVD, QR) live in
``decompositions.py``, which builds on this module.
"""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import AbstractArray, Dim, InconclusiveDimension, is_known, num_elements
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import elementwise as ew
from neuroflow.ops import reductions as red
from neuroflow.ops import shape_ops as so
from neuroflow.ops import shape_rules as rules
from neuroflow.ops.convert import as_tensor, binary_operands, check_same_dtype
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.tensor import Tensor, is_tensor


def _matmul_shape(a, b):
    """np.matmul's shapes: batch axes broadcast; a vector operand loses its added axis."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: operands must have rank >= 1, received a scalar")
    sa = (1, *a.shape) if a.ndim == 1 else a.shape
    sb = (*b.shape, 1) if b.ndim == 1 else b.shape
    if rules.dims_differ(sa[-1], sb[-2]):
        raise ValueError(f"matmul: the inner dimensions do not match ({sa[-1]} != {sb[-2]}); "
                         f"check the order of the operands, or transpose one")
    batch = rules.broadcast_shapes(sa[:-2], sb[:-2])
    rows = (sa[-2],) if a.ndim > 1 else ()
    cols = (sb[-1],) if b.ndim > 1 else ()
    return AbstractArray((*batch, *rows, *cols), rules.ufunc_dtype("matmul", (a.dtype, b.dtype)))


@primitive("matmul", save_inputs=True, shape=_matmul_shape,
           lowering=Lowering("np.matmul({0}, {1}{out})", out=True, result="fresh"))
def _matmul(xp, a, b):
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN products, as in TF
        return xp.matmul(a, b)


@_matmul.defvjp
def _matmul_vjp(ctx, g):
    a, b = ctx.inputs
    # Adjoints: conjugate transposes for complex matrices, as TF's gradient (plain
    # transposes for real ones).
    return (matmul(g, b, adjoint_b=True) if ctx.needs(0) else None,
            matmul(a, g, adjoint_a=True) if ctx.needs(1) else None)


def _einsum_shape(*operands, equation):
    """Sizes per index letter (broadcast across operands, as np.einsum does) -> output."""
    if "->" not in equation or "." in equation:
        raise ValueError(f"einsum: the primitive takes an explicit equation without '...', "
                         f"received {equation!r}")
    inputs_spec, output_spec = equation.split("->")
    specs = inputs_spec.split(",")
    if len(specs) != len(operands):
        raise ValueError(f"einsum: {equation!r} names {len(specs)} operands, received "
                         f"{len(operands)}")
    sizes: dict = {}
    for spec, x in zip(specs, operands):
        if len(spec) != x.ndim:
            raise ValueError(f"einsum: {spec!r} has {len(spec)} indices for an operand of "
                             f"rank {x.ndim}")
        own: dict = {}
        for letter, size in zip(spec, x.shape):
            if letter in own and rules.dims_differ(own[letter], size):
                raise ValueError(f"einsum: index {letter!r} repeats with sizes "
                                 f"{own[letter]} and {size}; a repeated index takes a "
                                 f"diagonal, which needs equal sizes")
            own.setdefault(letter, size)
        for letter, size in own.items():
            sizes[letter] = Dim.broadcast(sizes[letter], size) if letter in sizes else size
    unknown = set(output_spec) - set(sizes)
    if unknown:
        raise ValueError(f"einsum: output indices {sorted(unknown)} appear in no operand; "
                         f"each output index must name an axis of some input")
    dtype = np.einsum(equation, *(np.empty((1,) * x.ndim, x.dtype) for x in operands)).dtype
    return AbstractArray(tuple(sizes[letter] for letter in output_spec), dtype)


@primitive("einsum", save_inputs=True, shape=_einsum_shape)
def _einsum(xp, *operands, equation):
    return xp.einsum(equation, *operands, optimize=len(operands) > 2)


@_einsum.defvjp
def _einsum_vjp(ctx, g):
    inputs_spec, output_spec = ctx.attrs["equation"].split("->")
    specs = inputs_spec.split(",")
    grads = []
    for i, spec in enumerate(specs):
        if not ctx.needs(i):
            grads.append(None)
            continue
        others = [s for j, s in enumerate(specs) if j != i]
        available = set(output_spec).union(*others)
        # A repeated index reads a diagonal: differentiate with respect to the diagonal
        # (each index once), then put the result back on the diagonal.
        unique = "".join(dict.fromkeys(spec))
        shape = ctx.input_shapes[i]
        unique_shape = tuple(shape[spec.index(c)] for c in unique)
        # Indices that appear only in this operand were summed away: the gradient
        # is constant along them, so compute without them and broadcast back.
        kept = "".join(c for c in unique if c in available)
        equation = ",".join([output_spec, *others]) + "->" + kept
        operands = [g] + [ctx.inputs[j] for j in range(len(specs)) if j != i]
        grad = _einsum(*operands, equation=equation)
        if kept != unique:
            grad = red._reshaped(grad, tuple(size if c in available else 1
                                             for c, size in zip(unique, unique_shape)))
            grad = red._broadcast(grad, unique_shape)
        if unique != spec:
            grad = _onto_diagonals(grad, unique, spec, ctx.inputs[i], ctx.attrs["equation"])
        grads.append(grad)
    return tuple(grads)


def _onto_diagonals(grad: Tensor, unique: str, spec: str, x: Tensor, equation: str) -> Tensor:
    """``grad`` (indexed by ``unique``) spread onto the diagonals ``spec`` repeats indices of.

    Each repeat of an index gets a fresh letter and an identity matrix linking it to the
    first occurrence; the identity is made from ``x``'s sizes (they may be unknown).
    """
    fresh = iter(c for c in _LETTERS if c not in equation)
    renamed, eyes, factors = [], [], []
    for position, letter in enumerate(spec):
        first = spec.index(letter)
        if first == position:
            renamed.append(letter)
            continue
        new = next(fresh)
        renamed.append(new)
        eyes.append(letter + new)
        rest = [k for k in range(len(spec)) if k not in (first, position)]
        factors.append(_eye_like(so._transpose(x, perm=(*rest, first, position))))
    return _einsum(grad, *factors, equation=",".join([unique, *eyes]) + "->" + "".join(renamed))


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _operands(a, b, op: str) -> tuple[Tensor, Tensor]:
    """Two tensors must share a dtype; a NumPy or Python operand takes the tensor's (as TF)."""
    if is_tensor(a) and is_tensor(b):
        a, b = as_tensor(a), as_tensor(b)
        check_same_dtype(op, a, b, names=("a", "b"))
        return a, b
    return binary_operands(a, b, op)


def _swap_last(x: Tensor) -> Tensor:
    perm = list(range(x._value.ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return so._transpose(x, perm=tuple(perm))


# The dtypes TensorFlow's CPU kernels multiply matrices in.
_PRODUCT_DTYPES = frozenset(np.dtype(d) for d in (
    "float16", "float32", "float64", "int32", "int64", "complex64", "complex128"))


def _refuse_product_dtype(x: Tensor, op: str) -> None:
    from neuroflow.errors import NotFoundError

    # TF's classes: unsigned integers (and, for einsum, every narrow type) have no kernel
    # registered (NotFoundError); bool, int8 and int16 fail matmul's dtype check.
    if x._value.dtype.kind == "u" or op == "einsum":
        raise NotFoundError(f"{op}: TensorFlow has no CPU kernel for {x.dtype.name} tensors; "
                            f"use tf.cast(x, tf.int32) (or a float dtype) first.", op)
    raise InvalidArgumentError(f"{op}: {x.dtype.name} tensors are not supported (TensorFlow "
                               f"multiplies float, int32, int64 and complex matrices); use "
                               f"tf.cast(x, tf.int32) (or a float dtype) first.", op)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None) -> Tensor:
    """Matrix product of the last two axes, batched and broadcast over the leading ones.

    >>> import neuroflow as tf
    >>> tf.matmul(tf.ones([2, 3]), tf.ones([3, 4])).shape
    TensorShape([2, 4])
    """
    if type(a) is Tensor and type(b) is Tensor and a._value.dtype == b._value.dtype:
        pass  # the common case, kept fast
    else:
        a, b = _operands(a, b, "matmul")
    if a._value.dtype not in _PRODUCT_DTYPES:
        _refuse_product_dtype(a, "matmul")
    for label, t in (("a", a), ("b", b)):
        if t._value.ndim < 2:
            raise InvalidArgumentError(
                f"matmul: {label} must have rank >= 2, received shape {tuple(t._value.shape)}. "
                f"Use tf.expand_dims to add a dimension, or tf.tensordot for vectors.", "matmul")
    if transpose_a or adjoint_a:
        a = _conj_transpose(a) if adjoint_a and a._value.dtype.kind == "c" else _swap_last(a)
    if transpose_b or adjoint_b:
        b = _conj_transpose(b) if adjoint_b and b._value.dtype.kind == "c" else _swap_last(b)
    sa, sb = a._value.shape, b._value.shape
    # Unknown sizes (while tracing) are checked where they certainly differ; the others
    # when the compiled graph runs.
    if rules.dims_differ(sa[-1], sb[-2]):
        raise InvalidArgumentError(
            f"matmul: the inner dimensions do not match: a has shape {rules.shape_text(sa)} "
            f"and b has shape {rules.shape_text(sb)} ({sa[-1]} != {sb[-2]}). Check the order "
            f"of the operands or use transpose_a/transpose_b.", "matmul")
    if len(sa) > 2 or len(sb) > 2:
        try:
            rules.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise InvalidArgumentError(
                f"matmul: batch dimensions {rules.shape_text(sa[:-2])} and "
                f"{rules.shape_text(sb[:-2])} cannot be broadcast together.", "matmul") from None
    return _matmul(a, b)


def einsum(equation: str, *inputs, **kwargs) -> Tensor:
    """Einstein summation, as ``tf.einsum``: explicit (``->``) or implicit output, ``...``.

    >>> import neuroflow as tf
    >>> tf.einsum("...ij,jk->...ik", tf.ones([2, 3, 4]), tf.ones([4, 5])).shape
    TensorShape([2, 3, 5])
    """
    tensors = [as_tensor(t) for t in inputs]
    check_same_dtype("einsum", *tensors, names=tuple(f"inputs[{i}]" for i in range(len(tensors))))
    if tensors and tensors[0]._value.dtype not in _PRODUCT_DTYPES:
        _refuse_product_dtype(tensors[0], "einsum")
    equation = equation.replace(" ", "")
    inputs_spec, arrow, output_spec = equation.partition("->")
    specs = inputs_spec.split(",")
    if len(specs) != len(tensors):
        raise ValueError(f"einsum: equation {equation!r} names {len(specs)} operands but "
                         f"{len(tensors)} were given.")
    _check_named_sizes(specs, tensors)
    specs, ellipsis = _expand_ellipses(specs, tensors, equation)
    if not arrow:
        letters = "".join(specs)
        output_spec = "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                     and c not in ellipsis))
    if "..." in output_spec:
        output_spec = output_spec.replace("...", ellipsis)
    elif ellipsis:
        raise InvalidArgumentError(
            f"einsum: the operands' '...' covers {len(ellipsis)} broadcasting dimension(s) but "
            f"the output of {equation!r} has no '...' to keep them (TensorFlow requires "
            f"one); write the output explicitly, e.g. '->...{output_spec}'.", "einsum")
    missing = sorted(set(output_spec) - set("".join(specs)))
    if missing:
        raise ValueError(f"einsum: output subscripts {missing} of {equation!r} are not present "
                         f"in the input subscripts; each output index must name an input axis.")
    return _einsum(*tensors, equation=",".join(specs) + "->" + output_spec)


def _check_named_sizes(specs: list[str], tensors: list[Tensor]) -> None:
    """Ranks match the subscripts, and each named index has one size (TF broadcasts only
    the dimensions '...' covers)."""
    sizes: dict = {}
    for i, (spec, t) in enumerate(zip(specs, tensors)):
        shape = t._value.shape
        named = len(spec.replace("...", ""))
        if ("..." in spec and named > len(shape)) or ("..." not in spec and named != len(shape)):
            raise InvalidArgumentError(
                f"einsum: operand {i} has rank {len(shape)} (shape {rules.shape_text(shape)}) "
                f"but the equation gives it {named} indices ({spec!r}).", "einsum")
        head, _, tail = spec.partition("...")
        axes = list(zip(head, shape)) + list(zip(tail, shape[len(shape) - len(tail):]))
        for letter, size in axes:
            if letter in sizes and rules.dims_differ(sizes[letter], size):
                raise InvalidArgumentError(
                    f"einsum: index {letter!r} has size {sizes[letter]} in one place and "
                    f"{size} in another (operand {i}, shape {rules.shape_text(shape)}); an "
                    f"index must have one size.", "einsum")
            sizes.setdefault(letter, size)


def _expand_ellipses(specs: list[str], tensors: list[Tensor], equation: str):
    """Replace each '...' by letters unused in ``equation``, aligned at the right as
    broadcasting aligns them; returns the new specs and the letters of the widest."""
    covered = [len(t._value.shape) - len(s.replace("...", "")) if "..." in s else 0
               for s, t in zip(specs, tensors)]
    fresh = [c for c in _LETTERS if c not in equation][:max(covered, default=0)]
    ellipsis = "".join(fresh)
    expanded = [s.replace("...", ellipsis[len(ellipsis) - n:] if n else "")
                for s, n in zip(specs, covered)]
    return expanded, ellipsis


def tensordot(a, b, axes, name=None) -> Tensor:
    """Contract ``axes`` of ``a`` with ``axes`` of ``b`` (transpose + reshape + matmul)."""
    a, b = _operands(a, b, "tensordot")
    if is_tensor(axes):
        axes = axes.numpy()  # a symbolic tensor raises here: axes fix the result's shape
        if np.ndim(axes) == 0:
            raise InvalidArgumentError(
                "tensordot: axes given as a scalar tensor are refused (TensorFlow slices them "
                "as a pair); pass a Python int, or a tensor [axes_a, axes_b].", "tensordot")
        axes = axes.tolist()
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        axes_a = list(range(a._value.ndim - n, a._value.ndim))
        axes_b = list(range(n))
    else:
        axes_a, axes_b = ([int(v)] if np.ndim(v) == 0 else [int(i) for i in v] for v in axes)
    if len(axes_a) != len(axes_b):
        raise InvalidArgumentError(
            f"tensordot: a has {len(axes_a)} contracted axes but b has {len(axes_b)}; they "
            f"must pair up.", "tensordot")
    axes_a = [x % a._value.ndim for x in axes_a]
    axes_b = [x % b._value.ndim for x in axes_b]
    sa, sb = a._value.shape, b._value.shape
    for i, j in zip(axes_a, axes_b):
        if rules.dims_differ(sa[i], sb[j]):
            raise InvalidArgumentError(
                f"tensordot: axis {i} of a (size {sa[i]}) does not match axis {j} of b "
                f"(size {sb[j]}); shapes {rules.shape_text(sa)} and {rules.shape_text(sb)}.",
                "tensordot")
    free_a = [i for i in range(len(sa)) if i not in axes_a]
    free_b = [i for i in range(len(sb)) if i not in axes_b]
    # Explicit sizes rather than -1: they may be unknown dims while tracing.
    a2 = red._reshaped(so._transpose(a, perm=tuple(free_a + axes_a)),
                       (num_elements(sa[i] for i in free_a), num_elements(sa[i] for i in axes_a)))
    b2 = red._reshaped(so._transpose(b, perm=tuple(axes_b + free_b)),
                       (num_elements(sb[i] for i in axes_b), num_elements(sb[i] for i in free_b)))
    free = tuple(sa[i] for i in free_a) + tuple(sb[i] for i in free_b)
    return red._reshaped(matmul(a2, b2), free)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None) -> Tensor:  # noqa: A002
    """Vector norms, and matrix norms over a pair of axes, as ``tf.norm``.

    With ``axis=None`` the tensor is treated as one vector. With two axes,
    ``ord`` 1 is the largest column sum of ``|x|``, ``np.inf`` the largest row
    sum, and ``'euclidean'``/``'fro'`` the Frobenius norm.
    """
    x = as_tensor(tensor)
    keep = bool(keepdims)
    if isinstance(axis, (list, tuple)) and len(axis) == 2:
        if ord not in ("euclidean", "fro"):
            return _matrix_norm(x, ord, axis, keep)
    elif ord == "fro":
        raise ValueError("norm: ord='fro' is a matrix norm; give two axes, e.g. axis=[-2, -1].")
    if ord in ("euclidean", "fro", 2, 2.0):
        return ew.sqrt(red.reduce_sum(ew.square(x), axis, keep))
    if ord in (1, 1.0):
        return red.reduce_sum(ew.abs(x), axis, keep)
    if ord in (np.inf, "inf"):
        return red.reduce_max(ew.abs(x), axis, keep)
    if isinstance(ord, (int, float)) and ord > 0:
        p = float(ord)
        return ew.pow(red.reduce_sum(ew.pow(ew.abs(x), p), axis, keep), 1.0 / p)
    raise ValueError(f"norm: unsupported ord {ord!r}; expected 'euclidean', 'fro', 1, 2, "
                     f"np.inf or a positive number.")


def _matrix_norm(x: Tensor, ord, axis, keep: bool) -> Tensor:  # noqa: A002
    rows, cols = (int(a) % max(x._value.ndim, 1) for a in axis)
    if rows == cols:
        raise ValueError(f"norm: the two axes must differ, received {list(axis)}.")
    if ord in (1, 1.0):
        summed, peak = rows, cols  # largest column sum
    elif ord in (np.inf, "inf"):
        summed, peak = cols, rows  # largest row sum
    else:
        raise ValueError(f"norm: unsupported matrix ord {ord!r}; expected 'euclidean', 'fro', "
                         f"1 or np.inf (the spectral norm, ord=2, is not supported).")
    result = red.reduce_max(red.reduce_sum(ew.abs(x), summed, True), peak, True)
    return result if keep else so.squeeze(result, [rows, cols])


def _eye_like_shape(x):
    if x.ndim < 2:
        raise ValueError(f"eye_like: needs a tensor of rank >= 2, received rank {x.ndim}")
    return AbstractArray(x.shape[-2:], x.dtype)


# The identity matrix the size of ``x``'s last two axes: what trace multiplies by when
# those sizes are unknown while tracing. It reads only the shape, so graph passes fold it
# into a constant once the graph is specialized to concrete sizes.
@primitive("eye_like", differentiable=False, shape_only=True, shape=_eye_like_shape)
def _eye_like(xp, x):
    return xp.eye(x.shape[-2], x.shape[-1], dtype=x.dtype)


def trace(x, name=None) -> Tensor:
    """The sum of the main diagonal of the last two axes (of any shape, as tf.linalg.trace).

    It sums the diagonal itself, so infinities elsewhere do not turn it into NaN (TF).
    """
    x = as_tensor(x)
    if x._value.ndim < 2:
        raise InvalidArgumentError(f"trace: needs a tensor of rank >= 2, received shape "
                                   f"{rules.shape_text(x._value.shape)}.", "trace")
    return red.reduce_sum(_matrix_diag_part(x, k=0), axis=-1)


# --- diagonals and bands ---------------------------------------------------------------------


def _matrix_diag_shape(d, k, rows, cols):
    if d.ndim < 1:
        raise ValueError(f"matrix_diag: the diagonal must have rank >= 1, received rank {d.ndim}")
    return AbstractArray((*d.shape[:-1], rows, cols), d.dtype)


# The (rows, cols) matrices whose diagonal ``k`` is ``d``'s last axis (zeros elsewhere).
@primitive("matrix_diag", shape=_matrix_diag_shape, lowering=Lowering(result="fresh"))
def _matrix_diag(xp, d, k, rows, cols):
    out = xp.zeros((*d.shape[:-1], rows, cols), d.dtype)
    index = xp.arange(d.shape[-1])
    out[..., index - min(k, 0), index + max(k, 0)] = d
    return out


@_matrix_diag.defvjp
def _matrix_diag_vjp(ctx, g):
    return (_matrix_diag_part(g, k=ctx.attrs["k"]),)


def _diag_length(rows, cols, k):
    """The length of diagonal ``k`` of (rows, cols) matrices; sizes may be unknown."""
    down, across = rows + min(k, 0), cols - max(k, 0)
    if is_known(down) and is_known(across):
        return max(min(down, across), 0)
    try:
        return down if down <= across else across
    except InconclusiveDimension:
        return Dim.fresh("n")  # which is smaller is only known when the op runs


def _matrix_diag_part_shape(x, k):
    if x.ndim < 2:
        raise ValueError(f"matrix_diag_part: needs rank >= 2, received rank {x.ndim}")
    return AbstractArray((*x.shape[:-2], _diag_length(*x.shape[-2:], k)), x.dtype)


# Diagonal ``k`` of the last two axes (a copy: NumPy's diagonal is a read-only view).
@primitive("matrix_diag_part", shape=_matrix_diag_part_shape,
           lowering=Lowering("np.diagonal({0}, {k}, -2, -1).copy()", result="fresh"))
def _matrix_diag_part(xp, x, k):
    return xp.diagonal(x, k, -2, -1).copy()


@_matrix_diag_part.defvjp
def _matrix_diag_part_vjp(ctx, g):
    rows, cols = ctx.input_shapes[0][-2:]
    return (_matrix_diag(g, k=ctx.attrs["k"], rows=rows, cols=cols),)


def _band_part_shape(x, lower, upper):
    if x.ndim < 2:
        raise ValueError(f"band_part: needs rank >= 2, received rank {x.ndim}")
    return AbstractArray(x.shape, x.dtype)


# Keeps the band of ``lower`` diagonals below and ``upper`` above the main one (a negative
# count keeps the whole triangle). The counts are tensors, so they may change per call.
@primitive("band_part", save_inputs=True, shape=_band_part_shape,
           lowering=Lowering(result="fresh"))
def _band_part(xp, x, lower, upper):
    rows, cols = x.shape[-2:]
    below = xp.arange(rows)[:, None] - xp.arange(cols)[None, :]  # how far below the diagonal
    keep = ((lower < 0) | (below <= lower)) & ((upper < 0) | (-below <= upper))
    return xp.where(keep, x, xp.zeros((), x.dtype))


@_band_part.defvjp
def _band_part_vjp(ctx, g):
    # The band is chosen by the (integer) counts, which have no gradient.
    lower, upper = ctx.inputs[1], ctx.inputs[2]
    return (_band_part(g, lower, upper), None, None)


def _matrix(x, op: str, square: bool = False) -> Tensor:
    """``x`` as a tensor of rank >= 2 (square in its last two axes if ``square``)."""
    x = as_tensor(x)
    shape = x._value.shape
    if len(shape) < 2:
        raise InvalidArgumentError(f"{op}: needs a tensor of rank >= 2 (a batch of matrices), "
                                   f"received shape {rules.shape_text(shape)}.", op)
    if square and rules.dims_differ(shape[-1], shape[-2]):
        raise InvalidArgumentError(f"{op}: input matrix must be square, received shape "
                                   f"{rules.shape_text(shape)}.", op)
    return x


def _diagonal_range(k, op: str) -> tuple[int, int]:
    """``k`` (a diagonal index, or a pair: a band from k[0] up to k[1]) as (low, high)."""
    if isinstance(k, Tensor):
        k = k.numpy()  # a symbolic k raises here: it fixes the result's shape
    values = np.asarray(k).reshape(-1).tolist()
    if len(values) not in (1, 2):
        raise InvalidArgumentError(f"{op}: k must have only one or two elements (a diagonal "
                                   f"or a band of them), received {k!r}.", op)
    low, high = int(values[0]), int(values[-1])
    if low > high:
        raise InvalidArgumentError(f"{op}: the lower diagonal index k[0]={low} must not be "
                                   f"larger than the upper one k[1]={high}.", op)
    return low, high


_ALIGNMENTS = ("RIGHT_LEFT", "LEFT_RIGHT", "LEFT_LEFT", "RIGHT_RIGHT")


def _check_align(align, op: str) -> None:
    if align not in _ALIGNMENTS:
        raise InvalidArgumentError(f"{op}: align must be one of {', '.join(_ALIGNMENTS)}, "
                                   f"received {align!r}.", op)


def _offsets(low: int, high: int, rows, cols, longest: int, align: str, op: str) -> list:
    """``(diagonal, its length, where it starts in a row of length longest)`` for each
    diagonal of a band, top first, as TF packs them: ``align`` says which side the
    superdiagonals (first word) and the subdiagonals (second) keep to."""
    if not all(is_known(v) for v in (rows, cols, longest)):
        raise ValueError(f"{op}: a band of diagonals needs the matrix sizes while tracing, "
                         f"received ({rows}, {cols}); give the function an input_signature "
                         f"with those sizes known, or use one diagonal k")
    above, below = align.split("_")
    out = []
    for d in range(high, low - 1, -1):
        length = _diag_length(rows, cols, d)
        side = above if d >= 0 else below
        out.append((d, length, longest - length if side == "RIGHT" else 0))
    return out


def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0,
         align="RIGHT_LEFT") -> Tensor:
    """Matrices with ``diagonal`` on diagonal ``k`` (or, for a pair k, the band of
    diagonals ``diagonal[..., i, :]`` from k[1] down), as ``tf.linalg.diag``.

    >>> import neuroflow as tf
    >>> tf.linalg.diag(tf.constant([1, 2])).numpy()
    array([[1, 0],
           [0, 2]], dtype=int32)
    """
    d = as_tensor(diagonal)
    low, high = _diagonal_range(k, "diag")
    _check_align(align, "diag")
    if d._value.ndim < (1 if low == high else 2):
        raise InvalidArgumentError(
            f"diag: the diagonal must have rank >= {1 if low == high else 2} (one row per "
            f"diagonal for a band), received shape {rules.shape_text(d._value.shape)}; use "
            f"tf.reshape to add an axis.", "diag")
    longest = d._value.shape[-1]
    # TF's sizes: the smallest that hold the diagonals, square when neither is given.
    least_rows, least_cols = longest - min(high, 0), longest + max(low, 0)
    rows, cols = int(num_rows), int(num_cols)
    if rows < 0 and cols < 0:
        # max(least_rows, least_cols), written so that an unknown length works too
        rows = cols = longest + max(-min(high, 0), max(low, 0))
    rows = least_rows if rows < 0 else rows
    cols = least_cols if cols < 0 else cols
    if is_known(longest) and (rows < least_rows or cols < least_cols
                              or (rows != least_rows and cols != least_cols)):
        raise InvalidArgumentError(
            f"diag: diagonals of length {longest} at k={k} do not fit a {rows}x{cols} "
            f"matrix: the number of rows or columns is not consistent with the diagonal.",
            "diag")
    if low == high:
        result = _matrix_diag(d, k=low, rows=rows, cols=cols)
        if padding_value != 0:
            on_diagonal = _matrix_diag(_trues_like(d), k=low, rows=rows, cols=cols)
            result = ew.where(on_diagonal, result, _padding(padding_value, d))
        return result
    if rules.dims_differ(d._value.shape[-2], high - low + 1):
        raise InvalidArgumentError(
            f"diag: the number of diagonals provided ({d._value.shape[-2]}, axis -2 of shape "
            f"{rules.shape_text(d._value.shape)}) does not match k={k} "
            f"({high - low + 1} diagonals).", "diag")
    result = _padding(padding_value, d)
    for i, (index, length, start) in enumerate(
            _offsets(low, high, rows, cols, longest, align, "diag")):
        part = d[..., i, start:start + length]
        on_diagonal = _matrix_diag(_trues_like(part), k=index, rows=rows, cols=cols)
        result = ew.where(on_diagonal, _matrix_diag(part, k=index, rows=rows, cols=cols),
                          result)
    return result


def _padding(value, like: Tensor) -> Tensor:
    """``value`` in ``like``'s dtype (TF converts a padding of 1 to True for bool)."""
    if is_tensor(value):
        return ew.cast(value, like.dtype)
    return Tensor(np.asarray(value).astype(like._value.dtype))


def _trues_like(x: Tensor) -> Tensor:
    from neuroflow.ops.creation import ones_like

    return ones_like(x, dtype="bool")


def diag_part(input, name="diag_part", k=0, padding_value=0,  # noqa: A002
              align="RIGHT_LEFT") -> Tensor:
    """Diagonal ``k`` of the last two axes, or for a pair k the band of diagonals from k[1]
    down to k[0], one per row, padded with ``padding_value``, as ``tf.linalg.diag_part``."""
    x = _matrix(input, "diag_part")
    low, high = _diagonal_range(k, "diag_part")
    _check_align(align, "diag_part")
    rows, cols = x._value.shape[-2:]
    for index in (low, high):
        if is_known(rows) and is_known(cols) and not -rows < index < cols and (rows or cols):
            raise InvalidArgumentError(
                f"diag_part: diagonal index k={index} is out of bounds for {rows}x{cols} "
                f"matrices; it must be between {-rows} and {cols}.", "diag_part")
    if low == high:
        return _matrix_diag_part(x, k=low)
    # TF's row length: the longest diagonal of the band (``_offsets`` refuses unknown sizes).
    longest = min(rows + min(high, 0), cols - max(low, 0)) if (
        is_known(rows) and is_known(cols)) else rows
    parts = []
    for index, length, start in _offsets(low, high, rows, cols, longest, align, "diag_part"):
        paddings = [[0, 0]] * (x._value.ndim - 2) + [[start, longest - length - start]]
        parts.append(so.pad(_matrix_diag_part(x, k=index), paddings,
                            constant_values=_padding(padding_value, x)))
    return so.stack(parts, axis=-2)


def set_diag(input, diagonal, name="set_diag", k=0, align="RIGHT_LEFT") -> Tensor:  # noqa: A002
    """``input`` with diagonal ``k`` (or the band k[0]..k[1]) of its last two axes replaced
    by ``diagonal`` (for a band: one row per diagonal, packed as :func:`diag_part` packs)."""
    x = _matrix(input, "set_diag")
    d = as_tensor(diagonal, dtype=x.dtype)
    check_same_dtype("set_diag", x, d, names=("input", "diagonal"))
    low, high = _diagonal_range(k, "set_diag")
    _check_align(align, "set_diag")
    rows, cols = x._value.shape[-2:]
    if low == high:
        want = (*x._value.shape[:-2], _diag_length(rows, cols, low))
    else:
        longest = d._value.shape[-1]
        want = (*x._value.shape[:-2], high - low + 1, longest)
    if rules.shapes_differ(d._value.shape, want):
        raise InvalidArgumentError(
            f"set_diag: diagonal {k} of input shape {rules.shape_text(x._value.shape)} has "
            f"shape {rules.shape_text(want)}, but the diagonal given has shape "
            f"{rules.shape_text(d._value.shape)}.", "set_diag")
    if low == high:
        on_diagonal = _matrix_diag(_trues_like(d), k=low, rows=rows, cols=cols)
        return ew.where(on_diagonal, _matrix_diag(d, k=low, rows=rows, cols=cols), x)
    for i, (index, length, start) in enumerate(
            _offsets(low, high, rows, cols, longest, align, "set_diag")):
        part = d[..., i, start:start + length]
        on_diagonal = _matrix_diag(_trues_like(part), k=index, rows=rows, cols=cols)
        x = ew.where(on_diagonal, _matrix_diag(part, k=index, rows=rows, cols=cols), x)
    return x


def band_part(input, num_lower, num_upper, name=None) -> Tensor:  # noqa: A002
    """Zero everything outside a band around the diagonal, as ``tf.linalg.band_part``.

    A negative count keeps the whole lower (``num_lower``) or upper (``num_upper``) triangle;
    the counts may be tensors whose values are only known when a compiled function runs.

    >>> import neuroflow as tf
    >>> tf.linalg.band_part(tf.ones([3, 3]), 0, -1).numpy()
    array([[1., 1., 1.],
           [0., 1., 1.],
           [0., 0., 1.]], dtype=float32)
    """
    x = _matrix(input, "band_part")
    counts = []
    for label, count, size in (("num_lower", num_lower, x._value.shape[-2]),
                               ("num_upper", num_upper, x._value.shape[-1])):
        count = as_tensor(count, dtype="int64") if not is_tensor(count) else as_tensor(count)
        if count._value.dtype.kind not in "iu" or count._value.ndim != 0:
            raise InvalidArgumentError(f"band_part: {label} must be an integer scalar, received "
                                       f"{count.dtype.name} of shape "
                                       f"{rules.shape_text(count._value.shape)}.", "band_part")
        if type(count._value) is np.ndarray and is_known(size) and int(count._value) > size:
            raise InvalidArgumentError(
                f"band_part: {label} must be negative or at most the number of "
                f"{'rows' if label == 'num_lower' else 'columns'} ({size}), received "
                f"{int(count._value)}.", "band_part")
        counts.append(ew.cast(count, np.int64))
    return _band_part(x, *counts)


def matvec(a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False,
           name=None) -> Tensor:
    """Matrix times vector over the last axes (batched), as ``tf.linalg.matvec``."""
    a, b = _operands(a, b, "matvec")
    column = so.expand_dims(b, -1)
    return so.squeeze(matmul(a, column, transpose_a=transpose_a, adjoint_a=adjoint_a), [-1])


def matrix_transpose(a, name="matrix_transpose", conjugate=False) -> Tensor:
    """Swap the last two axes (and conjugate, if asked), as ``tf.linalg.matrix_transpose``."""
    x = as_tensor(a)
    if x._value.ndim < 2:
        raise ValueError(f"matrix_transpose: the argument should be a (batch) matrix with "
                         f"rank >= 2; received shape {rules.shape_text(x._value.shape)}.")
    if conjugate and x._value.dtype.kind == "c":
        return _conj_transpose(x)
    return _swap_last(x)


def adjoint(matrix, name=None) -> Tensor:
    """The conjugate transpose of the last two axes (the transpose, for real tensors)."""
    return matrix_transpose(matrix, conjugate=True)


def _conj_transpose_shape(x):
    if x.ndim < 2:
        raise ValueError(f"conj_transpose: needs rank >= 2, received rank {x.ndim}")
    return AbstractArray((*x.shape[:-2], x.shape[-1], x.shape[-2]), x.dtype)


# The conjugate transpose of complex matrices (real ones use transpose): its own adjoint,
# which is also its gradient (TensorFlow's complex gradients are conjugated).
@primitive("conj_transpose", shape=_conj_transpose_shape,
           lowering=Lowering("np.conj(np.swapaxes({0}, -1, -2))", result="fresh"))
def _conj_transpose(xp, x):
    return xp.conj(xp.swapaxes(x, -1, -2))


@_conj_transpose.defvjp
def _conj_transpose_vjp(ctx, g):
    return (_conj_transpose(g),)


def cross(a, b, name=None) -> Tensor:
    """The cross product of 3-vectors along the last axis, as ``tf.linalg.cross``."""
    from neuroflow.errors import FailedPreconditionError

    a, b = _operands(a, b, "cross")
    sa, sb = a._value.shape, b._value.shape
    if rules.shapes_differ(sa, sb):
        raise InvalidArgumentError(f"cross: both inputs must have the same shape, received "
                                   f"{rules.shape_text(sa)} and {rules.shape_text(sb)}.", "cross")
    if not sa or rules.dims_differ(sa[-1], 3):
        # FailedPreconditionError, as TensorFlow's Cross kernel raises.
        raise FailedPreconditionError(
            f"cross: cross products are only defined for 3-element vectors; the inputs' last "
            f"axis must have size 3, received shape {rules.shape_text(sa)}.", "cross")
    x = so.unstack(a, axis=-1)
    y = so.unstack(b, axis=-1)
    return so.stack([x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2],
                     x[0] * y[1] - x[1] * y[0]], axis=-1)


_TENSOR_DIAG_DTYPES = frozenset(np.dtype(d) for d in (
    "float16", "float32", "float64", "int32", "int64", "complex64", "complex128"))


def _tensor_diag_dtype(x: Tensor, op: str) -> Tensor:
    if x._value.dtype not in _TENSOR_DIAG_DTYPES:
        raise InvalidArgumentError(f"{op}: TensorFlow has no kernel for {x.dtype.name} tensors; "
                                   f"use tf.cast(x, tf.int32) (or a float dtype) first.", op)
    return x


def tensor_diag(diagonal, name=None) -> Tensor:
    """A tensor of rank 2k with ``diagonal`` (rank k) on its diagonal, as TF's tensor_diag."""
    d = _tensor_diag_dtype(as_tensor(diagonal), "tensor_diag")
    shape = d._value.shape
    if not shape:
        raise InvalidArgumentError("tensor_diag: input must be at least rank 1, received a "
                                   "scalar.", "tensor_diag")
    size = num_elements(shape)
    flat = red._reshaped(d, (size,))
    return red._reshaped(_matrix_diag(flat, k=0, rows=size, cols=size), (*shape, *shape))


def tensor_diag_part(input, name=None) -> Tensor:  # noqa: A002
    """The diagonal of a tensor of shape ``s + s``: a tensor of shape ``s``."""
    x = _tensor_diag_dtype(as_tensor(input), "tensor_diag_part")
    shape = x._value.shape
    half = len(shape) // 2
    if len(shape) % 2:
        raise InvalidArgumentError(f"tensor_diag_part: the rank of the tensor should be even, "
                                   f"received shape {rules.shape_text(shape)}.",
                                   "tensor_diag_part")
    for i in range(half):
        if rules.dims_differ(shape[i], shape[i + half]):
            raise InvalidArgumentError(
                f"tensor_diag_part: invalid shape {rules.shape_text(shape)}: dimensions {i} "
                f"and {i + half} do not match.", "tensor_diag_part")
    size = num_elements(shape[:half])
    square = red._reshaped(x, (size, size))
    return red._reshaped(_matrix_diag_part(square, k=0), shape[:half])


def global_norm(t_list, name=None) -> Tensor:
    """``sqrt(sum of the squares of every element of every tensor)``; None entries skipped."""
    if is_tensor(t_list) or not isinstance(t_list, (list, tuple)):
        raise TypeError(f"global_norm: t_list should be a sequence of tensors, received "
                        f"{type(t_list).__name__}.")
    tensors = [as_tensor(t) for t in t_list if t is not None]
    if not tensors:
        return Tensor(np.zeros((), np.float32))
    for t in tensors:
        if t._value.dtype.kind != "f":
            raise InvalidArgumentError(f"global_norm: expects floating tensors, received "
                                       f"{t.dtype.name}.", "global_norm")
    check_same_dtype("global_norm", *tensors,
                     names=tuple(f"t_list[{i}]" for i in range(len(tensors))))
    total = red.add_n([red.reduce_sum(ew.square(t)) for t in tensors])
    return ew.sqrt(total)
