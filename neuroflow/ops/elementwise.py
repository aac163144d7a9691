"""Elementwise primitives (unary and binary) and their public wrappers.

Binary primitives broadcast; their gradient rules return full-shaped
gradients and the tape sums them back to each input's shape in one place.

Most primitives here are one NumPy ufunc: their shape rule asks NumPy which dtype
that ufunc gives (``shape_rules.ufunc_result``) and their lowering is the ufunc
call itself (``ufunc_lowering``), which graph fusion can chain in place.
"""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import AbstractArray
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import shape_rules as rules
from neuroflow.ops.convert import DTypeMismatchError, as_tensor, binary_operands
from neuroflow.ops.registry import Lowering, primitive, ufunc_lowering
from neuroflow.tensor import Tensor


def _ufunc_op(ufunc: str, arity: int) -> dict:
    """The shape rule and lowering of a primitive that is exactly ``np.<ufunc>``."""
    return {"shape": rules.ufunc_result(ufunc), "lowering": ufunc_lowering(ufunc, arity)}


# --- binary arithmetic ----------------------------------------------------------


@primitive("add", **_ufunc_op("add", 2))
def _add(xp, x, y):
    return xp.add(x, y)


@_add.defvjp
def _add_vjp(ctx, g):
    return g, g


@primitive("subtract", **_ufunc_op("subtract", 2))
def _subtract(xp, x, y):
    return xp.subtract(x, y)


@_subtract.defvjp
def _subtract_vjp(ctx, g):
    return g, (negative(g) if ctx.needs(1) else None)


@primitive("multiply", save_inputs=True, **_ufunc_op("multiply", 2))
def _multiply(xp, x, y):
    return xp.multiply(x, y)


@_multiply.defvjp
def _multiply_vjp(ctx, g):
    x, y = ctx.inputs
    return (g * y if ctx.needs(0) else None), (g * x if ctx.needs(1) else None)


@primitive("divide", save_inputs=True, **_ufunc_op("true_divide", 2))
def _divide(xp, x, y):
    return xp.true_divide(x, y)


@_divide.defvjp
def _divide_vjp(ctx, g):
    x, y = ctx.inputs
    gx = g / y
    return gx, (negative(gx * x / y) if ctx.needs(1) else None)


@primitive("pow", save_inputs=True, save_output=True, **_ufunc_op("power", 2))
def _pow(xp, x, y):
    if x.dtype.kind in "iu" and y.dtype.kind in "iu" and np.any(y < 0):
        raise ValueError("Integers to negative integer powers are not allowed; "
                         "cast to float first.")
    return xp.power(x, y)


@_pow.defvjp
def _pow_vjp(ctx, g):
    x, y = ctx.inputs
    gx = g * y * pow(x, y - 1) if ctx.needs(0) else None
    if not ctx.needs(1):
        return gx, None
    # d(x^y)/dy = x^y log x, taken as 0 where x <= 0, as TensorFlow does: the log of a
    # non-positive base would give NaN (and a warning) even where y is a constant.
    positive = greater(x, 0)
    safe_x = where(positive, x, ones_like_value(x))
    gy = g * where(positive, ctx.output * log(safe_x), zeros_like_value(x))
    return gx, gy


@primitive("maximum", save_inputs=True, smooth=False, **_ufunc_op("maximum", 2))
def _maximum(xp, x, y):
    return xp.maximum(x, y)


@_maximum.defvjp
def _maximum_vjp(ctx, g):
    x, y = ctx.inputs
    mask = greater_equal(x, y)  # ties go to x, as in TensorFlow
    zero = zeros_like_value(g)
    return where(mask, g, zero), where(mask, zero, g)


@primitive("minimum", save_inputs=True, smooth=False, **_ufunc_op("minimum", 2))
def _minimum(xp, x, y):
    return xp.minimum(x, y)


@_minimum.defvjp
def _minimum_vjp(ctx, g):
    x, y = ctx.inputs
    mask = less_equal(x, y)
    zero = zeros_like_value(g)
    return where(mask, g, zero), where(mask, zero, g)


def _division_by_zero(op: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"{op}: integer division by zero (y holds a 0). Replace the "
                                f"zeros first, e.g. tf.where(y == 0, tf.ones_like(y), y).", op)


@primitive("floordiv", differentiable=False, shape=rules.ufunc_result("floor_divide"))
def _floordiv(xp, x, y):
    if x.dtype.kind in "iu" and np.any(y == 0):
        raise _division_by_zero("floordiv")
    return xp.floor_divide(x, y)


@primitive("floormod", differentiable=False, shape=rules.ufunc_result("remainder"))
def _floormod(xp, x, y):
    if x.dtype.kind in "iu" and np.any(y == 0):
        raise _division_by_zero("floormod")
    return xp.mod(x, y)


# --- comparisons and logic (no gradient) -----------------------------------------

def _comparison(name, ufunc):
    return primitive(name, differentiable=False, **_ufunc_op(ufunc, 2))(
        lambda xp, x, y: getattr(xp, ufunc)(x, y))


_equal = _comparison("equal", "equal")
_not_equal = _comparison("not_equal", "not_equal")
_less = _comparison("less", "less")
_less_equal = _comparison("less_equal", "less_equal")
_greater = _comparison("greater", "greater")
_greater_equal = _comparison("greater_equal", "greater_equal")
_logical_and = _comparison("logical_and", "logical_and")
_logical_or = _comparison("logical_or", "logical_or")
_logical_xor = _comparison("logical_xor", "logical_xor")


@primitive("logical_not", differentiable=False, **_ufunc_op("logical_not", 1))
def _logical_not(xp, x):
    return xp.logical_not(x)


# --- unary math -----------------------------------------------------------------------


@primitive("negative", **_ufunc_op("negative", 1))
def _negative(xp, x):
    return xp.negative(x)


@_negative.defvjp
def _negative_vjp(ctx, g):
    return (negative(g),)


@primitive("abs", save_inputs=True, smooth=False, **_ufunc_op("abs", 1))
def _abs(xp, x):
    return xp.abs(x)


@_abs.defvjp
def _abs_vjp(ctx, g):
    return (g * sign(ctx.inputs[0]),)


@primitive("sign", differentiable=False, **_ufunc_op("sign", 1))
def _sign(xp, x):
    return xp.sign(x)


@primitive("exp", save_output=True, **_ufunc_op("exp", 1))
def _exp(xp, x):
    return xp.exp(x)


@_exp.defvjp
def _exp_vjp(ctx, g):
    return (g * ctx.output,)


@primitive("log", save_inputs=True, **_ufunc_op("log", 1))
def _log(xp, x):
    # log(0) = -inf and log(-1) = nan, silently, as in TensorFlow (NumPy would warn).
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.log(x)


@_log.defvjp
def _log_vjp(ctx, g):
    return (g / ctx.inputs[0],)


@primitive("log1p", save_inputs=True, **_ufunc_op("log1p", 1))
def _log1p(xp, x):
    return xp.log1p(x)


@_log1p.defvjp
def _log1p_vjp(ctx, g):
    return (g / (ctx.inputs[0] + 1),)


@primitive("expm1", save_output=True, **_ufunc_op("expm1", 1))
def _expm1(xp, x):
    return xp.expm1(x)


@_expm1.defvjp
def _expm1_vjp(ctx, g):
    return (g * (ctx.output + 1),)


@primitive("sqrt", save_output=True, **_ufunc_op("sqrt", 1))
def _sqrt(xp, x):
    return xp.sqrt(x)


@_sqrt.defvjp
def _sqrt_vjp(ctx, g):
    return (g / (ctx.output * 2),)


@primitive("square", save_inputs=True, **_ufunc_op("square", 1))
def _square(xp, x):
    return xp.square(x)


@_square.defvjp
def _square_vjp(ctx, g):
    return (g * ctx.inputs[0] * 2,)


@primitive("sin", save_inputs=True, **_ufunc_op("sin", 1))
def _sin(xp, x):
    return xp.sin(x)


@_sin.defvjp
def _sin_vjp(ctx, g):
    return (g * cos(ctx.inputs[0]),)


@primitive("cos", save_inputs=True, **_ufunc_op("cos", 1))
def _cos(xp, x):
    return xp.cos(x)


@_cos.defvjp
def _cos_vjp(ctx, g):
    return (negative(g * sin(ctx.inputs[0])),)


@primitive("tanh", save_output=True, **_ufunc_op("tanh", 1))
def _tanh(xp, x):
    return xp.tanh(x)


@_tanh.defvjp
def _tanh_vjp(ctx, g):
    y = ctx.output
    return (g * (1 - y * y),)


@primitive("sigmoid", save_output=True, shape=rules.same)
def _sigmoid(xp, x):
    # Split by sign so that exp never overflows.
    out = xp.empty_like(x)
    positive = x >= 0
    out[positive] = 1 / (1 + xp.exp(-x[positive]))
    e = xp.exp(x[~positive])
    out[~positive] = e / (1 + e)
    return out


@_sigmoid.defvjp
def _sigmoid_vjp(ctx, g):
    y = ctx.output
    return (g * y * (1 - y),)


@primitive("erf", save_inputs=True, shape=rules.same)
def _erf(xp, x):
    try:
        from scipy.special import erf as scipy_erf  # optional: exact and fast
    except ImportError:
        return _erf_numpy(xp, x)
    return scipy_erf(x).astype(x.dtype, copy=False)


def _erf_numpy(xp, x):
    # Abramowitz-Stegun 7.1.26 is only 1e-7 accurate; use a series/continued fraction
    # split by magnitude, evaluated in float64 for accuracy.
    z = xp.asarray(x, dtype=np.float64)
    a = xp.abs(z)
    small = a < 2.0
    result = xp.empty_like(z)
    # Maclaurin series for |x| < 2 converges quickly with 40 terms.
    s = z[small]
    term = s.copy()
    total = s.copy()
    for n in range(1, 40):
        term = -term * s * s / n
        total = total + term / (2 * n + 1)
    result[small] = 2 / np.sqrt(np.pi) * total
    big = z[~small]
    # Continued fraction for erfc on |x| >= 2 (Lentz), accurate to ~1e-16.
    ab = xp.abs(big)
    frac = xp.zeros_like(ab)
    for k in range(60, 0, -1):
        frac = (k / 2) / (ab + frac)
    erfc = xp.exp(-ab * ab) / np.sqrt(np.pi) / (ab + frac)
    result[~small] = xp.sign(big) * (1 - erfc)
    return result.astype(x.dtype)


@_erf.defvjp
def _erf_vjp(ctx, g):
    x = ctx.inputs[0]
    return (g * (2 / np.sqrt(np.pi)) * exp(negative(square(x))),)


def _no_grad_unary(name, ufunc):
    return primitive(name, differentiable=False, **_ufunc_op(ufunc, 1))(
        lambda xp, x: getattr(xp, ufunc)(x))


_floor = _no_grad_unary("floor", "floor")
_ceil = _no_grad_unary("ceil", "ceil")


@primitive("round", differentiable=False, shape=rules.same)
def _round(xp, x):
    # TensorFlow rounds half to even, as rint does; integers stay integers
    # (rint would turn them into float64).
    return xp.rint(x) if x.dtype.kind in "fc" else x


_is_nan = _no_grad_unary("is_nan", "isnan")
_is_inf = _no_grad_unary("is_inf", "isinf")
_is_finite = _no_grad_unary("is_finite", "isfinite")


def _where_shape(condition, x, y):
    dtype = np.result_type(x.dtype, y.dtype)  # what np.where gives
    return AbstractArray(rules.broadcast_shapes(condition.shape, x.shape, y.shape), dtype)


@primitive("where", save_inputs=True, shape=_where_shape,
           lowering=Lowering("np.where({0}, {1}, {2})", result="fresh"))
def _where(xp, condition, x, y):
    return xp.where(condition, x, y)


@_where.defvjp
def _where_vjp(ctx, g):
    condition = ctx.inputs[0]
    zero = zeros_like_value(g)
    return None, where(condition, g, zero), where(condition, zero, g)


def _cast_shape(x, dtype):
    return AbstractArray(x.shape, dtype)


def _emit_cast(node, args, buffer, bind) -> str:
    """With a planned buffer, convert into it (no allocation); else a new array."""
    if buffer:
        return f"{node.output.name} = np.copyto({buffer}, {args[0]}, casting='unsafe') or {buffer}"
    dtype = np.dtype(node.attrs["dtype"])
    text = "np.bool_" if dtype == np.bool_ else f"np.{dtype.name}"
    return f"{node.output.name} = np.asarray({args[0]}).astype({text})"


# Generated code always makes a new array (astype copies) or fills its buffer, though the
# forward may return its input when the dtype already matches.
@primitive("cast", save_inputs=False, shape=_cast_shape,
           lowering=Lowering(emit=_emit_cast, out=True, result="fresh", in_place=True))
def _cast(xp, x, dtype):
    return x.astype(dtype, copy=False)


@_cast.defvjp
def _cast_vjp(ctx, g):
    source = ctx.input_dtypes[0]
    if source.kind not in "fc":
        return (None,)
    if source.kind != "c" and g._value.dtype.kind == "c":
        g = real(g)  # a real input gets the real part of a complex gradient, as in TF
    return (_cast(g, dtype=source),)


def _real_shape(x):
    return AbstractArray(x.shape, np.real(np.empty((0,), x.dtype)).dtype)


@primitive("real", shape=_real_shape, lowering=Lowering("np.real({0}).copy()", result="fresh"))
def _real(xp, x):
    return xp.real(x).copy()  # a copy: np.real of a complex array is a view into it


@_real.defvjp
def _real_vjp(ctx, g):
    # d real(z) / dz for a real loss: the gradient goes to the real part (TF's rule).
    return (_cast(g, dtype=ctx.input_dtypes[0]),)


# --- public wrappers --------------------------------------------------------------


def add(x, y, name=None) -> Tensor:
    """Elementwise ``x + y`` with broadcasting. Python numbers take the tensor's dtype."""
    return _add(*binary_operands(x, y, "add"))


def subtract(x, y, name=None) -> Tensor:
    return _subtract(*binary_operands(x, y, "subtract"))


def multiply(x, y, name=None) -> Tensor:
    return _multiply(*binary_operands(x, y, "multiply"))


def truediv(x, y, name=None) -> Tensor:
    """``x / y``. Integer tensors are first cast to floats, as TensorFlow does."""
    x, y = binary_operands(x, y, "truediv")
    kind = x._value.dtype.kind
    if kind in "iub":
        target = np.float64 if x._value.dtype.itemsize >= 4 else np.float32
        x, y = _cast(x, dtype=np.dtype(target)), _cast(y, dtype=np.dtype(target))
    return _divide(x, y)


def divide(x, y, name=None) -> Tensor:
    return truediv(x, y)


def divide_no_nan(x, y, name=None) -> Tensor:
    """``x / y``, with 0 wherever ``y`` is 0."""
    x, y = binary_operands(x, y, "divide_no_nan")
    zero = equal(y, 0)
    safe = where(zero, ones_like_value(y), y)
    return where(zero, zeros_like_value(x / safe), x / safe)


def floordiv(x, y, name=None) -> Tensor:
    return _floordiv(*binary_operands(x, y, "floordiv"))


def floormod(x, y, name=None) -> Tensor:
    return _floormod(*binary_operands(x, y, "floormod"))


def pow(x, y, name=None) -> Tensor:  # noqa: A001 - TensorFlow's name
    return _pow(*binary_operands(x, y, "pow"))


def maximum(x, y, name=None) -> Tensor:
    return _maximum(*binary_operands(x, y, "maximum"))


def minimum(x, y, name=None) -> Tensor:
    return _minimum(*binary_operands(x, y, "minimum"))


def squared_difference(x, y, name=None) -> Tensor:
    return square(subtract(x, y))


def equal(x, y, name=None) -> Tensor:
    return _equal(*binary_operands(x, y, "equal"))


def not_equal(x, y, name=None) -> Tensor:
    return _not_equal(*binary_operands(x, y, "not_equal"))


def less(x, y, name=None) -> Tensor:
    return _less(*binary_operands(x, y, "less"))


def less_equal(x, y, name=None) -> Tensor:
    return _less_equal(*binary_operands(x, y, "less_equal"))


def greater(x, y, name=None) -> Tensor:
    return _greater(*binary_operands(x, y, "greater"))


def greater_equal(x, y, name=None) -> Tensor:
    return _greater_equal(*binary_operands(x, y, "greater_equal"))


def _logical(prim, x, y):
    x, y = binary_operands(x, y, prim.name)
    if x.dtype.name != "bool":
        # TensorFlow raises InvalidArgumentError (eagerly) or TypeError; this error is both.
        raise DTypeMismatchError(f"{prim.name} expects bool tensors, received {x.dtype.name}. "
                                 f"Compare first (e.g. x > 0) or use tf.cast(x, tf.bool).",
                                 prim.name)
    return prim(x, y)


def logical_and(x, y, name=None) -> Tensor:
    return _logical(_logical_and, x, y)


def logical_or(x, y, name=None) -> Tensor:
    return _logical(_logical_or, x, y)


def logical_xor(x, y, name=None) -> Tensor:
    return _logical(_logical_xor, x, y)


def logical_not(x, name=None) -> Tensor:
    x = as_tensor(x)
    if x.dtype.name != "bool":
        raise DTypeMismatchError(f"logical_not expects a bool tensor, received "
                                 f"{x.dtype.name}. Compare first (e.g. x > 0) or use "
                                 f"tf.cast(x, tf.bool).", "logical_not")
    return _logical_not(x)


def _unary(prim, floating_only=False):
    def op(x, name=None) -> Tensor:
        x = as_tensor(x)
        if floating_only and x._value.dtype.kind not in "fc":
            raise TypeError(
                f"{prim.name} expects a floating-point tensor, received {x.dtype.name}. "
                f"Use tf.cast(x, tf.float32) first.")
        return prim(x)

    op.__name__ = prim.name
    op.__doc__ = f"Elementwise {prim.name}, as ``tf.math.{prim.name}``."
    return op


negative = _unary(_negative)
abs = _unary(_abs)  # noqa: A001 - TensorFlow's name
sign = _unary(_sign)
square = _unary(_square)
exp = _unary(_exp, floating_only=True)
expm1 = _unary(_expm1, floating_only=True)
log = _unary(_log, floating_only=True)
log1p = _unary(_log1p, floating_only=True)
sqrt = _unary(_sqrt, floating_only=True)
sin = _unary(_sin, floating_only=True)
cos = _unary(_cos, floating_only=True)
tanh = _unary(_tanh, floating_only=True)
sigmoid = _unary(_sigmoid, floating_only=True)
erf = _unary(_erf, floating_only=True)
floor = _unary(_floor, floating_only=True)
ceil = _unary(_ceil, floating_only=True)
round = _unary(_round)  # noqa: A001 - TensorFlow's name
is_nan = _unary(_is_nan, floating_only=True)
is_inf = _unary(_is_inf, floating_only=True)
is_finite = _unary(_is_finite, floating_only=True)


def rsqrt(x, name=None) -> Tensor:
    """``1 / sqrt(x)``."""
    return reciprocal(sqrt(x))


def reciprocal(x, name=None) -> Tensor:
    x = as_tensor(x)
    return truediv(Tensor(np.ones((), x._value.dtype)), x)


def where(condition, x=None, y=None, name=None) -> Tensor:
    """Pick from ``x`` where ``condition`` is true, else from ``y`` (broadcasting).

    With only ``condition``, returns the coordinates of true elements (int64),
    as ``tf.where`` does.
    """
    condition = as_tensor(condition)
    if condition.dtype.name != "bool":
        raise TypeError(f"where expects a bool condition, received {condition.dtype.name}.")
    if x is None and y is None:
        from neuroflow.ops.shape_ops import where_indices

        return where_indices(condition)
    if x is None or y is None:
        given = "x" if y is None else "y"
        raise ValueError(f"where: pass both x and y (to pick from them), or neither (for the "
                         f"coordinates of true elements); received only {given}.")
    x, y = binary_operands(x, y, "where")
    return _where(condition, x, y)


def cast(x, dtype, name=None) -> Tensor:
    """Convert ``x`` to ``dtype``. Floats cast to integers truncate toward zero, as in TF."""
    from neuroflow.dtypes import as_dtype

    target = as_dtype(dtype)
    x = as_tensor(x)
    if x._value.dtype == target.np:
        return x
    if x._value.dtype.kind == "c" and target.np.kind != "c":
        return _cast(real(x), dtype=target.np)
    return _cast(x, dtype=target.np)


def real(x, name=None) -> Tensor:
    """The real part of a complex tensor; other tensors are returned unchanged, as in TF."""
    x = as_tensor(x)
    return _real(x) if x._value.dtype.kind == "c" else x


def zeros_like_value(x: Tensor) -> Tensor:
    """A zero scalar of ``x``'s dtype (broadcasts where it meets ``x``)."""
    return Tensor(np.zeros((), dtype=x._value.dtype))


def ones_like_value(x: Tensor) -> Tensor:
    return Tensor(np.ones((), dtype=x._value.dtype))


def clip_by_value(t, clip_value_min, clip_value_max, name=None) -> Tensor:
    """Clamp ``t`` to ``[clip_value_min, clip_value_max]``; the gradient is 0 outside."""
    return minimum(maximum(t, clip_value_min), clip_value_max)
