"""Elementwise primitives (unary and binary) and their public wrappers.

Binary primitives broadcast; their gradient rules return full-shaped
gradients and the tape sums them back to each input's shape in one place.

Most primitives here are one NumPy ufunc: their shape rule asks NumPy which dtype
that ufunc gives (``shape_rules.ufunc_result``) and their lowering is the ufunc
call itself (``ufunc_lowering``), which graph fusion can chain in place.

Forwards run without NumPy's floating-point warnings (``quiet``): inf and NaN are
TensorFlow's silent answers for such inputs. Wrappers refuse the dtypes TensorFlow
has no kernel for (``check_dtype_kind``), with TensorFlow's error classes.
"""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import AbstractArray
from neuroflow.errors import InvalidArgumentError, UnimplementedError
from neuroflow.ops import shape_rules as rules
from neuroflow.ops.convert import (
    DTypeMismatchError,
    as_tensor,
    binary_operands,
    check_dtype_kind,
)
from neuroflow.ops.registry import Lowering, primitive, ufunc_lowering
from neuroflow.tensor import Tensor

try:
    # NumPy 2 keeps its floating-point error state in a context variable; setting it
    # directly costs a fifth of entering np.errstate, which matters on every eager op.
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

    _IGNORE_FP_ERRORS = _make_extobj(all="ignore")
except ImportError:  # pragma: no cover - another NumPy: the public, slower way
    _extobj_contextvar = None


def quiet(forward):
    """``forward`` run with NumPy's floating-point warnings off.

    inf and NaN results are TensorFlow's answers (``log(0) = -inf``, ``1/0 = inf``,
    ``inf - inf = nan``), which it gives silently; NumPy would also warn.
    """
    if _extobj_contextvar is None:  # pragma: no cover
        return np.errstate(all="ignore")(forward)

    def run(xp, *arrays, **attrs):
        token = _extobj_contextvar.set(_IGNORE_FP_ERRORS)
        try:
            return forward(xp, *arrays, **attrs)
        finally:
            _extobj_contextvar.reset(token)

    run.__name__ = run.__qualname__ = getattr(forward, "__name__", "forward")
    return run


def _ufunc_op(ufunc: str, arity: int) -> dict:
    """The shape rule and lowering of a primitive that is exactly ``np.<ufunc>``."""
    return {"shape": rules.ufunc_result(ufunc), "lowering": ufunc_lowering(ufunc, arity)}


def _ufunc_forward(ufunc: str, arity: int):
    """The forward of ``np.<ufunc>`` (or CuPy's), quiet as :func:`quiet`, in one call: the
    most frequent ops run it, so it avoids a wrapper's extra call and argument packing."""
    if _extobj_contextvar is None:  # pragma: no cover
        return quiet(lambda xp, *arrays: getattr(xp, ufunc)(*arrays))
    set_state, reset_state = _extobj_contextvar.set, _extobj_contextvar.reset

    def unary(xp, x):
        token = set_state(_IGNORE_FP_ERRORS)
        try:
            return getattr(xp, ufunc)(x)
        finally:
            reset_state(token)

    def binary(xp, x, y):
        token = set_state(_IGNORE_FP_ERRORS)
        try:
            return getattr(xp, ufunc)(x, y)
        finally:
            reset_state(token)

    return unary if arity == 1 else binary


def _ufunc_primitive(name: str, ufunc: str, arity: int, **options):
    """A primitive that is exactly ``np.<ufunc>`` (forward, shape rule and lowering)."""
    return primitive(name, **_ufunc_op(ufunc, arity), **options)(_ufunc_forward(ufunc, arity))


# Dtype kinds TensorFlow's kernels accept (NumPy kind letters): f float, c complex,
# i signed and u unsigned integers, b bool.
FLOATS = "f"
INEXACT = "fc"
NUMBERS = "fciu"
SIGNED = "fci"
REALS = "fiu"


# --- complex conjugates ----------------------------------------------------------------

_conj = _ufunc_primitive("conj", "conjugate", 1)


@_conj.defvjp
def _conj_vjp(ctx, g):
    return (_conj(g),)


def _c(t: Tensor) -> Tensor:
    """``conj(t)`` for complex ``t``, else ``t`` itself (no op on the tape).

    TensorFlow's gradient of a holomorphic f at complex z is ``g * conj(f'(z))`` (the
    gradient of a real loss as d/dx + i d/dy); the rules below wrap each derivative in it.
    """
    return _conj(t) if t._value.dtype.kind == "c" else t


# --- binary arithmetic ----------------------------------------------------------

_add = _ufunc_primitive("add", "add", 2)


@_add.defvjp
def _add_vjp(ctx, g):
    return g, g


_subtract = _ufunc_primitive("subtract", "subtract", 2)


@_subtract.defvjp
def _subtract_vjp(ctx, g):
    return g, (negative(g) if ctx.needs(1) else None)


_multiply = _ufunc_primitive("multiply", "multiply", 2, save_inputs=True)


@_multiply.defvjp
def _multiply_vjp(ctx, g):
    x, y = ctx.inputs
    return (g * _c(y) if ctx.needs(0) else None), (g * _c(x) if ctx.needs(1) else None)


_divide = _ufunc_primitive("divide", "true_divide", 2, save_inputs=True)


@_divide.defvjp
def _divide_vjp(ctx, g):
    x, y = ctx.inputs
    gx = g / _c(y)
    return gx, (negative(gx * _c(x / y)) if ctx.needs(1) else None)


@primitive("pow", save_inputs=True, save_output=True, **_ufunc_op("power", 2))
@quiet
def _pow(xp, x, y):
    if x.dtype.kind in "iu" and y.dtype.kind in "iu" and np.any(y < 0):
        raise InvalidArgumentError("pow: integers to negative integer powers are not "
                                   "allowed; cast to float first.", "pow")
    return xp.power(x, y)


@_pow.defvjp
def _pow_vjp(ctx, g):
    x, y = ctx.inputs
    gx = g * _c(y * pow(x, y - 1)) if ctx.needs(0) else None
    if not ctx.needs(1):
        return gx, None
    # d(x^y)/dy = x^y log x, taken as 0 where x <= 0, as TensorFlow does: the log of a
    # non-positive base would give NaN (and a warning) even where y is a constant.
    # The output multiplies last, so a NaN power (negative base) keeps a NaN gradient, as in TF.
    # (For complex x, TensorFlow's mask is x != 0.)
    positive = not_equal(x, 0) if x._value.dtype.kind == "c" else greater(x, 0)
    safe_x = where(positive, x, ones_like_value(x))
    gy = g * _c(ctx.output * where(positive, log(safe_x), zeros_like_value(x)))
    return gx, gy


_maximum = _ufunc_primitive("maximum", "maximum", 2, save_inputs=True, smooth=False)


@_maximum.defvjp
def _maximum_vjp(ctx, g):
    x, y = ctx.inputs
    mask = greater_equal(x, y)  # ties go to x, as in TensorFlow
    zero = zeros_like_value(g)
    return where(mask, g, zero), where(mask, zero, g)


_minimum = _ufunc_primitive("minimum", "minimum", 2, save_inputs=True, smooth=False)


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
@quiet
def _floordiv(xp, x, y):
    if x.dtype.kind in "iu":
        if np.any(y == 0):
            raise _division_by_zero("floordiv")
        return xp.floor_divide(x, y)
    # floor(x / y), as TensorFlow: inf // 2 = inf and -5 // inf = -0.0, where NumPy's
    # floor_divide (which follows Python's divmod) gives NaN and -1.
    return xp.floor(xp.true_divide(x, y))


@primitive("floormod", save_inputs=True, shape=rules.ufunc_result("remainder"))
@quiet
def _floormod(xp, x, y):
    if x.dtype.kind in "iu":
        if np.any(y == 0):
            raise _division_by_zero("floormod")
        return xp.mod(x, y)
    # TensorFlow's rule: the C remainder (fmod), moved into y's sign when the signs
    # differ. So -5 % inf = inf and -0.0 % 1 = -0.0, where NumPy gives 5 and 0.0.
    remainder = xp.fmod(x, y)
    moved = (remainder != 0) & ((y < 0) != (remainder < 0))
    return xp.where(moved, remainder + y, remainder)


@_floormod.defvjp
def _floormod_vjp(ctx, g):
    # x mod y = x - floor(x / y) * y: d/dx = 1, d/dy = -floor(x / y) (TensorFlow's rule).
    x, y = ctx.inputs
    return g, (negative(g * floordiv(x, y)) if ctx.needs(1) else None)


@primitive("truncatediv", differentiable=False, shape=rules.ufunc_result("floor_divide"))
@quiet
def _truncatediv(xp, x, y):
    if x.dtype.kind in "iu":
        if np.any(y == 0):
            raise _division_by_zero("truncatediv")
        # x - fmod(x, y) is an exact multiple of y: the quotient rounded toward zero.
        return xp.floor_divide(x - xp.fmod(x, y), y)
    return xp.trunc(xp.true_divide(x, y))


@primitive("truncatemod", smooth=False, shape=rules.ufunc_result("fmod"))
@quiet
def _truncatemod(xp, x, y):
    if x.dtype.kind in "iu" and np.any(y == 0):
        raise _division_by_zero("truncatemod")
    return xp.fmod(x, y)


@_truncatemod.defvjp
def _truncatemod_vjp(ctx, g):
    # TensorFlow registers no gradient for TruncateMod: tape.gradient raises LookupError.
    raise LookupError("truncatemod has no gradient (TensorFlow registers none: 'gradient "
                      "registry has no entry for: TruncateMod'). Use tf.math.floormod, whose "
                      "gradient is defined, or tf.stop_gradient around the truncatemod.")


# --- TensorFlow's "no NaN" products and quotients ---------------------------------


def _result_is_zero_where(xp, zero, value, zero_value=None):
    """``value``, with 0 (or ``zero_value``, to keep the sign of a -0.0) where ``zero``."""
    return xp.where(zero, xp.zeros((), value.dtype) if zero_value is None else zero_value, value)


@primitive("multiply_no_nan", save_inputs=True, shape=rules.ufunc_result("multiply"))
@quiet
def _multiply_no_nan(xp, x, y):
    return _result_is_zero_where(xp, y == 0, xp.multiply(x, y))


@_multiply_no_nan.defvjp
def _multiply_no_nan_vjp(ctx, g):
    # TensorFlow's rule: mul_no_nan(g, y) for x and mul_no_nan(x, g) for y.
    x, y = ctx.inputs
    return (_multiply_no_nan(g, y) if ctx.needs(0) else None,
            _multiply_no_nan(x, g) if ctx.needs(1) else None)


@primitive("xlogy", save_inputs=True, shape=rules.ufunc_result("multiply"))
@quiet
def _xlogy(xp, x, y):
    # Where x is 0 the result is x itself (-0.0 stays -0.0), as TensorFlow's vectorized kernel.
    return _result_is_zero_where(xp, x == 0, x * xp.log(y), x)


@primitive("xlog1py", save_inputs=True, shape=rules.ufunc_result("multiply"))
@quiet
def _xlog1py(xp, x, y):
    return _result_is_zero_where(xp, x == 0, x * xp.log1p(y), x)


@primitive("xdivy", save_inputs=True, shape=rules.ufunc_result("multiply"))
@quiet
def _xdivy(xp, x, y):
    return _result_is_zero_where(xp, x == 0, xp.true_divide(x, y), x)


def _nonzero_indicator(x: Tensor) -> Tensor:
    """1 where ``x`` is nonzero, else 0, in ``x``'s dtype."""
    return _cast(not_equal(x, 0), dtype=x._value.dtype)


# TensorFlow's gradients, written with the ops themselves so that they stay 0 where x is 0
# (and higher derivatives follow): d xlogy/dx = xlogy(x != 0, y), d xlogy/dy = xdivy(x, y).
@_xlogy.defvjp
def _xlogy_vjp(ctx, g):
    x, y = ctx.inputs
    return (g * _xlogy(_nonzero_indicator(x), y) if ctx.needs(0) else None,
            g * _xdivy(x, y) if ctx.needs(1) else None)


@_xlog1py.defvjp
def _xlog1py_vjp(ctx, g):
    x, y = ctx.inputs
    return (g * _xlog1py(_nonzero_indicator(x), y) if ctx.needs(0) else None,
            g * _xdivy(x, y + 1) if ctx.needs(1) else None)


@_xdivy.defvjp
def _xdivy_vjp(ctx, g):
    x, y = ctx.inputs
    return (g * _xdivy(_nonzero_indicator(x), y) if ctx.needs(0) else None,
            g * _xdivy(negative(x), y * y) if ctx.needs(1) else None)


@primitive("atan2", save_inputs=True, **_ufunc_op("arctan2", 2))
@quiet
def _atan2(xp, y, x):
    return xp.arctan2(y, x)


@_atan2.defvjp
def _atan2_vjp(ctx, g):
    # d atan2(y, x) = (x dy - y dx) / (x^2 + y^2); NaN at the origin, as in TensorFlow.
    y, x = ctx.inputs
    scale = g / (x * x + y * y)
    return (scale * x if ctx.needs(0) else None,
            negative(scale * y) if ctx.needs(1) else None)


# --- comparisons and logic (no gradient) -----------------------------------------

def _comparison(name, ufunc):
    return _ufunc_primitive(name, ufunc, 2, differentiable=False)


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


_negative = _ufunc_primitive("negative", "negative", 1)


@_negative.defvjp
def _negative_vjp(ctx, g):
    return (negative(g),)


_abs = _ufunc_primitive("abs", "abs", 1, save_inputs=True, smooth=False)


@_abs.defvjp
def _abs_vjp(ctx, g):
    x = ctx.inputs[0]
    if x._value.dtype.kind == "c":  # |z|' = z / |z| (0 at 0), TensorFlow's ComplexAbs rule
        return (_cast(g, dtype=x._value.dtype) * sign(x),)
    return (g * sign(x),)


_sign = _ufunc_primitive("sign", "sign", 1, smooth=False)


@_sign.defvjp
def _sign_vjp(ctx, g):
    # TensorFlow's gradient of sign is zeros (not None); where() keeps it 0 even for inf g.
    return (_where(Tensor(np.zeros((), np.bool_)), g, zeros_like_value(g)),)
_exp = _ufunc_primitive("exp", "exp", 1, save_output=True)


@_exp.defvjp
def _exp_vjp(ctx, g):
    return (g * _c(ctx.output),)


_log = _ufunc_primitive("log", "log", 1, save_inputs=True)


@_log.defvjp
def _log_vjp(ctx, g):
    return (g / _c(ctx.inputs[0]),)


_log1p = _ufunc_primitive("log1p", "log1p", 1, save_inputs=True)


@_log1p.defvjp
def _log1p_vjp(ctx, g):
    return (g / _c(ctx.inputs[0] + 1),)


_expm1 = _ufunc_primitive("expm1", "expm1", 1, save_output=True)


@_expm1.defvjp
def _expm1_vjp(ctx, g):
    return (g * _c(ctx.output + 1),)


_sqrt = _ufunc_primitive("sqrt", "sqrt", 1, save_output=True)


@_sqrt.defvjp
def _sqrt_vjp(ctx, g):
    return (g / _c(ctx.output * 2),)


_square = _ufunc_primitive("square", "square", 1, save_inputs=True)


@_square.defvjp
def _square_vjp(ctx, g):
    return (g * _c(ctx.inputs[0] * 2),)


_sin = _ufunc_primitive("sin", "sin", 1, save_inputs=True)


@_sin.defvjp
def _sin_vjp(ctx, g):
    return (g * _c(cos(ctx.inputs[0])),)


_cos = _ufunc_primitive("cos", "cos", 1, save_inputs=True)


@_cos.defvjp
def _cos_vjp(ctx, g):
    return (negative(g * _c(sin(ctx.inputs[0]))),)


_tan = _ufunc_primitive("tan", "tan", 1, save_inputs=True)


@_tan.defvjp
def _tan_vjp(ctx, g):
    return (g / _c(square(cos(ctx.inputs[0]))),)  # sec^2, as TensorFlow computes it


_asin = _ufunc_primitive("asin", "arcsin", 1, save_inputs=True)


@_asin.defvjp
def _asin_vjp(ctx, g):
    x = ctx.inputs[0]
    return (g / _c(sqrt(1 - x * x)),)


_acos = _ufunc_primitive("acos", "arccos", 1, save_inputs=True)


@_acos.defvjp
def _acos_vjp(ctx, g):
    x = ctx.inputs[0]
    return (negative(g / _c(sqrt(1 - x * x))),)


_atan = _ufunc_primitive("atan", "arctan", 1, save_inputs=True)


@_atan.defvjp
def _atan_vjp(ctx, g):
    x = ctx.inputs[0]
    return (g / _c(1 + x * x),)


_sinh = _ufunc_primitive("sinh", "sinh", 1, save_inputs=True)


@_sinh.defvjp
def _sinh_vjp(ctx, g):
    return (g * _c(cosh(ctx.inputs[0])),)


_cosh = _ufunc_primitive("cosh", "cosh", 1, save_inputs=True)


@_cosh.defvjp
def _cosh_vjp(ctx, g):
    return (g * _c(sinh(ctx.inputs[0])),)


_tanh = _ufunc_primitive("tanh", "tanh", 1, save_output=True)


@_tanh.defvjp
def _tanh_vjp(ctx, g):
    y = ctx.output
    return (g * _c(1 - y * y),)


_asinh = _ufunc_primitive("asinh", "arcsinh", 1, save_output=True)


@_asinh.defvjp
def _asinh_vjp(ctx, g):
    return (g / _c(cosh(ctx.output)),)  # TensorFlow's form: 1 / cosh(asinh(x))


_acosh = _ufunc_primitive("acosh", "arccosh", 1, save_output=True)


@_acosh.defvjp
def _acosh_vjp(ctx, g):
    return (g / _c(sinh(ctx.output)),)  # 1 / sinh(acosh(x)): NaN below 1, as in TF


_atanh = _ufunc_primitive("atanh", "arctanh", 1, save_inputs=True)


@_atanh.defvjp
def _atanh_vjp(ctx, g):
    x = ctx.inputs[0]
    return (g / _c(1 - x * x),)


@primitive("sigmoid", save_output=True, shape=rules.same)
@quiet
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
    return (g * _c(y * (1 - y)),)


@primitive("erf", save_inputs=True, shape=rules.same)
def _erf(xp, x):
    try:
        from scipy.special import erf as scipy_erf  # optional: exact and fast
    except ImportError:
        return _erf_numpy(xp, x)
    return scipy_erf(x).astype(x.dtype, copy=False)


@quiet
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
    result[~small] = xp.sign(big) * (1 - erfc_continued_fraction(xp, xp.abs(big)))
    return xp.copysign(result, z).astype(x.dtype)  # erf is odd: erf(-0.0) = -0.0


def erfc_continued_fraction(xp, x):
    """erfc of float64 ``x >= 2`` (or inf/NaN) by its continued fraction, to ~1e-16."""
    frac = xp.zeros_like(x)
    for k in range(60, 0, -1):
        frac = (k / 2) / (x + frac)
    return xp.exp(-x * x) / np.sqrt(np.pi) / (x + frac)


@_erf.defvjp
def _erf_vjp(ctx, g):
    x = ctx.inputs[0]
    return (g * (2 / np.sqrt(np.pi)) * exp(negative(square(x))),)


def _no_grad_unary(name, ufunc):
    return _ufunc_primitive(name, ufunc, 1, differentiable=False)


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


# --- casts ------------------------------------------------------------------------------


def _cast_shape(x, dtype):
    return AbstractArray(x.shape, dtype)


def _truncate(xp, x, bits: int):
    """float64 ``x`` truncated toward zero to a signed integer of ``bits`` bits; NaN and
    values out of range give the most negative integer, as x86's conversion does."""
    itype = np.int32 if bits == 32 else np.int64
    limit = 2.0 ** (bits - 1)
    inside = (x >= -limit) & (x < limit)  # False for NaN
    whole = xp.where(inside, x, 0).astype(itype)
    return xp.where(inside, whole, np.iinfo(itype).min)


def float_to_int(xp, x, dtype):
    """TensorFlow's cast of floats to integers, without NumPy's warnings.

    Truncate toward zero through int32 (int64 for 64-bit targets), where NaN and values out
    of range become the most negative value; 8- and 16-bit targets then saturate, so 256.0
    -> uint8 is 255, -1.7 -> uint8 is 0 and NaN -> int8 is -128. That is what TensorFlow's
    vectorized CPU kernel gives (its scalar loop over the last few elements of a tensor
    wraps around instead: TensorFlow itself is not consistent there). Unsigned 32/64-bit
    targets take values from 2**31 (2**63) up through the kernel's offset conversion.
    """
    dtype = np.dtype(dtype)
    x = x.astype(np.float64)  # exact for float16 and float32
    bits = 64 if dtype.itemsize == 8 else 32
    low = _truncate(xp, x, bits)
    if dtype.itemsize < 4:
        info = np.iinfo(dtype)
        return xp.clip(low, info.min, info.max).astype(dtype)
    if dtype.kind == "u":
        high = _truncate(xp, x - 2.0 ** (bits - 1), bits)
        low = low | (high & (low >> (bits - 1)))  # the offset conversion where low overflowed
    return low.astype(dtype)  # int32/int64 bits reinterpreted for unsigned targets


def _emit_cast(node, args, buffer, bind) -> str:
    """With a planned buffer, convert into it (no allocation); else a new array."""
    dtype = np.dtype(node.attrs["dtype"])
    if node.inputs[0].dtype.kind == "f" and dtype.kind in "iu":
        convert = f"{bind('float_to_int', float_to_int)}(np, {args[0]}, {bind('dtype', dtype)})"
        if buffer:
            return f"{node.output.name} = np.copyto({buffer}, {convert}) or {buffer}"
        return f"{node.output.name} = {convert}"
    if buffer:
        return f"{node.output.name} = np.copyto({buffer}, {args[0]}, casting='unsafe') or {buffer}"
    text = "np.bool_" if dtype == np.bool_ else f"np.{dtype.name}"
    return f"{node.output.name} = np.asarray({args[0]}).astype({text})"


# Generated code always makes a new array (astype copies) or fills its buffer, though the
# forward may return its input when the dtype already matches.
@primitive("cast", save_inputs=False, shape=_cast_shape,
           lowering=Lowering(emit=_emit_cast, out=True, result="fresh", in_place=True))
@quiet
def _cast(xp, x, dtype):
    if x.dtype.kind == "f" and np.dtype(dtype).kind in "iu":
        return float_to_int(xp, x, dtype)
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


@primitive("imag", shape=_real_shape, lowering=Lowering("np.imag({0}).copy()", result="fresh"))
def _imag(xp, x):
    return xp.imag(x).copy()


@_imag.defvjp
def _imag_vjp(ctx, g):
    # TensorFlow's rule: the gradient goes to the imaginary part, complex(0, g).
    return (_complex(zeros_like_value(g), g),)


def _complex_shape(re, im):
    dtype = np.result_type(re.dtype, np.complex64)  # float32 -> complex64, float64 -> 128
    return AbstractArray(rules.broadcast_shapes(re.shape, im.shape), dtype)


@primitive("complex", shape=_complex_shape)
def _complex(xp, re, im):
    shape = np.broadcast_shapes(re.shape, im.shape)
    out = xp.empty(shape, np.result_type(re.dtype, np.complex64))
    out.real = re  # set the parts, not re + 1j * im: that would turn inf * 0 into NaN
    out.imag = im
    return out


@_complex.defvjp
def _complex_vjp(ctx, g):
    return (real(g) if ctx.needs(0) else None), (imag(g) if ctx.needs(1) else None)


# --- public wrappers --------------------------------------------------------------


def _binary(prim, x, y, kinds: str, op: str | None = None, refused: tuple[str, ...] = ()):
    """``prim`` on two operands converted as TensorFlow's binary ops convert them."""
    op = op or prim.name
    x, y = binary_operands(x, y, op)
    check_dtype_kind(op, x, kinds, refused=refused)
    return prim(x, y)


def add(x, y, name=None) -> Tensor:
    """Elementwise ``x + y`` with broadcasting. Python numbers take the tensor's dtype."""
    return _binary(_add, x, y, NUMBERS)


def subtract(x, y, name=None) -> Tensor:
    return _binary(_subtract, x, y, NUMBERS)


def multiply(x, y, name=None) -> Tensor:
    return _binary(_multiply, x, y, NUMBERS)


def scalar_mul(scalar, x, name=None) -> Tensor:
    """``scalar * x`` for a 0-d ``scalar``, which takes ``x``'s dtype (as tf.math.scalar_mul)."""
    scalar, x = binary_operands(scalar, x, "scalar_mul")
    if len(scalar._value.shape) != 0:
        raise ValueError(f"scalar_mul: the input scalar must be a 0-D value. Received shape "
                         f"{tuple(scalar.shape)}; use tf.multiply to multiply tensors.")
    return multiply(scalar, x)


def truediv(x, y, name=None) -> Tensor:
    """``x / y``. Integer tensors are first cast to floats, as TensorFlow does."""
    x, y = binary_operands(x, y, "truediv")
    check_dtype_kind("truediv", x, NUMBERS)
    kind = x._value.dtype.kind
    if kind in "iu":
        target = np.float64 if x._value.dtype.itemsize >= 4 else np.float32
        x, y = _cast(x, dtype=np.dtype(target)), _cast(y, dtype=np.dtype(target))
    return _divide(x, y)


def divide(x, y, name=None) -> Tensor:
    return truediv(x, y)


def realdiv(x, y, name=None) -> Tensor:
    """``x / y`` for floating-point or complex tensors (integers are refused, as in TF)."""
    return _binary(_divide, x, y, INEXACT, "realdiv")


def divide_no_nan(x, y, name=None) -> Tensor:
    """``x / y``, with 0 wherever ``y`` is 0."""
    x, y = binary_operands(x, y, "divide_no_nan")
    check_dtype_kind("divide_no_nan", x, NUMBERS)
    zero = equal(y, 0)
    safe = where(zero, ones_like_value(y), y)
    return where(zero, zeros_like_value(x / safe), x / safe)


def reciprocal_no_nan(x, name=None) -> Tensor:
    """``1 / x``, with 0 wherever ``x`` is 0."""
    x = as_tensor(x)
    check_dtype_kind("reciprocal_no_nan", x, INEXACT)
    return divide_no_nan(ones_like_value(x), x)


def multiply_no_nan(x, y, name=None) -> Tensor:
    """``x * y``, with 0 wherever ``y`` is 0 (even where ``x`` is inf or NaN)."""
    return _binary(_multiply_no_nan, x, y, INEXACT)


def xlogy(x, y, name=None) -> Tensor:
    """``x * log(y)``, with 0 wherever ``x`` is 0 (even where ``y`` is 0 or NaN)."""
    return _binary(_xlogy, x, y, INEXACT)


def xlog1py(x, y, name=None) -> Tensor:
    """``x * log1p(y)``, with 0 wherever ``x`` is 0."""
    return _binary(_xlog1py, x, y, INEXACT)


def xdivy(x, y, name=None) -> Tensor:
    """``x / y``, with 0 wherever ``x`` is 0."""
    return _binary(_xdivy, x, y, INEXACT)


def floordiv(x, y, name=None) -> Tensor:
    """``floor(x / y)``; integer division by zero is an error, float gives inf/NaN."""
    return _binary(_floordiv, x, y, REALS)


def floormod(x, y, name=None) -> Tensor:
    """``x - floor(x / y) * y``: the remainder with the sign of ``y``."""
    return _binary(_floormod, x, y, REALS)


def truncatediv(x, y, name=None) -> Tensor:
    """``x / y`` rounded toward zero (C's integer division)."""
    return _binary(_truncatediv, x, y, REALS)


def truncatemod(x, y, name=None) -> Tensor:
    """The remainder of :func:`truncatediv`: it has the sign of ``x`` (C's ``fmod``)."""
    return _binary(_truncatemod, x, y, "fi", refused=("float16", "int8", "int16"))


def pow(x, y, name=None) -> Tensor:  # noqa: A001 - TensorFlow's name
    return _binary(_pow, x, y, SIGNED)


def atan2(y, x, name=None) -> Tensor:
    """The angle of the point ``(x, y)``, in ``[-pi, pi]``, as ``tf.math.atan2(y, x)``."""
    y, x = binary_operands(y, x, "atan2")
    check_dtype_kind("atan2", y, FLOATS, "y")
    return _atan2(y, x)


def maximum(x, y, name=None) -> Tensor:
    return _binary(_maximum, x, y, REALS)


def minimum(x, y, name=None) -> Tensor:
    return _binary(_minimum, x, y, REALS)


def squared_difference(x, y, name=None) -> Tensor:
    x, y = binary_operands(x, y, "squared_difference")
    check_dtype_kind("squared_difference", x, "fci", refused=("int8", "int16"))
    difference = subtract(x, y)
    if x._value.dtype.kind == "c":  # (x - y) conj(x - y), as TensorFlow: |x - y|^2, real
        return cast(square(abs(difference)), x.dtype)
    return square(difference)


def equal(x, y, name=None) -> Tensor:
    return _equal(*binary_operands(x, y, "equal"))


def not_equal(x, y, name=None) -> Tensor:
    return _not_equal(*binary_operands(x, y, "not_equal"))


def less(x, y, name=None) -> Tensor:
    return _binary(_less, x, y, REALS)


def less_equal(x, y, name=None) -> Tensor:
    return _binary(_less_equal, x, y, REALS)


def greater(x, y, name=None) -> Tensor:
    return _binary(_greater, x, y, REALS)


def greater_equal(x, y, name=None) -> Tensor:
    return _binary(_greater_equal, x, y, REALS)


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


def unary(prim, kinds: str, name: str | None = None, refused: tuple[str, ...] = ()):
    """The public wrapper of a one-input primitive, refusing dtypes outside ``kinds``."""
    name = name or prim.name

    def op(x, name=None) -> Tensor:
        x = as_tensor(x)
        check_dtype_kind(op.__name__, x, kinds, refused=refused)
        return prim(x)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}, as ``tf.math.{name}``."
    return op


negative = unary(_negative, SIGNED)
abs = unary(_abs, SIGNED)  # noqa: A001 - TensorFlow's name
sign = unary(_sign, SIGNED)
square = unary(_square, NUMBERS)
exp = unary(_exp, INEXACT)
expm1 = unary(_expm1, INEXACT)
log = unary(_log, INEXACT)
log1p = unary(_log1p, INEXACT)
sqrt = unary(_sqrt, INEXACT)
sin = unary(_sin, INEXACT)
cos = unary(_cos, INEXACT)
tan = unary(_tan, INEXACT)
asin = unary(_asin, INEXACT)
acos = unary(_acos, INEXACT)
atan = unary(_atan, INEXACT)
sinh = unary(_sinh, INEXACT)
cosh = unary(_cosh, INEXACT)
tanh = unary(_tanh, INEXACT)
asinh = unary(_asinh, INEXACT)
acosh = unary(_acosh, INEXACT)
atanh = unary(_atanh, INEXACT)
sigmoid = unary(_sigmoid, INEXACT)
erf = unary(_erf, FLOATS)
floor = unary(_floor, FLOATS)
ceil = unary(_ceil, FLOATS)
round = unary(_round, REALS)  # noqa: A001 - TensorFlow's name
rint = unary(_round, FLOATS, "rint", refused=("float16",))  # half to even, floats only
is_nan = unary(_is_nan, FLOATS)
is_inf = unary(_is_inf, FLOATS)
is_finite = unary(_is_finite, FLOATS)


def conj(x, name=None) -> Tensor:
    """The complex conjugate; real tensors are returned unchanged, as ``tf.math.conj``."""
    x = as_tensor(x)
    check_dtype_kind("conj", x, NUMBERS)
    return _conj(x) if x._value.dtype.kind == "c" else x


def rsqrt(x, name=None) -> Tensor:
    """``1 / sqrt(x)``."""
    return reciprocal(sqrt(x))


def reciprocal(x, name=None) -> Tensor:
    x = as_tensor(x)
    check_dtype_kind("reciprocal", x, INEXACT)
    return truediv(Tensor(np.ones((), x._value.dtype)), x)


def where(condition, x=None, y=None, name=None) -> Tensor:
    """Pick from ``x`` where ``condition`` is true, else from ``y`` (broadcasting).

    With only ``condition``, returns the coordinates of its true (nonzero) elements
    (int64), as ``tf.where`` does.
    """
    condition = as_tensor(condition)
    if x is None and y is None:
        from neuroflow.ops.shape_ops import where_indices

        if condition.dtype.name != "bool":
            condition = not_equal(condition, 0)  # TF: the coordinates of nonzero entries
        return where_indices(condition)
    if x is None or y is None:
        given = "x" if y is None else "y"
        raise ValueError(f"where: pass both x and y (to pick from them), or neither (for the "
                         f"coordinates of true elements); received only {given}.")
    if condition.dtype.name != "bool":
        raise DTypeMismatchError(f"where expects a bool condition, received "
                                 f"{condition.dtype.name}. Compare first (e.g. c != 0) or use "
                                 f"tf.cast(condition, tf.bool).", "where")
    x, y = binary_operands(x, y, "where")
    return _where(condition, x, y)


def cast(x, dtype, name=None) -> Tensor:
    """Convert ``x`` to ``dtype`` as TensorFlow does: floats cast to integers truncate toward
    zero (out-of-range values as TensorFlow's vectorized kernel, see :func:`float_to_int`);
    complex to real keeps the real part."""
    from neuroflow.dtypes import as_dtype

    target = as_dtype(dtype)
    x = as_tensor(x)
    if x._value.dtype == target.np:
        return x
    if x._value.dtype.kind == "O" or target.np.kind == "O":
        # TensorFlow has no cast between strings and numbers (tf.strings.to_number and
        # tf.strings.as_string convert them).
        source = "string" if x._value.dtype.kind == "O" else x._value.dtype.name
        goal = "string" if target.np.kind == "O" else target.np.name
        raise UnimplementedError(
            f"Cast {source} to {goal} is not supported. Use tf.strings.to_number or "
            f"tf.strings.as_string to convert between text and numbers.", "Cast")
    if x._value.dtype.kind == "c" and target.np.kind != "c":
        return _cast(real(x), dtype=target.np)
    return _cast(x, dtype=target.np)


def _range_of(dtype: np.dtype):
    return np.finfo(dtype) if dtype.kind in "fc" else np.iinfo(dtype)


def _saturation_bounds(source: np.dtype, target: np.dtype) -> tuple:
    """TensorFlow's clamp bounds for ``saturate_cast``, in ``source``'s dtype: the target's
    range, nudged toward zero where its ends are not representable in ``source``."""
    inside, outside = _range_of(source), _range_of(target)
    promoted = np.promote_types(source, target)
    # TensorFlow's arithmetic, overflow included: for int64 -> uint64 the upper bound
    # 2**63 does not fit int64 and wraps (on x86), so TensorFlow clamps everything to 0.
    with np.errstate(all="ignore"):
        low = source.type(np.maximum(inside.min, outside.min))
        if np.array(low, promoted) < np.array(outside.min, promoted):
            low = np.nextafter(low, source.type(0), dtype=source)
        high = np.array(np.minimum(float(inside.max), float(outside.max))).astype(source)[()]
        if np.array(high, promoted) > np.array(outside.max, promoted):
            high = np.nextafter(high, source.type(0), dtype=source)
    return low, high


def saturate_cast(value, dtype, name=None) -> Tensor:
    """``tf.cast`` that first clamps ``value`` to the range of ``dtype`` (no wrap-around)."""
    from neuroflow.dtypes import as_dtype

    target = as_dtype(dtype).np
    value = as_tensor(value)
    if value._value.dtype.kind == "b" or target.kind == "b":
        raise TypeError(f"saturate_cast: bool has no numeric range to clamp to (received "
                        f"{value.dtype.name} -> {np.dtype(target).name}); use tf.cast.")
    if value._value.dtype.kind == "c":
        if target.kind == "c":  # clamp the real and imaginary parts separately
            part = np.real(np.empty((0,), target)).dtype
            low, high = _saturation_bounds(real(value)._value.dtype, part)
            bounds = Tensor(np.asarray(low)), Tensor(np.asarray(high))
            return _complex(cast(clip_by_value(real(value), *bounds), part),
                            cast(clip_by_value(imag(value), *bounds), part))
        value = real(value)
    real_target = np.real(np.empty((0,), target)).dtype
    low, high = _saturation_bounds(value._value.dtype, real_target)
    return cast(clip_by_value(value, Tensor(np.asarray(low)), Tensor(np.asarray(high))), target)


def real(x, name=None) -> Tensor:
    """The real part of a complex tensor; other tensors are returned unchanged, as in TF."""
    x = as_tensor(x)
    return _real(x) if x._value.dtype.kind == "c" else x


def imag(x, name=None) -> Tensor:
    """The imaginary part of a complex tensor; zeros for other tensors, as in TF."""
    x = as_tensor(x)
    check_dtype_kind("imag", x, NUMBERS)
    if x._value.dtype.kind == "c":
        return _imag(x)
    return _where(Tensor(np.zeros((), np.bool_)), x, zeros_like_value(x))  # zeros, even for inf


def complex(real, imag, name=None) -> Tensor:  # noqa: A001 - TensorFlow's name
    """The complex tensor ``real + imag * 1j`` (float32 parts give complex64, float64
    complex128); the parts broadcast and must share a dtype."""
    re, im = as_tensor(real), as_tensor(imag)
    if (re._value.dtype != im._value.dtype or re._value.dtype.kind != "f"
            or re._value.dtype.itemsize < 4):
        raise TypeError(f"complex: the real and imag parts must both be float32 or both "
                        f"float64; received {re.dtype.name} and {im.dtype.name}. Use "
                        f"tf.cast on them first.")
    return _complex(re, im)


def zeros_like_value(x: Tensor) -> Tensor:
    """A zero scalar of ``x``'s dtype (broadcasts where it meets ``x``)."""
    return Tensor(np.zeros((), dtype=x._value.dtype))


def ones_like_value(x: Tensor) -> Tensor:
    return Tensor(np.ones((), dtype=x._value.dtype))


def clip_by_value(t, clip_value_min, clip_value_max, name=None) -> Tensor:
    """Clamp ``t`` to ``[clip_value_min, clip_value_max]``; the gradient is 0 outside.

    As in TensorFlow, ``min(t, max)`` is taken first, so where the bounds cross the
    result is ``clip_value_min``; the bounds may broadcast, but not beyond ``t``'s shape.
    """
    t = as_tensor(t)
    check_dtype_kind("clip_by_value", t, REALS, "t")
    result = maximum(minimum(t, clip_value_max), clip_value_min)
    if rules.shapes_differ(result._value.shape, t._value.shape):
        raise ValueError(f"clip_by_value: the clipped tensor would have shape "
                         f"{rules.shape_text(result._value.shape)}, but t has shape "
                         f"{rules.shape_text(t._value.shape)}; the bounds must broadcast to "
                         f"t's shape.")
    return result
