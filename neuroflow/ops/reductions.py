"""Reductions over axes: sum, max, min, prod, and the composites built on them.

Primitives take normalized axes (a sorted tuple of non-negative ints, or None for
all). Sizes may be unknown while a ``tf.function`` traces: a count such as the
number of elements ``reduce_mean`` divides by is then computed when the graph runs,
by the ``size_of`` primitive, never read from the traced shapes.
"""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import AbstractArray, dims_equal, is_known, num_elements
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import elementwise as ew
from neuroflow.ops import shape_rules as rules
from neuroflow.ops.convert import UnsupportedDTypeError, as_tensor, normalize_axis
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.tensor import Tensor


def _kept_shape(shape: tuple, axes: tuple | None) -> tuple:
    """``shape`` with the reduced axes set to 1 (what keepdims=True gives)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _same_shape(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(dims_equal(p, q) for p, q in zip(a, b))


def _reshaped(t: Tensor, shape: tuple) -> Tensor:
    """``t`` reshaped to ``shape`` (sizes may be unknown dims); ``t`` itself if it has it."""
    from neuroflow.ops.shape_ops import _reshape

    return t if _same_shape(t._value.shape, shape) else _reshape(t, shape=tuple(shape))


def _broadcast(t: Tensor, shape: tuple) -> Tensor:
    from neuroflow.ops.shape_ops import _broadcast_to

    return t if _same_shape(t._value.shape, shape) else _broadcast_to(t, shape=tuple(shape))


def _np_dtype(dtype) -> str:
    """``np.float32``: a dtype as generated code names it."""
    name = np.dtype(dtype).name
    return "np.bool_" if name == "bool" else f"np.{name}"


def _reduce_sum_template(node) -> str:
    # np.add.reduce, not np.sum: the same C loop without np.sum's Python wrapper.
    dtype = _np_dtype(node.output.dtype)
    return f"np.add.reduce({{0}}, axis={{axes}}, dtype={dtype}, keepdims={{keepdims}}{{out}})"


@primitive("reduce_sum", shape=rules.reduction,
           lowering=Lowering(_reduce_sum_template, out=True, result="fresh"))
def _reduce_sum(xp, x, axes, keepdims):
    # dtype=: NumPy would widen int32 sums to int64; TensorFlow keeps the input's dtype.
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN sums, as in TF
        return xp.sum(x, axis=axes, keepdims=keepdims, dtype=x.dtype)


@_reduce_sum.defvjp
def _reduce_sum_vjp(ctx, g):
    shape = ctx.input_shapes[0]
    g = _reshaped(g, _kept_shape(shape, ctx.attrs["axes"]))
    return (_broadcast(g, shape),)


def _extremum_template(ufunc: str):
    def template(node) -> str | None:
        if not all(is_known(d) and d > 0 for d in node.inputs[0].shape):
            return None  # possibly empty: the forward knows TF's answer (-inf/+inf)
        return f"np.{ufunc}.reduce({{0}}, axis={{axes}}, keepdims={{keepdims}})"

    return template


def _extremum(name, reducer):
    def forward(xp, x, axes, keepdims):
        if x.size == 0:
            # TensorFlow reduces an empty axis to the identity: the dtype's lowest value
            # for max, its highest for min; NumPy would raise.
            if x.dtype.kind == "f":
                initial = -np.inf if reducer == "max" else np.inf
            else:
                info = np.iinfo(x.dtype)
                initial = info.min if reducer == "max" else info.max
            return getattr(xp, reducer)(x, axis=axes, keepdims=keepdims, initial=initial)
        return getattr(xp, reducer)(x, axis=axes, keepdims=keepdims)

    ufunc = "maximum" if reducer == "max" else "minimum"
    prim = primitive(name, save_inputs=True, save_output=True, smooth=False,
                     shape=rules.reduction,
                     lowering=Lowering(_extremum_template(ufunc), result="fresh"))(forward)

    @prim.defvjp
    def vjp(ctx, g):
        x = ctx.inputs[0]
        kept = _kept_shape(ctx.input_shapes[0], ctx.attrs["axes"])
        winners = ew.cast(ew.equal(x, _reshaped(ctx.output, kept)), x.dtype)
        # Ties share the gradient equally, as in TensorFlow.
        count = _reduce_sum(winners, axes=ctx.attrs["axes"], keepdims=True)
        return (winners * (_reshaped(g, kept) / count),)

    return prim


_reduce_max = _extremum("reduce_max", "max")
_reduce_min = _extremum("reduce_min", "min")


@primitive("reduce_prod", save_inputs=True, shape=rules.reduction)
def _reduce_prod(xp, x, axes, keepdims):
    with np.errstate(over="ignore", invalid="ignore"):  # inf * 0 is NaN, as in TF
        return xp.prod(x, axis=axes, keepdims=keepdims, dtype=x.dtype)


@_reduce_prod.defvjp
def _reduce_prod_vjp(ctx, g):
    # The product of all *other* elements, computed without dividing by x so
    # that zeros are handled: move reduced axes last, take exclusive cumulative
    # products from both ends and multiply them.
    from neuroflow.ops.shape_ops import _transpose

    x = ctx.inputs[0]
    shape = ctx.input_shapes[0]
    axes = ctx.attrs["axes"] if ctx.attrs["axes"] is not None else tuple(range(len(shape)))
    kept = [i for i in range(len(shape)) if i not in axes]
    perm = tuple(kept + list(axes))
    reduced = num_elements(shape[i] for i in axes)
    flat = _reshaped(_transpose(x, perm=perm), (*(shape[i] for i in kept), reduced))
    left = cumprod(flat, axis=-1, exclusive=True)
    right = cumprod(flat, axis=-1, exclusive=True, reverse=True)
    others = _reshaped(left * right, tuple(shape[i] for i in perm))
    others = _transpose(others, perm=tuple(np.argsort(perm).tolist()))
    g = _broadcast(_reshaped(g, _kept_shape(shape, ctx.attrs["axes"])), shape)
    return (g * others,)


def _scan(xp, x, accumulate, identity, axis, exclusive, reverse):
    """Cumulative ``accumulate`` along ``axis``, optionally exclusive and/or reversed."""
    if reverse:
        x = xp.flip(x, axis)
    out = accumulate(x, axis=axis, dtype=x.dtype)
    if exclusive:
        out = _shift(xp, out, axis, identity)
    return xp.flip(out, axis) if reverse else out


def _scan_shape(x, axis, exclusive, reverse):
    rules.check_axes((axis,), x.ndim)
    return AbstractArray(x.shape, x.dtype)


@primitive("cumsum", shape=_scan_shape)
def _cumsum(xp, x, axis, exclusive, reverse):
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf is NaN, as in TF
        return _scan(xp, x, xp.cumsum, 0, axis, exclusive, reverse)


@_cumsum.defvjp
def _cumsum_vjp(ctx, g):
    a = ctx.attrs
    return (_cumsum(g, axis=a["axis"], exclusive=a["exclusive"], reverse=not a["reverse"]),)


@primitive("cumprod", save_inputs=True, save_output=True, shape=_scan_shape)
def _cumprod(xp, x, axis, exclusive, reverse):
    with np.errstate(over="ignore", invalid="ignore"):  # inf * 0 is NaN, as in TF
        return _scan(xp, x, xp.cumprod, 1, axis, exclusive, reverse)


@_cumprod.defvjp
def _cumprod_vjp(ctx, g):
    # d out_j / d x_i = out_j / x_i for j including i; exact where x has no zeros.
    a = ctx.attrs
    x, out = ctx.inputs[0], ctx.output
    summed = _cumsum(g * out, axis=a["axis"], exclusive=a["exclusive"], reverse=not a["reverse"])
    return (ew.divide_no_nan(summed, x),)


def _logaddexp_accumulate(xp, x, axis, dtype):
    with np.errstate(invalid="ignore"):  # -inf + -inf inside logaddexp: -inf, as TF
        return xp.logaddexp.accumulate(x, axis=axis, dtype=dtype)


# log(cumsum(exp(x))) without overflow: logaddexp accumulated along the axis. Exclusive
# scans start from log(0) = -inf.
@primitive("cumulative_logsumexp", save_inputs=True, save_output=True, shape=_scan_shape)
def _cumulative_logsumexp(xp, x, axis, exclusive, reverse):
    def accumulate(v, axis, dtype):
        return _logaddexp_accumulate(xp, v, axis, dtype)

    return _scan(xp, x, accumulate, -np.inf, axis, exclusive, reverse)


@_cumulative_logsumexp.defvjp
def _cumulative_logsumexp_vjp(ctx, g):
    # d out_j / d x_i = exp(x_i - out_j) for the j whose scan includes i. The sum over j of
    # g_j * exp(x_i - out_j) is itself a cumulative logsumexp in the other direction, taken
    # separately for the positive and negative parts of g (whose logs exist). As in TF, a
    # part that is not positive has the dtype's lowest value as its log, not -inf: finite,
    # so the rule's own gradient stays finite.
    a = ctx.attrs
    x, out = ctx.inputs[0], ctx.output
    zero = ew.zeros_like_value(g)
    lowest = zero + np.finfo(g._value.dtype).min
    grads = []
    for part in (g, -g):
        positive = ew.greater(part, zero)
        log_part = ew.where(positive, ew.log(ew.where(positive, part, zero + 1)), lowest)
        summed = _cumulative_logsumexp(log_part - out, axis=a["axis"], exclusive=a["exclusive"],
                                       reverse=not a["reverse"])
        grads.append(ew.exp(summed + x))
    return (grads[0] - grads[1],)


def _shift(xp, out, axis, fill):
    """Shift ``out`` one step along ``axis``, filling the front with ``fill``."""
    if out.shape[axis] == 0:
        return out  # an empty axis has no front to fill
    shifted = xp.roll(out, 1, axis=axis)
    index = [slice(None)] * out.ndim
    index[axis] = 0
    shifted[tuple(index)] = fill
    return shifted


@primitive("reduce_any", differentiable=False, shape=rules.bool_reduction)
def _reduce_any(xp, x, axes, keepdims):
    return xp.any(x, axis=axes, keepdims=keepdims)


@primitive("reduce_all", differentiable=False, shape=rules.bool_reduction)
def _reduce_all(xp, x, axes, keepdims):
    return xp.all(x, axis=axes, keepdims=keepdims)


def _arg_shape(x, axis, output_type):
    rules.check_axes((axis,), x.ndim)
    return AbstractArray(x.shape[:axis] + x.shape[axis + 1:], output_type)


def _argmax_template(node) -> str | None:
    if node.inputs[0].dtype.kind == "f":
        return None  # the forward's NaN rule (below) needs more than np.argmax
    found = "np.argmax({0}, axis={axis})"
    if node.output.dtype == np.dtype(np.intp):
        return found
    return f"{found}.astype({_np_dtype(node.output.dtype)})"


# TensorFlow's argmax keeps the first index whose value is greater than every value
# before it, starting from the dtype's lowest value at index 0: NaN never wins (NumPy
# picks the first NaN), and a slice of NaN, -inf and the lowest float gives index 0.
# The forwards check with one reduction whether such values occur at all, and only
# then mask them; argmin is the mirror image (highest value, +inf).
@primitive("argmax", differentiable=False, shape=_arg_shape,
           lowering=Lowering(_argmax_template, result="fresh"))
def _argmax(xp, x, axis, output_type):
    if x.dtype.kind == "f" and x.size:
        lowest = np.finfo(x.dtype).min
        if not xp.minimum.reduce(x, axis=None) > lowest:  # NaN, -inf or lowest present
            x = xp.where(x > lowest, x, -np.inf)
    return xp.argmax(x, axis=axis).astype(output_type, copy=False)


@primitive("argmin", differentiable=False, shape=_arg_shape, lowering=Lowering(result="fresh"))
def _argmin(xp, x, axis, output_type):
    if x.dtype.kind == "f" and x.size:
        highest = np.finfo(x.dtype).max
        if not xp.maximum.reduce(x, axis=None) < highest:  # NaN, +inf or highest present
            x = xp.where(x < highest, x, np.inf)
    return xp.argmin(x, axis=axis).astype(output_type, copy=False)


def _size_of_shape(x, axes, dtype):
    rules.check_axes(axes, x.ndim)
    return AbstractArray((), dtype)


# The number of elements of ``x`` over ``axes`` (None: all) as a scalar of ``dtype``: the
# count reduce_mean divides by when a traced size is unknown. It reads only the shape, so
# graph passes fold it into a constant once the graph is specialized to concrete sizes.
@primitive("size_of", differentiable=False, shape_only=True, shape=_size_of_shape)
def _size_of(xp, x, axes, dtype):
    count = 1
    for axis in range(x.ndim) if axes is None else axes:
        count *= x.shape[axis]
    return xp.asarray(count, dtype=dtype)


# --- public wrappers -----------------------------------------------------------------


def _reduce(prim, x, axis, keepdims, name):
    x = _numeric(x, name)
    axes = normalize_axis(axis, x._value.ndim, name, duplicates=False)
    return prim(x, axes=axes, keepdims=bool(keepdims))


def _numeric(x, op: str) -> Tensor:
    x = as_tensor(x)
    if x._value.dtype.kind == "b":
        # TensorFlow has no kernel: InvalidArgumentError eagerly (this error is also a
        # TypeError, TF's class while building a graph).
        raise UnsupportedDTypeError(
            f"{op} does not accept bool tensors (TensorFlow has no kernel for them); use "
            f"tf.cast(x, tf.int32) first, or tf.reduce_any/reduce_all.", op)
    if x._value.dtype.kind == "O":
        # Nor for strings: NumPy would concatenate or compare them.
        raise UnsupportedDTypeError(
            f"{op} does not accept string tensors (TensorFlow has no kernel for them); "
            f"convert first, e.g. tf.strings.to_number(x) or tf.strings.length(x), or join "
            f"with tf.strings.reduce_join.", op)
    return x


def _boolean(x, op: str) -> Tensor:
    x = as_tensor(x)
    if x._value.dtype.kind != "b":
        raise UnsupportedDTypeError(f"{op} expects a bool tensor, received {x.dtype.name}. "
                                    f"Compare first, e.g. tf.{op}(x > 0).", op)
    return x


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Sum over ``axis`` (all axes when None).

    >>> import neuroflow as tf
    >>> tf.reduce_sum(tf.constant([[1, 2], [3, 4]]), axis=0).numpy()
    array([4, 6], dtype=int32)
    """
    return _reduce(_reduce_sum, input_tensor, axis, keepdims, "reduce_sum")


def reduce_max(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    return _reduce(_reduce_max, input_tensor, axis, keepdims, "reduce_max")


def reduce_min(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    return _reduce(_reduce_min, input_tensor, axis, keepdims, "reduce_min")


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    return _reduce(_reduce_prod, input_tensor, axis, keepdims, "reduce_prod")


def _count(x: Tensor, axes) -> int | Tensor:
    """The number of elements over ``axes``: an int, or a tensor if a size is unknown."""
    shape = x._value.shape
    count = num_elements(shape[a] for a in axes) if axes is not None else num_elements(shape)
    if is_known(count):
        return count
    return _size_of(x, axes=axes, dtype=x._value.dtype)


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Mean over ``axis``. Integer tensors give an integer mean truncated toward zero, as TF.

    Integers narrower than 64 bits are summed in int64, so the mean of large values does
    not wrap (TensorFlow accumulates them wider too); 64-bit integers wrap as in TF.

    >>> import neuroflow as tf
    >>> tf.reduce_mean(tf.constant([200, 100, 255], tf.uint8)).numpy()
    np.uint8(185)
    """
    x = _numeric(input_tensor, "reduce_mean")
    axes = normalize_axis(axis, x._value.ndim, "reduce_mean", duplicates=False)
    if x._value.dtype.kind in "iu":
        return _integer_mean(x, axes, bool(keepdims))
    total = _reduce_sum(x, axes=axes, keepdims=bool(keepdims))
    return total / _count(x, axes)


def _integer_mean(x: Tensor, axes, keepdims: bool) -> Tensor:
    dtype = x._value.dtype
    wide = x if dtype.itemsize == 8 else ew.cast(x, np.int64)
    total = _reduce_sum(wide, axes=axes, keepdims=keepdims)
    count = _count(wide, axes)
    if isinstance(count, int) and count == 0:
        return ew.cast(total, dtype)  # the sum of nothing, 0: TF's mean, not a ZeroDivision
    if isinstance(count, Tensor):
        count = ew.maximum(count, ew.ones_like_value(count))  # an empty axis sums to 0: 0 / 1
    # floordiv rounds toward -inf; step negative inexact quotients back up by one.
    floor = ew.floordiv(total, count)
    inexact = ew.logical_and(ew.less(total, 0), ew.not_equal(ew.floormod(total, count), 0))
    return ew.cast(ew.where(inexact, floor + 1, floor), dtype)


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """The mean squared distance from the mean; real for complex tensors, as in TF."""
    x = _numeric(input_tensor, "reduce_variance")
    if x._value.dtype.kind not in "fc":
        raise TypeError(f"reduce_variance expects a floating or complex tensor, received "
                        f"{x.dtype.name}. Use tf.cast(x, tf.float32) first.")
    deviation = x - reduce_mean(x, axis, keepdims=True)
    squared = ew.square(ew.abs(deviation)) if x._value.dtype.kind == "c" else ew.square(deviation)
    return reduce_mean(squared, axis, keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    return ew.sqrt(reduce_variance(input_tensor, axis, keepdims))


def _floating(x, op: str) -> Tensor:
    x = as_tensor(x)
    if x._value.dtype.kind != "f":
        raise UnsupportedDTypeError(f"{op} expects a floating-point tensor, received "
                                    f"{x.dtype.name}. Use tf.cast(x, tf.float32) first.", op)
    return x


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """``log(sum(exp(x)))`` computed stably by subtracting the maximum first."""
    from neuroflow.ops.shape_ops import stop_gradient

    x = _floating(input_tensor, "reduce_logsumexp")
    axes = normalize_axis(axis, x._value.ndim, "reduce_logsumexp", duplicates=False)
    peak = stop_gradient(_reduce_max(x, axes=axes, keepdims=True))
    # An all -inf row has max -inf; shift by 0 there so the result is -inf, not nan.
    peak = ew.where(ew.is_finite(peak), peak, ew.zeros_like_value(peak))
    total = _reduce_sum(ew.exp(x - peak), axes=axes, keepdims=True)
    result = ew.log(total) + peak
    if not keepdims:
        from neuroflow.ops.shape_ops import squeeze

        result = squeeze(result, axes) if axes is not None else squeeze(result)
    return result


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """``sqrt(sum(x**2))`` over ``axis``, as ``tf.math.reduce_euclidean_norm``.

    Integer tensors square and sum in their own dtype (wrapping as TF's kernel does) and
    give the square root truncated to that dtype.

    >>> import neuroflow as tf
    >>> tf.math.reduce_euclidean_norm(tf.constant([3.0, 4.0])).numpy()
    np.float32(5.0)
    """
    x = _numeric(input_tensor, "reduce_euclidean_norm")
    axes = normalize_axis(axis, x._value.ndim, "reduce_euclidean_norm", duplicates=False)
    dtype = x._value.dtype
    if dtype.kind == "c":
        squares = ew.cast(ew.square(ew.abs(x)), dtype)
    else:
        squares = ew.square(x)
    total = _reduce_sum(squares, axes=axes, keepdims=bool(keepdims))
    if dtype.kind in "iu":
        return ew.cast(ew.sqrt(ew.cast(total, np.float64)), dtype)
    return ew.sqrt(total)


def count_nonzero(input=None, axis=None, keepdims=None, dtype="int64", name=None,  # noqa: A002
                  input_tensor=None) -> Tensor:
    """How many elements over ``axis`` are not zero (NaN counts; empty strings do not).

    >>> import neuroflow as tf
    >>> tf.math.count_nonzero(tf.constant([[1, 0], [2, 3]]), axis=1).numpy()
    array([1, 2])
    """
    from neuroflow.dtypes import as_dtype

    x = as_tensor(input if input_tensor is None else input_tensor)
    axes = normalize_axis(axis, x._value.ndim, "count_nonzero", duplicates=False)
    nonzero = ew.not_equal(x, ew.zeros_like_value(x)) if x._value.dtype.kind != "b" else x
    ones = ew.cast(nonzero, np.int64)
    return ew.cast(_reduce_sum(ones, axes=axes, keepdims=bool(keepdims)), as_dtype(dtype).np)


def add_n(inputs, name=None) -> Tensor:
    """The elementwise sum of a list of tensors of one shape and dtype, as ``tf.add_n``.

    >>> import neuroflow as tf
    >>> tf.add_n([tf.constant([1, 2]), tf.constant([10, 20]), tf.constant([5, 5])]).numpy()
    array([16, 27], dtype=int32)
    """
    tensors = _summands(inputs, "add_n")
    first = tensors[0]
    for index, t in enumerate(tensors[1:], start=1):
        if t._value.dtype != first._value.dtype:
            raise InvalidArgumentError(
                f"add_n: input #{index} has dtype {t.dtype.name} but input #0 has "
                f"{first.dtype.name}; the inputs must share one dtype (use tf.cast).", "add_n")
        if rules.shapes_differ(t._value.shape, first._value.shape):
            raise InvalidArgumentError(
                f"add_n: input #{index} has shape {rules.shape_text(t._value.shape)} but input "
                f"#0 has {rules.shape_text(first._value.shape)}; add_n does not broadcast, "
                f"the inputs must share one shape.", "add_n")
    if len(tensors) == 1:
        return first  # TensorFlow returns a lone input as it is (any dtype)
    if first._value.dtype.kind == "b":
        raise UnsupportedDTypeError("add_n does not accept bool tensors (TensorFlow has no "
                                    "kernel for them); use tf.cast(x, tf.int32) first.", "add_n")
    total = first
    for t in tensors[1:]:
        total = total + t
    return total


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None) -> Tensor:
    """``tf.math.accumulate_n`` (deprecated in TensorFlow): :func:`add_n`, checking first."""
    tensors = _summands(inputs, "accumulate_n")
    for t in tensors[1:]:
        if t._value.dtype != tensors[0]._value.dtype:
            raise ValueError("accumulate_n: inputs must be a list of at least one Tensor with "
                             f"the same dtype and shape; received dtypes {tensors[0].dtype.name} "
                             f"and {t.dtype.name}.")
        if rules.shapes_differ(t._value.shape, tensors[0]._value.shape):
            raise ValueError(f"accumulate_n: shapes {rules.shape_text(tensors[0]._value.shape)} "
                             f"and {rules.shape_text(t._value.shape)} are not compatible.")
    return add_n(tensors)


def _summands(inputs, op: str) -> list[Tensor]:
    if isinstance(inputs, Tensor) or not hasattr(inputs, "__iter__"):
        raise ValueError(f"{op}: inputs must be a list of at least one Tensor with the same "
                         f"dtype and shape; received {type(inputs).__name__}.")
    values = list(inputs)
    if not values:
        raise ValueError(f"{op}: inputs must be a list of at least one Tensor with the same "
                         f"dtype and shape; received an empty list.")
    first = as_tensor(values[0])
    # Python and NumPy values take the first tensor's dtype, as TF converts them.
    tensors = [first]
    for value in values[1:]:
        tensors.append(value if isinstance(value, Tensor) else as_tensor(
            value, dtype=first.dtype if not isinstance(value, np.ndarray) else None))
    return [as_tensor(t) for t in tensors]


def reduce_any(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Logical or over ``axis`` of a bool tensor."""
    x = _boolean(input_tensor, "reduce_any")
    axes = normalize_axis(axis, x._value.ndim, "reduce_any", duplicates=False)
    return _reduce_any(x, axes=axes, keepdims=bool(keepdims))


def reduce_all(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Logical and over ``axis`` of a bool tensor."""
    x = _boolean(input_tensor, "reduce_all")
    axes = normalize_axis(axis, x._value.ndim, "reduce_all", duplicates=False)
    return _reduce_all(x, axes=axes, keepdims=bool(keepdims))


def _single_axis(x: Tensor, axis, op: str) -> int:
    if x._value.ndim == 0:
        raise InvalidArgumentError(f"{op} needs a tensor of rank >= 1 to pick axis {axis} "
                                   f"from, received a scalar.", op)
    (a,) = normalize_axis(axis, x._value.ndim, op)
    return a


def argmax(input, axis=None, output_type="int64", name=None) -> Tensor:  # noqa: A002
    """Index of the largest value along ``axis`` (default 0, as TF)."""
    from neuroflow.dtypes import as_dtype

    x = as_tensor(input)
    return _argmax(x, axis=_single_axis(x, 0 if axis is None else axis, "argmax"),
                   output_type=as_dtype(output_type).np)


def argmin(input, axis=None, output_type="int64", name=None) -> Tensor:  # noqa: A002
    from neuroflow.dtypes import as_dtype

    x = as_tensor(input)
    return _argmin(x, axis=_single_axis(x, 0 if axis is None else axis, "argmin"),
                   output_type=as_dtype(output_type).np)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    x = _numeric(x, "cumsum")
    return _cumsum(x, axis=_single_axis(x, axis, "cumsum"), exclusive=bool(exclusive),
                   reverse=bool(reverse))


def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``axis``, without overflow.

    >>> import neuroflow as tf
    >>> tf.math.cumulative_logsumexp(tf.constant([0.0, 0.0])).numpy()
    array([0.       , 0.6931472], dtype=float32)
    """
    x = _floating(x, "cumulative_logsumexp")
    return _cumulative_logsumexp(x, axis=_single_axis(x, axis, "cumulative_logsumexp"),
                                 exclusive=bool(exclusive), reverse=bool(reverse))


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    x = _numeric(x, "cumprod")
    return _cumprod(x, axis=_single_axis(x, axis, "cumprod"), exclusive=bool(exclusive),
                    reverse=bool(reverse))
