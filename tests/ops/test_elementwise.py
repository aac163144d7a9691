"""Elementwise primitives: values and dtypes vs NumPy/TF rules, gradients vs finite differences."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _opcheck import (
    Fwd,
    Grad,
    distinct,
    ints,
    nonzero,
    params,
    positive,
    raises_with_message,
    run_forward,
    run_gradient,
    run_second_derivative,
    smooth_params,
    uniform,
)

import neuroflow as tf
from neuroflow.autodiff.gradcheck import check_gradients, check_second_derivatives
from neuroflow.ops import elementwise as ew

# Shape pairs that exercise broadcasting, scalars and empty dimensions.
BINARY_SHAPES = [((), ()), ((3,), ()), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((0, 3), (3,))]
FLOATS = ("float32", "float64")


def _pair(shapes, dtype, maker=uniform):
    a, b = (maker(*s) for s in shapes)
    if dtype == "int32":
        a, b = np.round(a * 3), np.round(b * 3)
    return np.asarray(a, dtype), np.asarray(b, dtype)


def _binary_cases(op, ref, dtypes, maker=uniform, result=None):
    return [Fwd(op, ref, _pair(shapes, dtype, maker), f"{dtype}-{shapes[0]}x{shapes[1]}",
                result(dtype) if result else None)
            for dtype in dtypes for shapes in BINARY_SHAPES]


def _unary_cases(op, ref, dtypes=FLOATS, maker=uniform, shapes=((), (5,), (2, 3), (0, 2))):
    return [Fwd(op, ref, (np.asarray(maker(*shape) * (3 if dtype == "int32" else 1), dtype),),
                f"{dtype}-{shape}")
            for dtype in dtypes for shape in shapes]


def _int_divisor(shapes):
    a, b = ints(*shapes[0]), ints(*shapes[1], low=1, high=4)
    return a, np.asarray(b * np.where(ints(*shapes[1]) > 0, 1, -1), np.int32)


def _truediv_dtype(dtype):
    return "float64" if dtype == "int32" else dtype


def _comparison(op, ref):
    return _binary_cases(op, ref, ("float32", "int32"), result=lambda d: "bool")


def _logical(op, ref):
    return [Fwd(op, ref, (uniform(*a) > 0, uniform(*b) > 0), f"{a}x{b}")
            for a, b in BINARY_SHAPES]


_ALL = ("float32", "float64", "int32")


def _unit(*shape):
    """Values inside (-1, 1): the domain of asin, acos and atanh."""
    return uniform(*shape, low=-0.95, high=0.95)

FORWARD = {
    "add": _binary_cases(tf.add, np.add, _ALL),
    "subtract": _binary_cases(tf.subtract, np.subtract, _ALL),
    "multiply": _binary_cases(tf.multiply, np.multiply, _ALL),
    "divide": _binary_cases(tf.truediv, np.true_divide, FLOATS, nonzero)
    + [Fwd(tf.truediv, lambda a, b: a / b, _int_divisor(s), f"int32-{s}", "float64")
       for s in BINARY_SHAPES]
    + [Fwd(tf.truediv, lambda a, b: (a / b).astype(np.float32),
           (ints(4).astype(np.int8), np.array([1, 2, -3, 4], np.int8)), "int8", "float32")],
    "pow": _binary_cases(tf.pow, np.power, FLOATS, positive)
    + [Fwd(tf.pow, np.power, (ints(2, 3), ints(3, low=0, high=4)), "int32")],
    "maximum": _binary_cases(tf.maximum, np.maximum, _ALL),
    "minimum": _binary_cases(tf.minimum, np.minimum, _ALL),
    "floordiv": [Fwd(tf.math.floordiv, np.floor_divide, _int_divisor(s), f"int32-{s}")
                 for s in BINARY_SHAPES]
    + _binary_cases(tf.math.floordiv, np.floor_divide, FLOATS, nonzero),
    "floormod": [Fwd(tf.math.floormod, np.mod, _int_divisor(s), f"int32-{s}")
                 for s in BINARY_SHAPES]
    + _binary_cases(tf.math.floormod, np.mod, FLOATS, nonzero),
    "equal": _comparison(tf.equal, np.equal),
    "not_equal": _comparison(tf.not_equal, np.not_equal),
    "less": _comparison(tf.less, np.less),
    "less_equal": _comparison(tf.less_equal, np.less_equal),
    "greater": _comparison(tf.greater, np.greater),
    "greater_equal": _comparison(tf.greater_equal, np.greater_equal),
    "logical_and": _logical(tf.logical_and, np.logical_and),
    "logical_or": _logical(tf.logical_or, np.logical_or),
    "logical_xor": _logical(tf.math.logical_xor, np.logical_xor),
    "logical_not": [Fwd(tf.logical_not, np.logical_not, (uniform(*s) > 0,), str(s))
                    for s in ((), (4,), (2, 3))],
    "negative": _unary_cases(tf.negative, np.negative, _ALL),
    "abs": _unary_cases(tf.abs, np.abs, _ALL),
    "sign": _unary_cases(tf.sign, np.sign, _ALL),
    "exp": _unary_cases(tf.exp, np.exp),
    "log": _unary_cases(tf.math.log, np.log, maker=positive),
    "log1p": _unary_cases(tf.math.log1p, np.log1p, maker=positive),
    "expm1": _unary_cases(tf.math.expm1, np.expm1),
    "sqrt": _unary_cases(tf.sqrt, np.sqrt, maker=positive),
    "square": _unary_cases(tf.square, np.square, _ALL),
    "sin": _unary_cases(tf.sin, np.sin),
    "cos": _unary_cases(tf.cos, np.cos),
    "tanh": _unary_cases(tf.tanh, np.tanh),
    "sigmoid": _unary_cases(tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)))
    + [Fwd(tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)),
           (np.array([-30.0, -5.0, 0.0, 5.0, 30.0]),), "tails")],
    "erf": _unary_cases(tf.math.erf, np.vectorize(__import__("math").erf, otypes=[float]))
    + [Fwd(tf.math.erf, np.vectorize(__import__("math").erf, otypes=[float]),
           (np.array([-6.0, -2.5, -1.99, 0.0, 1e-8, 1.5, 2.0, 3.7]),), "range")],
    "floor": _unary_cases(tf.math.floor, np.floor),
    "ceil": _unary_cases(tf.math.ceil, np.ceil),
    "round": _unary_cases(tf.round, np.rint)
    + [Fwd(tf.round, np.rint, (np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]),), "half-even"),
       Fwd(tf.round, lambda x: x, (ints(5),), "int32")],
    "is_nan": [Fwd(tf.math.is_nan, np.isnan, (np.array([0.0, np.nan, np.inf], np.float32),),
                   "special", "bool")],
    "is_inf": [Fwd(tf.math.is_inf, np.isinf, (np.array([0.0, np.nan, -np.inf], np.float32),),
                   "special", "bool")],
    "is_finite": [Fwd(tf.math.is_finite, np.isfinite,
                      (np.array([0.0, np.nan, np.inf], np.float32),), "special", "bool")],
    "where": [Fwd(tf.where, np.where, (uniform(3, 1) > 0, uniform(1, 4), uniform(4)), "bcast",
                  "float64"),
              Fwd(tf.where, np.where, (uniform(2, 3) > 0, ints(2, 3), ints(2, 3)), "int32",
                  "int32"),
              Fwd(lambda c, x: tf.where(c, x, 0.5), lambda c, x: np.where(c, x, 0.5),
                  (uniform(4) > 0, uniform(4).astype(np.float32)), "python-y", "float32")],
    "cast": [Fwd(lambda x: tf.cast(x, tf.int32), lambda x: np.trunc(x).astype(np.int32),
                 (uniform(2, 3) * 3,), "float-to-int-truncates", "int32"),
             Fwd(lambda x: tf.cast(x, tf.float32), lambda x: x.astype(np.float32),
                 (ints(2, 3),), "int-to-float", "float32"),
             Fwd(lambda x: tf.cast(x, "float16"), lambda x: x.astype(np.float16),
                 (uniform(4),), "float64-to-float16", "float16"),
             Fwd(lambda x: tf.cast(x, tf.float32), lambda x: x.astype(np.float32),
                 (uniform(3) > 0,), "bool-to-float", "float32"),
             Fwd(lambda x: tf.cast(x, tf.complex64), lambda x: x.astype(np.complex64),
                 (uniform(3),), "float-to-complex", "complex64")],
    "real": [Fwd(tf.math.real, np.real, ((uniform(2, 3) + 1j * uniform(2, 3)).astype(dtype),),
                 dtype, real) for dtype, real in (("complex64", "float32"),
                                                  ("complex128", "float64"))]
    + [Fwd(lambda x: tf.cast(x, tf.float32), lambda x: x.real.astype(np.float32),
           (uniform(3) + 1j,), "complex-to-float-keeps-the-real-part", "float32")],
    "conj": [Fwd(tf.math.conj, np.conj, ((uniform(2, 3) + 1j * uniform(2, 3)).astype(dtype),),
                 dtype) for dtype in ("complex64", "complex128")],
    "imag": [Fwd(tf.math.imag, np.imag, ((uniform(2, 3) + 1j * uniform(2, 3)).astype(dtype),),
                 dtype, part) for dtype, part in (("complex64", "float32"),
                                                  ("complex128", "float64"))],
    "complex": [Fwd(tf.complex, lambda a, b: a + 1j * b, (uniform(2, 3), uniform(3)),
                    "broadcast", "complex128"),
                Fwd(tf.complex, lambda a, b: (a + 1j * b).astype(np.complex64),
                    (uniform(2).astype(np.float32), uniform(2).astype(np.float32)), "float32",
                    "complex64")],
    # --- trigonometric and hyperbolic functions, their inverses
    "tan": _unary_cases(tf.math.tan, np.tan),
    "asin": _unary_cases(tf.math.asin, np.arcsin, maker=_unit),
    "acos": _unary_cases(tf.math.acos, np.arccos, maker=_unit),
    "atan": _unary_cases(tf.math.atan, np.arctan),
    "sinh": _unary_cases(tf.math.sinh, np.sinh),
    "cosh": _unary_cases(tf.math.cosh, np.cosh),
    "asinh": _unary_cases(tf.math.asinh, np.arcsinh),
    "acosh": _unary_cases(tf.math.acosh, np.arccosh, maker=lambda *s: 1 + positive(*s)),
    "atanh": _unary_cases(tf.math.atanh, np.arctanh, maker=_unit),
    "atan2": _binary_cases(tf.math.atan2, np.arctan2, FLOATS),
    # --- division variants and TensorFlow's "no NaN" ops
    "truncatediv": [Fwd(tf.truncatediv, lambda a, b: np.trunc(a / b).astype(np.int32),
                        _int_divisor(s), f"int32-{s}") for s in BINARY_SHAPES]
    + _binary_cases(tf.truncatediv, lambda a, b: np.trunc(a / b), FLOATS, nonzero),
    "truncatemod": [Fwd(tf.truncatemod, np.fmod, _int_divisor(s), f"int32-{s}")
                    for s in BINARY_SHAPES]
    + _binary_cases(tf.truncatemod, np.fmod, FLOATS, nonzero),
    "multiply_no_nan": _binary_cases(tf.math.multiply_no_nan, np.multiply, FLOATS)
    + [Fwd(tf.math.multiply_no_nan, lambda a, b: np.array([0.0, 0.0, 6.0, np.nan]),
           (np.array([np.inf, np.nan, 2.0, 2.0]), np.array([0.0, 0.0, 3.0, np.nan])),
           "zero-wins")],
    "xlogy": _binary_cases(tf.math.xlogy, lambda a, b: a * np.log(b), FLOATS, positive)
    + [Fwd(tf.math.xlogy, lambda a, b: np.array([0.0, 0.0, -np.inf, 2 * np.log(3), np.nan]),
           (np.array([0.0, 0.0, 1.0, 2.0, np.nan]), np.array([0.0, np.nan, 0.0, 3.0, 1.0])),
           "zero-x")],
    "xlog1py": _binary_cases(tf.math.xlog1py, lambda a, b: a * np.log1p(b), FLOATS, positive)
    + [Fwd(tf.math.xlog1py, lambda a, b: np.array([0.0, 0.0, -np.inf]),
           (np.array([0.0, 0.0, 1.0]), np.array([-1.0, -2.0, -1.0])), "zero-x")],
    "xdivy": _binary_cases(tf.math.xdivy, np.true_divide, FLOATS, nonzero)
    + [Fwd(tf.math.xdivy, lambda a, b: np.array([0.0, 0.0, np.inf]),
           (np.array([0.0, 0.0, 1.0]), np.array([0.0, np.nan, 0.0])), "zero-x")],
}


_CONDITION = tf.constant(uniform(3, 1) > 0)


def _binary_grads(op, maker=uniform):
    shape_pairs = [((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (2, 3)), ((2, 3), ())]
    return [Grad(op, (maker(*a), maker(*b)), f"{a}x{b}") for a, b in shape_pairs]


def _unary_grads(op, maker=uniform):
    return [Grad(op, (maker(*s),), str(s)) for s in ((), (2, 3))]


GRADIENTS = {
    "add": _binary_grads(tf.add),
    "subtract": _binary_grads(tf.subtract),
    "multiply": _binary_grads(tf.multiply),
    "divide": _binary_grads(tf.truediv, nonzero),
    "pow": _binary_grads(tf.pow, positive)
    + [Grad(lambda x: tf.pow(x, 3.0), (uniform(5),), "negative-base-constant-exponent")],
    "maximum": _binary_grads(tf.maximum, distinct),
    "minimum": _binary_grads(tf.minimum, distinct),
    "negative": _unary_grads(tf.negative),
    "abs": _unary_grads(tf.abs, nonzero),
    "exp": _unary_grads(tf.exp),
    "log": _unary_grads(tf.math.log, positive),
    "log1p": _unary_grads(tf.math.log1p, positive),
    "expm1": _unary_grads(tf.math.expm1),
    "sqrt": _unary_grads(tf.sqrt, positive),
    "square": _unary_grads(tf.square),
    "sin": _unary_grads(tf.sin),
    "cos": _unary_grads(tf.cos),
    "tanh": _unary_grads(tf.tanh),
    "sigmoid": _unary_grads(tf.sigmoid),
    "erf": _unary_grads(tf.math.erf),
    "where": [Grad(lambda x, y: tf.where(_CONDITION, x, y), (uniform(1, 4), uniform(4)), "bcast"),
              Grad(lambda x: tf.where(x > 0, x, tf.square(x)), (nonzero(2, 3),), "self")],
    # Casting to float32 rounds; a larger step keeps that rounding below the tolerance.
    "cast": [Grad(lambda x: tf.cast(tf.cast(x, tf.float32) * 3.0, tf.float64), (uniform(2, 3),),
                  "via-float32", eps=1e-2, atol=1e-4)],
    # The gradient of real(z) goes to z's real part; through a cast from float and back.
    "real": [Grad(lambda x: tf.math.real(tf.cast(x, tf.complex128) * (2 - 1j)) * x,
                  (uniform(2, 3),), "via-complex")],
    # Away from the jumps of x mod y (where x / y is a whole number).
    "floormod": [Grad(tf.math.floormod, (np.array([5.3, -5.3, 3.1, 0.4]),
                                         np.array([3.0, 3.0, -2.0, 1.5])), "signs", second=False)],
    "sign": _unary_grads(tf.sign, nonzero),  # zeros, as TensorFlow (not None)
    "imag": [Grad(lambda x: tf.math.imag(tf.cast(x, tf.complex128) * (1 + 2j)) * x,
                  (uniform(2, 3),), "via-complex")],
    "complex": [Grad(lambda a, b: tf.math.real(tf.complex(a, b) * (0.5 - 1j))
                     + tf.math.imag(tf.complex(a, b) ** 2), (uniform(2, 3), uniform(3)),
                     "broadcast")],
    # Through complex numbers and back, so that finite differences apply.
    "conj": [Grad(lambda x: tf.math.real(tf.math.conj(tf.cast(x, tf.complex128) * (1 + 2j))
                                         * (0.5 - 1j)), (uniform(2, 3),), "via-complex")],
    "tan": _unary_grads(tf.math.tan, lambda *s: uniform(*s, low=-1.2, high=1.2)),
    "asin": _unary_grads(tf.math.asin, _unit),
    "acos": _unary_grads(tf.math.acos, _unit),
    "atan": _unary_grads(tf.math.atan),
    "sinh": _unary_grads(tf.math.sinh),
    "cosh": _unary_grads(tf.math.cosh),
    "asinh": _unary_grads(tf.math.asinh),
    "acosh": _unary_grads(tf.math.acosh, lambda *s: 1.2 + positive(*s)),
    "atanh": _unary_grads(tf.math.atanh, _unit),
    "atan2": _binary_grads(tf.math.atan2, nonzero),
    "multiply_no_nan": _binary_grads(tf.math.multiply_no_nan, nonzero),
    "xlogy": _binary_grads(tf.math.xlogy, positive),
    "xlog1py": _binary_grads(tf.math.xlog1py, positive),
    "xdivy": _binary_grads(tf.math.xdivy, nonzero),
}


@pytest.mark.parametrize("name, case", params(FORWARD))
def test_forward(name, case):
    run_forward(name, case)


@pytest.mark.parametrize("name, case", params(GRADIENTS))
def test_gradient(name, case):
    run_gradient(name, case)


@pytest.mark.parametrize("name, case", smooth_params(GRADIENTS))
def test_second_derivative(name, case):
    run_second_derivative(case)


def test_erf_without_scipy_matches_math_erf():
    x = np.concatenate([np.linspace(-7, 7, 57), [-2.0, 2.0, -1e-3]])
    want = np.array([__import__("math").erf(v) for v in x])
    np.testing.assert_allclose(ew._erf_numpy(np, x), want, rtol=1e-13, atol=1e-15)
    assert ew._erf_numpy(np, x.astype(np.float32)).dtype == np.float32


# --- dtype rules --------------------------------------------------------------------


@pytest.mark.parametrize("make, dtype, value", [
    (lambda: tf.constant([1.0, 2.0]) + 1.5, "float32", [2.5, 3.5]),
    (lambda: tf.constant([1.0, 2.0], tf.float64) * 2, "float64", [2.0, 4.0]),
    (lambda: tf.constant([1, 2]) + 2, "int32", [3, 4]),
    (lambda: tf.constant([1, 2], tf.int64) - 1, "int64", [0, 1]),
    (lambda: tf.add(1.5, 2.0), "float32", 3.5),
    (lambda: tf.constant(3) / 2, "float64", 1.5),
    (lambda: tf.constant([3], tf.int64) / tf.constant([2], tf.int64), "float64", [1.5]),
    (lambda: tf.constant([3], tf.int16) / tf.constant([2], tf.int16), "float32", [1.5]),
    (lambda: 2 ** tf.constant([3.0]), "float32", [8.0]),
    (lambda: tf.constant(7) // 2, "int32", 3),
    (lambda: tf.constant(-7) // 2, "int32", -4),
    (lambda: tf.constant(-7) % 3, "int32", 2),
    (lambda: tf.constant([1.0]) > 0.5, "bool", [True]),
    (lambda: tf.math.divide_no_nan(tf.constant([1.0, 2.0]), tf.constant([0.0, 4.0])),
     "float32", [0.0, 0.5]),
    (lambda: tf.math.squared_difference(tf.constant([1.0]), 3.0), "float32", [4.0]),
    (lambda: tf.math.rsqrt(tf.constant([4.0])), "float32", [0.5]),
    (lambda: tf.math.reciprocal(tf.constant([4.0, -0.5])), "float32", [0.25, -2.0]),
])
def test_result_dtype_follows_tensorflow(make, dtype, value):
    result = make()
    assert result.dtype.name == dtype
    np.testing.assert_allclose(np.asarray(result), value)


def test_python_number_that_would_lose_its_fraction_is_refused():
    with pytest.raises(TypeError, match="tf.cast"):
        tf.constant([1, 2]) + 0.5


def test_integer_division_by_zero_is_an_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
        tf.math.floordiv(tf.constant([1]), tf.constant([0]))


def test_floating_only_ops_refuse_integers_with_a_hint():
    with pytest.raises(TypeError, match="tf.cast"):
        tf.exp(tf.constant([1, 2]))


def test_logical_ops_need_bools():
    with pytest.raises(TypeError, match="bool"):
        tf.logical_and(tf.constant([1]), tf.constant([0]))


# --- numerically delicate values ----------------------------------------------------


def test_sigmoid_is_exact_in_the_tails_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in (tf.float32, tf.float64):
            y = tf.sigmoid(tf.constant([-1000.0, 0.0, 1000.0], dtype))
            np.testing.assert_array_equal(y.numpy(), [0.0, 0.5, 1.0])


def test_pow_gradient_for_the_exponent_is_zero_where_the_base_is_not_positive():
    # TensorFlow's rule: d(x^y)/dy = x^y log(x) for x > 0 and 0 elsewhere (no NaN).
    x = tf.constant([-2.0, 0.0, 2.0])
    y = tf.constant([2.0, 3.0, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            z = tf.pow(x, y)
        gx, gy = tape.gradient(z, [x, y])
    np.testing.assert_allclose(gx.numpy(), [-4.0, 0.0, 0.5 * 2 ** -0.5], rtol=1e-6)
    np.testing.assert_allclose(gy.numpy(), [0.0, 0.0, np.sqrt(2) * np.log(2)], rtol=1e-6)


def test_maximum_and_minimum_send_ties_to_the_first_input():
    x, y = tf.constant([1.0, 2.0]), tf.constant([1.0, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        high, low = tf.maximum(x, y), tf.minimum(x, y)
    np.testing.assert_array_equal([g.numpy() for g in tape.gradient(high, [x, y])],
                                  [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal([g.numpy() for g in tape.gradient(low, [x, y])],
                                  [[1.0, 1.0], [0.0, 0.0]])


def test_abs_gradient_at_zero_is_zero():
    x = tf.constant([0.0, -2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.abs(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0.0, -1.0])


# --- composites built on elementwise primitives ---------------------------------------


def test_clip_by_value_values_and_gradient():
    t = np.array([[-3.0, -0.5, 0.2], [0.9, 1.5, 4.0]])
    np.testing.assert_array_equal(tf.clip_by_value(t, -1.0, 1.0).numpy(), np.clip(t, -1, 1))
    check_gradients(lambda x: tf.clip_by_value(x, -1.0, 1.0), [t])
    # Tensor bounds that broadcast get gradients too.
    check_gradients(tf.clip_by_value, [t, np.array([-1.0, 0.0, 0.5]), np.array([[1.0], [2.0]])])


def test_where_broadcasts_condition_and_both_branches():
    cond = uniform(3, 1) > 0
    x, y = uniform(1, 4), uniform(2, 1, 1)
    result = tf.where(cond, x, y)
    np.testing.assert_array_equal(result.numpy(), np.where(cond, x, y))
    check_gradients(lambda a, b: tf.where(tf.constant(cond), a, b), [x, y])


def test_where_with_only_a_condition_gives_int64_coordinates():
    cond = np.array([[True, False], [False, True]])
    result = tf.where(cond)
    assert result.dtype == tf.int64
    np.testing.assert_array_equal(result.numpy(), np.argwhere(cond))


def test_squared_difference_and_divide_no_nan_gradients():
    check_gradients(tf.math.squared_difference, [uniform(3, 1), uniform(4)])
    x, y = uniform(4), np.array([0.0, 1.5, -2.0, 0.0])
    grads = check_gradients(tf.math.divide_no_nan, [x, y], wrt=[0])
    np.testing.assert_array_equal(grads[0].numpy()[[0, 3]], 0.0)


def test_second_derivative_of_a_chain_of_elementwise_ops():
    check_second_derivatives(lambda x, y: tf.sin(x * y) / (1 + tf.exp(-x)),
                             [uniform(3, 1), uniform(4)])


# --- TensorFlow's answers at the edges (checked against TensorFlow 2.21) -------------------

INF, NAN = np.inf, np.nan


def _same(result, expected, dtype=None):
    """Equal values, NaN where NaN, the sign of zeros included, and the dtype."""
    got = np.asarray(result)
    expected = np.asarray(expected, dtype=got.dtype if dtype is None else dtype)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    np.testing.assert_array_equal(got, expected)
    if got.dtype.kind == "f":  # the sign of zeros (a NaN's sign means nothing)
        signs = np.where(np.isnan(expected), False, np.signbit(got))
        np.testing.assert_array_equal(signs, np.signbit(np.where(np.isnan(expected), 0, expected)))


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_float_floordiv_is_floor_of_the_quotient(no_warnings):
    x = tf.constant([INF, -INF, NAN, 5.0, -5.0, 0.0, -0.0, 1.0, 5.0])
    y = tf.constant([2.0, 2.0, 2.0, INF, INF, 0.0, 1.0, -INF, 0.0])
    _same(tf.math.floordiv(x, y), [INF, -INF, NAN, 0.0, -0.0, NAN, -0.0, -0.0, INF])
    _same(x // y, [INF, -INF, NAN, 0.0, -0.0, NAN, -0.0, -0.0, INF])


def test_float_floormod_moves_the_c_remainder_into_the_sign_of_y(no_warnings):
    x = tf.constant([INF, -INF, NAN, 5.0, -5.0, 0.0, -0.0, 1.0, 5.0, 5.0])
    y = tf.constant([2.0, 2.0, 2.0, INF, INF, 0.0, 1.0, -INF, 0.0, -3.0])
    _same(tf.math.floormod(x, y), [NAN, NAN, NAN, 5.0, INF, NAN, -0.0, -INF, NAN, -1.0])


def test_floormod_gradient_is_one_and_minus_the_floor_quotient():
    x, y = tf.constant([5.0, -5.0, 3.0]), tf.constant([3.0, 3.0, -2.0])
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        z = tf.math.floormod(x, y)
    gx, gy = tape.gradient(z, [x, y])
    _same(gx, [1.0, 1.0, 1.0])
    _same(gy, [-1.0, 2.0, 2.0])


def test_integer_division_variants():
    x, y = tf.constant([-7, 7, 5]), tf.constant([2, -2, 3])
    _same(tf.truncatediv(x, y), [-3, -3, 1])
    _same(tf.truncatemod(x, y), [-1, 1, 2])
    _same(tf.math.floordiv(x, y), [-4, -4, 1])
    _same(tf.math.floormod(x, y), [1, -1, 2])
    _same(tf.truncatediv(tf.constant([7], tf.uint8), tf.constant([2], tf.uint8)), [3])
    for op in (tf.truncatediv, tf.truncatemod, tf.math.floordiv, tf.math.floormod):
        raises_with_message(tf.errors.InvalidArgumentError, lambda op=op: op(x, tf.constant(0)),
                            "division by zero", "tf.where")


def test_float_truncating_division(no_warnings):
    x, y = tf.constant([-7.0, 7.0, INF, 1.0]), tf.constant([2.0, -2.0, 2.0, 0.0])
    _same(tf.truncatediv(x, y), [-3.0, -3.0, INF, INF])
    _same(tf.truncatemod(x, y), [-1.0, 1.0, NAN, NAN])


@pytest.mark.parametrize("source", ["float64", "float32", "float16"])
def test_float_to_integer_casts_truncate_then_saturate_as_tensorflow(source, no_warnings):
    # The answers of TensorFlow's vectorized kernel (see float_to_int): through int32, where
    # NaN and values beyond int32 become its most negative value, then saturating.
    with np.errstate(over="ignore"):  # 1e10 is inf in float16: also out of range
        x = tf.constant(np.array([256.0, -1.7, 1e10, -INF, NAN, 127.9, -128.9, 300.0], source))
    _same(tf.cast(x, tf.int8), [127, -1, -128, -128, -128, 127, -128, 127])
    _same(tf.cast(x, tf.uint8), [255, 0, 0, 0, 0, 127, 0, 255])
    _same(tf.cast(x, tf.int16), [256, -1, -32768, -32768, -32768, 127, -128, 300])
    _same(tf.cast(x, tf.uint16), [256, 0, 0, 0, 0, 127, 0, 300])
    lowest = np.iinfo(np.int32).min
    _same(tf.cast(x, tf.int32), [256, -1, lowest, lowest, lowest, 127, -128, 300])
    _same(tf.cast(x, tf.bool), [True] * 8)


def test_float_to_wide_integer_casts():
    x = tf.constant([256.0, -1.7, 1e10, -1e10, 3e9, INF, NAN, -128.9, 2.0 ** 63],
                    tf.float64)
    lowest = np.iinfo(np.int64).min
    _same(tf.cast(x, tf.int64), [256, -1, 10 ** 10, -10 ** 10, 3 * 10 ** 9, lowest, lowest,
                                 -128, lowest])
    _same(tf.cast(x, tf.uint32), [256, 2 ** 32 - 1, 2 ** 31, 2 ** 31, 3 * 10 ** 9, 2 ** 31,
                                  2 ** 31, 2 ** 32 - 128, 2 ** 31])
    _same(tf.cast(x, tf.uint64), [256, 2 ** 64 - 1, 10 ** 10, 2 ** 64 - 10 ** 10, 3 * 10 ** 9,
                                  2 ** 63, 2 ** 63, 2 ** 64 - 128, 2 ** 63])


def test_compiled_cast_of_floats_to_integers_matches_eager(no_warnings):
    x = tf.constant([256.0, -1.7, NAN, 3e9, 12.5])
    for dtype in (tf.uint8, tf.int32, tf.uint32):
        f = tf.function(lambda v, dtype=dtype: tf.cast(v * 1.0, dtype) + tf.cast(v, dtype))
        want = tf.cast(x * 1.0, dtype).numpy() + tf.cast(x, dtype).numpy()
        _same(f(x), want)


def test_casts_that_overflow_or_drop_the_imaginary_part(no_warnings):
    _same(tf.cast(tf.constant([1e6, -1e6, 1e-9], tf.float64), tf.float16), [INF, -INF, 0.0])
    _same(tf.cast(tf.constant([2j, 0j]), tf.bool), [False, False])
    _same(tf.cast(tf.constant([1.7 + 2j, -3.9 + 1j]), tf.int32), [1, -3])


def test_saturate_cast_clamps_to_the_target_range(no_warnings):
    x = [256.0, -1.7, 1e10, -1e10, INF, -INF, NAN, 127.9]
    _same(tf.saturate_cast(tf.constant(x, tf.float64), tf.uint8),
          [255, 0, 255, 0, 255, 0, 0, 127])
    # float32 cannot hold 2**31 - 1: TensorFlow clamps to the float below 2**31.
    _same(tf.saturate_cast(tf.constant(x, tf.float32), tf.int32),
          [256, -1, 2147483520, -2147483648, 2147483520, -2147483648, -2147483648, 127])
    _same(tf.saturate_cast(tf.constant([300, -1, 255]), tf.uint8), [255, 0, 255])
    _same(tf.saturate_cast(tf.constant([200, 1], tf.uint8), tf.int8), [127, 1])
    # TensorFlow's bound 2**63 overflows int64 (wrapping, on x86): it clamps 1 to 0 too.
    _same(tf.saturate_cast(tf.constant([-5, 1], tf.int64), tf.uint64), [0, 0])
    _same(tf.dtypes.saturate_cast(tf.constant([1e6, -INF, NAN], tf.float64), tf.float16),
          [65504.0, -65504.0, NAN])
    _same(tf.saturate_cast(tf.constant([100000, 5]), tf.float16), [65504.0, 5.0])
    _same(tf.saturate_cast(tf.constant([1.5 + 2j]), tf.float32), [1.5])
    _same(tf.saturate_cast(tf.constant([1.5 + 2j]), tf.complex128), [1.5 + 2j])
    _same(tf.saturate_cast(tf.constant([1.5]), tf.complex64), [1.5 + 0j])
    raises_with_message(TypeError, lambda: tf.saturate_cast(tf.constant([1.5]), tf.bool),
                        "saturate_cast", "bool", "tf.cast")


def test_clip_by_value_with_crossed_bounds_gives_the_lower_bound():
    x = tf.constant([0.0, 5.0, 10.0])
    _same(tf.clip_by_value(x, 6.0, 4.0), [6.0, 6.0, 6.0])
    _same(tf.clip_by_value(tf.constant([0, 5, 10]), 6, 4), [6, 6, 6])
    _same(tf.clip_by_value(tf.constant([NAN, 5.0]), 1.0, 4.0), [NAN, 4.0])
    lo, hi = tf.constant([6.0] * 3), tf.constant([4.0] * 3)
    with tf.GradientTape() as tape:
        tape.watch([x, lo, hi])
        y = tf.clip_by_value(x, lo, hi)
    _same([g.numpy() for g in tape.gradient(y, [x, lo, hi])], [[0.0] * 3, [1.0] * 3, [0.0] * 3])


def test_clip_by_value_refuses_bounds_that_grow_the_shape_and_bools():
    raises_with_message(ValueError, lambda: tf.clip_by_value(
        tf.constant([0.0, 5.0]), tf.constant([[1.0], [2.0]]), 4.0), "(2, 2)", "(2,)")
    raises_with_message(tf.errors.InvalidArgumentError, lambda: tf.clip_by_value(
        tf.constant([True]), False, True), "clip_by_value", "bool")


def test_where_with_only_a_numeric_condition_gives_its_nonzero_coordinates():
    _same(tf.where(tf.constant([1, 0, 2])), [[0], [2]], "int64")
    _same(tf.where(tf.constant([1.0, 0.0, NAN])), [[0], [2]], "int64")
    raises_with_message(tf.errors.InvalidArgumentError, lambda: tf.where(
        tf.constant([1, 0]), tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])),
        "where", "bool", "int32")


def test_scalar_mul_takes_the_tensors_dtype_and_refuses_non_scalars():
    _same(tf.math.scalar_mul(2, tf.constant([1.0, 2.0])), [2.0, 4.0])
    _same(tf.scalar_mul(tf.constant(3), tf.constant([1, 2])), [3, 6])
    raises_with_message(ValueError, lambda: tf.math.scalar_mul(
        tf.constant([2.0, 1.0]), tf.constant([1.0, 2.0])), "0-D", "(2,)")
    raises_with_message(ValueError, lambda: tf.math.scalar_mul(
        tf.constant(2.0, tf.float64), tf.constant([1.0])), "float64", "float32")


def test_realdiv_and_reciprocal_no_nan(no_warnings):
    _same(tf.realdiv(tf.constant([-7.0, 7.0]), tf.constant([2.0, 0.0])), [-3.5, INF])
    _same(tf.math.reciprocal_no_nan(tf.constant([0.0, -0.0, 2.0, INF, NAN])),
          [0.0, 0.0, 0.5, 0.0, NAN])
    raises_with_message(TypeError, lambda: tf.realdiv(tf.constant([1]), tf.constant([2])),
                        "realdiv", "int32", "tf.cast")


def test_no_nan_gradients_follow_tensorflow(no_warnings):
    x, y = tf.constant([INF, 1.0, 2.0]), tf.constant([0.0, 0.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        z = tf.math.multiply_no_nan(x, y)
    gx, gy = tape.gradient(z, [x, y])
    _same(gx, [0.0, 0.0, 3.0])
    _same(gy, [INF, 1.0, 2.0])
    x, y = tf.constant([0.0, 0.0, 1.0]), tf.constant([0.0, 1.0, 2.0])
    for op, want_x, want_y in ((tf.math.xlogy, [0.0, 0.0, np.log(2)], [0.0, 0.0, 0.5]),
                               (tf.math.xdivy, [0.0, 0.0, 0.5], [0.0, 0.0, -0.25])):
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            z = op(x, y)
        gx, gy = tape.gradient(z, [x, y])
        np.testing.assert_allclose(gx.numpy(), want_x, rtol=1e-6)
        np.testing.assert_allclose(gy.numpy(), want_y, rtol=1e-6)
    with tf.GradientTape() as tape:
        tape.watch(x)
        z = tf.math.reciprocal_no_nan(x)
    _same(tape.gradient(z, x), [0.0, 0.0, -1.0])


def test_inverse_trigonometric_values_at_the_edges(no_warnings):
    x = tf.constant([-INF, -2.0, -1.0, -0.0, 0.5, 1.0, INF, NAN], tf.float64)
    _same(tf.math.atanh(x), [NAN, NAN, -INF, -0.0, np.arctanh(0.5), INF, NAN, NAN])
    _same(tf.math.acosh(x), [NAN, NAN, NAN, NAN, NAN, 0.0, INF, NAN])
    _same(tf.math.cosh(tf.constant([1000.0, -1000.0])), [INF, INF])
    _same(tf.math.atan2(tf.constant([0.0, -0.0, 0.0, -0.0]), tf.constant([0.0, 0.0, -0.0, -0.0])),
          [0.0, -0.0, np.pi, -np.pi])
    _same(tf.math.rint(tf.constant([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.2])),
          [-2.0, -2.0, -0.0, 0.0, 2.0, 2.0, -0.0])


def test_inf_and_nan_arithmetic_is_silent(no_warnings):
    _same(tf.constant([1.0], tf.float16) + 1e10, [INF])
    _same(tf.constant([1.0]) * -1e300, [-INF])
    _same(tf.exp(tf.constant([1000.0])), [INF])
    _same(tf.constant([INF]) - INF, [NAN])
    _same(tf.constant([3e38]) * 10.0, [INF])
    _same(tf.math.log1p(tf.constant([-1.0, -2.0])), [-INF, NAN])
    _same(tf.sqrt(tf.constant([-1.0])), [NAN])
    _same(tf.constant([1.0, 0.0]) / 0.0, [INF, NAN])
    _same(tf.pow(tf.constant([0.0, -2.0]), tf.constant([-1.0, 0.5])), [INF, NAN])
    _same(tf.math.rsqrt(tf.constant([0.0, -1.0, INF])), [INF, NAN, 0.0])


@pytest.mark.parametrize("make, fragments", [
    (lambda: tf.negative(tf.constant([3], tf.uint8)), ("negative", "uint8", "tf.cast")),
    (lambda: tf.abs(tf.constant([True])), ("abs", "bool")),
    (lambda: tf.add(tf.constant([True]), tf.constant([True])), ("add", "bool")),
    (lambda: tf.maximum(tf.constant([1j]), tf.constant([1j])), ("maximum", "complex128")),
    (lambda: tf.pow(tf.constant([3], tf.uint8), tf.constant([2], tf.uint8)), ("pow", "uint8")),
    (lambda: tf.round(tf.constant([2.5j])), ("round", "complex128")),
    (lambda: tf.math.rint(tf.constant([2])), ("rint", "int32")),
    (lambda: tf.math.floor(tf.constant([1])), ("floor", "int32")),
    (lambda: tf.less(tf.constant([True]), tf.constant([False])), ("less", "bool")),
    (lambda: tf.truediv(tf.constant([True]), tf.constant([True])), ("truediv", "bool")),
    (lambda: tf.math.reciprocal(tf.constant([2])), ("reciprocal", "int32")),
    (lambda: tf.math.erf(tf.constant([1j])), ("erf", "complex128")),
    (lambda: tf.math.floordiv(tf.constant([1j]), tf.constant([1j])), ("floordiv", "complex")),
    (lambda: tf.truncatemod(tf.constant([1], tf.uint8), tf.constant([1], tf.uint8)),
     ("truncatemod", "uint8")),
    (lambda: tf.math.divide_no_nan(tf.constant([True]), tf.constant([True])),
     ("divide_no_nan", "bool")),
    (lambda: tf.math.reciprocal_no_nan(tf.constant([1])), ("reciprocal_no_nan", "int32")),
    (lambda: tf.math.xlogy(tf.constant([1]), tf.constant([1])), ("xlogy", "int32")),
    (lambda: tf.math.atan2(tf.constant([1]), tf.constant([1])), ("atan2", "int32")),
    (lambda: tf.math.acos(tf.constant([1])), ("acos", "int32")),
])
def test_dtypes_without_a_tensorflow_kernel_are_refused(make, fragments):
    # TensorFlow raises InvalidArgumentError eagerly and TypeError in graphs: this is both.
    message = raises_with_message(tf.errors.InvalidArgumentError, make, *fragments)
    assert "tf.cast" in message
    with pytest.raises(TypeError):
        make()


def test_truncatemod_has_no_gradient_as_in_tensorflow():
    x, y = tf.constant([5.0, -5.0]), tf.constant([3.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        z = tf.truncatemod(x, y)
    raises_with_message(LookupError, lambda: tape.gradient(z, [x, y]), "TruncateMod",
                        "tf.math.floormod")


COVERED_ELSEWHERE = {"truncatemod": test_truncatemod_has_no_gradient_as_in_tensorflow}


def test_complex_gradients_follow_tensorflows_conjugate_convention():
    # For holomorphic f, TensorFlow's gradient at z is g * conj(f'(z)).
    z0 = np.array([1 + 2j, -0.5 + 0.3j])
    z = tf.constant(z0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(z)
        exp_loss = tf.math.real(tf.exp(z))
        abs_loss = tf.abs(z)
    np.testing.assert_allclose(tape.gradient(exp_loss, z).numpy(), np.conj(np.exp(z0)))
    np.testing.assert_allclose(tape.gradient(abs_loss, z).numpy(), z0 / np.abs(z0))
    assert tf.math.conj(tf.constant([1.5])).numpy()[0] == 1.5
    raises_with_message(TypeError, lambda: tf.math.conj(tf.constant([True])), "conj", "bool")


def test_complex_parts_and_their_errors(no_warnings):
    z = tf.complex(tf.constant([NAN, 1.0]), tf.constant([INF, -0.0]))
    _same(tf.math.real(z), [NAN, 1.0])
    _same(tf.math.imag(z), [INF, -0.0])
    _same(tf.math.imag(tf.constant([1.5, INF])), [0.0, 0.0])
    _same(tf.math.imag(tf.constant([3])), [0])
    raises_with_message(TypeError, lambda: tf.complex(tf.constant([1.0]), tf.constant(
        [1.0], tf.float64)), "complex", "float32", "float64", "tf.cast")
    raises_with_message(TypeError, lambda: tf.complex(tf.constant([1]), tf.constant([1])),
                        "int32")
    # saturate_cast clamps each part of a complex value to the narrower part type.
    _same(tf.saturate_cast(tf.constant([1e300 - 1e300j, INF + 5j]), tf.complex64),
          np.array([3.4028235e38 - 3.4028235e38j, 3.4028235e38 + 5j], np.complex64))
