"""Special functions: erfc, lgamma, digamma, polygamma, erfinv and ndtri.

NumPy has none of them (SciPy is not a dependency), so each is computed here in
float64 from a classical formula, to about 1e-15 relative accuracy away from zeros
of the function, and cast back to the input's dtype:

* ``erfc``: ``1 - erf`` below 2 (no cancellation there), its continued fraction above.
* ``lgamma``: the Taylor series of ``lgamma(1 + z)`` (coefficients ``(-1)^k zeta(k)/k``)
  around its zeros 1 and 2, Lanczos' approximation (g = 7, 9 terms) up to 10, Stirling's
  series beyond, and the reflection formula below 1/2.
* ``digamma``: the recurrence ``psi(x) = psi(x + 1) - 1/x`` up to 10, then the
  asymptotic series; the reflection formula for negative arguments.
* ``polygamma(n, x) = (-1)^(n+1) n! zeta(n + 1, x)`` with the Hurwitz zeta function by
  Euler-Maclaurin summation (as Cephes and TensorFlow compute it).
* ``ndtri``: Acklam's rational approximation (1e-9) polished by one Halley step on
  ``erfc``; ``erfinv`` the same on ``erf`` (or ``erfc`` near +-1).

Gradients are TensorFlow's: lgamma' = digamma, digamma' = polygamma(1, .),
d polygamma(n, x)/dx = polygamma(n + 1, x) (none for n), and the derivatives of the
inverse functions from their outputs.
"""

from __future__ import annotations

import functools

import numpy as np

from neuroflow.ops import shape_rules as rules
from neuroflow.ops.convert import as_tensor, binary_operands, check_dtype_kind
from neuroflow.ops.elementwise import FLOATS, erfc_continued_fraction, exp, quiet, square
from neuroflow.ops.elementwise import _erf_numpy as erf_series_or_fraction
from neuroflow.ops.registry import primitive
from neuroflow.tensor import Tensor

_EULER_GAMMA = 0.57721566490153286061
_SQRT_PI = float(np.sqrt(np.pi))
_SQRT_2 = float(np.sqrt(2.0))


def _in_float64(forward):
    """Run ``forward`` on the (broadcast) inputs as flat float64 arrays; the result has the
    broadcast shape and the last input's dtype."""

    @quiet
    def run(xp, *arrays):
        wide = xp.broadcast_arrays(*(xp.asarray(a, dtype=np.float64) for a in arrays))
        result = forward(xp, *(a.ravel() for a in wide))  # 1-d: masks assign in place
        return result.reshape(wide[0].shape).astype(arrays[-1].dtype, copy=False)

    run.__name__ = forward.__name__
    return run


# --- erfc -------------------------------------------------------------------------------


def erfc_float64(xp, x):
    """erfc of a float64 array: ``1 - erf`` where that loses nothing, else the fraction."""
    result = 1.0 - erf_series_or_fraction(xp, x)
    upper = x >= 2.0
    lower = x <= -2.0
    result[upper] = erfc_continued_fraction(xp, x[upper])
    result[lower] = 2.0 - erfc_continued_fraction(xp, -x[lower])
    return result


@primitive("erfc", save_inputs=True, shape=rules.same)
@_in_float64
def _erfc(xp, x):
    return erfc_float64(xp, x)


@_erfc.defvjp
def _erfc_vjp(ctx, g):
    return (g * (-2 / _SQRT_PI) * exp(-square(ctx.inputs[0])),)


# --- lgamma -----------------------------------------------------------------------------

_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028,
            771.32342877765313, -176.61502916214059, 12.507343278686905,
            -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7)
# Stirling's series for lgamma: B_2k / (2k (2k - 1) x^(2k-1)), k = 1..7.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)


@functools.cache
def _lgamma1p_coefficients() -> np.ndarray:
    """Taylor coefficients of lgamma(1 + z) from z^2 on: (-1)^k zeta(k) / k, k = 2..57."""
    k = np.arange(2, 58, dtype=np.float64)
    return (-1.0) ** k * hurwitz_zeta(np, k, np.ones_like(k)) / k


def _lgamma1p_series(xp, z):
    """lgamma(1 + z) for |z| <= 1/2 (exact zeros at z = 0 and z = 1 stay exact)."""
    total = xp.zeros_like(z)
    for c in _lgamma1p_coefficients()[::-1]:
        total = (total + c) * z
    return (total - _EULER_GAMMA) * z + 0.0  # + 0.0: lgamma(1) is 0.0, not -0.0


def _sin_pi_abs(xp, x):
    """|sin(pi x)|, exactly 0 at integers: x is reduced exactly to [0, 1/2] first."""
    r = xp.abs(x - 2.0 * xp.round(x / 2.0))  # in [0, 1]
    r = xp.where(r > 0.5, 1.0 - r, r)
    return xp.sin(np.pi * r)


def _lgamma_from_half(xp, x):
    """lgamma of float64 ``x >= 1/2`` (inf and NaN pass through)."""
    result = xp.empty_like(x)
    near_one = x < 1.5
    near_two = (x >= 1.5) & (x < 2.5)
    middle = (x >= 2.5) & (x < 10.0)
    large = ~(near_one | near_two | middle)  # x >= 10, inf, NaN
    result[near_one] = _lgamma1p_series(xp, x[near_one] - 1.0)
    z = x[near_two] - 2.0
    result[near_two] = _lgamma1p_series(xp, z) + xp.log1p(z)  # lgamma(2+z) = lgamma(1+z) + log(1+z)
    y = x[middle] - 1.0  # Lanczos approximates Gamma(y + 1)
    series = xp.full_like(y, _LANCZOS[0])
    for i, c in enumerate(_LANCZOS[1:], start=1):
        series = series + c / (y + i)
    t = y + _LANCZOS_G + 0.5
    result[middle] = 0.5 * np.log(2 * np.pi) + (y + 0.5) * xp.log(t) - t + xp.log(series)
    v = x[large]
    w = 1.0 / (v * v)
    correction = xp.zeros_like(v)
    for c in _STIRLING[::-1]:
        correction = correction * w + c
    stirling = (v - 0.5) * xp.log(v) - v + 0.5 * np.log(2 * np.pi) + correction / v
    result[large] = xp.where(xp.isinf(v), np.inf, stirling)  # inf - inf would be NaN
    return result


def lgamma_float64(xp, x):
    """log|Gamma(x)| of a float64 array: inf at the poles (0, -1, -2, ...) and at +-inf."""
    result = xp.empty_like(x)
    upper = (x >= 0.5) | xp.isnan(x)
    result[upper] = _lgamma_from_half(xp, x[upper])
    lower = ~upper
    v = x[lower]
    tiny = xp.abs(v) < 1e-10  # lgamma(x) = -log|x| - gamma x + O(x^2): avoids sin(pi x)
    # Reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x).
    with_reflection = (np.log(np.pi) - xp.log(_sin_pi_abs(xp, v))
                       - _lgamma_from_half(xp, 1.0 - v))
    near_zero = -xp.log(xp.abs(v)) - _EULER_GAMMA * v
    result[lower] = xp.where(tiny, near_zero, xp.where(xp.isinf(v), np.inf, with_reflection))
    return result


@primitive("lgamma", save_inputs=True, shape=rules.same)
@_in_float64
def _lgamma(xp, x):
    return lgamma_float64(xp, x)


@_lgamma.defvjp
def _lgamma_vjp(ctx, g):
    return (g * _digamma(ctx.inputs[0]),)


# --- digamma ---------------------------------------------------------------------------

# The asymptotic series of digamma: B_2k / (2k x^2k), k = 1..7.
_DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def _digamma_positive(xp, x):
    """digamma of float64 ``x > 0``: shift past 10 with psi(x) = psi(x + 1) - 1/x."""
    shift = xp.zeros_like(x)
    y = x.copy()
    for _ in range(10):
        small = y < 10.0
        shift = shift - xp.where(small, 1.0 / y, 0.0)
        y = xp.where(small, y + 1.0, y)
    w = (1.0 / y) ** 2
    series = xp.zeros_like(y)
    for c in _DIGAMMA_SERIES[::-1]:
        series = (series + c) * w
    return shift + xp.log(y) - 0.5 / y - series


def digamma_float64(xp, x):
    """digamma of a float64 array: NaN at 0, the negative integers and -inf."""
    result = xp.empty_like(x)
    positive = (x > 0) | xp.isnan(x)
    result[positive] = _digamma_positive(xp, x[positive])
    v = x[~positive]
    # Reflection: psi(x) = psi(1 - x) - pi / tan(pi x); tan has period 1, so reduce exactly.
    r = v - xp.round(v)
    cot = xp.where(r == 0, np.nan, np.pi / xp.tan(np.pi * r))
    result[~positive] = _digamma_positive(xp, 1.0 - v) - cot
    return result


@primitive("digamma", save_inputs=True, shape=rules.same)
@_in_float64
def _digamma(xp, x):
    return digamma_float64(xp, x)


@_digamma.defvjp
def _digamma_vjp(ctx, g):
    x = ctx.inputs[0]
    return (g * _polygamma(Tensor(np.ones((), x._value.dtype)), x),)


# --- polygamma ---------------------------------------------------------------------------

# (2j)! / B_2j, j = 1..12: the Euler-Maclaurin tail of the Hurwitz zeta function.
_EULER_MACLAURIN = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0,
                    -1.8924375803183791606e9, 7.47242496e10, -2.950130727918164224e12,
                    1.1646782814350067249e14, -4.5979787224074726105e15,
                    1.8152105401943546773e17, -7.1661652561756670113e18)


def hurwitz_zeta(xp, s, q):
    """zeta(s, q) = sum over k >= 0 of (q + k)^-s, for float64 ``s > 1`` and integer-valued
    ``s`` where ``q <= 0``; Euler-Maclaurin summation after the terms up to q + k > 9."""
    s, q = xp.broadcast_arrays(s, q)
    finite_q = q[xp.isfinite(q)]
    lowest = float(finite_q.min()) if finite_q.size else 0.0
    terms = max(9, int(np.ceil(9.0 - lowest)) + 1)
    total = xp.zeros(s.shape)
    block = 1 if terms <= 64 else 1024  # far negative q: many terms, summed a block at a time
    for start in range(0, terms, block):
        k = xp.arange(start, min(start + block, terms), dtype=np.float64)
        total = total + ((q[..., None] + k) ** -s[..., None]).sum(axis=-1)
    w = q + terms
    b = w ** -s
    total = total + b * w / (s - 1) + 0.5 * b
    a = xp.ones(s.shape)
    k = 0.0
    for coefficient in _EULER_MACLAURIN:
        a = a * (s + k)
        b = b / w
        total = total + a * b / coefficient
        a = a * (s + k + 1)
        b = b / w
        k += 2.0
    asymptotic = (1 / (s - 1) + 0.5 / q) * q ** (1 - s)  # far out, as Cephes does
    return xp.where(q > 1e8, asymptotic, total)


def polygamma_float64(xp, n, x):
    """The n-th derivative of digamma, for float64 arrays (NaN unless n is a whole number)."""
    n, x = xp.broadcast_arrays(n, x)
    whole = (n >= 0) & (n == xp.floor(n))
    order = xp.where(whole & (n > 0), n, 1.0)
    zeta = hurwitz_zeta(xp, order + 1, xp.where(x <= 0, xp.where(x == xp.floor(x), 1.0, x), x))
    value = (-1.0) ** (order + 1) * xp.exp(lgamma_float64(xp, order + 1)) * zeta
    # At 0, the negative integers and -inf TensorFlow gives inf for odd n and NaN for even n.
    pole = (x <= 0) & (x == xp.floor(x))
    value = xp.where(pole, xp.where(order % 2 == 1, np.inf, np.nan), value)
    value = xp.where(n == 0, digamma_float64(xp, x), value)
    return xp.where(whole, value, np.nan)


def _polygamma_shape(n, x):
    return rules.broadcast(x, n)


@primitive("polygamma", save_inputs=True, shape=_polygamma_shape)
@_in_float64
def _polygamma(xp, n, x):
    return polygamma_float64(xp, n, x)


@_polygamma.defvjp
def _polygamma_vjp(ctx, g):
    n, x = ctx.inputs
    return None, g * _polygamma(n + 1, x)


# --- ndtri and erfinv --------------------------------------------------------------------

# Acklam's rational approximation of the normal quantile (relative error 1.15e-9).
_ACKLAM_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_ACKLAM_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
             6.680131188771972e+01, -1.328068155288572e+01, 1.0)
_ACKLAM_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
             -2.549671010322563e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_ACKLAM_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
             3.754408661907416e+00, 1.0)
_ACKLAM_SPLIT = 0.02425


def _polynomial(coefficients, x):
    total = 0.0 * x
    for c in coefficients:
        total = total * x + c
    return total


def _acklam_center(q):
    """The normal quantile of 0.5 + q, for |q| <= 0.5 - 0.02425 (q given exactly)."""
    r = q * q
    return q * _polynomial(_ACKLAM_A, r) / _polynomial(_ACKLAM_B, r)


def _acklam_tail(p):
    """The normal quantile of a lower-tail probability 0 < p < 0.02425 (negative)."""
    t = np.sqrt(-2.0 * np.log(p))
    return _polynomial(_ACKLAM_C, t) / _polynomial(_ACKLAM_D, t)


def _normal_quantile_guess(xp, tail):
    """Acklam's quantile of the lower-tail probability ``tail`` in (0, 1/2]."""
    center = tail >= _ACKLAM_SPLIT
    safe = xp.where(center, _ACKLAM_SPLIT / 2, tail)
    return xp.where(center, _acklam_center(tail - 0.5), _acklam_tail(safe))


def _halley_on_erfc(xp, y, target):
    """One Halley step toward erfc(y) = target: cubic convergence from Acklam's 1e-9."""
    g = erfc_float64(xp, y) - target
    slope = -2 / _SQRT_PI * xp.exp(-y * y)
    step = g / (slope + y * g)
    return xp.where(xp.isfinite(step), y - step, y)


def ndtri_float64(xp, p):
    """The normal quantile of a float64 probability array: +-inf at 1 and 0, else NaN
    outside [0, 1]."""
    upper = p > 0.5
    tail = xp.where(upper, 1.0 - p, p)  # exact for p >= 1/2
    inside = (tail > 0) & (p <= 1)
    tail_inside = xp.where(inside, tail, 0.25)
    # Phi(x) = erfc(-x / sqrt 2) / 2, so the lower quantile solves erfc(-x / sqrt 2) = 2 p.
    z = -_normal_quantile_guess(xp, tail_inside) / _SQRT_2
    z = _halley_on_erfc(xp, z, 2.0 * tail_inside)
    x = -_SQRT_2 * z
    x = xp.where(upper, -x, x)
    edge = xp.where(p == 0, -np.inf, xp.where(p == 1, np.inf, np.nan))
    return xp.where(inside & (p >= 0), x, edge)


def erfinv_float64(xp, x):
    """The inverse of erf on a float64 array: +-inf at +-1, NaN outside [-1, 1]."""
    a = xp.abs(x)
    inside = a < 1
    a_in = xp.where(inside, a, 0.5)
    near_zero = a_in <= 0.5
    # erf(y) = 2 Phi(y sqrt 2) - 1: Acklam's guess for the quantile of (1 + a) / 2.
    guess = xp.where(near_zero, _acklam_center(a_in / 2),
                     -_normal_quantile_guess(xp, (1.0 - a_in) / 2)) / _SQRT_2
    # Polish on erf where erf(y) is small, on erfc (target 1 - a, exact) near 1.
    f = erf_series_or_fraction(xp, guess) - a_in
    slope = 2 / _SQRT_PI * xp.exp(-guess * guess)
    y = xp.where(near_zero, guess - f / (slope + guess * f),
                 _halley_on_erfc(xp, guess, 1.0 - a_in))
    y = xp.copysign(y, x)
    edge = xp.where(a == 1, xp.copysign(np.inf, x), np.nan)
    return xp.where(inside, y, edge)


@primitive("ndtri", save_output=True, shape=rules.same)
@_in_float64
def _ndtri(xp, p):
    return ndtri_float64(xp, p)


@_ndtri.defvjp
def _ndtri_vjp(ctx, g):
    y = ctx.output
    return (g * float(np.sqrt(2 * np.pi)) * exp(square(y) / 2),)


@primitive("erfinv", save_output=True, shape=rules.same)
@_in_float64
def _erfinv(xp, x):
    return erfinv_float64(xp, x)


@_erfinv.defvjp
def _erfinv_vjp(ctx, g):
    y = ctx.output
    return (g * (_SQRT_PI / 2) * exp(square(y)),)


# --- public wrappers --------------------------------------------------------------------


def _floating_unary(prim, name: str, refused: tuple[str, ...] = ()):
    def op(x, name=None) -> Tensor:
        x = as_tensor(x)
        check_dtype_kind(op.__name__, x, FLOATS, refused=refused)
        return prim(x)

    op.__name__ = op.__qualname__ = name
    return op


erfc = _floating_unary(_erfc, "erfc")
erfc.__doc__ = "The complementary error function ``1 - erf(x)``, accurate in the tails."
lgamma = _floating_unary(_lgamma, "lgamma")
lgamma.__doc__ = "``log|Gamma(x)|``; inf at 0 and the negative integers."
digamma = _floating_unary(_digamma, "digamma")
digamma.__doc__ = "The derivative of lgamma; NaN at 0 and the negative integers."
erfinv = _floating_unary(_erfinv, "erfinv", refused=("float16",))  # as TF: no float16 kernel
erfinv.__doc__ = "The inverse of erf on [-1, 1] (+-inf at +-1, NaN outside)."
ndtri = _floating_unary(_ndtri, "ndtri", refused=("float16",))
ndtri.__doc__ = "The standard normal quantile: the x with Phi(x) = p (+-inf at 1 and 0)."


def polygamma(a, x, name=None) -> Tensor:
    """The ``a``-th derivative of digamma at ``x`` (``a`` a whole number; NaN otherwise).

    ``a`` and ``x`` are floating-point tensors of one dtype that broadcast together.
    """
    a, x = binary_operands(a, x, "polygamma")
    check_dtype_kind("polygamma", a, FLOATS, "a", refused=("float16",))
    return _polygamma(a, x)
