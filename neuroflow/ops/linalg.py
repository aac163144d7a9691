"""Linear algebra: matmul (batched), einsum, tensordot, norm."""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import AbstractArray, Dim, is_known, num_elements
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
    return xp.matmul(a, b)


@_matmul.defvjp
def _matmul_vjp(ctx, g):
    a, b = ctx.inputs
    return (matmul(g, b, transpose_b=True) if ctx.needs(0) else None,
            matmul(a, g, transpose_a=True) if ctx.needs(1) else None)


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
        others = [s for j, s in enumerate(specs) if j != i]
        available = set(output_spec).union(*others)
        if len(set(spec)) != len(spec):
            raise NotImplementedError(f"einsum gradient for repeated indices in {spec!r} "
                                      "(a diagonal) is not supported.")
        # Indices that appear only in this operand were summed away: the gradient
        # is constant along them, so compute without them and broadcast back.
        kept = "".join(c for c in spec if c in available)
        equation = ",".join([output_spec, *others]) + "->" + kept
        operands = [g] + [ctx.inputs[j] for j in range(len(specs)) if j != i]
        grad = _einsum(*operands, equation=equation)
        if kept != spec:
            shape = ctx.input_shapes[i]
            grad = red._reshaped(grad, tuple(shape[k] if c in available else 1
                                             for k, c in enumerate(spec)))
            grad = red._broadcast(grad, shape)
        grads.append(grad)
    return tuple(grads)


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
    for label, t in (("a", a), ("b", b)):
        if t._value.ndim < 2:
            raise InvalidArgumentError(
                f"matmul: {label} must have rank >= 2, received shape {tuple(t._value.shape)}. "
                f"Use tf.expand_dims to add a dimension, or tf.tensordot for vectors.", "matmul")
    if transpose_a or adjoint_a:
        a = _swap_last(a)
    if transpose_b or adjoint_b:
        b = _swap_last(b)
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
    """Einstein summation, as ``tf.einsum`` (explicit ``->`` output or implicit)."""
    tensors = [as_tensor(t) for t in inputs]
    check_same_dtype("einsum", *tensors, names=tuple(f"inputs[{i}]" for i in range(len(tensors))))
    equation = equation.replace(" ", "")
    if "..." in equation:
        raise NotImplementedError("einsum with '...' is not supported yet; name the axes.")
    if "->" not in equation:
        letters = equation.replace(",", "")
        equation += "->" + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    specs = equation.split("->")[0].split(",")
    if len(specs) != len(tensors):
        raise ValueError(f"einsum: equation {equation!r} names {len(specs)} operands but "
                         f"{len(tensors)} were given.")
    for i, (spec, t) in enumerate(zip(specs, tensors)):
        if len(spec) != t._value.ndim:
            raise InvalidArgumentError(
                f"einsum: operand {i} has rank {t._value.ndim} (shape "
                f"{rules.shape_text(t._value.shape)}) but the equation gives it {len(spec)} "
                f"indices ({spec!r}).", "einsum")
    return _einsum(*tensors, equation=equation)


def tensordot(a, b, axes, name=None) -> Tensor:
    """Contract ``axes`` of ``a`` with ``axes`` of ``b`` (transpose + reshape + matmul)."""
    a, b = _operands(a, b, "tensordot")
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
    """The sum of the main diagonal of the last two axes (of any shape, as tf.linalg.trace)."""
    x = as_tensor(x)
    if x._value.ndim < 2:
        raise InvalidArgumentError(f"trace: needs a tensor of rank >= 2, received shape "
                                   f"{rules.shape_text(x._value.shape)}.", "trace")
    rows, cols = x._value.shape[-2:]
    if is_known(rows) and is_known(cols):
        eye = Tensor(np.eye(rows, cols, dtype=x._value.dtype))
    else:
        eye = _eye_like(x)
    return red.reduce_sum(x * eye, axis=[-2, -1])
